"""Real threads on PostgreSQL: constraints hold, the ledger always matches, no deadlocks."""

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from apps.inventory.models import ReorderAlert, Reservation, StockLevel, StockMovement
from apps.inventory.services import (
    StockLine,
    stock_adjust,
    stock_commit_sale,
    stock_level_set_reorder,
    stock_receive,
    stock_release,
    stock_reserve,
)
from shop.events.models import OutboxEvent
from shop.exceptions import InsufficientStock
from tests.factories.catalog import VariantFactory
from tests.factories.inventory import assert_ledger_matches, level_of, stocked_variant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 50


def run_concurrently(count, target, *, monitor=None):
    """Start `count` threads on a barrier; return [(outcome, value)] with outcome ok/short/error.

    `monitor`, if given, runs in its own thread in a loop until the workers finish.
    """
    barrier = threading.Barrier(count)
    results = [None] * count
    done = threading.Event()
    monitor_errors = []

    def worker(index):
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", target(index))
        except InsufficientStock as exc:
            results[index] = ("short", exc)
        except Exception as exc:  # anything else (OperationalError: deadlock, IntegrityError, …) fails
            results[index] = ("error", exc)
        finally:
            connection.close()

    def watch():
        try:
            while not done.is_set():
                monitor()
        except Exception as exc:
            monitor_errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    watcher = threading.Thread(target=watch) if monitor else None
    if watcher:
        watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    if watcher:
        watcher.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a worker hung (deadlock?)"
    assert monitor_errors == []
    errors = [value for outcome, value in results if outcome == "error"]
    assert errors == [], errors
    return results


def ledger_monitor(level_pk):
    """Check, in one statement (one snapshot), that the level equals the sum of its movements."""
    observed = {"checks": 0}

    def check():
        with connections["default"].cursor() as cursor:
            cursor.execute(
                """
                SELECT l.on_hand, l.reserved,
                       COALESCE(SUM(m.on_hand_delta), 0), COALESCE(SUM(m.reserved_delta), 0)
                FROM inventory_stocklevel l
                LEFT JOIN inventory_stockmovement m
                  ON m.variant_id = l.variant_id AND m.location_id = l.location_id
                WHERE l.id = %s
                GROUP BY l.id
                """,
                [level_pk],
            )
            on_hand, reserved, ledger_on_hand, ledger_reserved = cursor.fetchone()
        assert (on_hand, reserved) == (ledger_on_hand, ledger_reserved)
        assert 0 <= reserved <= on_hand
        observed["checks"] += 1

    return check, observed


def test_fifty_threads_reserving_one_level_succeed_exactly_as_far_as_stock_goes():
    variant = stocked_variant(20)
    level = level_of(variant)
    check, observed = ledger_monitor(level.pk)
    results = run_concurrently(
        THREADS,
        lambda i: stock_reserve(lines=[StockLine(variant.pk, 1)], reference=f"T-{i}"),
        monitor=check,
    )
    outcomes = Counter(outcome for outcome, _ in results)
    assert outcomes == {"ok": 20, "short": 30}
    for outcome, exc in results:
        if outcome == "short":
            assert exc.details == {"lines": [{"variant": variant.pk, "requested": 1, "available": 0}]}
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (20, 20)
    assert Reservation.objects.filter(status="active").count() == 20
    assert StockMovement.objects.filter(kind="reserve").count() == 20
    assert observed["checks"] > 0
    assert_ledger_matches(level)


def test_fifty_threads_mixing_reserves_and_adjusts_never_break_a_constraint():
    variant = stocked_variant(30)
    level = level_of(variant)
    check, observed = ledger_monitor(level.pk)

    def act(i):
        # Every call consumes one available unit: a reservation holds it, a negative adjust removes it.
        if i % 2:
            return stock_reserve(lines=[StockLine(variant.pk, 1)], reference=f"T-{i}")
        return stock_adjust(variant_id=variant.pk, quantity=-1, reason="shrinkage")

    results = run_concurrently(THREADS, act, monitor=check)
    succeeded = Counter(i % 2 for i, (outcome, _) in enumerate(results) if outcome == "ok")
    assert sum(succeeded.values()) == 30
    level.refresh_from_db()
    assert level.reserved == succeeded[1]
    assert level.on_hand == 30 - succeeded[0]
    assert level.available == 0
    assert observed["checks"] > 0
    assert_ledger_matches(level)


