"""deploy/bgw_rules.yml: promtool checks it and runs its unit tests (deploy/tests/*.yml); every
alert has a firing and a silent case, the labels and annotations the runbooks and Alertmanager rely
on, and queries only metrics that exist (the catalog, the recording rules, Prometheus' own)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry.instruments import CATALOG, Kind
from tests.deploy.grafana_queries import RECORDING_RULES, metric_names

RULES = Path("deploy/bgw_rules.yml")
TESTS = Path("deploy/tests")
RUNBOOKS = Path("docs/runbooks.md")
RUNBOOK_BASE = "https://github.com/bgw/bgw/blob/main/docs/runbooks.md#"

# The alert set decided for issue 6 (name -> severity).
EXPECTED_ALERTS = {
    "BGWApiUnavailable": "critical",
    "BGWDatabaseDown": "critical",
    "BGWNoAgentRuns": "critical",
    "BGWApiErrorBudgetBurnFast": "critical",
    "BGWHighErrorRate": "warning",
    "BGWHighLatency": "warning",
    "BGWNotificationFailures": "warning",
    "BGWDailyQuotaExceeded": "warning",
    "BGWApiErrorBudgetBurnSlow": "warning",
}
# Series Prometheus itself writes (scrape health, alert state), and the exporter's resource family.
BUILTIN_SERIES = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "ALERTS",
    "ALERTS_FOR_STATE",
    "target_info",
}


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def rules(root: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load((root / RULES).read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def alerts(root: Path) -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules(root) if "alert" in rule}


def unit_test_files(root: Path) -> list[Path]:
    return sorted((root / TESTS).glob("*.yml"))


def catalog_series() -> set[str]:
    """The exposed series names: counters already end in _total; histograms add three."""
    names: set[str] = set()
    for instrument in CATALOG:
        if instrument.kind is Kind.HISTOGRAM:
            names |= {f"{instrument.name}_{suffix}" for suffix in ("bucket", "count", "sum")}
        else:
            names.add(instrument.name)
    return names


def template_queries(annotations: dict[str, str]) -> list[str]:
    """PromQL run by annotation templates: {{ query "..." }}."""
    return [
        match.group(1)
        for text in annotations.values()
        for match in re.finditer(r'query\s+"((?:[^"\\]|\\.)*)"', text)
    ]


def unit_tests(root: Path) -> list[dict[str, Any]]:
    groups = []
    for path in unit_test_files(root):
        groups.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["tests"])
    return groups


def github_anchor(heading: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


# --- promtool -------------------------------------------------------------------------------------


def test_promtool_check_rules_passes(promtool: Path, repo_root: Path) -> None:
    result = run(promtool, "check", "rules", repo_root / RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules(repo_root))} rules found" in result.stdout


def test_promtool_unit_tests_pass(promtool: Path, repo_root: Path) -> None:
    files = unit_test_files(repo_root)
    assert len(files) >= 5
    result = run(promtool, "test", "rules", *files, cwd=repo_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)
    assert "FAILED" not in result.stdout


def copy_rules_and_tests(repo_root: Path, destination: Path) -> Path:
    """deploy/ with the rules and their tests only, so a test may break the copy."""
    deploy = destination / "deploy"
    shutil.copytree(repo_root / TESTS, deploy / "tests")
    shutil.copy(repo_root / RULES, deploy / RULES.name)
    return deploy


def test_unit_tests_fail_when_a_threshold_is_wrong(
    promtool: Path, repo_root: Path, tmp_path: Path
) -> None:
    deploy = copy_rules_and_tests(repo_root, tmp_path)
    rules_file = deploy / RULES.name
    text = rules_file.read_text(encoding="utf-8")
    broken = text.replace(
        "expr: bgw:api_errors:ratio_rate5m > 0.05", "expr: bgw:api_errors:ratio_rate5m > 0.5"
    )
    assert broken != text
    rules_file.write_text(broken, encoding="utf-8")

    result = run(promtool, "test", "rules", *sorted((deploy / "tests").glob("*.yml")))
    assert result.returncode != 0
    assert "alertname: BGWHighErrorRate" in result.stdout + result.stderr


def test_unit_tests_fail_when_a_guard_is_dropped(
    promtool: Path, repo_root: Path, tmp_path: Path
) -> None:
    """Without the start-up guard BGWNoAgentRuns fires in the first 10 minutes: a test sees it."""
    deploy = copy_rules_and_tests(repo_root, tmp_path)
    rules_file = deploy / RULES.name
    text = rules_file.read_text(encoding="utf-8")
    broken = text.replace("and on () (max(active_agents offset 10m) > 0)", "")
    assert broken != text
    rules_file.write_text(broken, encoding="utf-8")

    result = run(promtool, "test", "rules", deploy / "tests" / "agents_test.yml")
    assert result.returncode != 0
    assert "alertname: BGWNoAgentRuns, time: 9m" in result.stdout + result.stderr


def test_check_rules_fails_on_a_syntax_error(
    promtool: Path, repo_root: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "bgw_rules.yml"
    text = (repo_root / RULES).read_text(encoding="utf-8")
    broken.write_text(text.replace("max(active_agents) > 0)", "max(active_agents) > )"), "utf-8")
    result = run(promtool, "check", "rules", broken)
    assert result.returncode != 0
    assert "parse error" in result.stdout + result.stderr


# --- coverage of the unit tests -------------------------------------------------------------------


def test_every_alert_has_a_firing_and_a_silent_case(repo_root: Path) -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for group in unit_tests(repo_root):
        assert "interval" in group, f"{group['name']}: Debian's promtool 2.42 needs interval"
        for case in group.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    defined = set(alerts(repo_root))
    assert firing | silent <= defined, f"tests name unknown alerts: {(firing | silent) - defined}"
    assert defined - firing == set(), "alerts never shown to fire"
    assert defined - silent == set(), "alerts never shown to stay silent"


def test_every_recording_rule_has_its_value_tested(repo_root: Path) -> None:
    tested = " ".join(
        case["expr"]
        for group in unit_tests(repo_root)
        for case in group.get("promql_expr_test", [])
    )
    recorded = {rule["record"] for rule in rules(repo_root) if "record" in rule}
    assert {name for name in recorded if name not in metric_names(tested)} == set()


def test_firing_cases_spell_out_every_label_and_annotation(repo_root: Path) -> None:
    defined = alerts(repo_root)
    for group in unit_tests(repo_root):
        for case in group.get("alert_rule_test", []):
            rule = defined[case["alertname"]]
            for expected in case.get("exp_alerts") or []:
                assert set(rule["labels"].items()) <= set(expected["exp_labels"].items())
                assert set(expected["exp_annotations"]) == set(rule["annotations"])


# --- the rules themselves -------------------------------------------------------------------------


def test_the_decided_alerts_and_recording_rules_exist(repo_root: Path) -> None:
    assert {name: rule["labels"]["severity"] for name, rule in alerts(repo_root).items()} == (
        EXPECTED_ALERTS
    )
    assert {rule["record"] for rule in rules(repo_root) if "record" in rule} == RECORDING_RULES


def test_alerts_carry_service_summary_description_and_runbook(repo_root: Path) -> None:
    runbooks = (repo_root / RUNBOOKS).read_text(encoding="utf-8")
    anchors = {
        github_anchor(line.lstrip("#")) for line in runbooks.splitlines() if line.startswith("#")
    }
    for name, rule in alerts(repo_root).items():
        assert rule["labels"]["service"] == "bgw", name
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}, name
        summary = rule["annotations"]["summary"]
        assert summary.endswith("."), f"{name}: the summary is a sentence"
        assert ". " not in summary, f"{name}: the summary is one sentence"
        assert "{{" in rule["annotations"]["description"], f"{name}: description is a template"
        assert rule["annotations"]["runbook_url"] == RUNBOOK_BASE + name.lower()
        assert name.lower() in anchors, f"docs/runbooks.md has no section for {name}"


def test_rules_use_only_known_metrics(repo_root: Path) -> None:
    known = catalog_series() | BUILTIN_SERIES
    known |= {rule["record"] for rule in rules(repo_root) if "record" in rule}
    for rule in rules(repo_root):
        queries = [rule["expr"], *template_queries(rule.get("annotations", {}))]
        for query in queries:
            unknown = metric_names(query) - known
            assert unknown == set(), f"{rule.get('alert') or rule['record']}: {unknown}"


def test_business_queries_do_not_depend_on_a_job(repo_root: Path) -> None:
    """The API's bridge and the collector both carry business metrics: only `up` names a job."""
    for rule in rules(repo_root):
        without_up = re.sub(r'\bup\{job="bgw-api"\}', "", rule["expr"])
        assert "job" not in without_up, rule
        assert "instance" not in without_up, rule


