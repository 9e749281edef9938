"""docker-compose.yml, .env.example and the Dockerfile, checked without a Docker engine.

The compose file is loaded by compose-validate (deploy/tools/compose-validate): the Compose
Specification's reference loader (compose-go, what `docker compose` itself runs) doing
interpolation from .env.example, JSON-schema validation, normalisation and the consistency
checks, strictly (every interpolated variable defined, no loader warning). It also parses and
lints the Dockerfile the app services build with BuildKit's own parser and linter. The tests below
read the resolved project and the parsed Dockerfile it prints, and feed it broken copies to show
it refuses them. scripts/build-compose-validator.sh builds it once into
${BGW_TOOLS_CACHE:-~/.cache/bgw-tools} (Go and a module proxy are all it needs; a cold build
takes about a minute).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.exceptions import TyperException

from service.cli import app as bgw_cli
from service.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BUILD_SCRIPT = ROOT / "scripts" / "build-compose-validator.sh"
SECRETS = ROOT / "deploy" / "secrets"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what a container's server listens on

# The versions every helper pins (the shared decisions); `bgw:local` is built from the Dockerfile.
IMAGES = {
    "postgres": "postgres:15-alpine",
    "redis": "redis:7.4-alpine",
    "otel-collector": "otel/opentelemetry-collector-contrib:0.155.0",
    "tempo": "grafana/tempo:2.7.2",
    "prometheus": "prom/prometheus:v2.53.4",
    "alertmanager": "prom/alertmanager:v0.28.1",
    "grafana": "grafana/grafana:11.6.0",
    "node-exporter": "prom/node-exporter:v1.9.1",
    "volume-init": "busybox:1.37.0-musl",
}
APP_SERVICES = {"migrate", "api", "worker"}
SERVICES = APP_SERVICES | set(IMAGES)

# Services without a healthcheck, and why: one-shot jobs have no running state to probe; their
# dependants wait for them to exit 0 (condition: service_completed_successfully).
NO_HEALTHCHECK = {
    "migrate": "one-shot: applies migrations and exits",
    "volume-init": "one-shot: prepares named volumes and exits",
}

# Host ports the monitoring guide and the shared decisions name: host -> (service, container).
PUBLISHED = {
    8000: ("api", 8000),
    3001: ("grafana", 3000),
    9090: ("prometheus", 9090),
    9093: ("alertmanager", 9093),
    9100: ("node-exporter", 9100),
    4317: ("otel-collector", 4317),
    4318: ("otel-collector", 4318),
    8889: ("otel-collector", 8889),
    13133: ("otel-collector", 13133),
}

PROMETHEUS_FLAGS = {
    "--storage.tsdb.retention.time=30d",
    "--storage.tsdb.retention.size=10GB",
    "--enable-feature=exemplar-storage",
    "--web.enable-lifecycle",
}

# Host paths outside the repository that a bind mount may use: node-exporter reads the host.
HOST_PATHS = {"node-exporter": {"/proc", "/sys", "/"}}

# Settings the lead asked .env.example to offer (notification channels and quiet hours).
NOTIFICATION_SETTINGS = {
    "BGW_TELEGRAM_BOT_TOKEN",
    "BGW_TELEGRAM_CHAT_ID",
    "BGW_SLACK_WEBHOOK_URL",
    "BGW_SMTP_HOST",
    "BGW_SMTP_PORT",
    "BGW_SMTP_USERNAME",
    "BGW_SMTP_PASSWORD",
    "BGW_SMTP_FROM",
    "BGW_SMTP_TO",
    "BGW_SMTP_SECURITY",
    "BGW_WEBHOOK_URL",
    "BGW_QUIET_HOURS",
}


# --- the validator ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def compose_validate() -> Path:
    """compose-validate, built by scripts/build-compose-validator.sh unless cached."""
    result = subprocess.run(
        [str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=1200, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{BUILD_SCRIPT.relative_to(ROOT)} failed (needs Go and its module proxy for the "
            f"first build):\n{result.stderr[-4000:]}"
        )
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.is_file(), path
    assert os.access(path, os.X_OK), path
    return path


Validate = Callable[[Path, Path], subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def validate(compose_validate: Path) -> Validate:
    def run(compose: Path, env_file: Path) -> subprocess.CompletedProcess[str]:
        """Load `compose` with every profile enabled and `env_file` as the only environment."""
        return subprocess.run(
            [str(compose_validate), "--env-file", str(env_file), str(compose)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture(scope="module")
def loaded(validate: Validate) -> dict[str, Any]:
    result = validate(COMPOSE, ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services(loaded: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return loaded["project"]["services"]


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_file_loads_as_docker_compose_would(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            lambda d: d["services"]["api"].update(restart_policy="always"),
            "services.api.restart_policy",
        ),
        (lambda d: d.update(version="3.8"), "`version` is obsolete"),
        (
            lambda d: d["services"]["grafana"]["ports"].append("not-a-port"),
            "Invalid containerPort",
        ),
        (
            lambda d: d["services"]["worker"]["depends_on"].update(
                nosuch={"condition": "service_started"}
            ),
            'undefined service "nosuch"',
        ),
        (
            lambda d: d["services"]["postgres"]["environment"].update(X="${NOT_IN_ENV_EXAMPLE}"),
            "NOT_IN_ENV_EXAMPLE",
        ),
    ],
    ids=["unknown-key", "version-key", "bad-port", "unknown-dependency", "undefined-variable"],
)
def test_validator_rejects_a_broken_copy(
    validate: Validate,
    tmp_path: Path,
    raw: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    complaint: str,
) -> None:
    broken = yaml.safe_load(yaml.safe_dump(raw))  # a deep copy, anchors already expanded
    for name in APP_SERVICES:  # still built from the repository's Dockerfile
        broken["services"][name]["build"]["context"] = str(ROOT)
    change(broken)
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")

    result = validate(copy, ENV_EXAMPLE)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


def test_unbroken_copy_passes(validate: Validate, tmp_path: Path, raw: dict[str, Any]) -> None:
    """The broken copies fail for their change alone: the same round trip unchanged passes."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.read_text(encoding="utf-8"), encoding="utf-8")
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    result = validate(copy, ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr


# --- the compose file ---------------------------------------------------------------------------


def test_no_version_key(raw: dict[str, Any]) -> None:
    assert "version" not in raw
    assert raw["name"] == "bgw"


def test_images_are_the_pinned_versions(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in APP_SERVICES:
            assert service["image"] == "bgw:local", name
            assert service["build"]["dockerfile"] == "Dockerfile", name
            continue
        image = service["image"]
        assert image == IMAGES[name], name
        assert _pinned(image), image


def test_every_long_running_service_has_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if name in NO_HEALTHCHECK:
            assert check.get("disable") is True, name
            assert service["restart"] == "no", name
            continue
        assert not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert len(check["test"]) > 1, name
        assert service["restart"] == "unless-stopped", name


def test_one_shot_services_are_awaited_to_completion(services: dict[str, dict[str, Any]]) -> None:
    waited = {name: 0 for name in NO_HEALTHCHECK}
    for service in services.values():
        for dependency, how in (service.get("depends_on") or {}).items():
            if dependency in NO_HEALTHCHECK:
                assert how["condition"] == "service_completed_successfully"
                waited[dependency] += 1
    assert all(waited.values()), waited


def test_distroless_images_probe_with_the_borrowed_busybox(
    services: dict[str, dict[str, Any]],
) -> None:
    """The collector image has no shell and no wget: volume-init copies a static busybox into the
    healthcheck-tools volume, which the probing services mount before anything runs."""
    init = services["volume-init"]
    script = " ".join(init["command"])
    assert "cp /bin/busybox /opt/healthcheck/" in script
    assert _mounts(init)["/opt/healthcheck"]["source"] == "healthcheck-tools"
    for name in ("otel-collector", "tempo"):
        service = services[name]
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "/opt/healthcheck/busybox", "wget"], name
        mount = _mounts(service)["/opt/healthcheck"]
        assert mount["source"] == "healthcheck-tools", name
        assert mount["read_only"], name
        assert service["depends_on"]["volume-init"]["condition"] == (
            "service_completed_successfully"
        )


def test_app_healthchecks_pass_and_fail(services: dict[str, dict[str, Any]]) -> None:
    """The api's and worker's probes, run here as Docker would run them (python -c), against a
    local stand-in: they pass when the target answers and fail when it does not."""
    statuses = iter([200, 503])

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert self.path == "/api/metrics/health"
            self.send_response(next(statuses))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    def probe(service: str, env: dict[str, str]) -> int:
        test = services[service]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"]
        code = test[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, timeout=30, check=False
        ).returncode

    try:
        assert probe("api", {}) == 0
        assert probe("api", {}) != 0  # 503: a critical component is down
        up = {
            "DATABASE_URL": f"postgresql://bgw:bgw@127.0.0.1:{port}/bgw",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        }
        assert probe("worker", up) == 0
        assert probe("worker", {**up, "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"}) != 0
    finally:
        server.shutdown()
        server.server_close()


def test_guide_ports_are_published(services: dict[str, dict[str, Any]]) -> None:
    published: dict[int, tuple[str, int]] = {}
    for name, service in services.items():
        for port in service.get("ports") or []:
            published[int(port["published"])] = (name, int(port["target"]))
    assert published == PUBLISHED
    assert services["node-exporter"]["profiles"] == ["node"]
    assert all(not s.get("profiles") for n, s in services.items() if n != "node-exporter")


def test_bind_mounts_exist_in_the_repository(services: dict[str, dict[str, Any]]) -> None:
    assert SECRETS.is_dir()
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            if volume["type"] != "bind":
                assert volume["type"] == "volume", (name, volume)
                continue
            source = Path(volume["source"])
            if not source.is_relative_to(ROOT):
                assert str(source) in HOST_PATHS.get(name, set()), (name, source)
                assert volume["read_only"], (name, source)
                continue
            # Secret files are the user's (deploy/secrets/README.md); the default token is not.
            if source.parent == SECRETS and source.name != "empty_metrics_token":
                continue
            assert source.exists(), f"{name}: {source.relative_to(ROOT)} does not exist"


def test_named_volumes_hold_the_data(loaded: dict[str, Any]) -> None:
    services = loaded["project"]["services"]
    data = {
        "postgres": "/var/lib/postgresql/data",
        "redis": "/data",
        "prometheus": "/prometheus",
        "alertmanager": "/alertmanager",
        "grafana": "/var/lib/grafana",
        "tempo": "/var/tempo",
    }
    for name, target in data.items():
        assert _mounts(services[name])[target]["type"] == "volume", name
        assert _mounts(services[name])[target]["source"] in loaded["project"]["volumes"]


def test_prometheus_command(services: dict[str, dict[str, Any]]) -> None:
    prometheus = services["prometheus"]
    command = set(prometheus["command"])
    assert command >= PROMETHEUS_FLAGS
    assert "--config.file=/etc/prometheus/prometheus.yml" in command
    assert "--storage.tsdb.path=/prometheus" in command
    assert "prometheus" in _mounts(prometheus)["/prometheus"]["source"]


def test_external_urls_leave_the_probed_paths_alone(services: dict[str, dict[str, Any]]) -> None:
    """A path in --web.external-url would move /-/ready (and every route) under it."""
    for name in ("prometheus", "alertmanager"):
        (url,) = [
            flag.split("=", 1)[1]
            for flag in services[name]["command"]
            if flag.startswith("--web.external-url=")
        ]
        assert urllib.parse.urlsplit(url).path in {"", "/"}, (name, url)
        assert "/-/ready" in services[name]["healthcheck"]["test"][-1]
    root = services["grafana"]["environment"]["GF_SERVER_ROOT_URL"]
    assert urllib.parse.urlsplit(root).port == 3001


def test_configs_are_mounted_where_the_services_read_them(
    services: dict[str, dict[str, Any]],
) -> None:
    def mounted(service: str, target: str) -> Path:
        mount = _mounts(services[service])[target]
        assert mount["type"] == "bind", (service, target)
        assert mount["read_only"], (service, target)
        return Path(mount["source"]).relative_to(ROOT)

    assert mounted("prometheus", "/etc/prometheus/prometheus.yml") == Path("deploy/prometheus.yml")
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    for rule_file in config["rule_files"]:
        target = str(Path("/etc/prometheus") / rule_file)
        assert mounted("prometheus", target) == Path("deploy/bgw_rules.yml")

    assert "--config.file=/etc/alertmanager/alertmanager.yml" in services["alertmanager"]["command"]
    assert mounted("alertmanager", "/etc/alertmanager/alertmanager.yml") == Path(
        "deploy/alertmanager.yml"
    )
    assert mounted("alertmanager", "/etc/alertmanager/secrets") == Path("deploy/secrets")

    assert services["otel-collector"]["command"] == ["--config=/etc/otelcol-contrib/config.yaml"]
    assert mounted("otel-collector", "/etc/otelcol-contrib/config.yaml") == Path(
        "otel-collector.yaml"
    )

    assert services["tempo"]["command"] == ["-config.file=/etc/tempo/tempo.yaml"]
    assert mounted("tempo", "/etc/tempo/tempo.yaml") == Path("deploy/tempo.yaml")

    assert mounted("grafana", "/etc/grafana/provisioning") == Path("deploy/grafana/provisioning")
    assert mounted("grafana", "/var/lib/grafana/dashboards") == Path("deploy/grafana/dashboards")


def test_other_configs_name_compose_services(services: dict[str, dict[str, Any]]) -> None:
    """Scrape targets, the alertmanager target and Grafana's datasources are compose services on
    the ports they listen on; the dashboards provider reads the directory compose mounts."""
    listening = {
        "api": {8000},
        "otel-collector": {8888, 8889},
        "alertmanager": {9093},
        "node-exporter": {9100},
        "prometheus": {9090},
        "tempo": {3200},
    }
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [
        target
        for job in prometheus["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ] + [
        target
        for manager in prometheus["alerting"]["alertmanagers"]
        for static in manager["static_configs"]
        for target in static["targets"]
    ]
    grafana = ROOT / "deploy" / "grafana" / "provisioning"
    datasources = yaml.safe_load(
        (grafana / "datasources" / "datasources.yml").read_text(encoding="utf-8")
    )["datasources"]
    targets += [urllib.parse.urlsplit(source["url"]).netloc for source in datasources]
    for target in targets:
        host, _, port = target.partition(":")
        if host == "localhost":  # Prometheus scraping itself
            continue
        assert host in services, target
        assert int(port) in listening[host], target

    providers = yaml.safe_load(
        (grafana / "dashboards" / "dashboards.yml").read_text(encoding="utf-8")
    )["providers"]
    dashboards = _mounts(services["grafana"])
    for provider in providers:
        assert provider["options"]["path"] in dashboards


def test_metrics_token_is_one_file_for_the_api_and_prometheus(
    services: dict[str, dict[str, Any]],
) -> None:
    """Prometheus' bgw-api credentials_file and the api's BGW_METRICS_TOKEN_FILE are one host file,
    so the scrape token and the token the api expects cannot drift apart."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "bgw-api"]
    assert job["static_configs"][0]["targets"] == ["api:8000"]
    credentials = job["authorization"]["credentials_file"]
    in_prometheus = _mounts(services["prometheus"])[credentials]

    api = services["api"]
    in_api = _mounts(api)[api["environment"]["BGW_METRICS_TOKEN_FILE"]]
    assert in_api["source"] == in_prometheus["source"]
    assert in_api["read_only"]
    assert in_prometheus["read_only"]
    assert Path(in_api["source"]) == SECRETS / "empty_metrics_token"
    assert Path(in_api["source"]).read_text(encoding="utf-8").strip() == ""


def test_monitoring_starts_without_the_app(services: dict[str, dict[str, Any]]) -> None:
    """`docker compose up -d prometheus grafana` starts what they depend on, and nothing of BGW."""
    started: set[str] = set()
    todo = ["prometheus", "grafana"]
    while todo:
        name = todo.pop()
        if name not in started:
            started.add(name)
            todo.extend((services[name].get("depends_on") or {}).keys())
    assert not started & {"api", "worker", "migrate", "postgres", "redis"}, started


def test_app_wiring(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"] == "postgresql://bgw:bgw@postgres:5432/bgw"
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
        assert "OTEL_SERVICE_NAME" not in environment  # derived from the role (bgw-api, ...)
        assert services[name]["env_file"] == [{"path": str(ROOT / ".env"), "required": False}]
    assert services["api"]["environment"]["OTEL_METRICS_EXPORTER"] == "none"
    assert "OTEL_METRICS_EXPORTER" not in services["worker"]["environment"]
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/api/metrics/health" in " ".join(services["api"]["healthcheck"]["test"])


@pytest.mark.parametrize(
    ("service", "subcommand"), [("api", "serve"), ("worker", "worker"), ("migrate", "migrate")]
)
def test_app_commands_parse(
    services: dict[str, dict[str, Any]], service: str, subcommand: str
) -> None:
    """Each command line is one the `bgw` CLI accepts (options checked, nothing run)."""
    command = services[service]["command"]
    assert command[:2] == ["bgw", subcommand]
    _parse_bgw(command[1:])
    with pytest.raises(TyperException):  # the parse is real: an unknown option fails it
        _parse_bgw([*command[1:], "--no-such-option"])


def test_grafana_admin_defaults_and_override(
    services: dict[str, dict[str, Any]], raw: dict[str, Any], validate: Validate, tmp_path: Path
) -> None:
    environment = raw["services"]["grafana"]["environment"]
    assert environment["GF_SECURITY_ADMIN_USER"] == "${GF_SECURITY_ADMIN_USER:-admin}"
    assert environment["GF_SECURITY_ADMIN_PASSWORD"] == "${GF_SECURITY_ADMIN_PASSWORD:-admin}"
    resolved = services["grafana"]["environment"]
    assert (resolved["GF_SECURITY_ADMIN_USER"], resolved["GF_SECURITY_ADMIN_PASSWORD"]) == (
        "admin",
        "admin",
    )

    env = tmp_path / "override.env"
    env.write_text(
        ENV_EXAMPLE.read_text(encoding="utf-8")
        + "\nGF_SECURITY_ADMIN_USER=root\nGF_SECURITY_ADMIN_PASSWORD=s3cret\n",
        encoding="utf-8",
    )
    result = validate(COMPOSE, env)
    assert result.returncode == 0, result.stderr
    grafana = json.loads(result.stdout)["project"]["services"]["grafana"]["environment"]
    assert (grafana["GF_SECURITY_ADMIN_USER"], grafana["GF_SECURITY_ADMIN_PASSWORD"]) == (
        "root",
        "s3cret",
    )


# --- .env.example -------------------------------------------------------------------------------


def _env_example() -> tuple[dict[str, str], set[str]]:
    """(active NAME=value lines, names offered in commented-out `# NAME=value` lines)."""
    active: dict[str, str] = {}
    commented: set[str] = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            active[match[1]] = match[2]
        elif match := re.fullmatch(r"# ([A-Z][A-Z0-9_]*)=\S*", line):
            commented.add(match[1])
    return active, commented


def test_env_example_defines_every_interpolated_variable(loaded: dict[str, Any]) -> None:
    active, _ = _env_example()
    # What the loader asked for, and what a reader of the file sees, agree.
    written = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE.read_text(encoding="utf-8")))
    assert set(loaded["variables"]) == written
    assert written <= set(active)


def test_env_example_documents_each_variable() -> None:
    """Above every variable (or the group of variables it belongs to) is a comment."""
    setting = re.compile(r"(# )?[A-Z][A-Z0-9_]*=.*")
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if setting.fullmatch(line):
            above = index - 1
            while above >= 0 and setting.fullmatch(lines[above]):
                above -= 1
            assert above >= 0, line
            assert lines[above].startswith("# "), line


def test_env_example_offers_the_bgw_settings_users_set() -> None:
    active, commented = _env_example()
    offered = set(active) | commented
    assert offered >= NOTIFICATION_SETTINGS
    assert offered >= {"BGW_TIMEZONE", "BGW_METRICS_TOKEN_PATH", "BGW_DAILY_PAGES_CAP"}
    assert {f"{name}_FILE" for name in ("BGW_TELEGRAM_BOT_TOKEN", "BGW_SMTP_PASSWORD")} <= offered
    # Every BGW_* name offered is a setting service/config.py reads (no typos).
    known = _settings_variables()
    for name in offered:
        if name.startswith("BGW_") and name != "BGW_METRICS_TOKEN_PATH":  # compose-only
            assert name in known, name


def test_env_example_is_valid_for_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the api and worker receive it (their env_file), .env.example passes Settings."""
    for name in list(os.environ):
        if name.startswith("BGW_") or name in {"DATABASE_URL", "REDIS_URL", "OLLAMA_URL", "TZ"}:
            monkeypatch.delenv(name)
    settings = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    assert settings.env == "production"
    assert settings.metrics_bearer_token() is None
    assert settings.quiet_hours is None


# --- Dockerfile ---------------------------------------------------------------------------------


Stage = tuple[str, str, list[tuple[str, str]]]  # name, base image, (INSTRUCTION, arguments)


@pytest.fixture(scope="module")
def stages(loaded: dict[str, Any]) -> list[Stage]:
    """The Dockerfile as BuildKit's parser read it (compose-validate, for the services that build
    it), base images with their ARG defaults filled in."""
    parsed = loaded["dockerfiles"][str(DOCKERFILE)]
    args = parsed["args"]
    result: list[Stage] = []
    for stage in parsed["stages"]:
        base = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], stage["base"])
        instructions = []
        for text in stage["instructions"]:
            keyword, _, arguments = text.partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
        result.append((stage["name"], base, instructions))
    return result


