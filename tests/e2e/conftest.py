"""The end-to-end stack, started once per test module: the BGW demo (API, embedded worker, SQLite,
demo shops and their webhook inbox), Debian's Prometheus with this repository's rules, Alertmanager
0.28.1 (built into the tools cache on first use) and a webhook standing in for its receivers.

The Prometheus configuration is deploy/prometheus.yml with loopback addresses and 1 s intervals.
Every job is kept: ``bgw-api`` scrapes the demo with the same path and bearer-token file as in
compose (the demo reads the same token file, as the compose api does), ``prometheus`` and
``alertmanager`` scrape the real ones, and the jobs whose services are not part of this stack
(the collector's two, node-exporter) point at a closed port, so they are down exactly as when
compose starts without them; the tests prove nothing depends on them. The fixture returns once
the workload has produced events of every kind, a delivered notification and API traffic.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import build_alertmanager_tools, system_tool
from tests.e2e import queries
from tests.e2e.stack import (
    ALERTMANAGER_CONFIG,
    DEPLOY,
    PROMETHEUS_CONFIG,
    RULES_FILE,
    ManagedProcess,
    PrometheusAPI,
    Stack,
    Traffic,
    WebhookReceiver,
    copy_rule_files,
    demo_process,
    derive_alertmanager_config,
    derive_prometheus_config,
    eventually,
    wait_ready,
    write_yaml,
)
from tests.servers import free_port

SCRAPE_INTERVAL = "1s"
# Every route: notify a new group after 1 s, flush changes (resolutions) every 2 s.
ALERTMANAGER_TIMINGS = {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}
# Compose's service addresses that have no counterpart here: their jobs are left down.
ABSENT_SERVICES = ("otel-collector:8889", "otel-collector:8888", "node-exporter:9100")
WORKLOAD_TIMEOUT = 180


def absent_jobs(config: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        job["job_name"]
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        if set(static["targets"]) & set(ABSENT_SERVICES)
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus_bin = system_tool("prometheus", "prometheus")
    alertmanager_bin = build_alertmanager_tools().alertmanager
    root = tmp_path_factory.mktemp("e2e")
    demo_port, site_port, prom_port, am_port, closed_port = (free_port() for _ in range(5))

    # The metrics token: one file read by both the API and Prometheus, as compose mounts it.
    secrets_dir = root / "secrets"
    secrets_dir.mkdir()
    token = secrets.token_urlsafe(24)
    token_file = secrets_dir / "bgw_metrics_token"
    token_file.write_text(token, encoding="utf-8")

    workdir = root / "demo"
    workdir.mkdir()
    demo = demo_process(workdir, demo_port, site_port, token_file, root / "demo.log")

    webhook = WebhookReceiver()
    am_config = derive_alertmanager_config(
        yaml.safe_load(ALERTMANAGER_CONFIG.read_text(encoding="utf-8")),
        webhook.url,
        ALERTMANAGER_TIMINGS,
    )
    alertmanager = ManagedProcess(
        "alertmanager",
        [
            str(alertmanager_bin),
            f"--config.file={write_yaml(root / 'alertmanager.yml', am_config)}",
            f"--storage.path={root / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",  # no gossip: a single instance
        ],
        root / "alertmanager.log",
    )

    prom_source = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    targets = {
        "api:8000": f"127.0.0.1:{demo_port}",
        "alertmanager:9093": f"127.0.0.1:{am_port}",
        "localhost:9090": f"127.0.0.1:{prom_port}",
    } | {address: f"127.0.0.1:{closed_port}" for address in ABSENT_SERVICES}
    prom_config = derive_prometheus_config(prom_source, targets, secrets_dir, SCRAPE_INTERVAL)
    copy_rule_files(prom_config, DEPLOY, root)
    assert (root / RULES_FILE.name).read_bytes() == RULES_FILE.read_bytes()
    prometheus = ManagedProcess(
        "prometheus",
        [
            str(prometheus_bin),
            f"--config.file={write_yaml(root / 'prometheus.yml', prom_config)}",
            f"--storage.tsdb.path={root / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            f"--web.external-url=http://127.0.0.1:{prom_port}/",
            "--enable-feature=exemplar-storage",
            "--web.enable-lifecycle",
        ],
        root / "prometheus.log",
    )

    traffic = Traffic(f"http://127.0.0.1:{demo_port}", token)
    stack = Stack(
        root=root,
        demo=demo,
        prometheus=prometheus,
        alertmanager=alertmanager,
        webhook=webhook,
        traffic=traffic,
        prom=PrometheusAPI(f"http://127.0.0.1:{prom_port}"),
        demo_url=f"http://127.0.0.1:{demo_port}",
        site_url=f"http://127.0.0.1:{site_port}",
        alertmanager_url=f"http://127.0.0.1:{am_port}",
        rules=yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")),
        absent_jobs=absent_jobs(prom_source),
        started=time.monotonic(),
    )
    try:
        webhook.start()
        alertmanager.start()
        wait_ready(f"{stack.alertmanager_url}/-/ready", alertmanager)
        prometheus.start()
        wait_ready(f"{stack.prom.url}/-/ready", prometheus)
        # The demo last, so Prometheus sees its counters from their first exposition (increase()
        # cannot count what happened before a series' first sample).
        demo.start()
        wait_ready(f"{stack.demo_url}/api/metrics/health", demo, timeout=120)
        traffic.start()
        eventually(
            lambda: workload_missing(stack),
            WORKLOAD_TIMEOUT,
            "the demo workload did not show in Prometheus",
            stack.logs,
        )
        stack.ready_at = time.monotonic()
        yield stack
    finally:
        traffic.stop()
        demo.stop()
        prometheus.stop()
        alertmanager.stop()
        webhook.stop()
        stack.prom.client.close()


def workload_missing(stack: Stack) -> list[str]:
    """What the demo has not yet shown through Prometheus (empty when the workload is done)."""
    return queries.workload_missing(stack.prom, stack.site_url, 'up{job="bgw-api"}')
