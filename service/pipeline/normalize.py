"""Titles reduced to what identifies a game, so «Настольная игра Каскадия (базовая)» and
«КАСКАДИЯ» compare equal, and the edition («делюкс», «коллекционное издание») is kept apart.

Everything works on whole words: «издание» is dropped, «Изданиеград» is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.text import fold

# Latin letters that look Cyrillic and back: shops mix them up in the same word.
_TO_CYRILLIC = str.maketrans("aceopxykmtbh", "асеорхукмтвн")
_TO_LATIN = str.maketrans("асеорхукмтвн", "aceopxykmtbh")
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")
_WORD = re.compile(r"[0-9a-zа-я]+(?:[-'][0-9a-zа-я]+)*")

# Phrases that name an edition: removed from the title and reported as the edition.
EDITION_PHRASES = (
    "коллекционное издание",
    "подарочное издание",
    "юбилейное издание",
    "второе издание",
    "третье издание",
    "2-е издание",
    "3-е издание",
    "делюкс издание",
    "делюкс",
    "deluxe edition",
    "deluxe",
    "collector's edition",
    "collectors edition",
    "kickstarter edition",
    "kickstarter",
    "second edition",
    "2nd edition",
)
# Words that say nothing about which game it is.
NOISE_PHRASES = (
    "настольная игра",
    "board game",
    "базовая игра",
    "базовая версия",
    "базовая",
    "базовый",
    "издание",
    "edition",
    "на русском языке",
    "на русском",
    "русская версия",
    "рус",
    "ru",
)


@dataclass(frozen=True)
class NormalizedTitle:
    key: str
    edition: str | None


def _fix_mixed_scripts(word: str) -> str:
    cyrillic, latin = len(_CYRILLIC.findall(word)), len(_LATIN.findall(word))
    if cyrillic and latin:
        return word.translate(_TO_CYRILLIC if cyrillic >= latin else _TO_LATIN)
    return word


def _words(text: str) -> list[str]:
    return [_fix_mixed_scripts(w) for w in _WORD.findall(fold(text))]


def _remove_phrase(words: list[str], phrase: list[str]) -> tuple[list[str], bool]:
    size = len(phrase)
    for start in range(len(words) - size + 1):
        if words[start : start + size] == phrase:
            return words[:start] + words[start + size :], True
    return words, False


def normalize_title(title: str) -> NormalizedTitle:
    words = _words(title)
    edition = None
    for phrase in EDITION_PHRASES:
        words, found = _remove_phrase(words, _words(phrase))
        if found and edition is None:
            edition = phrase
    for phrase in NOISE_PHRASES:
        removed = True
        while removed:
            words, removed = _remove_phrase(words, _words(phrase))
    return NormalizedTitle(" ".join(words), edition)
