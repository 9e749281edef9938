"""JSON endpoints read with dotted field paths: ``item`` points at the list of products
(``data.products``), the other selectors at fields of each product (``name``, ``price.current``,
``links.0.href``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from service.agents.drafts import Draft
from service.agents.parsers.fields import build_draft


def field(document: Any, path: str | None) -> Any:
    if not path:
        return None
    value = document
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "в наличии" if value else "нет в наличии"
    return str(value)


def parse_json(body: str, page_url: str, config: dict[str, Any]) -> tuple[list[Draft], str | None]:
    selectors: dict[str, str | None] = config.get("selectors") or {}
    try:
        document = json.loads(body)
    except ValueError:
        return [], None
    items = field(document, selectors.get("item")) if selectors.get("item") else document
    if not isinstance(items, list):
        return [], None
    drafts: list[Draft] = []
    for item in items:
        href = _text(field(item, selectors.get("url")))
        draft = build_draft(
            title=_text(field(item, selectors.get("title"))),
            url=urljoin(page_url, href) if href else None,
            price_text=_text(field(item, selectors.get("price"))),
            old_price_text=_text(field(item, selectors.get("old_price"))),
            badge=_text(field(item, selectors.get("badge"))),
            stock_text=_text(field(item, selectors.get("in_stock"))),
            text=_text(field(item, selectors.get("text"))),
            price_regex=config.get("price_regex"),
        )
        if draft is not None:
            drafts.append(draft)
    next_path = (config.get("pagination") or {}).get("next_selector")
    next_href = _text(field(document, next_path)) if next_path else None
    return drafts, urljoin(page_url, next_href) if next_href else None
