"""End to end through the real collector: BGW exports OTLP/HTTP to otelcol-bgw running this
repository's otel-collector.yaml; Prometheus scrapes the collector's exporter; the collector
sends traces on to a stand-in Tempo over OTLP/gRPC.

Proved here: the catalog's metrics arrive with the names and label sets of the direct bridge
(the differences listed in ``PATH_DIFFERENCES``), the latency histogram carries exemplars that
name exported traces, an API request and an agent run arrive as complete traces, and an outage
of the collector costs the service nothing but telemetry, which resumes when it is back.
"""

from __future__ import annotations

import json
import re
import secrets
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from prometheus_client.parser import text_string_to_metric_families

from telemetry.instruments import CATALOG, Kind
from tests.collector.conftest import AGENT_ID, Stack
from tests.collector.stack import Span, eventually

SERVER = SpanProto.SPAN_KIND_SERVER
CLIENT = SpanProto.SPAN_KIND_CLIENT
STATUS_ERROR = 2

# What differs between the direct bridge (/api/metrics/prometheus, scraped as job bgw-api) and
# the collector path, for the same process. Everything else must be identical.
PATH_DIFFERENCES = {
    # The collector's exporter sets job and instance from the resource on every series
    # (Prometheus keeps them with honor_labels: true); the bridge has neither, Prometheus adds
    # job="bgw-api" and instance="host:port" from the scrape config.
    "job": "service.namespace/service.name, e.g. bgw/bgw",
    "instance": "service.instance.id",
    # target_info: the three resource attributes that became job/instance leave its labels.
    "target_info": "without service_name, service_namespace, service_instance_id",
}

# The lead adds these to the agent-run trace (rules fired by the run's events, and the
# notification the dispatcher sends later, parented to the rule's span through the outbox).
RULES_AND_NOTIFICATION_SPANS = True


def _traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


