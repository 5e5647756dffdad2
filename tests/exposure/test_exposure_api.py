import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from apps.catalog.models import Product
from apps.engagement.models import CustomerEngagementDaily
from apps.exposure.models import ExposureMix, ExposurePin, ExposureSlot
from apps.exposure.selectors import Weights
from apps.exposure.services.cache import exposure_cache_invalidate
from apps.exposure.services.mix import cohort_assign, mix_served_flush
from apps.exposure.services.scoring import scoring_run
from apps.inventory.models import StockLevel
from tests.conftest import auth_client
from tests.factories.catalog import CategoryFactory
from tests.factories.exposure import ExposureExperimentFactory, ExposureVariantFactory, make_event
from tests.factories.inventory import stocked_variant

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

URL = "/api/v1/exposure"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def shop(django_capture_on_commit_callbacks):
    """Four categories (one a child of the first), 20 products in stock, scored."""
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    others = [CategoryFactory(), CategoryFactory()]
    categories = [root, child, *others]
    products = [stocked_variant(10 + i, product__category=categories[i % 4]).product for i in range(20)]
    with django_capture_on_commit_callbacks(execute=True):
        scoring_run()
    return {"root": root, "child": child, "others": others, "products": products}


def _ids(response):
    return [slot["product_id"] for slot in response.json()["mix"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("context=front", "context"),
        ("", "context"),
        ("context=home&limit=0", "limit"),
        ("context=home&limit=51", "limit"),
        ("context=home&limit=many", "limit"),
        ("context=category", "category_id"),
        ("context=category&category_id=999999", "category_id"),
        ("context=category&category_id=x", "category_id"),
    ],
)
def test_invalid_query_is_rejected_without_serving_anything(api_client, query, field):
    response = api_client.get(f"{URL}?{query}")

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid" and field in body["details"]
    assert not ExposureMix.objects.exists()


def test_home_mix_has_the_documented_shape_and_is_persisted(api_client, shop):
    response = api_client.get(f"{URL}?context=home")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "exposure_id",
        "context",
        "variant",
        "generated_at",
        "expires_at",
        "cache_hit",
        "mix",
    }
    assert (body["context"], body["variant"], body["cache_hit"]) == ("home", "default", False)
    assert TIMESTAMP.match(body["generated_at"]) and TIMESTAMP.match(body["expires_at"])
    assert [s["position"] for s in body["mix"]] == list(range(1, 13))
    assert {s["reason"] for s in body["mix"]} <= {"popular", "cold_boost", "fresh", "profit"}
    assert sum(s["reason"] == "cold_boost" for s in body["mix"]) == 2
    slots = list(ExposureSlot.objects.filter(exposure_id=body["exposure_id"]).order_by("position"))
    assert [(s.position, s.product_id, s.reason) for s in slots] == [
        (s["position"], s["product_id"], s["reason"]) for s in body["mix"]
    ]
    assert ExposureMix.objects.get().served_count == 1


def test_repeat_request_is_a_cache_hit_with_the_same_mix_and_counts_the_serve(api_client, shop):
    first = api_client.get(f"{URL}?context=home&limit=8").json()
    second = api_client.get(f"{URL}?context=home&limit=8").json()
    mix_served_flush()

    assert second["cache_hit"] is True
    assert {**second, "cache_hit": False} == first
    assert ExposureMix.objects.count() == 1
    assert ExposureMix.objects.get().served_count == 2


def test_pin_change_invalidates_the_cache_and_the_pin_takes_its_position(
    admin_client_api, api_client, shop, django_capture_on_commit_callbacks
):
    api_client.get(f"{URL}?context=home")
    pinned = shop["products"][19]
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_client_api.post(
            "/api/v1/admin/exposure/pins",
            {"product": pinned.pk, "context": "home", "position": 1},
            format="json",
        )
    after_pin = api_client.get(f"{URL}?context=home").json()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_api.delete(f"/api/v1/admin/exposure/pins/{created.json()['id']}")
    after_delete = api_client.get(f"{URL}?context=home").json()

    assert after_pin["cache_hit"] is False
    assert after_pin["mix"][0] == {**after_pin["mix"][0], "product_id": pinned.pk, "reason": "pinned"}
    assert after_delete["cache_hit"] is False
    assert all(s["reason"] != "pinned" for s in after_delete["mix"])


