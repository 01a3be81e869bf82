"""Change and renewal authorise the caller before they look at the filing: someone without the right to a
person's filings gets one answer whatever the state of the filing (approved, cancelled, expired), so the answer
reveals nothing about it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import SYSTEM, Audience, Principal, Role
from yidi.demo.service import load_demo
from yidi.filing import service
from yidi.filing.rules import Basis, Channel, Status, Subtype

BJ_CANCER = "11000000000000000001"  # 北京 retiree, M00503 qualified 2025–2027: the owner of every filing here
CC = "22010000000000000001"  # 长春 retiree: another person
REVIEWER_BJ = Principal(Audience.STAFF, "reviewer.110000", frozenset({Role.REVIEWER}), frozenset({"110000"}))
REVIEWER_CC = Principal(Audience.STAFF, "reviewer.220100", frozenset({Role.REVIEWER}), frozenset({"220100"}))
PDF = b"%PDF-1.4\n% demo proof\n"
WHEN = dt.datetime(2025, 7, 10, 10, 0, tzinfo=SHANGHAI)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), SHANGHAI)


def _submit(s: object, subtype: Subtype, target: str, day: dt.date, basis: Basis, **extra: object) -> service.Filing:
    request = service.SubmitRequest(
        BJ_CANCER, "310", subtype, target, day, basis, Channel.NATIONAL_APP, extra.get("disease"), extra.get("inst", [])
    )
    return service.submit(s, Principal(Audience.PERSON, BJ_CANCER), request, at(day))  # type: ignore[arg-type]


@pytest.fixture
def filings(db: Database) -> Iterator[tuple[Database, dict[str, str]]]:
    """One person's filings in three states: expired, cancelled and approved (a renewable designated one)."""
    with db.unit_of_work() as s:
        load_demo(s, at(dt.date(2025, 1, 1)))
    with db.unit_of_work() as s:
        expired = _submit(s, Subtype.OTHER_TEMPORARY, "420100", dt.date(2025, 1, 1), Basis.NONE).id
    with db.unit_of_work() as s:
        service.expire(s, SYSTEM, dt.date(2025, 7, 1), at(dt.date(2025, 7, 1)))
    with db.unit_of_work() as s:
        cancelled = _submit(s, Subtype.OTHER_TEMPORARY, "420100", dt.date(2025, 7, 1), Basis.NONE).id
    with db.unit_of_work() as s:
        service.cancel(s, Principal(Audience.PERSON, BJ_CANCER), cancelled, "plans changed", at(dt.date(2025, 7, 2)))
    with db.unit_of_work() as s:
        approved = _submit(
            s,
            Subtype.DESIGNATED_CHRONIC,
            "460200",
            dt.date(2025, 7, 3),
            Basis.MATERIALS,
            disease="M00503",
            inst=["H46020200001"],
        ).id
    with db.unit_of_work() as s:
        owner = Principal(Audience.PERSON, BJ_CANCER)
        service.add_material(s, owner, approved, "diagnosis", "诊断证明.pdf", PDF, at(dt.date(2025, 7, 3)))
    with db.unit_of_work() as s:
        service.decide_review(s, REVIEWER_BJ, approved, "approve", None, at(dt.date(2025, 7, 4)))
    ids = {"expired": expired, "cancelled": cancelled, "approved": approved}
    with db.read_only() as s:
        assert {state: service.load(s, i).status for state, i in ids.items()} == {
            "expired": Status.EXPIRED,
            "cancelled": Status.CANCELLED,
            "approved": Status.APPROVED,
        }
    yield db, ids


def _change(s: object, who: Principal, filing_id: str) -> object:
    return service.change(s, who, filing_id, "120000", None, WHEN.date(), "moving", Channel.WEB_PORTAL, WHEN)  # type: ignore[arg-type]


def _renew(s: object, who: Principal, filing_id: str) -> object:
    return service.renew(s, who, filing_id, Channel.WEB_PORTAL, WHEN)  # type: ignore[arg-type]


def _answer(db: Database, action: Callable[[object, Principal, str], object], who: Principal, filing_id: str) -> str:
    with db.unit_of_work() as s, pytest.raises(YidiError) as caught:
        action(s, who, filing_id)
    return f"{caught.value.code}: {caught.value.message_en} / {caught.value.message_zh}"


@pytest.mark.parametrize("action", [_change, _renew], ids=["change", "renew"])
@pytest.mark.parametrize(
    ("who", "expected"),
    [(Principal(Audience.PERSON, CC), "E_FORBIDDEN"), (REVIEWER_CC, "E_NOT_FOUND")],
    ids=["another person", "staff of another region"],
)
def test_without_the_right_the_answer_is_the_same_whatever_the_filings_state(
    filings: tuple[Database, dict[str, str]],
    action: Callable[[object, Principal, str], object],
    who: Principal,
    expected: str,
) -> None:
    db, ids = filings
    answers = {state: _answer(db, action, who, filing_id) for state, filing_id in ids.items()}
    assert len(set(answers.values())) == 1, answers
    assert answers["approved"].startswith(expected), answers
