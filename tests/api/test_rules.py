from __future__ import annotations

import httpx
import pytest

from tests.factories import create, event_row, notification_row, rule_body, store_body


async def test_crud_round_trip(client: httpx.AsyncClient) -> None:
    rule = await create(client, "/api/rules", rule_body())
    assert rule["enabled"] is True
    assert rule["conditions"][1] == {"field": "discount_pct", "op": ">=", "value": 15.0}
    assert (await client.get(f"/api/rules/{rule['id']}")).json() == rule

    patched = await client.patch(
        f"/api/rules/{rule['id']}", json={"logic": "OR", "cooldown_hours": 168, "enabled": False}
    )
    assert patched.status_code == 200
    assert (patched.json()["logic"], patched.json()["cooldown_hours"]) == ("OR", 168)
    assert (await client.get("/api/rules", params={"enabled": True})).json()["total"] == 0

    assert (await client.delete(f"/api/rules/{rule['id']}")).status_code == 204
    assert (await client.get(f"/api/rules/{rule['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("changes", "loc", "message"),
    [
        ({"cooldown_hours": 0}, ["body", "cooldown_hours"], "greater than or equal to 1"),
        ({"cooldown_hours": 169}, ["body", "cooldown_hours"], "less than or equal to 168"),
        ({"logic": "XOR"}, ["body", "logic"], "AND"),
        ({"channels": []}, ["body", "channels"], "at least 1"),
        ({"channels": ["pigeon"]}, ["body", "channels", 0], "telegram"),
        ({"channels": ["email", "email"]}, ["body", "channels"], "once"),
        ({"conditions": []}, ["body", "conditions"], "at least 1"),
        (
            {"conditions": [{"field": "colour", "op": "=", "value": "red"}]},
            ["body", "conditions", 0, "field"],
            "game",
        ),
        (
            {"conditions": [{"field": "price", "op": "contains", "value": "1"}]},
            ["body", "conditions", 0],
            "not valid for price",
        ),
        (
            {"conditions": [{"field": "price", "op": "<=", "value": "cheap"}]},
            ["body", "conditions", 0],
            "number",
        ),
        (
            {"conditions": [{"field": "kind", "op": "=", "value": "sale"}]},
            ["body", "conditions", 0],
            "kind must be one of",
        ),
        (
            {"conditions": [{"field": "title", "op": "contains_any", "value": "Азул"}]},
            ["body", "conditions", 0],
            "list",
        ),
        (
            {"conditions": [{"field": "in_stock", "op": "=", "value": "yes"}]},
            ["body", "conditions", 0],
            "true or false",
        ),
    ],
)
async def test_bad_rule_names_the_field(
    client: httpx.AsyncClient, changes: dict[str, object], loc: list[object], message: str
) -> None:
    response = await client.post("/api/rules", json=rule_body(**changes))
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == loc
    assert message in error["msg"]


async def test_deleting_a_rule_keeps_its_notifications(client: httpx.AsyncClient, session) -> None:
    await create(client, "/api/stores", store_body())
    rule = await create(client, "/api/rules", rule_body())
    event = event_row("hobbygames")
    session.add(event)
    await session.flush()
    session.add(notification_row(event.id, rule_id=rule["id"], status="delivered"))
    await session.commit()

    assert (await client.delete(f"/api/rules/{rule['id']}")).status_code == 204
    log = (await client.get("/api/notifications")).json()["items"]
    assert len(log) == 1
    assert log[0]["rule_id"] is None
    assert log[0]["status"] == "delivered"
