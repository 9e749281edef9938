"""HTML pages read with CSS selectors (selectolax/Lexbor).

Selectors are relative to each ``item``; ``selector::attr(name)`` reads an attribute instead of
the text (``a.title::attr(href)``). Relative URLs are resolved against the page's URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from service.agents.drafts import Draft
from service.agents.parsers.fields import build_draft


def select_value(node: LexborNode, selector: str | None) -> str | None:
    """The text (or ``::attr(name)``) of the first match of ``selector`` under ``node``."""
    if not selector:
        return None
    attribute = None
    if "::attr(" in selector and selector.endswith(")"):
        selector, _, rest = selector.partition("::attr(")
        attribute = rest[:-1].strip()
    target = node if not selector.strip() else node.css_first(selector.strip())
    if target is None:
        return None
    if attribute:
        value = target.attributes.get(attribute)
        return value.strip() if value else None
    text = target.text(separator=" ", strip=True)
    return text or None


def parse_html(body: str, page_url: str, config: dict[str, Any]) -> tuple[list[Draft], str | None]:
    selectors: dict[str, str | None] = config.get("selectors") or {}
    tree = LexborHTMLParser(body)
    root = tree.root
    if root is None or not selectors.get("item"):
        return [], None
    drafts: list[Draft] = []
    for item in tree.css(selectors["item"]):
        href = select_value(item, selectors.get("url"))
        draft = build_draft(
            title=select_value(item, selectors.get("title")),
            url=urljoin(page_url, href) if href else None,
            price_text=select_value(item, selectors.get("price")),
            old_price_text=select_value(item, selectors.get("old_price")),
            badge=select_value(item, selectors.get("badge")),
            stock_text=select_value(item, selectors.get("in_stock")),
            text=select_value(item, selectors.get("text")),
            price_regex=config.get("price_regex"),
        )
        if draft is not None:
            drafts.append(draft)
    next_selector = (config.get("pagination") or {}).get("next_selector")
    next_href = select_value(root, next_selector) if next_selector else None
    return drafts, urljoin(page_url, next_href) if next_href else None
