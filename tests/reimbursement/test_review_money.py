"""The money of a review (复核): the cash the person paid refunded first (by bank), the rest credited back to the
personal account; a recovery in cash; only the payment batches settle a difference (with the bank's serial); a
difference not yet paid may go to another account, never while a batch holds it; a settlement is reviewed again only
once its earlier decided review is paid or recovered; the payee in the audit, the account masked.

漯河 (411100) 2025 employee outpatient (not retired): deductible 150.00, ratio 0.50 at level 3; a filing of other
temporary care cuts 20 points (0.30), a long-term one none. The person's account holds 2,300.00.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from yidi.core.audit import AuditEvent
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import Audience, Principal
from yidi.demo.service import load_demo
from yidi.filing.rules import Subtype
from yidi.people.models import Insurance
from yidi.reimbursement import payments, review_payments, review_rules, reviews
from yidi.reimbursement.models import PaymentItem, SettlementReview
from yidi.reimbursement.payment_rules import ResultRow, bank_details_problem
from yidi.reimbursement.review_rules import Payee

from . import payments_support as ps
from .reviews_support import (
    ACARBOSE,
    BEIJING_REVIEWER,
    BILL,
    CERTNO,
    CLERK,
    NOW,
    OTHER_PSN,
    PSN,
    REVIEWER,
    VITAMIN_C,
    Hospital,
    accumulators,
    file,
    load,
    pay,
    person,
)

D = Decimal
PAYEE = Payee("王某", "中国工商银行漯河分行", "6222020000000000123")
BIG_BILL = [(ACARBOSE, "4000.00", "1600", "2.5"), (VITAMIN_C, "100.00", "100", "1")]


def _request(db: Database, setl_id: str, who: Principal | None = None, key: str | None = None, **kw: Any) -> str:
    with db.unit_of_work() as s:
        payee = kw.get("payee", PAYEE)
        return reviews.request_review(s, who or person(), setl_id, "请复核", key, payee, NOW).id


def _decide(db: Database, review_id: str, corrections: dict[str, Any], payee: Payee | None = None) -> SettlementReview:
    with db.unit_of_work() as s:
        review = reviews.decide(s, REVIEWER, review_id, corrections, None, NOW, payee)
        s.expunge(review)
        return review


def _balance(db: Database) -> Decimal:
    with db.read_only() as s:
        balance = s.scalar(select(Insurance.balc).where(Insurance.psn_no == PSN, Insurance.insutype == "310"))
        assert balance is not None
        return balance


def _big_visit(db: Database) -> dict[str, Any]:
    """Other temporary care, the account used: eligible 4,000.00, deductible 150.00, fund 3,850 × 0.30 =
    1,155.00; personal 4,100 − 1,155 = 2,945.00: the account's 2,300.00, then 645.00 cash."""
    load(db)
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    info = Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BIG_BILL, "BIG", acct="1")
    assert (info["hifp_pay"], info["acct_pay"], info["psn_cash_pay"], info["balc"]) == (
        D("1155.00"),
        D("2300.00"),
        D("645.00"),
        D("0.00"),
    )
    return info


# -- cash first, then the account ---------------------------------------------------------------------------------


