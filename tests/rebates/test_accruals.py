import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from apps.rebates.models import RebateAccrual
from apps.rebates.selectors import rebate_statement
from apps.rebates.services import rebate_accruals_record
from apps.rebates.tasks import rebate_accruals_record_task
from tests.factories.catalog import VariantFactory
from tests.factories.purchasing import received_order as receive
from tests.factories.rebates import RebateAgreementFactory, RebateTierFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def agreement():
    agreement = RebateAgreementFactory(
        period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 6, 30)
    )
    RebateTierFactory(agreement=agreement, threshold=D("0"), rate_percent=D("1"))
    RebateTierFactory(agreement=agreement, threshold=D("1000"), rate_percent=D("3"))
    variant = VariantFactory()
    receive(agreement.supplier, variant, 8, "100.00", datetime.date(2026, 1, 20))  # January: 800
    receive(agreement.supplier, variant, 3, "100.00", datetime.date(2026, 2, 3))  # February: 300
    return agreement


def _rows():
    return list(
        RebateAccrual.objects.order_by("period").values_list("period", "basis_amount", "rebate_amount")
    )


def test_monthly_accruals_true_up_a_retroactive_tier_and_add_up_to_the_statement(agreement):
    for month in (1, 2, 3):
        rebate_accruals_record(month=datetime.date(2026, month, 15))
    assert _rows() == [
        (datetime.date(2026, 1, 1), D("800.00"), D("8.00")),  # 800 × 1 %
        (datetime.date(2026, 2, 1), D("300.00"), D("25.00")),  # 1100 × 3 % − 8
        (datetime.date(2026, 3, 1), D("0.00"), D("0.00")),
    ]
    total = sum(r[2] for r in _rows())
    assert total == rebate_statement(agreement, as_of=datetime.date(2026, 3, 31)).rebate_amount == D("33.00")


def test_recording_the_same_month_twice_keeps_one_row_with_the_same_amounts(agreement):
    first = rebate_accruals_record(month=datetime.date(2026, 1, 1))
    rows = _rows()
    second = rebate_accruals_record(month=datetime.date(2026, 1, 31))
    assert RebateAccrual.objects.count() == 1
    assert _rows() == rows
    assert [a.pk for a in first] == [a.pk for a in second]


def test_months_outside_the_period_and_inactive_agreements_record_nothing(agreement):
    rebate_accruals_record(month=datetime.date(2026, 7, 1))
    RebateAgreementFactory(is_active=False, period_start=datetime.date(2026, 1, 1))
    rebate_accruals_record(month=datetime.date(2026, 1, 1))
    assert [a.agreement_id for a in RebateAccrual.objects.all()] == [agreement.pk]


def test_task_defaults_to_last_month_and_is_the_scheduled_one(agreement, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2026, 2, 1, 2, 15, tzinfo=datetime.UTC))
    assert rebate_accruals_record_task.delay().get() == 1
    assert _rows() == [(datetime.date(2026, 1, 1), D("800.00"), D("8.00"))]
    assert rebate_accruals_record_task.delay("2026-02-10").get() == 1
    assert len(_rows()) == 2
    scheduled = settings.CELERY_BEAT_SCHEDULE["rebates-accrue-monthly"]["task"]
    assert scheduled == rebate_accruals_record_task.name == "apps.rebates.tasks.rebate_accruals_record_task"
