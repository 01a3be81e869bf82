"""A year without its holiday notice yet (2027 today): counted weekends only, marked provisional everywhere a
date counted over it shows, warned about once a day, and recomputed when `yidi calendar add-year` adds it."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from yidi.app import create_app
from yidi.cli import app as cli
from yidi.core import calendar as calendar_module
from yidi.core import clock
from yidi.core.audit import AuditEvent
from yidi.core.calendar import default_calendar, load_calendar
from yidi.core.clock import SHANGHAI
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import Audience, Principal
from yidi.demo.service import load_demo
from yidi.filing import service
from yidi.filing.rules import Basis, Channel, Status, Subtype
from yidi.reimbursement import service as claims

from ..helpers import person_headers, staff_headers
from ..reimbursement import claims_support as cs

D = dt.date
BJ_EMPLOYEE = "11000000000000000003"  # 北京 reviews undertakings by hand within 3 working days
LH = "41110000000000000001"
NOTICE_2027 = """\
# test copy in the layout of holidays.yaml (not the real 2027 notice)
2027:
  reference: "国务院办公厅关于2027年部分节假日安排的通知（测试）"
  holidays:
    - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
    - {name: 春节, from: 2027-02-05, to: 2027-02-12}
  workdays: [2027-02-14, 2027-02-20]
