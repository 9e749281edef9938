"""The pieces of the end-to-end stack: the BGW demo, Prometheus, Alertmanager and a webhook that
stands in for every Alertmanager receiver, each a real process (or server) on loopback.

Prometheus and Alertmanager run with configurations *derived* from the committed ones
(``deploy/prometheus.yml``, ``deploy/alertmanager.yml``): compose host names become loopback
ports, intervals become seconds, receivers become webhooks; everything else (jobs, metrics paths,
authorization, rule files, route tree, grouping, inhibition) is kept as written. The rule file is
copied byte for byte.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus.yml"
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager.yml"
RULES_FILE = DEPLOY / "bgw_rules.yml"
BGW = str(Path(sys.executable).with_name("bgw"))

# Where compose mounts deploy/secrets/ for Prometheus (deploy/prometheus.yml names files there).
PROMETHEUS_SECRETS = "/etc/prometheus/secrets/"

LOG_TAIL_CHARS = 4000


# --- Processes --------------------------------------------------------------------------------


@dataclass
class ManagedProcess:
    """A subprocess whose output goes to a log file, restartable with the same command."""

    name: str
    command: list[str]
    log: Path
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.name} runs"
        with self.log.open("ab") as log:
            log.write(f"\n--- start {' '.join(self.command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=dict(self.env) if self.env is not None else None,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, nothing shut down cleanly."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if not self.running:
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        if not self.log.exists():
            return "(no log)"
        text = self.log.read_text(encoding="utf-8", errors="replace")
        status = "running" if self.running else f"exited {self.process and self.process.poll()}"
        return f"=== {self.name} ({status}), last {chars} chars of {self.log}:\n{text[-chars:]}"


def wait_ready(url: str, process: ManagedProcess, timeout: float = 60) -> None:
    """Poll ``url`` until it answers 200; fail early, with the log, if the process exits."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not process.running:
            raise AssertionError(f"{process.name} exited while starting\n{process.tail()}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {timeout} s ({last})\n{process.tail()}")


