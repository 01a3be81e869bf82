"""A review (复核) recomputes a settlement as it stood when it was made: the accumulators the engine read then
(`Settlement.acc_before`) plus what reviews of the person's earlier settlements of the year changed in them, the
facts of the case then (`Settlement.basis`), the stay's deductible as earlier reviews of the stay left it. A
settlement made before these were kept falls back to today's facts and totals, and the review says so.

漯河 (411100) 2025 employee parameters (not retired): inpatient deductible 800.00 for the year's first stay and
450.00 for a later one at level 3, ratio 0.80; outpatient deductible 150.00, ratio 0.50 at level 3 (retirees: 100.00
and 0.55; level 2: 0.60); a filing of other temporary care cuts 20 points across provinces, a long-term one none.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from yidi.core import clock
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.filing.rules import Subtype
from yidi.people.models import Insurance
from yidi.reference.models import Institution
from yidi.reference.service import forget_institutions
from yidi.reimbursement import review_recompute, review_rules, reviews
from yidi.reimbursement.models import SettlementReview
from yidi.reimbursement.review_rules import Payee
from yidi.settlement.models import Settlement, SettlementAdjustment
from yidi.settlement.service import MONEY_FIELDS

from .reviews_support import (
    ACARBOSE,
    BILL,
    CERTNO,
    HOSP,
    NOW,
    PSN,
    REVIEWER,
    VITAMIN_C,
    Hospital,
    accumulators,
    file,
    load,
    person,
)

D = Decimal
PAYEE = Payee("陈某戊", "中国工商银行漯河分行", "6222020000000000123")
STAY = [(ACARBOSE, "10000.00", "4000", "2.5")]


def _request(db: Database, setl_id: str, key: str | None = None) -> str:
    with db.unit_of_work() as s:
        return reviews.request_review(s, person(), setl_id, "请复核 / please review", key, PAYEE, NOW).id


def _preview(db: Database, review_id: str, corrections: dict[str, Any]) -> review_recompute.Recomputation:
    with db.read_only() as s:
        return reviews.preview(s, REVIEWER, review_id, corrections)


def _decide(db: Database, review_id: str, corrections: dict[str, Any]) -> SettlementReview:
    with db.unit_of_work() as s:
        review = reviews.decide(s, REVIEWER, review_id, corrections, None, NOW)
        s.expunge(review)
        return review


# -- the accumulators as they stood ------------------------------------------------------------------------


def test_a_review_of_the_first_stay_after_a_second_stay_changes_nothing(db: Database) -> None:
    """Stay A bore the year's first-stay deductible (800.00): (10,000 − 800) × 0.80 = 7,360.00; stay B, a later
    stay, 450.00: (10,000 − 450) × 0.80 = 7,640.00. A review of A with no correction recomputes it on the
    accumulators A was settled on (no stay yet): 800.00 again, difference 0.00, nothing moves. (Recomputed on this
    year's totals less A, A was taken for a later stay: 450.00, and 280.00 was paid for nothing.)"""
    load(db)
    file(db, PSN, Subtype.LONG_TERM_RESIDENT, dt.date(2025, 6, 1))
    hospital = Hospital(db)
    a = hospital.inpatient(PSN, CERTNO, "2025-06-05", "2025-06-10", STAY, "ZY1")
    b = hospital.inpatient(PSN, CERTNO, "2025-06-20", "2025-06-25", STAY, "ZY2")
    assert (a["act_pay_dedc"], a["hifp_pay"], b["act_pay_dedc"], b["hifp_pay"]) == (
        D("800.00"),
        D("7360.00"),
        D("450.00"),
        D("7640.00"),
    )
    with db.read_only() as s:
        kept = s.get(Settlement, a["setl_id"])
        later = s.get(Settlement, b["setl_id"])
        assert kept is not None and later is not None
        assert (kept.acc_before, kept.year_seq) == ({}, 1)
        assert (later.acc_before, later.year_seq) == ({"basic.fund": "7360.00", "inpatient.stays": "1"}, 2)
    before = accumulators(db)
    assert before == {"basic.fund": 1500000, "inpatient.stays": 2}
    review = _decide(db, _request(db, a["setl_id"]), {})
    assert (review.outcome, review.difference, review.status) == ("no_change", D("0.00"), "closed")
    assert review.recomputed is not None and review.recomputed["act_pay_dedc"] == "800.00"
    assert accumulators(db) == before


def test_a_settlement_made_before_its_accumulators_were_kept_is_recomputed_on_todays_totals_and_says_so(
    db: Database,
) -> None:
    """The same two stays, A's row without acc_before and basis (as rows made before they were kept): the review
    falls back to this year's totals less A (B's stay counted: A is taken for a later stay, 450.00, so the
    preview shows (10,000 − 450) × 0.80 − 7,360.00 = 280.00) and its notes say which facts it used."""
    load(db)
    file(db, PSN, Subtype.LONG_TERM_RESIDENT, dt.date(2025, 6, 1))
    hospital = Hospital(db)
    a = hospital.inpatient(PSN, CERTNO, "2025-06-05", "2025-06-10", STAY, "ZY1")
    hospital.inpatient(PSN, CERTNO, "2025-06-20", "2025-06-25", STAY, "ZY2")
    with db.unit_of_work() as s:
        old = s.get(Settlement, a["setl_id"])
        assert old is not None
        old.acc_before, old.basis, old.year_seq = None, None, None
    shown = _preview(db, _request(db, a["setl_id"]), {})
    assert (shown.difference, shown.recomputed["act_pay_dedc"]) == (D("280.00"), "450.00")
    assert review_recompute.TODAYS_TOTALS in shown.recomputed["notes"]
    assert review_recompute.TODAYS_FACTS in shown.recomputed["notes"]


def test_reviews_of_earlier_settlements_count_and_later_ones_do_not(db: Database) -> None:
    """Three visits of the same day (other temporary care: ratio 0.30). V1 bore the year's deductible 150.00:
    (1,000 − 150) × 0.30 = 255.00; V2 and V3 none: 1,000 × 0.30 = 300.00 each. V1's 阿卡波糖 was 丙类: reviewed,
    V1 pays nothing and bears no deductible (recovery −255.00). A review of V2 with no correction recomputes it on
    what V2 read (deductible used 150.00) plus V1's review (−150.00): V2 should have borne the deductible,
    (1,000 − 150) × 0.30 = 255.00, recovery −45.00. V3, a later settlement, is not recomputed by it."""
    load(db)
    file(db, PSN, Subtype.OTHER_TEMPORARY, dt.date(2025, 3, 3))
    hospital = Hospital(db)
    v1, v2, v3 = (hospital.outpatient(PSN, CERTNO, "2025-03-10", BILL, f"V{n}") for n in (1, 2, 3))
    assert [v["hifp_pay"] for v in (v1, v2, v3)] == [D("255.00"), D("300.00"), D("300.00")]
    first = _decide(db, _request(db, v1["setl_id"]), {"line_classes": {ACARBOSE: {"chrgitm_lv": "03"}}})
    assert (first.outcome, first.difference, first.increments) == (
        "recovery",
        D("-255.00"),
        {"basic.fund": "-255.00", "outpatient.deductible": "-150.00", "outpatient.fund": "-255.00"},
    )
    second = _decide(db, _request(db, v2["setl_id"]), {})
    assert (second.outcome, second.difference) == ("recovery", D("-45.00"))
    assert second.recomputed is not None and second.recomputed["act_pay_dedc"] == "150.00"
    assert second.increments == {"basic.fund": "-45.00", "outpatient.deductible": "150.00", "outpatient.fund": "-45.00"}
    assert accumulators(db) == {"outpatient.deductible": 15000, "outpatient.fund": 55500, "basic.fund": 55500}
    with db.read_only() as s:
        third = s.get(Settlement, v3["setl_id"])
        assert third is not None and third.hifp_pay == D("300.00")  # untouched


# -- the facts of the case as they stood -----------------------------------------------------------------------


def _long_term_visit(db: Database) -> tuple[dict[str, Any], str]:
    """Settled with a long-term filing: (1,000 − 150) × 0.50 = 425.00."""
    load(db)
    file(db, PSN, Subtype.LONG_TERM_RESIDENT, dt.date(2025, 3, 3))
    info = Hospital(db).outpatient(PSN, CERTNO, "2025-03-10", BILL, "RV1")
    assert info["hifp_pay"] == D("425.00")
    return info, _request(db, info["setl_id"])


def test_a_person_retired_since_is_reviewed_as_settled_unless_the_type_is_corrected(db: Database) -> None:
    """The person retires after the settlement: a review with no correction changes nothing. Corrected to a
    retiree (the retirement was registered late at the insured place): deductible 100.00, ratio 0.55,
    (1,000 − 100) × 0.55 = 495.00, difference 70.00; the deductible used goes down by 50.00."""
    info, review_id = _long_term_visit(db)
    with db.read_only() as s:
        kept = s.get(Settlement, info["setl_id"])
        assert kept is not None and kept.basis == {
            "retiree": False,
            "civil_servant": False,
            "settlement_level": "level_3",
            "person_diseases": [],
        }
    with db.unit_of_work() as s:
        insurance = s.scalar(select(Insurance).where(Insurance.psn_no == PSN, Insurance.insutype == "310"))
        assert insurance is not None
        insurance.retiree = True
    shown = _preview(db, review_id, {})
    assert (shown.difference, shown.recomputed["notes"]) == (D("0.00"), [])
    corrected = _decide(db, review_id, {"retiree": True})
    assert (corrected.outcome, corrected.difference, corrected.corrections) == (
        "difference",
        D("70.00"),
        {"retiree": True},
    )
    assert corrected.increments == {
        "basic.fund": "70.00",
        "outpatient.deductible": "-50.00",
        "outpatient.fund": "70.00",
    }
    assert accumulators(db) == {"outpatient.deductible": 10000, "outpatient.fund": 49500, "basic.fund": 49500}


def test_an_institution_rerated_since_is_reviewed_at_the_level_it_had(db: Database) -> None:
    """北京's hospital is rated level 2 after the settlement: no correction, no change. Corrected to level 2 (it was
    level 2 then): 0.60, (1,000 − 150) × 0.60 = 510.00, difference 85.00."""
    _, review_id = _long_term_visit(db)
    with db.unit_of_work() as s:
        hospital = s.get(Institution, HOSP)
        assert hospital is not None
        hospital.settlement_level = "level_2"
    forget_institutions(db.engine)
    try:
        assert _preview(db, review_id, {}).difference == D("0.00")
        assert _preview(db, review_id, {"settlement_level": "level_2"}).difference == D("85.00")
    finally:
        with db.unit_of_work() as s:
            hospital = s.get(Institution, HOSP)
            assert hospital is not None
            hospital.settlement_level = "level_3"
        forget_institutions(db.engine)


@pytest.mark.parametrize(
    ("raw", "employee", "problem"),
    [
        ({"retiree": "yes"}, True, "must be true or false"),
        ({"retiree": 1}, True, "must be true or false"),
        ({"retiree": True}, False, "only employee insurance has retirees"),
    ],
)
def test_a_retiree_correction_is_a_yes_or_no_of_employee_insurance(
    raw: dict[str, Any], employee: bool, problem: str
) -> None:
    facts = review_rules.CorrectionFacts(frozenset(), frozenset(), local=False, employee=employee)
    with pytest.raises(YidiError) as refused:
        review_rules.parse_corrections(raw, facts)
    assert refused.value.code == "RV_INPUT" and refused.value.details["field"] == "corrections.retiree"
    assert problem in refused.value.message_en
    later = review_rules.Corrections(retiree=False).over(review_rules.Corrections(retiree=True))
    assert later.retiree is False and later.as_json() == {"retiree": False}  # a correction taken back


# -- the stay's deductible as reviews left it ------------------------------------------------------------------


def _money(info: dict[str, Any]) -> dict[str, Any]:
    return {k: D(v) if k in MONEY_FIELDS else v for k, v in info.items()}


def test_a_reviewed_mid_stay_settlement_leaves_the_stay_one_deductible(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S1, a mid-stay settlement (中途结算): 维生素C 300.00, 丙类 in 北京's catalogue, nothing eligible, no
    deductible borne. Reviewed: 维生素C was 甲类, 300.00 eligible, all of it under the stay's deductible (800.00):
    the fund still pays 0.00 (no change), but S1 now bears 300.00 of the deductible. S2, the stay's final
    settlement (阿卡波糖 10,000.00, 甲类), bears what is left, 500.00: (10,000 − 500) × 0.80 = 7,600.00; the stay's
    deductible is 300.00 + 500.00 = 800.00 once. A review of S2 sees the same."""
    load(db)
    file(db, PSN, Subtype.LONG_TERM_RESIDENT, dt.date(2025, 6, 1))
    hospital = Hospital(db)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2025, 6, 8, 10, 0, tzinfo=SHANGHAI))
    hospital.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}})
    mdtrtinfo = {
        "psn_no": PSN,
        "insutype": "310",
        "begntime": "2025-06-05 08:00:00",
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": CERTNO,
        "med_type": "21",
        "ipt_no": "ZYX",
        "adm_dept_codg": "D12",
        "dise_codg": "I10.x00",
    }
    mdtrt_id = hospital.ok("2401", {"mdtrtinfo": mdtrtinfo, "diseinfo": []})["result"]["mdtrt_id"]

    def upload(sn: str, code: str, total: str, cnt: str, pric: str, day: str) -> None:
        line = {"feedetl_sn": sn, "mdtrt_id": mdtrt_id, "psn_no": PSN, "med_list_codg": code}
        line |= {"fee_ocur_time": f"{day} 10:00:00", "det_item_fee_sumamt": total, "cnt": cnt, "pric": pric}
        hospital.ok("2301", {"feedetail": [line]})

    def settle(total: str, mid: str) -> dict[str, Any]:
        data = {"psn_no": PSN, "mdtrt_id": mdtrt_id, "insutype": "310", "medfee_sumamt": total}
        data |= {"mdtrt_cert_type": "02", "mid_setl_flag": mid, "acct_used_flag": "0"}
        return _money(hospital.ok("2304", {"data": data})["setlinfo"])

    upload("1", VITAMIN_C, "300.00", "300", "1", "2025-06-05")
    s1 = settle("300.00", "1")
    assert (s1["act_pay_dedc"], s1["fund_pay_sumamt"]) == (D("0.00"), D("0.00"))
    reviewed = _decide(db, _request(db, s1["setl_id"]), {"line_classes": {VITAMIN_C: {"chrgitm_lv": "01"}}})
    assert (reviewed.status, reviewed.outcome, reviewed.difference) == ("closed", "no_change", D("0.00"))
    assert reviewed.recomputed is not None and reviewed.recomputed["act_pay_dedc"] == "300.00"
    with db.read_only() as s:
        adjustment = s.scalars(select(SettlementAdjustment)).one()
        assert (adjustment.act_pay_dedc, adjustment.counts_stay, adjustment.stands) == (D("300.00"), True, False)
    upload("2", ACARBOSE, "10000.00", "4000", "2.5", "2025-06-07")
    dscginfo = {"mdtrt_id": mdtrt_id, "psn_no": PSN, "insutype": "310", "endtime": "2025-06-08 09:00:00"}
    hospital.ok("2402", {"dscginfo": dscginfo | {"dscg_way": "1"}, "diseinfo": []})
    s2 = settle("10000.00", "0")
    assert (s2["act_pay_dedc"], s2["hifp_pay"]) == (D("500.00"), D("7600.00"))
    assert accumulators(db) == {"basic.fund": 760000, "inpatient.stays": 1}
    shown = _preview(db, _request(db, s2["setl_id"], "again"), {})
    assert (shown.outcome.value, shown.difference, shown.recomputed["act_pay_dedc"]) == ("no_change", D("0"), "500.00")
