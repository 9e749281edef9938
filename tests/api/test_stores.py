from __future__ import annotations

import httpx
import pytest

from tests.factories import agent_body, create, event_row, store_body


async def test_crud_round_trip(client: httpx.AsyncClient) -> None:
    store = await create(client, "/api/stores", store_body())
    assert (store["region"], store["currency"]) == ("RU", "RUB")
    assert (await client.get("/api/stores/hobbygames")).json() == store

    patched = await client.patch("/api/stores/hobbygames", json={"name": "Hobby Games (Мск)"})
    assert patched.json()["name"] == "Hobby Games (Мск)"
    assert patched.json()["site_url"] == "https://hobbygames.ru"

    listing = (await client.get("/api/stores")).json()
    assert listing["total"] == 1
    assert (await client.delete("/api/stores/hobbygames")).status_code == 204
    assert (await client.get("/api/stores/hobbygames")).status_code == 404


async def test_duplicate_slug_conflicts(client: httpx.AsyncClient) -> None:
    await create(client, "/api/stores", store_body())
    again = await client.post("/api/stores", json=store_body(name="Другой"))
    assert again.status_code == 409
    assert "hobbygames" in again.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "Hobby Games"}, "id"),
        ({"id": "x"}, "id"),
        ({"id": "-hobby"}, "id"),
        ({"site_url": "ftp://hobbygames.ru"}, "site_url"),
        ({"site_url": "hobbygames.ru"}, "site_url"),
        ({"currency": "rub"}, "currency"),
        ({"region": "R"}, "region"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, changes: dict[str, str], field: str
) -> None:
    response = await client.post("/api/stores", json=store_body(**changes))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


async def test_store_with_dependents_cannot_be_deleted(client: httpx.AsyncClient, session) -> None:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", agent_body())
    session.add(event_row("hobbygames"))
    await session.commit()

    response = await client.delete("/api/stores/hobbygames")
    assert response.status_code == 409
    assert "1 agents" in response.json()["detail"]
    assert "1 events" in response.json()["detail"]
    assert (await client.get("/api/stores/hobbygames")).status_code == 200
