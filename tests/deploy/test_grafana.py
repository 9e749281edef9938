"""Grafana provisioning (deploy/grafana/): dashboards, data sources, the dashboard provider.

- The committed dashboards are exactly what deploy/grafana/generate.py writes.
- They validate against Grafana's dashboard JSON schema, panel options and Prometheus queries
  included. grafana-foundation-sdk keeps its JSON schema files in its source repository only, so
  scripts/fetch-grafana-schema.sh generates the schemas from the TypeScript types of the same
  SDK build as the PyPI pin (npm, pinned by deploy/grafana/schema/package-lock.json) into
  ${BGW_TOOLS_CACHE:-~/.cache/bgw-tools}; its first run needs npm and the registry.
- Every query, with its template variables substituted, parses with promtool; selects only
  catalog metrics (telemetry.instruments) or the shared recording rules; and follows the
  aggregation rules that keep it independent of the job a series arrives through.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml

from telemetry.instruments import CATALOG, Kind
from tests.deploy.grafana_queries import (
    DASHBOARDS_DIR,
    DATASOURCES_FILE,
    GRAFANA_INTERVALS,
    RECORDING_RULES,
    iter_panels,
    load_dashboards,
    metric_names,
    panel_queries,
    substitute,
    tempo_metric_queries,
    variable_queries,
)

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
GENERATOR = GRAFANA / "generate.py"
PROVIDERS_FILE = GRAFANA / "provisioning" / "dashboards" / "dashboards.yml"
SCHEMA_SCRIPT = ROOT / "scripts" / "fetch-grafana-schema.sh"
RULES_FILE = ROOT / "deploy" / "bgw_rules.yml"
COMPOSE_FILE = ROOT / "docker-compose.yml"

DASHBOARD_UIDS = {"bgw-overview", "bgw-agents", "bgw-api", "bgw-notifications"}
DATASOURCE_TYPES = {"prometheus": "prometheus", "tempo": "tempo", "alertmanager": "alertmanager"}
PROVISIONING_MOUNT = "/etc/grafana/provisioning"


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict[str, Any]]:
    return load_dashboards()


@pytest.fixture(scope="module")
def datasources() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(DATASOURCES_FILE.read_text(encoding="utf-8"))
    return {source["uid"]: source for source in config["datasources"]}


@pytest.fixture(scope="session")
def grafana_schemas() -> dict[str, dict[str, Any]]:
    """The generated schema files, by SDK module (dashboard, prometheus, timeseries, ...)."""
    result = subprocess.run(
        [str(SCHEMA_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"{SCHEMA_SCRIPT.name} failed:\n{result.stderr}")
    match = re.search(r"^GRAFANA_SCHEMA_DIR=(.+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    directory = Path(match.group(1))
    schemas = {
        path.name.removesuffix(".schema.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in directory.glob("*.schema.json")
    }
    assert {"dashboard", "prometheus"} <= schemas.keys(), sorted(schemas)
    return schemas


_VALIDATORS: dict[tuple[int, str], jsonschema.Draft7Validator] = {}


def _validator(module_schema: Mapping[str, Any], definition: str) -> jsonschema.Draft7Validator:
    key = (id(module_schema), definition)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = _new_validator(module_schema, definition)
    return _VALIDATORS[key]


def _new_validator(module_schema: Mapping[str, Any], definition: str) -> jsonschema.Draft7Validator:
    definitions = dict(module_schema["definitions"])
    assert definition in definitions, f"no {definition} in the schema ({sorted(definitions)})"
    if "Dataquery" in definitions:
        # The SDK types a panel's targets as a marker interface (one method, no fields), which
        # the generator renders as a closed empty object; targets are checked separately,
        # against the Prometheus query type.
        definitions["Dataquery"] = {"type": "object"}
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": f"#/definitions/{definition}",
        "definitions": definitions,
    }
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _closest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For "valid under none of anyOf" (a panel is a Panel or a RowPanel), the first error of
    the alternative it came closest to."""
    if not error.context:
        return error
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    alternatives = error.schema.get("anyOf", []) if isinstance(error.schema, dict) else []
    is_row = isinstance(error.instance, dict) and error.instance.get("type") == "row"

    def distance(branch: Any) -> tuple[bool, int]:
        ref = alternatives[branch].get("$ref", "") if isinstance(branch, int) else ""
        return (ref.endswith("/RowPanel") != is_row, len(branches[branch]))

    return _closest(branches[min(branches, key=distance)][0])


