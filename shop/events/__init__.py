"""Domain event bus with a transactional outbox (DESIGN.md §4).

from shop.events import publish, subscribe
publish("order_paid", {"order_id": str(order.id)})   # inside the service's transaction

@subscribe("order_paid")                             # in an app's handlers.py
def award_points(event): ...
"""

from shop.db import WriteBatch

from .registry import subscribe


def publish(name: str, payload: dict, *, batch: WriteBatch | None = None) -> object:
    from .dispatch import publish as _publish

    return _publish(name, payload, batch=batch)


__all__ = ["publish", "subscribe"]
