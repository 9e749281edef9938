"""The `bgw` command as a user runs it: a real process, real ports, clear messages on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.db import migrate
from tests.servers import PostgresServer, free_port, wait_for_port

BGW = str(Path(sys.executable).with_name("bgw"))


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "BGW_ENV")}
    return env | values


def _bgw(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BGW, *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    process = subprocess.Popen(
        [BGW, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        yield port, tmp_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_runs_on_the_embedded_default(served: tuple[int, Path]) -> None:
    port, workdir = served
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    created = httpx.post(
        f"{base}/api/stores",
        json={"id": "zvezda", "name": "Звезда", "site_url": "https://zvezda.org.ru"},
    )
    assert created.status_code == 201
    assert httpx.get(f"{base}/api/stores/zvezda").json()["name"] == "Звезда"
    assert httpx.get(f"{base}/docs").status_code == 200
    assert (workdir / "bgw.db").exists()  # the SQLite file in the working directory


def test_migrate_brings_an_empty_database_to_head(tmp_path: Path) -> None:
    result = _bgw("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 0, result.stderr
    assert f"database at revision {migrate.head_revision()}" in result.stdout
    again = _bgw("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert again.returncode == 0


def test_serve_refuses_an_unmigrated_postgres(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    postgres_server.create_database("bgw_cli")
    url = postgres_server.url("bgw_cli")
    refused = _bgw("serve", "--port", str(free_port()), cwd=tmp_path, DATABASE_URL=url)
    assert refused.returncode == 2
    assert "run `bgw migrate`" in refused.stderr
    assert "Traceback" not in refused.stderr
    migrated = _bgw("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert migrated.returncode == 0, migrated.stderr


def test_unreachable_database_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    url = f"postgresql://bgw:secret@127.0.0.1:{free_port()}/bgw"
    result = _bgw("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr
    assert "secret" not in result.stderr  # the password is not echoed
    assert "Traceback" not in result.stderr


def test_invalid_configuration_names_the_setting(tmp_path: Path) -> None:
    result = _bgw("serve", cwd=tmp_path, BGW_ENV="staging")
    assert result.returncode == 2
    assert "invalid configuration" in result.stderr
    assert "env" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_option_is_validated(tmp_path: Path) -> None:
    result = _bgw("serve", "--port", "70000", cwd=tmp_path)
    assert result.returncode != 0
    assert "--port" in result.stderr
    assert "65535" in result.stderr


def test_several_workers_need_otlp_and_redis(tmp_path: Path) -> None:
    refused = _bgw("serve", "--workers", "2", cwd=tmp_path)
    assert refused.returncode == 2
    assert "needs OTLP metrics export" in refused.stderr
    no_redis = _bgw(
        "serve", "--workers", "2", cwd=tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9"
    )
    assert no_redis.returncode == 2
    assert "needs REDIS_URL" in no_redis.stderr


def test_workers_report_as_distinct_instances(tmp_path: Path, redis_server) -> None:
    """With OTLP on, each worker is its own service.instance.id, for the collector to sum."""
    port = free_port()
    env = _env(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",  # nobody listens: fine
        REDIS_URL=redis_server.url,
    )
    process = subprocess.Popen(
        [BGW, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        instances: set[str] = set()
        for _ in range(200):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                text = client.get("/api/metrics/prometheus").text
            line = next(line for line in text.splitlines() if line.startswith("target_info{"))
            instances.add(line.split('service_instance_id="')[1].split('"')[0])
            if len(instances) == 2:
                break
        assert len(instances) == 2
    finally:
        process.terminate()
        process.wait(timeout=30)
