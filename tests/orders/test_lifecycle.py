"""The status machine: every transition, legal and illegal, with its stock, payment and event effects."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orders.models import Order, OrderEvent, Shipment
from apps.orders.services import (
    TRANSITIONS,
    can_transition,
    order_cancel,
    order_deliver,
    order_mark_paid,
    order_payment_failed,
    order_refund,
    order_ship,
    orders_expire_unpaid,
    shipment_deliver,
)
from apps.orders.services.transitions import apply_transition
from shop.events.models import OutboxEvent
from shop.exceptions import InsufficientStock, InvalidTransition, NotFound
from tests.factories.accounts import StaffFactory
from tests.factories.inventory import stocked_variant

from .helpers import level, movements, place, reservation_statuses

pytestmark = pytest.mark.django_db
ALL = ["pending_payment", "paid", "shipped", "delivered", "cancelled", "refunded"]
LEGAL = {
    ("pending_payment", "paid"),
    ("pending_payment", "cancelled"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("paid", "refunded"),
    ("shipped", "delivered"),
    ("shipped", "refunded"),
    ("delivered", "refunded"),
}


def events(name):
    return list(OutboxEvent.objects.filter(name=name).values_list("payload", flat=True))


def timeline(order):
    return list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status"))


@pytest.mark.parametrize("src", ALL)
@pytest.mark.parametrize("dst", ALL)
def test_transition_table_allows_exactly_the_documented_moves(src, dst):
    assert can_transition(src, dst) is ((src, dst) in LEGAL)
    assert set(TRANSITIONS) == set(ALL)


@pytest.mark.parametrize("src,dst", sorted({(s, d) for s in ALL for d in ALL} - LEGAL))
def test_illegal_transition_is_refused_and_changes_nothing(src, dst, customer):
    from tests.factories.orders import OrderFactory

    order = OrderFactory(customer=customer, status=src)
    with pytest.raises(InvalidTransition) as exc:
        apply_transition(order, dst)
    assert exc.value.status_code == 409 and exc.value.code == "invalid_transition"
    order.refresh_from_db()
    assert order.status == src
    assert not OrderEvent.objects.filter(order=order).exists()


def test_placing_reserves_stock_and_starts_the_timeline(customer, variant, payment_fake):
    order = place(customer, (variant, 3))
    assert order.status == "pending_payment"
    assert level(variant) == (10, 3)
    assert movements(order) == [("reserve", 0, 3)]
    assert timeline(order) == [("", "pending_payment")]
    assert payment_fake.calls_of("open") == [str(order.id)]
    [placed] = events("order_placed")
    assert placed["order_id"] == str(order.id) and placed["total"] == "40.00"


def test_mark_paid_turns_the_reservation_into_a_sale(customer, variant, payment_fake):
    order = place(customer, (variant, 3))
    order_mark_paid(order_id=str(order.id))
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    assert level(variant) == (7, 0)
    assert movements(order) == [("reserve", 0, 3), ("sale", -3, -3)]
    assert reservation_statuses(order) == ["committed"]
    assert timeline(order) == [("", "pending_payment"), ("pending_payment", "paid")]
    assert [e["order_id"] for e in events("order_paid")] == [str(order.id)]


def test_mark_paid_twice_is_a_no_op(customer, variant):
    order = place(customer, (variant, 3))
    order_mark_paid(order_id=str(order.id))
    order_mark_paid(order_id=str(order.id))
    assert level(variant) == (7, 0)
    assert len(movements(order)) == 2
    assert len(events("order_paid")) == 1
    assert OrderEvent.objects.filter(order=order, to_status="paid").count() == 1


def test_mark_paid_of_a_cancelled_order_is_refused(customer, variant):
    order = place(customer, (variant, 3))
    order_cancel(order_id=str(order.id), actor=customer)
    with pytest.raises(InvalidTransition):
        order_mark_paid(order_id=str(order.id))
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert level(variant) == (10, 0)
    assert events("order_paid") == []


def test_mark_paid_re_reserves_when_the_reservation_was_swept(customer, variant):
    from apps.inventory.services import stock_release

    order = place(customer, (variant, 3))
    stock_release(reference=f"order:{order.id}", reason="reservation expired")
    order_mark_paid(order_id=str(order.id))
    assert level(variant) == (7, 0)
    assert [m[0] for m in movements(order)] == ["reserve", "release", "reserve", "sale"]


def test_mark_paid_fails_cleanly_when_swept_units_were_sold_meanwhile(customer, variant):
    from apps.inventory.services import stock_release

    order = place(customer, (variant, 3))
    stock_release(reference=f"order:{order.id}", reason="reservation expired")
    rival = place(customer, (variant, 9))
    with pytest.raises(InsufficientStock):
        order_mark_paid(order_id=str(order.id))
    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert level(variant) == (10, 9)
    assert [m[0] for m in movements(order)] == ["reserve", "release"]
    assert rival.status == "pending_payment"


def test_payment_failure_cancels_and_releases(customer, variant, payment_fake):
    order = place(customer, (variant, 4))
    order_payment_failed(order_id=str(order.id), reason="rejected")
    order.refresh_from_db()
    assert order.status == "cancelled" and order.cancelled_at is not None
    assert level(variant) == (10, 0)
    assert movements(order) == [("reserve", 0, 4), ("release", 0, -4)]
    assert payment_fake.calls_of("cancel") == []  # payments drives this one; orders does not call back
    [cancelled] = events("order_cancelled")
    assert cancelled["previous_status"] == "pending_payment" and cancelled["refunded"] is False


def test_payment_failure_after_payment_is_a_no_op(customer, variant):
    order = place(customer, (variant, 4))
    order_mark_paid(order_id=str(order.id))
    order_payment_failed(order_id=str(order.id), reason="late rejection")
    order.refresh_from_db()
    assert order.status == "paid"
    assert level(variant) == (6, 0)
    assert events("order_cancelled") == []


def test_cancel_of_an_unpaid_order_releases_stock_and_cancels_the_payment(customer, variant, payment_fake):
    order = place(customer, (variant, 2))
    order_cancel(order_id=str(order.id), actor=customer, reason="changed my mind")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert level(variant) == (10, 0)
    assert movements(order) == [("reserve", 0, 2), ("release", 0, -2)]
    assert payment_fake.calls_of("cancel") == [str(order.id)]
    assert payment_fake.calls_of("refund") == []
    event = OrderEvent.objects.get(order=order, to_status="cancelled")
    assert (event.actor, event.reason) == (customer, "changed my mind")
    assert events("order_refunded") == []


def test_cancel_of_a_paid_order_returns_units_to_stock_and_refunds(customer, variant, payment_fake):
    order = place(customer, (variant, 2))
    payment_fake.approve(str(order.id))
    order_mark_paid(order_id=str(order.id))
    order_cancel(order_id=str(order.id), actor=customer)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert level(variant) == (10, 0)
    assert movements(order) == [("reserve", 0, 2), ("sale", -2, -2), ("receive", 2, 0)]
    from apps.inventory.models import StockMovement

    assert StockMovement.objects.get(reference=f"order:{order.id}", kind="receive").reason == (
        "cancelled after payment"
    )
    assert payment_fake.calls_of("refund") == [str(order.id)]
    assert payment_fake.payments[payment_fake.by_order[str(order.id)]].status == "refunded"
    assert [e["refunded"] for e in events("order_cancelled")] == [True]
    assert [e["order_id"] for e in events("order_refunded")] == [str(order.id)]


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled", "refunded"])
def test_cancel_is_refused_once_shipped_or_closed(customer, status):
    from tests.factories.orders import OrderFactory

    order = OrderFactory(customer=customer, status=status)
    with pytest.raises(InvalidTransition):
        order_cancel(order_id=str(order.id), actor=customer)
    order.refresh_from_db()
    assert order.status == status


def test_refund_of_a_paid_order_restocks_and_refunds(customer, variant, payment_fake):
    staff = StaffFactory()
    order = place(customer, (variant, 5))
    payment_fake.approve(str(order.id))
    order_mark_paid(order_id=str(order.id))
    order_refund(order_id=str(order.id), actor=staff, reason="damaged box")
    order.refresh_from_db()
    assert order.status == "refunded" and order.refunded_at is not None
    assert level(variant) == (10, 0)
    assert movements(order)[-1] == ("receive", 5, 0)
    assert payment_fake.calls_of("refund") == [str(order.id)]
    [refunded] = events("order_refunded")
    assert refunded["previous_status"] == "paid" and refunded["restocked"] is True


def _shipped(customer, variant):
    order = place(customer, (variant, 2))
    order_mark_paid(order_id=str(order.id))
    order_ship(order_id=str(order.id), carrier="Olva", tracking_number=f"T-{order.number}")
    return order


def test_refund_of_a_shipped_order_restocks_only_when_asked(customer, variant):
    kept = _shipped(customer, variant)
    returned = _shipped(customer, variant)
    order_refund(order_id=str(kept.id), reason="lost in transit")
    order_refund(order_id=str(returned.id), reason="returned", restock=True)
    assert [m[0] for m in movements(kept)] == ["reserve", "sale"]
    assert [m[0] for m in movements(returned)] == ["reserve", "sale", "receive"]
    assert level(variant) == (8, 0)


def test_refund_of_an_unpaid_order_is_refused(customer, variant, payment_fake):
    order = place(customer, (variant, 1))
    with pytest.raises(InvalidTransition):
        order_refund(order_id=str(order.id))
    assert payment_fake.calls_of("refund") == []
    assert level(variant) == (10, 1)


def test_ship_and_deliver(customer, variant):
    order = place(customer, (variant, 2))
    order_mark_paid(order_id=str(order.id))
    shipment = order_ship(order_id=str(order.id), carrier="Olva", tracking_number="TRK1")
    order.refresh_from_db()
    assert order.status == "shipped" and order.shipped_at is not None
    assert (shipment.status, shipment.carrier, shipment.tracking_number) == ("shipped", "Olva", "TRK1")
    shipment_deliver(shipment_id=shipment.pk)
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == "delivered" and shipment.status == "delivered" and shipment.delivered_at
    assert [e["shipment_status"] for e in events("shipment_updated")] == ["shipped", "delivered"]
    assert timeline(order)[-2:] == [("paid", "shipped"), ("shipped", "delivered")]


def test_ship_an_unpaid_order_is_refused_and_creates_no_shipment(customer, variant):
    order = place(customer, (variant, 2))
    with pytest.raises(InvalidTransition):
        order_ship(order_id=str(order.id), carrier="Olva", tracking_number="TRK1")
    assert not Shipment.objects.exists()


def test_delivering_twice_is_refused(customer, variant):
    order = _shipped(customer, variant)
    order_deliver(order_id=str(order.id))
    shipment = Shipment.objects.get(order=order)
    with pytest.raises(InvalidTransition):
        shipment_deliver(shipment_id=shipment.pk)
    with pytest.raises(InvalidTransition):
        order_deliver(order_id=str(order.id))


def test_duplicate_tracking_number_is_a_conflict(customer, variant):
    first = _shipped(customer, variant)
    second = place(customer, (variant, 1))
    order_mark_paid(order_id=str(second.id))
    with pytest.raises(Exception) as exc:
        order_ship(order_id=str(second.id), carrier="Olva", tracking_number=f"T-{first.number}")
    assert exc.value.code == "duplicate_tracking_number"
    second.refresh_from_db()
    assert second.status == "paid"


def test_unknown_order_is_not_found():
    with pytest.raises(NotFound):
        order_mark_paid(order_id="not-a-uuid")
    with pytest.raises(NotFound):
        order_cancel(order_id="00000000-0000-0000-0000-000000000000")


def test_expiry_cancels_only_stale_unpaid_orders(customer, settings, payment_fake):
    variant = stocked_variant(20)
    stale = place(customer, (variant, 2))
    fresh = place(customer, (variant, 3))
    paid = place(customer, (variant, 4))
    order_mark_paid(order_id=str(paid.id))
    old = timezone.now() - settings.SHOP_PAYMENT_TIMEOUT - timedelta(minutes=1)
    Order.objects.filter(pk__in=[stale.pk, paid.pk]).update(created_at=old)

    assert orders_expire_unpaid() == 1
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: "cancelled", fresh.pk: "pending_payment", paid.pk: "paid"}
    assert movements(stale) == [("reserve", 0, 2), ("release", 0, -2)]
    assert level(variant) == (16, 3)
    assert payment_fake.calls_of("cancel") == [str(stale.id)]
    assert OrderEvent.objects.get(order=stale, to_status="cancelled").reason == "payment timeout"
    assert orders_expire_unpaid() == 0


def test_expiry_task_runs_the_service(customer, variant, settings):
    from apps.orders.tasks import orders_expire_unpaid_task

    order = place(customer, (variant, 1))
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert orders_expire_unpaid_task.delay().get() == 1
    assert settings.CELERY_BEAT_SCHEDULE["orders-expire-unpaid"]["task"] == (
        "apps.orders.tasks.orders_expire_unpaid_task"
    )


def test_reservation_outlives_the_payment_timeout(customer, variant, settings):
    from apps.inventory.models import Reservation

    order = place(customer, (variant, 1))
    reservation = Reservation.objects.get(reference=f"order:{order.id}")
    assert reservation.expires_at - order.created_at > settings.SHOP_PAYMENT_TIMEOUT
