"""Tables of reference data: divisions, chronic-disease codes, designated institutions."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yidi.core.db import Base


class SettlementLevel(StrEnum):
    """医保结算等级: the level the insured place's ratio is keyed by (not the hospital grade)."""

    LEVEL_1 = "level_1"  # 一级
    LEVEL_2 = "level_2"  # 二级
    LEVEL_3 = "level_3"  # 三级
    UNRATED = "unrated"  # 未定级

    @property
    def label_zh(self) -> str:
        return {"level_1": "一级", "level_2": "二级", "level_3": "三级", "unrated": "未定级"}[self.value]


class ServiceKind(StrEnum):
    """Services an institution has opened for cross-region direct settlement."""

    INPATIENT = "inpatient"  # 住院
    OUTPATIENT = "outpatient"  # 普通门诊
    CHRONIC = "chronic"  # 门诊慢特病 (one row per disease)
    PHARMACY = "pharmacy"  # 购药


class DivisionRow(Base):
    __tablename__ = "division"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("division.code"))
    is_pooling_region: Mapped[bool] = mapped_column(Boolean, default=False)


class ChronicDisease(Base):
    """门诊慢特病 disease codes (M + 5 digits) and their national cross-province group."""

    __tablename__ = "chronic_disease"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    national_group: Mapped[str | None] = mapped_column(String(40))
    group_name: Mapped[str | None] = mapped_column(String(50))
    cross_province_from: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200), default="")


class Institution(Base):
    """A designated institution (定点医药机构): hospital (H…) or pharmacy (P…)."""

    __tablename__ = "institution"

    fixmedins_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    fixmedins_name: Mapped[str] = mapped_column(String(200))
    fixmedins_type: Mapped[str] = mapped_column(String(1))  # 1 医疗机构, 2 零售药店
    admdvs: Mapped[str] = mapped_column(String(6))  # county-level location
    pooling_region: Mapped[str] = mapped_column(String(6), ForeignKey("division.code"), index=True)
    hosp_lv: Mapped[str | None] = mapped_column(String(20))  # hospital grade, e.g. 三级甲等
    settlement_level: Mapped[str] = mapped_column(String(10))  # SettlementLevel
    networked: Mapped[bool] = mapped_column(Boolean, default=True)  # 联网 for cross-region settlement
    psychiatric_specialist: Mapped[bool] = mapped_column(Boolean, default=False)
    uscc: Mapped[str | None] = mapped_column(String(18))

    departments: Mapped[list[InstitutionDepartment]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by="InstitutionDepartment.dept_code"
    )
    services: Mapped[list[InstitutionService]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by="InstitutionService.id"
    )


class InstitutionDepartment(Base):
    __tablename__ = "institution_department"
    __table_args__ = (UniqueConstraint("fixmedins_code", "dept_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), ForeignKey("institution.fixmedins_code"))
    dept_code: Mapped[str] = mapped_column(String(30))
    dept_name: Mapped[str] = mapped_column(String(100))
    caty: Mapped[str] = mapped_column(String(10))  # 科别 (national department category, e.g. A03 内科)

    institution: Mapped[Institution] = relationship(back_populates="departments")


class InstitutionService(Base):
    """A service opened for cross-region direct settlement, from `begndate` (to `enddate`)."""

    __tablename__ = "institution_service"
    __table_args__ = (UniqueConstraint("fixmedins_code", "service", "opsp_dise_code", "begndate"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), ForeignKey("institution.fixmedins_code"), index=True)
    service: Mapped[str] = mapped_column(String(12))  # ServiceKind
    opsp_dise_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("chronic_disease.code"))
    begndate: Mapped[dt.date] = mapped_column(Date)
    enddate: Mapped[dt.date | None] = mapped_column(Date)

    institution: Mapped[Institution] = relationship(back_populates="services")
