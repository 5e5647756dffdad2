import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.rebates.models import RebateAgreement, RebateTier
from tests.factories.accounts import StaffFactory, SuperuserFactory
from tests.factories.catalog import BrandFactory, CategoryFactory, VariantFactory
from tests.factories.purchasing import SupplierFactory, received_order
from tests.factories.rebates import RebateAccrualFactory, RebateAgreementFactory, RebateTierFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"
D = Decimal


def _agreement(**kwargs):
    agreement = RebateAgreementFactory(
        period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 12, 31), **kwargs
    )
    RebateTierFactory(agreement=agreement, threshold=D("0"), rate_percent=D("1"))
    RebateTierFactory(agreement=agreement, threshold=D("1000"), rate_percent=D("2.5"))
    return agreement


OPERATIONS = {
    "list": ("get", lambda: "/rebates/agreements", None, 200),
    "create": (
        "post",
        lambda: "/rebates/agreements",
        lambda: {
            "supplier": SupplierFactory().pk,
            "name": "2026 volume",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "tiers": [{"threshold": "0", "rate_percent": "1"}],
        },
        201,
    ),
    "detail": ("get", lambda: f"/rebates/agreements/{_agreement().pk}", None, 200),
    "statement": ("get", lambda: f"/rebates/agreements/{_agreement().pk}/statement", None, 200),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 401), ("customer", 403), ("staff", 403), ("marketing", 403), ("inventory_clerk", None)],
)
def test_permission_matrix(operation, who, expected, api_client, customer_client, staff_client, role_client):
    method, path, body, success = OPERATIONS[operation]
    if who == "anonymous":
        client = api_client
    elif who == "customer":
        client = customer_client
    elif who == "staff":
        client = staff_client
    else:
        client = role_client(who)
    url, data = API + path(), body() if body else None
    before = RebateAgreement.objects.count()
    response = getattr(client, method)(url, data, format="json")
    assert response.status_code == (expected or success), response.content
    if expected:
        assert RebateAgreement.objects.count() == before


