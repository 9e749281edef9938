"""Malformed requests get 4xx with a clear detail, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.factories import game_body


async def test_healthz_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/api/games",
        "/api/stores/{store_id}",
        "/api/agents/import",
        "/api/events",
        "/api/prices",
        "/api/rules/{rule_id}",
        "/api/notifications",
    ):
        assert path in spec["paths"], path
    assert (await client.get("/docs")).status_code == 200


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/games", content=b'{"title": "x",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    wrong_shape = await client.post("/api/games", json=["not", "an", "object"])
    assert wrong_shape.status_code == 422


async def test_oversized_body_is_413(client: httpx.AsyncClient, settings) -> None:
    huge = {"title": "x", "tags": ["y" * 1000] * (settings.max_body_bytes // 1000 + 1)}
    response = await client.post("/api/games", json=huge)
    assert response.status_code == 413
    assert str(settings.max_body_bytes) in response.json()["detail"]
    assert (await client.get("/api/games")).json()["total"] == 0


async def test_oversized_chunked_body_is_413(client: httpx.AsyncClient, settings) -> None:
    """A body without Content-Length is counted as it arrives."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "x", "tags": ["'
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"y" * 65536
        yield b'"]}'

    response = await client.post(
        "/api/games", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_body_just_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/games", json=game_body(synonyms=["s" * 300] * 50))
    assert response.status_code == 201


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/nothing-here")).status_code == 404
    assert (await client.put("/api/games")).status_code == 405
