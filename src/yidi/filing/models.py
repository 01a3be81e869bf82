"""Tables of filings (备案), their designated institutions and uploaded materials."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yidi.core.db import AwareDateTime, Base
from yidi.people import models as _people_models  # noqa: F401 - the tables our foreign keys point at


class Filing(Base):
    __tablename__ = "filing"
    __table_args__ = (
        Index("ix_filing_psn_status", "psn_no", "status"),
        Index("ix_filing_queue", "insured_region", "status", "due_date"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True)  # trt_dcla_detl_sn
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"))
    insutype: Mapped[str] = mapped_column(String(3))
    insured_region: Mapped[str] = mapped_column(String(6), ForeignKey("division.code"))
    subtype: Mapped[str] = mapped_column(String(24))  # rules.Subtype
    target_region: Mapped[str] = mapped_column(String(6))
    target_level: Mapped[str] = mapped_column(String(8))  # city | province
    opsp_dise_code: Mapped[str | None] = mapped_column(String(6))
    begndate: Mapped[dt.date] = mapped_column(Date)
    enddate: Mapped[dt.date | None] = mapped_column(Date)  # None: long-term, until changed
    basis: Mapped[str] = mapped_column(String(12))  # materials | commitment | none
    proof_deadline: Mapped[dt.date | None] = mapped_column(Date)
    proof_received_on: Mapped[dt.date | None] = mapped_column(Date)
    retroactive: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(14))
    submitted_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    submitted_by: Mapped[str] = mapped_column(String(50))  # who entered it (person, staff, institution)
    due_date: Mapped[dt.date | None] = mapped_column(Date)  # review deadline (working days)
    # The due date was counted over a year without an official holiday notice (weekends only): it may move
    # when the notice is added (`yidi calendar add-year`), which recounts it from `due_from`.
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    due_from: Mapped[dt.date | None] = mapped_column(Date)  # the day the working days of due_date count from
    materials_requested: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(50))
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    void_from: Mapped[dt.date | None] = mapped_column(Date)  # changed / cancelled / superseded from this day
    end_reason: Mapped[str | None] = mapped_column(String(500))
    replaces_id: Mapped[str | None] = mapped_column(String(30), ForeignKey("filing.id"))
    replace_mode: Mapped[str | None] = mapped_column(String(8))  # change | renewal
    fixmedins_code: Mapped[str | None] = mapped_column(String(12))  # hospital that recorded it (2501/2505)
    version: Mapped[int] = mapped_column(Integer, default=1)

    institutions: Mapped[list[FilingInstitution]] = relationship(
        back_populates="filing", cascade="all, delete-orphan", order_by="FilingInstitution.fix_srt_no"
    )
    materials: Mapped[list[FilingMaterial]] = relationship(
        back_populates="filing", cascade="all, delete-orphan", order_by="FilingMaterial.id"
    )


class FilingInstitution(Base):
    """A designated institution of a special-disease filing (fix_srt_no = its order)."""

    __tablename__ = "filing_institution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_id: Mapped[str] = mapped_column(String(30), ForeignKey("filing.id"), index=True)
    fix_srt_no: Mapped[int] = mapped_column(Integer)
    fixmedins_code: Mapped[str] = mapped_column(String(12), ForeignKey("institution.fixmedins_code"))

    filing: Mapped[Filing] = relationship(back_populates="institutions")


class FilingMaterial(Base):
    """An uploaded proof: stored by content hash, with its size and checked type."""

    __tablename__ = "filing_material"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    filing_id: Mapped[str] = mapped_column(String(30), ForeignKey("filing.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # residence_proof, referral_proof, diagnosis, undertaking, …
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(50))

    filing: Mapped[Filing] = relationship(back_populates="materials")
