from django.urls import path

from . import views

urlpatterns = [
    path("categories", views.CategoryListCreateView.as_view(), name="category-list"),
    path("brands", views.BrandListCreateView.as_view(), name="brand-list"),
    path("products", views.ProductListCreateView.as_view(), name="product-list"),
    path("products/<int:pk>", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<int:pk>/images", views.ProductImageCreateView.as_view(), name="product-images"),
]