def test_a_difference_refunds_the_cash_paid_and_credits_the_rest_to_the_account(db: Database) -> None:
    """With the long-term filing that should have applied: 3,850 × 0.50 = 1,925.00, difference 770.00. The person
    paid 645.00 cash: that is refunded by bank; the other 125.00 was paid from the account and goes back to it
    (balance 0.00 → 125.00). The new shares: account 2,300 − 125 = 2,175.00, cash 0.00, personal part 2,175.00.
    A second review (维生素C 乙类 10 %: eligible 4,090.00, (4,090 − 150) × 0.50 = 1,970.00) finds 45.00 more:
    no cash is left to refund (the first review refunded it), so all 45.00 goes to the account (170.00) and the
    review is settled at once, with no bank payment."""
    info = _big_visit(db)
    first = _decide(db, _request(db, info["setl_id"]), {"category": "long_term"})
    split = first.recomputed
    assert split is not None
    assert (first.difference, first.account_credit, first.status) == (D("770.00"), D("125.00"), "decided")
    assert (split["fund_pay_sumamt"], split["psn_part_amt"], split["acct_pay"], split["psn_cash_pay"]) == (
        "1925.00",
        "2175.00",
        "2175.00",
        "0.00",
    )
    assert D(split["fund_pay_sumamt"]) + D(split["acct_pay"]) + D(split["psn_cash_pay"]) == D(split["medfee_sumamt"])
    assert [(d["fund_pay_type"], d["fund_payamt"]) for d in split["setldetail"]] == [
        ("310100", "1925.00"),
        ("310200", "2175.00"),
    ]
    assert _balance(db) == D("125.00")
    with db.unit_of_work() as s:
        batch = payments.create_batch(s, CLERK, "411100", NOW, "cash-1").batch
        assert [(i.source_id, i.amount) for i in batch.items] == [(first.id, D("645.00"))]  # the cash part only
        row = ResultRow(1, source_id=first.id, result="paid", bank_serial="BK-645", paid_on="2026-06-01")
        payments.record_results(s, CLERK, batch.id, [row], NOW)
    second_id = _request(db, info["setl_id"], key="second")
    second = _decide(db, second_id, {"line_classes": {VITAMIN_C: {"chrgitm_lv": "02", "selfpay_prop": "0.10"}}})
    assert (second.difference, second.account_credit, second.status, second.settled_at) == (
        D("45.00"),
        D("45.00"),
        "paid",
        NOW,
    )
    assert second.recomputed is not None
    assert (second.recomputed["acct_pay"], second.recomputed["psn_cash_pay"]) == ("2130.00", "0.00")
    assert _balance(db) == D("170.00")
    assert accumulators(db) == {"outpatient.deductible": 15000, "outpatient.fund": 197000, "basic.fund": 197000}
    with db.read_only() as s:
        assert reviews.payable(s, CLERK, "411100") == []
        credits = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "insurance.account_credit").order_by(AuditEvent.id)
        ).all()
        assert [(e.before["balc"], e.after["balc"], e.after["review_id"]) for e in credits] == [
            ("0.00", "125.00", first.id),
            ("125.00", "170.00", second.id),
        ]


def test_line_wrongly_classed_and_the_account_credited_back(db: Database) -> None:
    """维生素C settled as 丙类 (wholly self-paid) was 乙类 with a 10 % first self-pay share; the person paid the
    personal part from the account (balance 2,300.00 ≥ 845.00).
    Recomputed: 维生素C first self-pay 10.00, eligible 90.00; fund (1,090 − 150) × 0.30 = 282.00.
    Difference 282.00 − 255.00 = 27.00. The person paid no cash, so nothing is refunded by bank: the 27.00 goes
    back to the account that paid it (balance 1,455.00 + 27.00 = 1,482.00) and the review is settled at once; the
    recomputed shares are account 845.00 − 27.00 = 818.00, cash 0.00."""
    load(db)
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    info = Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1", acct="1")
    assert (info["acct_pay"], info["psn_cash_pay"], info["balc"]) == (D("845.00"), D("0.00"), D("1455.00"))
    review_id = _request(db, info["setl_id"])
    corrections = {"line_classes": {VITAMIN_C: {"chrgitm_lv": "02", "selfpay_prop": "0.10"}}}
    review = _decide(db, review_id, corrections)
    assert (review.outcome, review.difference) == ("difference", D("27.00"))
    split = review.recomputed
    assert split is not None
    assert (split["psn_part_amt"], split["acct_pay"], split["psn_cash_pay"]) == ("818.00", "818.00", "0.00")
    assert (review.account_credit, review.status, review.settled_serial) == (D("27.00"), "paid", None)
    assert [(d["fund_pay_type"], d["fund_payamt"]) for d in split["setldetail"]] == [
        ("310100", "282.00"),
        ("310200", "818.00"),
    ]
    vitamin = split["lines"][1]
    assert vitamin["original"] == {
        "chrgitm_lv": "03",
        "selfpay_prop": "1",
        "fulamt_ownpay_amt": "100.00",
        "overlmt_amt": "0.00",
        "preselfpay_amt": "0.00",
        "inscp_scp_amt": "0.00",
    }
    assert (vitamin["recomputed"]["chrgitm_lv"], vitamin["recomputed"]["preselfpay_amt"]) == ("02", "10.00")
    assert vitamin["recomputed"]["inscp_scp_amt"] == "90.00"
    assert accumulators(db)["outpatient.fund"] == 28200
    with db.read_only() as s:
        balance = s.scalar(select(Insurance.balc).where(Insurance.psn_no == PSN))
        assert balance == D("1482.00")  # credited back under the person's lock, and audited
        credit = s.scalars(select(AuditEvent).where(AuditEvent.action == "insurance.account_credit")).one()
        assert (credit.before, credit.after["balc"], credit.after["credit"]) == (
            {"balc": "1455.00"},
            "1482.00",
            "27.00",
        )
        assert reviews.payable(s, CLERK, "411100") == []  # no bank payment


