"""Structured logs through structlog: JSON in production, readable in local development."""

import hashlib
import hmac
import logging
from typing import Any

import structlog
from django.conf import settings

from .context import current_request_id


def hash_user_id(user_id: object) -> str:
    """Keyed HMAC of a user id: logs can correlate a user's requests without identifying them."""
    key = settings.LOG_HASH_KEY.encode()
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]


def _add_request_id(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = current_request_id()
    if request_id and "request_id" not in event:
        event["request_id"] = request_id
    return event


_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _add_request_id,
]

structlog.configure(
    processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


def formatter_factory() -> logging.Formatter:
    """Formatter for the stdlib root handler, so Django's and Celery's logs share the format."""
    renderer = (
        structlog.processors.JSONRenderer()
        if getattr(settings, "LOG_JSON", True)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
