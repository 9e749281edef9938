"""Counters and locks in Redis, shared by every BGW replica that uses the same server."""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from service.coordination.base import Lease

# Compare-and-act scripts: only the holder of the token may touch its lock.
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_EXTEND = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


class RedisCoordinator:
    """Counters are ``INCRBY`` + ``EXPIREAT`` in one transaction; locks are ``SET NX PX``."""

    backend = "redis"

    def __init__(self, client: Redis, prefix: str = "bgw:") -> None:
        self.client = client
        self._prefix = prefix
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    @classmethod
    def from_url(cls, url: str) -> RedisCoordinator:
        return cls(Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))

    async def incr(self, key: str, amount: int = 1, *, expire_at: datetime | None = None) -> int:
        name = self._counter(key)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incrby(name, amount)
            if expire_at is not None:
                pipe.expireat(name, int(expire_at.timestamp()))
            value, *_ = await pipe.execute()
        return int(value)

    async def get(self, key: str) -> int:
        value = await self.client.get(self._counter(key))
        return int(value) if value is not None else 0

    async def acquire(self, name: str, ttl: float) -> Lease | None:
        lease = Lease(name)
        taken = await self.client.set(self._lock(name), lease.token, nx=True, px=_ms(ttl))
        return lease if taken else None

    async def extend(self, lease: Lease, ttl: float) -> bool:
        return bool(await self._extend(keys=[self._lock(lease.name)], args=[lease.token, _ms(ttl)]))

    async def release(self, lease: Lease) -> bool:
        return bool(await self._release(keys=[self._lock(lease.name)], args=[lease.token]))

    async def ping(self) -> None:
        await self.client.ping()

    async def aclose(self) -> None:
        await self.client.aclose()

    def _counter(self, key: str) -> str:
        return f"{self._prefix}counter:{key}"

    def _lock(self, name: str) -> str:
        return f"{self._prefix}lock:{name}"


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
