"""Foundation scenarios: liveness and the authenticated "who am I" read."""

from bench.harness import Context, HttpScenario


def prepare(ctx: Context) -> None:
    ctx.token("customer")  # creates the bench customer before the server starts


SCENARIOS = [
    # Plain Django view, no DRF, no database: should be at least as fast as the DRF ping.
    HttpScenario("GET /health", "/health", target_ratio=0.9),
    # JWT decode + one indexed user lookup + serializer.
    HttpScenario("GET /api/v1/me (JWT)", "/api/v1/me", auth="customer", target_ratio=0.5),
]
