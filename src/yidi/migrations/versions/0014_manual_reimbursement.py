"""manual reimbursement (claims), settlement reviews (复核), payments to persons, the invoice register

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:16:38.286689
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yidi.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_use",
        sa.Column("institution_key", sa.String(length=120), nullable=False),
        sa.Column("invono", sa.String(length=40), nullable=False),
        sa.Column("owner_kind", sa.String(length=10), nullable=False),
        sa.Column("owner_id", sa.String(length=30), nullable=False),
        sa.Column("taken_at", yidi.core.db.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution_key", "invono", name=op.f("pk_invoice_use")),
    )
    # Invoices already paid by a settlement in force take their row (the first settlement, should one have been
    # settled twice before the register existed).
    op.execute(
        "INSERT INTO invoice_use (institution_key, invono, owner_kind, owner_id, taken_at) "
        "SELECT fixmedins_code, invono, 'settlement', MIN(setl_id), MIN(setl_time) FROM settlement "
        "WHERE status = 'settled' AND invono IS NOT NULL AND invono <> '' GROUP BY fixmedins_code, invono"
    )
    op.create_table(
        "payment_batch",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("created_at", yidi.core.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("total", yidi.core.db.Money(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batch")),
    )
    op.create_table(
        "claim",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("insutype", sa.String(length=3), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", yidi.core.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", yidi.core.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=50), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_from", sa.Date(), nullable=True),
        sa.Column("due_date_provisional", sa.Boolean(), nullable=False),
        sa.Column("decided_at", yidi.core.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=50), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("payee_name", sa.String(length=50), nullable=False),
        sa.Column("bank_name", sa.String(length=100), nullable=False),
        sa.Column("bank_account", sa.String(length=40), nullable=False),
        sa.Column("medfee_sumamt", yidi.core.db.Money(), nullable=True),
        sa.Column("fund_pay_sumamt", yidi.core.db.Money(), nullable=True),
        sa.Column("paid_directly", yidi.core.db.Money(), nullable=True),
        sa.Column("payable", yidi.core.db.Money(), nullable=True),
        sa.Column("paid_at", yidi.core.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["insured_region"], ["division.code"], name=op.f("fk_claim_insured_region_division")),
        sa.ForeignKeyConstraint(["psn_no"], ["person.psn_no"], name=op.f("fk_claim_psn_no_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
        sa.UniqueConstraint("submitted_by", "request_id", name="uq_claim_request"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index("ix_claim_psn", ["psn_no", "submitted_at"], unique=False)
        batch_op.create_index("ix_claim_queue", ["insured_region", "status", "due_date"], unique=False)

    op.create_table(
        "payment_item",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.String(length=30), nullable=False),
        sa.Column("source_kind", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.String(length=30), nullable=False),
        sa.Column("payee_name", sa.String(length=50), nullable=False),
        sa.Column("bank_name", sa.String(length=100), nullable=False),
        sa.Column("bank_account", sa.String(length=40), nullable=False),
        sa.Column("amount", yidi.core.db.Money(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("bank_serial", sa.String(length=60), nullable=True),
        sa.Column("result_at", yidi.core.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("result_note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payment_batch.id"], name=op.f("fk_payment_item_batch_id_payment_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_item")),
    )
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_item_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_payment_item_source", ["source_kind", "source_id"], unique=False)

    op.create_table(
        "claim_material",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_id", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", yidi.core.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_claim_material_claim_id_claim")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_material")),
    )
    with op.batch_alter_table("claim_material", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_material_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_visit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_id", sa.String(length=30), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=True),
        sa.Column("institution_name", sa.String(length=100), nullable=False),
        sa.Column("institution_region", sa.String(length=6), nullable=False),
        sa.Column("institution_level", sa.String(length=8), nullable=False),
        sa.Column("care", sa.String(length=24), nullable=False),
        sa.Column("med_type", sa.String(length=6), nullable=False),
        sa.Column("begndate", sa.Date(), nullable=False),
        sa.Column("enddate", sa.Date(), nullable=False),
        sa.Column("dise_codg", sa.String(length=30), nullable=True),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("injury", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("split", sa.JSON(), nullable=True),
        sa.Column("increments", sa.JSON(), nullable=True),
        sa.Column("paid_directly", yidi.core.db.Money(), nullable=True),
        sa.Column("direct_setl_ids", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_claim_visit_claim_id_claim")),
        sa.ForeignKeyConstraint(
            ["fixmedins_code"], ["institution.fixmedins_code"], name=op.f("fk_claim_visit_fixmedins_code_institution")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_visit")),
        sa.UniqueConstraint("claim_id", "seq", name="uq_claim_visit_seq"),
    )
    with op.batch_alter_table("claim_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_visit_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_invoice",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("invono", sa.String(length=40), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("amount", yidi.core.db.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_visit_id"], ["claim_visit.id"], name=op.f("fk_claim_invoice_claim_visit_id_claim_visit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_invoice")),
    )
    with op.batch_alter_table("claim_invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_invoice_claim_visit_id"), ["claim_visit_id"], unique=False)

    op.create_table(
        "claim_line",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("feedetl_sn", sa.String(length=30), nullable=False),
        sa.Column("med_list_codg", sa.String(length=50), nullable=False),
        sa.Column("medins_list_codg", sa.String(length=150), nullable=True),
        sa.Column("medins_list_name", sa.String(length=200), nullable=True),
        sa.Column("fee_ocur_time", yidi.core.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("cnt", sa.Numeric(precision=16, scale=4), nullable=False),
        sa.Column("pric", yidi.core.db.UnitPrice(), nullable=False),
        sa.Column("det_item_fee_sumamt", yidi.core.db.Money(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("exclusion_reason", sa.String(length=300), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_visit_id"], ["claim_visit.id"], name=op.f("fk_claim_line_claim_visit_id_claim_visit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_line")),
    )
    with op.batch_alter_table("claim_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_line_claim_visit_id"), ["claim_visit_id"], unique=False)

    op.create_table(
        "settlement_review",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("setl_id", sa.String(length=30), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("submitted_at", yidi.core.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=50), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("corrections", sa.JSON(), nullable=True),
        sa.Column("recomputed", sa.JSON(), nullable=True),
        sa.Column("increments", sa.JSON(), nullable=True),
        sa.Column("difference", yidi.core.db.Money(), nullable=True),
        sa.Column("outcome", sa.String(length=14), nullable=True),
        sa.Column("decided_at", yidi.core.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=50), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("payee_name", sa.String(length=50), nullable=True),
        sa.Column("bank_name", sa.String(length=100), nullable=True),
        sa.Column("bank_account", sa.String(length=40), nullable=True),
        sa.Column("settled_at", yidi.core.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["psn_no"], ["person.psn_no"], name=op.f("fk_settlement_review_psn_no_person")),
        sa.ForeignKeyConstraint(
            ["setl_id"], ["settlement.setl_id"], name=op.f("fk_settlement_review_setl_id_settlement")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_review")),
        sa.UniqueConstraint("submitted_by", "request_id", name="uq_settlement_review_request"),
    )
    with op.batch_alter_table("settlement_review", schema=None) as batch_op:
        batch_op.create_index("ix_settlement_review_queue", ["insured_region", "status", "due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_settlement_review_setl_id"), ["setl_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("settlement_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_review_setl_id"))
        batch_op.drop_index("ix_settlement_review_queue")

    op.drop_table("settlement_review")
    with op.batch_alter_table("claim_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_line_claim_visit_id"))

    op.drop_table("claim_line")
    with op.batch_alter_table("claim_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_invoice_claim_visit_id"))

    op.drop_table("claim_invoice")
    with op.batch_alter_table("claim_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_visit_claim_id"))

    op.drop_table("claim_visit")
    with op.batch_alter_table("claim_material", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_material_claim_id"))

    op.drop_table("claim_material")
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_item_source")
        batch_op.drop_index(batch_op.f("ix_payment_item_batch_id"))

    op.drop_table("payment_item")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_queue")
        batch_op.drop_index("ix_claim_psn")

    op.drop_table("claim")
    op.drop_table("payment_batch")
    op.drop_table("invoice_use")
