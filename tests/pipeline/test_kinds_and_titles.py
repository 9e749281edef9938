from __future__ import annotations

import pytest

from service.domain import EventKind
from service.pipeline.kinds import detect_kind
from service.pipeline.matching import WatchedGame, Watchlist
from service.pipeline.normalize import normalize_title


@pytest.mark.parametrize(
    ("texts", "has_discount", "expected"),
    [
        (("Предзаказ",), False, EventKind.PREORDER),
        (("ПРЕДЗАКАЗ", "Скидка 10%"), True, EventKind.PREORDER),
        (("Анонс: новая игра от Hobby World",), False, EventKind.ANNOUNCE),
        (("Скоро в продаже",), False, EventKind.ANNOUNCE),
        (("Новинка",), False, EventKind.RELEASE),
        (("Уже в продаже",), False, EventKind.RELEASE),
        (("Распродажа",), False, EventKind.DISCOUNT),
        (("Новинка",), True, EventKind.DISCOUNT),
        (("Pre-order now",), False, EventKind.PREORDER),
        (("Sale",), False, EventKind.DISCOUNT),
        (("Каскадия",), False, None),
        (("Акционерное общество",), False, None),  # whole words only
    ],
)
def test_kind_markers(
    texts: tuple[str, ...], has_discount: bool, expected: EventKind | None
) -> None:
    assert detect_kind(*texts, has_discount=has_discount) is expected


@pytest.mark.parametrize(
    ("title", "key", "edition"),
    [
        ("Настольная игра «Каскадия» (базовая)", "каскадия", None),
        ("КАСКАДИЯ. Делюкс издание", "каскадия", "делюкс издание"),
        ("Кaскадия", "каскадия", None),  # a Latin «a» inside a Cyrillic word
        ("Cascadia: board game", "cascadia", None),
        ("Игра престолов. Второе издание", "игра престолов", "второе издание"),
        ("Ёлки-палки", "елки-палки", None),
        ("Изданиеград", "изданиеград", None),  # whole words only
        ("Wingspan Deluxe Edition", "wingspan", "deluxe edition"),
    ],
)
def test_normalized_titles(title: str, key: str, edition: str | None) -> None:
    normalized = normalize_title(title)
    assert normalized.key == key
    assert normalized.edition == edition


@pytest.fixture
def watchlist() -> Watchlist:
    return Watchlist(
        [
            WatchedGame(1, "Каскадия", ("Cascadia",)),
            WatchedGame(2, "Крылья", ("Wingspan",)),
            WatchedGame(3, "Игра престолов"),
        ]
    )


@pytest.mark.parametrize(
    ("title", "game_id", "certain"),
    [
        ("Настольная игра Каскадия", 1, True),
        ("CASCADIA (англ.)", 1, True),
        ("Крылья: Европа", 2, True),
        ("Wingspan Deluxe", 2, True),
        ("Игра престолов. Второе издание", 3, True),
        ("Каскадиа", 1, False),  # a typo: uncertain, for Ollama to settle
        ("Азул", None, True),
        ("Игра", None, True),
    ],
)
def test_matching(watchlist: Watchlist, title: str, game_id: int | None, certain: bool) -> None:
    match = watchlist.match(title)
    assert (match.game_id, match.certain) == (game_id, certain), match


def test_empty_watchlist_matches_nothing() -> None:
    assert Watchlist([]).match("Каскадия").game_id is None
