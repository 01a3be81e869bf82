"""Use cases over reference data: keep the tables in step with the shipped files, look things up."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import weakref
from importlib import resources
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, selectinload

from yidi.core.config import get_settings
from yidi.core.errors import INVALID_IDENTIFIER, NOT_FOUND, YidiError
from yidi.reference.models import (
    ChronicDisease,
    DivisionRow,
    Institution,
    InstitutionDepartment,
    InstitutionService,
    ServiceKind,
)
from yidi.reference.rules import divisions
from yidi.reference.schemas import InstitutionIn


def _chronic_rows() -> list[dict[str, str]]:
    text = resources.files("yidi.reference").joinpath("data/chronic_diseases.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def sync_reference_data(session: Session) -> dict[str, int]:
    """Upsert divisions and chronic-disease codes from the shipped files. Idempotent.

    Rows are never deleted: institutions and insurance records may still point at a division that a
    later edition of GB/T 2260 retired.
    """
    existing = {row.code: row for row in session.scalars(select(DivisionRow))}
    changed = 0
    # Parents first so the self-referencing foreign key holds on every insert.
    for d in sorted(divisions(), key=lambda d: (d.parent is not None, d.code)):
        values = dict(name=d.name, level=d.level.value, parent_code=d.parent, is_pooling_region=d.is_pooling_region)
        row = existing.get(d.code)
        if row is None:
            session.add(DivisionRow(code=d.code, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
        if row is None and d.parent is None:
            session.flush()
    session.flush()
    diseases = {row.code: row for row in session.scalars(select(ChronicDisease))}
    for r in _chronic_rows():
        values = dict(
            name=r["name"],
            national_group=r["national_group"] or None,
            group_name=r["group_name"] or None,
            cross_province_from=dt.date.fromisoformat(r["cross_province_from"]) if r["cross_province_from"] else None,
            source=r["source"],
        )
        disease = diseases.get(r["code"])
        if disease is None:
            session.add(ChronicDisease(code=r["code"], **values))
            changed += 1
        elif any(getattr(disease, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(disease, k, v)
            changed += 1
    session.flush()
    return {"divisions": len(divisions()), "chronic_diseases": len(_chronic_rows()), "changed": changed}


def get_institution(session: Session, fixmedins_code: str) -> Institution:
    """The institution with its departments and services, for reading.

    Every gateway call needs it, so each process keeps it for `reference_cache_seconds` (detached, never
    written through). A change made in this process clears the copy when it commits; another process's change
    is seen within that time.
    """
    # An institution this session already holds (perhaps changed, not yet committed) is used as it is.
    in_session = inspect(Institution).identity_key_from_primary_key((fixmedins_code,)) in session.identity_map
    engine = session.get_bind()
    cache = _institutions.setdefault(engine, {})
    kept = None if in_session or session.info.get(_TOUCHED) else cache.get(fixmedins_code)
    if kept is not None and time.monotonic() - kept[0] < get_settings().reference_cache_seconds:
        return kept[1]
    generation, loaded_at = _generation.get(engine, 0), time.monotonic()
    institution = session.scalar(
        select(Institution)
        .where(Institution.fixmedins_code == fixmedins_code)
        .options(selectinload(Institution.departments), selectinload(Institution.services))
    )
    if institution is None:
        raise YidiError(NOT_FOUND, what="定点医药机构 / institution", key=fixmedins_code)
    if not in_session and not session.info.get(_TOUCHED):
        session.expunge(institution)  # with its departments and services (cascade "all")
        if _generation.get(engine, 0) == generation:  # no change committed or flushed meanwhile in this process
            cache[fixmedins_code] = (loaded_at, institution)
    return institution


# Process-wide copies of institutions per database (engine), and the listeners that clear them on a change.
_institutions: weakref.WeakKeyDictionary[Any, dict[str, tuple[float, Institution]]] = weakref.WeakKeyDictionary()
_generation: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_TOUCHED = "institutions_touched"
_INSTITUTION_TYPES = (Institution, InstitutionDepartment, InstitutionService)


@event.listens_for(Session, "after_flush")
def _note_institution_change(session: Session, _context: Any) -> None:
    if any(isinstance(o, _INSTITUTION_TYPES) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_TOUCHED] = True
        _forget(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, transaction: Any) -> None:
    # Only the outermost transaction: a savepoint's end (released or rolled back) leaves the change pending.
    if transaction.parent is None and session.info.pop(_TOUCHED, False):
        _forget(session)


def _forget(session: Session) -> None:
    forget_institutions(session.get_bind())


def forget_institutions(engine: Any) -> None:
    """Drop this process's copies for a database: after changing institutions other than through the ORM."""
    _generation[engine] = _generation.get(engine, 0) + 1
    _institutions.pop(engine, None)


def opened_services(institution: Institution, on: dt.date) -> list[InstitutionService]:
    return [s for s in institution.services if s.begndate <= on and (s.enddate is None or on <= s.enddate)]


def is_opened(institution: Institution, service: ServiceKind, on: dt.date, disease: str | None = None) -> bool:
    """Whether the institution is connected for this service (and disease) on the date."""
    if not institution.networked:
        return False
    return any(
        s.service == service.value and (service is not ServiceKind.CHRONIC or s.opsp_dise_code == disease)
        for s in opened_services(institution, on)
    )


def add_institution(session: Session, data: InstitutionIn) -> Institution:
    from yidi.reference.models import InstitutionDepartment

    divisions().pooling_region_of(data.admdvs)  # refuses an unknown location
    pooling = divisions().require(data.pooling_region)
    if not pooling.is_pooling_region or divisions().pooling_region_of(data.admdvs).code != pooling.code:
        raise YidiError(
            INVALID_IDENTIFIER,
            name="pooling_region",
            value=data.pooling_region,
            reason=f"admdvs {data.admdvs} is not in this pooling region / 所在地不属于该统筹区",
        )
    institution = Institution(**data.model_dump(exclude={"departments", "services", "settlement_level"}))
    institution.settlement_level = data.settlement_level.value
    institution.departments = [InstitutionDepartment(**d.model_dump()) for d in data.departments]
    institution.services = [
        InstitutionService(**s.model_dump(exclude={"service"}), service=s.service.value) for s in data.services
    ]
    session.add(institution)
    return institution
