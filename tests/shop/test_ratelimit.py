import logging
import threading
import time
import uuid

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import REGISTRY
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from shop.ratelimit import (
    client_ip,
    get_backend,
    rate_limit,
    ratelimit_check,
    ratelimit_check_many,
    reset_backends,
)
from shop.ratelimit.backends import backend_url

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _fresh_backends(settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "test:ten-a-minute": [(10, 60)],
        "test:burst": [(3, 1), (5, 60)],
        "test:two": [(2, 60)],
        "test:other": [(100, 60)],
    }
    reset_backends()
    yield
    reset_backends()


def ident() -> str:
    return uuid.uuid4().hex


def errors_counter(backend="redis"):
    return REGISTRY.get_sample_value("shop_ratelimit_backend_errors_total", {"backend": backend}) or 0.0


def test_uses_redis_when_configured_and_memory_otherwise(settings):
    if settings.REDIS_URL:
        assert get_backend().name == "redis"
        assert backend_url() == settings.TEST_REDIS_URL
    settings.REDIS_URL = settings.TEST_REDIS_URL = settings.RATELIMIT_REDIS_URL = ""
    assert get_backend().name == "memory"


def _hammer(policy: str, identity: str, threads: int) -> list[bool]:
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        decision = ratelimit_check(policy, identity)
        with lock:
            results.append(decision.allowed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def test_200_concurrent_checks_against_ten_a_minute_admit_exactly_ten():
    results = _hammer("test:ten-a-minute", ident(), 200)

    assert len(results) == 200
    assert results.count(True) == 10


def test_in_process_limiter_is_exact_under_concurrency_too(settings):
    settings.REDIS_URL = settings.TEST_REDIS_URL = ""

    results = _hammer("test:ten-a-minute", ident(), 200)

    assert get_backend().name == "memory"
    assert results.count(True) == 10


@pytest.mark.parametrize("embedded", [False, True])
def test_every_window_is_enforced_and_refusals_consume_no_quota(settings, embedded):
    if embedded:
        settings.REDIS_URL = settings.TEST_REDIS_URL = ""
    who = ident()

    first = [ratelimit_check("test:burst", who) for _ in range(4)]

    assert [d.allowed for d in first] == [True, True, True, False]
    assert [d.remaining for d in first] == [2, 1, 0, 0]
    refused = first[-1]
    assert (refused.retry_after, refused.limit, refused.limited_by) == (1, 3, ("test:burst",))
    time.sleep(1.05)  # the 1-second window resets; the minute window has counted 3 (not 4)
    second = [ratelimit_check("test:burst", who) for _ in range(3)]
    assert [d.allowed for d in second] == [True, True, False]
    minute_full = second[-1]
    assert minute_full.limit == 5
    assert 58 <= minute_full.retry_after <= 60
    assert [(w.seconds, w.count) for w in minute_full.windows] == [(1, 2), (60, 5)]


def test_identities_and_policies_are_counted_apart():
    alice, bob = ident(), ident()
    assert [ratelimit_check("test:two", alice).allowed for _ in range(3)] == [True, True, False]

    assert ratelimit_check("test:two", bob).allowed
    assert ratelimit_check("test:other", alice).allowed


def test_several_policies_are_checked_atomically_together():
    customer = ident()
    for _ in range(2):
        assert ratelimit_check_many([("test:other", "10.0.0.1"), ("test:two", customer)]).allowed

    refused = ratelimit_check_many([("test:other", "10.0.0.1"), ("test:two", customer)])

    assert not refused.allowed
    assert refused.limited_by == ("test:two",)
    # The refused call did not count against the policy that still had room.
    assert [(w.policy, w.count) for w in refused.windows] == [("test:other", 2), ("test:two", 2)]
    assert refused.policy_header == '"test:other/60s";q=100;w=60, "test:two/60s";q=2;w=60'


def test_a_missing_identity_skips_its_policy():
    decision = ratelimit_check_many([("test:two", None)])

    assert decision.allowed
    assert decision.windows == ()


def test_headers_follow_the_ietf_draft_format():
    who = ident()
    allowed = ratelimit_check("test:burst", who)

    assert allowed.headers() == {
        "RateLimit-Policy": '"test:burst/1s";q=3;w=1, "test:burst/60s";q=5;w=60',
        "RateLimit": '"test:burst/1s";r=2;t=1',
    }
    for _ in range(2):
        ratelimit_check("test:burst", who)
    refused = ratelimit_check("test:burst", who)
    assert refused.headers() == {
        "RateLimit-Policy": '"test:burst/1s";q=3;w=1, "test:burst/60s";q=5;w=60',
        "RateLimit": '"test:burst/1s";r=0;t=1',
        "Retry-After": "1",
    }


def test_multiplier_scales_every_limit(settings):
    settings.RATELIMIT_MULTIPLIER = 2
    who = ident()

    results = [ratelimit_check("test:two", who).allowed for _ in range(5)]

    assert results == [True, True, True, True, False]


def test_unknown_policy_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        ratelimit_check("nope", "x")


def test_fails_open_when_redis_is_down_counts_it_and_logs_once(settings, caplog):
    settings.RATELIMIT_REDIS_URL = DEAD_REDIS
    before = errors_counter()

    with caplog.at_level(logging.WARNING, logger="shop.ratelimit"):
        decisions = [ratelimit_check("test:two", "x") for _ in range(5)]

    assert all(d.allowed and d.degraded for d in decisions)
    assert decisions[0].headers() == {"RateLimit-Policy": '"test:two/60s";q=2;w=60'}
    assert errors_counter() == before + 5
    assert [r.message for r in caplog.records].count("ratelimit_backend_down") == 1


def test_recovers_once_redis_is_back(settings):
    settings.RATELIMIT_REDIS_URL = DEAD_REDIS
    assert ratelimit_check("test:two", "x").degraded
    if not settings.REDIS_URL:
        return
    settings.RATELIMIT_REDIS_URL = ""

    decision = ratelimit_check("test:two", ident())

    assert decision.allowed and not decision.degraded
    assert decision.remaining == 1


def test_redis_keys_expire_with_their_window(settings):
    if not settings.REDIS_URL:
        pytest.skip("checks Redis TTLs; the in-process limiter is covered above")
    who = ident()
    ratelimit_check("test:burst", who)
    client = redis.Redis.from_url(settings.TEST_REDIS_URL)

    assert 0 < client.pttl(f"rl:{{test:burst:{who}}}:1") <= 1000
    assert 59_000 < client.pttl(f"rl:{{test:burst:{who}}}:60") <= 60_000


class TestClientIp:
    def make(self, **meta):
        return APIRequestFactory().get("/", **meta)

    def test_remote_addr_without_trusted_proxies(self, settings):
        settings.RATELIMIT_TRUSTED_PROXY_COUNT = 0
        request = self.make(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6")

        assert client_ip(request) == "10.0.0.9"

    @pytest.mark.parametrize(("count", "expected"), [(1, "198.51.100.4"), (2, "203.0.113.7")])
    def test_forwarded_for_entry_added_by_the_outermost_trusted_proxy(self, settings, count, expected):
        settings.RATELIMIT_TRUSTED_PROXY_COUNT = count
        request = self.make(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 198.51.100.4")

        assert client_ip(request) == expected


class LimitedView(APIView):
    authentication_classes = []
    permission_classes = []

    @rate_limit(("test:two", client_ip))
    def get(self, request):
        return Response({"ok": True})


def test_decorator_sets_headers_on_allowed_and_refused_responses():
    view = LimitedView.as_view()
    factory = APIRequestFactory()
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    responses = [view(factory.get("/", REMOTE_ADDR=address)) for _ in range(3)]
    for response in responses:
        response.render()

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0]["RateLimit-Policy"] == '"test:two/60s";q=2;w=60'
    assert responses[0]["RateLimit"].startswith('"test:two/60s";r=1;t=')
    refused = responses[2]
    assert refused["RateLimit"].startswith('"test:two/60s";r=0;t=')
    assert 58 <= int(refused["Retry-After"]) <= 60
    assert refused.data["error"]["code"] == "rate_limited"
