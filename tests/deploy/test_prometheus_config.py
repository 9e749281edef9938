"""deploy/prometheus.yml: `promtool check config` passes (it checks bgw_rules.yml too), the scrape
jobs are the decided ones, and the metrics-token file works against the real API with and without
a token.

promtool refuses a config whose `credentials_file` does not exist, and the file's path is the
container's (/etc/prometheus/secrets/...). So the check runs on a temporary copy whose bgw-api job
points at a file created for the test; everything else is the file as committed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.servers import free_port, wait_for_port

CONFIG = Path("deploy/prometheus.yml")
RULES = Path("deploy/bgw_rules.yml")
TOKEN_PATH_IN_CONTAINER = "/etc/prometheus/secrets/bgw_metrics_token"
EMPTY_TOKEN = Path("deploy/secrets/empty_metrics_token")
JOBS = {
    "otel-collector": "otel-collector:8889",
    "bgw-api": "api:8000",
    "otel-collector-internal": "otel-collector:8888",
    "prometheus": "localhost:9090",
    "alertmanager": "alertmanager:9093",
    "node-exporter": "node-exporter:9100",
}


def load_config(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / CONFIG).read_text(encoding="utf-8"))


def jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def copy_with_token_file(root: Path, destination: Path, token_file: Path | None) -> Path:
    """The committed config and rules in ``destination``; bgw-api reads ``token_file``."""
    config = load_config(root)
    if token_file is not None:
        jobs(config)["bgw-api"]["authorization"]["credentials_file"] = str(token_file)
    copy = destination / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    shutil.copy(root / RULES, destination / RULES.name)
    return copy


def check_config(promtool: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), "check", "config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_promtool_check_config_passes(promtool: Path, repo_root: Path, tmp_path: Path) -> None:
    token = tmp_path / "bgw_metrics_token"
    token.write_text("", encoding="utf-8")
    result = check_config(promtool, copy_with_token_file(repo_root, tmp_path, token))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is valid prometheus config file syntax" in output
    assert "SUCCESS: 18 rules found" in output  # the rule file was found and checked too


def test_check_config_fails_without_the_credentials_file(
    promtool: Path, repo_root: Path, tmp_path: Path
) -> None:
    result = check_config(promtool, copy_with_token_file(repo_root, tmp_path, tmp_path / "missing"))
    assert result.returncode != 0
    assert "credentials" in result.stdout + result.stderr


def test_check_config_fails_on_a_broken_copy(
    promtool: Path, repo_root: Path, tmp_path: Path
) -> None:
    token = tmp_path / "bgw_metrics_token"
    token.write_text("", encoding="utf-8")
    copy = copy_with_token_file(repo_root, tmp_path, token)
    copy.write_text(copy.read_text().replace("scrape_interval: 30s", "scrape_interval: 30"))
    result = check_config(promtool, copy)
    assert result.returncode != 0
    assert "not a valid duration" in result.stdout + result.stderr


def test_scrape_jobs_are_the_decided_ones(repo_root: Path) -> None:
    config = load_config(repo_root)
    assert config["global"]["scrape_interval"] == "15s"
    assert config["rule_files"] == ["bgw_rules.yml"]
    alertmanagers = config["alerting"]["alertmanagers"]
    assert [
        target for am in alertmanagers for c in am["static_configs"] for target in c["targets"]
    ] == ["alertmanager:9093"]
    by_name = jobs(config)
    assert {name: job["static_configs"][0]["targets"] for name, job in by_name.items()} == {
        name: [target] for name, target in JOBS.items()
    }
    assert by_name["otel-collector"]["honor_labels"] is True
    assert not any(
        job.get("honor_labels") for name, job in by_name.items() if name != "otel-collector"
    )
    api = by_name["bgw-api"]
    assert api["metrics_path"] == "/api/metrics/prometheus"
    assert api["authorization"] == {"credentials_file": TOKEN_PATH_IN_CONTAINER}
    assert by_name["node-exporter"]["scrape_interval"] == "30s"
    assert all(
        "scrape_interval" not in job for name, job in by_name.items() if name != "node-exporter"
    )


def test_the_default_token_file_is_empty_and_real_secrets_are_ignored(repo_root: Path) -> None:
    """The committed default means "no token"; a real token file can never be committed."""
    empty = repo_root / EMPTY_TOKEN
    assert empty.read_bytes() == b""
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(EMPTY_TOKEN)],
        cwd=repo_root,
        capture_output=True,
        check=False,
    )
    assert tracked.returncode == 0, "deploy/secrets/empty_metrics_token must be committed"
    for secret in ("bgw_metrics_token", "alertmanager_smtp_password", "telegram_bot_token"):
        ignored = subprocess.run(
            ["git", "check-ignore", "--quiet", f"deploy/secrets/{secret}"],
            cwd=repo_root,
            check=False,
        )
        assert ignored.returncode == 0, f"deploy/secrets/{secret} is not git-ignored"


# --- the token file against the real API --------------------------------------------------------


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback http
        return json.load(response)


@contextlib.contextmanager
def process(command: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, **kwargs)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def serve_api(
    workdir: Path, port: int, token_file: Path | None
) -> contextlib.AbstractContextManager:
    """`bgw serve` on loopback, with its own SQLite file and none of the caller's environment."""
    workdir.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "BGW_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bgw.db'}",
        "BGW_TRACING_ENABLED": "false",
    }
    if token_file is not None:
        env["BGW_METRICS_TOKEN_FILE"] = str(token_file)
    bgw = Path(sys.executable).with_name("bgw")
    command = [str(bgw), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return process(command, workdir / "serve.log", cwd=workdir, env=env)


def test_token_file_works_with_and_without_a_token(
    prometheus_bin: Path, repo_root: Path, tmp_path: Path
) -> None:
    """Prometheus with the committed bgw-api job scrapes an open API through the empty default
    file, a token-protected API through a file holding the token, and is refused (401) when the
    API wants a token the file does not hold."""
    empty = tmp_path / "empty_metrics_token"
    shutil.copy(repo_root / EMPTY_TOKEN, empty)
    token = tmp_path / "bgw_metrics_token"
    token.write_text("s3cret-metrics-token\n", encoding="utf-8")
    open_port, protected_port, prometheus_port = free_port(), free_port(), free_port()

    template = jobs(load_config(repo_root))["bgw-api"]
    cases = {  # job -> (API port, credentials file, expected health)
        "open-api-empty-file": (open_port, empty, "up"),
        "protected-api-token-file": (protected_port, token, "up"),
        "protected-api-empty-file": (protected_port, empty, "down"),
    }
    scrape_configs = []
    for job, (port, credentials, _) in cases.items():
        config = json.loads(json.dumps(template))
        config["job_name"] = job
        config["scrape_interval"] = "1s"
        config["scrape_timeout"] = "1s"
        config["authorization"]["credentials_file"] = str(credentials)
        config["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
        scrape_configs.append(config)
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump({"scrape_configs": scrape_configs}), encoding="utf-8")

    with (
        serve_api(tmp_path / "open", open_port, None),
        serve_api(tmp_path / "protected", protected_port, token),
        process(
            [
                str(prometheus_bin),
                f"--config.file={config_file}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            ],
            tmp_path / "prometheus.log",
        ),
    ):
        for port in (open_port, protected_port, prometheus_port):
            wait_for_port(port, timeout=60)
        deadline = time.monotonic() + 60
        while True:
            targets = get_json(f"http://127.0.0.1:{prometheus_port}/api/v1/targets")["data"]
            health = {t["labels"]["job"]: t for t in targets["activeTargets"]}
            # Until both APIs listen, every target is down for another reason (refused).
            settled = {job: health.get(job, {}).get("health") for job in cases}
            refused = "401" in health.get("protected-api-empty-file", {}).get("lastError", "")
            if refused and settled == {job: expected for job, (_, _, expected) in cases.items()}:
                break
            assert time.monotonic() < deadline, json.dumps(health, indent=1)
            time.sleep(0.5)

    assert health["open-api-empty-file"]["lastError"] == ""
    assert health["protected-api-token-file"]["lastError"] == ""
