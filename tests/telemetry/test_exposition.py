"""The contract: /api/metrics/prometheus exposes every catalog metric under its exact name, type
and label set, in a format real Prometheus tooling accepts."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import httpx
import pytest

from telemetry import instruments as catalog
from telemetry.instruments import CATALOG, Kind
from tests.factories import agent_body, create, store_body
from tests.telemetry.helpers import METRICS_PATH, scrape

PROMETHEUS_TYPES = {Kind.COUNTER: "counter", Kind.HISTOGRAM: "histogram", Kind.GAUGE: "gauge"}


def record_everything() -> None:
    """One observation on every catalog instrument, with its catalog labels and one stray label
    that the views must drop."""
    for instrument in CATALOG:
        attributes = {label: f"x-{label}" for label in instrument.labels} | {"stray": "dropped"}
        if isinstance(instrument, catalog.Counter):
            instrument.add(1, attributes)
        elif isinstance(instrument, catalog.Histogram):
            instrument.record(0.2, attributes)
        elif not instrument.labels:
            instrument.set(0.5)
        else:
            instrument.replace([(1.0, {label: "x" for label in instrument.labels})])


async def test_every_catalog_metric_is_exposed_exactly(client: httpx.AsyncClient) -> None:
    record_everything()
    families = await scrape(client)
    for instrument in CATALOG:
        assert instrument.name in families, f"{instrument.name} missing from the exposition"
        family = families[instrument.name]
        assert family.type == PROMETHEUS_TYPES[instrument.kind], instrument.name
        assert family.label_sets() == {frozenset(instrument.labels)}, instrument.name
    extra = set(families) - {i.name for i in CATALOG} - {"target_info"}
    assert not extra, f"the exposition has names outside the catalog: {extra}"


async def test_target_info_carries_the_resource(client: httpx.AsyncClient, backend) -> None:
    families = await scrape(client)
    (_, labels, _), *_ = families["target_info"].samples
    # On SQLite `bgw serve` also schedules agents: one process doing both is plain `bgw`.
    assert labels["service_name"] == ("bgw" if backend.name == "sqlite" else "bgw-api")
    assert labels["service_namespace"] == "bgw"
    assert labels["service_instance_id"]
    assert labels["deployment_environment"] == "development"


async def test_latency_buckets_are_in_seconds(client: httpx.AsyncClient) -> None:
    await client.get("/api/games")
    families = await scrape(client)
    bounds = {
        labels["le"]
        for name, labels, _ in families["api_response_time_seconds"].samples
        if name.endswith("_bucket")
    }
    assert bounds == {
        "0.005",
        "0.01",
        "0.025",
        "0.05",
        "0.1",
        "0.25",
        "0.5",
        "1.0",
        "2.5",
        "5.0",
        "10.0",
        "+Inf",
    }
    catalog.AGENT_DURATION.record(450.0, {"agent_id": "slow"})
    families = await scrape(client)
    agent_bounds = [
        float(labels["le"])
        for name, labels, _ in families["agent_duration_seconds"].samples
        if name.endswith("_bucket") and labels["le"] != "+Inf"
    ]
    assert max(agent_bounds) >= 600
    assert (
        families["agent_duration_seconds"].value(
            "agent_duration_seconds_bucket", agent_id="slow", le="600.0"
        )
        == 1.0
    )
    assert (
        families["agent_duration_seconds"].value(
            "agent_duration_seconds_bucket", agent_id="slow", le="300.0"
        )
        == 0.0
    )


async def test_api_requests_are_labelled_by_route_template(client: httpx.AsyncClient) -> None:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", agent_body())
    await client.get("/api/agents/hobbygames-new")
    await client.get("/api/agents/nope")
    families = await scrape(client)
    requests = families["api_requests_total"]
    template = "/api/agents/{agent_id}"
    assert requests.value(method="GET", endpoint=template, status="200") == 1
    assert requests.value(method="GET", endpoint=template, status="404") == 1
    assert requests.value(method="POST", endpoint="/api/agents", status="201") == 1
    assert all("hobbygames-new" not in str(series) for series in requests.series())
    # The scrape itself is not measured.
    assert not any(
        dict(s).get("endpoint", "").startswith("/api/metrics") for s in requests.series()
    )


async def test_closed_label_sets_start_at_zero(client: httpx.AsyncClient) -> None:
    families = await scrape(client)
    sent = families["notifications_sent_total"]
    assert len(sent.series()) == 8
    assert sent.value(channel="email", status="error") == 0
    assert families["notifications_delivered_total"].value(channel="telegram") == 0
    assert families["llm_calls_total"].value(result="fail", reason="timeout") == 0


async def test_openmetrics_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.get(
        METRICS_PATH, headers={"accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    plain = await client.get(METRICS_PATH)
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")


async def test_promtool_accepts_the_exposition(client: httpx.AsyncClient) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: apt-get install prometheus")
    record_everything()
    await client.get("/api/games")
    body = (await client.get(METRICS_PATH)).text
    result = await asyncio.to_thread(
        subprocess.run,
        [promtool, "check", "metrics"],
        input=body,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout  # promtool prints each problem it finds
    assert result.stderr.strip() == "", result.stderr
