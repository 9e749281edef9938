"""Every PromQL query of the provisioned Grafana dashboards, ready to run against Prometheus.

    from tests.deploy.grafana_queries import panel_queries

    for uid, queries in panel_queries().items():
        for title, expr in queries:
            ...  # GET /api/v1/query?query=expr

Grafana's template variables are replaced the way Grafana would: a dashboard variable by its
"All" value (``allValue``, ``.*`` on every BGW variable), Grafana's interval variables by the
values in :data:`GRAFANA_INTERVALS` (override them with ``intervals=``). An unknown variable is
an error, so a misspelt ``$agentid`` cannot pass as a literal.

Also here: :func:`variable_queries` (the ``label_values(...)`` behind each variable),
:func:`tempo_metric_queries` (the Tempo data source's traces-to-metrics queries) and
:func:`metric_names` (the metric names a PromQL expression selects).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = ROOT / "deploy" / "grafana" / "dashboards"
DATASOURCES_FILE = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "datasources.yml"

# $__rate_interval is at least four scrape intervals (4 x 15 s); $__range is the time picker's
# span. Short values keep the queries meaningful against a Prometheus that ran for minutes.
GRAFANA_INTERVALS: Mapping[str, str] = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}

# $name, ${name}, ${name:format} and the deprecated [[name]].
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$")


def load_dashboards(dashboards_dir: Path = DASHBOARDS_DIR) -> dict[str, dict[str, Any]]:
    """Every ``*.json`` dashboard in ``dashboards_dir``, by uid."""
    dashboards: dict[str, dict[str, Any]] = {}
    for path in sorted(dashboards_dir.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        dashboards[board["uid"]] = board
    return dashboards


def iter_panels(board: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that is not a row, including those inside collapsed rows."""
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def dashboard_variables(board: Mapping[str, Any]) -> dict[str, str]:
    """Each template variable's value when "All" is selected (its allValue)."""
    values: dict[str, str] = {}
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("includeAll") and "allValue" in variable:
            values[variable["name"]] = variable["allValue"]
        elif variable.get("type") == "constant":
            values[variable["name"]] = str(variable.get("query", ""))
        else:
            raise ValueError(
                f"variable {variable['name']!r} has no allValue to substitute; give it one"
            )
    return values


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with every template variable replaced; KeyError names an unknown one."""

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group is not None)
        if name not in values:
            raise KeyError(f"unknown template variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def _values(board: Mapping[str, Any], intervals: Mapping[str, str] | None) -> dict[str, str]:
    return {**GRAFANA_INTERVALS, **(intervals or {}), **dashboard_variables(board)}


def panel_queries(
    dashboards_dir: Path = DASHBOARDS_DIR, intervals: Mapping[str, str] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """``{dashboard_uid: [(panel_title, expr), ...]}``: every visible target's PromQL, in panel
    order, with the template variables substituted."""
    queries: dict[str, list[tuple[str, str]]] = {}
    for uid, board in load_dashboards(dashboards_dir).items():
        values = _values(board, intervals)
        queries[uid] = [
            (panel.get("title", ""), substitute(target["expr"], values))
            for panel in iter_panels(board)
            for target in panel.get("targets", [])
            if not target.get("hide") and "expr" in target
        ]
    return queries


def variable_queries(
    dashboards_dir: Path = DASHBOARDS_DIR,
) -> dict[str, list[tuple[str, str, str]]]:
    """``{dashboard_uid: [(variable_name, series_selector, label), ...]}`` for every
    ``label_values(selector, label)`` query variable (selector ``""`` when it has none)."""
    queries: dict[str, list[tuple[str, str, str]]] = {}
    for uid, board in load_dashboards(dashboards_dir).items():
        found = []
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") != "query":
                continue
            query = variable["query"]
            text = query if isinstance(query, str) else query.get("query", "")
            match = _LABEL_VALUES.match(text)
            if match is None:
                raise ValueError(f"{uid}: variable {variable['name']}: not label_values: {text!r}")
            found.append((variable["name"], match.group(1) or "", match.group(2)))
        queries[uid] = found
    return queries


def tempo_metric_queries(
    datasources_file: Path = DATASOURCES_FILE, intervals: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """``[(name, expr), ...]``: the Tempo data source's traces-to-metrics queries, with ``$$``
    read as Grafana reads it (a literal ``$``) and ``$__tags`` empty (a span without the
    mapped attributes)."""
    config = yaml.safe_load(datasources_file.read_text(encoding="utf-8"))
    values = {**GRAFANA_INTERVALS, **(intervals or {}), "__tags": ""}
    queries = []
    for source in config["datasources"]:
        links = source.get("jsonData", {}).get("tracesToMetrics", {})
        for entry in links.get("queries", []):
            queries.append((entry["name"], substitute(entry["query"].replace("$$", "$"), values)))
    return queries


# --- Metric names in PromQL -------------------------------------------------------------------

# The recording rules deploy/bgw_rules.yml defines and the dashboards reuse (the shared contract;
# tests/deploy/test_rules.py checks the rules file defines exactly these).
RECORDING_RULES = frozenset(
    {
        "bgw:api_requests:rate5m",
        "bgw:api_errors:ratio_rate5m",
        "bgw:api_errors:ratio_rate30m",
        "bgw:api_errors:ratio_rate1h",
        "bgw:api_errors:ratio_rate6h",
        "bgw:api_response_time_seconds:p95_5m",
        "endpoint:api_response_time_seconds:p95_5m",
        "bgw:agent_runs:rate5m",
        "bgw:notifications_sent:rate5m",
    }
)

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_TOKENS = re.compile(r"(?P<number>\d[\w.]*)|(?P<name>[A-Za-z_:][\w:]*)")
_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "inf",
        "nan",
    }
)


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects (function and aggregation names, keywords, labels,
    strings, durations and numbers excluded). Meant for valid PromQL: check that first."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    names = set()
    for match in _TOKENS.finditer(text):
        name = match.group("name")
        if name is None or name.lower() in _KEYWORDS:
            continue
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        names.add(name)
    return names
