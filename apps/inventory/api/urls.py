from django.urls import path

from . import views

urlpatterns = [
    path("stores", views.StoreListCreateView.as_view(), name="store-list"),
    path("stores/<int:pk>", views.StoreDetailView.as_view(), name="store-detail"),
    path("inventory/movements", views.MovementListCreateView.as_view(), name="stock-movement-list"),
    path("inventory/stock", views.StockLevelListView.as_view(), name="stock-level-list"),
    path("inventory/stock/<int:pk>", views.StockLevelDetailView.as_view(), name="stock-level-detail"),
    path("inventory/reorder-alerts", views.ReorderAlertListView.as_view(), name="reorder-alert-list"),
]
