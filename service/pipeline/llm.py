"""Ollama for the matches fuzzy matching is unsure of: a JSON-format request extracts the game
title (and kind, price, discount, stock, edition) from the listing, and the extracted title is
matched against the watchlist again. A timeout, an error or an unreadable answer falls back to
the fuzzy result. Every call is counted in ``llm_calls_total{result, reason}``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from service.agents.drafts import Draft
from service.pipeline.matching import Match, Watchlist
from telemetry.instruments import LLM_CALLS
from telemetry.tracing import traced

PROMPT = """Ты разбираешь карточку товара из магазина настольных игр.
Верни JSON с полями: game_title (название самой игры, без слов «настольная игра», без издания),
kind (announce, preorder, release, discount или price), price (число или null),
discount (процент или null), in_stock (true, false или null), edition (строка или null).
Карточка: {card}"""


@dataclass
class OllamaExtractor:
    base_url: str
    client: httpx.AsyncClient
    model: str = "qwen2.5:3b"
    timeout: float = 20.0

    async def resolve(self, draft: Draft, watchlist: Watchlist, fuzzy: Match) -> Match:
        """The LLM's verdict on an uncertain match, or ``fuzzy`` when it cannot give one."""
        extracted = await self.extract(draft)
        if extracted is None:
            return fuzzy
        title = extracted.get("game_title")
        if not isinstance(title, str) or not title.strip():
            return Match(None, 0.0, certain=True)
        again = watchlist.match(title)
        return again if again.certain else Match(None, again.score, certain=True)

    async def extract(self, draft: Draft) -> dict[str, Any] | None:
        card = json.dumps(
            {"title": draft.title, "badge": draft.badge, "text": draft.text, "url": draft.url},
            ensure_ascii=False,
        )
        body = {
            "model": self.model,
            "prompt": PROMPT.format(card=card),
            "format": "json",
            "stream": False,
            "options": {"temperature": 0},
        }
        with traced("pipeline.llm", {"gen_ai.request.model": self.model}):
            try:
                response = await self.client.post(
                    f"{self.base_url.rstrip('/')}/api/generate", json=body, timeout=self.timeout
                )
            except httpx.TimeoutException:
                return self._failed("timeout")
            except httpx.HTTPError:
                return self._failed("connection")
            if response.status_code != 200:
                return self._failed("http_status")
            try:
                answer = json.loads(response.json()["response"])
                if not isinstance(answer, dict):
                    raise ValueError("not an object")
            except (ValueError, KeyError, TypeError):
                return self._failed("bad_response")
        LLM_CALLS.add(1, {"result": "ok", "reason": "extracted"})
        return answer

    @staticmethod
    def _failed(reason: str) -> None:
        LLM_CALLS.add(1, {"result": "fail", "reason": reason})
        return None
