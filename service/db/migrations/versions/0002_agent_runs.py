"""agent runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:24:17.266976
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("started_at", service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", service.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("pages_failed", sa.Integer(), nullable=False),
        sa.Column("drafts_parsed", sa.Integer(), nullable=False),
        sa.Column("drafts_valid", sa.Integer(), nullable=False),
        sa.Column("drafts_merged", sa.Integer(), nullable=False),
        sa.Column("events_created", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'success', 'error', 'skipped')", name=op.f("ck_agent_run_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_run")),
    )
    with op.batch_alter_table("agent_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_run_agent_id_started_at"), ["agent_id", "started_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agent_run_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agent_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_run_started_at"))
        batch_op.drop_index(batch_op.f("ix_agent_run_agent_id_started_at"))

    op.drop_table("agent_run")
