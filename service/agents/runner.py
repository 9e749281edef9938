"""One agent run: claim the agent, fetch its pages politely, parse the new ones, and store what
they say in one transaction.

- An agent never runs twice at once: the run holds the coordinator lock ``agent-run:<id>``
  (Redis across replicas), renewed while it works; a worker that dies mid-run loses the lock
  when its lease expires, so the next run is not lost.
- A run that hits robots.txt or a daily cap stops cleanly as ``skipped`` with the reason; a run
  whose every page failed is ``error``; anything else is ``success`` (its reason lists pages that
  failed).
- Nothing already stored changes unless the whole run's results commit: raw pages, events,
  prices and the rules hand-off are written in one transaction at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from opentelemetry import context as otel_context
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.agents.drafts import Draft
from service.agents.fetch import Fetcher, FetchFailed, Page, RobotsDisallowed
from service.agents.parsers import PARSERS
from service.agents.politeness import TokenBucket
from service.coordination import Coordinator, Lease
from service.db.models import AgentRun, Game, RawItem, SourceAgent, Store
from service.domain import AgentMode, AgentRunStatus, AgentType
from service.pipeline.llm import OllamaExtractor
from service.pipeline.matching import Match, WatchedGame, Watchlist
from service.pipeline.sink import EventSink
from service.pipeline.store import EventStore, PipelineStats
from service.quotas import QuotaExceeded
from service.schemas.agents import DEFAULT_AGENT_DAILY_PAGES_CAP
from telemetry.instruments import AGENT_DURATION, AGENT_RUNS
from telemetry.tracing import AGENT_ID, STORE_ID, traced

log = structlog.get_logger("bgw.agents")

LEASE_SECONDS = 90.0
MAX_LLM_CALLS_PER_RUN = 50
ABANDONED = "abandoned: the worker running it stopped before it finished"


class AgentNotFound(LookupError):
    pass


class AgentBusy(RuntimeError):
    """Another worker (or task) is running this agent right now."""


@dataclass
class RunResult:
    agent_id: str
    run_id: int
    status: AgentRunStatus
    reason: str | None
    pages_fetched: int
    pages_failed: int
    events_created: int
    duration_seconds: float


@dataclass
class _Progress:
    pages: list[Page] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    fetched: int = 0
    stopped: tuple[AgentRunStatus, str] | None = None


@dataclass
class AgentRunner:
    sessions: async_sessionmaker[AsyncSession]
    coordinator: Coordinator
    fetcher: Fetcher
    sink: EventSink
    llm: OllamaExtractor | None = None
    lease_seconds: float = LEASE_SECONDS
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    async def run(
        self, agent_id: str, *, unless_started_since: datetime | None = None
    ) -> RunResult | None:
        """Run ``agent_id`` once. Raises AgentNotFound, or AgentBusy when it is running.

        With ``unless_started_since``, a run that another replica started at or after that
        instant counts as this one, and None is returned."""
        return await self.run_claimed(await self.claim(agent_id), unless_started_since)

    async def claim(self, agent_id: str) -> Lease:
        """Take the agent's lease (AgentBusy when someone holds it), for ``run_claimed``."""
        lease = await self.coordinator.acquire(f"agent-run:{agent_id}", self.lease_seconds)
        if lease is None:
            raise AgentBusy(f"agent {agent_id!r} is already running")
        return lease

    async def run_claimed(
        self, lease: Lease, unless_started_since: datetime | None = None
    ) -> RunResult | None:
        agent_id = lease.name.removeprefix("agent-run:")
        async with self._holding(lease):
            if unless_started_since is not None and await self._started_since(
                agent_id, unless_started_since
            ):
                return None
            # One trace per run, whoever asked for it.
            token = otel_context.attach(otel_context.Context())
            try:
                return await self._run(agent_id)
            finally:
                otel_context.detach(token)

    async def _started_since(self, agent_id: str, instant: datetime) -> bool:
        async with self.sessions() as session:
            last = await session.scalar(
                select(func.max(AgentRun.started_at)).where(AgentRun.agent_id == agent_id)
            )
        return last is not None and last >= instant

    @contextlib.asynccontextmanager
    async def _holding(self, lease: Lease) -> AsyncIterator[Lease]:
        done = asyncio.Event()
        keeper = asyncio.create_task(self._keep(lease, done), name=f"lease:{lease.name}")
        try:
            yield lease
        finally:
            # The keeper is told to stop, not cancelled: cancelling it in the middle of a Redis
            # command can leave the pooled connection unusable, and the release hangs on it.
            done.set()
            await keeper
            await self.coordinator.release(lease)

    async def _keep(self, lease: Lease, done: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.lease_seconds / 3):
                    await done.wait()
            if done.is_set():
                return
            if not await self.coordinator.extend(lease, self.lease_seconds):
                log.warning("agent lease lost", lock=lease.name)
                return

    async def _run(self, agent_id: str) -> RunResult:
        started = time.perf_counter()
        async with self.sessions() as session:
            agent = await session.get(SourceAgent, agent_id)
            if agent is None:
                raise AgentNotFound(agent_id)
            store = await session.get(Store, agent.store_id)
            games = (await session.execute(select(Game.id, Game.title, Game.synonyms))).all()
            # We hold the lease: a run of this agent still marked running was left by a
            # worker that died. Say so, so it does not count as running for ever.
            stale = (
                await session.scalars(
                    select(AgentRun).where(
                        AgentRun.agent_id == agent_id,
                        AgentRun.status == AgentRunStatus.RUNNING.value,
                    )
                )
            ).all()
            for abandoned in stale:
                abandoned.status = AgentRunStatus.ERROR.value
                abandoned.reason = ABANDONED
                abandoned.finished_at = datetime.now(UTC)
            run = AgentRun(agent_id=agent.id, store_id=agent.store_id)
            session.add(run)
            await session.commit()
            snapshot = _AgentSnapshot.of(agent, store.currency if store else "RUB")
        AGENT_RUNS.add(1, {"agent_id": agent_id, "status": "started"})
        log.info("Agent started", agent_id=agent_id, run_id=run.id)

        with traced("agent.run", {AGENT_ID: agent_id, STORE_ID: snapshot.store_id}) as span:
            progress = await self._collect(snapshot)
            watchlist = Watchlist(WatchedGame(i, t, tuple(s or ())) for i, t, s in games)
            matches = await self._settle_uncertain(progress.drafts, watchlist)
            try:
                status, reason, created = await self._store(
                    run.id, snapshot, progress, watchlist, matches
                )
            except Exception as exc:  # the run's results are rolled back; the run says why
                status, reason, created = AgentRunStatus.ERROR, f"storing failed: {exc!r}"[:500], 0
                async with self.sessions() as session, session.begin():
                    await self._finish(session, run.id, status, reason, progress)
                span.record_exception(exc)
            span.set_attribute("bgw.run.status", status.value)

        duration = time.perf_counter() - started
        AGENT_RUNS.add(1, {"agent_id": agent_id, "status": status.value})
        AGENT_DURATION.record(duration, {"agent_id": agent_id})
        if status is AgentRunStatus.ERROR:
            log.error("Agent failed", agent_id=agent_id, duration=duration, error=reason)
        else:
            log.info(
                "Agent completed",
                agent_id=agent_id,
                status=status.value,
                duration=round(duration, 3),
                events_count=created,
                reason=reason,
            )
        return RunResult(
            agent_id,
            run.id,
            status,
            reason,
            progress.fetched,
            len(progress.failed),
            created,
            duration,
        )

    async def _collect(self, agent: _AgentSnapshot) -> _Progress:
        progress = _Progress()
        bucket = self._bucket(agent)
        parser = PARSERS[agent.type]
        for start_url in agent.start_urls:
            url: str | None = start_url
            for _ in range(agent.max_pages):
                if url is None:
                    break
                try:
                    page = await self.fetcher.fetch(agent.id, url, bucket, agent.daily_cap)
                except RobotsDisallowed as exc:
                    progress.stopped = (AgentRunStatus.SKIPPED, str(exc))
                    return progress
                except QuotaExceeded as exc:
                    progress.stopped = (AgentRunStatus.SKIPPED, str(exc))
                    return progress
                except FetchFailed as exc:
                    progress.failed.append(str(exc))
                    break
                progress.fetched += 1
                if await self._seen(page) or any(
                    page.content_hash == kept.content_hash for kept in progress.pages
                ):
                    # Unchanged since the last fetch, or the same page again in this run (a shop
                    # that ignores ?page=2): nothing new, and no next link worth following.
                    break
                progress.pages.append(page)
                with traced("agent.parse", {AGENT_ID: agent.id}) as span:
                    result = parser(page.text, page.url, agent.config)
                    span.set_attribute("bgw.drafts", len(result.drafts))
                progress.drafts.extend(result.drafts)
                url = result.next_url
        return progress

    async def _settle_uncertain(
        self, drafts: list[Draft], watchlist: Watchlist
    ) -> dict[str, Match]:
        """Ask the LLM about matches in the uncertain band (before the transaction opens: a
        slow model must not hold database locks)."""
        if self.llm is None:
            return {}
        settled: dict[str, Match] = {}
        for draft in drafts[:MAX_LLM_CALLS_PER_RUN]:
            fuzzy = watchlist.match(draft.title)
            if fuzzy.game_id is not None and not fuzzy.certain and draft.title not in settled:
                settled[draft.title] = await self.llm.resolve(draft, watchlist, fuzzy)
        return settled

    async def _seen(self, page: Page) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(
                select(RawItem.id).where(RawItem.content_hash == page.content_hash)
            )
        return found is not None

    async def _store(
        self,
        run_id: int,
        agent: _AgentSnapshot,
        progress: _Progress,
        watchlist: Watchlist,
        matches: dict[str, Match],
    ) -> tuple[AgentRunStatus, str | None, int]:
        if progress.stopped is not None:
            status, reason = progress.stopped
        elif progress.failed and not progress.fetched:
            status, reason = AgentRunStatus.ERROR, progress.failed[0]
        else:
            status = AgentRunStatus.SUCCESS
            reason = (
                f"{len(progress.failed)} page(s) failed: {progress.failed[0]}"
                if progress.failed
                else None
            )
            if not progress.drafts and progress.pages:
                reason = "pages parsed to no listings: check the selectors"
        async with self.sessions() as session, session.begin():
            for page in progress.pages:
                session.add(
                    RawItem(
                        source_id=agent.id,
                        url=page.url,
                        content_hash=page.content_hash,
                        body=zlib.compress(page.text.encode()),
                    )
                )
            events = EventStore(
                session, watchlist, agent.store_id, agent.id, agent.currency, agent.mode
            )
            stats = await events.process(progress.drafts, matches)
            if stats.events:
                await self.sink.on_events(session, stats.events)
            await self._finish(session, run_id, status, reason, progress, stats)
        return status, reason, len(stats.events)

    @staticmethod
    async def _finish(
        session: AsyncSession,
        run_id: int,
        status: AgentRunStatus,
        reason: str | None,
        progress: _Progress,
        stats: PipelineStats | None = None,
    ) -> None:
        run = await session.get(AgentRun, run_id)
        assert run is not None
        run.status = status.value
        run.reason = reason
        run.finished_at = datetime.now(UTC)
        run.pages_fetched = progress.fetched
        run.pages_failed = len(progress.failed)
        if stats is not None:
            run.drafts_parsed = stats.parsed
            run.drafts_valid = stats.valid
            run.drafts_merged = stats.merged
            run.events_created = len(stats.events)

    def _bucket(self, agent: _AgentSnapshot) -> TokenBucket:
        bucket = self.buckets.get(agent.id)
        if bucket is None or (bucket.rps, bucket.capacity) != (agent.rps, float(agent.burst)):
            bucket = self.buckets[agent.id] = TokenBucket(agent.rps, agent.burst)
        return bucket


@dataclass(frozen=True)
class _AgentSnapshot:
    """What a run needs of the agent, read once, so no ORM object outlives its session."""

    id: str
    store_id: str
    type: AgentType
    mode: AgentMode
    start_urls: tuple[str, ...]
    max_pages: int
    rps: float
    burst: int
    daily_cap: int
    currency: str
    config: dict[str, Any]

    @classmethod
    def of(cls, agent: SourceAgent, currency: str) -> _AgentSnapshot:
        config = agent.config
        limits = agent.rate_limit
        return cls(
            id=agent.id,
            store_id=agent.store_id,
            type=AgentType(agent.type),
            mode=AgentMode(config.get("mode", AgentMode.SEARCH.value)),
            start_urls=tuple(config.get("start_urls", ())),
            max_pages=int((config.get("pagination") or {}).get("max_pages", 1)),
            rps=float(limits.get("rps", 0.5)),
            burst=int(limits.get("burst", 1)),
            daily_cap=int(limits.get("daily_pages_cap", DEFAULT_AGENT_DAILY_PAGES_CAP)),
            currency=currency,
            config=config,
        )
