"""scan problems: each finished scan keeps its count of unique problems (one per target and cause), so the
history chart can draw it on its own axis after the scan's raw results are pruned

Scans finished before this revision have no count (NULL): the chart leaves them out of its problem line.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("problems", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_column("problems")