def demo_process(
    workdir: Path,
    port: int,
    site_port: int,
    token_file: Path,
    log: Path,
    extra_env: Mapping[str, str] | None = None,
) -> ManagedProcess:
    """`bgw demo` in ``workdir`` (its SQLite file lives there), with nothing of the caller's
    BGW/database/Redis/OpenTelemetry environment, and the metrics token Prometheus is given;
    ``extra_env`` on top (the collector path's OTLP settings)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BGW_", "DATABASE_", "REDIS_", "OTEL_", "OLLAMA_"))
    }
    env |= {
        "BGW_METRICS_TOKEN_FILE": str(token_file),
        # Gauges derived from stored data and the health checks refresh often enough to be
        # seen within the test (defaults: 15 s and 10 s).
        "BGW_METRICS_REFRESH_SECONDS": "2",
        "BGW_HEALTH_INTERVAL_SECONDS": "2",
        "BGW_LOG_FORMAT": "console",
    }
    env |= extra_env or {}
    command = [BGW, "demo", "--port", str(port), "--site-port", str(site_port)]
    command += ["--phase-seconds", "3"]
    return ManagedProcess("bgw demo", command, log, cwd=workdir, env=env)


# --- Derived configurations -------------------------------------------------------------------


def derive_prometheus_config(
    source: Mapping[str, Any],
    targets: Mapping[str, str],
    secrets_dir: Path,
    interval: str,
) -> dict[str, Any]:
    """``source`` (deploy/prometheus.yml) with every compose target replaced through ``targets``
    (an unknown one is an error: the e2e must decide what it stands for), the secrets directory
    moved to ``secrets_dir``, and global intervals of ``interval`` (jobs keep their own)."""
    config = copy.deepcopy(dict(source))

    def retarget(address: str) -> str:
        if address not in targets:
            raise KeyError(f"{PROMETHEUS_CONFIG.name} targets {address}, unknown to the e2e")
        return targets[address]

    def move_secrets(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: move_secrets(value) for key, value in node.items()}
        if isinstance(node, list):
            return [move_secrets(value) for value in node]
        if isinstance(node, str) and node.startswith(PROMETHEUS_SECRETS):
            return str(secrets_dir / node.removeprefix(PROMETHEUS_SECRETS))
        return node

    config["global"] = {
        **config.get("global", {}),
        "scrape_interval": interval,
        "scrape_timeout": interval,
        "evaluation_interval": interval,
    }
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            static["targets"] = [retarget(address) for address in static["targets"]]
    for alertmanager in config["alerting"]["alertmanagers"]:
        for static in alertmanager.get("static_configs", []):
            static["targets"] = [retarget(address) for address in static["targets"]]
    return move_secrets(config)


def derive_alertmanager_config(
    source: Mapping[str, Any], webhook_url: str, timings: Mapping[str, str]
) -> dict[str, Any]:
    """``source`` (deploy/alertmanager.yml) with each receiver replaced by a webhook to
    ``webhook_url``/<receiver name> (send_resolved), and every route's group_wait,
    group_interval and repeat_interval replaced by ``timings``. The route tree, matchers,
    grouping and inhibition rules are kept, so the receiver a notification reaches proves the
    routing."""
    config = copy.deepcopy(dict(source))
    config["receivers"] = [
        {
            "name": receiver["name"],
            "webhook_configs": [
                {"url": f"{webhook_url}/{receiver['name']}", "send_resolved": True}
            ],
        }
        for receiver in config["receivers"]
    ]

    def shorten(route: dict[str, Any]) -> None:
        for key, value in timings.items():
            if key in route or route is config["route"]:
                route[key] = value
        for child in route.get("routes", []):
            shorten(child)

    shorten(config["route"])
    return config


def write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False), encoding="utf-8")
    return path


def copy_rule_files(config: Mapping[str, Any], source_dir: Path, dest_dir: Path) -> list[Path]:
    """Copy every rule file ``config`` names (relative to its own file) unchanged."""
    copied = []
    for name in config.get("rule_files", []):
        source = source_dir / name
        dest = dest_dir / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        assert dest.read_bytes() == source.read_bytes()
        copied.append(dest)
    return copied


# --- The webhook every Alertmanager receiver posts to -----------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One notification Alertmanager posted: when (monotonic), to which receiver path, what."""

    received: float
    path: str
    body: dict[str, Any]

    @property
    def alertnames(self) -> set[str]:
        return {alert["labels"].get("alertname", "") for alert in self.body.get("alerts", [])}

    def summary(self) -> str:
        alerts = ", ".join(
            f"{alert['labels'].get('alertname')}={alert['status']}"
            for alert in self.body.get("alerts", [])
        )
        return f"{self.path} {self.body.get('status')} [{alerts}]"


