import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse

from apps.engagement.models import CustomerEngagementDaily, ProductEngagementDaily
from tests.factories.accounts import UserFactory
from tests.factories.catalog import ProductFactory

DAY = date(2026, 11, 20)
QUERIES_CHANGE_FORM = 5  # session, user, row, its product or customer, admin log check


def make_product_rows(n):
    for i in range(n):
        ProductEngagementDaily.objects.create(
            product=ProductFactory(), day=DAY - timedelta(days=i % 3), views=10 + i, clicks=i, ctr=i / 10
        )


def make_customer_rows(n):
    for i in range(n):
        if i % 2:
            CustomerEngagementDaily.objects.create(customer=UserFactory(), day=DAY, views=i)
        else:
            anonymous_id = f"anon-{uuid.uuid4().hex[:8]}"
            CustomerEngagementDaily.objects.create(anonymous_id=anonymous_id, day=DAY, views=i)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "make"),
    [(ProductEngagementDaily, make_product_rows), (CustomerEngagementDaily, make_customer_rows)],
)
def test_changelist_opens_with_six_queries_whatever_the_rows(
    admin_client, django_assert_num_queries, model, make
):
    url = reverse(f"admin:engagement_{model._meta.model_name}_changelist")
    for rows in (2, 20):
        make(rows)
        # session, user, page rows (joined), count, date hierarchy, day filter
        with django_assert_num_queries(6):
            response = admin_client.get(url)
        assert response.status_code == 200
    assert admin_client.get(url + "?q=anon").status_code == 200
    assert admin_client.get(url + f"?day__gte={DAY.isoformat()}").status_code == 200


@pytest.mark.django_db
def test_product_changelist_shows_ctr_as_a_percentage(admin_client):
    ProductEngagementDaily.objects.create(product=ProductFactory(), day=DAY, views=8, clicks=2, ctr=0.25)

    response = admin_client.get(reverse("admin:engagement_productengagementdaily_changelist"))

    assert b"25.00%" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "make"),
    [(ProductEngagementDaily, make_product_rows), (CustomerEngagementDaily, make_customer_rows)],
)
def test_rows_are_read_only_in_the_admin(admin_client, django_assert_num_queries, model, make):
    make(2)
    row = model.objects.order_by("-pk").first()
    change = reverse(f"admin:engagement_{model._meta.model_name}_change", args=[row.pk])

    with django_assert_num_queries(QUERIES_CHANGE_FORM):
        response = admin_client.get(change)

    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert admin_client.get(reverse(f"admin:engagement_{model._meta.model_name}_add")).status_code == 403
    assert admin_client.post(change, {"views": 999}).status_code == 403
    row.refresh_from_db()
    assert row.views != 999
