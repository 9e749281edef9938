"""The one rules evaluator. Real firing and ``POST /api/rules/{id}/test`` both call
:func:`evaluate`, so a preview cannot disagree with what happens.

Text comparisons fold case the Unicode way (``casefold``, «ё» as «е»); ``contains_any`` and
``in`` take lists; numbers compare as decimals; a condition on a field the event lacks (no
price, not matched to a game) does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from service.domain import RuleField, RuleLogic, RuleOp
from service.schemas.rules import BOOL_FIELDS, NUMBER_FIELDS
from service.text import fold


@dataclass(frozen=True)
class EventFacts:
    """What a rule can look at: the event, its game and its store."""

    event_id: int
    game_id: int | None
    game_title: str | None
    title: str
    kind: str
    price: Decimal | None
    discount_pct: Decimal | None
    store_id: str
    region: str
    in_stock: bool | None

    def value(self, field: RuleField) -> Any:
        return {
            RuleField.GAME: self.game_title,
            RuleField.TITLE: self.title,
            RuleField.KIND: self.kind,
            RuleField.PRICE: self.price,
            RuleField.DISCOUNT_PCT: self.discount_pct,
            RuleField.STORE_ID: self.store_id,
            RuleField.REGION: self.region,
            RuleField.IN_STOCK: self.in_stock,
        }[field]


@dataclass(frozen=True)
class Verdict:
    fires: bool
    reasons: list[str]


def evaluate(logic: str, conditions: list[dict[str, Any]], facts: EventFacts) -> Verdict:
    """Whether the conditions hold for the event, and why: one reason per condition."""
    results = [_check(condition, facts) for condition in conditions]
    held = [ok for ok, _ in results]
    fires = all(held) if RuleLogic(logic) is RuleLogic.AND else any(held)
    return Verdict(fires, [reason for _, reason in results])


def _check(condition: dict[str, Any], facts: EventFacts) -> tuple[bool, str]:
    field, op, expected = RuleField(condition["field"]), RuleOp(condition["op"]), condition["value"]
    actual = facts.value(field)
    # Compare by the field's type, not by whatever Python type the value happens to have.
    if field is RuleField.GAME:
        ok = _game_holds(op, expected, facts)
    elif actual is None:
        ok = False
    elif field in BOOL_FIELDS:
        ok = bool(actual) is expected
    elif field in NUMBER_FIELDS:
        ok = _compare(op, Decimal(str(actual)), Decimal(str(expected)))
    else:
        ok = _text_holds(op, str(actual), expected)
    shown = "—" if actual is None else actual
    verb = "holds" if ok else "fails"
    return ok, f"{field.value} {op.value} {expected!r} {verb} (event: {shown})"


def _compare(op: RuleOp, actual: Decimal, expected: Decimal) -> bool:
    if op is RuleOp.GE:
        return actual >= expected
    if op is RuleOp.LE:
        return actual <= expected
    return actual == expected


def _text_holds(op: RuleOp, actual: str, expected: Any) -> bool:
    folded = fold(actual)
    if op is RuleOp.EQ:
        return folded == fold(str(expected))
    if op is RuleOp.CONTAINS:
        return fold(str(expected)) in folded
    if op is RuleOp.CONTAINS_ANY:
        return any(fold(str(item)) in folded for item in expected)
    if op is RuleOp.IN:
        return folded in {fold(str(item)) for item in expected}
    return False


def _game_holds(op: RuleOp, expected: Any, facts: EventFacts) -> bool:
    """``game`` matches the event's watchlist game by id, or by title: equal for ``=`` and
    ``in``, a part of it for ``contains`` and ``contains_any``."""
    if facts.game_id is None:
        return False
    candidates = expected if op in (RuleOp.IN, RuleOp.CONTAINS_ANY) else [expected]
    partial = op in (RuleOp.CONTAINS, RuleOp.CONTAINS_ANY)
    title = fold(facts.game_title or "")
    for candidate in candidates:
        if isinstance(candidate, int):
            if candidate == facts.game_id:
                return True
        elif (fold(candidate) in title) if partial else (fold(candidate) == title):
            return True
    return False
