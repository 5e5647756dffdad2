"""Engagement ingestion: POST /events against its ceilings, and the rollup over 1M events.

- single event per request, vs the constant baseline (target ≥ 0.5 of its requests/s);
- batches of 100 over HTTP in events/s, vs a raw batched `INSERT … ON CONFLICT DO NOTHING` loop on
  one connection measured in the same run (target ≥ 0.5 of its rows/s);
- the hourly/daily/customer rollup over the 1M generated events, vs the bare GROUP BY it is built on
  (informational).

Rate limits are multiplied for the server (RATELIMIT_MULTIPLIER): wrk sends everything from one IP,
and the limiter itself still runs (one Redis EVALSHA per request), so its cost is in the figures.
Events sent by the load carry anonymous_id 'bench-load' and are deleted after the measurements, so
later modules (exposure scoring) see only the generated 1M.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.generate_events import COLUMNS, event_rows, generate
from bench.harness import Context, CustomScenario, HttpScenario

BATCH = 100
TARGET = 0.5
LOAD_MARK = "bench-load"


def prepare(ctx: Context) -> None:
    """1M events over 50k products; product id range for the Lua scripts; limits raised for wrk."""
    (existing,) = ctx.sql("SELECT count(*) FROM engagement_event")[0]
    if existing < 1_000_000:
        summary = generate(ctx, events=1_000_000 - existing, products=50_000)
        ctx.vars["product_min"], ctx.vars["product_max"] = summary["product_min"], summary["product_max"]
    else:
        low, high = ctx.sql(
            "SELECT min(id), max(id) FROM (SELECT id FROM catalog_product ORDER BY id LIMIT 50000) AS p"
        )[0]
        ctx.vars["product_min"], ctx.vars["product_max"] = low, high
    ctx.vars["batch"] = BATCH
    ctx.env["RATELIMIT_MULTIPLIER"] = "1000"


def _raw_insert_ceiling(ctx: Context, seconds: float) -> dict[str, Any]:
    """Rows/s of batched `INSERT … ON CONFLICT (event_id) DO NOTHING` straight to PostgreSQL.

    The strongest plain loop found: each batch of 100 rows pre-serialised (before the clock starts) as
    one JSON parameter of a prepared `INSERT … SELECT … FROM json_to_recordset(…) ON CONFLICT DO
    NOTHING`, one transaction per batch, asynchronous commit (the endpoint's durability), one connection.
    Binding 1 200 Python values per multi-row VALUES statement, or executemany of single-row inserts,
    measured slower on this machine — the client's per-value cost dominates them.
    """
    import psycopg

    (low, high) = (int(ctx.vars["product_min"]), int(ctx.vars["product_max"]))
    rng = random.Random(7)
    now = datetime.now(UTC)
    stamp, hour = now.isoformat(), now.replace(minute=0, second=0, microsecond=0).isoformat()
    batches = [
        json.dumps(
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "view",
                    "product_id": rng.randint(low, high),
                    "occurred_at": stamp,
                    "bucket_hour": hour,
                    "position": i % 12,
                }
                for i in range(BATCH)
            ]
        )
        for _ in range(4000)
    ]
    statement = (
        f"INSERT INTO engagement_event ({', '.join(COLUMNS)}) "
        "SELECT event_id, type, product_id, NULL, %s, occurred_at, bucket_hour, now(), 'home', position, "
        "NULL, '' FROM json_to_recordset(%s::json) AS t(event_id uuid, type varchar, product_id bigint, "
        "occurred_at timestamptz, bucket_hour timestamptz, position smallint) "
        "ON CONFLICT (event_id) DO NOTHING"
    )
    rows = 0
    with psycopg.connect(ctx.database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.commit()
        started = time.perf_counter()
        for batch in batches:
            conn.execute(statement, [LOAD_MARK, batch], prepare=True)
            conn.commit()
            rows += BATCH
            if time.perf_counter() - started >= seconds:
                break
        elapsed = time.perf_counter() - started
    return {"rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed, 1)}


def _cleanup(ctx: Context) -> int:
    (deleted,) = ctx.sql(
        "WITH gone AS (DELETE FROM engagement_event WHERE anonymous_id = %s RETURNING 1) "
        "SELECT count(*) FROM gone",
        [LOAD_MARK],
    )[0]
    ctx.sql("VACUUM (ANALYZE) engagement_event")
    return int(deleted)


def measure_batches(ctx: Context) -> dict[str, Any]:
    http = ctx.wrk(
        HttpScenario(
            f"POST /events (batch of {BATCH})",
            "/api/v1/events",
            method="POST",
            headers={"Content-Type": "application/json"},
            lua="engagement_batch.lua",
            baseline="insert",
        )
    )
    ceiling = _raw_insert_ceiling(ctx, seconds=min(10.0, float(http["duration_s"])))
    events_per_s = round(http["rps"] * BATCH, 1)
    ratio = round(events_per_s / ceiling["rows_per_s"], 3) if ceiling["rows_per_s"] else 0.0
    clean = http["non2xx"] == 0 and http["socket_errors"] == 0
    deleted = _cleanup(ctx)
    notes = (
        f"{http['rps']} req/s × {BATCH}, p50 {http['p50_ms']} ms, p99 {http['p99_ms']} ms; ceiling "
        f"{ceiling['rows']} rows in {ceiling['seconds']} s on one connection; {deleted} load events removed"
    )
    if not clean:
        notes += f"; {http['non2xx']} non-2xx, {http['socket_errors']} socket errors"
    return {
        "value": events_per_s,
        "unit": "events/s",
        "baseline": ceiling["rows_per_s"],
        "ratio": ratio,
        "target": f">= {TARGET:g}",
        "ok": clean and ratio >= TARGET,
        "notes": notes,
        "http": http,
        "ceiling": ceiling,
    }


def measure_rollup(ctx: Context) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(ctx.database_url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(
            "SELECT product_id, bucket_hour, count(*) FILTER (WHERE type = 'view'), "
            "count(*) FILTER (WHERE type = 'click'), count(*) FILTER (WHERE type = 'add_to_cart'), "
            "count(*) FILTER (WHERE type = 'purchase') FROM engagement_event GROUP BY 1, 2"
        ).fetchall()
        group_by = time.perf_counter() - started
    started = time.perf_counter()
    out = ctx.manage("engagement_rollup").strip()
    full = time.perf_counter() - started
    started = time.perf_counter()
    ctx.manage("engagement_rollup")
    rerun = time.perf_counter() - started
    # An hourly run: 10k events arrive (some late, for earlier hours), then the rollup.
    products = [row[0] for row in ctx.sql("SELECT id FROM catalog_product ORDER BY id LIMIT 50000")]
    (offset,) = ctx.sql("SELECT coalesce(max(id), 0) FROM engagement_event")[0]
    ctx.copy("engagement_event", COLUMNS, event_rows(products, 10_000, now=datetime.now(UTC), seed=offset))
    started = time.perf_counter()
    hourly_out = ctx.manage("engagement_rollup").strip()
    hourly = time.perf_counter() - started
    (events,) = ctx.sql("SELECT count(*) FROM engagement_event")[0]
    return {
        "value": round(full, 2),
        "unit": "s",
        "baseline": round(group_by, 2),
        "ratio": round(group_by / full, 3) if full else 0.0,
        "target": "info",
        "ok": True,
        "notes": f"{events} events; {out}; rerun (nothing new) {rerun:.2f} s, then 10k new events "
        f"{hourly:.2f} s (both incl. manage.py start-up); ratio = bare hourly GROUP BY / full rollup",
        "rerun_seconds": round(rerun, 2),
        "hourly_10k_seconds": round(hourly, 2),
        "hourly_10k_output": hourly_out,
    }


SCENARIOS = [
    HttpScenario(
        "POST /events (single event)",
        "/api/v1/events",
        method="POST",
        headers={"Content-Type": "application/json"},
        lua="engagement_single.lua",
        baseline="constant",
        target_ratio=TARGET,
    ),
    CustomScenario(f"POST /events batches of {BATCH}: events/s vs raw INSERT loop", run=measure_batches),
    CustomScenario("engagement rollup over 1M events", run=measure_rollup),
]
