import pytest

from apps.exposure.services.cache import local_cache_reset


@pytest.fixture(autouse=True)
def _exposure_settings(settings):
    # Tests insert events and score them right away: no ingest lag.
    settings.SCORING_INGEST_LAG_SECONDS = 0
    local_cache_reset()
    yield
    local_cache_reset()
