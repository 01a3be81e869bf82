"""Database layer: one SQLAlchemy 2.x code path for the embedded SQLite file and for PostgreSQL.

The schema is created only by Alembic migrations (`yidi db upgrade`). Services open a `UnitOfWork`;
it commits on success and rolls back on any exception, so nothing is half-written after a failure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from yidi.core.clock import SHANGHAI
from yidi.core.money import from_fen, to_fen

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Money(TypeDecorator[Decimal]):
    """BIGINT fen in the database, `Decimal` yuan in Python. Sub-fen values are refused, not rounded."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_fen(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_fen(int(value))


class UnitPrice(TypeDecorator[Decimal]):
    """Unit prices (decimal(16,6) on the interface) as BIGINT millionths of a yuan, `Decimal` in Python."""

    impl = BigInteger
    cache_ok = True
    _SCALE = Decimal(1_000_000)

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = value * self._SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"unit price {value} has more than six decimals")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else (Decimal(int(value)) / self._SCALE).normalize()


class AwareDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC (naive on SQLite, timestamptz on PostgreSQL); returns aware Asia/Shanghai times."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use yidi.core.clock")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(SHANGHAI)


# PostgreSQL SQLSTATEs that mean "the database is not there right now", not "this request is wrong": connection
# exceptions (class 08, but not 08P01, a protocol violation: a client bug), shutdowns and start-up (57P01–57P03),
# too many connections (53300), and a read-only transaction after a failover to a standby (25006).
_UNAVAILABLE_STATES = (
    "08000",
    "08001",
    "08003",
    "08004",
    "08006",
    "08007",
    "57P01",
    "57P02",
    "57P03",
    "53300",
    "25006",
)
# Without a SQLSTATE: psycopg when it cannot connect or the server went away; SQLite when its file is locked
# or cannot be opened. Matched on the driver's own wording, never on a bare word a column name could contain.
_UNAVAILABLE_TEXT = (
    "connection failed",
    "server closed the connection",
    "connection is lost",
    "the connection is closed",
    "consuming input failed",
    "database is locked",
    "unable to open database file",
)


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached or went away (a retry later may succeed)."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None)
    if state is not None:
        return str(state) in _UNAVAILABLE_STATES
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        text_ = str(exc.orig).lower()
        return any(phrase in text_ for phrase in _UNAVAILABLE_TEXT)
    return False


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs (SQLite: FK enforcement, WAL, busy timeout)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transactions so BEGIN IMMEDIATE below takes the write lock up front.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # SQLite has no row locks; an immediate transaction serialises writers, which is what the
            # read-modify-write of accumulators needs on the embedded database.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


class Database:
    """An engine and its session factory; one per process (or per test database)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A transaction: commit when the block ends normally, roll back on any exception."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


_default: Database | None = None


def get_database() -> Database:
    """The process-wide database from settings (created on first use)."""
    global _default
    if _default is None:
        from yidi.core.config import get_settings

        _default = Database(get_settings().database_url)
    return _default


def set_database(db: Database | None) -> None:
    """Replace the process-wide database (tests, CLI --database-url)."""
    global _default
    if _default is not None and db is not _default:
        _default.dispose()
    _default = db
