"""The coordination interface: atomic counters with an expiry, and locks with a lease."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Lease:
    """Proof of holding a lock: only the holder's token can extend or release it."""

    name: str
    token: str = field(default_factory=lambda: secrets.token_hex(16))


@runtime_checkable
class Coordinator(Protocol):
    """What workers share. Every method is atomic across all users of the same backend."""

    backend: str
    """``redis`` or ``memory``: what a health check or a log line may report."""

    async def incr(self, key: str, amount: int = 1, *, expire_at: datetime | None = None) -> int:
        """Add ``amount`` to a counter and return the new value.

        ``expire_at`` (timezone-aware) makes the counter vanish at that instant, e.g. at local
        midnight for a daily quota; the counter then starts again from zero.
        """
        ...

    async def get(self, key: str) -> int:
        """The counter's current value (0 when absent or expired)."""
        ...

    async def acquire(self, name: str, ttl: float) -> Lease | None:
        """Take the lock ``name`` for ``ttl`` seconds, or return None when another holder has it.

        The lease expires by itself, so a holder that dies never blocks the lock for longer.
        """
        ...

    async def extend(self, lease: Lease, ttl: float) -> bool:
        """Renew a held lease for ``ttl`` seconds; False when it was lost (expired or taken)."""
        ...

    async def release(self, lease: Lease) -> bool:
        """Release a held lease; False when it was no longer ours."""
        ...

    async def ping(self) -> None:
        """Raise when the backend cannot be reached."""
        ...

    async def aclose(self) -> None: ...
