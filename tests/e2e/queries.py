"""The query checks both end-to-end paths share: every dashboard panel and variable query, the
Tempo data source's traces-to-metrics queries, every recording rule and every alert's parts must
return data from a Prometheus that holds the demo workload.

Two stacks use them: ``tests/e2e`` (Prometheus scrapes the API's bridge, job ``bgw-api``) and
``tests/collector/test_queries.py`` (the service exports OTLP to the real collector, Prometheus
scrapes only the collector). Each check takes the Prometheus to ask, the rules it loaded, and a
``logs`` callable whose text every failure message carries; what a path may legitimately miss is
passed in as an exemption with its reason, and an exemption that matches no query is an error, so
the lists cannot rot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from service.domain import EventKind
from tests.deploy.grafana_queries import panel_queries, tempo_metric_queries, variable_queries
from tests.e2e.stack import PrometheusAPI, eventually

Logs = Callable[[], str]
Rules = Mapping[str, Any]

QUERY_TIMEOUT = 90  # recording rules over fresh data need a few evaluations

# Dashboard queries that may return no data on the demo workload, with the reason. Empty: the
# demo plus the tests' API traffic gives every panel data. (llm_calls_total has no Ollama here,
# but the catalog starts its series at 0, so its panel shows zeros, which is data.)
PANEL_EXEMPTIONS: dict[str, str] = {}

# What each alert compares. A healthy stack must not alert, so most alert expressions return
# nothing; each listed part (a verbatim piece of the rule's expression, whitespace aside) must
# return data instead, which proves the metrics, labels and recording rules it is built on.
ALERT_PARTS: dict[str, tuple[str, ...]] = {
    # The direct-bridge e2e also proves the whole expression during its API outage test.
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
# Parts without data on either path (each path adds its own).
ALERT_PART_EXEMPTIONS: dict[str, str] = {
    "max(active_agents offset 10m) > 0": (
        "BGWNoAgentRuns' start-up guard: it has data only once Prometheus is 10 minutes old, "
        "longer than these tests run (the promtool tests in deploy/tests cover it)"
    ),
}

# Panels whose values the workload must move, not only fill: (dashboard uid, query). Checked
# over the stack's lifetime (a range query), as the dashboard's time range shows them: the
# demo's catalogue settles after its third phase, so the events' [1m] rates fall back to 0 a
# minute after the last event, while the panel still shows the peak.
WORKLOAD_PANELS: tuple[tuple[str, str], ...] = (
    ("bgw-overview", "max(active_agents)"),
    ("bgw-overview", "max(daily_pages_used)"),
    ("bgw-overview", "sum by (status) (bgw:api_requests:rate5m)"),
    ("bgw-overview", "sum(rate(agent_pages_fetched_total[1m])) * 60"),
    # Events: their counters start at 0 when an agent is enabled (the scheduler tick and the
    # gauge refresher), so rate() and increase() see the first events too.
    ("bgw-overview", "topk(20, sum by (store_id) (increase(events_created_total[1h])))"),
    ("bgw-overview", "sum by (event_type) (rate(events_created_total[1m])) * 3600"),
    ("bgw-agents", "sum by (store_id) (rate(events_created_total[1m])) * 3600"),
    ("bgw-notifications", "sum(rate(events_created_total[1m])) * 3600"),
    ("bgw-agents", 'sum(increase(agent_runs_total{agent_id=~".*", status="started"}[1h]))'),
    ("bgw-notifications", 'sum(increase(notifications_delivered_total{channel=~".*"}[1h]))'),
)


def normalize(expr: str) -> str:
    return " ".join(expr.split())


def rules_of(rules: Rules, kind: str) -> list[dict[str, Any]]:
    """Every rule of ``kind`` (``record`` or ``alert``) in a loaded rule file."""
    return [rule for group in rules["groups"] for rule in group["rules"] if kind in rule]


def no_data(prom: PrometheusAPI, queries: Iterable[tuple[str, str]]) -> list[str]:
    """``(what, expr)`` pairs whose query fails or returns nothing, described."""
    problems = []
    for what, expr in queries:
        body = prom.query_raw(expr)
        if body.get("status") != "success":
            problems.append(f"{what}: {expr}\n    error: {body.get('error')}")
        elif not body["data"]["result"]:
            problems.append(f"{what}: {expr}\n    no data")
    return problems


def values(prom: PrometheusAPI, expr: str) -> list[float]:
    """The non-zero, non-NaN values ``expr`` returns now."""
    found = [float(sample["value"][1]) for sample in prom.query(expr)]
    return [value for value in found if value and not math.isnan(value)]


def peak(prom: PrometheusAPI, expr: str, since: float) -> float:
    """The largest value ``expr`` took (any series) from ``since`` (epoch seconds) until now;
    NaN counts as nothing, no data at all as 0."""
    found = [
        float(value)
        for series in prom.query_range(expr, since, time.time(), step=1)
        for _, value in series["values"]
    ]
    return max((value for value in found if not math.isnan(value)), default=0.0)


def evaluates(prom: PrometheusAPI, expr: str, logs: Logs) -> list[dict[str, Any]]:
    body = prom.query_raw(expr)
    assert body.get("status") == "success", f"{expr}: {body}\n\n{logs()}"
    return body["data"]["result"]


# --- The workload ------------------------------------------------------------------------------


def workload_missing(prom: PrometheusAPI, site_url: str, liveness: str) -> list[str]:
    """What the demo has not yet shown through Prometheus (empty when the workload is done).
    ``liveness`` is the path's ``up`` series that must be 1 (the scrape job the metrics come
    through)."""
    missing = []
    if prom.value(liveness) != 1:
        missing.append(f"{liveness} is not 1: {prom.query('up')}")
    kinds = {s["metric"]["event_type"] for s in prom.query("events_created_total > 0")}
    if not kinds >= {kind.value for kind in EventKind}:
        missing.append(f"events of kinds {sorted(kinds)} only")
    if not (prom.value('sum(notifications_delivered_total{channel="webhook"})') or 0) >= 1:
        missing.append("no webhook notification delivered (notifications_delivered_total)")
    inbox = httpx.get(f"{site_url}/inbox", timeout=5).json()
    if not inbox["notifications"]:
        missing.append("the demo inbox received nothing")
    if not (prom.value("sum(agent_duration_seconds_count)") or 0) > 0:
        missing.append("no finished agent run (agent_duration_seconds_count)")
    if not (prom.value("sum(api_requests_total)") or 0) > 0:
        missing.append("no API request counted (api_requests_total)")
    return missing


# --- The checks --------------------------------------------------------------------------------


def check_panel_queries(
    prom: PrometheusAPI, logs: Logs, exemptions: Mapping[str, str] = PANEL_EXEMPTIONS
) -> tuple[int, int, list[str]]:
    """Every dashboard panel query returns data (exempt ones must still evaluate). Returns the
    number checked, the number in all, and the panels that show only 0 or NaN right now."""
    queries = [
        (f"{uid} / {title}", expr)
        for uid, panels in panel_queries().items()
        for title, expr in panels
    ]
    exprs = {expr for _, expr in queries}
    stale = set(exemptions) - exprs
    assert not stale, f"exemptions for queries no dashboard has any more: {stale}"
    for expr in exemptions:
        evaluates(prom, expr, logs)
    checked = [(what, expr) for what, expr in queries if expr not in exemptions]
    eventually(lambda: no_data(prom, checked), QUERY_TIMEOUT, "panel queries", logs)
    # The check can fail: a misspelt metric and a broken expression are both reported.
    controls = [("control", "max(active_agentz)"), ("control", "sum by (le (x)")]
    assert [p.split("\n")[1].split(":")[0].strip() for p in no_data(prom, controls)] == [
        "no data",
        "error",
    ]
    flat = [what for what, expr in checked if not any(values(prom, expr))]
    assert len(checked) >= 60
    return len(checked), len(queries), flat


def check_workload_panels(prom: PrometheusAPI, logs: Logs, since: float) -> dict[str, float]:
    """Every panel of :data:`WORKLOAD_PANELS` showed a value above 0 since ``since``; returns
    each one's peak."""
    by_dashboard = panel_queries()
    for uid, expr in WORKLOAD_PANELS:
        assert expr in [e for _, e in by_dashboard[uid]], f"{uid} has no panel {expr}"
    peaks: dict[str, float] = {}

    def flat() -> list[str]:
        problems = []
        for uid, expr in WORKLOAD_PANELS:
            peaks[expr] = peak(prom, expr, since)
            if not peaks[expr] > 0:
                problems.append(f"{uid}: {expr}: never above 0, now {prom.query(expr)}")
        return problems

    eventually(flat, QUERY_TIMEOUT, "panels the workload did not move", logs)
    # The check can fail: the LLM panel has data but stays at 0 (no Ollama on these stacks).
    llm = "sum by (result, reason) (rate(llm_calls_total[1m])) * 60"
    assert prom.query(llm), f"{llm}: no data"
    assert peak(prom, llm, since) == 0
    return peaks


