"""Public Telegram channels through their web archive (``https://t.me/s/<channel>``): each post's
text, link and date; the title is the post's first line, the kind comes from markers in the text
(«Предзаказ открыт», «Анонс», «Скидка»), a price from the text when it has one."""

from __future__ import annotations

from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from service.agents.drafts import Draft
from service.agents.parsers.fields import build_draft

POST = ".tgme_widget_message"
TEXT = ".tgme_widget_message_text"
LINK = "a.tgme_widget_message_date"
OLDER = "a.tme_messages_more"
# In a post the first number is as likely a date as a price: only a number with a currency counts.
PRICE_WITH_CURRENCY = r"(\d[\d \u00a0\u202f\u2009]*(?:[.,]\d{1,2})?)\s*(?:₽|руб|р\.)"


def parse_telegram(body: str, page_url: str) -> tuple[list[Draft], str | None]:
    tree = LexborHTMLParser(body)
    drafts: list[Draft] = []
    for post in tree.css(POST):
        text_node = post.css_first(TEXT)
        link = post.css_first(LINK)
        if text_node is None:
            continue
        text = text_node.text(separator="\n", strip=True)
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
        href = link.attributes.get("href") if link is not None else None
        draft = build_draft(
            title=first_line,
            url=urljoin(page_url, href) if href else None,
            price_text=text,
            badge=first_line,
            text=text,
            price_regex=PRICE_WITH_CURRENCY,
        )
        if draft is not None:
            drafts.append(draft)
    older = tree.css_first(OLDER)
    older_href = older.attributes.get("href") if older is not None else None
    return drafts, urljoin(page_url, older_href) if older_href else None
