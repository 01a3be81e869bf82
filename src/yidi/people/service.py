"""Use cases for insured persons."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from yidi.core import audit
from yidi.core.certno import mask_certno, validate_certno
from yidi.core.errors import INVALID_FIELD, NOT_FOUND, ErrorKind, YidiError
from yidi.core.principal import Audience, Principal
from yidi.people.models import ChronicQualification, Insurance, Person
from yidi.people.schemas import InsuranceIn, PersonIn, QualificationIn
from yidi.reference.models import ChronicDisease, Institution
from yidi.reference.rules import divisions
from yidi.security import service as security
from yidi.security.crypto import default_cipher
from yidi.security.service import Login

_CERTNO_CONTEXT = "person.certno"
DUPLICATE = ErrorKind(
    "E_DUPLICATE", "参保人员{key}或其身份证号已登记", "person {key} or the ID number is already registered", 409
)


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
        naty=data.naty,
        brdy=data.brdy,
        tel=data.tel,
        addr=data.addr,
        created_at=now,
    )
    person.insurances = [Insurance(**i.model_dump()) for i in data.insurances]
    person.qualifications = [ChronicQualification(**q.model_dump()) for q in data.qualifications]
    session.add(person)
    return person


def age_on(brdy: dt.date, day: dt.date) -> int:
    """Age in whole years on `day` (a person born on 29 February turns a year older on 1 March)."""
    return day.year - brdy.year - ((day.month, day.day) < (brdy.month, brdy.day))


def get_person(session: Session, psn_no: str) -> Person:
    stmt = (  # one query: a person has a few insurances and qualifications
        select(Person)
        .where(Person.psn_no == psn_no)
        .options(joinedload(Person.insurances), joinedload(Person.qualifications))
    )
    person = session.execute(stmt).unique().scalar_one_or_none()
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    return person


def find_by_certno(session: Session, certno: str) -> Person | None:
    return session.scalar(select(Person).where(Person.certno_index == certno_index(certno)))


def login_person(session: Session, account_id: str, password: str, now: dt.datetime, client: str) -> Login | None:
    """Sign in by psn_no or ID number (18 characters). Returns None on a wrong password (the caller commits the
    counters); the sign-in itself (throttle, lockout, session) is yidi.security.service's."""

    def identify() -> str | None:
        person = session.get(Person, account_id) if len(account_id) != 18 else find_by_certno(session, account_id)
        return person.psn_no if person else None

    return security.login_person(session, identify, password, now, client)


def insured_regions(person: Person) -> set[str]:
    return {i.insuplc_admdvs for i in person.insurances}


def staff_may_see(principal: Principal, person: Person) -> bool:
    """Staff see the persons insured in one of their regions."""
    return bool(principal.regions & insured_regions(person))


def require_staff_region(principal: Principal, person: Person) -> None:
    """A staff member of another region is told the person does not exist: the same answer as for an unknown
    person, so staff learn nothing about who is insured elsewhere."""
    if not staff_may_see(principal, person):
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=person.psn_no)


def person_for_staff(session: Session, principal: Principal, psn_no: str) -> Person:
    """A person's record for a staff member of their insured region (anyone else: not found)."""
    person = get_person(session, psn_no)
    require_staff_region(principal, person)
    return person


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


def _staff_scope(principal: Principal, regions: set[str]) -> None:
    if principal.audience is Audience.SYSTEM:
        return
    if not principal.is_staff or not principal.regions & regions:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=",".join(sorted(regions)))


def check_insurance(data: InsuranceIn, field: str = "insuplc_admdvs") -> None:
    """The insured place must be a pooling region of GB/T 2260 (refused by name, not by the database)."""
    division = divisions().get(data.insuplc_admdvs)
    if division is None or not division.is_pooling_region:
        raise YidiError(
            INVALID_FIELD,
            field=field,
            problem=f"{data.insuplc_admdvs} is not a pooling region code / 不是统筹区代码",
        )


def check_qualification(session: Session, data: QualificationIn, prefix: str = "") -> None:
    """The disease must be a known 门诊慢特病 code and the identifying institution a known one: an unknown code is
    the caller's mistake (refused naming the field), never a database error nor a "conflict, retry"."""
    if session.get(ChronicDisease, data.opsp_dise_code) is None:
        raise YidiError(
            INVALID_FIELD,
            field=prefix + "opsp_dise_code",
            problem=f"{data.opsp_dise_code} is not a known chronic-disease code / 未知的门诊慢特病病种代码",
        )
    if data.ide_fixmedins_no is not None and session.get(Institution, data.ide_fixmedins_no) is None:
        raise YidiError(
            INVALID_FIELD,
            field=prefix + "ide_fixmedins_no",
            problem=f"{data.ide_fixmedins_no} is not a known designated institution / 未知的定点医药机构",
        )


