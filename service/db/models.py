"""BGW's tables. The Alembic migrations in ``migrations/versions`` must match these exactly
(``alembic check`` runs in the tests on SQLite and PostgreSQL).

Deletion keeps history: deleting a game leaves its events and price history in place with
``game_id`` set to NULL (an event carries its own title, URL and price, so it still reads
correctly); deleting a rule leaves its notifications with ``rule_id`` NULL. A store that still has
agents, events or prices cannot be deleted (the API answers 409). Deleting an agent drops its raw
page cache and detaches its events.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.db.types import BigIntPK, JSONDoc, UTCDateTime, utcnow
from service.domain import (
    AgentRunStatus,
    AgentType,
    Channel,
    EventKind,
    NotificationStatus,
    RuleLogic,
    sql_in,
)
from service.text import search_key

# Deterministic constraint names, so migrations read the same on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Game(Timestamped, Base):
    """A game on the watchlist."""

    __tablename__ = "game"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    synonyms: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    publisher: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    bgg_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    # Folded title and synonyms, kept by the ORM events below; searched by ``?q=``.
    search_text: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(Game, "before_insert")
@event.listens_for(Game, "before_update")
def _fold_game_names(_mapper: object, _connection: object, game: Game) -> None:
    game.search_text = search_key(game.title, game.synonyms)


class Store(Timestamped, Base):
    """A shop or publication BGW watches."""

    __tablename__ = "store"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    site_url: Mapped[str] = mapped_column(String(2048))
    region: Mapped[str] = mapped_column(String(8), default="RU")
    currency: Mapped[str] = mapped_column(String(3), default="RUB")


class SourceAgent(Timestamped, Base):
    """An agent: what to fetch from a store, when, how politely and how to parse it."""

    __tablename__ = "source_agent"
    __table_args__ = (CheckConstraint(f"type IN ({sql_in(AgentType)})", name="type"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id", ondelete="RESTRICT"), index=True)
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    rate_limit: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class AgentRun(Base):
    """One run of an agent: what it fetched and found. Feeds the 24-hour quality gauges
    (scraping success, data quality, store coverage, dedup ratio) and /api/metrics/stats.

    ``agent_id`` and ``store_id`` are plain values, not foreign keys: run history outlives the
    agent it describes."""

    __tablename__ = "agent_run"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(AgentRunStatus)})", name="status"),
        Index(None, "started_at"),
        Index(None, "agent_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=AgentRunStatus.RUNNING.value)
    reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    pages_failed: Mapped[int] = mapped_column(Integer, default=0)
    drafts_parsed: Mapped[int] = mapped_column(Integer, default=0)
    drafts_valid: Mapped[int] = mapped_column(Integer, default=0)
    drafts_merged: Mapped[int] = mapped_column(Integer, default=0)
    events_created: Mapped[int] = mapped_column(Integer, default=0)


class RawItem(Base):
    """A fetched page, stored once per content hash, zlib-compressed."""

    __tablename__ = "raw_item"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source_id: Mapped[str] = mapped_column(
        ForeignKey("source_agent.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class ListingEvent(Base):
    """Something a store did with a game: announced, opened preorders, released, discounted."""

    __tablename__ = "listing_event"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(EventKind)})", name="kind"),
        Index(None, "store_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    game_id: Mapped[int | None] = mapped_column(
        ForeignKey("game.id", ondelete="SET NULL"), index=True
    )
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500))
    edition: Mapped[str | None] = mapped_column(String(200))
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    discount_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    in_stock: Mapped[bool | None] = mapped_column(Boolean)
    url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[str | None] = mapped_column(
        ForeignKey("source_agent.id", ondelete="SET NULL"), index=True
    )
    signature_hash: Mapped[str] = mapped_column(String(64), unique=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PriceHistory(Base):
    """One observed price of a game at a store."""

    __tablename__ = "price_history"
    __table_args__ = (Index(None, "game_id", "store_id", "observed_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    game_id: Mapped[int | None] = mapped_column(ForeignKey("game.id", ondelete="SET NULL"))
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id", ondelete="RESTRICT"), index=True)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")


class AlertRule(Timestamped, Base):
    """A user's rule: which events notify, over which channels, how often."""

    __tablename__ = "alert_rule"
    __table_args__ = (
        CheckConstraint(f"logic IN ({sql_in(RuleLogic)})", name="logic"),
        CheckConstraint("cooldown_hours BETWEEN 1 AND 168", name="cooldown_hours"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    logic: Mapped[str] = mapped_column(String(3), default=RuleLogic.AND.value)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    channels: Mapped[list[str]] = mapped_column(JSONDoc)
    cooldown_hours: Mapped[int] = mapped_column(Integer, default=24)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Notification(Base):
    """One delivery of one event over one channel, tracked to confirmation."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(f"channel IN ({sql_in(Channel)})", name="channel"),
        CheckConstraint(f"status IN ({sql_in(NotificationStatus)})", name="status"),
        Index(None, "status", "created_at"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "rule_id", "cooldown_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rule.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("listing_event.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the dispatcher may (next) try it: the end of quiet hours, or a retry's backoff.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The listing a cooldown is about: the event's signature when the rule fired.
    cooldown_key: Mapped[str] = mapped_column(String(64), default="")
    # The W3C traceparent of the span that created it, so its send joins the event's trace.
    trace_parent: Mapped[str | None] = mapped_column(String(55))
    # What the provider called it when it confirmed: a Telegram message_id, an SMTP reply.
    provider_ref: Mapped[str | None] = mapped_column(String(200))
