"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 12:15:27.628116
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("logic", sa.String(length=3), nullable=False),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("cooldown_hours", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("logic IN ('AND', 'OR')", name=op.f("ck_alert_rule_logic")),
        sa.CheckConstraint(
            "cooldown_hours BETWEEN 1 AND 168", name=op.f("ck_alert_rule_cooldown_hours")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
    )
    op.create_table(
        "game",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "synonyms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("publisher", sa.String(length=200), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("bgg_id", sa.Integer(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_game")),
        sa.UniqueConstraint("bgg_id", name=op.f("uq_game_bgg_id")),
    )
    op.create_table(
        "store",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("site_url", sa.String(length=2048), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store")),
    )
    op.create_table(
        "price_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("game_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("observed_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["game.id"],
            name=op.f("fk_price_history_game_id_game"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_price_history_store_id_store"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_history")),
    )
    with op.batch_alter_table("price_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_price_history_game_id_store_id_observed_at"),
            ["game_id", "store_id", "observed_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_price_history_store_id"), ["store_id"], unique=False)

    op.create_table(
        "source_agent",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column(
            "schedule",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "rate_limit",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "type IN ('html', 'json_api', 'telegram_public')", name=op.f("ck_source_agent_type")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_source_agent_store_id_store"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_agent")),
    )
    with op.batch_alter_table("source_agent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_agent_store_id"), ["store_id"], unique=False)

    op.create_table(
        "listing_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("game_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("edition", sa.String(length=200), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount_pct", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("in_stock", sa.Boolean(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("signature_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('announce', 'preorder', 'release', 'discount', 'price')",
            name=op.f("ck_listing_event_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["game.id"],
            name=op.f("fk_listing_event_game_id_game"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source_agent.id"],
            name=op.f("fk_listing_event_source_id_source_agent"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_listing_event_store_id_store"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_event")),
        sa.UniqueConstraint("signature_hash", name=op.f("uq_listing_event_signature_hash")),
    )
    with op.batch_alter_table("listing_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_listing_event_first_seen_at"), ["first_seen_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_listing_event_game_id"), ["game_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listing_event_source_id"), ["source_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_listing_event_store_id_kind"), ["store_id", "kind"], unique=False
        )

    op.create_table(
        "raw_item",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fetched_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source_agent.id"],
            name=op.f("fk_raw_item_source_id_source_agent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_item")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_raw_item_content_hash")),
    )
    with op.batch_alter_table("raw_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_item_source_id"), ["source_id"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", service.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", service.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('telegram', 'slack', 'email', 'webhook')",
            name=op.f("ck_notification_channel"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'delivered', 'failed', 'deferred')",
            name=op.f("ck_notification_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["listing_event.id"],
            name=op.f("fk_notification_event_id_listing_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rule.id"],
            name=op.f("fk_notification_rule_id_alert_rule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notification_status_created_at"), ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_notification_rule_id"))
        batch_op.drop_index(batch_op.f("ix_notification_event_id"))

    op.drop_table("notification")
    with op.batch_alter_table("raw_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_item_source_id"))

    op.drop_table("raw_item")
    with op.batch_alter_table("listing_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_event_store_id_kind"))
        batch_op.drop_index(batch_op.f("ix_listing_event_source_id"))
        batch_op.drop_index(batch_op.f("ix_listing_event_game_id"))
        batch_op.drop_index(batch_op.f("ix_listing_event_first_seen_at"))

    op.drop_table("listing_event")
    with op.batch_alter_table("source_agent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_agent_store_id"))

    op.drop_table("source_agent")
    with op.batch_alter_table("price_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_history_store_id"))
        batch_op.drop_index(batch_op.f("ix_price_history_game_id_store_id_observed_at"))

    op.drop_table("price_history")
    op.drop_table("store")
    op.drop_table("game")
    op.drop_table("alert_rule")
