"""The closed vocabularies of BGW's domain, shared by models, schemas and telemetry labels."""

from __future__ import annotations

from enum import StrEnum


class AgentType(StrEnum):
    HTML = "html"
    JSON_API = "json_api"
    TELEGRAM_PUBLIC = "telegram_public"


class AgentMode(StrEnum):
    SKU = "sku"
    SEARCH = "search"


class AgentRunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    SKIPPED = "skipped"


class EventKind(StrEnum):
    ANNOUNCE = "announce"
    PREORDER = "preorder"
    RELEASE = "release"
    DISCOUNT = "discount"
    PRICE = "price"


class RuleLogic(StrEnum):
    AND = "AND"
    OR = "OR"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    SLACK = "slack"
    EMAIL = "email"
    WEBHOOK = "webhook"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEFERRED = "deferred"


class RuleField(StrEnum):
    GAME = "game"
    TITLE = "title"
    KIND = "kind"
    PRICE = "price"
    DISCOUNT_PCT = "discount_pct"
    STORE_ID = "store_id"
    REGION = "region"
    IN_STOCK = "in_stock"


class RuleOp(StrEnum):
    IN = "in"
    CONTAINS = "contains"
    CONTAINS_ANY = "contains_any"
    GE = ">="
    LE = "<="
    EQ = "="


def sql_in(enum: type[StrEnum]) -> str:
    """The SQL literal list of an enum's values, for CHECK constraints."""
    return ", ".join(f"'{member.value}'" for member in enum)
