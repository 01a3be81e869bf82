"""Database behaviour, run on SQLite and on PostgreSQL."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import StatementError

from yidi.core import audit, migrate
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.demo.service import load_demo
from yidi.people.models import Insurance, Person
from yidi.people.schemas import PersonIn
from yidi.people.service import add_person, get_person
from yidi.reference.models import ChronicDisease, DivisionRow, Institution, ServiceKind
from yidi.reference.service import get_institution, is_opened, sync_reference_data

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def _person(psn_no: str = "41110000000000000999", balc: str = "12.34") -> PersonIn:
    return PersonIn.model_validate(
        {
            "psn_no": psn_no,
            "psn_name": "测试某甲",
            "certno": "411102195603129013",
            "insurances": [
                {
                    "insutype": "310",
                    "insuplc_admdvs": "411100",
                    "psn_type": "1201",
                    "retiree": True,
                    "begndate": "2015-01-01",
                    "balc": balc,
                }
            ],
        }
    )


def test_reference_data_is_loaded(db: Database) -> None:
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(DivisionRow)) == 396
        assert s.scalar(select(func.count()).where(DivisionRow.level == "province")) == 31
        assert s.get(DivisionRow, "411100").parent_code == "410000"  # type: ignore[union-attr]
        assert s.get(ChronicDisease, "M03900").name == "高血压病"  # type: ignore[union-attr]


def test_reference_sync_is_idempotent(db: Database) -> None:
    with db.unit_of_work() as s:
        assert sync_reference_data(s)["changed"] == 0


def test_money_is_bigint_fen_and_decimal_in_python(db: Database) -> None:
    with db.unit_of_work() as s:
        add_person(s, _person(balc="1,234,567.89"), NOW)
    with db.read_only() as s:
        raw = s.execute(text("SELECT balc FROM insurance")).scalar_one()
        assert raw == 123456789 and isinstance(raw, int)
        balc = s.scalars(select(Insurance.balc)).one()
        assert balc == Decimal("1234567.89") and isinstance(balc, Decimal)


def test_sub_fen_amounts_are_refused_not_rounded(db: Database) -> None:
    with pytest.raises(StatementError) as err:
        with db.unit_of_work() as s:
            p = add_person(s, _person(), NOW)
            s.flush()
            p.insurances[0].balc = Decimal("0.001")
            s.flush()
    assert isinstance(err.value.orig, YidiError) and err.value.orig.code == "E_AMOUNT"
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0


def test_times_come_back_aware_in_shanghai(db: Database) -> None:
    with db.unit_of_work() as s:
        add_person(s, _person(), NOW.astimezone(dt.UTC))
    with db.read_only() as s:
        created = get_person(s, "41110000000000000999").created_at
        assert created == NOW and created.utcoffset() == dt.timedelta(hours=8)


def test_unit_of_work_leaves_nothing_half_written(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with db.unit_of_work() as s:
            add_person(s, _person(), NOW)
            audit.record(
                s,
                at=NOW,
                actor_type="system",
                actor_id="t",
                channel="test",
                action="x",
                entity_type="person",
                entity_id="1",
            )
            s.flush()
            raise Boom
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0
        assert s.scalar(select(func.count()).select_from(Insurance)) == 0
        assert s.scalar(select(func.count()).select_from(audit.AuditEvent)) == 0


def test_demo_load_is_complete_and_idempotent(db: Database) -> None:
    with db.unit_of_work() as s:
        first = load_demo(s, NOW)
    assert first.institutions_added >= 30 and first.persons_added == 40
    with db.unit_of_work() as s:
        again = load_demo(s, NOW)
    assert again.institutions_added == 0 and again.persons_added == 0
    assert again.persons_present == 40
    with db.read_only() as s:
        bj = get_institution(s, "H11010500001")
        assert bj.settlement_level == "level_3"
        assert is_opened(bj, ServiceKind.CHRONIC, dt.date(2025, 6, 1), "M03900")
        assert not is_opened(bj, ServiceKind.CHRONIC, dt.date(2020, 12, 31), "M03900")  # opened 2021
        offline = get_institution(s, "H45060300003")
        assert not offline.networked and not is_opened(offline, ServiceKind.INPATIENT, dt.date(2025, 6, 1))
        actions = s.scalars(select(audit.AuditEvent.action)).all()
        assert actions.count("demo.load") == 2
        assert s.scalar(select(func.count()).select_from(Institution)) == first.institutions_added


def test_division_foreign_key_is_enforced(db: Database) -> None:
    bad = _person()
    bad.insurances[0].insuplc_admdvs = "999999"
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        with db.unit_of_work() as s:
            add_person(s, bad, NOW)


def test_migrations_down_to_base_and_up_again(scratch_url: str) -> None:
    migrate.upgrade(scratch_url)
    d = Database(scratch_url)
    try:
        assert "person" in inspect(d.engine).get_table_names()
        assert migrate.is_current(d.engine, scratch_url)
        migrate.downgrade(scratch_url, "base")
        assert set(inspect(d.engine).get_table_names()) <= {"alembic_version"}
        assert not migrate.is_current(d.engine, scratch_url)
        migrate.upgrade(scratch_url)
        assert {"person", "division", "institution", "audit_event"} <= set(inspect(d.engine).get_table_names())
    finally:
        d.dispose()


def test_schema_matches_the_models(scratch_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations create exactly what the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from yidi.models import Base

    migrate.upgrade(scratch_url)
    d = Database(scratch_url)
    try:
        with d.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        d.dispose()


def test_migration_encrypts_existing_id_numbers_and_back(scratch_url: str) -> None:
    """0003 moves plain ID numbers into encrypted form (and its downgrade brings them back)."""
    from yidi.security.crypto import default_cipher

    migrate.upgrade(scratch_url, "0002")
    d = Database(scratch_url)
    try:
        with d.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO person (psn_no, psn_cert_type, certno, psn_name, gend, brdy, created_at) "
                    "VALUES ('P1', '01', '411102195603129013', '测试某甲', '1', '1956-03-12', '2026-01-01 00:00:00')"
                )
            )
        migrate.upgrade(scratch_url)
        with d.engine.connect() as conn:
            enc, masked = conn.execute(text("SELECT certno_enc, certno_masked FROM person")).one()
        assert masked == "411102********9013"
        assert default_cipher().decrypt(enc, "person.certno") == "411102195603129013"
        migrate.downgrade(scratch_url, "0002")
        with d.engine.connect() as conn:
            assert conn.execute(text("SELECT certno FROM person")).scalar_one() == "411102195603129013"
    finally:
        d.dispose()
