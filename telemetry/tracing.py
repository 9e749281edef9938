"""Spans for BGW's own work: ``traced`` as a decorator or a context manager, sync or async.

    from telemetry.tracing import AGENT_ID, traced

    @traced("agent.run")
    async def run(agent): ...

    with traced("agent.parse", {AGENT_ID: agent.id}) as span:
        span.set_attribute("bgw.items", len(items))

A span ends with status ERROR and the exception recorded when its body raises (the exception
still propagates). Span names are ``<area>.<step>``; the pipeline nests as
agent.run → agent.fetch → agent.parse → pipeline.match → pipeline.dedup → event.create →
rules.evaluate → notification.send, in one trace per run.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, overload

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

TRACER_NAME = "bgw"

# Attribute names: one spelling everywhere.
AGENT_ID = "bgw.agent.id"
STORE_ID = "bgw.store.id"
EVENT_KIND = "bgw.event.kind"
RULE_ID = "bgw.rule.id"
CHANNEL = "bgw.channel"

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACEPARENT = "traceparent"

P = ParamSpec("P")
R = TypeVar("R")

_tracer: Tracer = trace.NoOpTracer()


def bind_tracer_provider(provider: TracerProvider | None) -> None:
    """Send ``traced`` spans to ``provider`` (None: record none)."""
    global _tracer
    _tracer = provider.get_tracer(TRACER_NAME) if provider is not None else trace.NoOpTracer()


class traced:
    """Start a span named ``name``; usable as ``@traced(...)``, ``with`` or ``async with``."""

    def __init__(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue] | None = None,
        *,
        parent: str | None = None,
    ) -> None:
        self.name = name
        self.attributes = attributes
        # A W3C traceparent (see ``current_traceparent``): the span joins that trace, for work
        # done later, or elsewhere, on behalf of it.
        self.parent = parent
        self._stack: list[Any] = []

    @overload
    def __call__(self, function: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, function: Callable[P, Any]) -> Callable[P, Any]:
        name, attributes, parent = self.name, self.attributes, self.parent
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                with _span(name, attributes, parent):
                    return await function(*args, **kwargs)

            return async_wrapper

        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            with _span(name, attributes, parent):
                return function(*args, **kwargs)

        return wrapper

    def __enter__(self) -> Span:
        manager = _span(self.name, self.attributes, self.parent)
        self._stack.append(manager)
        return manager.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.pop().__exit__(*exc_info)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.__exit__(*exc_info)


@contextmanager
def _span(
    name: str, attributes: Mapping[str, AttributeValue] | None, parent: str | None = None
) -> Iterator[Span]:
    # The SDK would record the exception too; doing it here keeps one behaviour for every
    # tracer, and sets a description a person can read in Tempo.
    context = _PROPAGATOR.extract({_TRACEPARENT: parent}) if parent else None
    with _tracer.start_as_current_span(
        name,
        context=context,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, to store with work that continues later
    (``traced(..., parent=...)`` resumes the trace); None outside a valid span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(_TRACEPARENT)
