"""identifications (1101) per institution, person and day

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yidi.core.db import AwareDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identification",
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["psn_no"], ["person.psn_no"], name=op.f("fk_identification_psn_no_person")),
        sa.PrimaryKeyConstraint("fixmedins_code", "psn_no", "day", name=op.f("pk_identification")),
    )


def downgrade() -> None:
    op.drop_table("identification")