def check_variables(prom: PrometheusAPI, logs: Logs) -> int:
    """Every dashboard variable's ``label_values`` has values; returns how many were checked."""
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
            if not prom.label_values(label, selector)
        ]

    eventually(empty, QUERY_TIMEOUT, "dashboard variables without values", logs)
    channels = prom.label_values("channel", "notifications_sent_total")
    assert set(channels) == {"telegram", "slack", "email", "webhook"}
    return len(variables)


def check_tempo_queries(prom: PrometheusAPI, logs: Logs) -> int:
    queries = tempo_metric_queries()
    assert queries
    eventually(lambda: no_data(prom, queries), QUERY_TIMEOUT, "Tempo's queries", logs)
    return len(queries)


def check_rules_loaded(prom: PrometheusAPI, rules: Rules, logs: Logs) -> int:
    """Prometheus loaded every rule of ``rules`` and evaluates each without error."""
    expected = {
        (group["name"], rule.get("record") or rule["alert"])
        for group in rules["groups"]
        for rule in group["rules"]
    }

    def unhealthy() -> list[str]:
        loaded = {
            (group["name"], rule["name"]): rule
            for group in prom.rule_groups()
            for rule in group["rules"]
        }
        problems = [f"not loaded: {key}" for key in sorted(expected - set(loaded))]
        problems += [
            f"{key}: health {rule['health']} {rule.get('lastError', '')}"
            for key, rule in loaded.items()
            if rule["health"] != "ok"
        ]
        return problems

    eventually(unhealthy, QUERY_TIMEOUT, "rules not loaded or failing", logs)
    return len(expected)


