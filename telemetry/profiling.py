"""Per-request profiling for hunting a slow route: ``BGW_PROFILING_ENABLED=true``.

Each request runs under cProfile and its profile is saved as
``<dir>/<timestamp>-<METHOD>-<route>-<trace id>.prof`` (open with ``python -m pstats`` or
snakeviz). The directory is bounded: beyond ``max_files`` the oldest profiles are deleted. Off by
default, and then not even installed, so it costs nothing.
"""

from __future__ import annotations

import cProfile
import re
import threading
import time
from pathlib import Path

from opentelemetry import trace
from starlette.types import ASGIApp, Receive, Scope, Send

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ProfilingMiddleware:
    def __init__(self, app: ASGIApp, directory: Path, max_files: int) -> None:
        self.app = app
        self.directory = directory
        self.max_files = max_files
        self._lock = threading.Lock()
        self._active = False
        directory.mkdir(parents=True, exist_ok=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One profiler at a time: cProfile hooks the whole thread, so a second one would cut the
        # first short; concurrent requests simply go unprofiled.
        if scope["type"] != "http" or self._active:
            await self.app(scope, receive, send)
            return
        self._active = True
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            profiler.disable()
            self._active = False
            self._save(profiler, scope)

    def _save(self, profiler: cProfile.Profile, scope: Scope) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        context = trace.get_current_span().get_span_context()
        trace_id = format(context.trace_id, "032x") if context.is_valid else "untraced"
        name = f"{time.time_ns()}-{scope['method']}-{_UNSAFE.sub('_', route).strip('_')}-{trace_id}"
        with self._lock:
            profiler.dump_stats(self.directory / f"{name[:200]}.prof")
            self._rotate()

    def _rotate(self) -> None:
        profiles = sorted(self.directory.glob("*.prof"))
        for old in profiles[: max(0, len(profiles) - self.max_files)]:
            old.unlink(missing_ok=True)
