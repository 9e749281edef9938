"""Fuzzy matching of listing titles to the watchlist (titles and synonyms), with a confidence
score. Below ``accept`` and above ``uncertain`` a match is uncertain: the pipeline may ask Ollama,
and otherwise leaves the draft unmatched."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from service.pipeline.normalize import normalize_title

ACCEPT = 88.0
UNCERTAIN = 70.0


@dataclass(frozen=True)
class WatchedGame:
    id: int
    title: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    game_id: int | None
    score: float
    certain: bool

    @property
    def exact(self) -> bool:
        """The listing is the watched game itself, not a game whose title contains it (an
        expansion, a bundle): only such listings feed the game's price history."""
        return self.game_id is not None and self.score >= 100.0


class Watchlist:
    """The watchlist, normalised once, matched many times."""

    def __init__(self, games: Iterable[WatchedGame]) -> None:
        self._keys: list[str] = []
        self._ids: list[int] = []
        for game in games:
            for name in (game.title, *game.synonyms):
                key = normalize_title(name).key
                if key:
                    self._keys.append(key)
                    self._ids.append(game.id)

    def __len__(self) -> int:
        return len(set(self._ids))

    def match(self, title: str) -> Match:
        key = normalize_title(title).key
        if not key or not self._keys:
            return Match(None, 0.0, certain=True)
        best = process.extractOne(key, self._keys, scorer=_score)
        if best is None:
            return Match(None, 0.0, certain=True)
        _, score, index = best
        if score >= ACCEPT:
            return Match(self._ids[index], score, certain=True)
        if score >= UNCERTAIN:
            return Match(self._ids[index], score, certain=False)
        return Match(None, score, certain=True)


def _score(listing: str, watched: str, **_: object) -> float:
    """Whole-title similarity, and full credit when the watched title appears in the listing as
    whole words («каскадия» in «каскадия ландшафты»): shops add words, rarely remove them."""
    if f" {watched} " in f" {listing} ":
        return 100.0 if listing == watched else 92.0
    return float(fuzz.ratio(listing, watched))
