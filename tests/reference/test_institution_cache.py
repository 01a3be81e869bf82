"""Institutions read for the gateway are kept per process, and a change made in this process is seen at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from yidi.core.clock import SHANGHAI
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.demo.service import load_demo
from yidi.reference.models import Institution, InstitutionService
from yidi.reference.service import forget_institutions, get_institution

HOSP = "H11010500001"


@pytest.fixture
def demo(db: Database) -> Database:
    with db.unit_of_work() as s:
        load_demo(s, dt.datetime(2021, 1, 1, tzinfo=SHANGHAI))
    return db


@pytest.fixture
def statements(demo: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(demo.engine, "before_cursor_execute", count)
    yield seen
    event.remove(demo.engine, "before_cursor_execute", count)


def _services(db: Database) -> list[tuple[str, dt.date | None]]:
    with db.read_only() as s:
        return [(x.service, x.enddate) for x in get_institution(s, HOSP).services]


def test_a_second_read_costs_no_query(demo: Database, statements: list[str]) -> None:
    first = _services(demo)
    reads = len([q for q in statements if "FROM institution" in q])
    assert _services(demo) == first
    assert len([q for q in statements if "FROM institution" in q]) == reads


def test_a_change_committed_here_is_seen_at_once(demo: Database) -> None:
    assert all(end is None for _, end in _services(demo))
    with demo.unit_of_work() as s:
        for service in s.scalars(select(InstitutionService).where(InstitutionService.fixmedins_code == HOSP)):
            service.enddate = dt.date(2025, 12, 31)
    assert _services(demo) and all(end == dt.date(2025, 12, 31) for _, end in _services(demo))


def test_a_rolled_back_change_is_never_kept(demo: Database) -> None:
    before = _services(demo)
    with pytest.raises(RuntimeError), demo.unit_of_work() as s:
        inst = s.get(Institution, HOSP)
        assert inst is not None
        inst.services.clear()
        s.flush()
        assert get_institution(s, HOSP).services == []  # this transaction sees its own change
        raise RuntimeError("abandon")
    assert _services(demo) == before


def test_changes_made_by_plain_sql_need_forget(demo: Database) -> None:
    _services(demo)
    with demo.engine.begin() as conn:
        conn.execute(InstitutionService.__table__.delete().where(InstitutionService.fixmedins_code == HOSP))
    assert _services(demo)  # still the kept copy (another process's change is seen after the cache time)
    forget_institutions(demo.engine)
    assert _services(demo) == []


def test_cache_time_zero_reads_every_time(demo: Database, statements: list[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YIDI_REFERENCE_CACHE_SECONDS", "0")
    reset_settings()
    try:
        _services(demo)
        reads = len([q for q in statements if "FROM institution" in q])
        _services(demo)
        assert len([q for q in statements if "FROM institution" in q]) > reads
    finally:
        monkeypatch.delenv("YIDI_REFERENCE_CACHE_SECONDS")
        reset_settings()


def test_an_unknown_institution_is_not_found(demo: Database) -> None:
    with demo.read_only() as s, pytest.raises(YidiError) as refused:
        get_institution(s, "H99999999999")
    assert refused.value.code == "E_NOT_FOUND"


def test_a_savepoint_rolled_back_inside_the_change_does_not_stop_the_clearing(demo: Database) -> None:
    _services(demo)
    with demo.unit_of_work() as s:
        for service in s.scalars(select(InstitutionService).where(InstitutionService.fixmedins_code == HOSP)):
            service.enddate = dt.date(2025, 12, 31)
        s.flush()
        with pytest.raises(RuntimeError), s.begin_nested():
            raise RuntimeError("a failed step under a savepoint")
        if demo.engine.dialect.name == "postgresql":  # SQLite: no other transaction while this one writes
            assert all(end is None for _, end in _services(demo))  # another session caches the old rows
    assert all(end == dt.date(2025, 12, 31) for _, end in _services(demo))