def test_a_stay_at_a_wrongly_recorded_level(db: Database) -> None:
    """漯河 employee and civil servant (not retired, account 4,100.00), long-term filing, a 2025 stay in 北京 of
    10,000.00 (甲类), settled with the account at level 3: first-stay deductible 800.00, basic (10,000 − 800) ×
    0.80 = 7,360.00, civil-servant subsidy (10,000 − 7,360) × 0.50 = 1,320.00, personal 1,320.00 from the account.
    The hospital's 医保结算等级 was level 2 then: deductible 600.00, basic (10,000 − 600) × 0.85 = 7,990.00,
    subsidy (10,000 − 7,990) × 0.50 = 1,005.00; fund 8,995.00 against 8,680.00: difference 315.00. The stay is
    still counted once (the stays count does not move). The person paid no cash: the 315.00 goes back to the
    account (2,780.00 + 315.00 = 3,095.00), which now bears 1,320.00 − 315.00 = 1,005.00, the new personal part."""
    load(db)
    civil_servant = "41110000000000000011"
    file(db, civil_servant, Subtype.RESETTLED_RETIREE, dt.date(2025, 6, 1))
    lines = [(ACARBOSE, "10000.00", "4000", "2.5")]
    info = Hospital(db).inpatient(civil_servant, "411102197810109217", "2025-06-05", "2025-06-10", lines, "ZY1")
    assert (info["hifp_pay"], info["cvlserv_pay"], info["acct_pay"]) == (D("7360.00"), D("1320.00"), D("1320.00"))
    review_id = _request(db, info["setl_id"], person(civil_servant))
    review = _decide(db, review_id, {"settlement_level": "level_2"})
    assert (review.outcome, review.difference) == ("difference", D("315.00"))
    split = review.recomputed
    assert split is not None
    assert (split["act_pay_dedc"], split["hifp_pay"], split["cvlserv_pay"]) == ("600.00", "7990.00", "1005.00")
    assert (split["acct_pay"], split["psn_cash_pay"], split["psn_part_amt"]) == ("1005.00", "0.00", "1005.00")
    assert (review.account_credit, review.status) == (D("315.00"), "paid")
    assert info["balc"] == D("2780.00")
    with db.read_only() as s:
        assert s.scalar(select(Insurance.balc).where(Insurance.psn_no == civil_servant)) == D("3095.00")
    assert review.increments == {"basic.fund": "630.00", "civil_servant.fund": "-315.00"}
    assert accumulators(db, civil_servant) == {"inpatient.stays": 1, "basic.fund": 799000, "civil_servant.fund": 100500}


def test_a_recovery_is_recovered_in_cash_and_the_account_is_not_touched(db: Database) -> None:
    """阿卡波糖 was 乙类 10 %: first self-pay 400.00, eligible 3,600.00, (3,600 − 150) × 0.30 = 1,035.00;
    difference −120.00, recovered in cash: the account's 2,300.00 stands, the cash share 645 + 120 = 765.00."""
    info = _big_visit(db)
    review = _decide(
        db, _request(db, info["setl_id"]), {"line_classes": {ACARBOSE: {"chrgitm_lv": "02", "selfpay_prop": "0.10"}}}
    )
    assert (review.outcome, review.difference, review.account_credit) == ("recovery", D("-120.00"), None)
    assert review.recomputed is not None
    assert (review.recomputed["acct_pay"], review.recomputed["psn_cash_pay"]) == ("2300.00", "765.00")
    assert _balance(db) == D("0.00")


def test_the_shares_always_add_up() -> None:
    """`personal_shares` over differences from a recovery up to the whole personal part, with and without cash
    paid: cash is refunded first, the account never goes below zero, the shares are the new personal part."""
    for acct, cash in ((D("2300.00"), D("645.00")), (D("845.00"), D("0.00")), (D("0.00"), D("1100.00"))):
        before = review_rules.Totals(acct + cash + D("255.00"), D("255.00"), acct + cash, acct, cash)
        for difference in {D("-30.00"), D("0.01"), cash, min(cash + D("0.01"), acct + cash), acct + cash}:
            shares = review_rules.personal_shares(difference, before)
            assert shares.acct_pay + shares.psn_cash_pay == acct + cash - difference
            assert shares.cash + shares.account_credit == difference
            assert shares.account_credit >= 0 and shares.acct_pay >= 0
            assert shares.cash == (min(difference, cash) if difference > 0 else difference)