def test_scoring_run_invalidates_the_cache(api_client, shop, django_capture_on_commit_callbacks):
    api_client.get(f"{URL}?context=home")
    with django_capture_on_commit_callbacks(execute=True):
        scoring_run()

    assert api_client.get(f"{URL}?context=home").json()["cache_hit"] is False


def test_mix_is_served_from_process_memory_when_redis_is_down(api_client, shop, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }

    first = api_client.get(f"{URL}?context=home")
    second = api_client.get(f"{URL}?context=home")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["cache_hit"] is False and second.json()["cache_hit"] is True
    assert _ids(first) == _ids(second)
    assert ExposureMix.objects.count() == 1


def test_product_sold_out_after_scoring_is_not_served(api_client, shop):
    sold_out = api_client.get(f"{URL}?context=home&limit=50").json()["mix"][0]["product_id"]
    StockLevel.objects.filter(variant__product_id=sold_out).update(reserved=F("on_hand"))
    Product.objects.filter(pk=shop["products"][1].pk).update(is_active=False)
    exposure_cache_invalidate()
    ids = _ids(api_client.get(f"{URL}?context=home&limit=50"))

    assert sold_out not in ids and shop["products"][1].pk not in ids
    assert len(ids) == 18


def test_category_mix_covers_the_category_and_its_subcategories_only(api_client, shop):
    root, child = shop["root"], shop["child"]

    ids = _ids(api_client.get(f"{URL}?context=category&category_id={root.pk}&limit=50"))

    expected = {p.pk for p in shop["products"] if p.category_id in (root.pk, child.pk)}
    assert set(ids) == expected


def test_category_pins_apply_to_their_category_page_only(api_client, shop):
    pinned = next(p for p in shop["products"] if p.category_id == shop["child"].pk)
    ExposurePin.objects.create(product=pinned, context="category", category=shop["root"], position=2)

    on_page = api_client.get(f"{URL}?context=category&category_id={shop['root'].pk}").json()["mix"]
    on_child = api_client.get(f"{URL}?context=category&category_id={shop['child'].pk}").json()["mix"]

    assert on_page[1]["product_id"] == pinned.pk and on_page[1]["reason"] == "pinned"
    assert all(s["reason"] != "pinned" for s in on_child)


def test_scheduled_pin_applies_only_inside_its_window(api_client, shop):
    now = timezone.now()
    product = shop["products"][5]
    ExposurePin.objects.create(
        product=product, context="home", position=3, starts_at=now + timedelta(hours=1)
    )
    ExposurePin.objects.create(
        product=shop["products"][6], context="home", position=4, ends_at=now - timedelta(1)
    )

    mix = api_client.get(f"{URL}?context=home").json()["mix"]

    assert all(s["reason"] != "pinned" for s in mix)


def test_personalized_mix_favours_the_visitors_categories(shop, customer):
    favourite = shop["others"][1]
    CustomerEngagementDaily.objects.create(
        customer=customer, day=timezone.now().date(), views=5, category_affinities={str(favourite.pk): 12.0}
    )
    client = auth_client(customer)

    body = client.get(f"{URL}?context=personalized").json()

    assert body["context"] == "personalized"
    personalized = [s for s in body["mix"] if s["reason"] == "personalized"]
    favourite_ids = {p.pk for p in shop["products"] if p.category_id == favourite.pk}
    assert {s["product_id"] for s in personalized} <= favourite_ids
    assert len(personalized) >= 2
    assert body["mix"][0]["reason"] == "personalized"


