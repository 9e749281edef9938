from __future__ import annotations

import httpx
import pytest

from tests.factories import create, event_row, game_body, price_row, store_body


async def test_crud_round_trip(client: httpx.AsyncClient) -> None:
    game = await create(client, "/api/games", game_body())
    assert game["title"] == "Каскадия"
    assert game["synonyms"] == ["Cascadia"]
    assert game["created_at"].endswith("Z")

    fetched = await client.get(f"/api/games/{game['id']}")
    assert fetched.json() == game

    patched = await client.patch(f"/api/games/{game['id']}", json={"tags": ["семейная", "2-4"]})
    assert patched.status_code == 200
    assert patched.json()["tags"] == ["семейная", "2-4"]
    assert patched.json()["title"] == "Каскадия"  # untouched fields stay

    assert (await client.delete(f"/api/games/{game['id']}")).status_code == 204
    assert (await client.get(f"/api/games/{game['id']}")).status_code == 404


async def test_list_search_and_pages(client: httpx.AsyncClient) -> None:
    for title in ("Каскадия", "Крылья", "Кланы Каледонии", "Azul"):
        synonyms = ["Cascadia"] if title == "Каскадия" else []
        await create(client, "/api/games", game_body(title=title, synonyms=synonyms, bgg_id=None))
    page = (await client.get("/api/games", params={"limit": 2, "offset": 1})).json()
    assert page["total"] == 4
    assert [g["title"] for g in page["items"]] == ["Крылья", "Кланы Каледонии"]
    found = (await client.get("/api/games", params={"q": "каЛ"})).json()
    assert [g["title"] for g in found["items"]] == ["Кланы Каледонии"]
    by_synonym = (await client.get("/api/games", params={"q": "CASCADIA"})).json()
    assert [g["title"] for g in by_synonym["items"]] == ["Каскадия"]
    literal = (await client.get("/api/games", params={"q": "%"})).json()
    assert literal["total"] == 0  # LIKE wildcards are matched literally


async def test_duplicate_bgg_id_conflicts(client: httpx.AsyncClient) -> None:
    first = await create(client, "/api/games", game_body())
    again = await client.post("/api/games", json=game_body(title="Другая"))
    assert again.status_code == 409
    assert "314040" in again.json()["detail"]
    other = await create(client, "/api/games", game_body(title="Другая", bgg_id=1))
    moved = await client.patch(f"/api/games/{other['id']}", json={"bgg_id": 314040})
    assert moved.status_code == 409
    same = await client.patch(f"/api/games/{first['id']}", json={"bgg_id": 314040})
    assert same.status_code == 200
    renamed = await client.patch(f"/api/games/{first['id']}", json={"title": "Ёлки-палки"})
    assert renamed.status_code == 200
    found = (await client.get("/api/games", params={"q": "елки"})).json()["items"]
    assert [g["id"] for g in found] == [first["id"]]  # search text follows the rename
    # Games without bgg_id do not collide with each other.
    await create(client, "/api/games", game_body(title="A", bgg_id=None))
    await create(client, "/api/games", game_body(title="B", bgg_id=None))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "bad\u0000byte"}, "title"),
        ({"title": "ok", "bgg_id": 0}, "bgg_id"),
        ({"title": "ok", "bgg_id": 2**40}, "bgg_id"),
        ({"title": "ok", "synonyms": "Cascadia"}, "synonyms"),
        ({"title": "ok", "tags": ["x"] * 51}, "tags"),
        ({"title": "ok", "titel": "typo"}, "titel"),
        ({}, "title"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/games", json=body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"]), response.text


async def test_null_on_required_field_is_422(client: httpx.AsyncClient) -> None:
    game = await create(client, "/api/games", game_body())
    response = await client.patch(f"/api/games/{game['id']}", json={"title": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "title"]
    cleared = await client.patch(f"/api/games/{game['id']}", json={"publisher": None})
    assert cleared.json()["publisher"] is None


async def test_unknown_and_malformed_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/games/999")).status_code == 404
    assert (await client.patch("/api/games/999", json={"title": "x"})).status_code == 404
    assert (await client.delete("/api/games/999")).status_code == 404
    for bad in ("abc", "0", "-1", str(2**63)):
        response = await client.get(f"/api/games/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["path", "game_id"]


async def test_deleting_a_game_keeps_its_history(client: httpx.AsyncClient, session) -> None:
    await create(client, "/api/stores", store_body())
    game = await create(client, "/api/games", game_body())
    session.add_all(
        [event_row("hobbygames", game_id=game["id"]), price_row("hobbygames", game_id=game["id"])]
    )
    await session.commit()

    assert (await client.delete(f"/api/games/{game['id']}")).status_code == 204

    events = (await client.get("/api/events")).json()["items"]
    assert len(events) == 1
    assert events[0]["game_id"] is None
    assert events[0]["title"].startswith("Каскадия")
    prices = (await client.get("/api/prices", params={"store_id": "hobbygames"})).json()["items"]
    assert len(prices) == 1
    assert prices[0]["game_id"] is None
