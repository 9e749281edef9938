"""Rules fire through the pipeline's sink: notifications per channel, cooldown, quiet hours,
and a preview that agrees with real firing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from service.db.models import Notification
from service.rules.firing import RulesSink
from service.rules.quiet import QuietHours
from tests.factories import create, event_row, game_body, rule_body, store_body

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
async def scene(client: httpx.AsyncClient, session) -> dict[str, int]:
    await create(client, "/api/stores", store_body())
    game = await create(client, "/api/games", game_body(title="Каскадия", bgg_id=None))
    rule = await create(client, "/api/rules", rule_body())  # Каскадия, discount ≥ 15, 2 channels
    return {"game": game["id"], "rule": rule["id"]}


async def _fire(session, events, quiet: str | None = None) -> list[Notification]:
    session.add_all(events)
    await session.flush()
    await RulesSink(QuietHours(quiet, MOSCOW)).on_events(session, events)
    await session.commit()
    return list((await session.scalars(select(Notification).order_by(Notification.id))).all())


async def test_a_firing_rule_writes_one_notification_per_channel(scene, session) -> None:
    hit = event_row("hobbygames", game_id=scene["game"], signature_hash="a" * 64)
    miss = event_row("hobbygames", game_id=scene["game"], discount_pct=5, signature_hash="b" * 64)
    notifications = await _fire(session, [hit, miss])
    assert [(n.event_id, n.channel, n.status) for n in notifications] == [
        (hit.id, "telegram", "pending"),
        (hit.id, "email", "pending"),
    ]
    assert all(n.rule_id == scene["rule"] for n in notifications)


async def test_cooldown_is_per_listing(scene, session) -> None:
    first = event_row("hobbygames", game_id=scene["game"], signature_hash="c" * 64)
    await _fire(session, [first])
    # The same listing, news again after a quiet spell (its old event retired the signature).
    first.signature_hash = "retired" + "0" * 57
    await session.flush()
    again = event_row("hobbygames", game_id=scene["game"], signature_hash="c" * 64)
    other = event_row("hobbygames", game_id=scene["game"], signature_hash="d" * 64)
    notifications = await _fire(session, [again, other])
    assert {n.event_id for n in notifications} == {first.id, other.id}


async def test_cooldown_expires(scene, session) -> None:
    first = event_row("hobbygames", game_id=scene["game"], signature_hash="e" * 64)
    notifications = await _fire(session, [first])
    for n in notifications:
        n.created_at = datetime.now(UTC) - timedelta(hours=25)  # the rule's cooldown is 24 h
    first.signature_hash = "f" * 64
    await session.flush()
    later = event_row("hobbygames", game_id=scene["game"], signature_hash="e" * 64)
    assert len(await _fire(session, [later])) == 4


async def test_quiet_hours_defer_until_they_end(scene, session) -> None:
    now_moscow = datetime.now(UTC).astimezone(MOSCOW)
    start = (now_moscow - timedelta(hours=1)).strftime("%H:%M")
    end = (now_moscow + timedelta(hours=2)).strftime("%H:%M")
    hit = event_row("hobbygames", game_id=scene["game"], signature_hash="g" * 64)
    notifications = await _fire(session, [hit], quiet=f"{start}-{end}")
    assert {n.status for n in notifications} == {"deferred"}
    ends = notifications[0].next_attempt_at
    assert timedelta(hours=1, minutes=55) < ends - datetime.now(UTC) <= timedelta(hours=2)


def test_quiet_hours_across_midnight() -> None:
    quiet = QuietHours("23:00-08:00", MOSCOW)
    at = lambda h, m=0: datetime(2026, 11, 24, h, m, tzinfo=MOSCOW)  # noqa: E731
    assert quiet.ends_at(at(23, 30)) == datetime(2026, 11, 25, 8, 0, tzinfo=MOSCOW)
    assert quiet.ends_at(at(3)) == datetime(2026, 11, 24, 8, 0, tzinfo=MOSCOW)
    assert quiet.ends_at(at(8)) is None
    assert quiet.ends_at(at(12)) is None
    assert QuietHours(None, MOSCOW).ends_at(at(3)) is None


async def test_preview_agrees_with_real_firing(scene, client: httpx.AsyncClient, session) -> None:
    events = [
        event_row(
            "hobbygames", game_id=scene["game"], discount_pct=pct, signature_hash=f"{pct:064d}"
        )
        for pct in (5, 15, 30)
    ]
    session.add_all(events)
    await session.commit()
    preview = (await client.post(f"/api/rules/{scene['rule']}/test")).json()
    assert (preview["evaluated"], preview["fired"]) == (3, 2)
    previewed = {item["event"]["id"] for item in preview["events"]}
    assert all("holds" in reason for item in preview["events"] for reason in item["reasons"])

    # The events as the pipeline hands them over: fresh objects, not reloaded from the database.
    await RulesSink(QuietHours(None, MOSCOW)).on_events(session, events)
    await session.commit()
    notified = set((await session.scalars(select(Notification.event_id))).all())
    assert previewed == notified
    assert (await client.post("/api/rules/9999/test")).status_code == 404
