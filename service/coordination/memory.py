"""In-process counters and locks, for the embedded default (one process, no Redis)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from service.coordination.base import Lease


class MemoryCoordinator:
    """Counters and locks in this process. asyncio runs one coroutine at a time and no method
    awaits, so each call is atomic."""

    backend = "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counters: dict[str, tuple[int, float | None]] = {}
        self._locks: dict[str, tuple[str, float]] = {}

    async def incr(self, key: str, amount: int = 1, *, expire_at: datetime | None = None) -> int:
        value, deadline = self._live_counter(key)
        if expire_at is not None:
            deadline = expire_at.timestamp()
        self._counters[key] = (value + amount, deadline)
        return value + amount

    async def get(self, key: str) -> int:
        return self._live_counter(key)[0]

    async def acquire(self, name: str, ttl: float) -> Lease | None:
        now = self._clock()
        held = self._locks.get(name)
        if held is not None and held[1] > now:
            return None
        lease = Lease(name)
        self._locks[name] = (lease.token, now + ttl)
        return lease

    async def extend(self, lease: Lease, ttl: float) -> bool:
        if not self._holds(lease):
            return False
        self._locks[lease.name] = (lease.token, self._clock() + ttl)
        return True

    async def release(self, lease: Lease) -> bool:
        if not self._holds(lease):
            return False
        del self._locks[lease.name]
        return True

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        self._counters.clear()
        self._locks.clear()

    def _live_counter(self, key: str) -> tuple[int, float | None]:
        value, deadline = self._counters.get(key, (0, None))
        if deadline is not None and deadline <= self._clock():
            self._counters.pop(key, None)
            return 0, None
        return value, deadline

    def _holds(self, lease: Lease) -> bool:
        held = self._locks.get(lease.name)
        return held is not None and held[0] == lease.token and held[1] > self._clock()