"""
runner = CliRunner()


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, 10, 0, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    reset_settings()
    monkeypatch.setattr(calendar_module, "_warned", set(), raising=False)  # the daily warning afresh in each test
    yield tmp_path
    reset_settings()


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    now = at(2026, 12, 1)  # the real case: December, next year's notice not out yet
    monkeypatch.setattr(clock, "now", lambda: now)
    return now


def test_a_year_after_the_last_notice_counts_weekends_only_and_says_so(data_dir: Path) -> None:
    cal = default_calendar()
    assert 2027 not in cal.known_years and cal.is_provisional_year(2027)
    # Tuesday 2026-12-29 + 3 working days: 12/30, 12/31, then Friday 2027-01-01 (in reality 元旦, surely a holiday).
    due = cal.count_working_days(D(2026, 12, 29), 3)
    assert due.date == D(2027, 1, 1) and due.provisional and due.provisional_years == (2027,)
    assert cal.count_working_days(D(2026, 12, 29), 2).provisional is False  # stays in 2026: official
    assert cal.is_working_day(D(2027, 1, 4)) and not cal.is_working_day(D(2027, 1, 9))  # Monday, Saturday
    assert cal.add_working_days(D(2027, 1, 4), -1) == D(2027, 1, 1)
    with pytest.raises(YidiError, match="E_CALENDAR_YEAR"):  # before the first notice: missing data, not future
        cal.is_working_day(D(2019, 3, 1))
    with pytest.raises(YidiError, match="E_CALENDAR_YEAR"):  # the plain calendar still knows only the notices
        load_calendar().is_working_day(D(2027, 1, 4))


def test_the_warning_is_logged_once_a_day_while_a_year_is_provisional(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    day = [at(2026, 12, 28)]
    monkeypatch.setattr(clock, "now", lambda: day[0])
    cal = default_calendar()

    def warnings() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "yidi.calendar" and r.levelno == logging.WARNING]

    with caplog.at_level(logging.WARNING, logger="yidi.calendar"):
        cal.count_working_days(D(2026, 12, 28), 5)
        cal.count_working_days(D(2026, 12, 29), 5)
        assert len(warnings()) == 1
        assert "2027" in warnings()[0].getMessage() and "yidi calendar add-year" in warnings()[0].getMessage()
        assert "暂定" in warnings()[0].getMessage()
        day[0] = at(2026, 12, 29)
        cal.count_working_days(D(2026, 12, 29), 5)
        cal.count_working_days(D(2026, 12, 29), 5)
        assert len(warnings()) == 2


def test_health_check_names_the_provisional_year_within_reach(
    db: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    day = [at(2026, 12, 1)]
    monkeypatch.setattr(clock, "now", lambda: day[0])
    with TestClient(create_app(db)) as c, caplog.at_level(logging.WARNING, logger="yidi.calendar"):
        body = c.get("/healthz").json()
        assert body["status"] == "ok" and body["calendar"]["status"] == "provisional"
        assert body["calendar"]["provisional_years"] == [2027] and body["calendar"]["code"] == "W_CALENDAR_PROVISIONAL"
        assert "2027" in body["calendar"]["message_zh"] and "2027" in body["calendar"]["message_en"]
        c.get("/healthz")
        assert len([r for r in caplog.records if r.name == "yidi.calendar"]) == 1  # once a day, not per request
        day[0] = at(2026, 6, 1)  # 2027 is more than 60 days away
        body = c.get("/healthz").json()
        assert body["calendar"]["status"] == "ok" and body["calendar"]["provisional_years"] == []
        (data_dir / "notice.yaml").write_text(NOTICE_2027, encoding="utf-8")
        calendar_module.install_notice(NOTICE_2027, "notice.yaml")
        day[0] = at(2026, 12, 1)
        body = c.get("/healthz").json()
        assert body["calendar"]["provisional_years"] == [] and 2027 in body["calendar"]["known_years"]


def test_due_dates_over_a_year_without_notice_are_provisional_and_recomputed_when_it_is_added(
    db: Database, data_dir: Path, today: dt.datetime
) -> None:
    with db.unit_of_work() as s:
        load_demo(s, at(2025, 1, 1))
    request = service.SubmitRequest(
        BJ_EMPLOYEE, "310", Subtype.POSTED_WORKER, "310000", D(2026, 12, 29), Basis.COMMITMENT, Channel.NATIONAL_APP
    )
    with db.unit_of_work() as s:  # today's main refuses the whole submission with E_CALENDAR_YEAR
        f = service.submit(s, Principal(Audience.PERSON, BJ_EMPLOYEE), request, at(2026, 12, 29))
        filing_id = f.id
    with db.read_only() as s:
        f = service.load(s, filing_id)
        assert f.status == Status.UNDER_REVIEW and f.due_date == D(2027, 1, 1) and f.due_date_provisional
        assert f.due_from == D(2026, 12, 29)

    notice = data_dir / "notice-2027.yaml"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    r = runner.invoke(cli, ["calendar", "add-year", str(notice), "--database-url", db.url])
    assert r.exit_code == 0, r.output
    answer = json.loads(r.output)
    assert answer["year"] == 2027 and answer["filings"] == {"recomputed": 1, "unchanged": 0, "still_provisional": 0}
    assert answer["claims"] == answer["reviews"] == {"recomputed": 0, "unchanged": 0, "still_provisional": 0}
    assert (data_dir / "calendar" / "holidays-2027.yaml").read_text(encoding="utf-8") == NOTICE_2027
    with db.read_only() as s:
        f = service.load(s, filing_id)
        assert f.due_date == D(2027, 1, 4) and not f.due_date_provisional  # 元旦 1/1–1/3 now known
        rows = s.execute(
            select(AuditEvent.action, AuditEvent.actor_type, AuditEvent.before, AuditEvent.after).where(
                AuditEvent.entity_id == filing_id, AuditEvent.action == "filing.due_date_recomputed"
            )
        ).all()
    assert len(rows) == 1 and rows[0].actor_type == "system"
    assert rows[0].before["due_date"] == "2027-01-01" and rows[0].before["due_date_provisional"] is True
    assert rows[0].after["due_date"] == "2027-01-04" and rows[0].after["due_date_provisional"] is False
    assert not default_calendar().is_working_day(D(2027, 2, 8)) and default_calendar().is_working_day(D(2027, 2, 20))

    again = runner.invoke(cli, ["calendar", "add-year", str(notice), "--database-url", db.url])
    assert again.exit_code == 0 and json.loads(again.output)["filings"]["recomputed"] == 0  # nothing more to change


def test_the_filing_api_shows_a_provisional_due_date(
    db: Database, data_dir: Path, today: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as s:
        load_demo(s, today)
    monkeypatch.setattr(clock, "now", lambda: at(2026, 12, 30))
    with TestClient(create_app(db)) as c:
        me = person_headers(c, LH)
        r = c.post(
            "/api/v1/filings",
            headers=me,
            json={
                "subtype": "long_term_resident",
                "target_region": "110105",
                "begndate": "2026-12-30",
                "basis": "materials",
                "channel": "web_portal",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["due_date"] is None and r.json()["due_date_provisional"] is False  # waits for the proof
        filing_id = r.json()["trt_dcla_detl_sn"]
        up = c.post(
            f"/api/v1/filings/{filing_id}/materials",
            headers=me,
            data={"kind": "residence_proof"},
            files={"file": ("居住证.pdf", b"%PDF-1.7 proof", "application/pdf")},
        )
        assert up.status_code == 201, up.text
        queue = c.get("/api/v1/staff/filings", headers=staff_headers(c, "reviewer.411100")).json()
        assert [(q["trt_dcla_detl_sn"], q["due_date_provisional"]) for q in queue] == [(filing_id, True)]
        assert queue[0]["due_date"] > "2026-12-31"
        assert c.get(f"/api/v1/filings/{filing_id}", headers=me).json()["due_date_provisional"] is True


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (NOTICE_2027.replace("2027-02-20", "2027-02-19"), "weekend"),  # a Friday as make-up working day: a typo
        (NOTICE_2027 + NOTICE_2027.split("\n", 1)[1].replace("2027", "2028"), "one year"),
        ("2027:\n  reference: x\n  holidays: []\n", "no holidays"),
        ("2027:\n  reference: x\n  holidays:\n    - {name: 元旦, from: 2027-01-03, to: 2027-01-01}\n", "bad range"),
    ],
)
def test_add_year_refuses_a_wrong_notice_and_installs_nothing(data_dir: Path, body: str, reason: str) -> None:
    notice = data_dir / "notice.yaml"
    notice.write_text(body, encoding="utf-8")
    r = runner.invoke(cli, ["calendar", "add-year", str(notice), "--database-url", "sqlite:///:memory:"])
    assert r.exit_code == 2 and "E_CALENDAR_NOTICE" in r.output, (reason, r.output)
    assert not (data_dir / "calendar").exists() or not list((data_dir / "calendar").iterdir())


def test_a_claims_decision_date_over_a_year_without_notice_is_recomputed_when_it_is_added(
    db: Database, data_dir: Path, today: dt.datetime
) -> None:
    with db.unit_of_work() as s:
        load_demo(s, at(2025, 1, 1))
    when = at(2026, 12, 29)  # 20 working days from a Tuesday at the end of 2026 reach into 2027
    claim_id = cs.submitted(
        db,
        cs.LH_EMPLOYEE,
        [cs.visit("2026-12-21", lines=[cs.line("1", cs.ACARBOSE, "2026-12-21", "2", "50")])],
        now=when,
    )
    with db.read_only() as s:
        c = claims.load(s, claim_id)
        # Weekends only: 30, 31 Dec, then 1 Jan (a Friday) and 4–8, 11–15, 18–22, 25, 26 Jan: the 20th is 26 January.
        assert (c.due_date, c.due_date_provisional, c.due_from) == (D(2027, 1, 26), True, D(2026, 12, 29))
    notice = data_dir / "notice-2027.yaml"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    r = CliRunner().invoke(cli, ["calendar", "add-year", str(notice), "--database-url", db.url])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["claims"] == {"recomputed": 1, "unchanged": 0, "still_provisional": 0}
    with db.read_only() as s:
        c = claims.load(s, claim_id)
        # 元旦 1 January 2027 (a Friday) is off: one working day later, 27 January.
        assert (c.due_date, c.due_date_provisional) == (D(2027, 1, 27), False)
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == claim_id)).all()
    assert "claim.due_date_recomputed" in actions
