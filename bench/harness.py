"""Bench harness: production topology on loopback, wrk load, every scenario as a ratio to a baseline.

Read bench/README.md for the scenario contract. Entry point: `make bench` → bench/run.py → `main()`.

One run: make sure wrk is installed and PostgreSQL and Redis are up, import bench/scenarios/*.py, then for
each selected module, on its own:
  1. create a fresh database `shop_bench`, flush Redis db 15, migrate (settings config.settings.bench);
  2. call the module's `prepare(ctx)`;
  3. start gunicorn (2 sync workers, config/gunicorn.py) on 127.0.0.1:8001, plus a Celery worker when the
     module sets `NEEDS_WORKER = True`;
  4. settle the database (VACUUM ANALYZE, CHECKPOINT, autovacuum idle); in the first module measure the
     baselines ("constant" GET /api/v1/ping, "insert" POST /api/v1/_bench/insert);
  5. run its scenarios, each from a settled database, then stop its processes.
Finally print a table and save bench/results/<UTC timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import http.client
import importlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
SCENARIO_DIR = BENCH_DIR / "scenarios"
RESULTS_DIR = BENCH_DIR / "results"
WORK_DIR = ROOT / "var" / "bench"
VENV_BIN = Path(sys.executable).parent

HOST = "127.0.0.1"
PORT = 8001
PG_DSN = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "shop_bench"
DATABASE_URL = f"{PG_DSN}/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/15"
SETTINGS_MODULE = "config.settings.bench"

DEFAULT_DURATION = 10
DEFAULT_CONNECTIONS = 16
DEFAULT_THREADS = 2
DEFAULT_WARMUP = 2
DEFAULT_SLICES = 3
WEB_WORKERS = 2
# One bench at a time per machine: runs share the port, the database and the Redis db, and a second run
# would also steal the CPU the first one is measuring.
LOCK_FILE = Path("/tmp/shop-bench.lock")
LOCK_WAIT_SECONDS = 1800
LOG_TRUNCATE_BYTES = 64 * 1024 * 1024


# --- Scenario contract ------------------------------------------------------------------------------


@dataclass
class HttpScenario:
    """A wrk-driven HTTP scenario, reported as requests/s relative to a baseline of the same run."""

    name: str
    path: str
    method: str = "GET"
    body: Any = None  # str/bytes sent as is; dict/list sent as JSON
    auth: str | None = None  # None | "customer" | "staff" (JWT) | "session:customer" | "session:staff"
    headers: dict[str, str] = field(default_factory=dict)
    lua: str | None = None  # wrk Lua script, relative to bench/scenarios/ (or absolute)
    baseline: str = "constant"  # "constant" | "insert"
    target_ratio: float | None = None  # PASS needs ratio >= target_ratio (and no errors)
    duration: int | None = None
    connections: int | None = None
    module: str = field(default="", compare=False)


@dataclass
class CustomScenario:
    """A measurement that is not plain HTTP load; `run(ctx)` returns the result dict itself."""

    name: str
    run: Callable[[Context], dict[str, Any]]
    module: str = field(default="", compare=False)


Scenario = HttpScenario | CustomScenario


# --- Processes ---------------------------------------------------------------------------------------

_children: list[subprocess.Popen] = []


def _spawn(cmd: Sequence[str | os.PathLike], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a long-running child in its own process group so cleanup can stop all of its processes."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the child; append mode allows truncation
    proc = subprocess.Popen(
        [str(c) for c in cmd], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log_file = out  # type: ignore[attr-defined]
    _children.append(proc)
    return proc


def _stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    with contextlib.suppress(Exception):
        proc.log_file.close()  # type: ignore[attr-defined]


def cleanup() -> None:
    """Stop every process this run started (also on Ctrl-C, SIGTERM and errors)."""
    while _children:
        _stop(_children.pop())


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


# --- Context handed to scenario modules --------------------------------------------------------------


class BenchError(RuntimeError):
    pass


_BENCH_USER_CODE = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from rest_framework_simplejwt.tokens import RefreshToken

User = get_user_model()
user = User.objects.filter(email="{email}").first()
user = user or User.objects.create_user(email="{email}", first_name="Bench", last_name="{role}")
user.is_staff = user.is_superuser = {staff}
user.save()
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("USER_ID=" + str(user.pk))
print("TOKEN=" + str(RefreshToken.for_user(user).access_token))
print("SESSION=" + session.session_key)
"""


