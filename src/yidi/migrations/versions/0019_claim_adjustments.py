"""settlement adjustments of claims: a claim that computes several direct settlements of the same care again records
one adjustment against each, so an adjustment is unique by source and settlement; and how many settlements the
person's year held when an adjustment was made (which later settlements already saw it)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.drop_constraint("uq_settlement_adjustment_source", type_="unique")
        batch_op.create_unique_constraint("uq_settlement_adjustment_source", ["source_kind", "source_id", "setl_id"])
        batch_op.add_column(sa.Column("settlements_seen", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Refused by the database while a claim holds adjustments against several settlements: by source alone they
    # could not be told apart.
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.drop_column("settlements_seen")
        batch_op.drop_constraint("uq_settlement_adjustment_source", type_="unique")
        batch_op.create_unique_constraint("uq_settlement_adjustment_source", ["source_kind", "source_id"])
