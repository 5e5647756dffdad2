import pytest

from apps.exposure.models import ExposurePin, ProductRanking, ScoringState
from apps.exposure.services.scoring import scoring_run
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.exposure import ExposurePinFactory, make_event
from tests.factories.inventory import stocked_variant

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

RUN = "/api/v1/internal/scoring/run"
RANKINGS = "/api/v1/admin/rankings"
PINS = "/api/v1/admin/exposure/pins"


@pytest.fixture
def clients(api_client, customer_client, staff_client, role_client, admin_client_api):
    return {
        "anonymous": api_client,
        "customer": customer_client,
        "staff": staff_client,
        "support": role_client("customer_support"),
        "marketing": role_client("marketing"),
        "superuser": admin_client_api,
    }


EXPECTED = {"anonymous": 401, "customer": 403, "staff": 403, "support": 403}


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff", "support", "marketing", "superuser"])
def test_staff_endpoints_permission_matrix(clients, who):
    client = clients[who]
    product = ProductFactory()
    pin = ExposurePinFactory(product=product)
    allowed = who in ("marketing", "superuser")

    statuses = {
        "run": client.post(RUN, {"wait": True}, format="json").status_code,
        "rankings": client.get(RANKINGS).status_code,
        "pins": client.get(PINS).status_code,
        "create": client.post(
            PINS, {"product": product.pk, "context": "home", "position": 2}, format="json"
        ).status_code,
        "delete": client.delete(f"{PINS}/{pin.pk}").status_code,
    }

    if allowed:
        assert statuses == {"run": 200, "rankings": 200, "pins": 200, "create": 201, "delete": 204}
        assert list(ExposurePin.objects.values_list("position", flat=True)) == [2]
    else:
        assert set(statuses.values()) == {EXPECTED[who]}
        assert list(ExposurePin.objects.values_list("pk", flat=True)) == [pin.pk]
        assert not ScoringState.objects.exists()


def test_scoring_run_with_wait_returns_the_summary(admin_client_api):
    product = stocked_variant(4).product
    from django.utils import timezone

    make_event(product, "click", occurred_at=timezone.now())

    response = admin_client_api.post(RUN, {"wait": True}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"products_scored", "events_processed", "duration_ms", "computed_at"}
    assert (body["products_scored"], body["events_processed"]) == (1, 1)
    assert body["computed_at"].endswith(":00:00Z")


def test_scoring_run_without_wait_queues_the_task(admin_client_api):
    stocked_variant(4)

    response = admin_client_api.post(RUN, {}, format="json")

    assert response.status_code == 202
    assert set(response.json()) == {"task_id"} and response.json()["task_id"]
    # Tasks run inline in the test settings: the queued run has happened.
    assert ProductRanking.objects.count() == 1


def test_scoring_run_rejects_a_non_boolean_wait(admin_client_api):
    response = admin_client_api.post(RUN, {"wait": "soon"}, format="json")

    assert response.status_code == 400
    assert "wait" in response.json()["error"]["details"]
    assert not ScoringState.objects.exists()


def test_rankings_are_paginated_and_sortable_by_each_score(admin_client_api, django_assert_num_queries):
    for quantity in (1, 2, 3):
        stocked_variant(quantity)
    scoring_run()

    by_default = admin_client_api.get(RANKINGS).json()
    with django_assert_num_queries(3):  # JWT user, count, page (a superuser needs no permission query)
        by_fresh = admin_client_api.get(f"{RANKINGS}?ordering=-freshness_score&page_size=2").json()

    assert by_default["count"] == 3
    assert set(by_default["results"][0]) == {
        "product",
        "popularity_score",
        "cold_score",
        "profit_score",
        "freshness_score",
        "exposure_score",
        "computed_at",
    }
    scores = [r["exposure_score"] for r in by_default["results"]]
    assert scores == sorted(scores, reverse=True)
    fresh = [r["freshness_score"] for r in by_fresh["results"]]
    assert len(fresh) == 2 and fresh == sorted(fresh, reverse=True)
    assert by_fresh["next"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"context": "category", "position": 1}, "category"),
        ({"context": "home", "position": 0}, "position"),
        ({"context": "home", "position": 51}, "position"),
        ({"context": "banner", "position": 1}, "context"),
        (
            {
                "context": "home",
                "position": 1,
                "starts_at": "2026-12-01T00:00:00Z",
                "ends_at": "2026-11-01T00:00:00Z",
            },
            "ends_at",
        ),
    ],
)
def test_invalid_pin_is_rejected_without_saving(admin_client_api, body, field):
    product = ProductFactory()

    response = admin_client_api.post(PINS, {"product": product.pk, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not ExposurePin.objects.exists()


def test_pin_for_a_home_context_cannot_name_a_category(admin_client_api):
    product = ProductFactory()

    response = admin_client_api.post(
        PINS,
        {"product": product.pk, "context": "home", "position": 1, "category": CategoryFactory().pk},
        format="json",
    )

    assert response.status_code == 400 and "category" in response.json()["error"]["details"]


def test_pin_is_created_with_its_author_and_listed(clients, django_assert_num_queries):
    client = clients["marketing"]
    category = CategoryFactory()
    product = ProductFactory(category=category)

    created = client.post(
        PINS,
        {"product": product.pk, "context": "category", "category": category.pk, "position": 3},
        format="json",
    )
    ExposurePinFactory.create_batch(3)
    with django_assert_num_queries(5):
        listed = client.get(PINS).json()

    assert created.status_code == 201
    assert created.json() == {**created.json(), "product": product.pk, "category": category.pk, "position": 3}
    pin = ExposurePin.objects.get(pk=created.json()["id"])
    assert pin.created_by == client.user
    assert listed["count"] == 4


def test_deleting_an_unknown_pin_is_404(admin_client_api):
    assert admin_client_api.delete(f"{PINS}/999999").status_code == 404
