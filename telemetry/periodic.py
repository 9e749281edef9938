"""A background job that runs every ``interval`` seconds and stops gracefully: ``stop`` lets the
round under way finish (cancelling a database query half-way can leave its connection in limbo)
and only cancels a round that overruns ``grace`` seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self, name: str, job: Callable[[], Awaitable[object]], interval: float, grace: float = 10.0
    ) -> None:
        self.name = name
        self.job = job
        self.interval = interval
        self.grace = grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.job()
            except Exception as exc:  # the job must outlive any one bad round
                failures += 1
                # The traceback once per streak; an outage is not worth one every round.
                log.warning(
                    "%s round failed (%d in a row): %s",
                    self.name,
                    failures,
                    exc,
                    exc_info=failures == 1,
                )
            else:
                if failures:
                    log.info("%s recovered after %d failed rounds", self.name, failures)
                failures = 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)
