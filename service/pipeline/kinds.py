"""What kind of event a listing is, from its badges and text, in Russian and English."""

from __future__ import annotations

import re

from service.domain import EventKind
from service.text import fold

# Checked in this order: a preorder badge beats a «новинка» in the same card, a discount beats
# a plain release.
_MARKERS: tuple[tuple[EventKind, tuple[str, ...]], ...] = (
    (EventKind.PREORDER, ("предзаказ", "пред-заказ", "pre-order", "preorder", "под заказ")),
    (EventKind.ANNOUNCE, ("анонс", "скоро", "ожидается", "coming soon", "announce")),
    (
        EventKind.DISCOUNT,
        ("скидка", "акция", "распродажа", "sale", "discount", "выгода", "уценка"),
    ),
    (
        EventKind.RELEASE,
        ("в продаже", "новинка", "релиз", "поступление", "в наличии", "new", "release", "out now"),
    ),
)
_PATTERNS = tuple(
    (kind, re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)"))
    for kind, words in _MARKERS
)


def detect_kind(*texts: str | None, has_discount: bool = False) -> EventKind | None:
    """The kind the texts announce; a measured discount makes it ``discount`` unless a preorder
    or announce marker says otherwise. None when nothing marks it."""
    folded = fold(" ".join(t for t in texts if t))
    found = [kind for kind, pattern in _PATTERNS if pattern.search(folded)]
    for kind in (EventKind.PREORDER, EventKind.ANNOUNCE):
        if kind in found:
            return kind
    if has_discount or EventKind.DISCOUNT in found:
        return EventKind.DISCOUNT
    if EventKind.RELEASE in found:
        return EventKind.RELEASE
    return None
