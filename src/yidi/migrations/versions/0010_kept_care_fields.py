"""what the HIS sends about the care: kept with the visit, the fee line, the settlement and the diagnosis

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yidi.core.db import Money

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dept_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("caty", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("atddr_no", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("dr_name", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("medrcdno", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("adm_bed", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("adm_diag_dscr", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("dscg_maindiag_code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("dscg_maindiag_name", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("main_cond_dscr", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("dise_name", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("oprn_oprt_code", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("oprn_oprt_name", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("fpsc_no", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("matn_type", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("birctrl_type", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("birctrl_matn_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("latechb_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("geso_val", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fetts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fetus_cnt", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pret_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("dscg_dept_codg", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("dscg_dept_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("dscg_bed", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("dscg_way", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("die_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cop_flag", sa.String(length=3), nullable=True))
    with op.batch_alter_table("fee_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("med_type", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("dise_codg", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("rxno", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("rx_circ_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("drord_no", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("sin_dos_dscr", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("used_frqu_dscr", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("prd_days", sa.Numeric(4, 2), nullable=True))
        batch_op.add_column(sa.Column("medc_way_dscr", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("bilg_dept_codg", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("bilg_dept_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("bilg_dr_codg", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("bilg_dr_name", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("acord_dept_codg", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("acord_dept_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("orders_dr_code", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("orders_dr_name", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("hosp_appr_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("tcmdrug_used_way", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("etip_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("etip_hosp_code", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("dscg_tkdrug_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("matn_fee_flag", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("memo", sa.String(length=500), nullable=True))
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("psn_setlway", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("invono", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("mdtrt_cert_type", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("mdtrt_cert_no", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("acct_used_flag", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("mid_setl_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("his_fulamt_ownpay_amt", Money(), nullable=True))
        batch_op.add_column(sa.Column("his_overlmt_selfpay", Money(), nullable=True))
        batch_op.add_column(sa.Column("his_preselfpay_amt", Money(), nullable=True))
        batch_op.add_column(sa.Column("his_inscp_scp_amt", Money(), nullable=True))
    with op.batch_alter_table("visit_diagnosis", schema=None) as batch_op:
        batch_op.add_column(sa.Column("maindiag_flag", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("adm_cond", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("diag_dept", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("dise_dor_no", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("dise_dor_name", sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit_diagnosis", schema=None) as batch_op:
        batch_op.drop_column("dise_dor_name")
        batch_op.drop_column("dise_dor_no")
        batch_op.drop_column("diag_dept")
        batch_op.drop_column("adm_cond")
        batch_op.drop_column("maindiag_flag")

    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_column("his_inscp_scp_amt")
        batch_op.drop_column("his_preselfpay_amt")
        batch_op.drop_column("his_overlmt_selfpay")
        batch_op.drop_column("his_fulamt_ownpay_amt")
        batch_op.drop_column("mid_setl_flag")
        batch_op.drop_column("acct_used_flag")
        batch_op.drop_column("mdtrt_cert_no")
        batch_op.drop_column("mdtrt_cert_type")
        batch_op.drop_column("invono")
        batch_op.drop_column("psn_setlway")

    with op.batch_alter_table("fee_line", schema=None) as batch_op:
        batch_op.drop_column("memo")
        batch_op.drop_column("matn_fee_flag")
        batch_op.drop_column("dscg_tkdrug_flag")
        batch_op.drop_column("etip_hosp_code")
        batch_op.drop_column("etip_flag")
        batch_op.drop_column("tcmdrug_used_way")
        batch_op.drop_column("hosp_appr_flag")
        batch_op.drop_column("orders_dr_name")
        batch_op.drop_column("orders_dr_code")
        batch_op.drop_column("acord_dept_name")
        batch_op.drop_column("acord_dept_codg")
        batch_op.drop_column("bilg_dr_name")
        batch_op.drop_column("bilg_dr_codg")
        batch_op.drop_column("bilg_dept_name")
        batch_op.drop_column("bilg_dept_codg")
        batch_op.drop_column("medc_way_dscr")
        batch_op.drop_column("prd_days")
        batch_op.drop_column("used_frqu_dscr")
        batch_op.drop_column("sin_dos_dscr")
        batch_op.drop_column("drord_no")
        batch_op.drop_column("rx_circ_flag")
        batch_op.drop_column("rxno")
        batch_op.drop_column("dise_codg")
        batch_op.drop_column("med_type")

    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("cop_flag")
        batch_op.drop_column("die_date")
        batch_op.drop_column("dscg_way")
        batch_op.drop_column("dscg_bed")
        batch_op.drop_column("dscg_dept_name")
        batch_op.drop_column("dscg_dept_codg")
        batch_op.drop_column("pret_flag")
        batch_op.drop_column("fetus_cnt")
        batch_op.drop_column("fetts")
        batch_op.drop_column("geso_val")
        batch_op.drop_column("latechb_flag")
        batch_op.drop_column("birctrl_matn_date")
        batch_op.drop_column("birctrl_type")
        batch_op.drop_column("matn_type")
        batch_op.drop_column("fpsc_no")
        batch_op.drop_column("oprn_oprt_name")
        batch_op.drop_column("oprn_oprt_code")
        batch_op.drop_column("dise_name")
        batch_op.drop_column("main_cond_dscr")
        batch_op.drop_column("dscg_maindiag_name")
        batch_op.drop_column("dscg_maindiag_code")
        batch_op.drop_column("adm_diag_dscr")
        batch_op.drop_column("adm_bed")
        batch_op.drop_column("medrcdno")
        batch_op.drop_column("dr_name")
        batch_op.drop_column("atddr_no")
        batch_op.drop_column("caty")
        batch_op.drop_column("dept_name")
