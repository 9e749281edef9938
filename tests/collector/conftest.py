"""Fixtures for the collector path. The collector binary is built from
deploy/otelcol/builder-config.yaml by scripts/build-otelcol.sh into the tools cache when it is
missing or its manifest changed (a clean clone in CI builds it once, in about two minutes)."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from redis import Redis

from tests.agents_fixtures import html_agent, page
from tests.collector.stack import (
    Bgw,
    Collector,
    FakeTempo,
    Prometheus,
    build_collector,
    eventually,
    tail,
)
from tests.e2e import queries
from tests.e2e import stack as e2e
from tests.e2e.stack import (
    RULES_FILE,
    ManagedProcess,
    PrometheusAPI,
    Traffic,
    demo_process,
    wait_ready,
)
from tests.factories import game_body, rule_body, store_body
from tests.servers import RedisServer, free_port
from tests.shop import FakeShop, Reply

AGENT_ID = "hobbygames-new"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test that used the stack shows the tails of its processes' logs."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.when == "call" and report.failed and isinstance(stack, Stack):
        report.sections.append(("collector path: logs", stack.logs()))
    return report


@pytest.fixture(scope="session")
def otelcol_binary() -> Path:
    return build_collector()


@dataclass
class Stack:
    tempo: FakeTempo
    collector: Collector
    prometheus: Prometheus
    shop: FakeShop
    bgw: Bgw
    http: httpx.Client

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{tail(path, 1500)}"
            for path in (self.bgw.log, self.collector.log, self.prometheus.log)
        )


def _seed(http: httpx.Client, shop: FakeShop) -> None:
    """A store, a watched game, a rule that fires on releases (webhook), and an enabled agent
    the embedded scheduler runs at once: one agent run with an event and a notification."""

    def create(path: str, body: dict) -> None:
        response = http.post(path, json=body)
        assert response.status_code == 201, response.text

    create("/api/stores", store_body())
    create("/api/games", game_body(title="Азул", synonyms=[], bgg_id=None))
    create(
        "/api/rules",
        rule_body(
            name="Релизы",
            conditions=[{"field": "kind", "op": "=", "value": "release"}],
            channels=["webhook"],
        ),
    )
    create("/api/agents", html_agent(shop))


@pytest.fixture(scope="module")
def stack(
    otelcol_binary: Path, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("collector-path")
    tempo = FakeTempo().start()
    collector = Collector(otelcol_binary, workdir, tempo_port=tempo.port)
    prometheus = Prometheus(workdir, collector.prometheus_port, collector.telemetry_port)
    shop = FakeShop()
    shop.routes["/catalog/new"] = Reply(body=page("hobbygames_catalog.html"))
    # The last page: nothing more (a repeat of page 1 would store the same raw page twice).
    shop.routes["/catalog/new?page=2"] = Reply(body="<html><body></body></html>")
    shop.routes["/hook"] = Reply(body="ok", content_type="text/plain")
    shop.start()
    # A database of its own on the session's Redis: the agent's leases and page quotas must not
    # leak into other tests (they use database 0 and flush it).
    redis_url = redis_server.url.removesuffix("/0") + "/15"
    bgw = Bgw(
        workdir,
        otlp_http_port=collector.http_port,
        redis_url=redis_url,
        settings={"BGW_WEBHOOK_URL": shop.url("/hook")},
    )
    started: list = [tempo, shop]
    http = httpx.Client(base_url=bgw.url, timeout=30)
    try:
        for server in (collector, prometheus, bgw):
            server.start()
            started.append(server)
        _seed(http, shop)

        def finished() -> bool:
            runs = http.get(f"/api/agents/{AGENT_ID}/runs").json()
            return bool(runs) and runs[0]["status"] not in ("started", "running")

        eventually(finished, 60, "the scheduled agent run")
        yield Stack(tempo, collector, prometheus, shop, bgw, http)
    finally:
        http.close()
        for server in reversed(started):
            server.stop()
        redis = Redis.from_url(redis_url)
        redis.flushdb()
        redis.close()


# -- the demo workload through the collector only -------------------------------------------------

# The collector-path demo stack: the liveness signal it has instead of up{job="bgw-api"}.
COLLECTOR_UP = 'up{job="otel-collector"}'
WORKLOAD_TIMEOUT = 180


@dataclass
class DemoStack:
    """``bgw demo`` exporting only over OTLP to the collector; Prometheus scrapes nothing but the
    collector (its exporter and its own metrics) and evaluates deploy/bgw_rules.yml."""

    tempo: FakeTempo
    collector: Collector
    prometheus: Prometheus
    demo: ManagedProcess
    traffic: Traffic
    prom: PrometheusAPI
    demo_url: str
    site_url: str
    rules: dict[str, Any]
    started: float = field(default_factory=time.monotonic)
    started_epoch: float = field(default_factory=time.time)
    ready_at: float = math.inf

    def logs(self) -> str:
        return "\n".join(
            [
                self.demo.tail(),
                f"=== otelcol\n{tail(self.collector.log, 2500)}",
                f"=== prometheus\n{tail(self.prometheus.log, 2500)}",
            ]
        )


@pytest.fixture(scope="module")
def demo_stack(
    otelcol_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoStack]:
    """The same demo workload as tests/e2e (events of every kind, agent runs, webhook
    notifications sent and delivered, API traffic), every metric of it through the collector."""
    workdir = tmp_path_factory.mktemp("collector-demo")
    tempo = FakeTempo().start()
    collector = Collector(otelcol_binary, workdir, tempo_port=tempo.port)
    prometheus = Prometheus(
        workdir, collector.prometheus_port, collector.telemetry_port, rule_files=(RULES_FILE,)
    )
    demo_port, site_port = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    token_file = workdir / "bgw_metrics_token"
    token_file.write_text(token, encoding="utf-8")
    demo_dir = workdir / "demo"
    demo_dir.mkdir()
    otlp = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.http_port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    }
    demo = demo_process(
        demo_dir, demo_port, site_port, token_file, workdir / "demo.log", extra_env=otlp
    )
    demo_url = f"http://127.0.0.1:{demo_port}"
    stack = DemoStack(
        tempo=tempo,
        collector=collector,
        prometheus=prometheus,
        demo=demo,
        traffic=Traffic(demo_url, token),
        prom=PrometheusAPI(prometheus.url),
        demo_url=demo_url,
        site_url=f"http://127.0.0.1:{site_port}",
        rules=yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")),
    )
    started: list[Any] = [tempo]
    try:
        for server in (collector, prometheus):
            server.start()
            started.append(server)
        demo.start()
        wait_ready(f"{demo_url}/api/metrics/health", demo, timeout=120)
        stack.traffic.start()
        e2e.eventually(
            lambda: queries.workload_missing(stack.prom, stack.site_url, COLLECTOR_UP),
            WORKLOAD_TIMEOUT,
            "the demo workload did not show in Prometheus through the collector",
            stack.logs,
        )
        stack.ready_at = time.monotonic()
        yield stack
    finally:
        stack.traffic.stop()
        demo.stop()
        for server in reversed(started):
            server.stop()
        stack.prom.client.close()
