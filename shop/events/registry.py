"""Subscribers per event name; apps register theirs in AppConfig.ready (handlers.py)."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], None]

_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler | None = None) -> Any:
    """Register `handler` for event `name` ("*" for every event); usable as a decorator."""

    def register(fn: Handler) -> Handler:
        if fn not in _subscribers[name]:
            _subscribers[name].append(fn)
        return fn

    return register(handler) if handler is not None else register


def handlers_for(name: str) -> list[Handler]:
    return [*_subscribers.get(name, []), *_subscribers.get("*", [])]


def handler_id(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"
