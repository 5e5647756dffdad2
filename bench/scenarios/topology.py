"""The deployment decisions, re-measured: WSGI vs ASGI for HTTP, persistent vs per-request DB connections.

docs/operations.md explains the split (gunicorn for HTTP, uvicorn only for WebSockets) and CONN_MAX_AGE with
numbers; these scenarios check that they still hold for the current code. Each starts a second server on
127.0.0.1:8002 beside the bench gunicorn, measures it with wrk, and compares it with the baseline measured
by the bench gunicorn just before.
"""

from typing import Any

from bench.harness import BASELINES, VENV_BIN, Context, CustomScenario

PORT = 8002


def _compare(ctx: Context, kind: str, name: str, cmd: list, env: dict[str, str], why: str) -> dict[str, Any]:
    with ctx.server(name, cmd, PORT, env) as port:
        # The same request, interleaved: the alternative server on :8002, the bench gunicorn on :8001.
        measured, base = ctx.measure_paired(BASELINES[kind], port=port)
    ratio = base["ratio"]
    clean = measured["non2xx"] == 0 and measured["socket_errors"] == 0
    return {
        "value": measured["rps"],
        "unit": "req/s",
        "baseline": base["rps"],
        "ratio": ratio,
        # The decision stands while the alternative is slower than what we deploy.
        "target": "< 1 (decision holds)",
        "ok": clean and ratio < 1,
        "notes": why,
        "p50_ms": measured["p50_ms"],
        "p99_ms": measured["p99_ms"],
        "non2xx": measured["non2xx"],
        "slice_ratios": base["slice_ratios"],
        "measured": measured,
    }


def asgi_http(ctx: Context) -> dict[str, Any]:
    """GET /api/v1/ping through uvicorn (ASGI, 2 workers) against the same through gunicorn."""
    cmd = [
        VENV_BIN / "uvicorn",
        "config.asgi:application",
        "--host=127.0.0.1",
        f"--port={PORT}",
        "--workers=2",
        "--lifespan=off",
        "--no-access-log",  # Django writes the access log in both servers
    ]
    return _compare(ctx, "constant", "uvicorn", cmd, {}, "HTTP under ASGI vs gunicorn sync workers")


def no_persistent_connections(ctx: Context) -> dict[str, Any]:
    """The insert baseline with CONN_MAX_AGE=0 (a new PostgreSQL connection per request)."""
    cmd = [VENV_BIN / "gunicorn", "config.wsgi", "-c", "config/gunicorn.py"]
    env = {
        "GUNICORN_BIND": f"127.0.0.1:{PORT}",
        "WEB_CONCURRENCY": "2",
        "DJANGO_CONN_MAX_AGE": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(ctx.env["PROMETHEUS_MULTIPROC_DIR"]) + "-conn0",
    }
    return _compare(ctx, "insert", "gunicorn-conn0", cmd, env, "insert with CONN_MAX_AGE=0 vs 300")


SCENARIOS = [
    CustomScenario("ASGI: GET /api/v1/ping under uvicorn", asgi_http),
    CustomScenario("CONN_MAX_AGE=0: POST insert", no_persistent_connections),
]
