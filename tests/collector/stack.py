"""The real collector path, started for tests: BGW (``bgw serve``) → OTLP → the collector built
from deploy/otelcol/builder-config.yaml with this repository's otel-collector.yaml → Prometheus
(Debian's) scraping the collector's exporter, and a stand-in Tempo that takes the collector's
OTLP/gRPC trace export.

Everything listens on free loopback ports; every process writes its log to a file that failure
messages quote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.servers import INSTALL_HINT, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR_CONFIG = ROOT / "otel-collector.yaml"
OVERLAY = Path(__file__).resolve().parent / "overlay.yaml"
MANIFEST = ROOT / "deploy" / "otelcol" / "builder-config.yaml"
BUILD_SCRIPT = ROOT / "scripts" / "build-otelcol.sh"
BGW = str(Path(sys.executable).with_name("bgw"))

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | None], patience: float, what: str, interval: float = 0.25
) -> T:
    """Call ``probe`` until it returns something truthy; fail saying ``what`` after ``patience``."""
    deadline = time.monotonic() + patience
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {patience:g} s")
        time.sleep(interval)


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


# -- the collector ------------------------------------------------------------------------------


def build_collector() -> Path:
    """The cached otelcol-bgw binary; scripts/build-otelcol.sh builds it when missing or stale
    (cold: about two minutes with an empty Go module cache)."""
    if shutil.which("go") is None and not _cached_binary().exists():
        pytest.fail("Go is needed to build the collector (scripts/build-otelcol.sh): install Go")
    result = subprocess.run(
        [str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/build-otelcol.sh failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def _cached_binary() -> Path:
    cache = os.environ.get("BGW_TOOLS_CACHE") or str(Path.home() / ".cache" / "bgw-tools")
    return Path(cache) / "otelcol-0.155.0" / "otelcol-bgw"


@dataclass
class Collector:
    """otelcol-bgw with otel-collector.yaml (and overlays), every endpoint on loopback."""

    binary: Path
    workdir: Path
    tempo_port: int
    configs: tuple[Path, ...] = (COLLECTOR_CONFIG, OVERLAY)
    grpc_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    prometheus_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    telemetry_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "otelcol.log"

    def env(self) -> dict[str, str]:
        loopback = "127.0.0.1"
        return os.environ | {
            "OTELCOL_OTLP_GRPC_ENDPOINT": f"{loopback}:{self.grpc_port}",
            "OTELCOL_OTLP_HTTP_ENDPOINT": f"{loopback}:{self.http_port}",
            "OTELCOL_PROMETHEUS_ENDPOINT": f"{loopback}:{self.prometheus_port}",
            "OTELCOL_TEMPO_ENDPOINT": f"{loopback}:{self.tempo_port}",
            "OTELCOL_HEALTH_ENDPOINT": f"{loopback}:{self.health_port}",
            "OTELCOL_TELEMETRY_HOST": loopback,
            "OTELCOL_TELEMETRY_PORT": str(self.telemetry_port),
        }

    def command(self, *args: str) -> list[str]:
        config_args = [arg for path in self.configs for arg in ("--config", str(path))]
        return [str(self.binary), *args, *config_args]

    def validate(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command("validate"),
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )
        eventually(self.healthy, 30, f"collector health_check\n{tail(self.log)}")

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"the collector exited ({self.process.returncode}):\n{tail(self.log)}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.health_port}/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


# -- a stand-in for Tempo: an OTLP/gRPC trace receiver ------------------------------------------


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    attributes: dict[str, Any]
    status_code: int
    service: str


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


class FakeTempo(trace_service_pb2_grpc.TraceServiceServicer):
    """Takes what the collector's ``otlp_grpc/tempo`` exporter sends and keeps every span."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[Span] = []
        self.requests = 0
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        Span(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            name=span.name,
                            kind=span.kind,
                            attributes={a.key: _value(a.value) for a in span.attributes},
                            status_code=span.status.code,
                            service=str(resource.get("service.name")),
                        )
                    )
        with self._lock:
            self._spans.extend(spans)
            self.requests += 1
        return trace_service_pb2.ExportTraceServiceResponse()

    def spans(self, trace_id: str | None = None) -> list[Span]:
        with self._lock:
            return [s for s in self._spans if trace_id is None or s.trace_id == trace_id]

    def trace_ids(self) -> set[str]:
        with self._lock:
            return {s.trace_id for s in self._spans}

    def start(self) -> FakeTempo:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(grace=1).wait()


# -- Prometheus ---------------------------------------------------------------------------------


@dataclass
class Prometheus:
    """Debian's Prometheus scraping the collector's exporter (job ``otel-collector``,
    ``honor_labels`` as in deploy/prometheus.yml) and its own metrics, every second, and
    evaluating ``rule_files`` (copied unchanged into the workdir) every
    ``evaluation_interval``."""

    workdir: Path
    exporter_port: int
    telemetry_port: int
    rule_files: tuple[Path, ...] = ()
    evaluation_interval: str = "1s"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "prometheus.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail(f"prometheus not found: {INSTALL_HINT}")
        config: dict[str, Any] = {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "evaluation_interval": self.evaluation_interval,
            },
            "rule_files": [str(path) for path in self._copy_rule_files()],
            "scrape_configs": [
                {
                    "job_name": "otel-collector",
                    "honor_labels": True,
                    "static_configs": [{"targets": [f"127.0.0.1:{self.exporter_port}"]}],
                },
                {
                    "job_name": "otel-collector-internal",
                    "static_configs": [{"targets": [f"127.0.0.1:{self.telemetry_port}"]}],
                },
            ],
        }
        config_file = self.workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--enable-feature=exemplar-storage",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        eventually(self._ready, 60, f"Prometheus ready\n{tail(self.log)}")

    def _copy_rule_files(self) -> list[Path]:
        rules_dir = self.workdir / "rules"
        rules_dir.mkdir(exist_ok=True)
        copies = []
        for source in self.rule_files:
            copy = rules_dir / source.name
            shutil.copyfile(source, copy)
            assert copy.read_bytes() == source.read_bytes(), copy
            copies.append(copy)
        return copies

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query", query=expr)["result"]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


# -- BGW ----------------------------------------------------------------------------------------


@dataclass
class Bgw:
    """``bgw serve`` in a subprocess, exporting metrics and traces over OTLP/HTTP (as in
    docker-compose.yml) to the collector."""

    workdir: Path
    otlp_http_port: int
    redis_url: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "bgw.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        # Nothing of the caller's BGW, database or OTEL settings leaks in.
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("BGW_", "OTEL_", "DATABASE_", "REDIS_"))
        }
        values = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'bgw.db'}",
            "BGW_ENV": "development",
            "BGW_LOG_FORMAT": "console",
            "BGW_HEALTH_INTERVAL_SECONDS": "1",
            "BGW_METRICS_REFRESH_SECONDS": "1",
            "BGW_SCHEDULER_TICK_SECONDS": "0.5",
            "BGW_DISPATCHER_TICK_SECONDS": "0.5",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{self.otlp_http_port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            # Parent-based 10 % by default: every trace here, so each request has exemplars.
            "OTEL_TRACES_SAMPLER": "always_on",
        }
        if self.redis_url:
            values["REDIS_URL"] = self.redis_url
        return inherited | values | self.settings

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [BGW, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.workdir,  # no stray .env is read
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, timeout=60)

    def rss_bytes(self) -> int:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
