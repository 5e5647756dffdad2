import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.exposure.models import ExposurePin, ProductRanking
from apps.exposure.services.scoring import scoring_run
from tests.factories.accounts import StaffFactory, SuperuserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.exposure import ExposureExperimentFactory, ExposurePinFactory, ExposureVariantFactory
from tests.factories.inventory import stocked_variant

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _rows(n):
    for _ in range(n):
        stocked_variant(3)
        ExposurePinFactory()
        experiment = ExposureExperimentFactory(is_active=False)
        ExposureVariantFactory.create_batch(2, experiment=experiment)
    scoring_run()


def _count(client, url):
    client.get(url)  # warm the per-process caches (content types) so both counts compare like with like
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


PAGES = {
    # session, user, then the page's own queries (count + page for changelists)
    "/admin/exposure/exposurepin/": 5,
    "/admin/exposure/exposurepin/add/": 2,
    "/admin/exposure/exposureexperiment/": 5,
    "/admin/exposure/exposureexperiment/add/": 2,
    "/admin/exposure/productranking/": 4,
    "/admin/exposure/productranking/ctr-report/": 5,
}


@pytest.mark.parametrize("url", list(PAGES))
def test_admin_page_opens_with_a_query_count_that_does_not_grow_with_rows(client, url):
    client.force_login(SuperuserFactory())
    _rows(2)
    small = _count(client, url)
    _rows(4)
    large = _count(client, url)

    assert small == large == PAGES[url]


def test_change_pages_open(client):
    client.force_login(SuperuserFactory())
    _rows(1)
    pin = ExposurePin.objects.first()
    experiment = ExposureVariantFactory().experiment
    ranking = ProductRanking.objects.first()

    for url in (
        f"/admin/exposure/exposurepin/{pin.pk}/change/",
        f"/admin/exposure/exposureexperiment/{experiment.pk}/change/",
        f"/admin/exposure/productranking/{ranking.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url


def test_admin_pin_form_saves_through_the_service_with_its_author(client, django_capture_on_commit_callbacks):
    user = SuperuserFactory()
    client.force_login(user)
    product = ProductFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/admin/exposure/exposurepin/add/",
            {"product": product.pk, "context": "home", "position": 4, "starts_at_0": "", "starts_at_1": ""},
        )

    assert response.status_code == 302
    pin = ExposurePin.objects.get()
    assert (pin.product_id, pin.position, pin.created_by) == (product.pk, 4, user)
    assert len(callbacks) == 1  # the cache invalidation


def test_rankings_admin_is_read_only(client):
    client.force_login(SuperuserFactory())
    _rows(1)
    ranking = ProductRanking.objects.first()

    assert client.get("/admin/exposure/productranking/add/").status_code == 403
    assert (
        client.post(f"/admin/exposure/productranking/{ranking.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert ProductRanking.objects.count() == 2


def test_ctr_report_needs_the_ranking_view_permission(client):
    client.force_login(StaffFactory())

    assert client.get("/admin/exposure/productranking/ctr-report/").status_code == 403

    client.force_login(StaffFactory(roles=["marketing"]))
    assert client.get("/admin/exposure/productranking/ctr-report/").status_code == 200
