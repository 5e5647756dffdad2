"""Mercado Pago webhook signature (x-signature) verification.

Mercado Pago signs `id:{data.id};request-id:{x-request-id};ts:{ts};` with the application's secret
(HMAC-SHA256, hex) and sends `x-signature: ts=<ts>,v1=<hex>`. Parts whose value is absent are left out
of the manifest; an alphanumeric data.id is signed in lowercase. We compare in constant time and refuse
timestamps outside a replay window, so a captured notification cannot be replayed later.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings

# Timestamps above this are milliseconds (10^11 seconds is the year 5138).
_MS_THRESHOLD = 10**11


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    reason: str = ""  # why it failed, for logs; never sent to the caller
    ts: str = ""


def signature_manifest(*, data_id: str | None, request_id: str | None, ts: str) -> str:
    """The string Mercado Pago signs, omitting the parts that are absent."""
    parts = []
    if data_id:
        parts.append(f"id:{data_id.lower() if data_id.isalnum() else data_id}")
    if request_id:
        parts.append(f"request-id:{request_id}")
    parts.append(f"ts:{ts}")
    return ";".join(parts) + ";"


def signature_sign(*, secret: str, data_id: str | None, request_id: str | None, ts: str) -> str:
    """Hex HMAC-SHA256 of the manifest (what Mercado Pago puts in v1)."""
    manifest = signature_manifest(data_id=data_id, request_id=request_id, ts=ts)
    return hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[str, str]:
    ts = v1 = ""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        key = key.strip().lower()
        if key == "ts":
            ts = value.strip()
        elif key == "v1":
            v1 = value.strip()
    return ts, v1


def _seconds(ts: str) -> float:
    value = int(ts)
    return value / 1000 if value >= _MS_THRESHOLD else float(value)


def signature_verify(
    *,
    header: str | None,
    request_id: str | None,
    data_id: str | None,
    secret: str | None = None,
    tolerance_seconds: int | None = None,
    now: float | None = None,
) -> SignatureCheck:
    """Verify an x-signature header; with no secret configured every notification is refused."""
    secret = settings.MERCADOPAGO_WEBHOOK_SECRET if secret is None else secret
    tolerance = (
        settings.MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS if tolerance_seconds is None else tolerance_seconds
    )
    if not secret:
        return SignatureCheck(False, "no_secret_configured")
    if not header or not header.strip():
        return SignatureCheck(False, "missing_signature")
    ts, received = _parse(header)
    if not ts or not received:
        return SignatureCheck(False, "malformed_signature", ts)
    if not ts.isdigit():
        return SignatureCheck(False, "malformed_timestamp", ts)
    expected = signature_sign(secret=secret, data_id=data_id, request_id=request_id, ts=ts)
    if not hmac.compare_digest(expected.encode(), received.lower().encode()):
        return SignatureCheck(False, "signature_mismatch", ts)
    now = time.time() if now is None else now
    if tolerance and abs(now - _seconds(ts)) > tolerance:
        return SignatureCheck(False, "timestamp_out_of_tolerance", ts)
    return SignatureCheck(True, "", ts)
