"""Labels come from closed sets and route templates: hostile traffic adds no series."""

from __future__ import annotations

import random
import string

import httpx
import pytest

from tests.factories import create, game_body
from tests.telemetry.helpers import scrape

HOSTILE_REQUESTS = 10_000


def _random_path(rng: random.Random) -> str:
    depth = rng.randint(1, 4)
    return "/" + "/".join(
        "".join(rng.choices(string.ascii_letters + "%-_.", k=8)) for _ in range(depth)
    )


async def _series_count(client: httpx.AsyncClient) -> int:
    families = await scrape(client)
    return sum(len(f.series()) for f in families.values())


@pytest.mark.backends("sqlite")  # labels do not depend on the database
async def test_random_paths_methods_hosts_add_no_series(client: httpx.AsyncClient) -> None:
    rng = random.Random(20261124)
    game = await create(client, "/api/games", game_body())
    # One of each shape first, so every bounded series that can exist does exist.
    warmup = [
        ("GET", "/no/such/route", "bgw.test"),
        ("FOO", "/no/such/route", "bgw.test"),
        ("GET", "/api/games/", "bgw.test"),  # trailing slash: redirected, matches no route
        ("GET", f"/api/games/{game['id']}", "bgw.test"),
        ("GET", "/api/games/999999", "bgw.test"),
        ("FOO", "/api/games", "bgw.test"),
        ("DELETE", "/api/games", "bgw.test"),
        ("GET", "/api/games/not-a-number", "bgw.test"),
    ]
    for method, path, host in warmup:
        await client.request(method, path, headers={"host": host})
    before = await _series_count(client)

    for i in range(HOSTILE_REQUESTS):
        kind = i % 5
        if kind == 0:
            method, path = "GET", _random_path(rng)
        elif kind == 1:
            method, path = "".join(rng.choices(string.ascii_uppercase, k=5)), _random_path(rng)
        elif kind == 2:
            method, path = "GET", "/api/games/"  # redirect
        elif kind == 3:
            method, path = "GET", f"/api/games/{rng.randint(10**6, 10**9)}"
        else:
            method, path = "FOO", "/api/games"
        host = (
            f"{''.join(rng.choices(string.ascii_lowercase, k=10))}.example:{rng.randint(1, 65535)}"
        )
        await client.request(method, path, headers={"host": host})

    after = await _series_count(client)
    assert after == before
    families = await scrape(client)
    endpoints = {dict(s)["endpoint"] for s in families["api_requests_total"].series()}
    assert endpoints == {"unmatched", "/api/games", "/api/games/{game_id}"}
    methods = {dict(s)["method"] for s in families["api_requests_total"].series()}
    assert methods <= {"GET", "POST", "DELETE", "other"}
    total = sum(v for _, _, v in families["api_requests_total"].samples)
    assert total == HOSTILE_REQUESTS + len(warmup) + 1  # every request was still counted