class WebhookReceiver:
    """An HTTP server on loopback recording every JSON POST."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    receiver.deliveries.append(Delivery(time.monotonic(), self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)

    def find(
        self, alertname: str, status: str, after: float = 0.0
    ) -> tuple[Delivery, dict[str, Any]] | None:
        """The first delivery after ``after`` carrying ``alertname`` in ``status``, with the
        alert itself."""
        for delivery in self.snapshot():
            if delivery.received < after:
                continue
            for alert in delivery.body.get("alerts", []):
                if alert["labels"].get("alertname") == alertname and alert["status"] == status:
                    return delivery, alert
        return None


# --- API traffic, so the API's own metrics have something to show ------------------------------


class Traffic:
    """A thread that keeps calling a few API routes (an outage just makes the calls fail)."""

    def __init__(self, base_url: str, token: str, period: float = 0.3) -> None:
        self._client = httpx.Client(
            base_url=base_url, timeout=5, headers={"Authorization": f"Bearer {token}"}
        )
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.statuses: dict[int, int] = {}

    PATHS = (
        "/api/events?limit=50",
        "/api/agents",
        "/api/rules",
        "/api/metrics/health",
        "/api/metrics/stats",
        "/api/agents/demo-lavka/runs",
        "/api/agents/no-such-agent",  # a 404, templated as /api/agents/{agent_id}
    )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for path in self.PATHS:
                with contextlib.suppress(httpx.HTTPError):
                    status = self._client.get(path).status_code
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                if self._stop.wait(self._period / len(self.PATHS)):
                    return


# --- Prometheus' HTTP API ---------------------------------------------------------------------


@dataclass
class PrometheusAPI:
    url: str
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15))

    def _get(self, path: str, params: Any = None) -> dict[str, Any]:
        response = self.client.get(f"{self.url}{path}", params=params)
        body = response.json()
        assert isinstance(body, dict), body
        return body

    def query_raw(self, expr: str) -> dict[str, Any]:
        """The whole answer to an instant query (status, data or error)."""
        return self._get("/api/v1/query", {"query": expr})

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector; an error fails."""
        body = self.query_raw(expr)
        assert body.get("status") == "success", f"{expr!r}: {body}"
        return body["data"]["result"]

    def value(self, expr: str) -> float | None:
        """The single value of ``expr`` (None when it returns nothing)."""
        result = self.query(expr)
        if not result:
            return None
        assert len(result) == 1, f"{expr!r} returned {len(result)} series"
        return float(result[0]["value"][1])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """A range query's result matrix (epoch seconds); an error fails."""
        params = {"query": expr, "start": start, "end": end, "step": step}
        body = self._get("/api/v1/query_range", params)
        assert body.get("status") == "success", f"{expr!r}: {body}"
        return body["data"]["result"]

    def series(self, match: str) -> list[dict[str, str]]:
        body = self._get("/api/v1/series", {"match[]": match, "start": time.time() - 3600})
        assert body.get("status") == "success", f"series {match!r}: {body}"
        return body["data"]

    def label_values(self, label: str, match: str) -> list[str]:
        params = {"match[]": match} if match else None
        body = self._get(f"/api/v1/label/{label}/values", params)
        assert body.get("status") == "success", f"label {label} of {match!r}: {body}"
        return body["data"]

    def targets(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/targets")["data"]["activeTargets"]

    def rule_groups(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/rules")["data"]["groups"]

    def alerts(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/alerts")["data"]["alerts"]


def eventually(
    check: Callable[[], list[str]], timeout: float, what: str, logs: Callable[[], str]
) -> None:
    """Retry ``check`` (which returns what is still wrong) until it returns nothing; fail after
    ``timeout`` seconds with the last problems and the processes' logs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            problems = check()
        except (httpx.HTTPError, AssertionError) as error:
            problems = [repr(error)]
        if not problems:
            return
        if time.monotonic() > deadline:
            listed = "\n  ".join(problems)
            raise AssertionError(f"{what} after {timeout:.0f} s:\n  {listed}\n\n{logs()}")
        time.sleep(1)


# --- The whole stack -------------------------------------------------------------------------


@dataclass
class Stack:
    """What the ``stack`` fixture started, with the logs every failure message carries."""

    root: Path
    demo: ManagedProcess
    prometheus: ManagedProcess
    alertmanager: ManagedProcess
    webhook: WebhookReceiver
    traffic: Traffic
    prom: PrometheusAPI
    demo_url: str
    site_url: str
    alertmanager_url: str
    rules: dict[str, Any]
    absent_jobs: tuple[str, ...]
    started: float
    ready_at: float = math.inf
    started_epoch: float = field(default_factory=time.time)  # wall clock, for range queries

    def logs(self) -> str:
        tails = [p.tail() for p in (self.demo, self.prometheus, self.alertmanager)]
        deliveries = "\n".join(d.summary() for d in self.webhook.snapshot()) or "(none)"
        return "\n\n".join([*tails, f"=== webhook deliveries:\n{deliveries}"])

    def restart_demo(self, timeout: float = 120) -> None:
        self.demo.start()
        wait_ready(f"{self.demo_url}/api/metrics/health", self.demo, timeout)
