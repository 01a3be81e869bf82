"""Load the synthetic demo data. Idempotent: rows that already exist are left alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yidi.catalog.models import CatalogItem
from yidi.catalog.service import import_catalog
from yidi.core import audit
from yidi.core.errors import INVALID_DATA_FILE, YidiError
from yidi.core.principal import Role
from yidi.people.models import Person
from yidi.people.schemas import PersonIn
from yidi.people.service import add_person
from yidi.reference.models import Institution
from yidi.reference.schemas import InstitutionIn
from yidi.reference.service import add_institution
from yidi.security.models import InstitutionCredential, StaffUser
from yidi.security.service import add_credential, add_staff, set_person_password
from yidi.security.signing import Scheme


class DemoStaff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    display_name: str
    roles: list[Role]
    regions: list[str]
    password: str


class DemoCredential(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fixmedins_code: str
    key_id: str
    scheme: Scheme
    key_material: str


class DemoAccounts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_password: str
    staff: list[DemoStaff]
    institution_credentials: list[DemoCredential]


class DemoFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    institutions: list[InstitutionIn]
    persons: list[PersonIn]
    accounts: DemoAccounts


@dataclass(frozen=True)
class DemoLoadResult:
    institutions_added: int
    institutions_present: int
    persons_added: int
    persons_present: int
    catalog_items_added: int = 0
    accounts_added: int = 0


def read_demo_file() -> DemoFile:
    source = "yidi/demo/data/demo.yaml"
    raw: Any = yaml.safe_load(resources.files("yidi.demo").joinpath("data/demo.yaml").read_text(encoding="utf-8"))
    try:
        return DemoFile.model_validate(raw)
    except ValidationError as exc:
        raise YidiError(INVALID_DATA_FILE, path=source, reason=str(exc)) from exc


def load_demo_catalogues(session: Session, now: dt.datetime, actor: str) -> int:
    """Import each shipped demo catalogue into a region whose catalogue is still empty."""
    added = 0
    folder = resources.files("yidi.catalog").joinpath("data")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".csv"):
            continue
        region = entry.name.removesuffix(".csv")
        if session.scalar(select(func.count()).select_from(CatalogItem).where(CatalogItem.region == region)):
            continue
        report = import_catalog(session, region, f"demo/{entry.name}", entry.read_bytes(), actor=actor, now=now)
        added += report.added
    return added


def demo_key_id(fixmedins_code: str) -> str:
    return f"{fixmedins_code}-demo"


def demo_secret(fixmedins_code: str) -> str:
    return f"demo-secret-{fixmedins_code}"


def demo_paasid(fixmedins_code: str) -> str:
    """The demo institution's credential for the national signing scheme (x-tif-paasid)."""
    return f"{fixmedins_code}-tif"


def demo_token(fixmedins_code: str) -> str:
    return f"demo-token-{fixmedins_code}"


def _load_accounts(
    session: Session, demo: DemoFile, new_inst: list[InstitutionIn], new_psn: list[PersonIn], now: dt.datetime
) -> int:
    """Sign-in for the demo: persons and institutions added in this load, staff not yet present."""
    added = 0
    for p in new_psn:
        set_person_password(session, p.psn_no, demo.accounts.person_password, now)
        added += 1
    for i in new_inst:
        add_credential(
            session,
            i.fixmedins_code,
            demo_key_id(i.fixmedins_code),
            Scheme.HMAC_SHA256,
            demo_secret(i.fixmedins_code),
            now,
        )
        added += 1
    # The national gateway's scheme too, so that an HIS written for the national platform connects unchanged; also
    # for demo institutions loaded before these credentials existed (a demo database from an earlier version).
    new_codes = {i.fixmedins_code for i in new_inst}
    for i in demo.institutions:
        key_id = demo_paasid(i.fixmedins_code)
        present = i.fixmedins_code in new_codes or session.get(Institution, i.fixmedins_code) is not None
        if present and session.get(InstitutionCredential, key_id) is None:
            add_credential(session, i.fixmedins_code, key_id, Scheme.NATIONAL, demo_token(i.fixmedins_code), now)
            added += 1
    for c in demo.accounts.institution_credentials:
        if c.fixmedins_code in new_codes:
            add_credential(session, c.fixmedins_code, c.key_id, c.scheme, c.key_material, now)
            added += 1
    for st in demo.accounts.staff:
        if session.get(StaffUser, st.username) is None:
            add_staff(session, st.username, st.display_name, st.password, set(st.roles), set(st.regions), now)
            added += 1
    return added


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Institution)) and not session.scalar(
        select(func.count()).select_from(Person)
    )


def load_demo(session: Session, now: dt.datetime, actor: str = "system") -> DemoLoadResult:
    demo = read_demo_file()
    have_inst = set(session.scalars(select(Institution.fixmedins_code)))
    have_psn = set(session.scalars(select(Person.psn_no)))
    new_inst = [i for i in demo.institutions if i.fixmedins_code not in have_inst]
    new_psn = [p for p in demo.persons if p.psn_no not in have_psn]
    for i in new_inst:
        add_institution(session, i)
    session.flush()
    for p in new_psn:
        add_person(session, p, now)
    session.flush()
    items = load_demo_catalogues(session, now, actor)
    accounts = _load_accounts(session, demo, new_inst, new_psn, now)
    result = DemoLoadResult(
        len(new_inst),
        len(demo.institutions) - len(new_inst),
        len(new_psn),
        len(demo.persons) - len(new_psn),
        items,
        accounts,
    )
    audit.record(
        session,
        at=now,
        actor_type="system",
        actor_id=actor,
        channel="cli",
        action="demo.load",
        entity_type="demo",
        entity_id="demo.yaml",
        after=result.__dict__,
    )
    return result
