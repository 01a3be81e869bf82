"""A claim of care that was partly settled directly (the code review's defects 1–4 and 6), on SQLite and PostgreSQL.

The design: a claim visit of the same care as direct settlements in force (same institution, same care class, the
settlement's service date or its visit's first day within the visit's dates) is computed as the WHOLE care — the
settlements' own lines plus the claim's — from the year's accumulators less what those settlements count for now;
it pays the funds' share of the whole care less what they count for in fund terms now (their fund share plus the
differences reviews decided), never below zero, visit by visit. At approval each such settlement is recorded as
counting for nothing (an adjustment of source "claim"): the claim holds its care, its cancellation is refused.

Amounts by hand from the shipped 漯河 (411100) parameters of 2026 (values of 2025-01-01), employee not retired:
outpatient deductible 150 a year, ratio level 3 0.50 (北京演示第一医院), level 2 0.60; cross-province other
temporary −20 points (so 0.30 at level 3), long term no cut, unfiled (not settled directly) no cut; inpatient
first-stay deductible level 3 800, ratio 0.80 (so 0.60 filed other temporary). 阿卡波糖 is 甲类, 瑞格列奈 乙类
with 10 % first self-pay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from yidi.core import clock
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.demo.service import load_demo
from yidi.reimbursement import computation, reviews, service
from yidi.reimbursement.models import Claim
from yidi.reimbursement.review_rules import Payee
from yidi.settlement.adjustments import counted_increments
from yidi.settlement.models import Accumulator, Settlement, SettlementAdjustment

from .claims_support import (
    ACARBOSE,
    INPATIENT_PAPERS,
    LH_EMPLOYEE,
    NOW,
    REPAGLINIDE,
    REVIEWER_LH,
    Hospital,
    approved,
    filed_to_beijing,
    line,
    outside,
    person,
    visit,
)

CERTNO = "411102198505059094"  # LH_EMPLOYEE's
FANGCHENGGANG = outside("防城港演示县医院（未联网）", "450600", "level_2")
PAYEE = Payee("陈某戊", "中国工商银行漯河分行", "6222020000000000123")
SETTLED = [line("1", ACARBOSE, "2026-05-11", "160", "2.5")]  # 400.00, 甲类
REST = [line("2", REPAGLINIDE, "2026-05-11", "80", "2.5")]  # 200.00, 乙类: 180.00 eligible


@pytest.fixture
def demo(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with db.unit_of_work() as s:
        load_demo(s, NOW)
    filed_to_beijing(db, LH_EMPLOYEE, dt.date(2026, 5, 1), dt.datetime(2026, 5, 1, 9, tzinfo=NOW.tzinfo))
    yield db


def accumulators(db: Database) -> dict[str, int]:
    with db.read_only() as s:
        rows = s.scalars(select(Accumulator).where(Accumulator.psn_no == LH_EMPLOYEE))
        return {a.key: a.value for a in rows if a.value}


def claim_of(db: Database, claim_id: str) -> Claim:
    with db.read_only() as s:
        claim = service.load(s, claim_id)
        for v in claim.visits:
            _ = (v.lines, v.invoices)
        s.expunge_all()
        return claim


def settle_outpatient_day(db: Database, day: str = "2026-05-11", lines: list[dict[str, str]] = SETTLED) -> str:
    """A 2207 of an outpatient day at 北京演示第一医院: 400.00 eligible, 150 deductible, (400 − 150) × 0.30 = 75.00."""
    hospital = Hospital(db)
    mdtrt_id = hospital.outpatient_visit(LH_EMPLOYEE, CERTNO, day, lines)
    answer = hospital.settle(LH_EMPLOYEE, mdtrt_id)
    assert answer["infcode"] == 0, answer["err_msg"]
    return str(answer["output"]["setlinfo"]["setl_id"])


def review_as_long_term(db: Database, setl_id: str) -> Decimal:
    """A review (复核) deciding the settlement was long-term care (no cut): (400 − 150) × 0.50 = 125.00, a difference
    of 50.00 in the person's favour."""
    with db.unit_of_work() as s:
        review_id = reviews.request_review(s, person(LH_EMPLOYEE), setl_id, "类别有误", None, PAYEE, NOW).id
    with db.unit_of_work() as s:
        decided = reviews.decide(s, REVIEWER_LH, review_id, {"category": "long_term"}, None, NOW)
        assert decided.difference is not None
        return decided.difference


