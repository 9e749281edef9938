"""Counters and locks shared by BGW's workers.

With ``REDIS_URL`` set, replicas share them through Redis; without it (the embedded default, one
process) an in-process implementation gives the same semantics. Code depends on the
:class:`Coordinator` protocol and gets an instance from :func:`create_coordinator`.
"""

from service.coordination.base import Coordinator, Lease
from service.coordination.memory import MemoryCoordinator
from service.coordination.redis import RedisCoordinator


def create_coordinator(redis_url: str | None) -> Coordinator:
    return RedisCoordinator.from_url(redis_url) if redis_url else MemoryCoordinator()


__all__ = ["Coordinator", "Lease", "MemoryCoordinator", "RedisCoordinator", "create_coordinator"]
