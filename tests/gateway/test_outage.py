"""A database outage is answered as the retryable busy code, so that an HIS retries with the same msgid, and
nothing of the failed call is kept (issue: robustness, item 6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from yidi.app import create_app
from yidi.core.db import Database
from yidi.gateway import transactions
from yidi.settlement.inputs import Call
from yidi.settlement.models import MessageLog

from .test_gateway import his

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/yidi?connect_timeout=2"  # nothing listens on port 1


@pytest.fixture
def down() -> Iterator[TestClient]:
    database = Database(UNREACHABLE)
    with TestClient(create_app(database), raise_server_exceptions=False) as client:
        yield client
    database.dispose()


def test_the_gateway_answers_busy_while_the_database_is_unreachable(down: TestClient) -> None:
    _, answer = his(down).send("1901", {})
    assert answer["infcode"] == -1 and answer["err_msg"].startswith("[E_BUSY]"), answer


def test_the_api_answers_503_busy_while_the_database_is_unreachable(down: TestClient) -> None:
    response = down.get("/api/v1/reference/institutions")
    assert response.status_code == 503 and response.json()["code"] == "E_BUSY", response.text
    assert response.headers["retry-after"] == "5"


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    from ..conftest import _empty, _prepared_database

    database = _prepared_database(pg_url)
    _empty(database)
    import datetime as dt

    from yidi.core.clock import SHANGHAI
    from yidi.demo.service import load_demo

    with database.unit_of_work() as s:
        load_demo(s, dt.datetime(2021, 1, 1, tzinfo=SHANGHAI))
    yield database
    _empty(database)


@pytest.mark.pg
def test_an_admin_shutdown_mid_call_is_busy_and_the_retry_succeeds(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the call's connection (57P01, as on a restart or failover) while it works: the answer is
    E_BUSY, nothing is stored under the msgid, and the same message sent again is answered normally."""
    real = transactions.TRANSACTIONS["9001"]

    def killed(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return {}

    with TestClient(create_app(pg_db)) as http:
        client = his(http)
        monkeypatch.setitem(transactions.TRANSACTIONS, "9001", killed)
        envelope, answer = client.send("9001", {"signIn": {"opter_no": "001", "mac": "x", "ip": "127.0.0.1"}})
        assert answer["infcode"] == -1 and answer["err_msg"].startswith("[E_BUSY]"), answer
        with pg_db.read_only() as s:
            assert s.scalar(select(MessageLog).where(MessageLog.msgid == envelope["msgid"])) is None
        monkeypatch.setitem(transactions.TRANSACTIONS, "9001", real)
        again = client.post({**envelope, "inf_time": envelope["inf_time"]})  # the HIS retries the same message
        assert again["infcode"] == 0, again
        assert client.replay(envelope) == again


def test_only_outages_are_busy() -> None:
    """A bug is not an outage: a missing column (even one named *connect*) or a protocol violation stays an
    internal error; a failover's read-only transaction and an unreachable server are busy."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from yidi.core.db import unavailable

    def pg(state_class: type[Exception]) -> OperationalError:
        return OperationalError("SELECT 1", {}, state_class("x"))

    assert not unavailable(OperationalError("x", {}, sqlite3.OperationalError("no such column: visit.disconnected_at")))
    assert unavailable(OperationalError("x", {}, sqlite3.OperationalError("database is locked")))
    assert not unavailable(ProgrammingError("x", {}, psycopg.errors.ProtocolViolation("x")))  # 08P01
    assert unavailable(pg(psycopg.errors.ReadOnlySqlTransaction))  # 25006
    assert unavailable(pg(psycopg.errors.AdminShutdown))  # 57P01
    assert not unavailable(pg(psycopg.errors.UndefinedTable))  # 42P01
    assert unavailable(OperationalError("x", {}, psycopg.OperationalError("connection failed: refused")))
