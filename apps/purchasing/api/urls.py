from django.urls import path

from . import views

urlpatterns = [
    path("suppliers", views.SupplierListCreateView.as_view(), name="supplier-list"),
    path("suppliers/<int:pk>", views.SupplierDetailView.as_view(), name="supplier-detail"),
    path("purchase-orders", views.PurchaseOrderListCreateView.as_view(), name="purchase-order-list"),
    path("purchase-orders/suggest", views.PurchaseOrderSuggestView.as_view(), name="purchase-order-suggest"),
    path("purchase-orders/<int:pk>", views.PurchaseOrderDetailView.as_view(), name="purchase-order-detail"),
    path(
        "purchase-orders/<int:pk>/place", views.PurchaseOrderPlaceView.as_view(), name="purchase-order-place"
    ),
    path(
        "purchase-orders/<int:pk>/cancel",
        views.PurchaseOrderCancelView.as_view(),
        name="purchase-order-cancel",
    ),
    path(
        "purchase-orders/<int:pk>/receive",
        views.PurchaseOrderReceiveView.as_view(),
        name="purchase-order-receive",
    ),
]
