"""The uncertain band goes to a local server speaking the Ollama API; failures fall back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from service.agents.drafts import Draft
from service.pipeline.llm import OllamaExtractor
from service.pipeline.matching import WatchedGame, Watchlist
from telemetry.instruments import LLM_CALLS
from tests.shop import FakeShop, Reply

WATCHLIST = Watchlist([WatchedGame(1, "Каскадия"), WatchedGame(2, "Крылья")])
TYPO = Draft(title="Каскадиа", url="https://shop.ru/x")  # fuzzy: uncertain, game 1


def ollama_answer(payload: object) -> Reply:
    body = json.dumps(
        {"model": "m", "response": json.dumps(payload, ensure_ascii=False), "done": True}
    )
    return Reply(body=body, content_type="application/json")


class CountingCalls:
    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    def add(self, amount: float, attributes: dict[str, str]) -> None:
        self.seen.append(dict(attributes))


@pytest.fixture
def ollama() -> Iterator[FakeShop]:
    server = FakeShop().start()
    yield server
    server.stop()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> CountingCalls:
    counting = CountingCalls()
    monkeypatch.setattr(LLM_CALLS, "_counter", counting)
    return counting


async def _resolve(ollama: FakeShop, patience: float = 2.0):
    async with httpx.AsyncClient() as client:
        extractor = OllamaExtractor(ollama.base, client, timeout=patience)
        fuzzy = WATCHLIST.match(TYPO.title)
        assert (fuzzy.game_id, fuzzy.certain) == (1, False)
        return await extractor.resolve(TYPO, WATCHLIST, fuzzy)


async def test_extraction_settles_the_match(ollama: FakeShop, calls: CountingCalls) -> None:
    ollama.routes["/api/generate"] = ollama_answer({"game_title": "Каскадия", "kind": "release"})
    match = await _resolve(ollama)
    assert (match.game_id, match.certain) == (1, True)
    assert calls.seen == [{"result": "ok", "reason": "extracted"}]
    request = json.loads(ollama.bodies[0])
    assert (request["format"], request["stream"]) == ("json", False)
    assert "Каскадиа" in request["prompt"]


async def test_extraction_can_reject_the_match(ollama: FakeShop, calls: CountingCalls) -> None:
    ollama.routes["/api/generate"] = ollama_answer({"game_title": "Каркассон"})
    match = await _resolve(ollama)
    assert match.game_id is None


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(500, "model not loaded"), "http_status"),
        (Reply(body='{"response": "not json"}', content_type="application/json"), "bad_response"),
        (Reply(body="<html>", content_type="text/html"), "bad_response"),
        (Reply(body="{}", delay=1.5), "timeout"),
    ],
)
async def test_failures_fall_back_to_the_fuzzy_result(
    ollama: FakeShop, calls: CountingCalls, reply: Reply, reason: str
) -> None:
    ollama.routes["/api/generate"] = reply
    match = await _resolve(ollama, patience=1.0)
    assert (match.game_id, match.certain) == (1, False)
    assert calls.seen == [{"result": "fail", "reason": reason}]


async def test_unreachable_ollama(calls: CountingCalls) -> None:
    from tests.servers import free_port

    async with httpx.AsyncClient() as client:
        extractor = OllamaExtractor(f"http://127.0.0.1:{free_port()}", client)
        match = await extractor.resolve(TYPO, WATCHLIST, WATCHLIST.match(TYPO.title))
    assert match.game_id == 1
    assert calls.seen == [{"result": "fail", "reason": "connection"}]
