"""distributed_fetches: pages the workers fetched for distributed scans in flight (linkdoctor.distributed.store)

A database whose table was already made by earlier versions (they created it on first use) is adopted
as it is.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("distributed_fetches"):
        return
    op.create_table(
        "distributed_fetches",
        sa.Column("scan", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("page", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("scan", "item"),
    )


def downgrade() -> None:
    op.drop_table("distributed_fetches")
