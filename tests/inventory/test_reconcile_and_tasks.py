"""`manage.py stock_reconcile` and the expiry task."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.services import StockLine, stock_reconcile, stock_reserve
from apps.inventory.tasks import reservations_release_expired_task
from tests.factories.inventory import assert_ledger_matches, level_of, stocked_variant

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command("stock_reconcile", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_clean_ledger_reports_no_drift_and_exits_zero():
    variant = stocked_variant(5)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    assert "No drift" in _run()


def test_drift_is_reported_in_a_table_and_exits_non_zero_without_fix():
    variant = stocked_variant(5, sku="DRIFT-1")
    StockLevel.objects.filter(variant=variant).update(on_hand=9)
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("stock_reconcile", "--no-progress", stdout=out, stderr=StringIO())
    assert exc.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].split() == [
        "level",
        "sku",
        "location",
        "on_hand",
        "ledger_on_hand",
        "reserved",
        "ledger_reserved",
        "status",
    ]
    assert lines[1].split() == [str(level_of(variant).pk), "DRIFT-1", "MAIN", "9", "5", "0", "0", "drift"]
    assert level_of(variant).on_hand == 9  # nothing changed


def test_fix_sets_the_level_to_the_ledger_without_writing_movements():
    variant = stocked_variant(5)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    StockLevel.objects.filter(variant=variant).update(on_hand=3, reserved=3)
    movements = StockMovement.objects.count()
    out = _run("--fix")
    assert "fixed" in out
    assert "Fixed 1 stock level(s)" in out
    level = level_of(variant)
    assert (level.on_hand, level.reserved) == (5, 2)
    assert StockMovement.objects.count() == movements
    assert_ledger_matches(level)
    assert "No drift" in _run()


def test_level_without_any_movement_is_drift_and_fixed_to_zero():
    from tests.factories.inventory import StockLevelFactory

    level = StockLevelFactory(on_hand=4)
    (drift,) = stock_reconcile()
    assert (drift.level_id, drift.on_hand, drift.ledger_on_hand, drift.status) == (level.pk, 4, 0, "drift")
    stock_reconcile(fix=True)
    level.refresh_from_db()
    assert level.on_hand == 0


def test_movements_without_a_level_recreate_it_on_fix():
    variant = stocked_variant(6)
    StockLevel.objects.filter(variant=variant).delete()
    (drift,) = stock_reconcile()
    assert (drift.level_id, drift.ledger_on_hand) == (None, 6)
    (fixed,) = stock_reconcile(fix=True)
    assert fixed.status == "fixed"
    assert level_of(variant).on_hand == 6


def test_ledger_that_breaks_a_constraint_is_unfixable_with_exit_code_2():
    variant = stocked_variant(2)
    level = level_of(variant)
    # A corrupt ledger row (e.g. restored from a bad backup) makes reserved exceed on hand.
    StockMovement.objects.create(
        variant=variant,
        location=level.location,
        kind="reserve",
        quantity=5,
        on_hand_delta=0,
        reserved_delta=5,
        on_hand_after=2,
        reserved_after=5,
    )
    with pytest.raises(CommandError) as exc:
        call_command("stock_reconcile", "--fix", "--no-progress", stdout=StringIO(), stderr=StringIO())
    assert exc.value.returncode == 2
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (2, 0)


def test_progress_callback_sees_every_level():
    stocked_variant(1)
    stocked_variant(1)
    seen = {}

    def progress(items, total):
        seen["total"] = total
        return items

    assert stock_reconcile(progress=progress) == []
    assert seen["total"] == 2


def test_expiry_task_releases_expired_reservations(celery_eager):
    variant = stocked_variant(3)
    stock_reserve(
        lines=[StockLine(variant.pk, 3)], reference="O-1", expires_at=timezone.now() - timedelta(seconds=1)
    )
    result = reservations_release_expired_task.delay()
    assert result.get() == 1
    assert level_of(variant).reserved == 0


def test_expiry_task_name_matches_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["stock-release-expired-reservations"]
    assert entry["task"] == reservations_release_expired_task.name


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_expiry_task_runs_by_name_on_a_real_worker(real_celery_worker):
    from config.celery_app import app

    variant = stocked_variant(4)
    stock_reserve(
        lines=[StockLine(variant.pk, 4)], reference="O-W", expires_at=timezone.now() - timedelta(seconds=1)
    )
    # Sent by the name the beat schedule uses, as beat would.
    result = app.send_task("apps.inventory.tasks.reservations_release_expired_task")
    assert result.get(timeout=30) == 1
    level = level_of(variant)
    assert (level.on_hand, level.reserved) == (4, 0)
    assert_ledger_matches(level)