def test_metric_names_finds_selectors_and_ignores_the_rest() -> None:
    expression = (
        "histogram_quantile(0.95, sum by (le, endpoint) (rate(api_response_time_seconds_bucket"
        '{status=~"5..", le!="+Inf"}[5m]))) and on () (max(active_agents offset 10m) > bool 0)'
        ' or label_replace(vector(1e3), "scope", "global", "", "") unless up'
    )
    assert metric_names(expression) == {"api_response_time_seconds_bucket", "active_agents", "up"}
    assert template_queries({"description": 'x {{ with query "max(rules_active)" }}{{ end }}'}) == [
        "max(rules_active)"
    ]


def test_an_unknown_metric_is_caught(repo_root: Path) -> None:
    known = catalog_series() | BUILTIN_SERIES
    assert metric_names("sum(rate(agent_runs[5m]))") - known == {"agent_runs"}
    assert metric_names("api_response_time_seconds > 1") - known == {"api_response_time_seconds"}
    assert metric_names("sum(rate(api_response_time_seconds_count[5m]))") - known == set()


@pytest.mark.parametrize("alert", sorted(EXPECTED_ALERTS))
def test_runbook_section_names_the_alert_query(repo_root: Path, alert: str) -> None:
    """Each runbook section shows the alert's expression as it is in the rules file."""
    runbooks = (repo_root / RUNBOOKS).read_text(encoding="utf-8")
    section = runbooks.split(f"## {alert}\n", 1)[1].split("\n## ", 1)[0]
    expression = " ".join(alerts(repo_root)[alert]["expr"].split())
    assert expression in " ".join(section.split()), f"docs/runbooks.md#{alert.lower()}"