def test_dockerfile_is_multi_stage_on_a_pinned_python(stages: list[Stage]) -> None:
    assert [name for name, _, _ in stages] == ["builder", "runtime"]
    for _, base, _ in stages:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
        assert _pinned(base)


def test_dockerfile_builder_installs_bgw_without_dev_extras(stages: list[Stage]) -> None:
    (_, _, builder), _ = stages
    runs = " ".join(arguments for keyword, arguments in builder if keyword == "RUN")
    assert runs.index("pip install --upgrade pip") < runs.index("pip install .")
    for editable_or_dev in ("[dev]", "-e ", "--editable"):
        assert editable_or_dev not in runs
    copied = {
        path
        for keyword, arguments in builder
        if keyword == "COPY"
        for path in shlex.split(arguments)[:-1]
    }
    assert copied == {"pyproject.toml", "README.md", "service", "telemetry"}
    for path in copied:
        assert (ROOT / path).exists(), path


def test_dockerfile_runtime_stage(stages: list[Stage]) -> None:
    _, (_, _, runtime) = stages
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert copies == ["--from=builder /opt/bgw /opt/bgw"]  # the venv, BGW installed in it
    (user,) = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert user.split(":")[0] not in {"root", "0"}
    assert ("EXPOSE", "8000") in runtime
    (cmd,) = [arguments for keyword, arguments in runtime if keyword == "CMD"]
    command = json.loads(cmd)
    assert command == ["bgw", "serve", "--host", ALL_INTERFACES]
    assert _parse_bgw(command[1:])["host"] == ALL_INTERFACES


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("AS builder", "as builder", "FromAsCasing"),
        ("EXPOSE 8000", "EXPOS 8000", "unknown instruction: EXPOS"),
    ],
    ids=["lint", "parse-error"],
)
def test_validator_rejects_a_broken_dockerfile(
    validate: Validate, tmp_path: Path, raw: dict[str, Any], old: str, new: str, complaint: str
) -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "Dockerfile").write_text(text.replace(old, new), encoding="utf-8")
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")

    result = validate(copy, ENV_EXAMPLE)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


