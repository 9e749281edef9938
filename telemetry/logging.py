"""Structured logs: JSON in production, readable in development, and inside a span every line
carries ``trace_id`` and ``span_id`` so a log line leads to its trace in Tempo.

Both structlog loggers and the standard library's (uvicorn, SQLAlchemy, Alembic) go through the
same processors.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from opentelemetry import trace


def add_trace_context(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Configure structlog and the root logger; calling it again reconfigures."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_context,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("bgw")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "bgw"] + [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # httpx logs every request URL at INFO, and some URLs carry credentials (a Telegram bot
    # token, a Slack webhook path). Client spans record requests, with those parts redacted.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(_level_number(level), logging.WARNING))


def _identity(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    return event


def _level_number(level: str | int) -> int:
    return level if isinstance(level, int) else logging.getLevelNamesMapping()[level.upper()]
