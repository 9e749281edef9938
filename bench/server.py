"""Start one variant under uvicorn (1 worker, pinned to a core) and stop it again."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.apps import BY_NAME, VARIANT_ENV

ROOT = Path(__file__).resolve().parent.parent
# Inherited variables that would change what a variant measures.
_STRIPPED_PREFIXES = ("OTEL_", "BGW_", "PROMETHEUS_MULTIPROC", "ENABLE_METRICS")


def clean_env(extra: Mapping[str, str] = ()) -> dict[str, str]:
    """The environment for a benchmark child: no inherited OTEL_*/BGW_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED_PREFIXES)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process (all its threads) has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        # After the command name: state is field 3, utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(variant: str, core: int, extra_env: Mapping[str, str]) -> Iterator[Server]:
    """Run ``variant`` under uvicorn on ``core``; yields the server once it answers."""
    port = free_port()
    command = [
        "taskset", "-c", str(core),
        sys.executable, "-m", "uvicorn", "bench.apps:create", "--factory",
        "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = clean_env({**extra_env, VARIANT_ENV: variant})
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        _wait_until_up(process, port, BY_NAME[variant].path)
        yield Server(port=port, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(
    process: subprocess.Popen[bytes], port: int, path: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"uvicorn did not answer on port {port} within {timeout:.0f} s")
