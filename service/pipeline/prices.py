"""Prices as Russian shops print them: «1 990 ₽», «1 990₽» (with no-break or thin spaces),
«1990.00 руб.», «1 990,50 р.», and discount badges such as «-20%».

Every function returns None for text it cannot read with confidence: a wrong price is worse than
a missing one.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Spaces shops put between thousands: normal, no-break, narrow no-break, thin, figure.
_GROUP_SPACES = "[ \u00a0\u202f\u2009\u2007]"
_NUMBER = re.compile(
    rf"(?<![\d.,])(\d{{1,3}}(?:{_GROUP_SPACES}\d{{3}})+|\d+)(?:[.,](\d{{1,2}}))?(?![\d])"
)
_PERCENT = re.compile(r"[-−–]?\s*(\d{1,3}(?:[.,]\d+)?)\s*%")
# Any price above this is a parsing accident (a phone number, an article id, a year run together).
MAX_PRICE = Decimal("10000000")
CENTS = Decimal("0.01")


def parse_price(text: str | None, pattern: str | None = None) -> Decimal | None:
    """The first price in ``text``; with ``pattern`` (a regex with one group) only what the
    group captures is read."""
    if not text:
        return None
    if pattern is not None:
        found = re.search(pattern, text)
        if found is None:
            return None
        text = found.group(1) if found.groups() else found.group(0)
    match = _NUMBER.search(text)
    if match is None:
        return None
    whole = re.sub(_GROUP_SPACES, "", match.group(1))
    fraction = match.group(2) or "0"
    try:
        value = Decimal(f"{whole}.{fraction}").quantize(CENTS, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    if value <= 0 or value > MAX_PRICE:
        return None
    return value


def parse_percent(text: str | None) -> Decimal | None:
    """A discount badge («-20%», «скидка 15 %») as a percentage between 0 and 100."""
    if not text:
        return None
    match = _PERCENT.search(text)
    if match is None:
        return None
    value = Decimal(match.group(1).replace(",", "."))
    return value if 0 < value < 100 else None


def discount_pct(price: Decimal | None, old_price: Decimal | None) -> Decimal | None:
    """The discount from an old (crossed-out) price, rounded to a whole percent; None unless the
    old price is really higher."""
    if price is None or old_price is None or old_price <= price:
        return None
    return ((old_price - price) * 100 / old_price).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
