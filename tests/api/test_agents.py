from __future__ import annotations

import httpx
import pytest

from tests.factories import agent_body, create, event_row, store_body


@pytest.fixture
async def store(client: httpx.AsyncClient) -> dict[str, object]:
    return await create(client, "/api/stores", store_body())


async def test_crud_round_trip_masks_secrets(client: httpx.AsyncClient, store: object) -> None:
    agent = await create(client, "/api/agents", agent_body())
    assert agent["enabled"] is False  # agents start disabled
    assert agent["config"]["secret_headers"] == {"Authorization": "***"}
    assert agent["rate_limit"] == {"rps": 0.5, "burst": 2, "daily_pages_cap": 100}
    assert agent["schedule"]["timezone"] == "Europe/Moscow"

    patched = await client.patch("/api/agents/hobbygames-new", json={"enabled": True})
    assert patched.json()["enabled"] is True

    listing = await client.get("/api/agents", params={"enabled": True, "type": "html"})
    assert [a["id"] for a in listing.json()["items"]] == ["hobbygames-new"]
    assert (await client.get("/api/agents", params={"enabled": False})).json()["total"] == 0

    assert (await client.delete("/api/agents/hobbygames-new")).status_code == 204
    assert (await client.get("/api/agents/hobbygames-new")).status_code == 404


async def test_masked_secret_sent_back_keeps_the_stored_value(
    client: httpx.AsyncClient, store: object, session
) -> None:
    from service.db.models import SourceAgent

    agent = await create(client, "/api/agents", agent_body())
    config = agent["config"] | {"start_urls": ["https://hobbygames.ru/catalog/sale"]}
    response = await client.patch("/api/agents/hobbygames-new", json={"config": config})
    assert response.status_code == 200

    stored = await session.get(SourceAgent, "hobbygames-new")
    assert stored.config["secret_headers"] == {"Authorization": "Bearer s3cr3t"}
    assert stored.config["start_urls"] == ["https://hobbygames.ru/catalog/sale"]

    config["secret_headers"] = {"Authorization": ""}  # an empty value removes the secret
    await client.patch("/api/agents/hobbygames-new", json={"config": config})
    await session.refresh(stored)
    assert stored.config["secret_headers"] == {}


async def test_export_never_contains_secrets_and_import_round_trips(
    client: httpx.AsyncClient, store: object, session
) -> None:
    from service.db.models import SourceAgent

    await create(client, "/api/agents", agent_body())
    exported = (await client.get("/api/agents/export")).json()
    assert len(exported) == 1
    assert "secret_headers" not in exported[0]["config"]
    assert "s3cr3t" not in str(exported)
    assert set(exported[0]) == {
        "id",
        "name",
        "type",
        "store_id",
        "schedule",
        "rate_limit",
        "config",
        "enabled",
    }

    exported[0]["name"] = "Переименован"
    new = agent_body(id="hobbygames-soon", enabled=True)
    result = await client.post("/api/agents/import", json=[exported[0], new])
    assert result.status_code == 200, result.text
    assert result.json() == {"created": ["hobbygames-soon"], "updated": ["hobbygames-new"]}

    updated = await session.get(SourceAgent, "hobbygames-new")
    assert updated.name == "Переименован"
    assert updated.config["secret_headers"] == {"Authorization": "Bearer s3cr3t"}  # kept
    assert (await client.get("/api/agents")).json()["total"] == 2


async def test_import_is_all_or_nothing(client: httpx.AsyncClient, store: object) -> None:
    good = agent_body(id="one")
    bad_store = agent_body(id="two", store_id="nowhere")
    response = await client.post("/api/agents/import", json=[good, bad_store])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "store_id"]
    assert (await client.get("/api/agents")).json()["total"] == 0

    twice = await client.post("/api/agents/import", json=[good, good])
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["body", 1, "id"]

    typo = agent_body(id="three")
    typo["config"]["selectorz"] = {}
    response = await client.post("/api/agents/import", json=[good, typo])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "config", "selectorz"]
    assert (await client.get("/api/agents")).json()["total"] == 0


async def test_duplicate_id_conflicts_and_unknown_store_is_422(
    client: httpx.AsyncClient, store: object
) -> None:
    await create(client, "/api/agents", agent_body())
    assert (await client.post("/api/agents", json=agent_body())).status_code == 409
    orphan = await client.post("/api/agents", json=agent_body(id="x-y", store_id="nowhere"))
    assert orphan.status_code == 422
    assert orphan.json()["detail"][0]["loc"] == ["body", "store_id"]
    moved = await client.patch("/api/agents/hobbygames-new", json={"store_id": "nowhere"})
    assert moved.status_code == 422


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("schedule",), {"cron": "61 * * * *"}, "cron"),
        (("schedule",), {"cron": "0 9 * * *", "interval_seconds": 60}, "exactly one"),
        (("schedule",), {}, "exactly one"),
        (("schedule",), {"interval_seconds": 60, "timezone": "Mars/Olympus"}, "time zone"),
        (("rate_limit",), {"rps": 0}, "greater than 0"),
        (("rate_limit",), {"daily_pages_cap": 0}, "greater than or equal to 1"),
        (("config", "start_urls"), [], "at least 1"),
        (("config", "start_urls"), ["javascript:alert(1)"], "http"),
        (("config", "price_regex"), "([0-9]+", "regular expression"),
        (("config", "mode"), "crawl", "sku"),
        (("type",), "rss", "html"),
    ],
)
async def test_bad_manifest_names_the_field(
    client: httpx.AsyncClient, store: object, path: tuple[str, ...], value: object, message: str
) -> None:
    body = agent_body()
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    response = await client.post("/api/agents", json=body)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert tuple(error["loc"][1 : 1 + len(path)]) == path
    assert message in error["msg"]


async def test_deleting_an_agent_keeps_its_events(
    client: httpx.AsyncClient, store: object, session
) -> None:
    await create(client, "/api/agents", agent_body())
    session.add(event_row("hobbygames", source_id="hobbygames-new"))
    await session.commit()
    assert (await client.delete("/api/agents/hobbygames-new")).status_code == 204
    events = (await client.get("/api/events")).json()["items"]
    assert [e["source_id"] for e in events] == [None]