def schema_errors(board: Mapping[str, Any], schemas: Mapping[str, dict[str, Any]]) -> list[str]:
    """Every schema violation of ``board``: the dashboard, then each panel's options and
    custom field config (against its panel type's types) and each target (Prometheus query)."""
    errors = [
        f"dashboard: {error.json_path}: {error.message}"
        for error in map(_closest, _validator(schemas["dashboard"], "Dashboard").iter_errors(board))
    ]
    target_validator = _validator(schemas["prometheus"], "dataquery")
    for panel in iter_panels(board):
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        module = schemas.get(panel["type"])
        if module is None:
            errors.append(f"{where}: no schema for panel type {panel['type']!r}")
            continue
        parts = [("options", "Options", panel.get("options", {}))]
        if "FieldConfig" in module["definitions"]:
            custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
            parts.append(("fieldConfig.defaults.custom", "FieldConfig", custom))
        for name, definition, value in parts:
            errors += [
                f"{where}: {name}{error.json_path[1:]}: {error.message}"
                for error in _validator(module, definition).iter_errors(value)
            ]
        for target in panel.get("targets", []):
            errors += [
                f"{where}: target {target.get('refId')}{error.json_path[1:]}: {error.message}"
                for error in target_validator.iter_errors(target)
            ]
    return errors


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bgw_grafana_generate", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_queries() -> list[tuple[str, str]]:
    """(where, expr) for every PromQL expression Grafana runs: panel targets, the series behind
    each variable, and the Tempo data source's traces-to-metrics queries."""
    queries = [
        (f"{uid}: {title}", expr)
        for uid, entries in panel_queries().items()
        for title, expr in entries
    ]
    queries += [
        (f"{uid}: variable {name}", selector)
        for uid, entries in variable_queries().items()
        for name, selector, _label in entries
    ]
    queries += [(f"tempo: {name}", expr) for name, expr in tempo_metric_queries()]
    return queries


