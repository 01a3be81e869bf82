"""Tables of manual reimbursement (手工报销), reviews of direct settlements (复核) and the payments to persons.

A claim holds visits; a visit holds invoices and fee lines. Amounts are integer fen (`Money`). What the engine
computed is kept on the visit (its setlinfo-like split and the accumulator increments applied at approval), so a
claim can be explained and undone exactly, as a settlement can.
"""

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
    Numeric,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yidi.core.db import AwareDateTime, Base, Money, UnitPrice
from yidi.people import models as _people_models  # noqa: F401 - the tables our foreign keys point at
from yidi.settlement import models as _settlement_models  # noqa: F401

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Claim(Base):
    """A manual reimbursement claim of one person, at their insured region's agency."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_psn", "psn_no", "submitted_at"),
        Index("ix_claim_queue", "insured_region", "status", "due_date"),
        UniqueConstraint("submitted_by", "request_id", name="uq_claim_request"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True)  # platform id, kind R
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"))
    insutype: Mapped[str] = mapped_column(String(3))
    insured_region: Mapped[str] = mapped_column(String(6), ForeignKey("division.code"))
    # draft → submitted → under_review → approved → paid; returned (for materials) → submitted; refused; withdrawn
    status: Mapped[str] = mapped_column(String(14))
    channel: Mapped[str] = mapped_column(String(16))  # online | counter
    request_id: Mapped[str | None] = mapped_column(String(40))  # the client's retry key (idempotent create)
    request_hash: Mapped[str | None] = mapped_column(String(64))  # what that request asked: a retry must match it
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    submitted_by: Mapped[str] = mapped_column(String(50))
    due_date: Mapped[dt.date | None] = mapped_column(Date)  # review decision due (working days)
    due_from: Mapped[dt.date | None] = mapped_column(Date)
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str | None] = mapped_column(String(500))  # of a return or a refusal, shown to the person
    reviewer: Mapped[str | None] = mapped_column(String(50))  # who took the claim for review
    materials_requested: Mapped[list[str] | None] = mapped_column(JSON)  # MaterialKind values asked for on return
    # Where the money goes (the person's own account unless an agent's is given).
    payee_name: Mapped[str] = mapped_column(String(50))
    bank_name: Mapped[str] = mapped_column(String(100))
    bank_account: Mapped[str] = mapped_column(String(40))
    # The approved split over all visits (None until approved).
    medfee_sumamt: Mapped[Decimal | None] = mapped_column(Money)
    fund_pay_sumamt: Mapped[Decimal | None] = mapped_column(Money)  # what the funds bear for the claimed care
    paid_directly: Mapped[Decimal | None] = mapped_column(Money)  # already paid by direct settlement of it
    payable: Mapped[Decimal | None] = mapped_column(Money)  # fund_pay_sumamt − paid_directly, never below 0
    paid_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    visits: Mapped[list[ClaimVisit]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimVisit.seq"
    )
    materials: Mapped[list[ClaimMaterial]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimMaterial.id"
    )


class ClaimVisit(Base):
    """One visit or stay of a claim: where, when, what care, and (after approval) how the engine split it."""

    __tablename__ = "claim_visit"
    __table_args__ = (UniqueConstraint("claim_id", "seq", name="uq_claim_visit_seq"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(30), ForeignKey("claim.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    # A networked institution by its code; one outside the network by name, region and level as typed in.
    fixmedins_code: Mapped[str | None] = mapped_column(String(12), ForeignKey("institution.fixmedins_code"))
    institution_name: Mapped[str] = mapped_column(String(100))
    institution_region: Mapped[str] = mapped_column(String(6))  # treatment pooling region (就医地)
    institution_level: Mapped[str] = mapped_column(String(8))  # SettlementLevel value
    care: Mapped[str] = mapped_column(String(24))  # parameters.policy.ClaimCare
    med_type: Mapped[str] = mapped_column(String(6))
    begndate: Mapped[dt.date] = mapped_column(Date)
    enddate: Mapped[dt.date] = mapped_column(Date)  # discharge (a stay) or the visit day
    dise_codg: Mapped[str | None] = mapped_column(String(30))  # 门慢 disease when care is chronic
    diagnoses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{diag_code, diag_name, maindiag_flag}]
    injury: Mapped[bool] = mapped_column(Boolean, default=False)  # 外伤
    # The computation at approval: category, the split (setlinfo amounts as text), setldetail, increments.
    category: Mapped[str | None] = mapped_column(String(20))
    service_date: Mapped[dt.date | None] = mapped_column(Date)
    year: Mapped[int | None] = mapped_column(Integer)
    split: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    increments: Mapped[dict[str, str] | None] = mapped_column(JSON)
    paid_directly: Mapped[Decimal | None] = mapped_column(Money)  # fund of direct settlements of this care
    direct_setl_ids: Mapped[list[str] | None] = mapped_column(JSON)

    claim: Mapped[Claim] = relationship(back_populates="visits")
    invoices: Mapped[list[ClaimInvoice]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="ClaimInvoice.id"
    )
    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="ClaimLine.seq"
    )


class ClaimInvoice(Base):
    __tablename__ = "claim_invoice"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    claim_visit_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("claim_visit.id"), index=True)
    invono: Mapped[str] = mapped_column(String(40))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)

    visit: Mapped[ClaimVisit] = relationship(back_populates="invoices")


class ClaimLine(Base):
    """A fee line as the hospital's detailed list gives it (national column names), and the reviewer's verdict."""

    __tablename__ = "claim_line"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    claim_visit_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("claim_visit.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    feedetl_sn: Mapped[str] = mapped_column(String(30))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    medins_list_codg: Mapped[str | None] = mapped_column(String(150))
    medins_list_name: Mapped[str | None] = mapped_column(String(200))
    fee_ocur_time: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    cnt: Mapped[Decimal] = mapped_column(Numeric(16, 4))
    pric: Mapped[Decimal] = mapped_column(UnitPrice)
    det_item_fee_sumamt: Mapped[Decimal] = mapped_column(Money)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)  # left out by the reviewer
    exclusion_reason: Mapped[str | None] = mapped_column(String(300))  # shown to the person
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the line's split at approval

    visit: Mapped[ClaimVisit] = relationship(back_populates="lines")


class ClaimMaterial(Base):
    """An uploaded paper of a claim, stored by content hash as filing materials are."""

    __tablename__ = "claim_material"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(30), ForeignKey("claim.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # parameters.policy.MaterialKind
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(50))

    claim: Mapped[Claim] = relationship(back_populates="materials")


class SettlementReview(Base):
    """复核 of a direct settlement: recomputed with corrected facts; the difference is paid (轧差) or recovered."""

    __tablename__ = "settlement_review"
    __table_args__ = (
        Index("ix_settlement_review_queue", "insured_region", "status", "due_date"),
        UniqueConstraint("submitted_by", "request_id", name="uq_settlement_review_request"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True)  # platform id, kind R
    setl_id: Mapped[str] = mapped_column(String(30), ForeignKey("settlement.setl_id"), index=True)
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"))
    insured_region: Mapped[str] = mapped_column(String(6))
    # requested → decided (difference | recovery | no_change) → paid / recovered; refused
    status: Mapped[str] = mapped_column(String(14))
    request_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))  # why the person or staff asked
    submitted_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    submitted_by: Mapped[str] = mapped_column(String(50))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    # As filings: counted over a year without a holiday notice, the due date may still move (recounted from
    # due_from when the notice is added).
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    due_from: Mapped[dt.date | None] = mapped_column(Date)
    corrections: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # category, qualification, line classes
    recomputed: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the split with the corrected facts
    increments: Mapped[dict[str, str] | None] = mapped_column(JSON)  # accumulator change applied (new − old)
    difference: Mapped[Decimal | None] = mapped_column(Money)  # > 0 paid to the person, < 0 recovered
    outcome: Mapped[str | None] = mapped_column(String(14))  # difference | recovery | no_change
    decided_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decision_note: Mapped[str | None] = mapped_column(String(500))  # shown to the person
    payee_name: Mapped[str | None] = mapped_column(String(50))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    bank_account: Mapped[str | None] = mapped_column(String(40))
    settled_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)  # paid or recovered
    settled_serial: Mapped[str | None] = mapped_column(String(60))  # the bank or recovery serial
    # Of a difference: the part credited back to the personal account at the decision (the cash the person paid is
    # refunded first, by bank; the rest was paid from the account and goes back to it). None: nothing credited.
    account_credit: Mapped[Decimal | None] = mapped_column(Money)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PaymentBatch(Base):
    """A bank transfer file of one insured region: approved claims and differences paid to persons."""

    __tablename__ = "payment_batch"
    __table_args__ = (
        Index("uq_payment_batch_request", "created_by", "request_id", unique=True),
        Index("ix_payment_batch_region", "insured_region", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    insured_region: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    created_by: Mapped[str] = mapped_column(String(50))
    request_id: Mapped[str | None] = mapped_column(String(40))  # the staff member's retry key (idempotent create)
    status: Mapped[str] = mapped_column(String(10))  # exported | closed (every item has a result)
    item_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    closed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    export_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))  # files made so far

    items: Mapped[list[PaymentItem]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="PaymentItem.id"
    )


class PaymentItem(Base):
    __tablename__ = "payment_item"
    __table_args__ = (
        Index("ix_payment_item_source", "source_kind", "source_id"),
        # At most one pending item per claim or review: two batches never transfer the same money.
        Index(
            "uq_payment_item_pending",
            "source_kind",
            "source_id",
            unique=True,
            postgresql_where=text("result = 'pending'"),
            sqlite_where=text("result = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(30), ForeignKey("payment_batch.id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(10))  # claim | review
    source_id: Mapped[str] = mapped_column(String(30))
    payee_name: Mapped[str] = mapped_column(String(50))
    bank_name: Mapped[str] = mapped_column(String(100))
    bank_account: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)
    result: Mapped[str] = mapped_column(String(8))  # pending | paid | failed | returned (退票 after paid)
    bank_serial: Mapped[str | None] = mapped_column(String(60))
    result_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)  # when the result was recorded
    result_note: Mapped[str | None] = mapped_column(String(300))  # why it failed or came back, shown to the person
    paid_on: Mapped[dt.date | None] = mapped_column(Date)  # the bank's value date of a paid transfer
    recorded_by: Mapped[str | None] = mapped_column(String(50))

    batch: Mapped[PaymentBatch] = relationship(back_populates="items")
