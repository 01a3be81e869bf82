"""payments: the staff member's retry key of a batch, when it closed, the bank's value date of an item and who
recorded its result; at most one pending item per claim or review (no claim in two open transfer files)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yidi.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("result = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("closed_at", yidi.core.db.AwareDateTime(timezone=True), nullable=True))
        batch_op.create_index("uq_payment_batch_request", ["created_by", "request_id"], unique=True)
        batch_op.create_index("ix_payment_batch_region", ["insured_region", "created_at"], unique=False)
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=50), nullable=True))
    # The last guard against paying a claim twice: whatever a service does, the database holds at most one
    # pending item per source (PostgreSQL and SQLite both know partial unique indexes).
    op.create_index(
        "uq_payment_item_pending",
        "payment_item",
        ["source_kind", "source_id"],
        unique=True,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_payment_item_pending", table_name="payment_item")
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.drop_column("recorded_by")
        batch_op.drop_column("paid_on")
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_batch_region")
        batch_op.drop_index("uq_payment_batch_request")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("request_id")
