"""Insured persons' records: the person's own view and the agency staff's view (scoped to their regions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from yidi.core import clock
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.principal import Audience, Principal
from yidi.core.web import database
from yidi.people.models import Person
from yidi.people.service import find_by_certno, get_person, insured_regions, reveal_certno
from yidi.security.access import CurrentPrincipal, SecureRouter, allow

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
    person = get_person(session, psn_no)
    if not principal.regions & insured_regions(person):
        # Same answer as for an unknown person: staff of other regions learn nothing about who exists.
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    return _out(session, person, principal, "staff lookup")


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
    if person is None or not principal.regions & insured_regions(person):
        return []
    return [_out(session, person, principal, "staff search by ID number")]
