"""catalogue versions: the import that last wrote each catalogue row (for the 13xx downloads)

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_catalog_item_version_id_catalog_import"), "catalog_import", ["version_id"], ["id"]
        )
        batch_op.create_index("ix_catalog_item_region_version", ["region", "version_id"], unique=False)
    # Which import closed an older row is not recorded: each row takes the import that added it. No HIS can hold a
    # version from before this revision, so every first download starts from 0 and gets each row as it is now.
    op.execute("UPDATE catalog_item SET version_id = import_id")


def downgrade() -> None:
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_item_region_version")
        batch_op.drop_constraint(batch_op.f("fk_catalog_item_version_id_catalog_import"), type_="foreignkey")
        batch_op.drop_column("version_id")
