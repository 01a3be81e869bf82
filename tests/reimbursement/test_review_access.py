"""Who may ask about a review (复核) and change where its money goes, over HTTP and under locks: another person is
told the settlement does not exist, before any row is locked; the person or their agency's staff change the payee of
a difference not yet paid; a retried decision answers the decided review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from yidi.app import create_app
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.filing.rules import Subtype
from yidi.reimbursement import payments, reviews
from yidi.reimbursement.payment_rules import ResultRow
from yidi.reimbursement.review_rules import Payee
from yidi.settlement.models import Settlement

from ..helpers import person_headers, staff_headers
from .reviews_support import BILL, CERTNO, CLERK, NOW, OTHER_PSN, PSN, Hospital, file, load, person

PAYEE = Payee("王某", "中国工商银行漯河分行", "6222020000000000123")


def _settled(db: Database) -> dict[str, Any]:
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    return Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1")


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_another_person_is_refused_before_the_settlement_is_locked(db: Database) -> None:
    """While the hospital's cancellation (or a reviewer) holds the settlement's row, another person's request is
    answered at once (not found), without waiting for the lock: who asks is checked first."""
    load(db)
    info = _settled(db)
    with db.unit_of_work() as holder:
        holder.scalar(select(Settlement).where(Settlement.setl_id == info["setl_id"]).with_for_update())
        with db.unit_of_work() as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))  # were the row locked first, this would time out
            with pytest.raises(YidiError, match="E_NOT_FOUND"):
                reviews.request_review(s, person(OTHER_PSN), info["setl_id"], "not mine", None, None, NOW)


@pytest.fixture
def client(db: Database, frozen_clock: dt.datetime) -> Iterator[TestClient]:
    load(db)
    with TestClient(create_app(db)) as c:
        yield c


def test_the_person_sends_a_failed_difference_to_another_account_over_http(client: TestClient, db: Database) -> None:
    """The 170.00 of the category review (see test_reviews) failed at the bank; the person gives another account
    (checked as a batch checks it), staff elsewhere and other persons learn nothing, the next batch pays there."""
    info = _settled(db)
    me, other = person_headers(client, PSN), person_headers(client, OTHER_PSN)
    reviewer, beijing = staff_headers(client, "reviewer.411100"), staff_headers(client, "reviewer.110000")
    with db.unit_of_work() as s:
        rid = reviews.request_review(s, person(), info["setl_id"], "长期居住备案", "k1", PAYEE, NOW).id
    correction = {"corrections": {"category": "long_term"}, "note": "长期居住备案应适用"}
    decided = client.post(f"/api/v1/staff/reviews/{rid}/decide", headers=reviewer, json=correction)
    assert decided.status_code == 200 and decided.json()["difference"] == "170.00"
    retried = client.post(f"/api/v1/staff/reviews/{rid}/decide", headers=reviewer, json=correction)
    assert retried.status_code == 200 and retried.json()["decided_at"] == decided.json()["decided_at"]
    assert (retried.json()["account_credit"], retried.json()["status"]) == ("0.00", "decided")
    with db.unit_of_work() as s:
        batch = payments.create_batch(s, CLERK, "411100", NOW, "b1").batch
        failed = ResultRow(1, source_id=rid, result="failed", reason="账户已销户 / account closed")
        payments.record_results(s, CLERK, batch.id, [failed], NOW)
    body = {"payee_name": "陈某戊", "bank_name": "中国银行漯河分行", "bank_account": "6217 0000 0000 0000 001"}
    bad = client.post(f"/api/v1/reviews/{rid}/payee", headers=me, json=body | {"bank_name": "=HYPERLINK(1)"})
    assert (bad.status_code, bad.json()["code"], bad.json()["details"]["field"]) == (422, "RV_INPUT", "bank_name")
    for headers, path in ((other, f"/api/v1/reviews/{rid}/payee"), (beijing, f"/api/v1/staff/reviews/{rid}/payee")):
        refused = client.post(path, headers=headers, json=body)
        assert (refused.status_code, refused.json()["code"]) == (404, "E_NOT_FOUND")
    changed = client.post(f"/api/v1/reviews/{rid}/payee", headers=me, json=body)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["bank_account"], changed.json()["status"]) == ("6217000000000000001", "decided")
    by_staff = client.post(f"/api/v1/staff/reviews/{rid}/payee", headers=reviewer, json=body)
    assert by_staff.status_code == 200  # the same payee again: nothing changes
    with db.unit_of_work() as s:
        again = payments.create_batch(s, CLERK, "411100", NOW, "b2").batch
        assert [(i.payee_name, i.bank_account) for i in again.items] == [("陈某戊", "6217000000000000001")]
    busy = client.post(f"/api/v1/reviews/{rid}/payee", headers=me, json=body | {"bank_account": "6217000000000000002"})
    assert (busy.status_code, busy.json()["code"]) == (409, "RV_PENDING")
    mine = client.get(f"/api/v1/reviews/{rid}", headers=other)
    assert (mine.status_code, mine.json()["code"]) == (404, "E_NOT_FOUND")