def register_person(session: Session, principal: Principal, data: PersonIn, now: dt.datetime) -> Person:
    """Agency staff enrol a person of their own region (insurance records included)."""
    for i, ins in enumerate(data.insurances):
        check_insurance(ins, f"insurances.{i}.insuplc_admdvs")
        principal.require_region(ins.insuplc_admdvs)
    for i, q in enumerate(data.qualifications):
        check_qualification(session, q, f"qualifications.{i}.")
    if session.get(Person, data.psn_no) is not None or find_by_certno(session, data.certno) is not None:
        raise YidiError(DUPLICATE, key=data.psn_no)
    person = add_person(session, data, now)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_type="staff",
        actor_id=principal.subject,
        channel="counter",
        action="person.register",
        entity_type="person",
        entity_id=person.psn_no,
        after={"insurances": [i.insuplc_admdvs + "/" + i.insutype for i in data.insurances]},
    )
    return person


def set_insurance_status(
    session: Session,
    principal: Principal,
    psn_no: str,
    insutype: str,
    psn_insu_stas: str,
    enddate: dt.date | None,
    now: dt.datetime,
) -> Insurance:
    person = get_person(session, psn_no)
    _staff_scope(principal, insured_regions(person))
    insurance = next((i for i in person.insurances if i.insutype == insutype), None)
    if insurance is None:
        raise YidiError(NOT_FOUND, what="参保记录 / insurance record", key=f"{psn_no}/{insutype}")
    before = {
        "psn_insu_stas": insurance.psn_insu_stas,
        "enddate": str(insurance.enddate) if insurance.enddate else None,
    }
    insurance.psn_insu_stas, insurance.enddate = psn_insu_stas, enddate
    audit.record(
        session,
        at=now,
        actor_type="staff",
        actor_id=principal.subject,
        channel="counter",
        action="insurance.status",
        entity_type="person",
        entity_id=psn_no,
        before=before,
        after={"psn_insu_stas": psn_insu_stas, "enddate": str(enddate) if enddate else None},
    )
    return insurance


def add_qualification(
    session: Session, principal: Principal, psn_no: str, data: QualificationIn, now: dt.datetime
) -> ChronicQualification:
    """Record an outpatient chronic/special-disease qualification recognised by the insured region."""
    _staff_scope(principal, insured_regions(get_person(session, psn_no)))
    return record_qualification(session, principal, psn_no, data, now, channel="counter")


def record_qualification(
    session: Session, principal: Principal, psn_no: str, data: QualificationIn, now: dt.datetime, *, channel: str
) -> ChronicQualification:
    """Store a qualification and audit it; the caller has decided who may (staff of the region, a hospital)."""
    if session.get(Person, psn_no) is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    check_qualification(session, data)
    q = ChronicQualification(psn_no=psn_no, status="active", **data.model_dump())
    session.add(q)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_type=principal.audience.value,
        actor_id=principal.subject,
        channel=channel,
        action="qualification.add",
        entity_type="chronic_qualification",
        entity_id=str(q.id),
        after={"psn_no": psn_no, **data.model_dump(mode="json")},
    )
    return q


def end_qualification(
    session: Session, principal: Principal, psn_no: str, qualification_id: int, enddate: dt.date, now: dt.datetime
) -> ChronicQualification:
    person = get_person(session, psn_no)
    _staff_scope(principal, insured_regions(person))
    q = next((q for q in person.qualifications if q.id == qualification_id), None)
    if q is None:
        raise YidiError(NOT_FOUND, what="待遇资格 / qualification", key=str(qualification_id))
    before = {"enddate": str(q.enddate), "status": q.status}
    q.enddate = min(q.enddate, enddate)
    q.status = "ended" if enddate < now.date() else q.status
    audit.record(
        session,
        at=now,
        actor_type="staff",
        actor_id=principal.subject,
        channel="counter",
        action="qualification.end",
        entity_type="chronic_qualification",
        entity_id=str(q.id),
        before=before,
        after={"enddate": str(q.enddate), "status": q.status},
    )
    return q
