"""The one catalog of BGW instruments.

Every BGW metric is declared here once: its exposed Prometheus name (the contract that dashboards
and alert rules use), kind, unit, description and label set. Business code imports an instrument
and records on it; nobody else creates a meter::

    from telemetry.instruments import AGENT_RUNS

    AGENT_RUNS.add(1, {"agent_id": agent.id, "status": "success"})

Instruments are bound to a MeterProvider by :func:`bind_catalog` (``setup_telemetry`` does it);
until then they record nothing. Rebinding to a fresh provider is how a development reset starts
every counter from zero.

Naming: the OpenTelemetry instrument name is the Prometheus name without ``_total`` (exporters add
it to counters). Units that would add a suffix the contract does not have are written as UCUM
annotations in braces (``{run}``, ``{percent}``), which both the Python bridge and the collector
drop from the name; durations are in seconds (``s``) and their names already end in ``_seconds``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, NoOpMeter, Observation

METER_NAME = "bgw"

Attributes = Mapping[str, str]


class Kind(StrEnum):
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    GAUGE = "gauge"


# Seconds, from 5 ms to 10 s: where API latencies live (the SDK's defaults are milliseconds).
API_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds, from 0.5 s to 20 min: an agent run fetches pages politely, often for minutes.
AGENT_DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0)

HEALTH_COMPONENTS = ("database", "redis", "ollama", "otlp_export", "scheduler")
CHANNELS = ("telegram", "slack", "email", "webhook")
AGENT_RUN_STATUSES = ("started", "success", "error", "skipped")
LLM_RESULTS = {
    "ok": ("extracted",),
    "fail": ("timeout", "connection", "http_status", "bad_response"),
}


@dataclass(eq=False)
class Instrument:
    """A catalog entry. ``name`` is the exposed Prometheus name."""

    kind: ClassVar[Kind]

    name: str
    unit: str
    description: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] | None = None
    # Label sets recorded as 0 when bound, so a series exists before its first event
    # (a rate over a missing series is no rate at all).
    initial: tuple[Attributes, ...] = ()

    @property
    def otel_name(self) -> str:
        return self.name.removesuffix("_total") if self.kind is Kind.COUNTER else self.name

    def bind(self, meter: Meter) -> None:
        raise NotImplementedError


@dataclass(eq=False)
class Counter(Instrument):
    kind: ClassVar[Kind] = Kind.COUNTER
    _counter: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.bind(NoOpMeter(METER_NAME))

    def bind(self, meter: Meter) -> None:
        self._counter = meter.create_counter(self.otel_name, self.unit, self.description)
        for attributes in self.initial:
            self._counter.add(0, attributes)

    def add(self, amount: float = 1, attributes: Attributes | None = None) -> None:
        self._counter.add(amount, attributes)


@dataclass(eq=False)
class Histogram(Instrument):
    kind: ClassVar[Kind] = Kind.HISTOGRAM
    _histogram: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.bind(NoOpMeter(METER_NAME))

    def bind(self, meter: Meter) -> None:
        self._histogram = meter.create_histogram(
            self.otel_name,
            self.unit,
            self.description,
            explicit_bucket_boundaries_advisory=list(self.buckets or ()),
        )

    def record(self, value: float, attributes: Attributes | None = None) -> None:
        self._histogram.record(value, attributes)


@dataclass(eq=False)
class TalliedCounter(Counter):
    """A counter for the hottest path: ``add`` bumps a plain in-process tally (≈ 0.5 µs), and
    an observable counter reports the tallies at each collection. Exposed exactly like a
    :class:`Counter` (a cumulative monotonic sum, ``_total`` in Prometheus); binding to a new
    provider starts the tallies again from zero, as a new counter would."""

    _tallies: dict[tuple[str, ...], float] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def bind(self, meter: Meter) -> None:
        with self._lock:
            self._tallies = {self._key(attributes): 0.0 for attributes in self.initial}
        meter.create_observable_counter(
            self.otel_name, [self._observe], self.unit, self.description
        )

    def add(self, amount: float = 1, attributes: Attributes | None = None) -> None:
        key = self._key(attributes)
        with self._lock:
            self._tallies[key] = self._tallies.get(key, 0.0) + amount

    def _key(self, attributes: Attributes | None) -> tuple[str, ...]:
        attributes = attributes or {}
        return tuple(attributes.get(label, "") for label in self.labels)

    def _observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            tallies = list(self._tallies.items())
        return [
            Observation(value, dict(zip(self.labels, key, strict=True))) for key, value in tallies
        ]


GaugeSource = Callable[[], Iterable[tuple[float, Attributes]]]


@dataclass(eq=False)
class Gauge(Instrument):
    """An observable gauge: reports, at each collection, the values last ``set`` (or what its
    ``source`` returns). ``replace`` swaps the whole label set, so a deleted agent's series
    disappears instead of lingering at its last value."""

    kind: ClassVar[Kind] = Kind.GAUGE
    _values: dict[tuple[tuple[str, str], ...], float] = field(
        default_factory=dict, init=False, repr=False
    )
    _source: GaugeSource | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def bind(self, meter: Meter) -> None:
        meter.create_observable_gauge(self.otel_name, [self._observe], self.unit, self.description)

    def set(self, value: float, attributes: Attributes | None = None) -> None:
        with self._lock:
            self._values[_key(attributes)] = value

    def replace(self, values: Iterable[tuple[float, Attributes]]) -> None:
        fresh = {_key(attributes): value for value, attributes in values}
        with self._lock:
            self._values = fresh

    def clear(self) -> None:
        with self._lock:
            self._values = {}

    def observe_with(self, source: GaugeSource | None) -> None:
        """Read values from ``source`` at collection time (None: back to ``set`` values)."""
        self._source = source

    def value(self, attributes: Attributes | None = None) -> float | None:
        """The current value for a label set (what the next collection reports)."""
        for observed, observed_attributes in self._current():
            if dict(observed_attributes) == dict(attributes or {}):
                return observed
        return None

    def _current(self) -> list[tuple[float, Attributes]]:
        if self._source is not None:
            return list(self._source())
        with self._lock:
            return [(value, dict(key)) for key, value in self._values.items()]

    def _observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, attributes) for value, attributes in self._current()]


def _key(attributes: Attributes | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((attributes or {}).items()))


# --- Agents -----------------------------------------------------------------------------------

ACTIVE_AGENTS = Gauge("active_agents", unit="{agent}", description="Enabled agents.")
AGENT_RUNS = Counter(
    "agent_runs_total",
    unit="{run}",
    description="Agent runs: counted once when started and once with their final status.",
    labels=("agent_id", "status"),
)
AGENT_PAGES_FETCHED = Counter(
    "agent_pages_fetched_total",
    unit="{page}",
    description="Pages fetched by agents.",
    labels=("agent_id",),
)
AGENT_DURATION = Histogram(
    "agent_duration_seconds",
    unit="s",
    description="Duration of an agent run.",
    labels=("agent_id",),
    buckets=AGENT_DURATION_BUCKETS,
)
DAILY_PAGES_USED = Gauge(
    "daily_pages_used", unit="{page}", description="Pages fetched today by all agents."
)
DAILY_PAGES_CAP = Gauge(
    "daily_pages_cap", unit="{page}", description="Global cap on pages fetched per day."
)
AGENT_DAILY_PAGES_USED = Gauge(
    "agent_daily_pages_used",
    unit="{page}",
    description="Pages fetched today by each agent.",
    labels=("agent_id",),
)
AGENT_DAILY_PAGES_CAP = Gauge(
    "agent_daily_pages_cap",
    unit="{page}",
    description="Each agent's cap on pages fetched per day.",
    labels=("agent_id",),
)

# --- Events, rules, notifications -------------------------------------------------------------

EVENTS_CREATED = Counter(
    "events_created_total",
    unit="{event}",
    description="New listing events (repeats merged into an existing event are not counted).",
    labels=("event_type", "store_id"),
)
NOTIFICATIONS_SENT = Counter(
    "notifications_sent_total",
    unit="{notification}",
    description="Notification send attempts, by channel and outcome.",
    labels=("channel", "status"),
    initial=tuple(
        {"channel": channel, "status": status}
        for channel in CHANNELS
        for status in ("success", "error")
    ),
)
NOTIFICATIONS_DELIVERED = Counter(
    "notifications_delivered_total",
    unit="{notification}",
    description="Notifications whose delivery the provider confirmed.",
    labels=("channel",),
    initial=tuple({"channel": channel} for channel in CHANNELS),
)
RULES_ACTIVE = Gauge("rules_active", unit="{rule}", description="Enabled alert rules.")

# --- API --------------------------------------------------------------------------------------

# Counted on every request: a tally read at collection keeps it off the SDK's per-request path.
API_REQUESTS = TalliedCounter(
    "api_requests_total",
    unit="{request}",
    description="API requests; endpoint is the route template, or 'unmatched'.",
    labels=("method", "endpoint", "status"),
)
API_RESPONSE_TIME = Histogram(
    "api_response_time_seconds",
    unit="s",
    description="API response time, from request start to the end of the response.",
    labels=("method", "endpoint", "status"),
    buckets=API_LATENCY_BUCKETS,
)

# --- System -----------------------------------------------------------------------------------

SYSTEM_HEALTH = Gauge(
    "system_health",
    unit="{health}",
    description="1 when healthy, 0 when a critical component is down.",
)
COMPONENT_HEALTH = Gauge(
    "component_health",
    unit="{health}",
    description="1 when the component answers its check, 0 when it does not.",
    labels=("component",),
)
DATABASE_CONNECTIONS_ACTIVE = Gauge(
    "database_connections_active",
    unit="{connection}",
    description="Connections checked out of the SQLAlchemy pool.",
)
REDIS_CONNECTIONS_ACTIVE = Gauge(
    "redis_connections_active",
    unit="{connection}",
    description="Connections in use in the Redis pool (0 without Redis).",
)

# --- Quality, derived from the last 24 hours --------------------------------------------------

SCRAPING_SUCCESS_RATE = Gauge(
    "scraping_success_rate",
    unit="{percent}",
    description="Percentage (0-100) of page fetches that succeeded over the last 24 h.",
)
DATA_QUALITY_SCORE = Gauge(
    "data_quality_score",
    unit="{ratio}",
    description="Share (0-1) of parsed drafts with valid title, price and URL over the last 24 h.",
)
STORE_COVERAGE = Gauge(
    "store_coverage",
    unit="{ratio}",
    description="Share (0-1) of stores with an enabled agent that ran successfully in 24 h.",
)
EVENT_DEDUP_RATIO = Gauge(
    "event_dedup_ratio",
    unit="{ratio}",
    description="Share (0-1) of drafts merged into an existing event over the last 24 h.",
)
LLM_CALLS = Counter(
    "llm_calls_total",
    unit="{call}",
    description="Ollama extraction calls, by result and reason.",
    labels=("result", "reason"),
    initial=tuple(
        {"result": result, "reason": reason}
        for result, reasons in LLM_RESULTS.items()
        for reason in reasons
    ),
)

CATALOG: tuple[Instrument, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Instrument)
)


def bind_catalog(meter_provider: MeterProvider) -> None:
    """Create every catalog instrument on ``meter_provider``; records go there from now on."""
    meter = meter_provider.get_meter(METER_NAME)
    for instrument in CATALOG:
        instrument.bind(meter)


def unbind_catalog() -> None:
    """Back to recording nothing (gauge values are kept for the next binding)."""
    meter = NoOpMeter(METER_NAME)
    for instrument in CATALOG:
        instrument.bind(meter)