def check_recording_rules(prom: PrometheusAPI, rules: Rules, logs: Logs) -> int:
    """Every recording rule returns data, as the recorded series and as its expression; returns
    the number of queries checked."""
    recording = rules_of(rules, "record")
    queries = [(f"record {r['record']}", r["record"]) for r in recording]
    queries += [(f"expr of {r['record']}", r["expr"]) for r in recording]
    eventually(lambda: no_data(prom, queries), QUERY_TIMEOUT, "recording rules", logs)
    assert len(recording) >= 9
    return len(queries)


def check_alert_parts(
    prom: PrometheusAPI,
    rules: Rules,
    logs: Logs,
    exemptions: Mapping[str, str],
    true_by_design: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """Every alert's listed parts (:data:`ALERT_PARTS`) return data, except ``exemptions``
    (which must still evaluate), and every alert expression evaluates to nothing on the healthy
    stack, except those in ``true_by_design`` (alert name → reason), which must return data.
    Returns the number of alerts and of parts that returned data."""
    alerts = {rule["alert"]: rule for rule in rules_of(rules, "alert")}
    assert set(ALERT_PARTS) == set(alerts), "every alert needs its parts listed here"
    true_by_design = true_by_design or {}
    assert set(true_by_design) <= set(alerts)
    parts = []
    for name, rule in alerts.items():
        for part in ALERT_PARTS[name]:
            assert normalize(part) in normalize(rule["expr"]), f"{name} has no {part!r}"
            parts.append((name, part))
    stale = set(exemptions) - {part for _, part in parts}
    assert not stale, f"exemptions for parts no alert has any more: {stale}"
    for part in exemptions:
        evaluates(prom, part, logs)

    checked = [(name, part) for name, part in parts if part not in exemptions]
    eventually(lambda: no_data(prom, checked), QUERY_TIMEOUT, "alert parts", logs)

    # A healthy stack alerts on nothing but what is true by design: every alert expression
    # evaluates (retried: a scrape that times out on a loaded machine is a moment of up == 0).
    def alerting() -> list[str]:
        problems = []
        for name, rule in alerts.items():
            result = evaluates(prom, rule["expr"], logs)
            if name in true_by_design and not result:
                problems.append(f"{name}: expected data ({true_by_design[name]}), got none")
            elif name not in true_by_design and result:
                problems.append(f"{name}: {result}")
        return problems

    eventually(alerting, QUERY_TIMEOUT, "alert expressions true on a healthy stack", logs)
    return len(alerts), len(checked)
