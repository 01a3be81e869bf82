"""Reviews of direct settlements (复核) and the difference (轧差), on SQLite and PostgreSQL, and over HTTP.

Hand-worked amounts use the shipped 漯河 (411100) employee parameters of 2025 for a person who is not retired:
ordinary outpatient deductible 150.00 a year, ratio 0.50 at a level-3 institution, yearly outpatient cap
3,000.00; across provinces a filing of other temporary care cuts the ratio by 20 points, a long-term filing by
none. The bill (reviews_support.BILL), at 北京's level-3 H11010500001 on 2025-03-10: 阿卡波糖 1,000.00 (北京
catalogue 甲类) and 维生素C 100.00 (丙类, wholly self-paid).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from yidi.app import create_app
from yidi.core.audit import AuditEvent
from yidi.core.calendar import default_calendar, install_notice
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import SYSTEM, Audience, Principal, Role
from yidi.filing.rules import Subtype
from yidi.reimbursement import review_rules, reviews
from yidi.reimbursement.models import SettlementReview
from yidi.reimbursement.review_rules import Payee
from yidi.settlement.models import Settlement, SettlementAdjustment

from ..helpers import person_headers, staff_headers
from .reviews_support import (
    ACARBOSE,
    BEIJING_REVIEWER,
    BILL,
    CERTNO,
    CLERK,
    NOW,
    OTHER_PSN,
    PSN,
    REPAGLINIDE,
    REVIEWER,
    VITAMIN_C,
    Hospital,
    accumulators,
    file,
    load,
    pay,
    person,
)

PAYEE = Payee("陈某戊", "中国工商银行漯河分行", "6222020000000000123")
D = Decimal


def _settled(db: Database, subtype: Subtype = Subtype.OTHER_TEMPORARY, *, acct: str = "0") -> dict[str, Any]:
    load(db)
    file(db, PSN, subtype, dt.date(2025, 3, 3))
    return Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1", acct=acct)


def _request(db: Database, setl_id: str, **kw: Any) -> str:
    with db.unit_of_work() as s:
        args: dict[str, Any] = {"reason": "备案类别有误 / wrong filing category", "request_id": None, "payee": PAYEE}
        args.update(kw)
        review = reviews.request_review(
            s, args.pop("principal", person()), setl_id, args["reason"], args["request_id"], args["payee"], NOW
        )
        return review.id


def _decide(db: Database, review_id: str, corrections: dict[str, Any], **kw: Any) -> SettlementReview:
    with db.unit_of_work() as s:
        review = reviews.decide(s, kw.get("principal", REVIEWER), review_id, corrections, kw.get("note"), NOW)
        s.expunge(review)
        return review


def _refused(code: str, field: str | None = None) -> Any:
    """pytest.raises for a YidiError of `code` (naming `field` when given)."""

    class Check:
        def __enter__(self) -> None:
            self.ctx = pytest.raises(YidiError)
            self.info = self.ctx.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            handled = self.ctx.__exit__(*exc)
            err = self.info.value
            assert err.code == code, err
            if field is not None:
                assert err.details.get("field") == field, err
            return bool(handled)

    return Check()


# -- a difference paid (轧差) ------------------------------------------------------------------------------


def test_wrong_filing_category_is_paid_as_the_difference(db: Database) -> None:
    """Settled as other temporary care (cut 20 points); the person's long-term filing should have applied.

    Settled:    eligible 1,000.00 (the 丙类 100.00 is self-paid), deductible 150.00,
                fund (1,000 − 150) × (0.50 − 0.20) = 255.00; personal 1,100 − 255 = 845.00.
    Recomputed: (1,000 − 150) × 0.50 = 425.00; personal 675.00.
    Difference: 425.00 − 255.00 = 170.00, paid to the person. The accumulators become those of a settlement
    computed right: deductible 150.00, outpatient and basic fund 425.00 (not 255.00)."""
    info = _settled(db)
    assert (info["hifp_pay"], info["psn_part_amt"]) == (D("255.00"), D("845.00"))
    assert accumulators(db) == {"outpatient.deductible": 15000, "outpatient.fund": 25500, "basic.fund": 25500}
    review_id = _request(db, info["setl_id"])
    with db.read_only() as s:
        preview = reviews.preview(s, REVIEWER, review_id, {"category": "long_term"})
    assert (preview.difference, preview.outcome) == (D("170.00"), review_rules.Outcome.DIFFERENCE)
    assert accumulators(db)["basic.fund"] == 25500  # a preview stores nothing
    review = _decide(db, review_id, {"category": "long_term"}, note="长期居住备案应适用")
    assert (review.status, review.outcome, review.difference) == ("decided", "difference", D("170.00"))
    assert review.increments == {"basic.fund": "170.00", "outpatient.fund": "170.00"}
    split = review.recomputed
    assert split is not None
    assert (split["fund_pay_sumamt"], split["hifp_pay"], split["psn_part_amt"]) == ("425.00", "425.00", "675.00")
    assert (split["act_pay_dedc"], split["pool_prop_selfpay"], split["psn_cash_pay"]) == ("150.00", "0.5000", "675.00")
    assert [ln["recomputed"]["inscp_scp_amt"] for ln in split["lines"]] == ["1000.00", "0.00"]
    assert accumulators(db) == {"outpatient.deductible": 15000, "outpatient.fund": 42500, "basic.fund": 42500}
    with db.read_only() as s:
        original = s.get(Settlement, info["setl_id"])
        assert original is not None  # the settlement is not modified: the review is recorded against it
        assert (original.status, original.hifp_pay, original.category) == ("settled", D("255.00"), "other_temporary")
        assert original.increments == {
            "outpatient.deductible": "150.00",
            "outpatient.fund": "255.00",
            "basic.fund": "255.00",
        }
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity_id == review_id).order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["review.request", "review.decide.difference"]
        assert events[1].before["status"] == "requested" and events[1].after["difference"] == "170.00"
        assert [r.id for r in reviews.payable(s, CLERK, "411100")] == [review_id]


def test_accumulators_after_equal_a_settlement_computed_right(db: Database) -> None:
    """Another employee of 漯河 with a long-term filing settles the same bill directly: 425.00, and the very
    accumulators the reviewed person has after the review."""
    info = _settled(db)
    _decide(db, _request(db, info["setl_id"]), {"category": "long_term"})
    file(db, OTHER_PSN, Subtype.LONG_TERM_RESIDENT, dt.date(2025, 3, 3))
    right = Hospital(db).outpatient(OTHER_PSN, "411121199009099103", "2025-03-10", BILL, "RV2")
    assert right["hifp_pay"] == D("425.00")
    assert accumulators(db, OTHER_PSN) == accumulators(db, PSN)


def test_unfiled_settlement_whose_filing_should_have_applied(db: Database) -> None:
    """武汉 (420100) employee, not retired, settled in 北京 as unfiled: 武汉 settles unfiled care across provinces
    with a 25 % first self-pay share of what is above the deductible. 2025 武汉 employee outpatient: deductible
    600.00, ratio 0.60 at level 3. Bill: 阿卡波糖 2,000.00 (甲类).
    Settled:    above the deductible 2,000 − 600 = 1,400.00; first self-pay 1,400 × 0.25 = 350.00;
                fund (1,400 − 350) × 0.60 = 630.00.
    Recomputed with the long-term filing that should have applied: 1,400 × 0.60 = 840.00.
    Difference 840.00 − 630.00 = 210.00."""
    load(db)
    wuhan = "42010000000000000002"
    info = Hospital(db).outpatient(
        wuhan, "420106198404249653", "2025-03-10", [(ACARBOSE, "2000.00", "800", "2.5")], "WH1", insuplc="420100"
    )
    assert (info["act_pay_dedc"], info["hifp_pay"]) == (D("600.00"), D("630.00"))
    with db.read_only() as s:
        assert s.get(Settlement, info["setl_id"]).category == "unfiled"  # type: ignore[union-attr]
    review_id = _request(db, info["setl_id"], principal=person(wuhan))
    wuhan_reviewer = Principal(Audience.STAFF, "reviewer.420100", frozenset({Role.REVIEWER}), frozenset({"420100"}))
    review = _decide(db, review_id, {"category": "long_term"}, principal=wuhan_reviewer)
    assert (review.outcome, review.difference) == ("difference", D("210.00"))
    assert review.recomputed is not None and review.recomputed["fund_pay_sumamt"] == "840.00"
    assert accumulators(db, wuhan) == {"outpatient.deductible": 60000, "outpatient.fund": 84000, "basic.fund": 84000}


def test_a_second_review_starts_where_the_first_ended(db: Database) -> None:
    """After the category review (425.00, 170.00 paid), the 维生素C class is corrected too: the category stays
    corrected and the difference is taken against 425.00, not the settlement's 255.00.
    (1,090 − 150) × 0.50 = 470.00; difference 470.00 − 425.00 = 45.00; fund accumulators 470.00."""
    info = _settled(db)
    first = _decide(db, _request(db, info["setl_id"]), {"category": "long_term"})
    pay(db, first.id, "BANK-170")  # the 170.00 paid by a batch before the settlement is reviewed again
    second_id = _request(db, info["setl_id"], reason="维生素C应为乙类", request_id="again-1")
    corrections = {"line_classes": {VITAMIN_C: {"chrgitm_lv": "02", "selfpay_prop": "0.10"}}}
    second = _decide(db, second_id, corrections)
    assert (first.difference, second.difference) == (D("170.00"), D("45.00"))
    assert second.corrections == {"category": "long_term", **corrections}
    assert accumulators(db) == {"outpatient.deductible": 15000, "outpatient.fund": 47000, "basic.fund": 47000}


# -- a recovery, no change, refusals ---------------------------------------------------------------------


def test_overpayment_becomes_a_recovery(db: Database) -> None:
    """阿卡波糖 settled as 甲类 was 乙类 with a 10 % share: first self-pay 100.00, eligible 900.00;
    fund (900 − 150) × 0.30 = 225.00. Difference 225.00 − 255.00 = −30.00: recovered from the person."""
    info = _settled(db)
    review_id = _request(db, info["setl_id"], principal=REVIEWER, payee=None, reason="抽查发现目录等级有误")
    review = _decide(db, review_id, {"line_classes": {ACARBOSE: {"chrgitm_lv": "02", "selfpay_prop": "0.10"}}})
    assert (review.status, review.outcome, review.difference) == ("decided", "recovery", D("-30.00"))
    assert review.increments == {"basic.fund": "-30.00", "outpatient.fund": "-30.00"}
    assert accumulators(db) == {"outpatient.deductible": 15000, "outpatient.fund": 22500, "basic.fund": 22500}
    with db.unit_of_work() as s:
        assert reviews.payable(s, CLERK, "411100") == []  # nothing to pay
        with _refused("E_FORBIDDEN"):
            reviews.record_recovery(s, BEIJING_REVIEWER, review_id, "ZH2026-001", NOW)
        with _refused("RV_INPUT", "serial"):
            reviews.record_recovery(s, CLERK, review_id, "追回 1", NOW)
        done = reviews.record_recovery(s, CLERK, review_id, "ZH2026-001", NOW)
        assert (done.status, done.settled_serial, done.settled_at) == ("recovered", "ZH2026-001", NOW)
    with db.unit_of_work() as s, _refused("RV_STATE"):
        reviews.record_recovery(s, CLERK, review_id, "ZH2026-002", NOW)


def test_no_change_closes_the_review(db: Database) -> None:
    """A 门慢 qualification changes nothing in ordinary outpatient care: difference 0.00, closed, nothing moves."""
    info = _settled(db)
    before = accumulators(db)
    review = _decide(db, _request(db, info["setl_id"]), {"qualification": "M03900"})
    assert (review.status, review.outcome, review.difference, review.increments) == (
        "closed",
        "no_change",
        D("0.00"),
        {},
    )
    assert accumulators(db) == before
    with db.read_only() as s:
        # Recorded all the same (the deductible it bears), but it does not stand against a cancellation.
        adjustment = s.scalars(select(SettlementAdjustment)).one()
        assert (adjustment.increments, adjustment.act_pay_dedc, adjustment.stands) == ({}, D("150.00"), False)
        assert s.scalar(select(func.count()).select_from(SettlementAdjustment)) == 1
    assert Hospital(db).cancel(info)["infcode"] == 0  # nothing stands against the settlement


@pytest.mark.parametrize(
    ("corrections", "field"),
    [
        ({"category": "resettled"}, "corrections.category"),
        ({"colour": "red"}, "corrections.colour"),
        ({"qualification": "M99999"}, "corrections.qualification"),
        ({"qualification": "hypertension"}, "corrections.qualification"),
        ({"settlement_level": "level_9"}, "corrections.settlement_level"),
        ({"line_classes": {"NOT-A-CODE": {"chrgitm_lv": "02"}}}, "corrections.line_classes.NOT-A-CODE"),
        ({"line_classes": {REPAGLINIDE: {"chrgitm_lv": "02"}}}, f"corrections.line_classes.{REPAGLINIDE}"),
        ({"line_classes": {VITAMIN_C: {"chrgitm_lv": "04"}}}, f"corrections.line_classes.{VITAMIN_C}.chrgitm_lv"),
        ({"line_classes": {VITAMIN_C: {"chrgitm_lv": "02"}}}, f"corrections.line_classes.{VITAMIN_C}.selfpay_prop"),
        (
            {"line_classes": {VITAMIN_C: {"chrgitm_lv": "02", "selfpay_prop": "1.5"}}},
            f"corrections.line_classes.{VITAMIN_C}.selfpay_prop",
        ),
        (
            {"line_classes": {VITAMIN_C: {"chrgitm_lv": "02", "selfpay_prop": 0.1}}},
            f"corrections.line_classes.{VITAMIN_C}.selfpay_prop",
        ),
        (
            {"line_classes": {ACARBOSE: {"chrgitm_lv": "01", "selfpay_prop": "0.10"}}},
            f"corrections.line_classes.{ACARBOSE}.selfpay_prop",
        ),
        ({"line_classes": {ACARBOSE: {"price": "1"}}}, f"corrections.line_classes.{ACARBOSE}.price"),
        ({"line_classes": ["x"]}, "corrections.line_classes"),
    ],
)
def test_bad_corrections_are_refused_by_name(db: Database, corrections: dict[str, Any], field: str) -> None:
    info = _settled(db)
    review_id = _request(db, info["setl_id"])
    before = accumulators(db)
    with db.read_only() as s, _refused("RV_INPUT", field):
        reviews.preview(s, REVIEWER, review_id, corrections)
    with db.unit_of_work() as s, _refused("RV_INPUT", field):
        reviews.decide(s, REVIEWER, review_id, corrections, None, NOW)
    with db.read_only() as s:
        review = s.get(SettlementReview, review_id)
        assert review is not None and review.status == "requested"  # nothing half-written
    assert accumulators(db) == before


def test_request_rules_idempotency_one_open_review_and_due_date(db: Database) -> None:
    info = _settled(db)
    first = _request(db, info["setl_id"], request_id="k-1")
    assert _request(db, info["setl_id"], request_id="k-1") == first  # a retry is the same review
    with db.unit_of_work() as s, _refused("RV_OPEN"):
        reviews.request_review(s, person(), info["setl_id"], "again", "k-2", None, NOW)
    with db.unit_of_work() as s:
        try:
            reviews.request_review(s, person(), info["setl_id"], "again", "k-2", None, NOW)
        except YidiError as err:
            assert err.details["other"] == first  # the refusal names the open review
    with db.unit_of_work() as s, _refused("RV_INPUT", "reason"):
        reviews.request_review(s, REVIEWER, info["setl_id"], "   ", None, None, NOW)
    with db.unit_of_work() as s, _refused("RV_INPUT", "bank_account"):
        reviews.request_review(
            s, REVIEWER, info["setl_id"], "x", None, review_rules.checked_payee("某", "银行", "12ab"), NOW
        )
    with db.read_only() as s:
        review = s.get(SettlementReview, first)
        assert review is not None
        # 漯河 decides within 20 working days of the request (2026-06-01, a Monday; the Dragon Boat holiday
        # 2026-06-19 is not a working day).
        expected = default_calendar().count_working_days(NOW.date(), 20)
        assert (review.due_date, review.due_date_provisional, review.due_from) == (expected.date, False, NOW.date())
        assert review.due_date == dt.date(2026, 6, 30)
        assert [r.id for r in reviews.review_queue(s, REVIEWER, None, "requested", 10, 0)] == [first]
        assert reviews.is_overdue(review, dt.date(2026, 7, 1)) and not reviews.is_overdue(review, dt.date(2026, 6, 30))
    with db.unit_of_work() as s:
        refused = reviews.refuse(s, REVIEWER, first, "材料不足 / not enough papers", NOW)
        assert refused.status == "refused"
    with db.unit_of_work() as s, _refused("RV_STATE"):
        reviews.decide(s, REVIEWER, first, {}, None, NOW)
    assert _request(db, info["setl_id"], request_id="k-3") != first  # after a decision, a new review may be asked


def test_access_another_person_staff_elsewhere_and_roles(db: Database) -> None:
    info = _settled(db)
    with db.unit_of_work() as s, _refused("E_NOT_FOUND"):  # another person learns nothing of it
        reviews.request_review(s, person(OTHER_PSN), info["setl_id"], "not mine", None, None, NOW)
    with db.unit_of_work() as s, _refused("E_NOT_FOUND"):
        reviews.request_review(s, BEIJING_REVIEWER, info["setl_id"], "not our person", None, None, NOW)
    review_id = _request(db, info["setl_id"])
    with db.read_only() as s:
        with _refused("E_NOT_FOUND"):
            reviews.detail(s, person(OTHER_PSN), review_id, NOW.date())
        with _refused("E_NOT_FOUND"):
            reviews.detail(s, BEIJING_REVIEWER, review_id, NOW.date())
        with _refused("E_FORBIDDEN"):
            reviews.preview(s, BEIJING_REVIEWER, review_id, {"category": "long_term"})
        with _refused("E_FORBIDDEN"):
            reviews.preview(s, person(), review_id, {"category": "long_term"})
        with _refused("E_FORBIDDEN"):
            reviews.review_queue(s, BEIJING_REVIEWER, "411100", None, 10, 0)
        assert reviews.review_queue(s, BEIJING_REVIEWER, None, None, 10, 0) == []
        assert reviews.detail(s, person(), review_id, NOW.date()).review.id == review_id
    with db.unit_of_work() as s, _refused("E_FORBIDDEN"):
        reviews.decide(s, CLERK, review_id, {"category": "long_term"}, None, NOW)  # a clearing officer
    with db.unit_of_work() as s, _refused("E_FORBIDDEN"):
        reviews.decide(s, BEIJING_REVIEWER, review_id, {"category": "long_term"}, None, NOW)


# -- cancellation (2208) and the review ------------------------------------------------------------------


def test_a_decided_review_stands_against_a_cancellation(db: Database) -> None:
    """The hospital may not cancel a settlement the agency decided a difference against: the delta and the
    difference would be lost (or paid twice on a new settlement). The refusal changes nothing."""
    info = _settled(db)
    _decide(db, _request(db, info["setl_id"]), {"category": "long_term"})
    before = accumulators(db)
    answer = Hospital(db).cancel(info)
    assert answer["infcode"] == -1 and "[S_STATE]" in answer["err_msg"] and "复核" in answer["err_msg"]
    assert accumulators(db) == before
    with db.read_only() as s:
        assert s.get(Settlement, info["setl_id"]).status == "settled"  # type: ignore[union-attr]


def test_an_open_review_of_a_cancelled_settlement_cannot_be_decided(db: Database) -> None:
    info = _settled(db)
    review_id = _request(db, info["setl_id"])
    assert Hospital(db).cancel(info)["infcode"] == 0  # nothing decided yet: the hospital may cancel
    assert accumulators(db) == {}
    with db.unit_of_work() as s, _refused("RV_SETTLEMENT"):
        reviews.decide(s, REVIEWER, review_id, {"category": "long_term"}, None, NOW)
    with db.unit_of_work() as s:
        assert (
            reviews.refuse(s, REVIEWER, review_id, "结算已撤销 / the settlement was cancelled", NOW).status == "refused"
        )
    with db.unit_of_work() as s, _refused("RV_SETTLEMENT"):
        reviews.request_review(s, person(), info["setl_id"], "again", None, None, NOW)


def test_a_difference_needs_a_payee(db: Database) -> None:
    info = _settled(db)
    review_id = _request(db, info["setl_id"], payee=None)
    with db.unit_of_work() as s, _refused("RV_INPUT", "bank_account"):
        reviews.decide(s, REVIEWER, review_id, {"category": "long_term"}, None, NOW)
    with db.unit_of_work() as s:
        review = reviews.decide(s, REVIEWER, review_id, {"category": "long_term"}, None, NOW, payee=PAYEE)
        assert (review.bank_account, review.difference) == ("6222020000000000123", D("170.00"))
    paid = pay(db, review_id, "BANK0001")  # paid by a payment batch only
    assert (paid.status, paid.settled_serial) == ("paid", "BANK0001")


# -- over HTTP, with real sign-in ------------------------------------------------------------------------


@pytest.fixture
def client(db: Database, frozen_clock: dt.datetime) -> Iterator[TestClient]:
    load(db)
    with TestClient(create_app(db)) as c:
        yield c


def test_review_end_to_end_over_http(client: TestClient, db: Database) -> None:
    """The person asks, the 漯河 reviewer previews and decides (170.00 paid, as worked out above); staff open a
    second review at the counter that ends in a recovery of 30.00. A second visit the same day bears no
    deductible (used by the first): fund 1,000 × 0.30 = 300.00; with 阿卡波糖 as 乙类 10 %: 900 × 0.30 = 270.00."""
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    hospital = Hospital(db)
    first = hospital.outpatient(PSN, CERTNO, "2025-03-10", BILL, "H1")
    second = hospital.outpatient(PSN, CERTNO, "2025-03-10", BILL, "H2")
    assert (first["hifp_pay"], second["hifp_pay"]) == (D("255.00"), D("300.00"))
    me, other = person_headers(client, PSN), person_headers(client, OTHER_PSN)
    reviewer, beijing = staff_headers(client, "reviewer.411100"), staff_headers(client, "reviewer.110000")
    body = {
        "reason": "我有长期居住备案 / my long-term filing should have applied",
        "request_id": "web-1",
        "payee_name": "陈某戊",
        "bank_name": "中国工商银行漯河分行",
        "bank_account": "6222 0200 0000 0000 123",
    }
    asked = client.post(f"/api/v1/settlements/{first['setl_id']}/reviews", headers=me, json=body)
    assert asked.status_code == 201, asked.text
    review = asked.json()
    assert (review["status"], review["due_date"], review["due_date_provisional"]) == ("requested", "2026-06-30", False)
    assert review["bank_account"] == "6222020000000000123"
    again = client.post(f"/api/v1/settlements/{first['setl_id']}/reviews", headers=me, json=body)
    assert again.status_code == 201 and again.json()["id"] == review["id"]  # a retry
    stranger = client.post(f"/api/v1/settlements/{first['setl_id']}/reviews", headers=other, json=body)
    assert stranger.status_code == 404 and stranger.json()["code"] == "E_NOT_FOUND"
    rid = review["id"]
    assert [r["id"] for r in client.get("/api/v1/reviews", headers=me).json()] == [rid]
    assert client.get("/api/v1/reviews", headers=other).json() == []
    assert client.get(f"/api/v1/reviews/{rid}", headers=other).json()["code"] == "E_NOT_FOUND"
    assert client.get(f"/api/v1/reviews/{rid}", headers=beijing).json()["code"] == "E_NOT_FOUND"
    queue = client.get("/api/v1/staff/reviews", headers=reviewer).json()
    assert [(r["id"], r["overdue"]) for r in queue] == [(rid, False)]
    assert client.get("/api/v1/staff/reviews", headers=beijing).json() == []

    bad = client.post(
        f"/api/v1/staff/reviews/{rid}/preview",
        headers=reviewer,
        json={"corrections": {"line_classes": {REPAGLINIDE: {"chrgitm_lv": "02"}}}},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "RV_INPUT"
    assert bad.json()["details"]["field"] == f"corrections.line_classes.{REPAGLINIDE}"
    correction = {"corrections": {"category": "long_term"}}
    shown = client.post(f"/api/v1/staff/reviews/{rid}/preview", headers=reviewer, json=correction).json()
    assert (shown["difference"], shown["outcome"], shown["original"]["fund_pay_sumamt"]) == (
        "170.00",
        "difference",
        "255.00",
    )
    assert shown["increments"] == {"basic.fund": "170.00", "outpatient.fund": "170.00"}
    assert (shown["cash"], shown["account_credit"]) == ("170.00", "0.00")  # all of it refunds cash paid
    elsewhere = client.post(f"/api/v1/staff/reviews/{rid}/decide", headers=beijing, json=correction)
    assert elsewhere.status_code == 403
    decided = client.post(
        f"/api/v1/staff/reviews/{rid}/decide", headers=reviewer, json=correction | {"note": "长期居住备案应适用"}
    )
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["difference"]) == ("decided", "170.00")
    twice = client.post(f"/api/v1/staff/reviews/{rid}/decide", headers=reviewer, json=correction)
    assert twice.status_code == 409 and twice.json()["code"] == "RV_STATE"
    mine = client.get(f"/api/v1/reviews/{rid}", headers=me).json()
    assert (mine["original"]["hifp_pay"], mine["recomputed"]["hifp_pay"], mine["difference"]) == (
        "255.00",
        "425.00",
        "170.00",
    )
    assert [ln["med_list_codg"] for ln in mine["recomputed"]["lines"]] == [ACARBOSE, VITAMIN_C]
    assert (mine["category"], mine["decision_note"]) == ("other_temporary", "长期居住备案应适用")

    counter = client.post(
        f"/api/v1/staff/settlements/{second['setl_id']}/reviews", headers=reviewer, json={"reason": "稽核抽查"}
    )
    assert counter.status_code == 201, counter.text
    cid = counter.json()["id"]
    assert (
        client.post(
            f"/api/v1/settlements/{second['setl_id']}/reviews", headers=me, json=body | {"request_id": "x"}
        ).json()["code"]
        == "RV_OPEN"
    )
    recovery = client.post(
        f"/api/v1/staff/reviews/{cid}/decide",
        headers=reviewer,
        json={"corrections": {"line_classes": {ACARBOSE: {"chrgitm_lv": "02", "selfpay_prop": "0.10"}}}},
    ).json()
    assert (recovery["outcome"], recovery["difference"]) == ("recovery", "-30.00")
    clerk = staff_headers(client, "clearing.411100")
    assert client.post(f"/api/v1/staff/reviews/{cid}/decide", headers=clerk, json={}).status_code == 403
    back = client.post(f"/api/v1/staff/reviews/{cid}/recovered", headers=clerk, json={"serial": "ZH-2026-0001"})
    assert back.status_code == 200 and (back.json()["status"], back.json()["settled_serial"]) == (
        "recovered",
        "ZH-2026-0001",
    )
    assert accumulators(db) == {"outpatient.deductible": 15000, "outpatient.fund": 69500, "basic.fund": 69500}

    third = client.post(
        f"/api/v1/settlements/{second['setl_id']}/reviews", headers=me, json={"reason": "再次复核"}
    ).json()
    refused = client.post(f"/api/v1/staff/reviews/{third['id']}/refuse", headers=reviewer, json={"reason": "已复核"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    statuses = sorted(r["status"] for r in client.get("/api/v1/reviews", headers=me).json())
    assert statuses == ["decided", "recovered", "refused"]  # all asked in the same (frozen) second


def test_a_due_date_over_a_year_without_notice_is_provisional_until_the_notice_comes(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked on 2026-12-15: 20 working days reach into 2027, which has no holiday notice yet (weekends only:
    12/16–12/31 are 12 working days, then 2027-01-01 … 01-12 eight more: 2027-01-12, provisional). With a notice
    making 1–3 January a holiday, the date moves to 2027-01-13 and is no longer provisional."""
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    reset_settings()
    try:
        info = _settled(db)
        asked = dt.datetime(2026, 12, 15, 10, tzinfo=NOW.tzinfo)
        with db.unit_of_work() as s:
            review_id = reviews.request_review(s, person(), info["setl_id"], "复核", None, None, asked).id
        with db.read_only() as s:
            review = s.get(SettlementReview, review_id)
            assert review is not None and (review.due_date, review.due_date_provisional) == (dt.date(2027, 1, 12), True)
        install_notice(NOTICE_2027, "notice-2027.yaml")
        with db.unit_of_work() as s:
            counts = reviews.recompute_provisional_due_dates(s, SYSTEM, asked)
        assert counts == {"recomputed": 1, "unchanged": 0, "still_provisional": 0}
        with db.read_only() as s:
            review = s.get(SettlementReview, review_id)
            assert review is not None and (review.due_date, review.due_date_provisional) == (
                dt.date(2027, 1, 13),
                False,
            )
            event = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.due_date_recomputed")).one()
            assert event.before["due_date"] == "2027-01-12" and event.after["due_date"] == "2027-01-13"
    finally:
        reset_settings()


NOTICE_2027 = """\
# test copy in the layout of holidays.yaml (not the real 2027 notice)
2027:
  reference: "国务院办公厅关于2027年部分节假日安排的通知（测试）"
  holidays:
    - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  workdays: []
"""
