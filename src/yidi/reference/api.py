"""Read-only reference look-ups: divisions, pooling regions, classification, institutions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core.web import read_session
from yidi.reference.models import ChronicDisease, Institution, ServiceKind
from yidi.reference.rules import CrossRegion, divisions
from yidi.reference.service import get_institution, opened_services
from yidi.security.access import PUBLIC, SecureRouter

router = SecureRouter(prefix="/api/v1/reference", tags=["reference 参考数据"])
DbSession = Annotated[Session, Depends(read_session)]


class DivisionOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    province_code: str
    is_pooling_region: bool
    pooling_region: str | None  # None for a province that does not pool itself


class ClassifyOut(BaseModel):
    insured_region: str
    insured_pooling_region: str
    treatment_region: str
    treatment_pooling_region: str
    classification: CrossRegion
    label_zh: str


class DepartmentOut(BaseModel):
    dept_code: str
    dept_name: str
    caty: str


class ServiceOut(BaseModel):
    service: ServiceKind
    opsp_dise_code: str | None
    begndate: dt.date
    enddate: dt.date | None


class InstitutionOut(BaseModel):
    fixmedins_code: str
    fixmedins_name: str
    fixmedins_type: str
    admdvs: str
    pooling_region: str
    hosp_lv: str | None
    settlement_level: str
    networked: bool
    psychiatric_specialist: bool
    departments: list[DepartmentOut]
    services: list[ServiceOut]


class ChronicDiseaseOut(BaseModel):
    code: str
    name: str
    national_group: str | None
    group_name: str | None
    cross_province_from: dt.date | None


def _division_out(code: str) -> DivisionOut:
    d = divisions().require(code)
    return DivisionOut(
        code=d.code,
        name=d.name,
        level=d.level.value,
        parent=d.parent,
        province_code=d.province_code,
        is_pooling_region=d.is_pooling_region,
        pooling_region=None
        if d.level.value == "province" and not d.is_pooling_region
        else divisions().pooling_region_of(d.code).code,
    )


@router.get(
    "/divisions", access=PUBLIC, response_model=list[DivisionOut], summary="Provinces and prefectures (GB/T 2260)"
)
def list_divisions(
    pooling_only: bool = False, province: Annotated[str | None, Query(pattern=r"^[0-9]{2}0000$")] = None
) -> list[DivisionOut]:
    rows = [d for d in divisions() if (not pooling_only or d.is_pooling_region)]
    if province:
        rows = [d for d in rows if d.province_code == province]
    return [_division_out(d.code) for d in sorted(rows, key=lambda d: d.code)]


@router.get("/divisions/{code}", access=PUBLIC, response_model=DivisionOut)
def show_division(code: Annotated[str, Path(pattern=r"^[0-9]{6}$")]) -> DivisionOut:
    return _division_out(code)


@router.get("/classify", access=PUBLIC, response_model=ClassifyOut, summary="Local, in-province or cross-province")
def classify_regions(
    insured: Annotated[str, Query(pattern=r"^[0-9]{6}$", description="参保地区划")],
    treatment: Annotated[str, Query(pattern=r"^[0-9]{6}$", description="就医地区划")],
) -> ClassifyOut:
    idx = divisions()
    result = idx.classify(insured, treatment)
    return ClassifyOut(
        insured_region=insured,
        insured_pooling_region=idx.pooling_region_of(insured).code,
        treatment_region=treatment,
        treatment_pooling_region=idx.pooling_region_of(treatment).code,
        classification=result,
        label_zh=result.label_zh,
    )


@router.get("/chronic-diseases", access=PUBLIC, response_model=list[ChronicDiseaseOut])
def list_chronic_diseases(session: DbSession) -> list[ChronicDiseaseOut]:
    rows = session.scalars(select(ChronicDisease).order_by(ChronicDisease.code))
    return [ChronicDiseaseOut.model_validate(r, from_attributes=True) for r in rows]


def _institution_out(inst: Institution, on: dt.date | None) -> InstitutionOut:
    services = opened_services(inst, on) if on else inst.services
    return InstitutionOut(
        **{k: getattr(inst, k) for k in InstitutionOut.model_fields if k not in ("departments", "services")},
        departments=[DepartmentOut.model_validate(d, from_attributes=True) for d in inst.departments],
        services=[ServiceOut.model_validate(s, from_attributes=True) for s in services],
    )


@router.get("/institutions", access=PUBLIC, response_model=list[InstitutionOut], summary="Designated institutions")
def list_institutions(
    session: DbSession,
    pooling_region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[InstitutionOut]:
    stmt = select(Institution).order_by(Institution.fixmedins_code).limit(limit).offset(offset)
    if pooling_region:
        stmt = stmt.where(Institution.pooling_region == pooling_region)
    return [_institution_out(i, None) for i in session.scalars(stmt)]


@router.get("/institutions/{fixmedins_code}", access=PUBLIC, response_model=InstitutionOut)
def show_institution(
    session: DbSession,
    fixmedins_code: Annotated[str, Path(pattern=r"^[HP][0-9]{11}$")],
    on: Annotated[dt.date | None, Query(description="only services opened on this date")] = None,
) -> InstitutionOut:
    return _institution_out(get_institution(session, fixmedins_code), on)
