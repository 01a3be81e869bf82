"""reviews of settlements (复核): provisional due dates, the settled serial; settlement adjustments

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yidi.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No review exists before this revision in any installation (0014 created the table empty): false is exact.
    with op.batch_alter_table("settlement_review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_date_provisional", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("due_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("settled_serial", sa.String(length=60), nullable=True))
    op.create_table(
        "settlement_adjustment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("setl_id", sa.String(length=30), nullable=False),
        sa.Column("source_kind", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.String(length=30), nullable=False),
        sa.Column("increments", sa.JSON(), nullable=False),
        sa.Column("made_at", yidi.core.db.AwareDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["setl_id"], ["settlement.setl_id"], name=op.f("fk_settlement_adjustment_setl_id_settlement")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_adjustment")),
        sa.UniqueConstraint("source_kind", "source_id", name="uq_settlement_adjustment_source"),
    )
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_adjustment_setl_id"), ["setl_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_adjustment_setl_id"))
    op.drop_table("settlement_adjustment")
    with op.batch_alter_table("settlement_review", schema=None) as batch_op:
        batch_op.drop_column("settled_serial")
        batch_op.drop_column("due_from")
        batch_op.drop_column("due_date_provisional")
