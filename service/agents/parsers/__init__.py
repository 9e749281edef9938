"""Page parsers, one per agent type: a page's text in, drafts out.

A parser never raises on a page it does not understand: a layout change yields no drafts (and a
run that found nothing says so), not a crashed scheduler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.agents.drafts import Draft
from service.agents.parsers.html import parse_html
from service.agents.parsers.json_api import parse_json
from service.agents.parsers.telegram import parse_telegram
from service.domain import AgentType


class ParseResult:
    def __init__(self, drafts: list[Draft], next_url: str | None = None) -> None:
        self.drafts = drafts
        self.next_url = next_url


Parser = Callable[[str, str, dict[str, Any]], ParseResult]

PARSERS: dict[AgentType, Parser] = {
    AgentType.HTML: lambda body, url, config: ParseResult(*parse_html(body, url, config)),
    AgentType.JSON_API: lambda body, url, config: ParseResult(*parse_json(body, url, config)),
    AgentType.TELEGRAM_PUBLIC: lambda body, url, config: ParseResult(*parse_telegram(body, url)),
}