# -- defect 1: the claim of what was not settled directly ---------------------------------------------------


def test_a_claim_of_the_remainder_is_computed_with_the_settled_lines_and_pays_the_difference(demo: Database) -> None:
    """The person holds an invoice only for what they paid in full (line 2). The whole day: 400 + 180 = 580.00
    eligible, (580 − 150) × 0.30 = 129.00; paid directly 75.00; payable 54.00. The year ends as if the day had been
    settled once: deductible 150, fund 129.00; the settlement now counts for nothing, the claim for the day."""
    setl_id = settle_outpatient_day(demo)
    claim = claim_of(demo, approved(demo, LH_EMPLOYEE, [visit("2026-05-11", lines=REST, invono="BJ-SELF")]))
    v = claim.visits[0]
    assert (v.direct_setl_ids, v.paid_directly) == ([setl_id], Decimal("75.00"))
    assert v.split is not None and (v.split["medfee_sumamt"], v.split["act_pay_dedc"], v.split["hifp_pay"]) == (
        "600.00",
        "150.00",
        "129.00",
    )
    assert (claim.fund_pay_sumamt, claim.paid_directly, claim.payable) == (
        Decimal("129.00"),
        Decimal("75.00"),
        Decimal("54.00"),
    )
    assert v.increments == {"outpatient.deductible": "150.00", "basic.fund": "129.00", "outpatient.fund": "129.00"}
    assert [ln.feedetl_sn for ln in v.lines if ln.result] == ["2"]  # the settlement's line is not the claim's
    assert v.lines[0].result is not None and v.lines[0].result["preselfpay_amt"] == "20.00"
    assert accumulators(demo) == {"outpatient.deductible": 15000, "basic.fund": 12900, "outpatient.fund": 12900}
    with demo.read_only() as s:
        settlement = s.get(Settlement, setl_id)
        assert settlement is not None and counted_increments(s, settlement) == {}
        adjustment = s.scalars(select(SettlementAdjustment)).one()
        assert (adjustment.setl_id, adjustment.source_kind, adjustment.source_id) == (setl_id, "claim", claim.id)
        assert computation.absorbing_claim(s, setl_id) == claim.id


def test_a_settled_line_listed_again_is_left_out_with_the_reason_the_person_reads(demo: Database) -> None:
    """The hospital's whole fee list imported: line 1 is the settlement's (same number, code and amount), so the
    whole care is still 400 + 180 eligible → 129.00, payable 54.00, and the line is left out, saying why."""
    setl_id = settle_outpatient_day(demo)
    claim = claim_of(demo, approved(demo, LH_EMPLOYEE, [visit("2026-05-11", lines=SETTLED + REST, invono="BJ-ALL")]))
    first, second = claim.visits[0].lines
    assert (first.excluded, first.exclusion_reason, first.result) == (
        True,
        f"已由直接结算{setl_id}支付 / paid by direct settlement {setl_id}",
        None,
    )
    assert not second.excluded and claim.payable == Decimal("54.00")


# -- defect 2: a settlement a claim computed again is not cancelled -----------------------------------------------


def test_a_settlement_a_claim_computed_again_cannot_be_cancelled_at_the_hospital(demo: Database) -> None:
    setl_id = settle_outpatient_day(demo)
    with demo.read_only() as s:
        mdtrt_id = s.get(Settlement, setl_id).mdtrt_id  # type: ignore[union-attr]
    approved(demo, LH_EMPLOYEE, [visit("2026-05-11", lines=REST, invono="BJ-SELF")])
    before = accumulators(demo)
    answer = Hospital(demo).call("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": LH_EMPLOYEE}})
    assert answer["infcode"] != 0
    assert accumulators(demo) == before  # the deductible is not given back a second time
    with demo.read_only() as s:
        assert s.get(Settlement, setl_id).status == "settled"  # type: ignore[union-attr]


# -- defect 3: what a review decided counts ----------------------------------------------------------------------