def test_personalized_uses_the_anonymous_id_from_header_or_query(api_client, shop):
    favourite = shop["others"][0]
    CustomerEngagementDaily.objects.create(
        anonymous_id="anon-42", day=timezone.now().date(), category_affinities={str(favourite.pk): 3}
    )

    by_header = api_client.get(f"{URL}?context=personalized", HTTP_X_ANONYMOUS_ID="anon-42").json()
    by_query = api_client.get(f"{URL}?context=personalized&anonymous_id=anon-42").json()

    assert by_header["context"] == by_query["context"] == "personalized"
    assert by_query["cache_hit"] is True and by_query["exposure_id"] == by_header["exposure_id"]


def test_personalized_without_affinities_falls_back_to_the_home_mix(api_client, shop, customer):
    home = api_client.get(f"{URL}?context=home").json()

    stranger = auth_client(customer).get(f"{URL}?context=personalized").json()
    nobody = api_client.get(f"{URL}?context=personalized").json()

    assert stranger["context"] == nobody["context"] == "home"
    assert stranger["exposure_id"] == nobody["exposure_id"] == home["exposure_id"]


def test_badges_follow_the_documented_thresholds(api_client, django_capture_on_commit_callbacks):
    hot = stocked_variant(3, price=Decimal("10.00"), cost=Decimal("9.00")).product  # low stock, thin margin
    plain = stocked_variant(50, price=Decimal("10.00"), cost=Decimal("5.00")).product
    Product.objects.filter(pk=plain.pk).update(created_at=timezone.now() - timedelta(days=30))
    make_event(hot, "purchase", occurred_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        scoring_run()

    mix = {s["product_id"]: s for s in api_client.get(f"{URL}?context=home").json()["mix"]}

    assert mix[hot.pk]["badges"] == ["new", "hot", "low_stock", "deal"]
    assert mix[plain.pk]["badges"] == []


def test_reason_names_the_dominant_component(api_client, settings, django_capture_on_commit_callbacks):
    settings.EXPOSURE_COLD_SLOTS = 0
    popular = stocked_variant(10, price=Decimal("10.00"), cost=Decimal("9.00")).product
    margin = stocked_variant(10, price=Decimal("10.00"), cost=Decimal("1.00")).product
    Product.objects.filter(pk__in=[popular.pk, margin.pk]).update(
        created_at=timezone.now() - timedelta(days=90)
    )
    fresh = stocked_variant(10, price=Decimal("10.00"), cost=Decimal("9.50")).product
    make_event(popular, "purchase", occurred_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        scoring_run()

    mix = {s["product_id"]: s["reason"] for s in api_client.get(f"{URL}?context=home").json()["mix"]}

    assert mix == {popular.pk: "popular", margin.pk: "profit", fresh.pk: "fresh"}


def _experiment(**first):
    experiment = ExposureExperimentFactory(key="weights-test")
    a = ExposureVariantFactory(experiment=experiment, key="a", traffic_share=50, **first)
    b = ExposureVariantFactory(
        experiment=experiment, key="b", traffic_share=50, alpha=0.0, w_cold=0, w_profit=0, w_fresh=1
    )
    return experiment, a, b


def test_cohort_assignment_is_deterministic_and_follows_traffic_shares(api_client, shop):
    _experiment(alpha=1.0)
    variants = [
        (Weights("a", 1, 0, 0, 0, "weights-test"), 50),
        (Weights("b", 0, 0, 0, 1, "weights-test"), 50),
    ]
    assigned = {
        f"visitor-{i}": cohort_assign(
            experiment_key="weights-test", variants=variants, subject=f"a:visitor-{i}"
        ).variant
        for i in range(200)
    }

    for visitor in ("visitor-1", "visitor-2", "visitor-3"):
        seen = {
            api_client.get(f"{URL}?context=home", HTTP_X_ANONYMOUS_ID=visitor).json()["variant"]
            for _ in range(2)
        }
        assert seen == {assigned[visitor]}
    counts = {v: sum(1 for x in assigned.values() if x == v) for v in ("a", "b")}
    assert 70 <= counts["a"] <= 130 and counts["a"] + counts["b"] == 200
    assert api_client.get(f"{URL}?context=home").json()["variant"] == "default"  # no id to hash


def test_variant_weights_change_the_order_and_are_part_of_the_cache_key(
    api_client, settings, django_capture_on_commit_callbacks
):
    settings.EXPOSURE_COLD_SLOTS = 0
    settings.EXPOSURE_CATEGORY_CAP = 12
    category = CategoryFactory()
    old_popular = stocked_variant(10, product__category=category).product
    Product.objects.filter(pk=old_popular.pk).update(created_at=timezone.now() - timedelta(days=60))
    newest = stocked_variant(10, product__category=category).product
    make_event(old_popular, "purchase", occurred_at=timezone.now() - timedelta(hours=1))
    _experiment(alpha=1.0, w_cold=0, w_profit=0, w_fresh=0)
    with django_capture_on_commit_callbacks(execute=True):
        scoring_run()
    variants = [
        (Weights("a", 1, 0, 0, 0, "weights-test"), 50),
        (Weights("b", 0, 0, 0, 1, "weights-test"), 50),
    ]
    visitor = {}
    for i in range(50):
        visitor.setdefault(
            cohort_assign(experiment_key="weights-test", variants=variants, subject=f"a:v{i}").variant,
            f"v{i}",
        )

    in_a = api_client.get(f"{URL}?context=home", HTTP_X_ANONYMOUS_ID=visitor["a"]).json()
    in_b = api_client.get(f"{URL}?context=home", HTTP_X_ANONYMOUS_ID=visitor["b"]).json()

    assert (in_a["variant"], in_b["variant"]) == ("a", "b")
    assert in_b["cache_hit"] is False
    assert _ids_of(in_a) == [old_popular.pk, newest.pk]
    assert _ids_of(in_b) == [newest.pk, old_popular.pk]
    assert ExposureMix.objects.get(exposure_id=in_b["exposure_id"]).experiment_key == "weights-test"


def _ids_of(body):
    return [s["product_id"] for s in body["mix"]]


def test_each_generated_mix_gets_its_own_exposure_id(api_client, shop):
    a = api_client.get(f"{URL}?context=home&limit=5").json()["exposure_id"]
    b = api_client.get(f"{URL}?context=home&limit=6").json()["exposure_id"]

    assert uuid.UUID(a) != uuid.UUID(b)


def test_cached_mix_is_served_without_touching_the_database(
    api_client, shop, django_assert_num_queries, monkeypatch
):
    from apps.exposure.services import mix

    monkeypatch.setattr(mix, "SERVED_FLUSH_SECONDS", 3600)  # the periodic serve-count flush is one UPDATE
    url = f"{URL}?context=category&category_id={shop['root'].pk}"
    api_client.get(url)

    with django_assert_num_queries(0):
        response = api_client.get(url)

    assert response.json()["cache_hit"] is True


def test_uncached_mix_takes_a_fixed_number_of_queries(shop, django_assert_num_queries):
    from apps.exposure.services.mix import exposure_get

    # experiment (once per cache version), pins, candidates (one query), mix + slots inside a savepoint
    with django_assert_num_queries(7):
        exposure_get(context="home", limit=12, use_cache=False)


def test_fallback_is_remembered_for_the_visitor(api_client, shop, django_assert_num_queries, monkeypatch):
    from apps.exposure.services import mix

    monkeypatch.setattr(mix, "SERVED_FLUSH_SECONDS", 3600)
    first = api_client.get(f"{URL}?context=personalized&anonymous_id=new-visitor").json()

    with django_assert_num_queries(0):  # no affinity lookup the second time
        second = api_client.get(f"{URL}?context=personalized&anonymous_id=new-visitor").json()

    assert first["context"] == second["context"] == "home"
    assert second["cache_hit"] is True and second["exposure_id"] == first["exposure_id"]
