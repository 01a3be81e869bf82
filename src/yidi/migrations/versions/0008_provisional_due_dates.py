"""provisional due dates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing due dates were all counted from official notices (a year without one was refused), hence
    # false; their start day is not known and is not needed, as only provisional ones are ever recounted.
    with op.batch_alter_table("filing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_date_provisional", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("due_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("filing", schema=None) as batch_op:
        batch_op.drop_column("due_from")
        batch_op.drop_column("due_date_provisional")
