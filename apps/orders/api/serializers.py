"""Request validation and response shapes (API.md "Cart, orders, payments, shipments")."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Order, OrderEvent, Shipment
from ..services.cart import MAX_LINE_QUANTITY

MONEY = {"max_digits": 12, "decimal_places": 2}


# ---- input ----


class CartLineAddInputSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class CartLineUpdateInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class OrderLineInputSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class ShippingAddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=255)
    city = serializers.CharField(max_length=120)
    country = serializers.CharField(max_length=2, min_length=2, help_text="ISO 3166-1 alpha-2.")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class OrderPlaceInputSerializer(serializers.Serializer):
    lines = OrderLineInputSerializer(many=True, required=False, help_text="Omit to check out the cart.")
    shipping_address = ShippingAddressSerializer()
    promotion_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    voucher_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate_lines(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError(
                "Give at least one line, or omit `lines` to check out the cart."
            )
        if len(value) > 100:
            raise serializers.ValidationError("At most 100 lines.")
        return value


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class OrderRefundInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    restock = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Return the units to stock. A paid (unshipped) order is always restocked.",
    )


class ShipmentCreateInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=64)
    tracking_number = serializers.CharField(max_length=128)


class ShipmentUpdateInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Shipment.Status.choices, help_text="Only `delivered` is accepted."
    )

    def validate_status(self, value: str) -> str:
        if value != Shipment.Status.DELIVERED:
            raise serializers.ValidationError("Only `delivered` can be set.")
        return value


# ---- output ----


class CartLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    variant = serializers.IntegerField(source="variant_id")
    sku = serializers.CharField(source="variant.sku")
    quantity = serializers.IntegerField()
    unit_price = serializers.SerializerMethodField()
    line_total = serializers.SerializerMethodField()

    def get_unit_price(self, line: Any) -> str:
        return str(self.context["unit_prices"][line.pk])

    def get_line_total(self, line: Any) -> str:
        return str(self.context["line_totals"][line.pk])


class CartProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    code = serializers.ChoiceField(
        choices=["inactive_variant", "out_of_stock", "insufficient_stock", "price_changed"]
    )


class CartOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lines = CartLineOutputSerializer(many=True)
    subtotal = serializers.DecimalField(**MONEY)
    discount_total = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(
        **MONEY, help_text="Subtotal minus discounts; shipping is priced at checkout."
    )
    currency = serializers.CharField()
    problems = CartProblemSerializer(many=True)

    @staticmethod
    def build(view: Any) -> dict[str, Any]:
        context = {"unit_prices": view.unit_prices, "line_totals": view.line_totals}
        return {
            "id": view.cart.pk,
            "lines": CartLineOutputSerializer(view.lines, many=True, context=context).data,
            "subtotal": str(view.priced.subtotal),
            "discount_total": str(view.priced.discount_total),
            "total": str(view.priced.subtotal - view.priced.discount_total),
            "currency": view.priced.currency,
            "problems": [{"line": p.line, "code": p.code} for p in view.problems],
        }


class OrderLineOutputSerializer(serializers.Serializer):
    variant = serializers.IntegerField(source="variant_id")
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(**MONEY)
    discount = serializers.DecimalField(**MONEY)
    line_total = serializers.DecimalField(**MONEY)


class AppliedBenefitSerializer(serializers.Serializer):
    promotion = serializers.SerializerMethodField()
    code = serializers.SerializerMethodField()
    type = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    description = serializers.CharField()

    def get_promotion(self, discount: Any) -> str | None:
        return discount.promotion or None

    def get_code(self, discount: Any) -> str | None:
        return discount.code or None


class PaymentSummarySerializer(serializers.Serializer):
    id = serializers.CharField()
    provider = serializers.CharField()
    status = serializers.CharField(help_text="pending, approved, rejected, cancelled or refunded.")
    checkout_url = serializers.CharField()


class OrderOutputSerializer(serializers.ModelSerializer):
    """The customer's view of an order; `payment` comes from the payments port (context["payments"])."""

    lines = OrderLineOutputSerializer(many=True)
    applied_benefits = AppliedBenefitSerializer(many=True, source="discounts")
    payment = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "lines",
            "subtotal",
            "discount_total",
            "shipping_total",
            "total",
            "currency",
            "applied_benefits",
            "payment",
            "created_at",
        ]

    @extend_schema_field(PaymentSummarySerializer(allow_null=True))
    def get_payment(self, order: Order) -> dict[str, Any] | None:
        info = self.context.get("payments", {}).get(str(order.id))
        if info is None:
            return None
        return _payment_data(info)

    @staticmethod
    def build(order: Order, payment: Any) -> dict[str, Any]:
        """The same dict as `OrderOutputSerializer(order).data`, without DRF's per-field machinery.

        For the checkout response (the hot path): the order, its lines and discounts are in memory.
        `tests/orders` asserts it equals what a GET of the same order returns.
        """
        return {
            "id": str(order.id),
            "number": order.number,
            "status": order.status,
            "lines": [
                {
                    "variant": line.variant_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": _money(line.unit_price),
                    "discount": _money(line.discount),
                    "line_total": _money(line.line_total),
                }
                for line in order.lines.all()
            ],
            "subtotal": _money(order.subtotal),
            "discount_total": _money(order.discount_total),
            "shipping_total": _money(order.shipping_total),
            "total": _money(order.total),
            "currency": order.currency,
            "applied_benefits": [
                {
                    "promotion": discount.promotion or None,
                    "code": discount.code or None,
                    "type": discount.type,
                    "amount": _money(discount.amount),
                    "description": discount.description,
                }
                for discount in order.discounts.all()
            ],
            "payment": _payment_data(payment) if payment is not None else None,
            "created_at": _DATETIME.to_representation(order.created_at),
        }


_MONEY_FIELD = serializers.DecimalField(**MONEY)
_DATETIME = serializers.DateTimeField()


def _money(value: Any) -> str:
    return _MONEY_FIELD.to_representation(value)


def _payment_data(info: Any) -> dict[str, Any]:
    return {
        "id": info.id,
        "provider": info.provider,
        "status": info.status,
        "checkout_url": info.checkout_url,
    }


class ShipmentOutputSerializer(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id")

    class Meta:
        model = Shipment
        fields = ["id", "status", "carrier", "tracking_number", "shipped_at", "delivered_at", "order"]


class OrderEventOutputSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "actor", "reason", "created_at"]

    def get_actor(self, event: OrderEvent) -> str | None:
        return event.actor.email if event.actor_id else None


class CustomerSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class AdminOrderOutputSerializer(OrderOutputSerializer):
    customer = CustomerSummarySerializer()

    class Meta(OrderOutputSerializer.Meta):
        fields = [*OrderOutputSerializer.Meta.fields, "customer", "shipping_address", "updated_at", "paid_at"]


class AdminOrderDetailOutputSerializer(AdminOrderOutputSerializer):
    shipments = ShipmentOutputSerializer(many=True)
    events = OrderEventOutputSerializer(many=True)

    class Meta(AdminOrderOutputSerializer.Meta):
        fields = [*AdminOrderOutputSerializer.Meta.fields, "shipments", "events"]
