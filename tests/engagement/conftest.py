import uuid

import pytest

from shop.ratelimit import reset_backends


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with empty rate-limit counters and no remembered Redis outage."""
    reset_backends()
    yield
    reset_backends()


def event(product_id, type_="view", **extra):
    """One event body for POST /events."""
    return {"event_id": str(uuid.uuid4()), "type": type_, "product_id": product_id, **extra}
