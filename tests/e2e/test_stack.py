"""End to end: the real service scraped by a real Prometheus running this repository's rules,
alerting through a real Alertmanager to a webhook.

Proves, against the live demo workload: the API target is up through the compose job's path and
token; every catalog metric arrives with its catalog labels; every dashboard panel and variable
query, every recording rule and every alert's expression (or, for alerts that are silent on a
healthy stack, the parts it compares) returns data; and an API outage becomes the critical
``BGWApiUnavailable`` notification at the critical receiver, which resolves after a restart.

Exemptions are listed below with their reasons; an exemption that no longer matches a query is an
error, so the list cannot rot.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
import yaml

from telemetry.instruments import CATALOG, Kind
from tests.deploy.grafana_queries import panel_queries, tempo_metric_queries, variable_queries
from tests.e2e.stack import ALERTMANAGER_CONFIG, Delivery, Stack, eventually

# Labels Prometheus attaches to every scraped series (not part of the catalog).
TARGET_LABELS = frozenset({"__name__", "job", "instance"})

# Dashboard queries that may return no data on this stack, with the reason. Empty: the demo
# workload plus the test's API traffic gives every panel data. (llm_calls_total has no Ollama
# here, but the catalog starts its series at 0, so its panel shows zeros, which is data.)
PANEL_EXEMPTIONS: dict[str, str] = {}

# What each alert compares. A healthy stack must not alert, so most alert expressions return
# nothing here; each listed part (a verbatim piece of the rule's expression, whitespace aside)
# must return data instead, which proves the metrics, labels and recording rules it is built on.
ALERT_PARTS: dict[str, tuple[str, ...]] = {
    # The whole expression is also proven to return data during the outage test below.
    "BGWApiUnavailable": ('up{job="bgw-api"}',),
    "BGWDatabaseDown": ('min by (component) (component_health{component="database"})',),
    "BGWNoAgentRuns": (
        "sum(increase(agent_runs_total[10m]))",
        "agent_runs_total unless agent_runs_total offset 10m",
        "max(active_agents) > 0",
        "max(active_agents offset 10m) > 0",
    ),
    "BGWApiErrorBudgetBurnFast": (
        "bgw:api_errors:ratio_rate1h / 0.005",
        "bgw:api_errors:ratio_rate5m / 0.005",
    ),
    "BGWApiErrorBudgetBurnSlow": (
        "bgw:api_errors:ratio_rate6h / 0.005",
        "bgw:api_errors:ratio_rate30m / 0.005",
    ),
    "BGWHighErrorRate": ("bgw:api_errors:ratio_rate5m",),
    "BGWHighLatency": ("bgw:api_response_time_seconds:p95_5m",),
    "BGWNotificationFailures": (
        'sum by (channel) (rate(notifications_sent_total{status="error"}[15m]))'
        " / sum by (channel) (rate(notifications_sent_total[15m]))",
        'sum by (channel) (increase(notifications_sent_total{status="error"}[15m]))',
        "1 - sum by (channel) (rate(notifications_delivered_total[15m]))"
        " / sum by (channel) (rate(notifications_sent_total[15m]))",
        "sum by (channel) (increase(notifications_sent_total[15m]))"
        " - sum by (channel) (increase(notifications_delivered_total[15m]))",
    ),
    "BGWDailyQuotaExceeded": (
        "max(daily_pages_used) / max(daily_pages_cap > 0)",
        "max by (agent_id) (agent_daily_pages_used)"
        " / max by (agent_id) (agent_daily_pages_cap > 0)",
    ),
}
ALERT_PART_EXEMPTIONS: dict[str, str] = {
    "max(active_agents offset 10m) > 0": (
        "BGWNoAgentRuns' start-up guard: it has data only once Prometheus is 10 minutes old, "
        "longer than this test runs (the promtool tests in deploy/tests cover it)"
    ),
}

# Panels whose values the workload must move, not only fill: (dashboard uid, query).
WORKLOAD_PANELS: tuple[tuple[str, str], ...] = (
    ("bgw-overview", "max(active_agents)"),
    ("bgw-overview", "max(daily_pages_used)"),
    ("bgw-overview", "sum by (status) (bgw:api_requests:rate5m)"),
    ("bgw-agents", 'sum(increase(agent_runs_total{agent_id=~".*", status="started"}[1h]))'),
    ("bgw-notifications", 'sum(increase(notifications_delivered_total{channel=~".*"}[1h]))'),
)

QUERY_TIMEOUT = 90  # recording rules over fresh data need a few evaluations
OUTAGE_GRACE = 120  # beyond the rule's `for`: scrape, evaluation, Alertmanager's group_wait
RESOLVE_TIMEOUT = 120  # the demo's restart, a scrape, an evaluation, group_interval


def normalize(expr: str) -> str:
    return " ".join(expr.split())


def duration_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+)(ms|s|m|h|d)", text)
    assert "".join(n + u for n, u in parts) == text, f"bad duration {text!r}"
    return sum(int(number) * units[unit] for number, unit in parts)


def rules_of(stack: Stack, kind: str) -> list[dict[str, Any]]:
    return [rule for group in stack.rules["groups"] for rule in group["rules"] if kind in rule]


def alert_rule(stack: Stack, name: str) -> dict[str, Any]:
    (rule,) = (rule for rule in rules_of(stack, "alert") if rule["alert"] == name)
    return rule


def no_data(stack: Stack, queries: Iterable[tuple[str, str]]) -> list[str]:
    """``(what, expr)`` pairs whose query fails or returns nothing, described."""
    problems = []
    for what, expr in queries:
        body = stack.prom.query_raw(expr)
        if body.get("status") != "success":
            problems.append(f"{what}: {expr}\n    error: {body.get('error')}")
        elif not body["data"]["result"]:
            problems.append(f"{what}: {expr}\n    no data")
    return problems


def values(stack: Stack, expr: str) -> list[float]:
    """The non-zero, non-NaN values ``expr`` returns now."""
    found = [float(sample["value"][1]) for sample in stack.prom.query(expr)]
    return [value for value in found if value and not math.isnan(value)]


def evaluates(stack: Stack, expr: str) -> list[dict[str, Any]]:
    body = stack.prom.query_raw(expr)
    assert body.get("status") == "success", f"{expr}: {body}\n\n{stack.logs()}"
    return body["data"]["result"]


# --- Targets and metrics ----------------------------------------------------------------------


def test_targets_up_through_the_compose_jobs(stack: Stack) -> None:
    def down() -> list[str]:
        targets = {target["labels"]["job"]: target for target in stack.prom.targets()}
        return [
            f"{job}: {targets.get(job)}"
            for job in ("bgw-api", "prometheus", "alertmanager")
            if targets.get(job, {}).get("health") != "up"
        ]

    # Retried: on a loaded machine one scrape may exceed its 1 s timeout.
    eventually(down, QUERY_TIMEOUT, "targets not up", stack.logs)
    (api,) = (t for t in stack.prom.targets() if t["labels"]["job"] == "bgw-api")
    assert api["scrapeUrl"] == f"{stack.demo_url}/api/metrics/prometheus"
    # The scrape is authorized by the token file, which matters: without it the API refuses.
    assert httpx.get(f"{stack.demo_url}/api/metrics/prometheus").status_code in (401, 403)


def test_every_catalog_metric_arrives_with_its_labels(stack: Stack) -> None:
    expected: dict[str, frozenset[str]] = {}
    for instrument in CATALOG:
        labels = frozenset(instrument.labels)
        if instrument.kind is Kind.HISTOGRAM:
            expected[f"{instrument.name}_bucket"] = labels | {"le"}
            expected[f"{instrument.name}_sum"] = labels
            expected[f"{instrument.name}_count"] = labels
        else:
            expected[instrument.name] = labels

    def wrong() -> list[str]:
        problems = []
        for name, labels in expected.items():
            series = stack.prom.series(f'{{__name__="{name}"}}')
            if not series:
                problems.append(f"{name}: no series")
            for found in series:
                if set(found) - TARGET_LABELS != labels or found["job"] != "bgw-api":
                    problems.append(f"{name}: {found}, expected labels {sorted(labels)}")
        return problems

    eventually(wrong, QUERY_TIMEOUT, "catalog metrics missing or mislabelled", stack.logs)
    assert len(expected) == len(CATALOG) + 2 * sum(i.kind is Kind.HISTOGRAM for i in CATALOG)


# --- Dashboards -------------------------------------------------------------------------------


def test_every_dashboard_panel_query_returns_data(stack: Stack) -> None:
    queries = [
        (f"{uid} / {title}", expr)
        for uid, panels in panel_queries().items()
        for title, expr in panels
    ]
    exprs = {expr for _, expr in queries}
    stale = set(PANEL_EXEMPTIONS) - exprs
    assert not stale, f"exemptions for queries no dashboard has any more: {stale}"
    for expr in PANEL_EXEMPTIONS:
        evaluates(stack, expr)
    checked = [(what, expr) for what, expr in queries if expr not in PANEL_EXEMPTIONS]
    eventually(lambda: no_data(stack, checked), QUERY_TIMEOUT, "panel queries", stack.logs)
    # The check can fail: a misspelt metric and a broken expression are both reported.
    controls = [("control", "max(active_agentz)"), ("control", "sum by (le (x)")]
    assert [p.split("\n")[1].split(":")[0].strip() for p in no_data(stack, controls)] == [
        "no data",
        "error",
    ]
    flat = [what for what, expr in checked if not any(values(stack, expr))]
    print(
        f"\n{len(checked)} panel queries returned data ({len(queries)} in all); "
        f"{len(flat)} only 0 or NaN at this moment: {flat}"
    )
    assert len(checked) >= 60


def test_the_workload_moves_the_dashboards(stack: Stack) -> None:
    by_dashboard = panel_queries()

    def flat() -> list[str]:
        problems = []
        for uid, expr in WORKLOAD_PANELS:
            assert expr in [e for _, e in by_dashboard[uid]], f"{uid} has no panel {expr}"
            if not any(value > 0 for value in values(stack, expr)):
                problems.append(f"{uid}: {expr} = {stack.prom.query(expr)}")
        return problems

    eventually(flat, QUERY_TIMEOUT, "panels the workload did not move", stack.logs)


def test_every_dashboard_variable_has_values(stack: Stack) -> None:
    variables = [
        (uid, name, selector, label)
        for uid, found in variable_queries().items()
        for name, selector, label in found
    ]
    assert variables

    def empty() -> list[str]:
        return [
            f"{uid}: ${name} = label_values({selector}, {label})"
            for uid, name, selector, label in variables
            if not stack.prom.label_values(label, selector)
        ]

    eventually(empty, QUERY_TIMEOUT, "dashboard variables without values", stack.logs)
    channels = stack.prom.label_values("channel", "notifications_sent_total")
    assert set(channels) == {"telegram", "slack", "email", "webhook"}


def test_tempo_traces_to_metrics_queries_return_data(stack: Stack) -> None:
    queries = tempo_metric_queries()
    assert queries
    eventually(lambda: no_data(stack, queries), QUERY_TIMEOUT, "Tempo's queries", stack.logs)


# --- Rules ------------------------------------------------------------------------------------


def test_prometheus_loaded_every_rule_and_evaluates_it_without_error(stack: Stack) -> None:
    expected = {
        (group["name"], rule.get("record") or rule["alert"])
        for group in stack.rules["groups"]
        for rule in group["rules"]
    }

    def unhealthy() -> list[str]:
        loaded = {
            (group["name"], rule["name"]): rule
            for group in stack.prom.rule_groups()
            for rule in group["rules"]
        }
        problems = [f"not loaded: {key}" for key in sorted(expected - set(loaded))]
        problems += [
            f"{key}: health {rule['health']} {rule.get('lastError', '')}"
            for key, rule in loaded.items()
            if rule["health"] != "ok"
        ]
        return problems

    eventually(unhealthy, QUERY_TIMEOUT, "rules not loaded or failing", stack.logs)


def test_every_recording_rule_returns_data(stack: Stack) -> None:
    recording = rules_of(stack, "record")
    queries = [(f"record {r['record']}", r["record"]) for r in recording]
    queries += [(f"expr of {r['record']}", r["expr"]) for r in recording]
    eventually(lambda: no_data(stack, queries), QUERY_TIMEOUT, "recording rules", stack.logs)
    print(f"\n{len(recording)} recording rules returned data (record and expression)")
    assert len(recording) >= 9


def test_every_alert_expression_evaluates_and_what_it_compares_returns_data(
    stack: Stack,
) -> None:
    alerts = {rule["alert"]: rule for rule in rules_of(stack, "alert")}
    assert set(ALERT_PARTS) == set(alerts), "every alert needs its parts listed here"
    parts = []
    for name, rule in alerts.items():
        for part in ALERT_PARTS[name]:
            assert normalize(part) in normalize(rule["expr"]), f"{name} has no {part!r}"
            parts.append((name, part))
    assert set(ALERT_PART_EXEMPTIONS) <= {part for _, part in parts}
    for part in ALERT_PART_EXEMPTIONS:
        evaluates(stack, part)

    checked = [(name, part) for name, part in parts if part not in ALERT_PART_EXEMPTIONS]
    eventually(lambda: no_data(stack, checked), QUERY_TIMEOUT, "alert parts", stack.logs)

    # A healthy stack alerts on nothing: every alert expression evaluates, and to nothing
    # (retried: a scrape that times out on a loaded machine is a moment of up == 0).
    def alerting() -> list[str]:
        return [
            f"{name}: {result}"
            for name, rule in alerts.items()
            if (result := evaluates(stack, rule["expr"]))
        ]

    eventually(alerting, QUERY_TIMEOUT, "alert expressions true on a healthy stack", stack.logs)
    print(f"\n{len(alerts)} alert expressions evaluated, {len(checked)} of their parts had data")


def test_jobs_of_services_outside_the_stack_are_down_and_alert_nothing(stack: Stack) -> None:
    # As in compose started without the collector or the node profile. node-exporter is scraped
    # every 30 s, so its first (failed) scrape may still be ahead.
    assert stack.absent_jobs == ("otel-collector", "otel-collector-internal", "node-exporter")

    def not_down() -> list[str]:
        return [
            f"up{{job={job!r}}} = {value}"
            for job in stack.absent_jobs
            if (value := stack.prom.value(f'up{{job="{job}"}}')) != 0
        ]

    eventually(not_down, 60, "jobs outside the stack not seen down", stack.logs)
    alerts = [a for a in stack.prom.alerts() if a["labels"].get("job") in stack.absent_jobs]
    assert not alerts, alerts


# --- The outage -------------------------------------------------------------------------------


def wait_for_delivery(
    stack: Stack, alertname: str, status: str, after: float, timeout: float
) -> tuple[Delivery, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while (found := stack.webhook.find(alertname, status, after)) is None:
        if time.monotonic() > deadline:
            alerts = stack.prom.alerts() if stack.prometheus.running else "(prometheus down)"
            raise AssertionError(
                f"no {status} {alertname} at the webhook within {timeout:.0f} s; "
                f"Prometheus alerts: {alerts}\n\n{stack.logs()}"
            )
        time.sleep(0.2)
    return found


def test_api_outage_alerts_the_critical_receiver_and_resolves(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = alert_rule(stack, "BGWApiUnavailable")
    hold = duration_seconds(rule["for"])
    route = yaml.safe_load(ALERTMANAGER_CONFIG.read_text(encoding="utf-8"))["route"]
    # Once up and running, the healthy stack notified nothing. (Before that, Prometheus may
    # have waited for the demo's first scrape; a start-up slower than `for` would show here.)
    healthy = [d.summary() for d in stack.webhook.snapshot() if d.received >= stack.ready_at]
    assert not healthy, f"the healthy stack alerted: {healthy}\n\n{stack.logs()}"
    events_before = len(httpx.get(f"{stack.demo_url}/api/events").json()["items"])

    fault = time.monotonic()
    stack.demo.kill()
    # The alert's own expression now returns data (it was empty on the healthy stack).
    eventually(
        lambda: [] if stack.prom.query(rule["expr"]) else ["BGWApiUnavailable's expr: no data"],
        30,
        "the outage is not visible to Prometheus",
        stack.logs,
    )
    delivery, alert = wait_for_delivery(
        stack, "BGWApiUnavailable", "firing", fault, hold + OUTAGE_GRACE
    )
    fired_after = delivery.received - fault
    # Routed by severity through deploy/alertmanager.yml's tree, grouped as it says.
    assert delivery.path == "/bgw-critical", delivery.summary()
    assert delivery.body["receiver"] == "bgw-critical"
    assert set(delivery.body["groupLabels"]) == set(route["group_by"])
    instance = stack.demo_url.removeprefix("http://")
    assert alert["labels"] == {
        "alertname": "BGWApiUnavailable",
        "severity": "critical",
        "service": "bgw",
        "job": "bgw-api",
        "instance": instance,
    }
    assert alert["annotations"]["summary"] == rule["annotations"]["summary"]
    assert alert["annotations"]["runbook_url"] == rule["annotations"]["runbook_url"]
    assert instance in alert["annotations"]["description"]
    # Not before the rule's `for`: the outage began after the kill.
    assert fired_after >= hold, f"fired {fired_after:.1f} s after the fault, before `for`"

    restart = time.monotonic()
    stack.restart_demo()
    restarted_after = time.monotonic() - restart
    delivery, alert = wait_for_delivery(
        stack, "BGWApiUnavailable", "resolved", restart, RESOLVE_TIMEOUT
    )
    resolved_after = delivery.received - restart
    assert delivery.path == "/bgw-critical", delivery.summary()
    assert alert["endsAt"] > alert["startsAt"]
    # Same database file: what the service stored before the crash is still there.
    events_after = len(httpx.get(f"{stack.demo_url}/api/events").json()["items"])
    assert events_after >= events_before > 0

    during = [d.summary() for d in stack.webhook.snapshot() if d.received >= fault]
    with capsys.disabled():
        print(
            f"\ne2e: stack ready in {stack.ready_at - stack.started:.1f} s; "
            f"BGWApiUnavailable (for: {rule['for']}) reached the webhook {fired_after:.1f} s "
            "after the API was killed; "
            f"restart took {restarted_after:.1f} s, resolved at the webhook "
            f"{resolved_after:.1f} s after the restart began.\n"
            f"e2e: API traffic by status: {stack.traffic.statuses}\n"
            "e2e: webhook deliveries since the fault:\n  " + "\n  ".join(during)
        )
