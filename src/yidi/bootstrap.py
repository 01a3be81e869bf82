"""Bring a database to the current schema and reference data; optionally seed the demo. The start-up checks
that every way of serving (`yidi serve`, its workers, `uvicorn --factory yidi.app:serve_app`) runs first."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from yidi.core import clock, migrate
from yidi.core.config import Settings, get_settings
from yidi.core.db import Database
from yidi.demo.service import DemoLoadResult, demo_key_id, demo_paasid, is_empty, load_demo, read_demo_file
from yidi.reference.service import sync_reference_data

log = logging.getLogger("yidi.bootstrap")


class StartupRefused(Exception):
    """The platform must not start as configured; `problems` are each in Chinese and English.

    Entry points print `str()` and exit with status 2 (a configuration error: restarting cannot help).
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"拒绝启动 / refusing to start: {p}" for p in problems))


def demo_data_problems(db: Database) -> list[str]:
    """Demo accounts in the database: their passwords and institution keys are published with the code."""
    from yidi.people.models import Person
    from yidi.security.models import InstitutionCredential, StaffUser

    demo = read_demo_file()
    key_ids = {demo_key_id(i.fixmedins_code) for i in demo.institutions}
    key_ids |= {demo_paasid(i.fixmedins_code) for i in demo.institutions}
    key_ids |= {c.key_id for c in demo.accounts.institution_credentials}
    # A staff user counts only with the demo's name and display name: a real deployment may well have "admin".
    staff = {(s.username, s.display_name) for s in demo.accounts.staff}
    with db.read_only() as session:
        credentials = session.scalar(
            select(func.count())
            .select_from(InstitutionCredential)
            .where(InstitutionCredential.key_id.in_(key_ids), InstitutionCredential.active.is_(True))
        )
        users = session.execute(
            select(StaffUser.username, StaffUser.display_name).where(
                StaffUser.username.in_({u for u, _ in staff}), StaffUser.active.is_(True)
            )
        ).all()
        persons = session.scalar(
            select(func.count()).select_from(Person).where(Person.psn_no.in_({p.psn_no for p in demo.persons}))
        )
    demo_users = sum(1 for u in users if (u.username, u.display_name) in staff)
    if not (credentials or demo_users or persons):
        return []
    counts = f"{credentials} institution keys, {demo_users} staff accounts, {persons} persons"
    return [
        f"数据库含演示数据（{credentials} 个机构密钥、{demo_users} 个工作人员账号、{persons} 名参保人），"
        f"生产环境不得使用，请换用新的数据库 / the database holds demo data ({counts}), whose passwords and keys "
        "are public: production needs a database without it"
    ]


def startup_problems(settings: Settings, db: Database | None = None) -> list[str]:
    """Everything that stops the platform from serving: the settings, then (production) the database."""
    problems = settings.startup_problems()
    if not problems and settings.is_production and db is not None:
        problems = demo_data_problems(db)
    return problems


def check_startup(settings: Settings, db: Database | None = None) -> None:
    """The one check every entry point that serves runs first; raises `StartupRefused`."""
    problems = startup_problems(settings, db)
    if problems:
        for p in problems:
            log.error("refusing to start / 拒绝启动", extra={"problem": p})
        raise StartupRefused(problems)


def prepare(db: Database, *, demo_if_empty: bool = False) -> DemoLoadResult | None:
    migrate.upgrade(db.url)
    with db.unit_of_work() as session:
        counts = sync_reference_data(session)
    log.info("reference data in step", extra=counts)
    if not demo_if_empty:
        return None
    if get_settings().is_production:  # whatever the caller asked: the demo's credentials are public
        log.warning("demo data not loaded: production never loads it / 生产环境不加载演示数据")
        return None
    with db.unit_of_work() as session:
        if not is_empty(session):
            return None
        result = load_demo(session, clock.now())
    log.info("demo data loaded", extra=result.__dict__)
    return result