def test_a_reviewed_settlement_counts_with_the_difference_its_review_decided(demo: Database) -> None:
    """After a review raised the settlement to 125.00 (difference 50.00; the year: deductible 150, fund 125.00), the
    claim of line 2 recomputes the day from the accumulators less all the settlement counts for (deductible 150,
    fund 125): (580 − 150) × 0.30 = 129.00 (the claim's own filing category); paid directly 75 + 50 = 125.00;
    payable 4.00. The funds pay 75 + 50 + 4 = 129.00 for the day, as computed; the year ends at fund 129.00."""
    setl_id = settle_outpatient_day(demo)
    assert review_as_long_term(demo, setl_id) == Decimal("50.00")
    assert accumulators(demo) == {"outpatient.deductible": 15000, "basic.fund": 12500, "outpatient.fund": 12500}
    claim = claim_of(demo, approved(demo, LH_EMPLOYEE, [visit("2026-05-11", lines=REST, invono="BJ-SELF")]))
    assert (claim.fund_pay_sumamt, claim.paid_directly, claim.payable) == (
        Decimal("129.00"),
        Decimal("125.00"),
        Decimal("4.00"),
    )
    assert accumulators(demo) == {"outpatient.deductible": 15000, "basic.fund": 12900, "outpatient.fund": 12900}


def test_a_settlement_a_claim_computed_again_is_not_reviewed_on_its_own(demo: Database) -> None:
    setl_id = settle_outpatient_day(demo)
    approved(demo, LH_EMPLOYEE, [visit("2026-05-11", lines=REST, invono="BJ-SELF")])
    with pytest.raises(YidiError) as refused:
        review_as_long_term(demo, setl_id)
    assert setl_id in refused.value.message_en and "computed again by claim" in refused.value.message_en


# -- defect 4: the same care ---------------------------------------------------------------------------------


def test_an_outpatient_settlement_during_a_claimed_stay_is_another_care(demo: Database) -> None:
    """An outpatient 2207 on 10 May (75.00) and a stay of 10–15 May at the same hospital claimed: the stay is computed
    alone, the settlement untouched. First stay, level 3: (5,000 − 800) × 0.60 = 2,520.00, all payable."""
    setl_id = settle_outpatient_day(demo, "2026-05-10", [line("1", ACARBOSE, "2026-05-10", "160", "2.5")])
    stay = visit(
        "2026-05-10",
        "2026-05-15",
        lines=[line("1", ACARBOSE, "2026-05-12", "2000", "2.5")],
        care="inpatient",
        invono="ZY-0515",
    )
    claim = claim_of(demo, approved(demo, LH_EMPLOYEE, [stay], INPATIENT_PAPERS))
    v = claim.visits[0]
    assert (v.direct_setl_ids, v.paid_directly) == ([], Decimal("0.00"))
    assert (claim.fund_pay_sumamt, claim.payable) == (Decimal("2520.00"), Decimal("2520.00"))
    acc = accumulators(demo)
    assert (acc["outpatient.deductible"], acc["outpatient.fund"]) == (15000, 7500)  # the outpatient day stays
    with demo.read_only() as s:
        assert computation.absorbing_claim(s, setl_id) is None


# -- defect 6: each visit pays its own share ---------------------------------------------------------------------


def test_a_visit_computed_below_what_was_paid_directly_takes_nothing_from_another_visit(demo: Database) -> None:
    """Visit 1 (11 May at 北京, reviewed to 125.00 paid directly) claims a further 10.00 of 阿卡波糖: the whole day,
    410.00 eligible from zero, (410 − 150) × 0.30 = 78.00, below the 125.00 paid: it pays nothing. Visit 2
    (20 May, 防城港 outside the network, unfiled level 2, the deductible used by visit 1): 300 × 0.60 = 180.00, paid
    in full as it would be claimed alone. Payable 0 + 180.00, not 78 + 180 − 125 = 133.00."""
    setl_id = settle_outpatient_day(demo)
    review_as_long_term(demo, setl_id)
    one = visit("2026-05-11", lines=[line("2", ACARBOSE, "2026-05-11", "4", "2.5")], invono="BJ-EXTRA")
    two = visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], invono="FCG-1", **FANGCHENGGANG)
    claim = claim_of(demo, approved(demo, LH_EMPLOYEE, [one, two]))
    funds = [(v.seq, (v.split or {}).get("fund_pay_sumamt"), v.paid_directly) for v in claim.visits]
    assert funds == [(1, "78.00", Decimal("125.00")), (2, "180.00", Decimal("0.00"))]
    assert (claim.fund_pay_sumamt, claim.paid_directly, claim.payable) == (
        Decimal("258.00"),
        Decimal("125.00"),
        Decimal("180.00"),
    )
    # The year: less all the settlement counted for (150, 125, 125), plus the claim's (150 + 0, 78 + 180).
    assert accumulators(demo) == {"outpatient.deductible": 15000, "basic.fund": 25800, "outpatient.fund": 25800}