# -- paid by the bank only ----------------------------------------------------------------------------------------


@pytest.fixture
def demo(db: Database) -> Database:
    with db.unit_of_work() as s:
        load_demo(s, ps.NOW - dt.timedelta(days=400))
    return db


def _batch(db: Database, key: str) -> str:
    with db.unit_of_work() as s:
        return payments.create_batch(s, ps.CLEARING, ps.LH, ps.NOW, key).batch.id


def _paid(n: int, source_id: str, serial: str) -> ResultRow:
    return ResultRow(n, source_id=source_id, result="paid", bank_serial=serial, paid_on=ps.NOW.date().isoformat())


def test_a_batch_pays_a_review_with_the_banks_serial_and_the_reviews_own_audit_row(demo: Database) -> None:
    with demo.unit_of_work() as s:
        rid = ps.review(s, ps.lh(1), "170.00").id
    batch_id = _batch(demo, "a")
    with demo.unit_of_work() as s:
        payments.record_results(s, ps.CLEARING, batch_id, [_paid(1, rid, "BANK-777")], ps.NOW)
    with demo.read_only() as s:
        review = s.get(SettlementReview, rid)
        assert review is not None
        assert (review.status, review.settled_at, review.settled_serial) == ("paid", ps.NOW, "BANK-777")
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == rid, AuditEvent.action == "review.payment_paid")
        ).one()
        entity_type, before, after = event.entity_type, event.before, event.after
    assert (entity_type, before["status"], after["status"]) == ("settlement_review", "decided", "paid")
    assert after["settled_serial"] == "BANK-777" and after["payment_item"]["batch_id"] == batch_id
    assert after["payee"] == {
        "payee_name": "刘某丁",
        "bank_name": "中国农业银行漯河分行",
        "bank_account": "6228***********9012",
    }


def test_nobody_marks_a_review_paid_by_hand_and_a_batch_always_closes(demo: Database) -> None:
    """The review's paid state is the payment path's only: a reviewer is refused, so is an item still pending; the
    bank's result is then recorded and the batch closes."""
    assert not hasattr(reviews, "mark_paid")
    with demo.unit_of_work() as s:
        rid = ps.review(s, ps.lh(1), "170.00").id
    batch_id = _batch(demo, "a")
    with demo.unit_of_work() as s:
        review = s.get(SettlementReview, rid)
        item = s.scalars(select(PaymentItem).where(PaymentItem.source_id == rid)).one()
        assert review is not None
        with pytest.raises(YidiError, match="E_FORBIDDEN"):
            review_payments.record_paid_by_bank(s, ps.REVIEWER, review, item, ps.NOW, "api")
        with pytest.raises(YidiError, match="RV_STATE"):  # the item is still pending at the bank
            review_payments.record_paid_by_bank(s, ps.CLEARING, review, item, ps.NOW, "api")
    with demo.unit_of_work() as s:
        report = payments.record_results(s, ps.CLEARING, batch_id, [_paid(1, rid, "BANK-777")], ps.NOW)
    assert report.batch_status.value == "closed"


# -- another account ------------------------------------------------------------------------------------------------


