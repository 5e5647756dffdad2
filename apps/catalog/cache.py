"""Cache of public catalog reads, invalidated by a version number that every catalog write bumps.

Pages carry the version they were built under, so a bump makes every cached page stale at once (they
expire on their own). Stock movements do not bump it: `available` and `in_stock` may lag by up to
CATALOG_PUBLIC_CACHE_SECONDS, which checkout does not rely on (it locks and rechecks stock).
A cache outage only costs speed: reads fall back to the database.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
VERSION_KEY = "catalog:version"


def catalog_cache_version() -> int:
    """The current catalog version (1 when never bumped)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY) or 1
    return int(version)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # never set (or evicted): any value other than the old one will do
        cache.set(VERSION_KEY, 2, timeout=None)
    except Exception:  # noqa: BLE001 — a cache outage must not fail a committed write
        logger.warning("catalog_cache_bump_failed", exc_info=True)


def catalog_cache_bump() -> None:
    """Invalidate cached public catalog reads once the current transaction commits."""
    transaction.on_commit(_bump)


def cached_public_read(key_parts: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """`compute()`'s result, cached for CATALOG_PUBLIC_CACHE_SECONDS and dropped by any catalog write.

    One round trip per hit: the page is stored as (version, value) and fetched together with the
    current version (MGET); a page stored under an older version is a miss. The version is read
    before computing, so a write committed meanwhile makes the stored page stale, never the reverse.
    """
    ttl = settings.CATALOG_PUBLIC_CACHE_SECONDS
    if ttl <= 0:
        return compute()
    digest = hashlib.sha1(repr(key_parts).encode(), usedforsecurity=False).hexdigest()
    page_key = f"catalog:page:{digest}"
    try:
        found = cache.get_many([VERSION_KEY, page_key])
        version = found.get(VERSION_KEY)
        if version is None:
            version = catalog_cache_version()
        hit = found.get(page_key)
    except Exception:  # noqa: BLE001
        logger.warning("catalog_cache_unavailable", exc_info=True)
        return compute()
    if hit is not None and hit[0] == version:
        return hit[1]
    value = compute()
    try:
        cache.set(page_key, (version, value), timeout=ttl)
    except Exception:  # noqa: BLE001
        logger.warning("catalog_cache_unavailable", exc_info=True)
    return value
