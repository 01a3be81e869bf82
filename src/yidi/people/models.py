"""Tables of insured persons (参保人员)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yidi.core.db import AwareDateTime, Base, Money
from yidi.reference import models as _reference_models  # noqa: F401 - the tables our foreign keys point at


class Person(Base):
    __tablename__ = "person"

    psn_no: Mapped[str] = mapped_column(String(30), primary_key=True)  # 人员编号
    psn_cert_type: Mapped[str] = mapped_column(String(2), default="01")
    # The ID number is kept encrypted; `certno_index` (a keyed hash) finds a person by it, `certno_masked`
    # is what answers and screens show. Only yidi.people.service.reveal_certno decrypts, and audits staff.
    certno_enc: Mapped[str] = mapped_column(String(200))
    certno_index: Mapped[str] = mapped_column(String(64), unique=True)
    certno_masked: Mapped[str] = mapped_column(String(50))
    psn_name: Mapped[str] = mapped_column(String(50))
    gend: Mapped[str] = mapped_column(String(1))  # 1 男, 2 女, 9 未说明
    naty: Mapped[str | None] = mapped_column(String(3))  # 民族 (GB 3304: 01 汉族 …), when the agency recorded it
    brdy: Mapped[dt.date] = mapped_column(Date)
    tel: Mapped[str | None] = mapped_column(String(20))
    addr: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)

    insurances: Mapped[list[Insurance]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Insurance.id"
    )
    qualifications: Mapped[list[ChronicQualification]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="ChronicQualification.id"
    )


class Insurance(Base):
    """One insurance record (参保信息): scheme, insured pooling region, person type and status."""

    __tablename__ = "insurance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"), index=True)
    insutype: Mapped[str] = mapped_column(String(3))  # 310 职工, 390 城乡居民
    insuplc_admdvs: Mapped[str] = mapped_column(String(6), ForeignKey("division.code"), index=True)
    psn_type: Mapped[str] = mapped_column(String(10))  # 1101 在职, 1201 退休, 1501 居民 …
    psn_insu_stas: Mapped[str] = mapped_column(String(1), default="1")  # 1 正常参保
    retiree: Mapped[bool] = mapped_column(Boolean, default=False)
    civil_servant: Mapped[bool] = mapped_column(Boolean, default=False)
    emp_name: Mapped[str | None] = mapped_column(String(200))
    begndate: Mapped[dt.date] = mapped_column(Date)
    enddate: Mapped[dt.date | None] = mapped_column(Date)
    balc: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))  # personal account balance

    person: Mapped[Person] = relationship(back_populates="insurances")


class ChronicQualification(Base):
    """门诊慢特病待遇资格: recognised by the insured place for one disease, valid for a period."""

    __tablename__ = "chronic_qualification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(String(30), ForeignKey("person.psn_no"), index=True)
    insutype: Mapped[str] = mapped_column(String(3))
    opsp_dise_code: Mapped[str] = mapped_column(String(6), ForeignKey("chronic_disease.code"))
    begndate: Mapped[dt.date] = mapped_column(Date)
    enddate: Mapped[dt.date] = mapped_column(Date)
    ide_fixmedins_no: Mapped[str | None] = mapped_column(String(12))  # institution that qualified it
    status: Mapped[str] = mapped_column(String(12), default="active")

    person: Mapped[Person] = relationship(back_populates="qualifications")
