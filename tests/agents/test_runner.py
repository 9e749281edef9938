"""Agent runs end to end against a local shop: events, prices, politeness, failures."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from service.agents.runner import AgentBusy, AgentNotFound, AgentRunner
from service.db.models import AgentRun, ListingEvent, PriceHistory, RawItem
from service.domain import AgentRunStatus
from tests.agents_fixtures import html_agent, page
from tests.factories import create, game_body, store_body
from tests.shop import FakeShop, Reply
from tests.telemetry.helpers import scrape

PAGE_2 = """<html><body><div class="product-card">
<div class="product-card__labels"><span>Новинка</span></div>
<a class="product-card__title" href="/catalog/cascadia">Каскадия</a>
<span class="price">2 990 ₽</span></div></body></html>"""


@pytest.fixture
async def watched(client: httpx.AsyncClient, shop: FakeShop) -> None:
    await create(client, "/api/stores", store_body())
    for title, synonyms in (("Каскадия", ["Cascadia"]), ("Крылья", ["Wingspan"]), ("Азул", [])):
        await create(client, "/api/games", game_body(title=title, synonyms=synonyms, bgg_id=None))
    shop.routes["/catalog/new?page=2"] = Reply(body=PAGE_2)


async def _count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def test_a_run_turns_pages_into_events(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, session, shop: FakeShop
) -> None:
    await create(client, "/api/agents", html_agent(shop))
    result = await runner.run("hobbygames-new")

    assert result.status is AgentRunStatus.SUCCESS, result.reason
    assert (result.pages_fetched, result.pages_failed, result.events_created) == (2, 0, 4)
    events = {(e.title, e.kind): e for e in (await session.scalars(select(ListingEvent))).all()}
    assert set(events) == {
        ("Каскадия: Ландшафты", "preorder"),
        ("Настольная игра Крылья", "discount"),
        ("Азул", "release"),
        ("Каскадия", "release"),
    }
    wingspan = events[("Настольная игра Крылья", "discount")]
    assert (wingspan.price, wingspan.discount_pct, wingspan.in_stock) == (
        Decimal("3990.00"),
        Decimal("20.00"),
        True,
    )
    assert wingspan.url == shop.url("/catalog/wingspan")
    assert wingspan.game_id is not None
    assert wingspan.source_id == "hobbygames-new"
    assert await _count(session, RawItem) == 2
    # One first price per game listed as itself; the expansion «Ландшафты» has none.
    assert await _count(session, PriceHistory) == 3
    run = await session.get(AgentRun, result.run_id)
    assert (run.status, run.drafts_parsed, run.drafts_valid, run.events_created) == (
        "success",
        4,
        4,
        4,
    )

    families = await scrape(client)
    runs = families["agent_runs_total"]
    assert runs.value(agent_id="hobbygames-new", status="started") == 1
    assert runs.value(agent_id="hobbygames-new", status="success") == 1
    assert families["agent_pages_fetched_total"].value(agent_id="hobbygames-new") == 2
    created = families["events_created_total"]
    assert created.value(event_type="release", store_id="hobbygames") == 2
    assert (
        families["agent_duration_seconds"].value(
            "agent_duration_seconds_count", agent_id="hobbygames-new"
        )
        == 1
    )


async def test_unchanged_pages_are_not_parsed_again(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, session, shop: FakeShop
) -> None:
    await create(client, "/api/agents", html_agent(shop))
    await runner.run("hobbygames-new")
    again = await runner.run("hobbygames-new")
    assert again.status is AgentRunStatus.SUCCESS
    assert again.events_created == 0
    assert again.pages_fetched == 1  # page 1 unchanged: its next link is not followed again
    assert await _count(session, ListingEvent) == 4


async def test_a_shop_that_ignores_the_page_number_is_read_once(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, session, shop: FakeShop
) -> None:
    # Page 2 answers with page 1's very body: stored once, the run succeeds.
    shop.routes["/catalog/new?page=2"] = shop.routes["/catalog/new"]
    await create(client, "/api/agents", html_agent(shop))
    result = await runner.run("hobbygames-new")
    assert result.status is AgentRunStatus.SUCCESS, result.reason
    assert result.pages_fetched == 2
    assert await _count(session, RawItem) == 1


async def test_a_price_drop_is_an_event_and_a_repeat_is_merged(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, session, shop: FakeShop
) -> None:
    await create(client, "/api/agents", html_agent(shop, config={"pagination": {"max_pages": 1}}))
    await runner.run("hobbygames-new")
    cheaper = page("hobbygames_catalog.html").replace("2990.00 руб.", "2 490 ₽")
    shop.routes["/catalog/new"] = Reply(body=cheaper)
    result = await runner.run("hobbygames-new")

    assert result.events_created == 1  # Azul's new price; the other cards are repeats
    (azul_new,) = (
        await session.scalars(
            select(ListingEvent).where(
                ListingEvent.title == "Азул", ListingEvent.price == Decimal("2490")
            )
        )
    ).all()
    assert azul_new.kind == "release"  # its badge still says «Новинка»
    prices = (
        await session.scalars(
            select(PriceHistory.price)
            .where(PriceHistory.game_id == azul_new.game_id)
            .order_by(PriceHistory.id)
        )
    ).all()
    assert prices == [Decimal("2990.00"), Decimal("2490.00")]
    run = await session.get(AgentRun, result.run_id)
    assert run.drafts_merged == 2


async def test_robots_disallow_skips_and_stores_nothing(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, session, shop: FakeShop
) -> None:
    shop.routes["/robots.txt"] = Reply(
        body="User-agent: *\nDisallow: /catalog/\n", content_type="text/plain"
    )
    await create(client, "/api/agents", html_agent(shop))
    result = await runner.run("hobbygames-new")
    assert result.status is AgentRunStatus.SKIPPED
    assert "robots.txt disallows" in result.reason
    assert shop.hits("/catalog/new") == 0
    assert await _count(session, ListingEvent) == 0
    families = await scrape(client)
    assert families["agent_runs_total"].value(agent_id="hobbygames-new", status="skipped") == 1


async def test_daily_cap_stops_the_run_cleanly(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, session, shop: FakeShop
) -> None:
    body = html_agent(shop, rate_limit={"rps": 10, "burst": 5, "daily_pages_cap": 1})
    await create(client, "/api/agents", body)
    result = await runner.run("hobbygames-new")
    assert result.status is AgentRunStatus.SKIPPED
    assert result.reason == "daily agent page cap reached (1 pages)"
    assert shop.hits("/catalog/new?page=2") == 0
    assert await _count(session, ListingEvent) == 3  # what page 1 said is kept
    assert await runner.fetcher.quotas.used("hobbygames-new") == 1


async def test_retries_on_5xx_and_honours_retry_after(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, shop: FakeShop
) -> None:
    good = shop.routes["/catalog/new"]
    shop.routes["/catalog/new"] = [Reply(503), Reply(429, headers={"retry-after": "1"}), good]
    await create(client, "/api/agents", html_agent(shop, config={"pagination": {"max_pages": 1}}))
    result = await runner.run("hobbygames-new")
    assert result.status is AgentRunStatus.SUCCESS
    times = [t for t, path in shop.requests if path == "/catalog/new"]
    assert len(times) == 3
    assert times[2] - times[1] >= 0.95  # Retry-After: 1


async def test_a_site_that_keeps_failing_is_an_error_and_changes_nothing(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, session, shop: FakeShop
) -> None:
    shop.routes["/catalog/new"] = Reply(500, "boom")
    await create(client, "/api/agents", html_agent(shop))
    result = await runner.run("hobbygames-new")
    assert result.status is AgentRunStatus.ERROR
    assert "HTTP 500 after 4 attempts" in result.reason
    assert shop.hits("/catalog/new") == 4
    assert await _count(session, ListingEvent) == 0
    assert await _count(session, RawItem) == 0


async def test_timeouts_and_missing_pages(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, shop: FakeShop
) -> None:
    shop.routes["/slow"] = Reply(body="late", delay=1.5)
    body = html_agent(shop, config={"start_urls": [shop.url("/slow"), shop.url("/gone")]})
    await create(client, "/api/agents", body)
    result = await runner.run("hobbygames-new")
    assert result.status is AgentRunStatus.ERROR
    assert result.pages_failed == 2
    assert "timeout" in result.reason


async def test_selectors_matching_nothing_say_so(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, shop: FakeShop
) -> None:
    body = html_agent(shop, config={"selectors": {"item": ".nothing-here", "title": ".t"}})
    await create(client, "/api/agents", body)
    result = await runner.run("hobbygames-new")
    assert result.status is AgentRunStatus.SUCCESS
    assert result.reason == "pages parsed to no listings: check the selectors"


async def test_one_run_at_a_time(
    client: httpx.AsyncClient, runner: AgentRunner, watched: None, shop: FakeShop
) -> None:
    await create(client, "/api/agents", html_agent(shop))
    lease = await runner.coordinator.acquire("agent-run:hobbygames-new", 30)
    with pytest.raises(AgentBusy):
        await runner.run("hobbygames-new")
    await runner.coordinator.release(lease)
    assert (await runner.run("hobbygames-new")).status is AgentRunStatus.SUCCESS
    with pytest.raises(AgentNotFound):
        await runner.run("no-such-agent")
    started = time.perf_counter()
    assert time.perf_counter() - started < 1
