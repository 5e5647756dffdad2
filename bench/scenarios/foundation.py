"""Foundation scenarios: liveness and the authenticated "who am I" read."""

from bench.harness import Context, HttpScenario


def prepare(ctx: Context) -> None:
    ctx.token("customer")  # creates the bench customer before the server starts


SCENARIOS = [
    # A plain Django view, no DRF, no database: at least as fast as the DRF ping.
    HttpScenario("GET /health", "/health", target_ratio=0.9),
    # JWT signature check, one user lookup by primary key (plus the connection health check that
    # CONN_HEALTH_CHECKS runs once per request), a ModelSerializer: budget about three pings.
    HttpScenario("GET /api/v1/me (JWT)", "/api/v1/me", auth="customer", target_ratio=0.3),
]