def test_a_failed_review_payment_goes_to_another_account(demo: Database) -> None:
    """The bank could not pay the account given: the person gives another one (refused while the item was still
    pending); the next batch pays it there. Staff elsewhere and other persons learn nothing; the change is audited
    with the account masked; the same payee again changes nothing."""
    with demo.unit_of_work() as s:
        rid = ps.review(s, ps.lh(1), "170.00").id
    first = _batch(demo, "a")
    new = Payee("刘某丁", "中国银行漯河分行", "6217000000000000001")
    with demo.unit_of_work() as s, pytest.raises(YidiError) as pending:
        review_payments.change_payee(s, ps.person(ps.lh(1)), rid, new, ps.NOW)
    assert (pending.value.code, pending.value.details["batch_id"]) == ("RV_PENDING", first)
    with demo.unit_of_work() as s:
        failed = ResultRow(1, source_id=rid, result="failed", reason="账户已销户 / account closed")
        payments.record_results(s, ps.CLEARING, first, [failed], ps.NOW)
    for who, code in ((ps.person(ps.lh(2)), "E_NOT_FOUND"), (ps.CLEARING_BJ, "E_NOT_FOUND")):
        with demo.unit_of_work() as s, pytest.raises(YidiError, match=code):
            review_payments.change_payee(s, who, rid, new, ps.NOW)
    with demo.unit_of_work() as s:
        changed = review_payments.change_payee(s, ps.person(ps.lh(1)), rid, new, ps.NOW)
        assert (changed.bank_account, changed.status, changed.version) == ("6217000000000000001", "decided", 3)
    with demo.unit_of_work() as s:
        assert review_payments.change_payee(s, ps.REVIEWER, rid, new, ps.NOW).version == 3  # the same: unchanged
    with demo.unit_of_work() as s:
        again = payments.create_batch(s, ps.CLEARING, ps.LH, ps.NOW, "b").batch
        assert [(i.bank_name, i.bank_account) for i in again.items] == [("中国银行漯河分行", "6217000000000000001")]
    with demo.read_only() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.payee_changed")).all()
        assert len(events) == 1
        assert events[0].before["payee"]["bank_account"] == "6228***********9012"
        assert events[0].after["payee"] == {
            "payee_name": "刘某丁",
            "bank_name": "中国银行漯河分行",
            "bank_account": "6217***********0001",
        }
        assert "6217000000000000001" not in json.dumps([e.after for e in s.scalars(select(AuditEvent))])


def test_only_a_decided_difference_changes_its_payee(demo: Database) -> None:
    with demo.unit_of_work() as s:
        recovery = ps.review(s, ps.lh(1), "-20.00", outcome="recovery").id
        paid = ps.review(s, ps.lh(2), "10.00", status="paid").id
    for rid, who in ((recovery, ps.person(ps.lh(1))), (paid, ps.person(ps.lh(2)))):
        with demo.unit_of_work() as s, pytest.raises(YidiError, match="RV_STATE"):
            review_payments.change_payee(s, who, rid, PAYEE, ps.NOW)
    with demo.unit_of_work() as s, pytest.raises(YidiError, match="E_FORBIDDEN"):
        review_payments.change_payee(s, Principal(Audience.INSTITUTION, "H11010500001"), paid, PAYEE, ps.NOW)


@pytest.mark.parametrize(
    ("name", "bank", "account", "field"),
    [
        ("=刘某丁", "中国农业银行", "6228480123456789012", "payee_name"),
        ("刘某丁", "-农行漯河分行", "6228480123456789012", "bank_name"),
        ("刘某丁\x7f", "中国农业银行", "6228480123456789012", "payee_name"),
        ("刘某丁", "中国农业银行", "6228-48O1-2345", "bank_account"),
        ("刘某丁", "中国农业银行", "1234567", "bank_account"),
        ("刘某丁", "", "6228480123456789012", "bank_name"),
    ],
)
def test_a_payee_no_batch_would_take_is_refused_when_given(name: str, bank: str, account: str, field: str) -> None:
    """The review's payee is checked by the very rule a batch applies (`payment_rules.bank_details_fault`)."""
    assert bank_details_problem(name, bank, account) is not None
    with pytest.raises(YidiError) as refused:
        review_rules.checked_payee(name, bank, account)
    assert (refused.value.code, refused.value.details["field"]) == ("RV_INPUT", field)
    accepted = review_rules.checked_payee(" 刘某丁 ", "中国农业银行", "6228 4801 2345 6789 012")
    assert accepted == Payee("刘某丁", "中国农业银行", "6228480123456789012")
    assert bank_details_problem(accepted.payee_name, accepted.bank_name, accepted.bank_account) is None


# -- one decided review settled at a time; the payee in the audit ------------------------------------------------


def test_a_settlement_is_reviewed_again_only_once_its_decided_review_is_paid(db: Database) -> None:
    """Review 1 finds 170.00 (the long-term filing); staff then doubt it and would recover it by a second review
    before the 170.00 has even been paid: refused, naming review 1. Once the batch paid it, review 2 is opened and
    decides the recovery of 170.00: one payment, one recovery, each carried out once."""
    load(db)
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    info = Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1")
    r1 = _decide(db, _request(db, info["setl_id"], key="k1"), {"category": "long_term"})
    assert r1.difference == D("170.00")
    with db.unit_of_work() as s, pytest.raises(YidiError) as refused:
        reviews.request_review(s, REVIEWER, info["setl_id"], "抽查：类别更正有误", "k2", None, NOW)
    assert (refused.value.code, refused.value.details["other"], refused.value.http_status) == (
        "RV_UNSETTLED",
        r1.id,
        409,
    )
    pay(db, r1.id, "BANK-170")
    r2 = _decide(db, _request(db, info["setl_id"], REVIEWER, "k2", payee=None), {"category": "other_temporary"})
    assert (r2.outcome, r2.difference) == ("recovery", D("-170.00"))
    with db.unit_of_work() as s, pytest.raises(YidiError, match="P_EMPTY"):
        payments.create_batch(s, CLERK, "411100", NOW, "after")  # nothing more to pay


