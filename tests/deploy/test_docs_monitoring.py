"""The monitoring docs against what is built: docs/monitoring.ru.md, docs/scaling.md and the
README's "The full stack" section.

- The guide's catalog tables list exactly the catalog (telemetry.instruments): names, types,
  labels. Every alert and recording rule of deploy/bgw_rules.yml, every dashboard uid and URL,
  every Prometheus job, every Alertmanager secret file and every host port compose publishes
  is named in the guide.
- Every ```promql block's queries parse with promtool (as recording rules) and select only
  catalog metrics, the recording rules or Prometheus' `up`.
- docs/scaling.md's configuration snippets load in the real tools: Prometheus blocks merged into
  deploy/prometheus.yml pass `promtool check config`, collector blocks pass
  `otelcol-bgw validate` (except one named exporter that only the contrib image has), compose
  blocks name compose services.
- Relative links resolve. Broken copies of the guide are rejected by the same checks.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry.instruments import CATALOG, Kind
from tests.collector.stack import build_collector
from tests.deploy.grafana_queries import metric_names

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "monitoring.ru.md"
SCALING = ROOT / "docs" / "scaling.md"
README = ROOT / "README.md"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
RULES_FILE = ROOT / "deploy" / "bgw_rules.yml"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus.yml"
ALERTMANAGER_FILE = ROOT / "deploy" / "alertmanager.yml"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DASHBOARDS_DIR = ROOT / "deploy" / "grafana" / "dashboards"

# Series Prometheus makes itself that a query in the guide may select besides the catalog.
PROMETHEUS_SERIES = frozenset({"up"})
# The host ports the brief's contract names; the test also requires every published port.
CONTRACT_PORTS = ("3001", "9090", "8000", "9093")
# In scaling.md, collector snippets may use components the minimal build lacks only from here.
CONTRIB_ONLY_EXPORTERS = frozenset({"loadbalancing"})

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S
)
_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
_KINDS = {kind.value for kind in Kind}


# --- Reading the docs -------------------------------------------------------------------------


def fenced_blocks(text: str, lang: str) -> list[str]:
    """The bodies of the ```lang blocks (indented ones too, with their indentation removed)."""
    blocks = []
    for match in _FENCE.finditer(text):
        if match.group("lang") != lang:
            continue
        indent = match.group("indent")
        lines = match.group("body").splitlines()
        blocks.append("\n".join(line.removeprefix(indent) for line in lines))
    return blocks


def promql_queries(text: str) -> list[str]:
    """Every query of the ```promql blocks: blank lines separate queries, `#` lines are
    comments."""
    queries = []
    for block in fenced_blocks(text, "promql"):
        for chunk in re.split(r"\n\s*\n", block):
            lines = [line for line in chunk.splitlines() if not line.lstrip().startswith("#")]
            query = "\n".join(lines).strip()
            if query:
                queries.append(query)
    return queries


def catalog_rows(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The guide's catalog tables: rows whose second cell is an instrument kind, as
    ``{name: (kind, labels)}``. A name listed twice is an error."""
    rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[1] not in _KINDS:
            continue
        name = cells[0].strip("`")
        labels = tuple(label.strip().strip("`") for label in cells[2].split(",") if "`" in label)
        assert name not in rows, f"{name} is listed twice"
        rows[name] = (cells[1], labels)
    return rows


def missing(text: str, names: Iterable[str]) -> list[str]:
    """The names that do not occur in ``text`` as whole words."""
    return sorted(
        name for name in names if not re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", text)
    )


def broken_links(doc: Path, text: str) -> list[str]:
    """Relative links of ``doc`` whose file (or, within runbooks.md, heading) does not exist."""
    broken = []
    for match in _LINK.finditer(text):
        target = match.group("target")
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: checked by nobody here
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        unknown_anchor = bool(anchor) and file.suffix == ".md"
        if not file.exists() or (unknown_anchor and anchor not in markdown_anchors(file)):
            broken.append(target)
    return broken


def markdown_anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file (enough for ASCII headings)."""
    anchors = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif line.startswith("#") and not in_code:
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def severity_section(text: str, severity: str) -> str:
    """The text under the heading that ends in ``(severity)``, up to the next heading."""
    match = re.search(rf"^#+ [^\n]*\({severity}\)\n(?P<body>.*?)(?=^#)", text, re.M | re.S)
    assert match, f"no heading for {severity}"
    return match.group("body")


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(?P<body>.*?)(?=^## )", text, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group("body")


# --- What is built ----------------------------------------------------------------------------


def catalog() -> dict[str, tuple[str, tuple[str, ...]]]:
    return {i.name: (i.kind.value, i.labels) for i in CATALOG}


def selectable_names() -> set[str]:
    """Series names a query may select: catalog metrics (histograms as their three series), the
    recording rules, and Prometheus' own ``up``."""
    names = set(PROMETHEUS_SERIES) | recording_rules()
    for instrument in CATALOG:
        if instrument.kind is Kind.HISTOGRAM:
            names |= {f"{instrument.name}_{suffix}" for suffix in ("bucket", "sum", "count")}
        else:
            names.add(instrument.name)
    return names


