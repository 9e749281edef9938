"""Events, prices and notifications: filters, keyset pages and their bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.factories import create, event_row, game_body, notification_row, price_row, store_body

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def seeded(client: httpx.AsyncClient, session) -> dict[str, int]:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/stores", store_body(id="lavkaigr", name="Лавка игр"))
    game = await create(client, "/api/games", game_body())
    rows = [
        event_row(
            "hobbygames",
            game_id=game["id"],
            kind="preorder",
            price=Decimal("4990"),
            discount_pct=None,
            first_seen_at=T0,
        ),
        event_row(
            "hobbygames",
            game_id=game["id"],
            kind="discount",
            price=Decimal("3990"),
            discount_pct=Decimal("20"),
            first_seen_at=T0 + timedelta(hours=1),
        ),
        event_row(
            "lavkaigr",
            kind="release",
            price=Decimal("5490"),
            discount_pct=None,
            first_seen_at=T0 + timedelta(hours=2),
        ),
        event_row(
            "lavkaigr",
            kind="discount",
            price=Decimal("2490.50"),
            discount_pct=Decimal("50"),
            first_seen_at=T0 + timedelta(days=1),
        ),
    ]
    session.add_all(rows)
    await session.commit()
    return {"game_id": game["id"], "first_event": rows[0].id}


async def _ids(client: httpx.AsyncClient, **params: object) -> list[str]:
    response = await client.get("/api/events", params=params)
    assert response.status_code == 200, response.text
    return [event["kind"] + "@" + event["store_id"] for event in response.json()["items"]]


async def test_event_filters(client: httpx.AsyncClient, seeded: dict[str, int]) -> None:
    assert await _ids(client) == [
        "discount@lavkaigr",
        "release@lavkaigr",
        "discount@hobbygames",
        "preorder@hobbygames",
    ]
    assert await _ids(client, game_id=seeded["game_id"]) == [
        "discount@hobbygames",
        "preorder@hobbygames",
    ]
    assert await _ids(client, store_id="lavkaigr", kind="discount") == ["discount@lavkaigr"]
    assert await _ids(client, min_discount=30) == ["discount@lavkaigr"]
    assert await _ids(client, max_price="3990") == ["discount@lavkaigr", "discount@hobbygames"]
    assert await _ids(client, **{"from": "2026-11-01T13:00:00Z", "to": "2026-11-01T14:00:01Z"}) == [
        "release@lavkaigr",
        "discount@hobbygames",
    ]
    # A time without an offset is Moscow time: 15:30 MSK is 12:30 UTC.
    assert await _ids(client, **{"from": "2026-11-01T15:30:00"}) == [
        "discount@lavkaigr",
        "release@lavkaigr",
        "discount@hobbygames",
    ]
    assert await _ids(client, **{"from": "2026-11-02"}) == ["discount@lavkaigr"]


async def test_event_detail(client: httpx.AsyncClient, seeded: dict[str, int]) -> None:
    event = (await client.get(f"/api/events/{seeded['first_event']}")).json()
    assert event["kind"] == "preorder"
    assert Decimal(event["price"]) == Decimal("4990")
    assert event["first_seen_at"] == "2026-11-01T12:00:00Z"
    assert (await client.get("/api/events/987654")).status_code == 404


async def test_event_pages_follow_the_cursor(client: httpx.AsyncClient, session) -> None:
    await create(client, "/api/stores", store_body())
    # Ties on first_seen_at are broken by id, so no event is skipped or repeated.
    session.add_all(
        event_row("hobbygames", first_seen_at=T0 + timedelta(minutes=i // 3)) for i in range(25)
    )
    await session.commit()

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/events", params=params)).json()
        seen += [event["id"] for event in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 25
    times = [
        e["first_seen_at"]
        for e in (await client.get("/api/events", params={"limit": 25})).json()["items"]
    ]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"kind": "sale"}, "kind"),
        ({"min_discount": 101}, "min_discount"),
        ({"max_price": -1}, "max_price"),
        ({"max_price": "NaN"}, "max_price"),
        ({"from": "yesterday"}, "from"),
        ({"from": "0001-01-01T00:00:00"}, "from"),
        ({"to": "9999-12-31T23:59:59-10:00"}, "to"),
        ({"game_id": 2**63}, "game_id"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # valid base64 and JSON, but not ours
    ],
)
async def test_bad_event_query_names_the_field(
    client: httpx.AsyncClient, params: dict[str, object], field: str
) -> None:
    response = await client.get("/api/events", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]


async def test_prices_in_chart_order(client: httpx.AsyncClient, session) -> None:
    await create(client, "/api/stores", store_body())
    game = await create(client, "/api/games", game_body())
    session.add_all(
        price_row(
            "hobbygames",
            game_id=game["id"],
            observed_at=T0 + timedelta(days=d),
            price=Decimal(4990 - 500 * d),
        )
        for d in (2, 0, 1)
    )
    session.add(price_row("hobbygames", observed_at=T0))  # another (unwatched) item
    await session.commit()

    response = await client.get("/api/prices", params={"game_id": game["id"], "limit": 2})
    page = response.json()
    assert [Decimal(p["price"]) for p in page["items"]] == [Decimal(4990), Decimal(4490)]
    rest = (
        await client.get(
            "/api/prices", params={"game_id": game["id"], "cursor": page["next_cursor"]}
        )
    ).json()
    assert [Decimal(p["price"]) for p in rest["items"]] == [Decimal(3990)]
    assert rest["next_cursor"] is None
    since = (
        await client.get(
            "/api/prices", params={"game_id": game["id"], "from": "2026-11-02T12:00:00Z"}
        )
    ).json()
    assert len(since["items"]) == 2


async def test_notification_log_filters(client: httpx.AsyncClient, session) -> None:
    await create(client, "/api/stores", store_body())
    event = event_row("hobbygames")
    session.add(event)
    await session.flush()
    session.add_all(
        [
            notification_row(event.id, channel="telegram", status="delivered"),
            notification_row(event.id, channel="email", status="failed", last_error="550 mailbox"),
            notification_row(event.id, channel="slack", status="pending"),
        ]
    )
    await session.commit()

    failed = (await client.get("/api/notifications", params={"status": "failed"})).json()
    assert [(n["channel"], n["last_error"]) for n in failed["items"]] == [("email", "550 mailbox")]
    by_channel = (await client.get("/api/notifications", params={"channel": "slack"})).json()
    assert [n["status"] for n in by_channel["items"]] == ["pending"]
    one = by_channel["items"][0]
    assert (await client.get(f"/api/notifications/{one['id']}")).json() == one
    assert (await client.get("/api/notifications/424242")).status_code == 404
    bad = await client.get("/api/notifications", params={"status": "lost"})
    assert bad.status_code == 422
