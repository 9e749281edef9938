"""Every dashboard and alert query works when the metrics arrive through the collector only.

``bgw demo`` (the same workload as tests/e2e: events of every kind, agent runs, webhook
notifications sent and delivered, API traffic) exports its metrics over OTLP/HTTP to the
collector built from deploy/otelcol/builder-config.yaml running this repository's
otel-collector.yaml; Prometheus scrapes nothing but the collector (jobs ``otel-collector`` with
``honor_labels`` and ``otel-collector-internal``) and evaluates deploy/bgw_rules.yml, copied
unchanged. The checks are tests/e2e's (``tests/e2e/queries.py``): every panel query, every
variable, the Tempo data source's metric queries, every recording rule and every alert's parts
return data, with the exemptions below.
"""

from __future__ import annotations

import pytest

from tests.collector.conftest import COLLECTOR_UP, DemoStack
from tests.e2e import queries

API_UP = 'up{job="bgw-api"}'

# Exemptions of this path, on top of those both paths share, with the reason.
ALERT_PART_EXEMPTIONS: dict[str, str] = queries.ALERT_PART_EXEMPTIONS | {
    API_UP: (
        "BGWApiUnavailable watches the bgw-api scrape job, which a collector-only deployment "
        "does not have: no series. The direct-bridge e2e (tests/e2e) proves this part and the "
        "whole alert, firing and resolving, during its API outage"
    ),
}
# Alert expressions that return data on this healthy stack, with the reason.
TRUE_BY_DESIGN: dict[str, str] = {
    "BGWApiUnavailable": (
        'absent(up{job="bgw-api"}) is 1 without a bgw-api job: a deployment without the '
        "direct scrape must drop or replace this alert (its liveness signal is "
        f"{COLLECTOR_UP} and the collector's own counters)"
    ),
}

# The liveness a collector-only deployment has: the collector's exporter answers Prometheus,
# and the collector keeps receiving the service's metric points.
COLLECTOR_LIVENESS = (
    COLLECTOR_UP,
    'up{job="otel-collector-internal"}',
    'sum(rate(otelcol_receiver_accepted_metric_points{receiver="otlp"}[1m]))',
)


def test_only_the_collector_is_scraped_and_says_it_is_alive(
    demo_stack: DemoStack, capsys: pytest.CaptureFixture[str]
) -> None:
    prom = demo_stack.prom
    jobs = {target["labels"]["job"] for target in prom.targets()}
    assert jobs == {"otel-collector", "otel-collector-internal"}
    assert not prom.query(API_UP)
    # Every business series came through the collector: job from service.namespace/name.
    assert set(prom.label_values("job", "events_created_total")) == {"bgw/bgw"}

    def dead() -> list[str]:
        return [expr for expr in COLLECTOR_LIVENESS if not queries.values(prom, expr)]

    queries.eventually(dead, queries.QUERY_TIMEOUT, "liveness signals", demo_stack.logs)
    shown = {expr: [s["value"][1] for s in prom.query(expr)] for expr in COLLECTOR_LIVENESS}
    with capsys.disabled():
        print(f"\ncollector path liveness (instead of {API_UP}, which has no data): {shown}")


def test_every_dashboard_panel_query_returns_data(
    demo_stack: DemoStack, capsys: pytest.CaptureFixture[str]
) -> None:
    checked, total, flat = queries.check_panel_queries(demo_stack.prom, demo_stack.logs)
    with capsys.disabled():
        print(
            f"\ncollector path: {checked} panel queries returned data ({total} in all); "
            f"{len(flat)} only 0 or NaN at this moment: {flat}"
        )


def test_the_workload_moves_the_dashboards(demo_stack: DemoStack) -> None:
    queries.check_workload_panels(demo_stack.prom, demo_stack.logs, demo_stack.started_epoch)


def test_every_dashboard_variable_has_values(demo_stack: DemoStack) -> None:
    queries.check_variables(demo_stack.prom, demo_stack.logs)


def test_tempo_traces_to_metrics_queries_return_data(demo_stack: DemoStack) -> None:
    queries.check_tempo_queries(demo_stack.prom, demo_stack.logs)


def test_prometheus_loaded_every_rule_and_evaluates_it_without_error(
    demo_stack: DemoStack,
) -> None:
    queries.check_rules_loaded(demo_stack.prom, demo_stack.rules, demo_stack.logs)


def test_every_recording_rule_returns_data(demo_stack: DemoStack) -> None:
    queries.check_recording_rules(demo_stack.prom, demo_stack.rules, demo_stack.logs)


def test_every_alert_part_returns_data(
    demo_stack: DemoStack, capsys: pytest.CaptureFixture[str]
) -> None:
    alerts, parts = queries.check_alert_parts(
        demo_stack.prom,
        demo_stack.rules,
        demo_stack.logs,
        ALERT_PART_EXEMPTIONS,
        true_by_design=TRUE_BY_DESIGN,
    )
    with capsys.disabled():
        print(
            f"\ncollector path: {alerts} alert expressions evaluated, {parts} of their parts had "
            f"data; exempt: {ALERT_PART_EXEMPTIONS}; true by design: {TRUE_BY_DESIGN}; "
            f"stack ready in {demo_stack.ready_at - demo_stack.started:.1f} s"
        )
