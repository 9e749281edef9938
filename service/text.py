"""Text folding for search and matching, identical on every database backend.

Databases fold case by their locale (SQLite only for ASCII), so BGW folds in Python and stores
the result: Unicode NFKC, casefold, and «ё» read as «е» as Russian readers do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def search_key(*parts: str | Iterable[str] | None) -> str:
    """One folded line per name, so a substring search cannot match across two names."""
    names: list[str] = []
    for part in parts:
        if part is None:
            continue
        names.extend([part] if isinstance(part, str) else part)
    return "\n".join(fold(name) for name in names)
