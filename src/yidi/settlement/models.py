"""Tables of direct settlement: visits, fee lines, settlements, accumulators and the message log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yidi.core.db import AwareDateTime, Base, Money, UnitPrice
from yidi.people import models as _people_models  # noqa: F401 - the tables our foreign keys point at


class Visit(Base):
    """就诊 (mdtrt_id): an outpatient visit or an inpatient stay at one institution."""

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("fixmedins_code", "ipt_otp_no"), Index("ix_visit_psn", "psn_no", "begntime"))

    mdtrt_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"))
    insutype: Mapped[str] = mapped_column(String(3))
    insuplc_admdvs: Mapped[str] = mapped_column(String(6))
    fixmedins_code: Mapped[str] = mapped_column(String(12), ForeignKey("institution.fixmedins_code"))
    mdtrtarea_admvs: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(10))  # outpatient | inpatient | pharmacy (a 2102 purchase)
    med_type: Mapped[str] = mapped_column(String(6))
    ipt_otp_no: Mapped[str] = mapped_column(String(30))
    begntime: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    endtime: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    dise_codg: Mapped[str | None] = mapped_column(String(30))
    dept_code: Mapped[str | None] = mapped_column(String(30))  # registering (2201) or admitting (2401) department
    # What the HIS said about the care (2201/2203/2401/2403, discharge 2402; see settlement.care), as sent.
    dept_name: Mapped[str | None] = mapped_column(String(100))
    caty: Mapped[str | None] = mapped_column(String(6))
    atddr_no: Mapped[str | None] = mapped_column(String(30))
    dr_name: Mapped[str | None] = mapped_column(String(50))
    medrcdno: Mapped[str | None] = mapped_column(String(30))
    adm_bed: Mapped[str | None] = mapped_column(String(30))
    adm_diag_dscr: Mapped[str | None] = mapped_column(String(200))
    dscg_maindiag_code: Mapped[str | None] = mapped_column(String(20))
    dscg_maindiag_name: Mapped[str | None] = mapped_column(String(300))
    main_cond_dscr: Mapped[str | None] = mapped_column(String(1000))
    dise_name: Mapped[str | None] = mapped_column(String(500))
    oprn_oprt_code: Mapped[str | None] = mapped_column(String(30))
    oprn_oprt_name: Mapped[str | None] = mapped_column(String(500))
    fpsc_no: Mapped[str | None] = mapped_column(String(50))
    matn_type: Mapped[str | None] = mapped_column(String(6))
    birctrl_type: Mapped[str | None] = mapped_column(String(6))
    birctrl_matn_date: Mapped[dt.date | None] = mapped_column(Date)
    latechb_flag: Mapped[str | None] = mapped_column(String(3))
    geso_val: Mapped[int | None] = mapped_column(Integer)
    fetts: Mapped[int | None] = mapped_column(Integer)
    fetus_cnt: Mapped[int | None] = mapped_column(Integer)
    pret_flag: Mapped[str | None] = mapped_column(String(3))
    dscg_dept_codg: Mapped[str | None] = mapped_column(String(30))
    dscg_dept_name: Mapped[str | None] = mapped_column(String(100))
    dscg_bed: Mapped[str | None] = mapped_column(String(30))
    dscg_way: Mapped[str | None] = mapped_column(String(3))
    die_date: Mapped[dt.date | None] = mapped_column(Date)
    cop_flag: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))  # registered | discharged | settled | cancelled
    coverage: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the filing decision at registration
    created_msgid: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)

    fees: Mapped[list[FeeRecord]] = relationship(back_populates="visit", order_by="FeeRecord.id")


class FeeRecord(Base):
    """One uploaded fee line (2204/2301) with the catalogue's split."""

    __tablename__ = "fee_line"
    __table_args__ = (UniqueConstraint("mdtrt_id", "feedetl_sn"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    mdtrt_id: Mapped[str] = mapped_column(String(30), ForeignKey("visit.mdtrt_id"), index=True)
    feedetl_sn: Mapped[str] = mapped_column(String(30))
    chrg_bchno: Mapped[str | None] = mapped_column(String(30))
    init_feedetl_sn: Mapped[str | None] = mapped_column(String(30))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    medins_list_codg: Mapped[str | None] = mapped_column(String(150))
    fee_ocur_time: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    det_item_fee_sumamt: Mapped[Decimal] = mapped_column(Money)
    cnt: Mapped[Decimal] = mapped_column(Numeric(16, 4))
    pric: Mapped[Decimal] = mapped_column(UnitPrice)
    fulamt_ownpay_amt: Mapped[Decimal] = mapped_column(Money)
    overlmt_amt: Mapped[Decimal] = mapped_column(Money)
    preselfpay_amt: Mapped[Decimal] = mapped_column(Money)
    inscp_scp_amt: Mapped[Decimal] = mapped_column(Money)
    chrgitm_lv: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(10))  # active | cancelled | settled
    setl_id: Mapped[str | None] = mapped_column(String(30))
    # What the HIS said about the line (2204/2301; see settlement.care), as sent.
    med_type: Mapped[str | None] = mapped_column(String(6))
    dise_codg: Mapped[str | None] = mapped_column(String(30))
    rxno: Mapped[str | None] = mapped_column(String(30))
    rx_circ_flag: Mapped[str | None] = mapped_column(String(3))
    drord_no: Mapped[str | None] = mapped_column(String(30))
    sin_dos_dscr: Mapped[str | None] = mapped_column(String(200))
    used_frqu_dscr: Mapped[str | None] = mapped_column(String(200))
    prd_days: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    medc_way_dscr: Mapped[str | None] = mapped_column(String(200))
    bilg_dept_codg: Mapped[str | None] = mapped_column(String(30))
    bilg_dept_name: Mapped[str | None] = mapped_column(String(100))
    bilg_dr_codg: Mapped[str | None] = mapped_column(String(30))
    bilg_dr_name: Mapped[str | None] = mapped_column(String(50))
    acord_dept_codg: Mapped[str | None] = mapped_column(String(30))
    acord_dept_name: Mapped[str | None] = mapped_column(String(100))
    orders_dr_code: Mapped[str | None] = mapped_column(String(30))
    orders_dr_name: Mapped[str | None] = mapped_column(String(50))
    hosp_appr_flag: Mapped[str | None] = mapped_column(String(3))
    tcmdrug_used_way: Mapped[str | None] = mapped_column(String(6))
    etip_flag: Mapped[str | None] = mapped_column(String(3))
    etip_hosp_code: Mapped[str | None] = mapped_column(String(30))
    dscg_tkdrug_flag: Mapped[str | None] = mapped_column(String(3))
    matn_fee_flag: Mapped[str | None] = mapped_column(String(6))
    memo: Mapped[str | None] = mapped_column(String(500))

    visit: Mapped[Visit] = relationship(back_populates="fees")


class Settlement(Base):
    """A settlement (setl_id) or its cancellation record (negative amounts, own setl_id)."""

    __tablename__ = "settlement"
    __table_args__ = (Index("ix_settlement_psn_year", "psn_no", "insutype", "year"),)

    setl_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    mdtrt_id: Mapped[str] = mapped_column(String(30), ForeignKey("visit.mdtrt_id"), index=True)
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    insuplc_admdvs: Mapped[str] = mapped_column(String(6))
    mdtrtarea_admvs: Mapped[str] = mapped_column(String(6))
    med_type: Mapped[str] = mapped_column(String(6))
    setl_time: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    year: Mapped[int] = mapped_column(Integer)
    service_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # settled | cancelled | reversal
    reverses: Mapped[str | None] = mapped_column(String(30))  # setl_id this record cancels
    msgid: Mapped[str] = mapped_column(String(30), index=True)  # medins_setl_id
    infno: Mapped[str] = mapped_column(String(5))
    medfee_sumamt: Mapped[Decimal] = mapped_column(Money)
    fulamt_ownpay_amt: Mapped[Decimal] = mapped_column(Money)
    overlmt_selfpay: Mapped[Decimal] = mapped_column(Money)
    preselfpay_amt: Mapped[Decimal] = mapped_column(Money)
    inscp_scp_amt: Mapped[Decimal] = mapped_column(Money)
    act_pay_dedc: Mapped[Decimal] = mapped_column(Money)
    hifp_pay: Mapped[Decimal] = mapped_column(Money)
    pool_prop_selfpay: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    cvlserv_pay: Mapped[Decimal] = mapped_column(Money)
    hifmi_pay: Mapped[Decimal] = mapped_column(Money)
    hifob_pay: Mapped[Decimal] = mapped_column(Money)
    maf_pay: Mapped[Decimal] = mapped_column(Money)
    oth_pay: Mapped[Decimal] = mapped_column(Money)
    fund_pay_sumamt: Mapped[Decimal] = mapped_column(Money)
    psn_part_amt: Mapped[Decimal] = mapped_column(Money)
    acct_pay: Mapped[Decimal] = mapped_column(Money)
    psn_cash_pay: Mapped[Decimal] = mapped_column(Money)
    balc: Mapped[Decimal] = mapped_column(Money)
    setldetail: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    increments: Mapped[dict[str, str]] = mapped_column(JSON)  # accumulator key → amount (as text)
    category: Mapped[str] = mapped_column(String(20))  # filing category that set the ratio
    # What the HIS sent with 2207/2304 (see settlement.care): the way of settling, the invoice, the certificate
    # (an ID number masked, an e-voucher token not kept), the flags applied, and the amounts as it computed them.
    psn_setlway: Mapped[str | None] = mapped_column(String(6))
    invono: Mapped[str | None] = mapped_column(String(20))
    mdtrt_cert_type: Mapped[str | None] = mapped_column(String(3))
    mdtrt_cert_no: Mapped[str | None] = mapped_column(String(50))
    acct_used_flag: Mapped[str | None] = mapped_column(String(1))
    mid_setl_flag: Mapped[str | None] = mapped_column(String(3))
    his_fulamt_ownpay_amt: Mapped[Decimal | None] = mapped_column(Money)
    his_overlmt_selfpay: Mapped[Decimal | None] = mapped_column(Money)
    his_preselfpay_amt: Mapped[Decimal | None] = mapped_column(Money)
    his_inscp_scp_amt: Mapped[Decimal | None] = mapped_column(Money)
    # What the engine read when the settlement was made, so that a review (复核) recomputes it as it stood then and
    # not with what came later (None: made before 0018 kept them). `acc_before`: the person's year-to-date
    # accumulators (key → amount or count as text) before it; `basis`: the facts of the case then (retiree,
    # civil_servant, settlement_level, person_diseases); `year_seq`: its place among the person's settlement rows
    # of the insurance type and year, counted under the person's lock (orders settlements of the same second).
    acc_before: Mapped[dict[str, str] | None] = mapped_column(JSON)
    basis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    year_seq: Mapped[int | None] = mapped_column(Integer)


class SettlementAdjustment(Base):
    """A later change to what a settlement in force added to the accumulators, made by the insured place's agency
    (the increments delta of a decided review of the settlement, 复核). The settlement row itself is never
    changed: its increments plus its adjustments are what it now counts for. A settlement with an adjustment is
    not cancelled at the institution (2208/2305/2601): the agency decided a difference against it."""

    __tablename__ = "settlement_adjustment"
    # One per source and settlement: a review adjusts its one settlement; a claim that computed several settlements
    # of the same care again records one against each.
    __table_args__ = (UniqueConstraint("source_kind", "source_id", "setl_id", name="uq_settlement_adjustment_source"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    setl_id: Mapped[str] = mapped_column(String(30), ForeignKey("settlement.setl_id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(10))  # review | claim
    source_id: Mapped[str] = mapped_column(String(30))  # the review's or the claim's id
    increments: Mapped[dict[str, str]] = mapped_column(JSON)  # accumulator key → change (as text; may be negative)
    made_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    # The settlement rows of the person's year when it was made (their year_seq counts the same rows): a later
    # settlement's acc_before holds this change already exactly when its year_seq is above this number.
    settlements_seen: Mapped[int | None] = mapped_column(Integer)
    # What the settlement now stands for in its stay (every decided review records them, a no-change one too): the
    # deductible it bears and whether it counts the stay. A later settlement of the stay reads these, not the row's.
    act_pay_dedc: Mapped[Decimal | None] = mapped_column(Money)
    counts_stay: Mapped[bool | None] = mapped_column(Boolean)
    # False when the review changed neither the accumulators nor the money: the institution may still cancel.
    stands: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Accumulator(Base):
    """Year-to-date amounts of one person and insurance type (deductible used, fund paid toward caps, …).

    Money keys hold fen; count keys (inpatient stays) hold plain counts. Updated only inside the settlement's
    transaction, after locking the person's insurance row.
    """

    __tablename__ = "accumulator"

    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"), primary_key=True)
    insutype: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class MessageLog(Base):
    """Every gateway request and its answer, by msgid: a replay returns the stored answer."""

    __tablename__ = "message_log"

    msgid: Mapped[str] = mapped_column(String(30), primary_key=True)
    infno: Mapped[str] = mapped_column(String(5))
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    infcode: Mapped[int] = mapped_column(Integer)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    serial: Mapped[int] = mapped_column(BigInteger, index=True)


class OperatorSignIn(Base):
    """9001 sign-in of an operator at an institution for the day (sign_no)."""

    __tablename__ = "operator_sign_in"

    sign_no: Mapped[str] = mapped_column(String(30), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    opter_no: Mapped[str] = mapped_column(String(30))
    sign_time: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    signed_out_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)


class Identification(Base):
    """A person identified (1101) at an institution on a day: what lets that institution read the person's
    accumulators and qualifications by psn_no that day (the person stands at its counter)."""

    __tablename__ = "identification"

    fixmedins_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    first_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)


class InterfaceFile(Base):
    """A file exchanged through 9101 (upload) and 9102 (download): reconciliation details and their results."""

    __tablename__ = "interface_file"

    file_qury_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)


class VisitDiagnosis(Base):
    """A diagnosis of a visit (diseinfo of 2203, 2401, 2402, 2403)."""

    __tablename__ = "visit_diagnosis"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    mdtrt_id: Mapped[str] = mapped_column(String(30), ForeignKey("visit.mdtrt_id"), index=True)
    source: Mapped[str] = mapped_column(String(5))  # the transaction that sent it
    diag_type: Mapped[str] = mapped_column(String(3))
    diag_srt_no: Mapped[str] = mapped_column(String(5))
    diag_code: Mapped[str] = mapped_column(String(30))
    diag_name: Mapped[str] = mapped_column(String(255))
    diag_time: Mapped[str | None] = mapped_column(String(19))  # yyyy-MM-dd HH:mm:ss, Beijing time
    vali_flag: Mapped[str] = mapped_column(String(1))
    maindiag_flag: Mapped[str | None] = mapped_column(String(3))
    adm_cond: Mapped[str | None] = mapped_column(String(500))
    diag_dept: Mapped[str | None] = mapped_column(String(50))
    dise_dor_no: Mapped[str | None] = mapped_column(String(30))
    dise_dor_name: Mapped[str | None] = mapped_column(String(50))


class InvoiceUse(Base):
    """Which settlement or claim an invoice (number + institution) has paid: one invoice is paid once.

    `institution_key` is the fixmedins_code, or for an institution outside the network `X<region>:<name>`. A
    direct settlement with `invono` and a manual claim both take a row; the primary key refuses the second, whose
    refusal names the first. A cancelled settlement or a withdrawn claim gives its row back."""

    __tablename__ = "invoice_use"

    institution_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    invono: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(10))  # settlement | claim
    owner_id: Mapped[str] = mapped_column(String(30))
    taken_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