def test_dockerignore() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert patterns >= {".git", ".venv", ".pytest_cache", ".ruff_cache", "bench", ".env"}
    assert "deploy/secrets" in patterns
    # Nothing the Dockerfile copies is ignored.
    assert not patterns & {"service", "telemetry", "pyproject.toml", "README.md"}


# --- deploy/tempo.yaml --------------------------------------------------------------------------


def test_tempo_config_matches_the_compose_file(services: dict[str, dict[str, Any]]) -> None:
    tempo = yaml.safe_load((ROOT / "deploy" / "tempo.yaml").read_text(encoding="utf-8"))
    otlp = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    assert otlp["grpc"]["endpoint"] == "0.0.0.0:4317"  # the collector sends to tempo:4317
    assert "tempo:4317" in (ROOT / "otel-collector.yaml").read_text(encoding="utf-8")
    port = tempo["server"]["http_listen_port"]
    assert port == 3200
    assert f"127.0.0.1:{port}/ready" in services["tempo"]["healthcheck"]["test"][-1]
    storage = tempo["storage"]["trace"]
    assert storage["backend"] == "local"
    assert _mounts(services["tempo"])["/var/tempo"]["source"] == "tempo-data"
    for path in (storage["wal"]["path"], storage["local"]["path"]):
        assert path.startswith("/var/tempo/"), path


# --- helpers ------------------------------------------------------------------------------------


def _pinned(image: str) -> bool:
    """A tag that names a version (a digit in it), never `latest`, or a digest."""
    if "@sha256:" in image:
        return True
    _, _, tag = image.rpartition(":")
    return bool(tag) and "/" not in tag and tag != "latest" and any(c.isdigit() for c in tag)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mounts(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {volume["target"]: volume for volume in service.get("volumes") or []}


def _settings_variables() -> set[str]:
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(f"BGW_{name.upper()}")
        alias = field.validation_alias
        if alias is not None:
            names.update(str(choice) for choice in getattr(alias, "choices", [alias]))
    return names


def _parse_bgw(arguments: list[str]) -> dict[str, Any]:
    """Parse `bgw <arguments>` with the real CLI, without running the command: its parameters."""
    commands = typer.main.get_command(bgw_cli).commands  # type: ignore[attr-defined]
    return commands[arguments[0]].make_context(arguments[0], list(arguments[1:])).params
