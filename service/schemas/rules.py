"""Alert rules: conditions over event fields, combined with AND or OR.

``game`` takes a watchlist title (or part of one) or a game's id.

Each field has a type, and each type admits a closed set of operators; a condition that pairs a
field with an operator or value it cannot take is rejected with the condition's index and reason.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from service.domain import Channel, EventKind, RuleField, RuleLogic, RuleOp
from service.schemas.common import InputModel, Name, ReadModel
from service.schemas.history import EventRead

TEXT_FIELDS = {RuleField.GAME, RuleField.TITLE}
CHOICE_FIELDS = {RuleField.KIND, RuleField.STORE_ID, RuleField.REGION}
NUMBER_FIELDS = {RuleField.PRICE, RuleField.DISCOUNT_PCT}
BOOL_FIELDS = {RuleField.IN_STOCK}

OPERATORS: dict[RuleField, frozenset[RuleOp]] = {
    **dict.fromkeys(
        TEXT_FIELDS, frozenset({RuleOp.CONTAINS, RuleOp.CONTAINS_ANY, RuleOp.EQ, RuleOp.IN})
    ),
    **dict.fromkeys(CHOICE_FIELDS, frozenset({RuleOp.EQ, RuleOp.IN})),
    **dict.fromkeys(NUMBER_FIELDS, frozenset({RuleOp.GE, RuleOp.LE, RuleOp.EQ})),
    **dict.fromkeys(BOOL_FIELDS, frozenset({RuleOp.EQ})),
}
LIST_OPERATORS = {RuleOp.IN, RuleOp.CONTAINS_ANY}
MAX_VALUES = 100


class Condition(InputModel):
    field: RuleField
    op: RuleOp
    value: Any

    @model_validator(mode="after")
    def _fits_field(self) -> Self:
        allowed = OPERATORS[self.field]
        if self.op not in allowed:
            ops = ", ".join(sorted(op.value for op in allowed))
            raise ValueError(
                f"operator {self.op.value!r} is not valid for {self.field.value}; use {ops}"
            )
        self.value = _coerce_value(self.field, self.op, self.value)
        return self


def _coerce_value(field: RuleField, op: RuleOp, value: Any) -> Any:
    if op in LIST_OPERATORS:
        if not isinstance(value, list) or not value or len(value) > MAX_VALUES:
            raise ValueError(f"{op.value!r} takes a list of 1 to {MAX_VALUES} values")
        return [_scalar(field, item) for item in value]
    return _scalar(field, value)


def _scalar(field: RuleField, value: Any) -> Any:
    if field is RuleField.GAME and isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError("game takes a watchlist title or a game id ≥ 1")
        return value  # a watchlist id
    if field in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValueError(f"{field.value} takes true or false")
        return value
    if field in NUMBER_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{field.value} takes a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{field.value} takes a number") from exc
        if not number.is_finite() or number < 0:
            raise ValueError(f"{field.value} takes a finite number ≥ 0")
        return float(number)
    if not isinstance(value, str) or not value.strip() or len(value) > 300:
        raise ValueError(f"{field.value} takes a non-empty string of at most 300 characters")
    if field is RuleField.KIND and value not in EventKind.__members__.values():
        kinds = ", ".join(kind.value for kind in EventKind)
        raise ValueError(f"kind must be one of {kinds}")
    return value.strip()


def _distinct(channels: list[Channel]) -> list[Channel]:
    if len(set(channels)) != len(channels):
        raise ValueError("each channel may be listed once")
    return channels


Conditions = Annotated[list[Condition], Field(min_length=1, max_length=50)]
Channels = Annotated[
    list[Channel], Field(min_length=1, max_length=len(Channel)), AfterValidator(_distinct)
]


class RuleCreate(InputModel):
    name: Name
    logic: RuleLogic = RuleLogic.AND
    conditions: Conditions
    channels: Channels
    cooldown_hours: int = Field(24, ge=1, le=168)
    enabled: bool = True


class RuleUpdate(InputModel):
    name: Name | None = None
    logic: RuleLogic | None = None
    conditions: Conditions | None = None
    channels: Channels | None = None
    cooldown_hours: int | None = Field(None, ge=1, le=168)
    enabled: bool | None = None


class RuleRead(ReadModel):
    id: int
    name: str
    logic: RuleLogic
    conditions: list[dict[str, Any]]
    channels: list[Channel]
    cooldown_hours: int
    enabled: bool
    created_at: datetime
    updated_at: datetime


class PreviewItem(BaseModel):
    event: EventRead
    reasons: list[str]


class RulePreview(BaseModel):
    rule_id: int
    evaluated: int
    fired: int
    events: list[PreviewItem]
