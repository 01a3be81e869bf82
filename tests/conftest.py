"""Test fixtures. Database tests run on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres).

PostgreSQL tests are skipped when no server answers, unless YIDI_TEST_REQUIRE_PG=1 (CI), which turns
the skip into a failure. Each test run creates its own PostgreSQL database and drops it at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.models import Base

os.environ.setdefault("YIDI_ENVIRONMENT", "test")
os.environ.setdefault("YIDI_LOG_JSON", "true")
# Cheap password hashing in tests (production keeps argon2id's recommended cost).
os.environ.setdefault("YIDI_ARGON2_TIME_COST", "1")
os.environ.setdefault("YIDI_ARGON2_MEMORY_KIB", "256")

PG_ADMIN_URL = os.environ.get("YIDI_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("YIDI_TEST_REQUIRE_PG") == "1"
# Reference tables keep their rows between tests; everything else is emptied.
KEEP_TABLES = {"division", "chronic_disease", "alembic_version"}


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "not available"
        return f"{type(exc).__name__}: {exc}"


class PgDatabases:
    """Creates throw-away PostgreSQL databases and drops them at the end of the run."""

    def __init__(self) -> None:
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self) -> str:
        name = f"yidi_test_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    problem = _pg_available()
    if problem:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (YIDI_TEST_REQUIRE_PG=1) but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    dbs = PgDatabases()
    try:
        yield dbs
    finally:
        for database in list(_prepared.values()):
            database.dispose()
        dbs.drop_all()


@pytest.fixture(scope="session")
def pg_url(pg_databases: PgDatabases) -> str:
    """The shared, migrated PostgreSQL test database."""
    return pg_databases.create()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of its own on each backend (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
    pg: PgDatabases = request.getfixturevalue("pg_databases")
    return pg.create()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'yidi-test.sqlite3'}"


_prepared: dict[str, Database] = {}


def _prepared_database(url: str) -> Database:
    if url not in _prepared:
        from yidi.bootstrap import prepare

        db = Database(url)
        prepare(db)
        _prepared[url] = db
    return _prepared[url]


def _empty(db: Database) -> None:
    from yidi.reference.service import forget_institutions

    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in KEEP_TABLES:
                conn.execute(table.delete())
    forget_institutions(db.engine)  # emptied by plain SQL, which the institution cache does not see


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated database with reference data and no other rows, on each backend."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    database = _prepared_database(url)
    _empty(database)
    yield database
    _empty(database)


@pytest.fixture(scope="session", autouse=True)
def _dispose_databases() -> Iterator[None]:
    yield
    for database in _prepared.values():
        database.dispose()


# A fixed "now" for tests whose flows compute review due dates: the working-day calendar only knows the years
# in its data, so tests must not depend on today's date reaching a year that is not there yet.
FROZEN_NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday, no holiday nearby


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    from yidi.core import clock

    monkeypatch.setattr(clock, "now", lambda: FROZEN_NOW)
    return FROZEN_NOW


@pytest.fixture
def fresh_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Run in an empty working directory with settings re-read from the environment."""
    monkeypatch.chdir(tmp_path)
    reset_settings()
    yield tmp_path
    reset_settings()


# -- every log line written during the run is checked for unmasked ID numbers -------------------------------

_LOG_FILE = Path(tempfile.mkdtemp(prefix="yidi-test-logs-")) / "all.jsonl"


def pytest_configure(config: pytest.Config) -> None:
    from yidi.core.logging import JsonFormatter

    _LOG_FILE.parent.mkdir(parents=True, exist_ok=True)  # again: a runner may hold several sessions in one process
    handler = logging.FileHandler(_LOG_FILE, encoding="utf-8")
    handler.setFormatter(JsonFormatter())  # the production formatter: what would reach the log files
    handler.set_name("yidi-test-log-scan")
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from yidi.core.certno import find_certnos

    if not _LOG_FILE.exists():
        return
    text = _LOG_FILE.read_text(encoding="utf-8")
    leaks = find_certnos(text)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = text.count("\n")
    if leaks:
        if reporter:
            reporter.write_line(
                f"LOG SCAN FAILED: {len(leaks)} unmasked ID number(s) in {lines} log lines ({_LOG_FILE})"
            )
        session.exitstatus = 1
    else:
        if reporter:
            reporter.write_line(f"log scan: {lines} log lines written during the run, no unmasked ID number")
        shutil.rmtree(_LOG_FILE.parent, ignore_errors=True)
