"""Each operator and logic, on facts built by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from service.rules.engine import EventFacts, evaluate
from service.schemas.rules import Condition

FACTS = EventFacts(
    event_id=1,
    game_id=7,
    game_title="Каскадия",
    title="Настольная игра КАСКАДИЯ: Ландшафты (ёлочное издание)",
    kind="discount",
    price=Decimal("2490.00"),
    discount_pct=Decimal("20"),
    store_id="hobbygames",
    region="RU",
    in_stock=True,
)


def _holds(field: str, op: str, value: Any, facts: EventFacts = FACTS) -> bool:
    condition = Condition.model_validate({"field": field, "op": op, "value": value})
    return evaluate("AND", [condition.model_dump(mode="json")], facts).fires


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("game", "=", "каскадия", True),
        ("game", "=", 7, True),
        ("game", "=", 8, False),
        ("game", "contains", "КАСК", True),
        ("game", "in", ["Крылья", 7], True),
        ("game", "contains_any", ["крыл", "азул"], False),
        ("title", "contains", "ландшафты", True),
        ("title", "contains", "елочное", True),  # «ё» folds to «е»
        ("title", "contains_any", ["азул", "ландш"], True),
        ("title", "=", "каскадия", False),
        ("kind", "=", "discount", True),
        ("kind", "in", ["preorder", "release"], False),
        ("price", "<=", 2490, True),
        ("price", "<=", "2489.99", False),
        ("price", ">=", 2000, True),
        ("price", "=", 2490, True),
        ("discount_pct", ">=", 15, True),
        ("discount_pct", ">=", 25, False),
        ("store_id", "in", ["hobbygames", "lavkaigr"], True),
        ("store_id", "=", "HOBBYGAMES", True),
        ("region", "=", "ru", True),
        ("in_stock", "=", True, True),
        ("in_stock", "=", False, False),
    ],
)
def test_operators(field: str, op: str, value: Any, expected: bool) -> None:
    assert _holds(field, op, value) is expected


def test_missing_values_do_not_hold() -> None:
    unmatched = EventFacts(
        **(FACTS.__dict__ | {"game_id": None, "game_title": None, "price": None})
    )
    assert not _holds("game", "contains", "каск", unmatched)
    assert not _holds("price", "<=", 100000, unmatched)


def test_logic_and_reasons() -> None:
    conditions = [
        {"field": "kind", "op": "=", "value": "discount"},
        {"field": "price", "op": "<=", "value": 1000},
    ]
    both = evaluate("AND", conditions, FACTS)
    either = evaluate("OR", conditions, FACTS)
    assert (both.fires, either.fires) == (False, True)
    assert both.reasons[0].startswith("kind = 'discount' holds")
    assert "price <= 1000 fails (event: 2490.00)" in both.reasons[1]


def test_numbers_compare_as_numbers_whatever_their_python_type() -> None:
    as_ints = EventFacts(**(FACTS.__dict__ | {"price": 2490, "discount_pct": 20.0}))
    assert _holds("price", "<=", 2490, as_ints)
    assert _holds("discount_pct", ">=", 15, as_ints)
    assert not _holds("discount_pct", ">=", 25, as_ints)
