"""Drive a server with wrk (pinned to a core) and read its summary."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench.server import Server

_TOTAL = re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_TO_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    # The server's CPU time over the run: per request, and as a share of one core (1.0 when
    # the server was CPU-bound all along).
    server_cpu_us: float = float("nan")
    server_cpu_share: float = float("nan")
    # CPU used by everything else on the machine meanwhile (other processes, the kernel), in
    # cores: the noise this measurement ran in.
    foreign_cores: float = float("nan")


def busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (/proc/stat, steal included)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    server: Server, path: str, *, core: int, connections: int, seconds: float
) -> LoadResult:
    """wrk against ``server`` with the server's CPU time sampled around it."""
    url = f"http://127.0.0.1:{server.port}{path}"
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    busy_before, wrk_before = busy_seconds(), children_cpu_seconds()
    result = wrk(url, core=core, connections=connections, seconds=seconds)
    cpu = server.cpu_seconds() - cpu_before
    wall = time.monotonic() - wall_before
    wrk_cpu = children_cpu_seconds() - wrk_before
    foreign = busy_seconds() - busy_before - cpu - wrk_cpu
    return replace(
        result,
        server_cpu_us=cpu / result.requests * 1e6,
        server_cpu_share=cpu / wall,
        foreign_cores=max(foreign, 0.0) / wall,
    )


def wrk(url: str, *, core: int, connections: int, seconds: float) -> LoadResult:
    """One wrk run; raises when any response was not 2xx/3xx or a socket failed."""
    command = [
        "taskset", "-c", str(core),
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url,
    ]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return parse(output)


def parse(output: str) -> LoadResult:
    rps, total = _RPS.search(output), _TOTAL.search(output)
    if rps is None or total is None:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    if non_2xx is not None and int(non_2xx.group(1)) > 0:
        raise RuntimeError(f"wrk saw {non_2xx.group(1)} non-2xx/3xx responses:\n{output}")
    errors = _SOCKET_ERRORS.search(output)
    if errors is not None and any(int(count) for count in errors.groups()):
        raise RuntimeError(f"wrk saw socket errors:\n{output}")
    percentiles = {
        match.group(1): float(match.group(2)) * _TO_MS[match.group(3)]
        for match in _PERCENTILE.finditer(output)
    }
    return LoadResult(
        requests_per_second=float(rps.group(1)),
        requests=int(total.group(1)),
        p50_ms=percentiles.get("50", float("nan")),
        p99_ms=percentiles.get("99", float("nan")),
    )
