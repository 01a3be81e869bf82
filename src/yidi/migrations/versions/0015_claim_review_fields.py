"""claims: the fingerprint of the creating request, the reviewer who took the claim, the materials requested

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reviewer", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("materials_requested", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("materials_requested")
        batch_op.drop_column("reviewer")
        batch_op.drop_column("request_hash")
