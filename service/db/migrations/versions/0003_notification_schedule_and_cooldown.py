"""notification schedule and cooldown

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 13:45:18.519042
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing notifications are due now and were about no particular listing; the server
    # defaults fill them in and are dropped again (the application sets both).
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "next_attempt_at",
                service.db.types.UTCDateTime(timezone=True),
                nullable=False,
                server_default=sa.func.now(),
            )
        )
        batch_op.add_column(
            sa.Column("cooldown_key", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("next_attempt_at", server_default=None)
        batch_op.alter_column("cooldown_key", server_default=None)
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_rule_id_cooldown_key_created_at"),
            ["rule_id", "cooldown_key", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_notification_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_notification_rule_id_cooldown_key_created_at"))
        batch_op.drop_column("cooldown_key")
        batch_op.drop_column("next_attempt_at")