def promtool_check(
    queries: Iterable[tuple[str, str]], tmp_path: Path
) -> subprocess.CompletedProcess:
    """`promtool check rules` over one recording rule per query: a real PromQL parse."""
    rules = [
        {"record": f"grafana_query:{index}", "expr": expr}
        for index, (_where, expr) in enumerate(queries)
    ]
    path = tmp_path / "grafana-queries.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": rules}]}))
    return subprocess.run(
        ["promtool", "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _catalog_names() -> set[str]:
    names = set()
    for instrument in CATALOG:
        if instrument.kind is Kind.HISTOGRAM:
            names |= {f"{instrument.name}{suffix}" for suffix in ("_bucket", "_count", "_sum")}
        else:
            names.add(instrument.name)
    return names


def unknown_metrics(expr: str) -> set[str]:
    return metric_names(expr) - _catalog_names() - RECORDING_RULES


def _panels_by_uid(dashboards: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for uid, board in dashboards.items():
        for panel in iter_panels(board):
            yield uid, panel


def _exprs(panel: Mapping[str, Any]) -> list[str]:
    return [target["expr"] for target in panel.get("targets", [])]


def _unit(panel: Mapping[str, Any]) -> str | None:
    return panel.get("fieldConfig", {}).get("defaults", {}).get("unit")


# --- The files --------------------------------------------------------------------------------


def test_the_committed_dashboards_are_the_generators_output() -> None:
    generate = _generator()
    files = {path.stem for path in DASHBOARDS_DIR.glob("*.json")}
    assert files == set(generate.BUILDERS) == DASHBOARD_UIDS
    for uid in generate.BUILDERS:
        committed = (DASHBOARDS_DIR / f"{uid}.json").read_text(encoding="utf-8")
        assert committed == generate.render(uid), (
            f"{uid}.json differs from deploy/grafana/generate.py's output: run it"
        )
    assert generate.main(["--check"]) == 0


def test_dashboards_have_their_uids_refresh_and_variables(
    dashboards: dict[str, dict[str, Any]],
) -> None:
    assert set(dashboards) == DASHBOARD_UIDS
    for uid, board in dashboards.items():
        assert board["refresh"] == "30s", uid
        assert board["title"], uid
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), f"{uid}: duplicate panel ids"

    variables = {
        uid: {
            variable["name"]: variable for variable in board.get("templating", {}).get("list", [])
        }
        for uid, board in dashboards.items()
    }
    expected = {
        "bgw-agents": ("agent_id", "label_values(agent_runs_total, agent_id)"),
        "bgw-api": ("endpoint", "label_values(api_requests_total, endpoint)"),
        "bgw-notifications": ("channel", "label_values(notifications_sent_total, channel)"),
    }
    for uid, (name, query) in expected.items():
        variable = variables[uid][name]
        assert variable["query"] == query
        assert variable["multi"] is True
        assert variable["includeAll"] is True
        assert variable["datasource"] == {"type": "prometheus", "uid": "prometheus"}
        # Every variable filters the panels: some query of its dashboard uses it.
        exprs = [expr for panel in iter_panels(dashboards[uid]) for expr in _exprs(panel)]
        assert any(f"${name}" in expr for expr in exprs), f"{uid}: ${name} is never used"
    assert variables["bgw-overview"] == {}


def test_panels_fit_the_grid_without_overlapping(dashboards: dict[str, dict[str, Any]]) -> None:
    # The schema generated from the SDK's types has no bounds; Grafana's grid is 24 wide.
    for uid, board in dashboards.items():
        taken: dict[tuple[int, int], str] = {}
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert min(pos["w"], pos["h"]) > 0
            assert min(pos["x"], pos["y"]) >= 0
            assert pos["x"] + pos["w"] <= 24, f"{uid}: {panel['title']} is wider than the grid"
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in taken, f"{uid}: {panel['title']} overlaps {taken[x, y]}"
                    taken[x, y] = panel["title"]


# --- Grafana's dashboard schema ---------------------------------------------------------------


@pytest.mark.parametrize("uid", sorted(DASHBOARD_UIDS))
def test_dashboard_validates_against_grafanas_schema(
    uid: str, dashboards: dict[str, dict[str, Any]], grafana_schemas: dict[str, dict[str, Any]]
) -> None:
    assert schema_errors(dashboards[uid], grafana_schemas) == []


def test_schema_validation_rejects_broken_dashboards(
    dashboards: dict[str, dict[str, Any]], grafana_schemas: dict[str, dict[str, Any]]
) -> None:
    original = dashboards["bgw-overview"]

    def first(board: dict[str, Any], panel_type: str) -> dict[str, Any]:
        return next(panel for panel in iter_panels(board) if panel["type"] == panel_type)

    def unknown_top_level(board: dict[str, Any]) -> None:
        board["refresh_rate"] = "30s"

    def width_as_text(board: dict[str, Any]) -> None:
        board["panels"][1]["gridPos"]["w"] = "6"

    def misspelt_panel_option(board: dict[str, Any]) -> None:
        first(board, "timeseries")["options"]["legend"]["placment"] = "bottom"

    def bad_custom_field_config(board: dict[str, Any]) -> None:
        first(board, "timeseries")["fieldConfig"]["defaults"]["custom"]["fillOpacity"] = "ten"

    def misspelt_target_field(board: dict[str, Any]) -> None:
        first(board, "stat")["targets"][0]["exemplars"] = True

    def no_schema_version(board: dict[str, Any]) -> None:
        del board["schemaVersion"]

    for breakage in (
        unknown_top_level,
        width_as_text,
        misspelt_panel_option,
        bad_custom_field_config,
        misspelt_target_field,
        no_schema_version,
    ):
        board = copy.deepcopy(original)
        breakage(board)
        assert schema_errors(board, grafana_schemas), f"{breakage.__name__} was not caught"
    assert schema_errors(original, grafana_schemas) == []


# --- The queries ------------------------------------------------------------------------------


def test_every_query_parses_with_promtool(tmp_path: Path) -> None:
    queries = all_queries()
    assert len(queries) >= 60, len(queries)
    result = promtool_check(queries, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout, result.stdout


def test_the_promtool_check_catches_a_broken_query(tmp_path: Path) -> None:
    queries = [*all_queries(), ("broken", "sum(rate(api_requests_total[5m])")]
    result = promtool_check(queries, tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f'"grafana_query:{len(queries) - 1}": could not parse expression' in output, output
    assert output.count("could not parse expression") == 1, output


def test_template_variables_are_all_known() -> None:
    # panel_queries raised already if any panel used an undefined variable; prove it would.
    values = {**GRAFANA_INTERVALS, "agent_id": ".*"}
    expr = 'sum(rate(agent_runs_total{agent_id=~"$agent_id"}[$__rate_interval]))'
    assert substitute(expr, values) == 'sum(rate(agent_runs_total{agent_id=~".*"}[1m]))'
    assert substitute("x[${__range}]", values) == "x[1h]"
    with pytest.raises(KeyError, match="agentid"):
        substitute('agent_runs_total{agent_id=~"$agentid"}', values)
    for entries in panel_queries().values():
        assert all("$" not in expr and "[[" not in expr for _title, expr in entries)


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (endpoint, le) (rate(api_response_time_seconds_bucket"
        '{endpoint=~"/api/games/{game_id}", status!~"5.."}[5m] offset 1h))) '
        "/ on (endpoint) group_left () (bgw:api_requests:rate5m > 0) or vector(0) "
        "and topk(20, max(daily_pages_used)) unless absent(up)"
    )
    assert metric_names(expr) == {
        "api_response_time_seconds_bucket",
        "bgw:api_requests:rate5m",
        "daily_pages_used",
        "up",
    }
    # What the catalog check rejects: a misspelt name, a wrong suffix, an unknown metric.
    assert unknown_metrics("sum(rate(api_request_total[5m]))") == {"api_request_total"}
    assert unknown_metrics("sum(rate(agent_runs_total_count[5m]))") == {"agent_runs_total_count"}
    assert unknown_metrics("max(up)") == {"up"}
    assert unknown_metrics("sum(rate(agent_duration_seconds_count[5m]))") == set()


def test_every_query_selects_catalog_metrics_or_shared_recording_rules() -> None:
    for where, expr in all_queries():
        assert metric_names(expr), f"{where}: selects no metric: {expr}"
        assert not unknown_metrics(expr), f"{where}: {sorted(unknown_metrics(expr))} in {expr}"


def test_the_recording_rules_used_are_defined_in_the_rules_file() -> None:
    used = {name for _where, expr in all_queries() for name in metric_names(expr) if ":" in name}
    assert used, "the dashboards reuse no recording rule"
    assert used <= RECORDING_RULES
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    recorded = {
        rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule
    }
    assert used <= recorded, sorted(used - recorded)


def _argument_of(before: str, functions: str) -> re.Match[str] | None:
    """The call of one of ``functions`` whose argument list ``before`` ends in, if any."""
    grouping = r"(?:\s+(?:by|without)\s*\([^()]*\))?"
    return re.search(rf"\b(?:{functions}){grouping}\s*\(\s*$", before)


def test_queries_follow_the_aggregation_rules() -> None:
    kinds: dict[str, Kind] = {}
    for instrument in CATALOG:
        if instrument.kind is Kind.HISTOGRAM:
            kinds |= {
                f"{instrument.name}{end}": Kind.COUNTER for end in ("_bucket", "_count", "_sum")
            }
        else:
            kinds[instrument.name] = instrument.kind
    panel_exprs = [
        (f"{uid}: {title}", expr)
        for uid, entries in panel_queries().items()
        for title, expr in entries
    ]
    for where, expr in panel_exprs:
        # No query depends on the job or instance a series arrived through.
        assert not re.search(r"\b(?:job|instance)\s*[!=]~?", expr), f"{where}: {expr}"
        checked = 0
        for match in re.finditer(r"[A-Za-z_:][\w:]*", expr):
            kind = kinds.get(match.group())
            if kind is None or expr[match.end() :].lstrip().startswith("("):
                continue
            before = expr[: match.start()]
            if kind is Kind.COUNTER:
                # A counter only as a rate, and the rate summed across processes.
                call = _argument_of(before, "rate|increase")
                assert call, f"{where}: {match.group()} not in rate(): {expr}"
                assert _argument_of(before[: call.start()], "sum"), f"{where}: not summed: {expr}"
            else:
                # A gauge reported by several processes: max, min or sum over them.
                assert _argument_of(before, "max|min|sum"), f"{where}: {match.group()}: {expr}"
            checked += 1
        # Each query reads a catalog metric this way, or a recording rule (already aggregated).
        assert checked or metric_names(expr) & RECORDING_RULES, f"{where}: {expr}"


# --- What the dashboards show -----------------------------------------------------------------


def test_the_overview_shows_what_the_monitoring_guide_lists(
    dashboards: dict[str, dict[str, Any]],
) -> None:
    panels = [
        (panel["title"], _exprs(panel), panel) for panel in iter_panels(dashboards["bgw-overview"])
    ]

    def panel_with(*patterns: str) -> dict[str, Any]:
        """The panel whose queries, together, match every pattern."""
        for _title, exprs, panel in panels:
            text = "\n".join(exprs)
            if all(re.search(pattern, text) for pattern in patterns):
                return panel
        raise AssertionError(f"no overview panel queries {patterns}")

    panel_with(r"\bsystem_health\b")
    panel_with(r"by \(component\) \(component_health\)")
    panel_with(r"\bactive_agents\b")
    panel_with(r"by \(status\) \((?:bgw:agent_runs:rate5m|.*agent_runs_total)")
    panel_with(r"\bagent_pages_fetched_total\b")
    panel_with(r"\bdaily_pages_used\b", r"\bdaily_pages_cap\b")
    panel_with(r"by \(event_type\) .*events_created_total")
    panel_with(r"by \(store_id\) .*events_created_total")
    panel_with(
        r'(?:bgw:notifications_sent:rate5m|notifications_sent_total)\{[^}]*status="success"',
        r'(?:bgw:notifications_sent:rate5m|notifications_sent_total)\{[^}]*status="error"',
        r"\bnotifications_delivered_total\b",
    )
    panel_with(r"\brules_active\b")
    assert _unit(panel_with(r"bgw:api_requests:rate5m|api_requests_total")) == "reqps"
    assert _unit(panel_with(r"bgw:api_errors:ratio_rate5m")) == "percentunit"
    latency = panel_with(r"histogram_quantile\(0\.95, .*api_response_time_seconds_bucket")
    assert _unit(latency) == "s"
    assert any(target.get("exemplar") is True for target in latency["targets"])
    panel_with(r"\bdatabase_connections_active\b", r"\bredis_connections_active\b")
    assert _unit(panel_with(r"\bscraping_success_rate\b")) == "percent"
    assert _unit(panel_with(r"\bdata_quality_score\b")) == "percentunit"
    assert _unit(panel_with(r"\bstore_coverage\b")) == "percentunit"


def test_panel_units_match_what_they_show(dashboards: dict[str, dict[str, Any]]) -> None:
    rules = [
        (r"histogram_quantile|_seconds:p95|_seconds_sum", "s"),  # durations
        (r"\bscraping_success_rate\b", "percent"),  # a 0-100 gauge
        (r"data_quality_score|store_coverage|event_dedup_ratio|:ratio_rate| / ", "percentunit"),
        (r"bgw:api_requests:rate5m|rate\(api_requests_total", "reqps"),
        (r"\* 60$", "suffix: /мин"),
        (r"\* 3600$", "suffix: /ч"),
    ]
    for uid, panel in _panels_by_uid(dashboards):
        text = "\n".join(_exprs(panel))
        where = f"{uid}: {panel['title']}: {_unit(panel)} for {text}"
        expected = next(
            (unit for pattern, unit in rules if re.search(pattern, text, re.MULTILINE)), None
        )
        if expected is None:
            assert _unit(panel) in {"none", "short"}, where  # counts and states
        else:
            assert _unit(panel) == expected, where


def test_api_latency_panels_offer_exemplars(dashboards: dict[str, dict[str, Any]]) -> None:
    found = 0
    for uid, panel in _panels_by_uid(dashboards):
        for target in panel.get("targets", []):
            if re.search(
                r"histogram_quantile\(0\.95, .*api_response_time_seconds_bucket", target["expr"]
            ):
                assert target.get("exemplar") is True, f"{uid}: {panel['title']}"
                found += 1
    assert found >= 2


# --- Data sources and the dashboard provider --------------------------------------------------


def test_datasources_have_fixed_uids_and_link_to_each_other(
    datasources: dict[str, dict[str, Any]], dashboards: dict[str, dict[str, Any]]
) -> None:
    assert {uid: source["type"] for uid, source in datasources.items()} == DATASOURCE_TYPES
    prometheus, tempo, alertmanager = (datasources[uid] for uid in DATASOURCE_TYPES)
    assert prometheus["url"] == "http://prometheus:9090"
    assert prometheus["isDefault"] is True
    assert prometheus["jsonData"]["exemplarTraceIdDestinations"] == [
        {"name": "trace_id", "datasourceUid": "tempo"}
    ]
    assert prometheus["jsonData"]["alertmanagerUid"] == "alertmanager"
    assert tempo["url"] == "http://tempo:3200"
    assert tempo["jsonData"]["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["jsonData"]["serviceMap"]["datasourceUid"] == "prometheus"
    assert alertmanager["url"] == "http://alertmanager:9093"
    assert alertmanager["jsonData"]["implementation"] == "prometheus"
    assert [name for name, _expr in tempo_metric_queries()], "Tempo links to no metric query"

    # Every data source reference in the dashboards names a provisioned one, by uid and type.
    def references(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if isinstance(node.get("datasource"), dict):
                yield node["datasource"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    found = [ref for board in dashboards.values() for ref in references(board)]
    assert len(found) > 100
    for ref in found:
        assert ref["uid"] in datasources, ref
        assert ref["type"] == datasources[ref["uid"]]["type"], ref


def test_the_dashboard_provider_loads_the_mounted_directory() -> None:
    config = yaml.safe_load(PROVIDERS_FILE.read_text(encoding="utf-8"))
    [provider] = config["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    assert path == "/var/lib/grafana/dashboards"
    readme = (GRAFANA / "README.md").read_text(encoding="utf-8")
    assert path in readme
    assert PROVISIONING_MOUNT in readme

    # docker-compose.yml mounts both directories where Grafana reads them.
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    mounts = {}
    for volume in compose["services"]["grafana"]["volumes"]:
        source, target, *_mode = volume.split(":")
        mounts[source] = target
    assert mounts["./deploy/grafana/dashboards"] == path
    assert mounts["./deploy/grafana/provisioning"] == PROVISIONING_MOUNT