def _series_key(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    # The bridge writes le as "1.0", the collector as well; normalise anyway (a float is a float).
    return frozenset(
        (name, repr(float(value)) if name == "le" else value) for name, value in labels.items()
    )


def bridge_series(stack: Stack) -> dict[str, set[frozenset[tuple[str, str]]]]:
    text = stack.http.get("/api/metrics/prometheus").text
    series: dict[str, set[frozenset[tuple[str, str]]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            series.setdefault(sample.name, set()).add(_series_key(dict(sample.labels)))
    return series


def collector_series(
    stack: Stack, job: str, instance: str
) -> dict[str, set[frozenset[tuple[str, str]]]]:
    series: dict[str, set[frozenset[tuple[str, str]]]] = {}
    for result in stack.prometheus.query(f'{{job="{job}"}}'):
        labels = dict(result["metric"])
        name = labels.pop("__name__")
        assert labels.pop("job") == job
        assert labels.pop("instance") == instance, (name, instance)
        series.setdefault(name, set()).add(_series_key(labels))
    return series


def _instance_id(bridge: dict[str, set[frozenset[tuple[str, str]]]]) -> str:
    (target,) = bridge["target_info"]
    return dict(target)["service_instance_id"]


def _traffic(stack: Stack, count: int = 10) -> None:
    for _ in range(count):
        assert stack.http.get("/api/games").status_code == 200
        assert stack.http.get("/api/stores/hobbygames").status_code == 200
    assert stack.http.get("/api/games/999999").status_code == 404
    assert stack.http.get("/no/such/route").status_code == 404


def test_catalog_metrics_arrive_with_the_bridge_names_and_labels(stack: Stack) -> None:
    _traffic(stack)
    differences: dict[str, Any] = {}

    def same() -> bool:
        bridge = bridge_series(stack)
        instance = _instance_id(bridge)
        via_collector = collector_series(stack, "bgw/bgw", instance)
        # Listed differences, checked exactly, then removed.
        (target,) = bridge.pop("target_info")
        (collected_target,) = via_collector.pop("target_info", {frozenset()})
        moved = {"service_name", "service_namespace", "service_instance_id"}
        expected_target = frozenset(item for item in target if item[0] not in moved)
        differences.clear()
        if collected_target != expected_target:
            differences["target_info"] = (sorted(collected_target), sorted(expected_target))
        for name in bridge.keys() | via_collector.keys():
            if bridge.get(name) != via_collector.get(name):
                differences[name] = {
                    "only on the bridge": sorted(
                        map(sorted, bridge.get(name, set()) - via_collector.get(name, set()))
                    ),
                    "only via the collector": sorted(
                        map(sorted, via_collector.get(name, set()) - bridge.get(name, set()))
                    ),
                }
        return not differences

    # The bridge is read now, the collector path a metric export (1 s), a batch (1 s) and a
    # scrape (1 s) later: compare until both have settled on the same series.
    deadline = time.monotonic() + 30
    while not same():
        assert time.monotonic() < deadline, json.dumps(differences, indent=1, default=str)[:6000]
        time.sleep(1)

    # Every catalog metric is there (the workload produces all of them), under its exposed name.
    names = bridge_series(stack).keys()
    for instrument in CATALOG:
        exposed = (
            f"{instrument.name}_bucket" if instrument.kind is Kind.HISTOGRAM else instrument.name
        )
        assert exposed in names, f"{instrument.name} is not exposed"
    # `{ratio}` and `{percent}` are annotations: no `_ratio`/`_percent` suffix on the collector
    # path (a unit of `1` would have become `_ratio`).
    for name in ("data_quality_score", "store_coverage", "event_dedup_ratio"):
        assert stack.prometheus.query(f'{name}{{job="bgw/bgw"}}'), name
        assert not stack.prometheus.query(f'{{__name__="{name}_ratio"}}'), name
    assert stack.prometheus.query('scraping_success_rate{job="bgw/bgw"}')


def test_latency_buckets_carry_exemplars_that_name_exported_traces(stack: Stack) -> None:
    started = time.time() - 1
    _traffic(stack)

    def exemplars() -> list[dict[str, Any]]:
        data = stack.prometheus.api(
            "query_exemplars",
            query='api_response_time_seconds_bucket{job="bgw/bgw"}',
            start=started,
            end=time.time() + 1,
        )
        return [exemplar for series in data for exemplar in series["exemplars"]]

    found = eventually(exemplars, 30, "exemplars on api_response_time_seconds_bucket")
    for exemplar in found:
        assert re.fullmatch(r"[0-9a-f]{32}", exemplar["labels"]["trace_id"]), exemplar
        assert re.fullmatch(r"[0-9a-f]{16}", exemplar["labels"]["span_id"]), exemplar
    # Each exemplar leads to a trace Tempo received, to the request's server span.
    wanted = {(e["labels"]["trace_id"], e["labels"]["span_id"]) for e in found}

    def linked() -> set[tuple[str, str]]:
        return {
            (span.trace_id, span.span_id)
            for span in stack.tempo.spans()
            if (span.trace_id, span.span_id) in wanted
        }

    eventually(lambda: linked() == wanted, 30, "the exemplars' traces at Tempo")
    for span in stack.tempo.spans():
        if (span.trace_id, span.span_id) in wanted:
            assert span.kind == SERVER, span


def _children(spans: list[Span], parent: Span) -> list[Span]:
    return [span for span in spans if span.parent_id == parent.span_id]


def _ancestors(spans: list[Span], span: Span) -> list[str]:
    by_id = {s.span_id: s for s in spans}
    names = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        names.append(span.name)
    return names


def test_an_api_request_is_one_trace_with_database_and_redis_spans(stack: Stack) -> None:
    trace_id, remote_parent, traceparent = _traceparent()
    response = stack.http.post(f"/api/agents/{AGENT_ID}/run", headers={"traceparent": traceparent})
    assert response.status_code == 202, response.text

    def server_span() -> Span | None:
        return next((s for s in stack.tempo.spans(trace_id) if s.kind == SERVER), None)

    server = eventually(server_span, 30, "the request's server span at Tempo")
    assert server.name == "POST /api/agents/{agent_id}/run"
    assert server.parent_id == remote_parent  # the caller's context was honoured
    assert server.service == "bgw"

    def db_and_redis() -> tuple[list[Span], list[Span]] | None:
        spans = stack.tempo.spans(trace_id)
        below = [s for s in spans if s.kind == CLIENT and server.name in _ancestors(spans, s)]
        database = [s for s in below if _db_system(s) == "sqlite"]
        redis = [s for s in below if _db_system(s) == "redis"]
        return (database, redis) if database and redis else None

    database, redis = eventually(db_and_redis, 30, "SQLAlchemy and Redis spans under it")
    # The handler's own statement and its lease command are direct children of the server span
    # (the rest belong to the agent run it started, further down the same trace).
    assert any(s.parent_id == server.span_id for s in database), [s.name for s in database]
    assert any(s.parent_id == server.span_id for s in redis), [s.name for s in redis]


def _db_system(span: Span) -> str | None:
    """The database a client span talks to (new or old semantic conventions)."""
    return span.attributes.get("db.system.name") or span.attributes.get("db.system")


def test_an_agent_run_is_one_complete_trace(stack: Stack) -> None:
    runs = stack.http.get(f"/api/agents/{AGENT_ID}/runs").json()
    first = runs[-1]
    assert first["status"] == "success", first
    assert first["events_created"] >= 1, first

    def scheduled_run() -> Span | None:
        # The scheduler's run has no parent: it is a trace of its own.
        return next(
            (s for s in stack.tempo.spans() if s.name == "agent.run" and not s.parent_id), None
        )

    root = eventually(scheduled_run, 30, "the scheduled agent.run at Tempo")
    assert root.attributes["bgw.agent.id"] == AGENT_ID

    expected = {"agent.fetch", "agent.parse", "pipeline.match", "pipeline.dedup", "event.create"}
    if RULES_AND_NOTIFICATION_SPANS:
        expected |= {"rules.evaluate", "notification.send"}

    def complete() -> list[Span] | None:
        spans = stack.tempo.spans(root.trace_id)
        return spans if expected <= {s.name for s in spans} else None

    spans = eventually(complete, 30, f"{sorted(expected)} in the agent's trace")
    by_id = {s.span_id: s for s in spans}

    def parent(span: Span) -> str | None:
        return by_id[span.parent_id].name if span.parent_id in by_id else None

    for span in spans:
        if span.name in ("agent.fetch", "agent.parse", "pipeline.match", "pipeline.dedup"):
            assert parent(span) == "agent.run", span
        if span.name == "event.create":
            assert parent(span) == "pipeline.dedup", span
            assert span.attributes["bgw.event.kind"] == "release"
    # httpx's client spans (old or new HTTP semantic conventions), one per request to the shop.
    # (Redis client spans sit there too: the daily page quota is counted in Redis.)
    fetch_clients = [
        s
        for s in spans
        if s.kind == CLIENT
        and parent(s) == "agent.fetch"
        and {"http.request.method", "http.method"} & s.attributes.keys()
    ]
    assert fetch_clients, "no httpx client spans under agent.fetch"
    for client in fetch_clients:
        url = client.attributes.get("url.full") or client.attributes.get("http.url")
        assert str(url).startswith(stack.shop.base), client
    if RULES_AND_NOTIFICATION_SPANS:
        (evaluate,) = [s for s in spans if s.name == "rules.evaluate"]
        assert "agent.run" in _ancestors(spans, evaluate), _ancestors(spans, evaluate)
        sends = [s for s in spans if s.name == "notification.send"]
        assert sends, "no notification.send"
        for send in sends:
            assert parent(send) == "rules.evaluate", parent(send)
            assert send.attributes["bgw.channel"] == "webhook"
            assert send.status_code != STATUS_ERROR, send
        assert stack.shop.hits("/hook") >= 1


def test_the_grpc_receiver_takes_otlp_too(stack: Stack) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "grpc-probe"}))
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{stack.collector.grpc_port}", insecure=True)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("probe").start_as_current_span("probe") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    (probe,) = eventually(lambda: stack.tempo.spans(trace_id), 30, "the gRPC probe span")
    assert (probe.name, probe.service) == ("probe", "grpc-probe")


