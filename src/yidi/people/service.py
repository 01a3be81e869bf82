"""Use cases for insured persons."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from yidi.core.errors import NOT_FOUND, YidiError
from yidi.people.models import ChronicQualification, Insurance, Person
from yidi.people.schemas import PersonIn


def add_person(session: Session, data: PersonIn, now: dt.datetime) -> Person:
    assert data.brdy is not None and data.gend is not None  # derived by the schema
    person = Person(
        psn_no=data.psn_no,
        psn_cert_type=data.psn_cert_type,
        certno=data.certno,
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
    return session.scalar(select(Person).where(Person.certno == certno))