def test_fifty_threads_receiving_and_adjusting_a_new_level_create_it_once():
    variant = VariantFactory()

    def act(i):
        if i < 40:
            return stock_receive(variant_id=variant.pk, quantity=2)
        return stock_adjust(variant_id=variant.pk, quantity=-1)

    results = run_concurrently(THREADS, act)
    adjusts_ok = sum(1 for i, (outcome, _) in enumerate(results) if i >= 40 and outcome == "ok")
    assert all(outcome == "ok" for outcome, _ in results[:40])
    assert StockLevel.objects.filter(variant=variant).count() == 1
    level = level_of(variant)
    assert level.on_hand == 80 - adjusts_ok
    assert_ledger_matches(level)


def test_concurrent_release_and_sale_of_one_reference_close_it_exactly_once():
    a, b = stocked_variant(10), stocked_variant(10)
    stock_reserve(lines=[StockLine(a.pk, 4), StockLine(b.pk, 2)], reference="ORDER-1")

    def act(i):
        if i % 2:
            return len(stock_release(reference="ORDER-1"))
        return len(stock_commit_sale(reference="ORDER-1"))

    results = run_concurrently(20, act)
    assert sorted(value for _, value in results) == [0] * 19 + [2]
    closing = StockMovement.objects.filter(kind__in=["release", "sale"])
    assert closing.count() == 2
    assert len({m.kind for m in closing}) == 1
    assert Reservation.objects.filter(status="active").count() == 0
    assert level_of(a).reserved == level_of(b).reserved == 0
    assert_ledger_matches()


def test_two_skus_locked_in_random_order_by_many_threads_never_deadlock():
    a, b = stocked_variant(1000), stocked_variant(1000)
    rng = random.Random(42)
    orders = [rng.random() < 0.5 for _ in range(THREADS)]

    def act(i):
        lines = [StockLine(a.pk, 1 + i % 3), StockLine(b.pk, 1 + i % 2)]
        if orders[i]:
            lines.reverse()
        reference = f"T-{i}"
        stock_reserve(lines=lines, reference=reference)
        # Then lock the same rows again from the other side of the lifecycle, and adjust one of them.
        if i % 3 == 0:
            stock_release(reference=reference)
        else:
            stock_commit_sale(reference=reference)
        stock_adjust(variant_id=(a if orders[i] else b).pk, quantity=1, reason="recount")
        return reference

    results = run_concurrently(THREADS, act)
    assert all(outcome == "ok" for outcome, _ in results)
    sold_a = sum(1 + i % 3 for i in range(THREADS) if i % 3)
    sold_b = sum(1 + i % 2 for i in range(THREADS) if i % 3)
    adjusted_a = sum(1 for flag in orders if flag)
    assert (level_of(a).on_hand, level_of(a).reserved) == (1000 - sold_a + adjusted_a, 0)
    assert (level_of(b).on_hand, level_of(b).reserved) == (1000 - sold_b + THREADS - adjusted_a, 0)
    assert_ledger_matches()


def test_concurrent_drops_below_the_reorder_point_open_one_alert_and_one_event():
    variant = stocked_variant(40, reorder_point=30)
    level = level_of(variant)
    run_concurrently(20, lambda i: stock_adjust(variant_id=variant.pk, quantity=-1))
    assert ReorderAlert.objects.filter(stock_level=level, is_open=True).count() == 1
    assert OutboxEvent.objects.filter(name="stock_below_reorder").count() == 1
    assert ReorderAlert.objects.get(is_open=True).available == 20
    stock_level_set_reorder(level_id=level.pk, reorder_point=0)
    assert not ReorderAlert.objects.filter(is_open=True).exists()
