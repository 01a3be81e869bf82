"""Insured persons' records: the person's own view and the agency staff's view (scoped to their regions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from yidi.core import clock
from yidi.core.principal import Audience, Principal
from yidi.core.web import database
from yidi.people.models import Person
from yidi.people.schemas import PersonIn, QualificationIn
from yidi.people.service import (
    add_qualification,
    end_qualification,
    find_by_certno,
    get_person,
    login_person,
    person_for_staff,
    register_person,
    reveal_certno,
    set_insurance_status,
    staff_may_see,
)
from yidi.security.access import PUBLIC, CurrentPrincipal, SecureRouter, allow
from yidi.security.api import LoginOut, sign_in

router = SecureRouter(prefix="/api/v1", tags=["persons 参保人员"])


class InsuranceOut(BaseModel):
    insutype: str
    insuplc_admdvs: str
    psn_type: str
    psn_insu_stas: str
    retiree: bool
    begndate: dt.date
    enddate: dt.date | None
    balc: Decimal


class QualificationOut(BaseModel):
    id: int
    opsp_dise_code: str
    insutype: str
    begndate: dt.date
    enddate: dt.date
    status: str


class PersonOut(BaseModel):
    psn_no: str
    psn_name: str
    certno: str  # full for the person and their agency, masked for anyone else
    gend: str
    brdy: dt.date
    insurances: list[InsuranceOut]
    qualifications: list[QualificationOut]


def _out(session: Session, person: Person, principal: Principal, purpose: str) -> PersonOut:
    return PersonOut(
        psn_no=person.psn_no,
        psn_name=person.psn_name,
        gend=person.gend,
        brdy=person.brdy,
        certno=reveal_certno(session, person, principal, clock.now(), purpose),
        insurances=[InsuranceOut.model_validate(i, from_attributes=True) for i in person.insurances],
        qualifications=[QualificationOut.model_validate(q, from_attributes=True) for q in person.qualifications],
    )


def _uow(request: Request):  # type: ignore[no-untyped-def]
    with database(request).unit_of_work() as session:
        yield session


Uow = Annotated[Session, Depends(_uow)]
PsnNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,30}$")]


class PersonLoginIn(BaseModel):
    account: Annotated[str, Field(min_length=1, max_length=30, description="psn_no or ID number")]
    password: Annotated[str, Field(min_length=1, max_length=128)]


@router.post(
    "/auth/person/login",
    access=PUBLIC,
    response_model=LoginOut,
    summary="Insured person signs in",
    tags=["auth 登录"],
)
async def person_login(request: Request, body: PersonLoginIn) -> LoginOut:
    account = body.account.strip()
    return await sign_in(
        request,
        Audience.PERSON,
        account,
        lambda session, now, client: login_person(session, account, body.password, now, client),
    )


@router.get("/persons/me", access=allow(Audience.PERSON), response_model=PersonOut, summary="My own record")
def my_record(session: Uow, principal: CurrentPrincipal) -> PersonOut:
    return _out(session, get_person(session, principal.subject), principal, "self")


@router.get(
    "/staff/persons/{psn_no}",
    access=allow(Audience.STAFF),
    response_model=PersonOut,
    summary="A person insured in one of your regions (the read is audited)",
)
def staff_person(
    session: Uow, principal: CurrentPrincipal, psn_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,30}$")]
) -> PersonOut:
    return _out(session, person_for_staff(session, principal, psn_no), principal, "staff lookup")


@router.get(
    "/staff/persons",
    access=allow(Audience.STAFF),
    response_model=list[PersonOut],
    summary="Find a person of your regions by ID number",
)
def staff_find_person(
    session: Uow, principal: CurrentPrincipal, certno: Annotated[str, Query(min_length=18, max_length=18)]
) -> list[PersonOut]:
    person = find_by_certno(session, certno)
    if person is None or not staff_may_see(principal, person):
        return []
    return [_out(session, person, principal, "staff search by ID number")]


class InsuranceStatusIn(BaseModel):
    psn_insu_stas: Annotated[str, Field(pattern=r"^[0-4]$")]
    enddate: dt.date | None = None


class EndQualificationIn(BaseModel):
    enddate: dt.date


@router.post(
    "/staff/persons",
    access=allow(Audience.STAFF),
    response_model=PersonOut,
    status_code=201,
    summary="Register an insured person of your region",
)
def register(session: Uow, principal: CurrentPrincipal, body: PersonIn) -> PersonOut:
    person = register_person(session, principal, body, clock.now())
    return _out(session, get_person(session, person.psn_no), principal, "registration")


@router.put(
    "/staff/persons/{psn_no}/insurances/{insutype}/status",
    access=allow(Audience.STAFF),
    response_model=InsuranceOut,
    summary="Change an insurance record's status",
)
def insurance_status(
    session: Uow,
    principal: CurrentPrincipal,
    psn_no: PsnNo,
    insutype: Annotated[str, Path(pattern=r"^3[0-9]{2}$")],
    body: InsuranceStatusIn,
) -> InsuranceOut:
    ins = set_insurance_status(session, principal, psn_no, insutype, body.psn_insu_stas, body.enddate, clock.now())
    return InsuranceOut.model_validate(ins, from_attributes=True)


@router.post(
    "/staff/persons/{psn_no}/qualifications",
    access=allow(Audience.STAFF),
    response_model=QualificationOut,
    status_code=201,
    summary="Record a chronic-disease qualification",
)
def qualification_add(
    session: Uow, principal: CurrentPrincipal, psn_no: PsnNo, body: QualificationIn
) -> QualificationOut:
    return QualificationOut.model_validate(
        add_qualification(session, principal, psn_no, body, clock.now()), from_attributes=True
    )


@router.post(
    "/staff/persons/{psn_no}/qualifications/{qualification_id}/end",
    access=allow(Audience.STAFF),
    response_model=QualificationOut,
    summary="End a chronic-disease qualification",
)
def qualification_end(
    session: Uow,
    principal: CurrentPrincipal,
    psn_no: PsnNo,
    qualification_id: Annotated[int, Path(ge=1, le=2**62)],
    body: EndQualificationIn,
) -> QualificationOut:
    q = end_qualification(session, principal, psn_no, qualification_id, body.enddate, clock.now())
    return QualificationOut.model_validate(q, from_attributes=True)