def test_create_agreement_with_nested_tiers_and_scope(role_client):
    clerk = role_client("inventory_clerk")
    supplier = SupplierFactory()
    category, brand = CategoryFactory(), BrandFactory()
    response = clerk.post(
        f"{API}/rebates/agreements",
        {
            "supplier": supplier.pk,
            "name": "Lácteos 2026",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "mode": "marginal",
            "categories": [category.pk],
            "brands": [brand.pk],
            "tiers": [{"threshold": "50000", "rate_percent": "3"}, {"threshold": "0", "rate_percent": "1.5"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    agreement = RebateAgreement.objects.get()
    assert response.json() == {
        "id": agreement.pk,
        "supplier": supplier.pk,
        "name": "Lácteos 2026",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "mode": "marginal",
        "is_active": True,
        "categories": [category.pk],
        "brands": [brand.pk],
        "products": [],
        "tiers": [
            {"threshold": "0.00", "rate_percent": "1.50"},
            {"threshold": "50000.00", "rate_percent": "3.00"},
        ],
        "created_at": agreement.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@pytest.mark.parametrize(
    ("change", "details"),
    [
        ({"tiers": []}, {"tiers": {"non_field_errors": ["This list may not be empty."]}}),
        ({"period_end": "2025-01-01"}, {"period_end": ["Must be on or after the period start."]}),
        (
            {"tiers": [{"threshold": "0", "rate_percent": "1"}, {"threshold": "0", "rate_percent": "2"}]},
            {"tiers": {"1": {"threshold": ["Another tier has this threshold."]}}},
        ),
        (
            {"tiers": [{"threshold": "0", "rate_percent": "101"}]},
            {"tiers": {"0": {"rate_percent": ["Ensure this value is less than or equal to 100."]}}},
        ),
    ],
)
def test_create_agreement_with_bad_terms_is_400_and_writes_nothing(role_client, change, details):
    body = {
        "supplier": SupplierFactory().pk,
        "name": "x",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "tiers": [{"threshold": "0", "rate_percent": "1"}],
        **change,
    }
    response = role_client("inventory_clerk").post(f"{API}/rebates/agreements", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == details
    assert (RebateAgreement.objects.count(), RebateTier.objects.count()) == (0, 0)


def test_statement_shape(role_client, settings):
    agreement = _agreement()
    received_order(agreement.supplier, VariantFactory(), 4, "100.00", datetime.date(2026, 3, 1))
    response = role_client("inventory_clerk").get(
        f"{API}/rebates/agreements/{agreement.pk}/statement?as_of=2026-03-31"
    )
    assert response.status_code == 200
    assert response.json() == {
        "basis_amount": "400.00",
        "tier": {"threshold": "0.00", "rate_percent": "1.00"},
        "rate_percent": "1.00",
        "rebate_amount": "4.00",
        "next_tier": {"threshold": "1000.00", "rate_percent": "2.50", "gap": "600.00"},
        "currency": settings.SHOP_CURRENCY,
        "as_of": "2026-03-31",
    }


def test_statement_with_bad_date_is_400_and_unknown_agreement_404(role_client):
    clerk = role_client("inventory_clerk")
    agreement = _agreement()
    response = clerk.get(f"{API}/rebates/agreements/{agreement.pk}/statement?as_of=yesterday")
    assert (response.status_code, list(response.json()["error"]["details"])) == (400, ["as_of"])
    assert clerk.get(f"{API}/rebates/agreements/999999/statement").status_code == 404


def test_list_query_count_does_not_grow(role_client, django_assert_num_queries):
    clerk = role_client("inventory_clerk")
    _agreement()
    # user, user perms, group perms, count, page, tiers, categories, brands, products
    with django_assert_num_queries(9):
        clerk.get(f"{API}/rebates/agreements")
    for _ in range(4):
        _agreement()
    with django_assert_num_queries(9):
        assert clerk.get(f"{API}/rebates/agreements").json()["count"] == 5


# --- admin ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_web():
    client = Client()
    client.force_login(SuperuserFactory())
    return client


def test_agreement_changelist_pinned(admin_web, django_assert_max_num_queries):
    _agreement()
    url = reverse("admin:rebates_rebateagreement_changelist")
    with django_assert_max_num_queries(10) as first:
        assert admin_web.get(url).status_code == 200
    for _ in range(5):
        _agreement()
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert admin_web.get(url).status_code == 200


def test_agreement_change_form_shows_the_statement_with_pinned_queries(
    admin_web, django_assert_max_num_queries
):
    agreement = _agreement()
    received_order(agreement.supplier, VariantFactory(), 5, "300.00", datetime.date(2026, 2, 1))  # 1500
    url = reverse("admin:rebates_rebateagreement_change", args=[agreement.pk])
    with django_assert_max_num_queries(30) as first:
        response = admin_web.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tier reached" in html and "1500.00" in html and "37.50" in html  # 1500 × 2.5 %
    for month in range(1, 6):
        RebateAccrualFactory(agreement=agreement, period=datetime.date(2026, month, 1))
        RebateTierFactory(agreement=agreement, threshold=D(5000 * month), rate_percent=D("3"))
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert admin_web.get(url).status_code == 200


def test_agreement_add_form_opens(admin_web):
    assert admin_web.get(reverse("admin:rebates_rebateagreement_add")).status_code == 200


def test_accrual_changelist_is_read_only_and_pinned(admin_web, django_assert_max_num_queries):
    RebateAccrualFactory()
    url = reverse("admin:rebates_rebateaccrual_changelist")
    with django_assert_max_num_queries(10) as first:
        response = admin_web.get(url)
    assert response.status_code == 200
    assert b"Add rebate accrual" not in response.content
    for month in range(2, 7):
        RebateAccrualFactory(period=datetime.date(2026, month, 1))
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert admin_web.get(url).status_code == 200


def _management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_adding_an_agreement_in_the_admin_uses_the_service():
    client = Client()
    client.force_login(StaffFactory(roles=["inventory_clerk"]))
    supplier = SupplierFactory()
    data = {
        "supplier": supplier.pk,
        "name": "Bebidas 2026",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "mode": "retroactive",
        "is_active": "on",
        **_management("tiers", 2),
        "tiers-0-threshold": "0",
        "tiers-0-rate_percent": "1",
        "tiers-1-threshold": "10000",
        "tiers-1-rate_percent": "2",
        **_management("accruals", 0),
    }
    response = client.post(reverse("admin:rebates_rebateagreement_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    agreement = RebateAgreement.objects.get()
    assert agreement.supplier == supplier
    assert list(agreement.tiers.values_list("threshold", "rate_percent")) == [
        (D("0"), D("1")),
        (D("10000"), D("2")),
    ]
