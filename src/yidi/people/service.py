"""Use cases for insured persons."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from yidi.core import audit
from yidi.core.certno import mask_certno, validate_certno
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.principal import Principal
from yidi.people.models import ChronicQualification, Insurance, Person
from yidi.people.schemas import PersonIn
from yidi.security.crypto import default_cipher

_CERTNO_CONTEXT = "person.certno"


def certno_index(certno: str) -> str:
    return default_cipher().blind_index(validate_certno(certno), _CERTNO_CONTEXT)


def add_person(session: Session, data: PersonIn, now: dt.datetime) -> Person:
    assert data.brdy is not None and data.gend is not None  # derived by the schema
    person = Person(
        psn_no=data.psn_no,
        psn_cert_type=data.psn_cert_type,
        certno_enc=default_cipher().encrypt(data.certno, _CERTNO_CONTEXT),
        certno_index=certno_index(data.certno),
        certno_masked=mask_certno(data.certno),
        psn_name=data.psn_name,
        gend=data.gend,
        brdy=data.brdy,
        tel=data.tel,
        addr=data.addr,
        created_at=now,
    )
    person.insurances = [Insurance(**i.model_dump()) for i in data.insurances]
    person.qualifications = [ChronicQualification(**q.model_dump()) for q in data.qualifications]
    session.add(person)
    return person


def get_person(session: Session, psn_no: str) -> Person:
    person = session.scalar(
        select(Person)
        .where(Person.psn_no == psn_no)
        .options(selectinload(Person.insurances), selectinload(Person.qualifications))
    )
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    return person


def find_by_certno(session: Session, certno: str) -> Person | None:
    return session.scalar(select(Person).where(Person.certno_index == certno_index(certno)))


def insured_regions(person: Person) -> set[str]:
    return {i.insuplc_admdvs for i in person.insurances}


def reveal_certno(session: Session, person: Person, principal: Principal, now: dt.datetime, purpose: str) -> str:
    """The full ID number for someone entitled to it, else the mask. Staff reads are audited."""
    if not principal.may_see_full_certno(person.psn_no, insured_regions(person)):
        return person.certno_masked
    if principal.is_staff:
        audit.record(
            session,
            at=now,
            actor_type="staff",
            actor_id=principal.subject,
            channel="api",
            action="person.certno.read",
            entity_type="person",
            entity_id=person.psn_no,
            after={"purpose": purpose},
        )
    return default_cipher().decrypt(person.certno_enc, _CERTNO_CONTEXT)
