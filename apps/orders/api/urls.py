from django.urls import path

from . import views

urlpatterns = [
    path("cart", views.CartView.as_view(), name="cart"),
    path("cart/lines", views.CartLinesView.as_view(), name="cart-lines"),
    path("cart/lines/<int:line_id>", views.CartLineView.as_view(), name="cart-line"),
    path("orders", views.OrdersView.as_view(), name="orders"),
    path("orders/<str:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:order_id>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path("admin/orders", views.AdminOrdersView.as_view(), name="admin-orders"),
    path("admin/orders/<str:order_id>", views.AdminOrderDetailView.as_view(), name="admin-order-detail"),
    path(
        "admin/orders/<str:order_id>/cancel", views.AdminOrderCancelView.as_view(), name="admin-order-cancel"
    ),
    path(
        "admin/orders/<str:order_id>/refund", views.AdminOrderRefundView.as_view(), name="admin-order-refund"
    ),
    path(
        "admin/orders/<str:order_id>/shipments",
        views.AdminOrderShipmentsView.as_view(),
        name="admin-order-shipments",
    ),
    path("admin/shipments/<int:shipment_id>", views.AdminShipmentView.as_view(), name="admin-shipment"),
]
