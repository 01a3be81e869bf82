"""reviews recompute a settlement as it stood: the accumulators the engine read (acc_before), the facts of the case
(basis) and its place in the person's year (year_seq) kept on the settlement; a review's adjustment keeps the
deductible and stay count it leaves the settlement with, and whether it stands against a cancellation; the part of a
difference credited to the personal account; how many transfer files a payment batch has had

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yidi.core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Settlements made before this revision keep NULL: a review of one falls back to today's facts and says so.
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acc_before", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("basis", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("year_seq", sa.Integer(), nullable=True))
    # Every adjustment made before this revision changed the accumulators or the money (0017 recorded no other):
    # true is exact for them.
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("act_pay_dedc", yidi.core.db.Money(), nullable=True))
        batch_op.add_column(sa.Column("counts_stay", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("stands", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("settlement_review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_credit", yidi.core.db.Money(), nullable=True))
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("export_count", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.drop_column("export_count")
    with op.batch_alter_table("settlement_review", schema=None) as batch_op:
        batch_op.drop_column("account_credit")
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.drop_column("stands")
        batch_op.drop_column("counts_stay")
        batch_op.drop_column("act_pay_dedc")
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_column("year_seq")
        batch_op.drop_column("basis")
        batch_op.drop_column("acc_before")