def _rules() -> list[dict[str, Any]]:
    config = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    return [rule for group in config["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in _rules() if "alert" in rule}


def recording_rules() -> set[str]:
    return {rule["record"] for rule in _rules() if "record" in rule}


def dashboards() -> dict[str, dict[str, Any]]:
    boards = {}
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        boards[board["uid"]] = board
    return boards


def scrape_jobs() -> set[str]:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    return {job["job_name"] for job in config["scrape_configs"]}


def alertmanager_secret_files() -> set[str]:
    """The file names behind every ``*_file`` field of deploy/alertmanager.yml."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key.endswith("_file") and isinstance(value, str):
                    found.add(Path(value).name)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(ALERTMANAGER_FILE.read_text(encoding="utf-8")))
    return found


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def published_host_ports() -> set[str]:
    ports = set()
    for service in compose()["services"].values():
        for entry in service.get("ports", []):
            ports.add(str(entry).split(":")[-2])  # "HOST:CONTAINER" or "IP:HOST:CONTAINER"
    return ports


# --- The checks, as functions of a text (so broken copies can be fed to them) ----------------


def catalog_table_problems(text: str) -> list[str]:
    rows, expected = catalog_rows(text), catalog()
    problems = [f"{name}: not in the guide's tables" for name in sorted(expected.keys() - rows)]
    problems += [f"{name}: not in the catalog" for name in sorted(rows.keys() - expected)]
    problems += [
        f"{name}: the guide says {rows[name]}, the catalog {expected[name]}"
        for name in sorted(rows.keys() & expected.keys())
        if rows[name] != expected[name]
    ]
    return problems


def unknown_names(queries: Iterable[str]) -> dict[str, set[str]]:
    allowed = selectable_names()
    return {
        query: metric_names(query) - allowed
        for query in queries
        if not metric_names(query) or metric_names(query) - allowed
    }


def promtool_check(
    promtool: Path, queries: list[str], tmp_path: Path
) -> subprocess.CompletedProcess:
    """`promtool check rules` over one recording rule per query: Prometheus' own parser."""
    rules = [
        {"record": f"guide_query:{index}", "expr": query} for index, query in enumerate(queries)
    ]
    path = tmp_path / "guide-queries.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "guide", "rules": rules}]}))
    return subprocess.run(
        [str(promtool), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scaling() -> str:
    return SCALING.read_text(encoding="utf-8")


# --- docs/monitoring.ru.md --------------------------------------------------------------------


def test_the_catalog_tables_list_exactly_the_catalog(guide: str) -> None:
    assert len(catalog_rows(guide)) == len(CATALOG) >= 20
    assert catalog_table_problems(guide) == []


def test_every_metric_of_the_catalog_is_named(guide: str) -> None:
    assert missing(guide, catalog()) == []


def test_every_alert_is_named_with_its_severity_and_runbook(guide: str) -> None:
    found = alerts()
    assert len(found) >= 9
    assert missing(guide, found) == []
    for name, rule in found.items():
        anchor = name.lower()
        assert rule["annotations"]["runbook_url"].endswith(f"runbooks.md#{anchor}")
        row = next(line for line in guide.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"](runbooks.md#{anchor})" in row, row
        assert f"| {rule['for']} |" in row, f"{name}: for {rule['for']} not in {row}"
        severity = rule["labels"]["severity"]
        assert f"`{name}`" in severity_section(guide, severity), f"{name} not under {severity}"


def test_every_recording_rule_is_named(guide: str) -> None:
    assert len(recording_rules()) >= 9
    assert missing(guide, recording_rules()) == []


def test_every_dashboard_is_named_with_its_url_and_variables(guide: str) -> None:
    boards = dashboards()
    assert {"bgw-overview", "bgw-agents", "bgw-api", "bgw-notifications"} <= set(boards)
    for uid, board in boards.items():
        assert f"http://localhost:3001/d/{uid}" in guide, uid
        assert board["title"] in guide, board["title"]
        assert board["refresh"] == "30s"
        for variable in board.get("templating", {}).get("list", []):
            assert f"`{variable['name']}`" in guide, f"{uid}: variable {variable['name']}"


def test_ports_jobs_and_secret_files_are_named(guide: str) -> None:
    published = published_host_ports()
    assert set(CONTRACT_PORTS) <= published
    unnamed = [port for port in published if not re.search(rf"(?<!\d){port}(?!\d)", guide)]
    assert unnamed == []
    for url in (
        "http://localhost:3001",
        "http://localhost:9090/targets",
        "http://localhost:9093",
        "http://localhost:8000/api/metrics/prometheus",
        "http://localhost:8000/api/metrics/health",
    ):
        assert url in guide, url
    assert missing(guide, scrape_jobs()) == []
    secrets = alertmanager_secret_files()
    assert len(secrets) == 3, secrets
    assert missing(guide, {f"deploy/secrets/{name}" for name in secrets}) == []
    prometheus = compose()["services"]["prometheus"]["command"]
    for flag in (f for f in prometheus if f.startswith(("--storage.tsdb.retention", "--enable"))):
        assert flag in guide, flag


def test_every_promql_query_parses_with_promtool(
    promtool: Path, guide: str, tmp_path: Path
) -> None:
    queries = promql_queries(guide)
    assert len(queries) >= 15, queries
    result = promtool_check(promtool, queries, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout, result.stdout


def test_every_promql_query_selects_catalog_metrics_or_recording_rules(guide: str) -> None:
    queries = promql_queries(guide)
    assert unknown_names(queries) == {}
    # The corrected examples from the seed are there, as written.
    for query in (
        "histogram_quantile(0.95, sum by (le) (rate(api_response_time_seconds_bucket[5m])))",
        "sum(rate(events_created_total[5m]))",
        "sum by (agent_id) (rate(agent_pages_fetched_total[5m]))",
    ):
        assert query in queries, query


def test_relative_links_resolve(guide: str, scaling: str) -> None:
    for doc, text in ((GUIDE, guide), (SCALING, scaling)):
        assert _LINK.search(text), doc
        assert broken_links(doc, text) == [], doc


def test_the_checks_reject_a_broken_guide(promtool: Path, guide: str, tmp_path: Path) -> None:
    # A misspelt metric in a query: promtool parses it, the catalog check does not.
    misspelt = guide.replace(
        "sum(rate(events_created_total[5m]))", "sum(rate(events_create_total[5m]))", 1
    )
    assert misspelt != guide
    assert unknown_names(promql_queries(misspelt)) == {
        "sum(rate(events_create_total[5m]))": {"events_create_total"}
    }
    # The seed's query: valid PromQL, but no such series exists.
    seed = "histogram_quantile(0.95, api_response_time_seconds)"
    assert unknown_names([seed]) == {seed: {"api_response_time_seconds"}}
    # A query that does not parse: promtool names it.
    queries = [*promql_queries(guide), "sum(rate(api_requests_total[5m])"]
    result = promtool_check(promtool, queries, tmp_path)
    assert result.returncode != 0
    assert f'"guide_query:{len(queries) - 1}": could not parse' in result.stdout + result.stderr
    # A wrong type, a missing label, a row that is not in the catalog, a missing row.
    wrong = guide.replace("| `rules_active` | gauge |", "| `rules_active` | counter |", 1)
    wrong = wrong.replace("| `agent_id`, `status` |", "| `agent_id` |", 1)
    wrong = wrong.replace("| `store_coverage` |", "| `store_coverage_ratio` |", 1)
    wrong = re.sub(r"^\| `event_dedup_ratio` \|.*\n", "", wrong, count=1, flags=re.M)
    assert catalog_table_problems(wrong) == [
        "event_dedup_ratio: not in the guide's tables",
        "store_coverage: not in the guide's tables",
        "store_coverage_ratio: not in the catalog",
        "agent_runs_total: the guide says ('counter', ('agent_id',)), "
        "the catalog ('counter', ('agent_id', 'status'))",
        "rules_active: the guide says ('counter', ()), the catalog ('gauge', ())",
    ]
    # An alert, a dashboard URL and a link that are gone or wrong.
    assert missing(guide.replace("BGWHighLatency", "BGWSlowApi"), alerts()) == ["BGWHighLatency"]
    assert missing("bgw-overviews", {"bgw-overview"}) == ["bgw-overview"]
    assert broken_links(GUIDE, "[x](runbooks.md#bgwhighlatencyy) [y](telemetri.md)") == [
        "runbooks.md#bgwhighlatencyy",
        "telemetri.md",
    ]


# --- docs/scaling.md --------------------------------------------------------------------------


def _yaml_blocks(text: str) -> list[dict[str, Any]]:
    blocks = [yaml.safe_load(block) for block in fenced_blocks(text, "yaml")]
    assert all(isinstance(block, dict) for block in blocks)
    return blocks


def _prometheus_config_with(block: Mapping[str, Any], tmp_path: Path) -> Path:
    """deploy/prometheus.yml with ``block`` merged in (its jobs replace same-named ones), every
    secret file pointed at an empty file in ``tmp_path``, the rules file beside it."""
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    if "global" in block:
        config["global"] = {**config["global"], **block["global"]}
    if "remote_write" in block:
        config["remote_write"] = copy.deepcopy(block["remote_write"])
    for job in block.get("scrape_configs", []):
        config["scrape_configs"] = [
            other for other in config["scrape_configs"] if other["job_name"] != job["job_name"]
        ] + [copy.deepcopy(job)]

    def point_at_temp_files(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_file") and isinstance(value, str):
                    node[key] = str(tmp_path / Path(value).name)
                    (tmp_path / Path(value).name).touch()
                else:
                    point_at_temp_files(value)
        elif isinstance(node, list):
            for item in node:
                point_at_temp_files(item)

    point_at_temp_files(config)
    (tmp_path / "bgw_rules.yml").write_text(RULES_FILE.read_text(encoding="utf-8"))
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _collector_components(config: Mapping[str, Any]) -> set[str]:
    return {
        name.split("/")[0]
        for section in ("receivers", "processors", "exporters", "extensions")
        for name in config.get(section, {})
    }


def test_scaling_prometheus_snippets_pass_promtool(
    promtool: Path, scaling: str, tmp_path: Path
) -> None:
    blocks = [
        b for b in _yaml_blocks(scaling) if {"remote_write", "scrape_configs", "global"} & set(b)
    ]
    assert len(blocks) == 2, blocks  # the bgw-api job for several API processes; remote_write
    for index, block in enumerate(blocks):
        directory = tmp_path / str(index)
        directory.mkdir()
        path = _prometheus_config_with(block, directory)
        result = subprocess.run(
            [str(promtool), "check", "config", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    # And the check can fail: an unknown remote_write field is refused.
    broken = copy.deepcopy(next(b for b in blocks if "remote_write" in b))
    broken["remote_write"][0]["queue_confg"] = {}
    directory = tmp_path / "broken"
    directory.mkdir()
    result = subprocess.run(
        [str(promtool), "check", "config", str(_prometheus_config_with(broken, directory))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "queue_confg" in result.stdout + result.stderr


def test_scaling_collector_snippets_validate(scaling: str, tmp_path: Path) -> None:
    blocks = [b for b in _yaml_blocks(scaling) if "exporters" in b]
    full = [b for b in blocks if "service" in b]
    partial = [b for b in blocks if "service" not in b]
    assert len(full) == 1, blocks
    assert len(partial) == 1, blocks
    # The one snippet the minimal build cannot load names only the contrib-only exporter.
    assert set(partial[0]) == {"exporters"}
    assert _collector_components(partial[0]) == CONTRIB_ONLY_EXPORTERS

    binary = build_collector()
    valid = _otelcol_validate(binary, full[0], tmp_path / "agent.yaml")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    # And the check can fail: a misspelt queue setting is refused.
    broken = _otelcol_validate(binary, _with_unknown_key(full[0]), tmp_path / "broken.yaml")
    assert broken.returncode != 0
    assert "queu_size" in broken.stdout + broken.stderr, broken.stdout + broken.stderr


def _otelcol_validate(
    binary: Path, config: Mapping[str, Any], path: Path
) -> subprocess.CompletedProcess:
    path.write_text(yaml.safe_dump(dict(config)))
    return subprocess.run(
        [str(binary), "validate", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _with_unknown_key(config: Mapping[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(dict(config))
    exporter = next(iter(broken["exporters"].values()))
    exporter["sending_queue"]["queu_size"] = exporter["sending_queue"].pop("queue_size")
    return broken


def test_scaling_compose_snippet_names_compose_services(scaling: str) -> None:
    blocks = [b for b in _yaml_blocks(scaling) if "services" in b]
    assert len(blocks) == 1
    services = compose()["services"]
    for name, service in blocks[0]["services"].items():
        assert name in services, name
        assert service["command"][0] == "bgw"
        # Overrides only what the api already sets: the rest of its wiring stays.
        assert set(service["environment"]) <= {
            "OTEL_METRICS_EXPORTER",
            "OTEL_METRIC_EXPORT_INTERVAL",
        }
        assert services[name]["environment"]["OTEL_METRICS_EXPORTER"] == "none"


# --- README ------------------------------------------------------------------------------------


def test_the_readme_full_stack_section_points_at_the_stack_and_the_docs() -> None:
    section = readme_section("The full stack")
    for needle in (
        "cp .env.example .env && docker compose up -d",
        "docker compose up -d prometheus grafana",
        "docker compose --profile node up -d",
        "http://localhost:3001",
        "http://localhost:9090",
        "http://localhost:9093",
        "http://localhost:8000",
        "docs/monitoring.ru.md",
        "docs/scaling.md",
        "tests/deploy/test_compose.py",
    ):
        assert needle in section, needle
    for path in re.findall(r"`((?:docs|tests)/[\w./]+)`", section):
        assert (ROOT / path).exists(), path
    assert len(section.strip().splitlines()) <= 10
