"""End to end: the real service scraped by a real Prometheus running this repository's rules,
alerting through a real Alertmanager to a webhook.

Proves, against the live demo workload: the API target is up through the compose job's path and
token; every catalog metric arrives with its catalog labels; every dashboard panel and variable
query, every recording rule and every alert's expression (or, for alerts that are silent on a
healthy stack, the parts it compares) returns data; and an API outage becomes the critical
``BGWApiUnavailable`` notification at the critical receiver, which resolves after a restart.

The checks and their exemption lists (with reasons; an exemption that no longer matches a query is
an error, so the lists cannot rot) are shared with the collector path in ``tests/e2e/queries.py``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
import yaml

from telemetry.instruments import CATALOG, Kind
from tests.e2e import queries
from tests.e2e.stack import ALERTMANAGER_CONFIG, Delivery, Stack, eventually

# Labels Prometheus attaches to every scraped series (not part of the catalog).
TARGET_LABELS = frozenset({"__name__", "job", "instance"})

# The parts of the alerts that have no data on this stack: only the ones both paths share.
ALERT_PART_EXEMPTIONS = queries.ALERT_PART_EXEMPTIONS

OUTAGE_GRACE = 120  # beyond the rule's `for`: scrape, evaluation, Alertmanager's group_wait
RESOLVE_TIMEOUT = 120  # the demo's restart, a scrape, an evaluation, group_interval


def duration_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+)(ms|s|m|h|d)", text)
    assert "".join(n + u for n, u in parts) == text, f"bad duration {text!r}"
    return sum(int(number) * units[unit] for number, unit in parts)


def alert_rule(stack: Stack, name: str) -> dict[str, Any]:
    (rule,) = (rule for rule in queries.rules_of(stack.rules, "alert") if rule["alert"] == name)
    return rule


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
    eventually(down, queries.QUERY_TIMEOUT, "targets not up", stack.logs)
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

    eventually(wrong, queries.QUERY_TIMEOUT, "catalog metrics missing or mislabelled", stack.logs)
    assert len(expected) == len(CATALOG) + 2 * sum(i.kind is Kind.HISTOGRAM for i in CATALOG)


# --- Dashboards -------------------------------------------------------------------------------


def test_every_dashboard_panel_query_returns_data(stack: Stack) -> None:
    checked, total, flat = queries.check_panel_queries(stack.prom, stack.logs)
    print(
        f"\n{checked} panel queries returned data ({total} in all); "
        f"{len(flat)} only 0 or NaN at this moment: {flat}"
    )


def test_the_workload_moves_the_dashboards(stack: Stack) -> None:
    peaks = queries.check_workload_panels(stack.prom, stack.logs, stack.started_epoch)
    print(f"\npeaks of the panels the workload moves: {peaks}")


def test_every_dashboard_variable_has_values(stack: Stack) -> None:
    queries.check_variables(stack.prom, stack.logs)


def test_tempo_traces_to_metrics_queries_return_data(stack: Stack) -> None:
    queries.check_tempo_queries(stack.prom, stack.logs)


# --- Rules ------------------------------------------------------------------------------------


def test_prometheus_loaded_every_rule_and_evaluates_it_without_error(stack: Stack) -> None:
    queries.check_rules_loaded(stack.prom, stack.rules, stack.logs)


def test_every_recording_rule_returns_data(stack: Stack) -> None:
    checked = queries.check_recording_rules(stack.prom, stack.rules, stack.logs)
    print(f"\n{checked // 2} recording rules returned data (record and expression)")


def test_every_alert_expression_evaluates_and_what_it_compares_returns_data(
    stack: Stack,
) -> None:
    alerts, parts = queries.check_alert_parts(
        stack.prom, stack.rules, stack.logs, ALERT_PART_EXEMPTIONS
    )
    print(f"\n{alerts} alert expressions evaluated, {parts} of their parts had data")


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
