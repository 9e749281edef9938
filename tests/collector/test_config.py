"""The collector built from deploy/otelcol/builder-config.yaml, and otel-collector.yaml checked by
that collector itself: it validates with loopback endpoints from the environment, resolves to
the documented ports without them, and rejects broken copies."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.collector.stack import COLLECTOR_CONFIG, MANIFEST, OVERLAY, Collector

VERSION = "0.155.0"
KINDS = ("receivers", "processors", "exporters", "extensions")


def _types(config: dict[str, Any], kind: str) -> set[str]:
    """Component types a config defines (``otlp_grpc/tempo`` is of type ``otlp_grpc``)."""
    return {name.split("/")[0] for name in config.get(kind) or {}}


def _collector(binary: Path, tmp_path: Path, *configs: Path) -> Collector:
    return Collector(binary, tmp_path, tempo_port=4317, configs=configs)


def _print_config(binary: Path, *configs: Path, env: dict[str, str]) -> dict[str, Any]:
    args = [arg for path in configs for arg in ("--config", str(path))]
    result = subprocess.run(
        [str(binary), "print-config", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_build_has_exactly_the_components_the_configs_use(otelcol_binary: Path) -> None:
    result = subprocess.run(
        [str(otelcol_binary), "components"], capture_output=True, text=True, timeout=60, check=True
    )
    built = yaml.safe_load(result.stdout)
    assert built["buildinfo"]["version"] == VERSION
    production = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    overlay = yaml.safe_load(OVERLAY.read_text())
    for kind in KINDS:
        have = {component["name"] for component in built.get(kind) or []}
        assert have == _types(production, kind) | _types(overlay, kind), kind
    # The test-only exporter is the only addition, and production does not use it.
    assert _types(overlay, "exporters") - _types(production, "exporters") == {"debug"}
    # 0.155.0 calls the OTLP/gRPC exporter otlp_grpc (`otlp` is a deprecated alias).
    assert "otlp_grpc" in _types(production, "exporters")


def test_the_manifest_pins_one_release() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["dist"]["version"] == VERSION
    modules = [
        entry["gomod"] for kind in (*KINDS, "providers") for entry in manifest.get(kind) or []
    ]
    versions = {module.split()[1] for module in modules}
    # Component modules at v0.155.0; the stable config providers of the same release at v1.61.0.
    assert versions == {f"v{VERSION}", "v1.61.0"}, modules
    for module in modules:
        path, version = module.split()
        assert version == ("v1.61.0" if "/confmap/provider/" in path else f"v{VERSION}"), module


def test_the_config_validates_with_loopback_endpoints(otelcol_binary: Path, tmp_path: Path) -> None:
    for configs in ((COLLECTOR_CONFIG,), (COLLECTOR_CONFIG, OVERLAY)):
        result = _collector(otelcol_binary, tmp_path, *configs).validate()
        assert result.returncode == 0, result.stderr


def test_endpoints_default_to_the_compose_ports_and_follow_the_environment(
    otelcol_binary: Path, tmp_path: Path
) -> None:
    collector = _collector(otelcol_binary, tmp_path, COLLECTOR_CONFIG)
    loopback = collector.env()
    defaults = {k: v for k, v in loopback.items() if not k.startswith("OTELCOL_")}

    def endpoints(config: dict[str, Any]) -> dict[str, Any]:
        protocols = config["receivers"]["otlp"]["protocols"]
        reader = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
        return {
            "grpc": protocols["grpc"]["endpoint"],
            "http": protocols["http"]["endpoint"],
            "prometheus": config["exporters"]["prometheus"]["endpoint"],
            "tempo": config["exporters"]["otlp_grpc/tempo"]["endpoint"],
            "health": config["extensions"]["health_check"]["endpoint"],
            "own metrics": f"{reader['prometheus']['host']}:{reader['prometheus']['port']}",
        }

    assert endpoints(_print_config(otelcol_binary, COLLECTOR_CONFIG, env=defaults)) == {
        "grpc": "0.0.0.0:4317",
        "http": "0.0.0.0:4318",
        "prometheus": "0.0.0.0:8889",
        "tempo": "tempo:4317",
        "health": "0.0.0.0:13133",
        "own metrics": "0.0.0.0:8888",
    }
    assert endpoints(_print_config(otelcol_binary, COLLECTOR_CONFIG, env=loopback)) == {
        "grpc": f"127.0.0.1:{collector.grpc_port}",
        "http": f"127.0.0.1:{collector.http_port}",
        "prometheus": f"127.0.0.1:{collector.prometheus_port}",
        "tempo": "127.0.0.1:4317",
        "health": f"127.0.0.1:{collector.health_port}",
        "own metrics": f"127.0.0.1:{collector.telemetry_port}",
    }
    resolved = _print_config(otelcol_binary, COLLECTOR_CONFIG, env=defaults)
    prometheus = resolved["exporters"]["prometheus"]
    assert prometheus["enable_open_metrics"] is True  # exemplars reach Prometheus
    assert prometheus["resource_to_telemetry_conversion"]["enabled"] is False
    for pipeline in resolved["service"]["pipelines"].values():
        assert pipeline["processors"][0] == "memory_limiter"


BROKEN = {
    "an unknown key": ("enable_open_metrics: true", "enable_openmetrics: true", "invalid keys"),
    "an undefined processor in a pipeline": (
        "processors: [memory_limiter, batch]",
        "processors: [memory_limiter, batch, attributes]",
        'references processor "attributes"',
    ),
    "a component this build lacks": ("otlp_grpc/tempo:", "otlphttp/tempo:", "otlphttp"),
    "a port that is not a number": (
        "${env:OTELCOL_TELEMETRY_PORT:-8888}",
        "${env:OTELCOL_TELEMETRY_PORT:-eighty}",
        "port",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_copy_fails_validation(otelcol_binary: Path, tmp_path: Path, case: str) -> None:
    old, new, message = BROKEN[case]
    text = COLLECTOR_CONFIG.read_text()
    assert text.count(old) >= 1, f"the config no longer contains {old!r}"
    broken = tmp_path / "otel-collector.yaml"
    broken.write_text(text.replace(old, new))
    collector = _collector(otelcol_binary, tmp_path, broken)
    env = {k: v for k, v in collector.env().items() if k != "OTELCOL_TELEMETRY_PORT"}
    result = subprocess.run(
        collector.command("validate"), env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0, case
    assert re.search(re.escape(message), result.stderr), result.stderr
