"""national-interface outputs: the person's ethnicity (naty)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: persons enrolled before carry no ethnicity; the answers say null for them rather than guess. (The
    # certificate shown at settlement, settlement.mdtrt_cert_type, is among the kept care fields of 0010.)
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("naty", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("naty")