class Context:
    """What a scenario module gets: the bench database, manage.py, tokens, and the running service."""

    def __init__(self, env: dict[str, str], args: argparse.Namespace) -> None:
        self.env = env
        self.base_url = f"http://{HOST}:{PORT}"
        self.database_url = DATABASE_URL
        self.redis_url = REDIS_URL
        self.vars: dict[str, Any] = {}  # set in prepare(); fills `{name}` in paths and `bench.vars` in Lua
        self.args = args
        self.baselines: dict[str, dict[str, Any]] = {}  # filled once measured; custom scenarios may read it
        self._tokens: dict[str, str] = {}
        self._sessions: dict[str, str] = {}
        self._user_ids: dict[str, int] = {}
        # Every baseline measurement of the run, per (kind, connections), oldest first.
        self.baseline_runs: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def forget_users(self) -> None:
        """Drop the cached bench users' tokens and sessions (their database is gone)."""
        self._tokens.clear()
        self._sessions.clear()
        self._user_ids.clear()

    # data loading
    def manage(self, *args: str, input: str | None = None, timeout: float = 1800) -> str:
        """Run manage.py with the bench settings; return stdout, raise BenchError with stderr on failure."""
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout)[-3000:]
            raise BenchError(f"manage.py {' '.join(args)} exited {proc.returncode}:\n{tail}")
        return proc.stdout

    def settle(self, timeout: float = 120.0) -> float:
        """VACUUM (ANALYZE) and CHECKPOINT the bench database, then wait for autovacuum to go idle.

        Loading data and the write-heavy scenarios (scoring rewrites 50k rows, events load 1M) leave dead
        rows and dirty buffers whose autovacuum and checkpoint would otherwise run during, and be billed
        to, whichever scenario comes next. Returns the seconds spent.
        """
        started = time.monotonic()
        self.sql("VACUUM (ANALYZE)")
        self.sql("CHECKPOINT")
        while time.monotonic() - started < timeout:
            busy = self.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' "
                "AND datname = current_database()"
            )[0][0]
            if not busy:
                break
            time.sleep(0.5)
        return time.monotonic() - started

    def sql(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple]:
        """Run SQL on the bench database (autocommit); return the rows, if any."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-load rows with COPY (~190k rows/s); return how many were written."""
        import psycopg
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        count = 0
        with psycopg.connect(self.database_url) as conn, conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    # identities
    def _bench_user(self, role: str) -> None:
        if role not in ("customer", "staff"):
            raise BenchError(f"unknown bench role {role!r}: use 'customer' or 'staff'")
        staff = role == "staff"
        email = f"bench-{role}@example.com"
        code = _BENCH_USER_CODE.format(email=email, role=role, staff=staff)
        out = dict(
            line.split("=", 1) for line in self.manage("shell", "-c", code).splitlines() if "=" in line
        )
        self._user_ids[role] = int(out["USER_ID"])
        self._tokens[role] = out["TOKEN"]
        self._sessions[role] = out["SESSION"]

    def token(self, role: str) -> str:
        """JWT access token of the bench user for `role` ("customer" or "staff"; staff is a superuser)."""
        if role not in self._tokens:
            self._bench_user(role)
        return self._tokens[role]

    def session(self, role: str) -> str:
        """A logged-in session id (the admin's cookie) for the bench user of `role`."""
        if role not in self._sessions:
            self._bench_user(role)
        return self._sessions[role]

    def user_id(self, role: str) -> int:
        if role not in self._user_ids:
            self._bench_user(role)
        return self._user_ids[role]

    def auth_headers(self, auth: str | None) -> dict[str, str]:
        if not auth:
            return {}
        if auth.startswith("session:"):
            return {"Cookie": f"sessionid={self.session(auth.split(':', 1)[1])}"}
        return {"Authorization": f"Bearer {self.token(auth)}"}

    # requests
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        auth: str | None = None,
        timeout: float = 30,
        port: int = PORT,
    ) -> tuple[int, bytes, float]:
        """One request to the running service (or the server on `port`) → (status, body, seconds)."""
        data, content_type = _encode_body(body)
        all_headers = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
        all_headers.update(self.auth_headers(auth))
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        return response.status, payload, time.perf_counter() - started

    def wrk(
        self,
        scenario: HttpScenario,
        duration: int | None = None,
        connections: int | None = None,
        port: int = PORT,
    ) -> dict[str, Any]:
        """Drive `scenario` with wrk (after a warm-up) and return its measurement; `port` targets a server
        started with `ctx.server(...)` instead of the bench gunicorn."""
        return _measure(self, scenario, duration=duration, connections=connections, port=port)

    @contextlib.contextmanager
    def server(
        self, name: str, cmd: Sequence[str | os.PathLike], port: int, env: dict[str, str] | None = None
    ) -> Iterator[int]:
        """Run another server beside the bench gunicorn (an ASGI server, gunicorn with other settings …)
        on 127.0.0.1:`port` until the block ends; it must answer GET /health. Log: var/bench/<name>.log."""
        if not _port_free(port):
            raise BenchError(f"{HOST}:{port} is in use by another process")
        log = WORK_DIR / f"{name}.log"
        log.unlink(missing_ok=True)
        proc = _spawn(cmd, {**self.env, **(env or {})}, log)
        try:
            _wait_http("/health", proc, log, port=port)
            yield port
        finally:
            _stop(proc)
            _children.remove(proc)

    def baseline(self, kind: str, connections: int | None = None) -> dict[str, Any]:
        """The latest measurement of baseline `kind` at `connections` (measured now if there is none)."""
        key = (kind, connections or self.args.connections)
        if not self.baseline_runs.get(key):
            return self.measure_baseline(*key)
        return self.baseline_runs[key][-1]

    def measure_baseline(self, kind: str, connections: int) -> dict[str, Any]:
        """Measure baseline `kind` now and record it."""
        key = (kind, connections)
        runs = self.baseline_runs.setdefault(key, [])
        # The server is warm after the first baseline run; later ones need no warm-up of their own.
        result = _measure(self, BASELINES[kind], connections=connections, warmup=not runs)
        result["at"] = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
        runs.append(result)
        return result

    def measure_paired(
        self, scenario: HttpScenario, port: int = PORT
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Interleave the scenario with its baseline in short slices — B S B S B S B — and take the median of
        the slice ratios (each slice against the mean of the baseline slices around it). Load that other
        processes put on the machine changes within seconds; interleaving cancels most of it, the median
        drops a slice that still caught a jump. `port` sends the scenario (not the baseline) to a server
        started with `ctx.server(...)`. Returns (scenario measurement, baseline used, with "ratio")."""
        kind, conns = scenario.baseline, scenario.connections or self.args.connections
        duration = self.args.duration or scenario.duration or DEFAULT_DURATION
        slices = max(1, self.args.slices)
        slice_s = max(1, round(duration / slices))
        probe_status = _probe(self, scenario, port)
        if self.args.warmup:
            _run_wrk(self, scenario, self.args.warmup, conns, port)
        key = (kind, conns)
        before = self._baseline_slice(key, slice_s)  # after the warm-up, right before the first slice
        parts: list[dict[str, Any]] = []
        ratios: list[float] = []
        base_rps: list[float] = []
        for _ in range(slices):
            part = _run_wrk(self, scenario, slice_s, conns, port)
            after = self._baseline_slice(key, slice_s)
            mean = (before["rps"] + after["rps"]) / 2
            ratios.append(round(part["rps"] / mean, 3) if mean else 0.0)
            parts.append(part)
            base_rps.append(mean)
            before = after
        _truncate_logs()
        measured = _merge_runs(parts)
        measured["probe_status"] = probe_status
        return measured, {
            "kind": kind,
            "rps": round(statistics.median(base_rps), 1),
            "ratio": round(statistics.median(ratios), 3),
            "slice_ratios": ratios,
        }

    def _baseline_slice(self, key: tuple[str, int], seconds: int) -> dict[str, Any]:
        result = _run_wrk(self, BASELINES[key[0]], seconds, key[1])
        result["at"] = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
        self.baseline_runs.setdefault(key, []).append(result)
        return result


def _merge_runs(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One measurement out of consecutive wrk runs: totals add up, p50 is the median, p99 the worst."""
    requests = sum(p["requests"] for p in parts)
    seconds = sum(p["duration_s"] for p in parts)
    return {
        "requests": requests,
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(statistics.median(p["p50_ms"] for p in parts), 2),
        "p90_ms": round(statistics.median(p["p90_ms"] for p in parts), 2),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "mean_ms": round(sum(p["mean_ms"] * p["requests"] for p in parts) / requests, 2) if requests else 0.0,
        "max_ms": max(p["max_ms"] for p in parts),
        "non2xx": sum(p["non2xx"] for p in parts),
        "socket_errors": sum(p["socket_errors"] for p in parts),
        "duration_s": round(seconds, 2),
        "connections": parts[0]["connections"],
        "threads": parts[0]["threads"],
        "slices": [{"rps": p["rps"], "p50_ms": p["p50_ms"], "p99_ms": p["p99_ms"]} for p in parts],
    }


def _encode_body(body: Any) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, None
    if isinstance(body, bytes):
        return body, "application/json"
    if isinstance(body, str):
        return body.encode(), "application/json"
    return json.dumps(body, separators=(",", ":")).encode(), "application/json"


BASELINES: dict[str, HttpScenario] = {
    "constant": HttpScenario("baseline constant: GET /api/v1/ping", "/api/v1/ping", module="baseline"),
    "insert": HttpScenario(
        "baseline insert: POST /api/v1/_bench/insert",
        "/api/v1/_bench/insert",
        method="POST",
        body={"name": "bench", "value": 1},
        baseline="insert",
        module="baseline",
    ),
}


# --- wrk ---------------------------------------------------------------------------------------------

_REPORT_LUA = r"""
-- harness: one JSON line with the totals (wrk gives done() the merged statistics of all threads)
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"connect_errors\":%d," ..
    "\"read_errors\":%d,\"write_errors\":%d,\"non2xx\":%d,\"timeouts\":%d," ..
    "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"mean_us\":%.1f,\"max_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


def _lua_str(value: Any) -> str:
    out = []
    for ch in str(value):
        code = ord(ch)
        if ch in '\\"':
            out.append("\\" + ch)
        elif 32 <= code < 127:
            out.append(ch)
        else:
            out.extend(f"\\{b}" for b in ch.encode())
    return '"' + "".join(out) + '"'


def _format_path(path: str, ctx: Context) -> str:
    return path.format_map(ctx.vars) if "{" in path else path


def _lua_script(ctx: Context, scenario: HttpScenario, run_id: str) -> str:
    data, content_type = _encode_body(scenario.body)
    headers = {**({"Content-Type": content_type} if content_type else {}), **scenario.headers}
    headers.update(ctx.auth_headers(scenario.auth))
    lines = [
        "-- generated by bench/harness.py",
        f"bench = {{ run_id = {_lua_str(run_id)}, base_url = {_lua_str(ctx.base_url)}, vars = {{}} }}",
    ]
    lines += [f"bench.vars[{_lua_str(k)}] = {_lua_str(v)}" for k, v in ctx.vars.items()]
    lines.append(f"wrk.method = {_lua_str(scenario.method.upper())}")
    if data is not None:
        lines.append(f"wrk.body = {_lua_str(data.decode())}")
    lines += [f"wrk.headers[{_lua_str(k)}] = {_lua_str(v)}" for k, v in headers.items()]
    if scenario.lua:
        script = Path(scenario.lua)
        script = script if script.is_absolute() else SCENARIO_DIR / script
        lines += [f"-- scenario script {script.name}", script.read_text()]
    lines.append(_REPORT_LUA)
    return "\n".join(lines)


def _run_wrk(
    ctx: Context, scenario: HttpScenario, duration: int, connections: int, port: int = PORT
) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:12]
    script = WORK_DIR / f"wrk-{run_id}.lua"
    script.write_text(_lua_script(ctx, scenario, run_id))
    threads = max(1, min(ctx.args.threads, connections))
    url = f"http://{HOST}:{port}" + _format_path(scenario.path, ctx)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    finally:
        script.unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk exited {proc.returncode}: {(proc.stderr or proc.stdout)[-1500:]}")
    raw = json.loads(line[len("BENCH_JSON ") :])
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "mean_ms": round(raw["mean_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "non2xx": raw["non2xx"],  # wrk counts statuses >= 400; a probe request checks for 3xx first
        "socket_errors": raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"],
        "duration_s": round(seconds, 2),
        "connections": connections,
        "threads": threads,
    }


def _measure(
    ctx: Context,
    scenario: HttpScenario,
    duration: int | None = None,
    connections: int | None = None,
    warmup: bool = True,
    port: int = PORT,
) -> dict[str, Any]:
    duration = ctx.args.duration or duration or scenario.duration or DEFAULT_DURATION
    connections = connections or scenario.connections or ctx.args.connections
    probe_status = _probe(ctx, scenario, port)
    if warmup and ctx.args.warmup:
        _run_wrk(ctx, scenario, ctx.args.warmup, connections, port)
    result = _run_wrk(ctx, scenario, duration, connections, port)
    result["probe_status"] = probe_status
    _truncate_logs()
    return result


def _probe(ctx: Context, scenario: HttpScenario, port: int) -> int | None:
    """Send the scenario's request once by hand: a redirect or an error page would otherwise look fast.
    Skipped for Lua scenarios, whose requests differ from the static one."""
    if scenario.lua:
        return None
    path = _format_path(scenario.path, ctx)
    status, body, _ = ctx.request(
        scenario.method, path, scenario.body, scenario.headers, scenario.auth, port=port
    )
    if not 200 <= status < 300:
        text = body[:300].decode(errors="replace")
        raise BenchError(f"probe {scenario.method} {scenario.path} answered {status}: {text}")
    return status


def _truncate_logs() -> None:
    # Access logs are written as in production (one JSON line per request) but must not fill the disk.
    for proc in _children:
        log = getattr(proc, "log_file", None)
        if log is not None and not log.closed and os.fstat(log.fileno()).st_size > LOG_TRUNCATE_BYTES:
            os.truncate(log.fileno(), 0)


# --- Setup -------------------------------------------------------------------------------------------


def _run(cmd: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), check=False, capture_output=True, text=True, **kwargs)


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("wrk not found: installing it with apt-get", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if _run([*sudo, "apt-get", "install", "-y", "wrk"]).returncode != 0:
        _run([*sudo, "apt-get", "update"])
        proc = _run([*sudo, "apt-get", "install", "-y", "wrk"])
        if proc.returncode != 0:
            raise BenchError(f"could not install wrk: {proc.stderr[-800:]}")
    if not shutil.which("wrk"):
        raise BenchError("wrk is still not on PATH after apt-get install")


def _pg_up() -> bool:
    import psycopg

    try:
        psycopg.connect(f"{PG_DSN}/postgres", connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def ensure_services() -> None:
    """PostgreSQL on 127.0.0.1:5432 and Redis on 6379; start local installs if stopped (as .ci/run does)."""
    if not _pg_up() and shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
        for _ in range(30):
            if _pg_up():
                break
            time.sleep(1)
    if not _redis_up() and shutil.which("redis-server"):
        Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
        _run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", ""])
        for _ in range(30):
            if _redis_up():
                break
            time.sleep(1)
    if not _pg_up():
        raise BenchError("PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres")
    if not _redis_up():
        raise BenchError("Redis is not reachable at 127.0.0.1:6379")


def reset_stores() -> None:
    """A fresh `shop_bench` database and an empty Redis db 15: every run starts from the same state."""
    import psycopg
    import redis

    with psycopg.connect(f"{PG_DSN}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    redis.Redis.from_url(REDIS_URL).flushdb()


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        CELERY_RESULT_BACKEND=REDIS_URL,
        PROMETHEUS_MULTIPROC_DIR=str(WORK_DIR / "prometheus"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_http(
    url_path: str, proc: subprocess.Popen, log: Path, timeout: float = 60, port: int = PORT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"process exited {proc.returncode} at start; see {log}:\n{_tail(log)}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", url_path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.3)
    raise BenchError(f"service not ready within {timeout}s; see {log}:\n{_tail(log)}")


def _tail(path: Path, size: int = 2000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-size:]
    return ""


@contextlib.contextmanager
def machine_lock(wait: float = LOCK_WAIT_SECONDS):
    """Hold the machine-wide bench lock; wait (and say so) while another run holds it."""
    handle = open(LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        print(f"bench: another bench run holds {LOCK_FILE} (pid {holder}); waiting …", flush=True)

        def _give_up(signum: int, frame: Any) -> None:
            raise TimeoutError

        previous = signal.signal(signal.SIGALRM, _give_up)
        signal.alarm(int(wait))
        try:
            # Blocking, so waiting runs queue in the kernel rather than race each other by polling.
            fcntl.flock(handle, fcntl.LOCK_EX)
        except TimeoutError:
            handle.close()
            raise BenchError(f"another bench run kept {LOCK_FILE} for {wait:.0f}s") from None
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def start_web(env: dict[str, str]) -> None:
    if not _port_free(PORT):
        raise BenchError(f"{HOST}:{PORT} is in use by another process (see: ss -ltnp | grep {PORT})")
    log = WORK_DIR / "gunicorn.log"
    log.unlink(missing_ok=True)
    web_env = {**env, "GUNICORN_BIND": f"{HOST}:{PORT}", "WEB_CONCURRENCY": str(WEB_WORKERS)}
    proc = _spawn([VENV_BIN / "gunicorn", "config.wsgi", "-c", "config/gunicorn.py"], web_env, log)
    _wait_http("/health", proc, log)


def start_worker(env: dict[str, str]) -> None:
    log = WORK_DIR / "celery.log"
    log.unlink(missing_ok=True)
    cmd = [VENV_BIN / "celery", "-A", "config", "worker", "--concurrency", "1", "--loglevel", "INFO"]
    proc = _spawn(cmd, env, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"celery worker exited {proc.returncode}; see {log}:\n{_tail(log)}")
        if " ready." in _tail(log, 20000):
            return
        time.sleep(0.5)
    raise BenchError(f"celery worker not ready within 60s; see {log}")


# --- Scenario modules --------------------------------------------------------------------------------


@dataclass
class Module:
    name: str
    module: ModuleType | None
    scenarios: list[Scenario]
    error: str | None = None


def load_modules(only: str | None) -> tuple[list[Module], list[dict[str, Any]]]:
    """Import bench/scenarios/*.py; keep the scenarios whose "module name" matches `only`."""
    modules: list[Module] = []
    errors: list[dict[str, Any]] = []
    needles = [n.strip().lower() for n in (only or "").split(",") if n.strip()]

    def wanted(text: str) -> bool:
        return not needles or any(n in text.lower() for n in needles)

    for path in sorted(SCENARIO_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = path.stem
        try:
            module = importlib.import_module(f"bench.scenarios.{name}")
            scenarios = list(getattr(module, "SCENARIOS", []))
        except Exception:
            if wanted(name):
                errors.append({"module": name, "stage": "import", "error": traceback.format_exc(limit=5)})
            continue
        selected = []
        for scenario in scenarios:
            scenario.module = name
            if wanted(f"{name} {scenario.name}"):
                selected.append(scenario)
        if selected:
            modules.append(Module(name, module, selected))
    return modules, errors


# --- Reporting ---------------------------------------------------------------------------------------


def _http_row(scenario: HttpScenario, measured: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    ratio = base.get("ratio")
    if ratio is None:
        ratio = round(measured["rps"] / base["rps"], 3) if base["rps"] else 0.0
    clean = measured["non2xx"] == 0 and measured["socket_errors"] == 0
    ok = clean and (scenario.target_ratio is None or ratio >= scenario.target_ratio)
    notes = [] if clean else [f"{measured['non2xx']} non-2xx, {measured['socket_errors']} socket errors"]
    return {
        "module": scenario.module,
        "name": scenario.name,
        "kind": "http",
        "method": scenario.method,
        "path": scenario.path,
        "baseline": scenario.baseline,
        "baseline_rps": base["rps"],
        "slice_ratios": base.get("slice_ratios"),
        **measured,
        "value": measured["rps"],
        "unit": "req/s",
        "ratio": ratio,
        "target": f">= {scenario.target_ratio:g}" if scenario.target_ratio is not None else "clean",
        "ok": ok,
        "result": "PASS" if ok else "FAIL",
        "notes": "; ".join(notes),
    }


def _custom_row(scenario: CustomScenario, out: dict[str, Any]) -> dict[str, Any]:
    return {
        "module": scenario.module,
        "name": scenario.name,
        "kind": "custom",
        "value": out.get("value"),
        "unit": out.get("unit", ""),
        "baseline": out.get("baseline"),
        "ratio": out.get("ratio"),
        "target": out.get("target", ""),
        "ok": bool(out.get("ok")),
        "result": "PASS" if out.get("ok") else "FAIL",
        "notes": out.get("notes", ""),
        **{k: v for k, v in out.items() if k not in {"value", "unit", "baseline", "ratio", "target", "ok"}},
    }


def _error_row(module: str, name: str, stage: str, error: str) -> dict[str, Any]:
    return {
        "module": module,
        "name": name,
        "kind": "error",
        "stage": stage,
        "result": "ERROR",
        "ok": False,
        "error": error,
    }


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def format_table(report: dict[str, Any]) -> str:
    headers = ["scenario", "base", "value", "p50 ms", "p99 ms", "non-2xx", "ratio", "target", "result"]
    rows = []
    for kind, base in report["baselines"].items():
        if kind.startswith("_"):
            continue
        rows.append(
            [
                BASELINES[kind].name,
                "-",
                f"{_fmt(base['rps'])} req/s",
                _fmt(base["p50_ms"]),
                _fmt(base["p99_ms"]),
                _fmt(base["non2xx"]),
                "1.00",
                f"drift {base['drift_pct']:+.1f}%" if base.get("drift_pct") is not None else "-",
                "base",
            ]
        )
    for row in report["scenarios"]:
        if row["kind"] == "error":
            first = row["error"].strip().splitlines()[-1][:60]
            rows.append([f"{row['module']}: {row['name']}", "-", first, "", "", "", "", "", "ERROR"])
            continue
        rows.append(
            [
                row["name"],
                row.get("baseline") if row["kind"] == "http" else "-",
                f"{_fmt(row['value'])} {row['unit']}",
                _fmt(row.get("p50_ms")),
                _fmt(row.get("p99_ms")),
                _fmt(row.get("non2xx")),
                _fmt(row.get("ratio"), 3),
                row.get("target") or "-",
                row["result"],
            ]
        )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [" | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def _git_commit() -> str:
    proc = _run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT)
    return proc.stdout.strip() if proc.returncode == 0 else ""


# --- Main --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench BENCH_ARGS=…", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only scenarios whose '<module> <name>' contains this; a,b: either")
    parser.add_argument("--duration", type=int, help=f"seconds per wrk run (default {DEFAULT_DURATION})")
    parser.add_argument("--connections", type=int, default=DEFAULT_CONNECTIONS, help="wrk connections")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="wrk threads")
    parser.add_argument(
        "--warmup", type=int, default=DEFAULT_WARMUP, help="seconds of warm-up per run (0: none)"
    )
    parser.add_argument(
        "--slices",
        type=int,
        default=DEFAULT_SLICES,
        help=f"interleaved scenario/baseline slices per scenario (default {DEFAULT_SLICES})",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="compare with the baselines measured once at the start instead of around each scenario",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    return parser.parse_args(argv)


def _start_module(ctx: Context, m: Module, env: dict[str, str], rows: list[dict[str, Any]]) -> bool:
    """Stop the previous module's processes; fresh database and Redis db, migrate, prepare `m`, start the
    server (and a Celery worker if `m` needs one), settle. False when `prepare` failed (rows say why)."""
    cleanup()
    print(f"bench: {m.name}: fresh database {DB_NAME}, Redis db 15, migrate …", flush=True)
    reset_stores()
    ctx.forget_users()
    ctx.manage("migrate", "--noinput")
    prepare = getattr(m.module, "prepare", None)
    if prepare is not None:
        print(f"bench: prepare {m.name} …", flush=True)
        t0 = time.perf_counter()
        try:
            prepare(ctx)
        except Exception:
            error = traceback.format_exc(limit=8)
            rows.extend(_error_row(m.name, s.name, "prepare", error) for s in m.scenarios)
            print(f"bench: prepare {m.name} FAILED:\n{error}", flush=True)
            return False
        print(f"bench: prepared {m.name} in {time.perf_counter() - t0:.1f}s", flush=True)
    print(f"bench: starting gunicorn ({WEB_WORKERS} workers) on {ctx.base_url}", flush=True)
    start_web(env)
    if getattr(m.module, "NEEDS_WORKER", False):
        print("bench: starting a Celery worker", flush=True)
        start_worker(env)
    print(f"bench: settled the database in {ctx.settle():.1f}s", flush=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    signal.signal(signal.SIGTERM, _on_sigterm)
    modules, import_errors = load_modules(args.only)
    if args.list:
        for m in modules:
            for s in m.scenarios:
                kind = "http" if isinstance(s, HttpScenario) else "custom"
                print(f"{m.name:20} {kind:6} {s.name}")
        for e in import_errors:
            print(f"{e['module']:20} ERROR  {e['error'].strip().splitlines()[-1]}")
        return 0

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    started_at = dt.datetime.now(dt.UTC)
    env = bench_env()
    ctx = Context(env, args)
    rows: list[dict[str, Any]] = [
        _error_row(e["module"], "(import)", "import", e["error"]) for e in import_errors
    ]
    report: dict[str, Any] = {}
    lock = contextlib.ExitStack()
    try:
        ensure_wrk()
        lock.enter_context(machine_lock())
        started_at = dt.datetime.now(dt.UTC)
        ensure_services()
        for m in modules:
            # Each module gets a fresh database and server: its targets are stated for its own data (scoring
            # over 50k products, stock lists over 120k levels), not for every module's loaded at once.
            if not _start_module(ctx, m, env, rows):
                continue
            if not ctx.baselines:
                print("bench: baselines …", flush=True)
                for kind in BASELINES:
                    ctx.baselines[kind] = ctx.measure_baseline(kind, args.connections)
            for i, s in enumerate(m.scenarios):
                if i:  # what the previous scenario wrote is not billed to this one
                    print(f"bench: settled the database in {ctx.settle():.1f}s", flush=True)
                print(f"bench: {m.name}: {s.name} …", flush=True)
                try:
                    if isinstance(s, HttpScenario) and not args.fast:
                        rows.append(_http_row(s, *ctx.measure_paired(s)))
                    elif isinstance(s, HttpScenario):
                        measured = ctx.wrk(s)
                        rows.append(_http_row(s, measured, ctx.baseline(s.baseline, measured["connections"])))
                    else:
                        rows.append(_custom_row(s, s.run(ctx)))
                except Exception:
                    rows.append(_error_row(m.name, s.name, "run", traceback.format_exc(limit=8)))
                print(f"bench:   → {_short(rows[-1])}", flush=True)

        if args.fast:
            print("bench: baselines again (drift) …", flush=True)
            for kind in BASELINES:
                ctx.measure_baseline(kind, args.connections)
        baselines = _baseline_summary(ctx)
        report = _report(args, started_at, baselines, rows)
    except KeyboardInterrupt:
        print("\nbench: interrupted; stopping processes", flush=True)
        return 130
    except BenchError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        cleanup()
        lock.close()

    print()
    print(format_table(report))
    if not args.no_save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        target = RESULTS_DIR / f"{started_at:%Y%m%dT%H%M%SZ}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
        tmp.rename(target)
        print(f"\nsaved {target.relative_to(ROOT)}")
    failed = [r for r in report["scenarios"] if not r["ok"]]
    if failed:
        print(f"{len(failed)} scenario(s) did not pass: " + ", ".join(r["name"] for r in failed))
    return 1 if failed else 0


def _short(row: dict[str, Any]) -> str:
    if row["kind"] == "error":
        return "ERROR " + row["error"].strip().splitlines()[-1][:200]
    ratio = row.get("ratio")
    return (
        f"{_fmt(row['value'])} {row['unit']}, ratio {_fmt(ratio, 3)} {row['result']} {row.get('notes') or ''}"
    )


def _baseline_summary(ctx: Context) -> dict[str, Any]:
    """First measurement of each baseline at the default connection count, with every later run and the
    drift from the first to the last (how much the machine's speed moved during the run)."""
    summary: dict[str, Any] = {}
    for kind in BASELINES:
        runs = ctx.baseline_runs.get((kind, ctx.args.connections), [])
        if not runs:
            continue
        first, last = runs[0], runs[-1]
        drift = (last["rps"] - first["rps"]) / first["rps"] * 100 if first["rps"] and len(runs) > 1 else None
        summary[kind] = {
            **first,
            "runs": [{"at": r["at"], "rps": r["rps"], "p50_ms": r["p50_ms"]} for r in runs],
            "drift_pct": round(drift, 1) if drift is not None else None,
        }
    extra = {f"{k}@{c}": runs for (k, c), runs in ctx.baseline_runs.items() if c != ctx.args.connections}
    if extra:
        summary["_other_connection_counts"] = extra
    return summary


def _report(
    args: argparse.Namespace, started_at: dt.datetime, baselines: dict[str, Any], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "started_at": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_at_end": os.getloadavg(),
        },
        "topology": {
            "server": f"gunicorn config.wsgi, {WEB_WORKERS} sync workers, {HOST}:{PORT}",
            "settings": SETTINGS_MODULE,
            "database": DATABASE_URL,
            "redis": REDIS_URL,
        },
        "options": {
            "only": args.only,
            "duration_s": args.duration or DEFAULT_DURATION,
            "connections": args.connections,
            "threads": args.threads,
            "warmup_s": args.warmup,
            "paired_baselines": not args.fast,
            "slices": args.slices,
        },
        "baselines": baselines,
        "scenarios": rows,
        "table": format_table({"baselines": baselines, "scenarios": rows}).splitlines(),
    }


__all__ = ["BASELINES", "Context", "CustomScenario", "HttpScenario", "main"]
