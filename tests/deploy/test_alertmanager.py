"""deploy/alertmanager.yml, checked by Alertmanager 0.28.1 (the compose image's version, built by
scripts/build-alertmanager.sh): the config loads, each severity reaches its receivers, warnings
are inhibited by a critical alert of the same service (shown by a real Alertmanager), and every
secret is a *_file under the mounted secrets directory."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import free_port, wait_for_port

CONFIG = Path("deploy/alertmanager.yml")
SECRETS_DIR = Path("deploy/secrets")
SECRETS_IN_CONTAINER = "/etc/alertmanager/secrets/"
VERSION = "0.28.1"
# Inline forms of the secrets: none may appear; their *_file twins are used instead.
INLINE_SECRET_KEYS = {
    "auth_password",
    "smtp_auth_password",
    "api_url",
    "slack_api_url",
    "bot_token",
}


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=60, check=False
    )


def load_config(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / CONFIG).read_text(encoding="utf-8"))


def receivers(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {receiver["name"]: receiver for receiver in config["receivers"]}


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) in a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def test_the_tools_are_the_image_version(amtool: Path, alertmanager_bin: Path) -> None:
    for tool in (amtool, alertmanager_bin):
        assert (
            f"version {VERSION} " in run(tool, "--version").stdout + run(tool, "--version").stderr
        )


def test_build_script_reuses_the_cache(repo_root: Path, amtool: Path) -> None:
    started = time.monotonic()
    result = run(repo_root / "scripts" / "build-alertmanager.sh")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert f"AMTOOL={amtool}" in result.stdout.splitlines()
    assert elapsed < 5, f"a cached build took {elapsed:.1f} s"


def test_check_config_passes(amtool: Path, repo_root: Path) -> None:
    result = run(amtool, "check-config", repo_root / CONFIG)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "SUCCESS" in output
    assert "1 inhibit rules" in output
    assert "2 receivers" in output


@pytest.mark.parametrize(
    ("original", "broken", "message"),
    [
        # A route to a receiver that does not exist.
        ("receiver: bgw-warning # anything", "receiver: bgw-nobody", "undefined receiver"),
        # A misspelt secret field.
        ("bot_token_file:", "bot_token_fle:", "field bot_token_fle not found"),
    ],
)
def test_check_config_fails_on_a_broken_copy(
    amtool: Path, repo_root: Path, tmp_path: Path, original: str, broken: str, message: str
) -> None:
    text = (repo_root / CONFIG).read_text(encoding="utf-8")
    assert original in text
    copy = tmp_path / "alertmanager.yml"
    copy.write_text(text.replace(original, broken, 1), encoding="utf-8")
    result = run(amtool, "check-config", copy)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "service=bgw", "alertname=BGWApiUnavailable"], "bgw-critical"),
        (["severity=warning", "service=bgw", "alertname=BGWHighLatency"], "bgw-warning"),
        (["service=bgw", "alertname=SomethingNew"], "bgw-warning"),
    ],
)
def test_routes_by_severity(
    amtool: Path, repo_root: Path, labels: list[str], receiver: str
) -> None:
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={repo_root / CONFIG}",
        f"--verify.receivers={receiver}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_route_test_can_fail(amtool: Path, repo_root: Path) -> None:
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={repo_root / CONFIG}",
        "--verify.receivers=bgw-critical",
        "severity=warning",
    )
    assert result.returncode != 0


def test_receivers_and_timing(repo_root: Path) -> None:
    config = load_config(repo_root)
    by_name = receivers(config)
    critical, warning = by_name["bgw-critical"], by_name["bgw-warning"]
    channels = {"email_configs", "slack_configs", "telegram_configs"}
    assert channels <= set(critical)
    assert {"email_configs", "slack_configs"} <= set(warning)
    assert all(c["send_resolved"] for key in channels for c in critical[key])

    route = config["route"]
    assert route["group_by"] == ["alertname", "service"]
    routes = {tuple(child["matchers"]): child for child in route["routes"]}
    fast, slow = routes[('severity="critical"',)], routes[('severity="warning"',)]

    def seconds(duration: str) -> int:
        units = {"s": 1, "m": 60, "h": 3600}
        return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))

    assert seconds(fast["group_wait"]) <= 10
    assert seconds(fast["repeat_interval"]) < seconds(slow["repeat_interval"])
    assert seconds(fast["group_interval"]) < seconds(slow["group_interval"])

    assert config["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["service"],
        }
    ]


def test_secrets_are_files_in_the_mounted_directory(repo_root: Path) -> None:
    config = load_config(repo_root)
    documented = (repo_root / SECRETS_DIR / "README.md").read_text(encoding="utf-8")
    files = [(path, key, value) for path, key, value in walk(config) if key.endswith("_file")]
    assert {key for _, key, _ in files} >= {"auth_password_file", "api_url_file", "bot_token_file"}
    for path, key, value in files:
        assert value.startswith(SECRETS_IN_CONTAINER), f"{path}.{key}: {value}"
        name = value.removeprefix(SECRETS_IN_CONTAINER)
        assert f"`{name}`" in documented, f"{name} is not in deploy/secrets/README.md"
        ignored = subprocess.run(
            ["git", "check-ignore", "--quiet", str(SECRETS_DIR / name)], cwd=repo_root, check=False
        )
        assert ignored.returncode == 0, f"{SECRETS_DIR / name} is not git-ignored"
    inline = [f"{path}.{key}" for path, key, _ in walk(config) if key in INLINE_SECRET_KEYS]
    assert inline == []


# --- inhibition, shown by a real Alertmanager -----------------------------------------------------


def http(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback http
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        payload = response.read()
    return json.loads(payload) if payload else None


@contextlib.contextmanager
def alertmanager(binary: Path, config: Path, workdir: Path, port: int) -> Iterator[str]:
    command = [
        str(binary),
        f"--config.file={config}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # a single instance, no gossip port
    ]
    with (workdir / "alertmanager.log").open("wb") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=15)


def test_a_critical_alert_inhibits_warnings_of_its_service(
    alertmanager_bin: Path, repo_root: Path, tmp_path: Path
) -> None:
    """The committed config, except that notifications wait an hour: nothing tries to reach
    SMTP, Slack or Telegram while the test looks at the alerts' states."""
    config = load_config(repo_root)
    for route in (config["route"], *config["route"]["routes"]):
        route["group_wait"] = "1h"
    config_file = tmp_path / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    now = datetime.now(UTC)
    window = {"startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}

    def alert(name: str, severity: str, service: str) -> dict[str, Any]:
        labels = {"alertname": name, "severity": severity, "service": service}
        return {"labels": labels, "annotations": {"summary": name}, **window}

    with alertmanager(alertmanager_bin, config_file, tmp_path, free_port()) as url:
        http(
            "POST",
            f"{url}/api/v2/alerts",
            [
                alert("BGWDatabaseDown", "critical", "bgw"),
                alert("BGWHighLatency", "warning", "bgw"),
                alert("OtherWarning", "warning", "other"),
            ],
        )
        deadline = time.monotonic() + 10
        while True:
            states = {
                item["labels"]["alertname"]: item["status"]
                for item in http("GET", f"{url}/api/v2/alerts")
            }
            if len(states) == 3:
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.2)

    assert states["BGWHighLatency"]["state"] == "suppressed"
    assert states["BGWHighLatency"]["inhibitedBy"] != []
    assert states["BGWDatabaseDown"]["state"] == "active"
    assert states["OtherWarning"]["state"] == "active"  # another service's warning still notifies