def test_a_payee_redirected_at_the_decision_is_in_the_audit_masked(db: Database) -> None:
    load(db)
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    info = Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1")
    rid = _request(db, info["setl_id"])
    _decide(db, rid, {"category": "long_term"}, Payee("李某", "中国建设银行", "6217009999999999999"))
    with db.read_only() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == rid, AuditEvent.action.like("review.decide%"))
        ).one()
        before, after = event.before, event.after
        everything = json.dumps([(e.before, e.after) for e in s.scalars(select(AuditEvent))], ensure_ascii=False)
    assert before["payee"] == {
        "payee_name": "王某",
        "bank_name": "中国工商银行漯河分行",
        "bank_account": "6222***********0123",
    }
    assert after["payee"] == {"payee_name": "李某", "bank_name": "中国建设银行", "bank_account": "6217***********9999"}
    assert "6217009999999999999" not in everything and "6222020000000000123" not in everything


# -- retries, and who learns what -----------------------------------------------------------------------------------


def test_a_retried_decision_refusal_or_recovery_answers_the_same_and_a_different_one_is_refused(db: Database) -> None:
    load(db)
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    info = Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1")
    rid = _request(db, info["setl_id"])
    corrections = {"line_classes": {ACARBOSE: {"chrgitm_lv": "02", "selfpay_prop": "0.10"}}}
    with db.unit_of_work() as s:
        first = reviews.decide(s, REVIEWER, rid, corrections, "目录等级有误", NOW)
        version = first.version
    with db.read_only() as s:
        count = len(s.scalars(select(AuditEvent.id)).all())
    with db.unit_of_work() as s:
        again = reviews.decide(s, REVIEWER, rid, corrections, "目录等级有误", NOW + dt.timedelta(minutes=1))
        assert (again.version, again.difference, again.decided_at) == (version, D("-30.00"), NOW)
    for different in ((corrections, "另一说明"), ({"category": "long_term"}, "目录等级有误")):
        with db.unit_of_work() as s, pytest.raises(YidiError, match="RV_STATE"):
            reviews.decide(s, REVIEWER, rid, different[0], different[1], NOW)
    with db.unit_of_work() as s:
        assert reviews.record_recovery(s, CLERK, rid, "ZH-1", NOW).status == "recovered"
    with db.unit_of_work() as s:
        assert reviews.record_recovery(s, CLERK, rid, "ZH-1", NOW).settled_serial == "ZH-1"
    with db.unit_of_work() as s, pytest.raises(YidiError, match="RV_STATE"):
        reviews.record_recovery(s, CLERK, rid, "ZH-2", NOW)
    other = _request(db, info["setl_id"], key="again")
    with db.unit_of_work() as s:
        reviews.refuse(s, REVIEWER, other, "已复核", NOW)
    with db.unit_of_work() as s:
        assert reviews.refuse(s, REVIEWER, other, "已复核", NOW).status == "refused"
    with db.unit_of_work() as s, pytest.raises(YidiError, match="RV_STATE"):
        reviews.refuse(s, REVIEWER, other, "另一理由", NOW)
    with db.read_only() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))][count:]
    assert actions == ["review.recovered", "review.request", "review.refuse"]  # a retry writes nothing


def test_another_persons_settlement_and_review_are_not_found(db: Database) -> None:
    load(db)
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    info = Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1")
    rid = _request(db, info["setl_id"])
    stranger = person(OTHER_PSN)
    with db.unit_of_work() as s:
        for call in (
            lambda: reviews.request_review(s, stranger, info["setl_id"], "x", None, None, NOW),
            lambda: reviews.detail(s, stranger, rid, NOW.date()),
            lambda: payments.payments_of(s, stranger, "review", rid),
            lambda: review_payments.change_payee(s, stranger, rid, PAYEE, NOW),
            lambda: reviews.detail(s, BEIJING_REVIEWER, rid, NOW.date()),
        ):
            with pytest.raises(YidiError, match="E_NOT_FOUND"):
                call()
