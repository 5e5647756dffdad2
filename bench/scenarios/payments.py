"""Payments: the Mercado Pago webhook must answer fast (Mercado Pago retries after 22 s and expects a
prompt 200/201). Two paths against the `insert` baseline: new notifications (verify the signature,
insert one row, queue processing on the broker after commit) and redeliveries of one notification
(verify, hit the unique key, answer `duplicate`).

Processing is not measured here: it calls Mercado Pago, and bench traffic stays on 127.0.0.1. With no
MERCADOPAGO_ACCESS_TOKEN a worker, if one runs, fails those tasks at once without a network call.
"""

import hashlib
import hmac
import time

from bench.harness import Context, CustomScenario, HttpScenario

SECRET = "bench-webhook-secret"
DATA_ID = "20359978"
PATH = f"/api/v1/payments/webhooks/mercadopago?data.id={DATA_ID}&type=payment"
TARGET_RATIO = 0.5


def prepare(ctx: Context) -> None:
    # The server inherits ctx.env; production settings refuse every webhook without a secret.
    ctx.env.setdefault("MERCADOPAGO_WEBHOOK_SECRET", SECRET)
    ctx.vars["payments_data_id"] = DATA_ID


def _signed_headers(ctx: Context) -> dict[str, str]:
    """A fresh x-signature (inside the replay window for this measurement)."""
    secret = ctx.env["MERCADOPAGO_WEBHOOK_SECRET"]
    ts = str(int(time.time()))
    manifest = f"id:{DATA_ID};request-id:bench-request;ts:{ts};"
    digest = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return {"x-signature": f"ts={ts},v1={digest}", "x-request-id": "bench-request"}


def _measure(ctx: Context, scenario: HttpScenario, notes: str) -> dict:
    measured, baseline = ctx.measure_paired(scenario)
    ratio = round(measured["rps"] / baseline["rps"], 2) if baseline["rps"] else 0.0
    clean = measured["non2xx"] == 0 and measured["socket_errors"] == 0
    return {
        "value": measured["rps"],
        "unit": "req/s",
        "baseline": baseline["rps"],
        "ratio": ratio,
        "target": f">= {TARGET_RATIO} of insert, 0 errors",
        "ok": clean and ratio >= TARGET_RATIO,
        "notes": (
            f"{notes}; p50 {measured['p50_ms']} ms, p99 {measured['p99_ms']} ms, non-2xx {measured['non2xx']}"
        ),
        "measurement": measured,
        "baseline_run": baseline,
    }


def new_notifications(ctx: Context) -> dict:
    """Every request a new notification: one row and one queued task each."""
    scenario = HttpScenario(
        "webhook: new notifications",
        PATH,
        method="POST",
        body="{}",
        headers=_signed_headers(ctx),
        lua="payments_webhook.lua",
        baseline="insert",
        module="payments",
    )
    result = _measure(ctx, scenario, "signature + insert + broker enqueue")
    (rows,) = ctx.sql("SELECT count(*) FROM payments_paymentnotification")[0]
    result["notes"] += f"; {rows} notifications stored"
    return result


def redeliveries(ctx: Context) -> dict:
    """The same notification over and over: the unique key answers `duplicate`."""
    body = {"id": 424242, "type": "payment", "action": "payment.updated", "data": {"id": DATA_ID}}
    scenario = HttpScenario(
        "webhook: redelivered notification",
        PATH,
        method="POST",
        body=body,
        headers=_signed_headers(ctx),
        baseline="insert",
        module="payments",
    )
    result = _measure(ctx, scenario, "signature + unique-key conflict")
    (rows,) = ctx.sql(
        "SELECT count(*) FROM payments_paymentnotification "
        "WHERE provider_key = 'mercadopago:notification:424242'"
    )[0]
    result["ok"] = result["ok"] and rows == 1
    result["notes"] += f"; rows for the key: {rows}"
    return result


SCENARIOS = [
    CustomScenario("POST /payments/webhooks/mercadopago (new notifications)", run=new_notifications),
    CustomScenario("POST /payments/webhooks/mercadopago (redelivered)", run=redeliveries),
]
