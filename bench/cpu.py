"""CPU µs per request of one variant, measured in process: no sockets, no HTTP parser.

The app is called directly as an ASGI callable, on uvloop, with a fixed GET scope, many times in
a row; ``time.process_time`` over a batch divided by its size is the CPU cost per request of the
app plus its instrumentation (for the ``bgw_app_*`` variants also the database round trips, and
the app's lifespan runs around the loop as under uvicorn). The difference between two variants
is what a lever costs per request.

A batch is sized from the warm-up to last about ``--batch-seconds``, so cheap and expensive
variants are measured for about as long. ``python -m bench.cpu <variant> [--batches B]
[--batch-seconds S] [--profile FILE]`` prints one JSON object; ``--profile`` runs one extra
batch under cProfile and saves its stats (``python -m pstats FILE`` reads them).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvloop

from bench.apps import BY_NAME, create

WARMUP_SECONDS = 0.5
MIN_BATCH = 200
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"bench/1.0"),
    (b"accept", b"*/*"),
]


def request_scope(path: str) -> dict[str, Any]:
    """What uvicorn passes for ``GET path`` (query string included)."""
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": HEADERS,
        "state": {},
    }


class Client:
    """Calls an ASGI app the way a server would, and checks every answer is a 200."""

    def __init__(self, app: Any, path: str) -> None:
        self.app = app
        self.scope = request_scope(path)
        self.status = 0

    async def _receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]

    async def requests(self, count: int) -> None:
        app, scope, receive, send = self.app, self.scope, self._receive, self._send
        for _ in range(count):
            self.status = 0
            # The app and its middlewares add keys (route, path_params, ...): a fresh copy each.
            await app({**scope, "headers": list(HEADERS), "state": {}}, receive, send)
            if self.status != 200:
                raise RuntimeError(f"{scope['path']} answered {self.status}")


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run the app's lifespan (startup before the loop, shutdown after) as uvicorn would."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"lifespan startup failed: {started}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


async def warm_up(client: Client, seconds: float) -> float:
    """Send requests for ``seconds``; returns the CPU seconds each of the last ones took."""
    deadline = time.perf_counter() + seconds
    per_request = 0.0
    while time.perf_counter() < deadline:
        started = time.process_time()
        await client.requests(MIN_BATCH)
        per_request = (time.process_time() - started) / MIN_BATCH
    return per_request


async def measure(
    variant: str, batches: int, batch_seconds: float, profile: str | None
) -> dict[str, Any]:
    app = create(variant)
    client = Client(app, BY_NAME[variant].path)
    cpu_us: list[float] = []
    wall_us: list[float] = []
    async with lifespan(app):
        per_request = await warm_up(client, WARMUP_SECONDS)
        requests = max(MIN_BATCH, int(batch_seconds / max(per_request, 1e-7)))
        for _ in range(batches):
            cpu, wall = time.process_time(), time.perf_counter()
            await client.requests(requests)
            cpu_us.append((time.process_time() - cpu) / requests * 1e6)
            wall_us.append((time.perf_counter() - wall) / requests * 1e6)
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await client.requests(requests)
            profiler.disable()
            profiler.dump_stats(profile)
    return {
        "variant": variant,
        "requests_per_batch": requests,
        "cpu_us": statistics.median(cpu_us),
        "wall_us": statistics.median(wall_us),
        "cpu_us_batches": cpu_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(BY_NAME))
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--batch-seconds", type=float, default=0.4)
    parser.add_argument("--profile", help="save a cProfile of one more batch to this file")
    args = parser.parse_args()
    result = uvloop.run(measure(args.variant, args.batches, args.batch_seconds, args.profile))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