# -- the collector goes away and comes back -----------------------------------------------------


def _timed_requests(stack: Stack, count: int, path: str = "/api/stores") -> list[float]:
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        response = stack.http.get(path)
        durations.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return durations


def _load(stack: Stack, count: int, workers: int = 4) -> None:
    """``count`` requests from ``workers`` clients at once, every one answered 200."""
    failures: list[str] = []
    lock = threading.Lock()

    def worker(share: int) -> None:
        with httpx.Client(base_url=stack.bgw.url, timeout=30) as client:
            for _ in range(share):
                response = client.get("/api/games")
                if response.status_code != 200:
                    with lock:
                        failures.append(f"{response.status_code} {response.text[:200]}")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, [count // workers] * workers))
    assert not failures, failures[:5]


def _p(durations: list[float], q: int) -> float:
    return statistics.quantiles(durations, n=100)[q - 1] * 1000


def _health(stack: Stack) -> httpx.Response:
    return stack.http.get("/api/metrics/health")


def _requests_seen(stack: Stack, endpoint: str) -> float:
    results = stack.prometheus.query(
        f'sum(api_requests_total{{job="bgw/bgw",endpoint="{endpoint}"}})'
    )
    return float(results[0]["value"][1]) if results else 0.0


def test_the_service_rides_out_a_collector_outage(
    stack: Stack, record_property: pytest.RecordProperty
) -> None:
    figures: dict[str, Any] = {}
    eventually(
        lambda: _health(stack).json()["components"]["otlp_export"]["status"] == "ok",
        30,
        "otlp_export ok before the outage",
    )
    _timed_requests(stack, 100)  # warm-up
    up = _timed_requests(stack, 500)
    _load(stack, 2000)
    rss_up = stack.bgw.rss_bytes()
    seen_before = eventually(lambda: _requests_seen(stack, "/api/stores"), 30, "a baseline")

    stack.collector.stop()
    outage_started = time.monotonic()
    down = _timed_requests(stack, 500)

    def degraded() -> bool:
        response = _health(stack)
        assert response.status_code == 200, response.text  # degraded, never 503
        body = response.json()
        return (
            body["status"] == "degraded" and body["components"]["otlp_export"]["status"] == "down"
        )

    eventually(degraded, 60, "otlp_export reported down")
    figures["seconds until degraded"] = round(time.monotonic() - outage_started, 1)

    # Many requests (spans the exporter cannot deliver) while the collector stays away: the
    # span queue is bounded (OTEL_BSP_MAX_QUEUE_SIZE, 2048, the rest dropped) and metrics are
    # cumulative, so memory levels off instead of growing with the traffic.
    _load(stack, 3000)
    rss_down_1 = stack.bgw.rss_bytes()
    _load(stack, 3000)
    rss_down_2 = stack.bgw.rss_bytes()
    figures["outage seconds"] = round(time.monotonic() - outage_started, 1)
    mib = 1024 * 1024
    figures |= {
        "p50 ms up": round(_p(up, 50), 2),
        "p99 ms up": round(_p(up, 99), 2),
        "p50 ms down": round(_p(down, 50), 2),
        "p99 ms down": round(_p(down, 99), 2),
        "rss MiB up": round(rss_up / mib, 1),
        "rss MiB after 3000 requests down": round(rss_down_1 / mib, 1),
        "rss MiB after 6000 requests down": round(rss_down_2 / mib, 1),
    }
    assert rss_down_2 - rss_up < 100 * mib, json.dumps(figures)
    # Measured: within ±2 MiB; with an unbounded span queue, +36 MiB per 3000 requests.
    assert rss_down_2 - rss_down_1 < 20 * mib, json.dumps(figures)

    # Back: the same ports, and both signals flow again without restarting the service.
    stack.collector.start()
    back = time.monotonic()
    trace_id, _, traceparent = _traceparent()
    assert stack.http.get("/api/stores", headers={"traceparent": traceparent}).status_code == 200
    eventually(lambda: stack.tempo.spans(trace_id), 90, "a span sent after the collector returned")
    figures["seconds until spans flow again"] = round(time.monotonic() - back, 1)
    eventually(
        lambda: _requests_seen(stack, "/api/stores") >= seen_before + 500,
        90,
        "api_requests_total counting the outage's requests via the collector",
    )
    figures["seconds until metrics flow again"] = round(time.monotonic() - back, 1)
    eventually(
        lambda: _health(stack).json()["components"]["otlp_export"]["status"] == "ok",
        60,
        "otlp_export ok again",
    )
    for name, value in figures.items():
        record_property(name, value)
    print("collector outage:", json.dumps(figures))
