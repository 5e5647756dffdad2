import datetime
from decimal import Decimal

import factory

from apps.rebates.models import RebateAccrual, RebateAgreement, RebateTier
from tests.factories.purchasing import SupplierFactory


class RebateAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RebateAgreement

    supplier = factory.SubFactory(SupplierFactory)
    name = factory.Sequence(lambda n: f"Volume rebate {n}")
    period_start = datetime.date(2026, 1, 1)
    period_end = datetime.date(2026, 12, 31)
    mode = RebateAgreement.Mode.RETROACTIVE


class RebateTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RebateTier

    agreement = factory.SubFactory(RebateAgreementFactory)
    threshold = Decimal("1000.00")
    rate_percent = Decimal("2.00")


class RebateAccrualFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RebateAccrual

    agreement = factory.SubFactory(RebateAgreementFactory)
    period = datetime.date(2026, 1, 1)
    basis_amount = Decimal("0.00")
    rebate_amount = Decimal("0.00")
    computed_at = factory.LazyFunction(lambda: datetime.datetime(2026, 2, 1, 2, 15, tzinfo=datetime.UTC))
