"""Manual claims through the services, on SQLite and PostgreSQL: drafting, submission checks, the review workflow,
approval with the engine and the same accumulators as direct settlement, the invoice register.

Amounts are worked by hand from the shipped 漯河 (411100) parameters in force in 2026 (values dated 2025-01-01):
employee outpatient deductible 150 a year (not retired), ratio level 2 0.60, level 3 0.50; cross-province
mechanisms: other temporary −20 points, unfiled (not settled directly) no cut. 阿卡波糖 is 甲类 and 瑞格列奈 乙类
with 10 % first self-pay in every demo catalogue.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from yidi.core import clock
from yidi.core.audit import AuditEvent
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.demo.service import load_demo
from yidi.people.models import Insurance
from yidi.reimbursement import drafts, service
from yidi.reimbursement.models import Claim
from yidi.settlement import invoices
from yidi.settlement.models import Accumulator, InvoiceUse, Settlement

from .claims_support import (
    ACARBOSE,
    BJ_HOSP,
    CLEARING_LH,
    LH_EMPLOYEE,
    LH_EMPLOYEE_2,
    NOT_IN_CATALOGUE,
    NOW,
    OUTPATIENT_PAPERS,
    REPAGLINIDE,
    REVIEWER_LH,
    Hospital,
    approved,
    draft,
    filed_to_beijing,
    line,
    outside,
    person,
    submitted,
    upload,
    visit,
)

FANGCHENGGANG = outside("防城港演示县医院（未联网）", "450600", "level_2")


@pytest.fixture
def demo(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with db.unit_of_work() as s:
        load_demo(s, NOW)
    yield db


def load(db: Database, claim_id: str) -> Claim:
    with db.read_only() as s:
        claim = service.load(s, claim_id)
        for v in claim.visits:  # read everything the test looks at before the session closes
            _ = (v.lines, v.invoices)
        s.expunge_all()  # detached as read: the session's rollback would expire it
        return claim


def accumulators(db: Database, psn_no: str) -> dict[str, int]:
    with db.read_only() as s:
        return {a.key: a.value for a in s.scalars(select(Accumulator).where(Accumulator.psn_no == psn_no)) if a.value}


def refused(db: Database, code: str, fn: Any, *args: Any) -> YidiError:
    with pytest.raises(YidiError) as caught, db.unit_of_work() as s:
        fn(s, *args)
    assert caught.value.code == code, caught.value
    return caught.value


# -- the invoice register ------------------------------------------------------------------------------------


def test_an_invoice_is_taken_once_and_given_back(demo: Database) -> None:
    key = invoices.institution_key(None, "450600", "  防城港演示县医院（未联网） ")
    assert key == invoices.institution_key(None, "450600", "防城港演示县医院(未联网)")  # full-width brackets: NFKC
    assert key == "X450600:防城港演示县医院(未联网)"
    assert invoices.institution_key(BJ_HOSP, "110000", "whatever") == BJ_HOSP
    with demo.unit_of_work() as s:
        invoices.take(s, key, "FP1", invoices.CLAIM, "R1", NOW)
        invoices.take(s, key, "FP1", invoices.CLAIM, "R1", NOW)  # the same owner again: nothing changes
        with pytest.raises(invoices.InvoiceTaken) as taken:
            invoices.take(s, key, "FP1", invoices.SETTLEMENT, "S9", NOW)
        assert (
            taken.value.owner_id == "R1"
            and "R1" in taken.value.message_zh
            and "manual claim R1" in taken.value.message_en
        )
        assert invoices.owner_of(s, key, "FP1") == ("claim", "R1")
        assert invoices.release(s, invoices.CLAIM, "R1") == 1
        assert invoices.owner_of(s, key, "FP1") is None


def test_two_transactions_taking_one_invoice_at_once_one_wins_and_the_other_names_it(demo: Database) -> None:
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def taker(owner: str) -> None:
        try:
            with demo.unit_of_work() as s:
                barrier.wait()
                invoices.take(s, BJ_HOSP, "FP-RACE", invoices.CLAIM, owner, NOW)
            outcome[owner] = "took"
        except invoices.InvoiceTaken as exc:
            outcome[owner] = f"refused: {exc.owner_id}"

    threads = [threading.Thread(target=taker, args=(o,)) for o in ("RA", "RB")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winner = next(o for o, result in outcome.items() if result == "took")
    loser = "RB" if winner == "RA" else "RA"
    assert outcome == {winner: "took", loser: f"refused: {winner}"}
    with demo.read_only() as s:
        assert len(s.scalars(select(InvoiceUse)).all()) == 1


# -- drafting -------------------------------------------------------------------------------------------------


def test_creating_is_idempotent_by_request_id(demo: Database) -> None:
    v = visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], **FANGCHENGGANG)
    first = draft(demo, LH_EMPLOYEE, [v], request_id="req-0001-abc")
    assert draft(demo, LH_EMPLOYEE, [v], request_id="req-0001-abc") == first  # a retry: the same claim
    with pytest.raises(YidiError) as other:
        draft(demo, LH_EMPLOYEE, [v | {"begndate": "2026-05-19"}], request_id="req-0001-abc")
    assert other.value.code == "R_REQUEST_REUSED" and first in other.value.message_zh
    with demo.read_only() as s:
        assert len(s.scalars(select(Claim)).all()) == 1
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "claim")).all()
        assert [e.action for e in events] == ["claim.create"]
        assert events[0].after["bank_account"] == "6222***********3445"  # the audit trail keeps it masked


def test_a_visit_is_replaced_keeping_its_lines_and_a_bad_fee_list_changes_nothing(demo: Database) -> None:
    lines = [line("1", ACARBOSE, "2026-05-20", "120", "2.5"), line("2", REPAGLINIDE, "2026-05-20", "40", "2.5")]
    claim_id = draft(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=lines, **FANGCHENGGANG)])
    me = person(LH_EMPLOYEE)
    with demo.unit_of_work() as s:
        header = {
            k: v for k, v in visit("2026-05-20", lines=[], **FANGCHENGGANG).items() if k not in ("lines", "invoices")
        }
        drafts.put_visit(s, me, claim_id, 1, header | {"injury": True}, NOW)
    claim = load(demo, claim_id)
    assert claim.visits[0].injury and [ln.feedetl_sn for ln in claim.visits[0].lines] == ["1", "2"]
    assert [i.invono for i in claim.visits[0].invoices] == ["INV20260520"]
    header = b"feedetl_sn,med_list_codg,medins_list_codg,fee_ocur_time,cnt,pric,det_item_fee_sumamt\n"
    bad = header + b"9,X,Y,2026-05-20,1,1,2.00\n"  # 1 x 1 is not 2.00
    error = refused(demo, "R_FEE_LIST", drafts.import_fee_list, me, claim_id, 1, "list.csv", bad, NOW)
    assert error.as_dict()["errors"][0]["row"] == 2
    assert [ln.feedetl_sn for ln in load(demo, claim_id).visits[0].lines] == ["1", "2"]  # all or nothing
    good = header + b"9,X,Y,2026-05-20,1,2,2.00\n"
    with demo.unit_of_work() as s:
        drafts.import_fee_list(s, me, claim_id, 1, "list.csv", good, NOW)
        drafts.remove_visit(s, me, claim_id, 2, NOW)  # not there: a retry changes nothing
    assert [ln.feedetl_sn for ln in load(demo, claim_id).visits[0].lines] == ["9"]
    with demo.unit_of_work() as s:
        drafts.remove_visit(s, me, claim_id, 1, NOW)
    assert load(demo, claim_id).visits == []


def test_only_the_person_and_their_agency_touch_a_claim(demo: Database) -> None:
    claim_id = draft(demo, LH_EMPLOYEE, [])
    refused(demo, "E_FORBIDDEN", service.get_claim, person(LH_EMPLOYEE_2), claim_id)
    beijing = REVIEWER_LH.__class__(REVIEWER_LH.audience, "reviewer.110000", REVIEWER_LH.roles, frozenset({"110000"}))
    refused(demo, "E_NOT_FOUND", service.get_claim, beijing, claim_id)  # staff elsewhere learn nothing
    with demo.read_only() as s:
        assert service.get_claim(s, REVIEWER_LH, claim_id).id == claim_id


# -- submission -----------------------------------------------------------------------------------------------


def test_submission_checks_and_nothing_half_written(demo: Database) -> None:
    me = person(LH_EMPLOYEE)
    late = draft(
        demo, LH_EMPLOYEE, [visit("2025-05-29", lines=[line("1", ACARBOSE, "2025-05-29", "4", "2.5")], **FANGCHENGGANG)]
    )
    upload(demo, late, OUTPATIENT_PAPERS, me)
    e = refused(demo, "R_DEADLINE", service.submit, me, late, NOW)
    # 12 months after 2025-05-29 is 2026-05-29; the claim comes on 2026-06-01
    assert "第1次就诊" in e.message_zh and "2026-05-29" in e.message_zh

    ok_lines = [line("1", ACARBOSE, "2026-05-20", "120", "2.5")]  # 300.00
    bad_sum = draft(
        demo,
        LH_EMPLOYEE,
        [
            visit(
                "2026-05-20",
                lines=ok_lines,
                invoices=[{"invono": "A", "invoice_date": "2026-05-20", "amount": "299.99"}],
                **FANGCHENGGANG,
            )
        ],
    )
    bare = draft(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=ok_lines, invono="BARE", **FANGCHENGGANG)])
    e = refused(demo, "R_MATERIALS", service.submit, me, bare, NOW)
    assert "invoice, fee_list" in e.message_zh
    e = refused(demo, "R_INVOICE_SUM", service.submit, me, bad_sum, NOW)
    assert "299.99" in e.message_zh and "300.00" in e.message_en

    injury = draft(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=ok_lines, injury=True, **FANGCHENGGANG)])
    upload(demo, injury, OUTPATIENT_PAPERS, me)
    refused(demo, "R_INJURY_UNDERTAKING", service.submit, me, injury, NOW)
    work = draft(
        demo,
        LH_EMPLOYEE,
        [visit("2026-05-20", lines=ok_lines, care="work_injury", med_type="11", invono="W1", **FANGCHENGGANG)],
    )
    upload(demo, work, OUTPATIENT_PAPERS, me)
    refused(demo, "R_EXCLUDED_CARE", service.submit, me, work, NOW)
    for claim_id in (late, bad_sum, bare, injury, work):
        assert load(demo, claim_id).status == "draft"
    with demo.read_only() as s:
        assert s.scalars(select(InvoiceUse)).all() == []  # no invoice taken by a refused submission
        assert not s.scalars(select(AuditEvent).where(AuditEvent.action == "claim.submit")).all()

    upload(demo, injury, ["injury_undertaking"], me)
    with demo.unit_of_work() as s:
        claim = service.submit(s, me, injury, NOW)
        # 20 working days after Monday 2026-06-01, 端午 (19 June) off: 2–5, 8–12, 15–18, 22–26, 29, 30 June
        assert (claim.status, claim.due_date, claim.due_date_provisional) == ("submitted", dt.date(2026, 6, 30), False)
    with demo.unit_of_work() as s:
        assert service.submit(s, me, injury, NOW).status == "submitted"  # a retry


def test_care_outside_the_insurance_period_is_refused(demo: Database) -> None:
    with demo.unit_of_work() as s:
        s.scalars(select(Insurance).where(Insurance.psn_no == LH_EMPLOYEE)).one().enddate = dt.date(2026, 4, 30)
    with pytest.raises(YidiError) as caught:
        draft(
            demo,
            LH_EMPLOYEE,
            [visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "1", "2.5")], **FANGCHENGGANG)],
        )
    assert caught.value.details["field"] == "visits[1].enddate" and "2026-04-30" in caught.value.message_zh


def test_an_unknown_institution_or_region_is_refused_naming_the_field(demo: Database) -> None:
    lines = [line("1", ACARBOSE, "2026-05-20", "1", "2.5")]
    with pytest.raises(YidiError) as unknown:
        draft(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=lines, fixmedins_code="H99999999999")])
    assert (
        unknown.value.details["field"] == "visits[1].fixmedins_code" and "定点医药机构编号" in unknown.value.message_zh
    )
    with pytest.raises(YidiError) as region:
        draft(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=lines, **outside("某医院", "999900", "level_1"))])
    assert (
        region.value.details["field"] == "visits[1].institution_region" and "known division" in region.value.message_en
    )


# -- review ----------------------------------------------------------------------------------------------------


def test_returned_for_materials_then_resubmitted_then_approved(demo: Database) -> None:
    me = person(LH_EMPLOYEE)
    claim_id = submitted(
        demo,
        LH_EMPLOYEE,
        [visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], **FANGCHENGGANG)],
    )
    refused(demo, "E_FORBIDDEN", service.take, CLEARING_LH, claim_id, NOW)  # not a reviewer
    with demo.unit_of_work() as s:
        service.take(s, REVIEWER_LH, claim_id, NOW)
        claim = service.return_claim(s, REVIEWER_LH, claim_id, "请补充诊断证明", ["diagnosis"], NOW)
        assert (claim.status, claim.reason, claim.materials_requested, claim.due_date) == (
            "returned",
            "请补充诊断证明",
            ["diagnosis"],
            None,
        )
    e = refused(demo, "R_MATERIALS", service.submit, me, claim_id, NOW)
    assert "diagnosis" in e.message_en
    later = NOW + dt.timedelta(days=1)  # Tuesday 2 June: 20 working days later is 1 July
    upload(demo, claim_id, ["diagnosis"], me, later)
    with demo.unit_of_work() as s:
        claim = service.submit(s, me, claim_id, later)
        assert (claim.status, claim.reason, claim.due_date) == ("submitted", None, dt.date(2026, 7, 1))
        assert claim.submitted_at == NOW  # the first submission: a resubmission is not late
    with demo.unit_of_work() as s:
        service.take(s, REVIEWER_LH, claim_id, later)
        claim = service.approve(s, REVIEWER_LH, claim_id, [], later)
        # unfiled at a level-2 hospital outside the network: (300 − 150) × 0.60 = 90.00
        assert (claim.status, claim.fund_pay_sumamt, claim.payable) == ("approved", Decimal("90.00"), Decimal("90.00"))
    with demo.read_only() as s:
        actions = [
            e.action
            for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_id == claim_id).order_by(AuditEvent.id))
        ]
    assert actions == [
        "claim.create",
        *["claim.material"] * 2,
        "claim.submit",
        "claim.take",
        "claim.return",
        "claim.material",
        "claim.submit",
        "claim.take",
        "claim.approve",
    ]


def test_withdrawing_gives_the_invoices_back_and_a_refused_claim_keeps_them(demo: Database) -> None:
    lines = [line("1", ACARBOSE, "2026-05-20", "120", "2.5")]
    first = submitted(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=lines, invono="FCG-1", **FANGCHENGGANG)])
    second = draft(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=lines, invono="FCG-1", **FANGCHENGGANG)])
    upload(demo, second, OUTPATIENT_PAPERS, person(LH_EMPLOYEE))
    e = refused(demo, "S_INVOICE_USED", service.submit, person(LH_EMPLOYEE), second, NOW)
    assert first in e.message_zh and f"manual claim {first}" in e.message_en
    with demo.unit_of_work() as s:
        service.take(s, REVIEWER_LH, first, NOW)
        service.refuse(s, REVIEWER_LH, first, "重复报销", NOW)
    e = refused(demo, "S_INVOICE_USED", service.submit, person(LH_EMPLOYEE), second, NOW)
    assert first in e.message_en  # a refused claim keeps its invoices: they were claimed
    third = submitted(
        demo,
        LH_EMPLOYEE,
        [visit("2026-05-21", lines=[line("1", ACARBOSE, "2026-05-21", "4", "2.5")], invono="FCG-2", **FANGCHENGGANG)],
    )
    with demo.unit_of_work() as s:
        assert service.withdraw(s, person(LH_EMPLOYEE), third, NOW).status == "withdrawn"
        assert invoices.owner_of(s, "X450600:防城港演示县医院(未联网)", "FCG-2") is None


# -- approval: the engine, the accumulators, what was paid directly ----------------------------------------


def test_visits_of_one_claim_are_computed_in_date_order(demo: Database) -> None:
    later = visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], invono="B", **FANGCHENGGANG)
    earlier = visit("2026-05-10", lines=[line("1", ACARBOSE, "2026-05-10", "40", "2.5")], invono="A", **FANGCHENGGANG)
    claim = load(demo, approved(demo, LH_EMPLOYEE, [later, earlier]))
    first, second = claim.visits  # seq 1 is the later visit
    # 10 May first: 100.00 eligible, all of it deductible, nothing paid;
    # 20 May: 50.00 of the deductible left, (300 − 50) × 0.60 = 150.00
    assert (second.split["act_pay_dedc"], second.split["hifp_pay"]) == ("100.00", "0.00")  # type: ignore[index]
    assert (first.split["act_pay_dedc"], first.split["hifp_pay"]) == ("50.00", "150.00")  # type: ignore[index]
    assert (first.category, first.service_date, first.year) == ("unfiled", dt.date(2026, 5, 20), 2026)
    assert (claim.medfee_sumamt, claim.fund_pay_sumamt, claim.payable) == (
        Decimal("400.00"),
        Decimal("150.00"),
        Decimal("150.00"),
    )
    assert accumulators(demo, LH_EMPLOYEE) == {
        "outpatient.deductible": 15000,
        "basic.fund": 15000,
        "outpatient.fund": 15000,
    }


def test_a_region_without_catalogue_rows_pays_nothing_on_unknown_codes(demo: Database) -> None:
    # yidi holds no catalogue of 长沙 (430100): every code is unknown there, and the engine treats an unknown code
    # as it does in direct settlement: out of catalogue, wholly self-paid.
    changsha = outside("长沙演示医院（未联网）", "430100", "level_3")
    claim = load(
        demo,
        approved(
            demo,
            LH_EMPLOYEE,
            [visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], **changsha)],
        ),
    )
    split = claim.visits[0].split
    assert split is not None and (split["fulamt_ownpay_amt"], split["inscp_scp_amt"], split["fund_pay_sumamt"]) == (
        "300.00",
        "0.00",
        "0.00",
    )
    assert claim.payable == Decimal("0.00") and claim.visits[0].lines[0].result["chrgitm_lv"] is None  # type: ignore[index]


def test_the_reviewer_excludes_a_line_and_the_person_reads_why(demo: Database) -> None:
    lines = [line("1", ACARBOSE, "2026-05-20", "120", "2.5"), line("2", NOT_IN_CATALOGUE, "2026-05-20", "1", "80")]
    bad = [{"seq": 1, "feedetl_sn": "7", "reason": "x"}]
    claim_id = submitted(demo, LH_EMPLOYEE, [visit("2026-05-20", lines=lines, **FANGCHENGGANG)])
    with demo.unit_of_work() as s:
        service.take(s, REVIEWER_LH, claim_id, NOW)
    e = refused(demo, "R_INPUT", service.approve, REVIEWER_LH, claim_id, bad, NOW)
    assert e.details["field"] == "exclusions[1].feedetl_sn"
    with demo.read_only() as s:
        preview = service.preview(s, REVIEWER_LH, claim_id, [{"seq": 1, "feedetl_sn": "2", "reason": "与诊断无关"}])
        assert preview.totals.fund_pay_sumamt == Decimal("90.00")
        assert not service.load(s, claim_id).visits[0].lines[1].excluded  # a preview keeps nothing
    with demo.unit_of_work() as s:
        claim = service.approve(s, REVIEWER_LH, claim_id, [{"seq": 1, "feedetl_sn": "2", "reason": "与诊断无关"}], NOW)
        # the excluded 80.00 is not computed: (300 − 150) × 0.60 = 90.00
        assert (claim.medfee_sumamt, claim.fund_pay_sumamt) == (Decimal("300.00"), Decimal("90.00"))
        kept, left_out = claim.visits[0].lines
        assert (left_out.excluded, left_out.exclusion_reason, left_out.result) == (True, "与诊断无关", None)
        assert kept.result == {
            "fulamt_ownpay_amt": "0.00",
            "overlmt_selfpay": "0.00",
            "preselfpay_amt": "0.00",
            "inscp_scp_amt": "300.00",
            "chrgitm_lv": "01",
        }


def test_care_paid_partly_directly_is_computed_again_as_a_whole(demo: Database) -> None:
    """The person, filed to 北京 (other temporary), settles one line of an outpatient day directly and pays the rest
    in full; the claim lists the whole day (the hospital's fee list): its line 1 is the settlement's and is left
    out, the settlement's own line standing for it. Direct settlement: 400.00 eligible, 150 deductible,
    (400 − 150) × 0.30 = 75.00 (level 3: 0.50 − 20 points). The claim recomputes the day from the accumulators
    without that settlement: 400 + (200 − 20 first self-pay) = 580.00 eligible, (580 − 150) × 0.30 = 129.00; paid
    directly 75.00, payable 54.00; the year's totals end as if the day had been settled once: deductible 150, fund
    129.00."""
    filed_to_beijing(demo, LH_EMPLOYEE, dt.date(2026, 5, 1), dt.datetime(2026, 5, 1, 9, tzinfo=NOW.tzinfo))
    hospital = Hospital(demo)
    settled = [line("1", ACARBOSE, "2026-05-11", "160", "2.5")]
    mdtrt_id = hospital.outpatient_visit(LH_EMPLOYEE, "411102198505059094", "2026-05-11", settled)
    answer = hospital.settle(LH_EMPLOYEE, mdtrt_id)
    assert answer["infcode"] == 0 and answer["output"]["setlinfo"]["hifp_pay"] == "75.00"
    setl_id = answer["output"]["setlinfo"]["setl_id"]
    assert accumulators(demo, LH_EMPLOYEE) == {
        "outpatient.deductible": 15000,
        "basic.fund": 7500,
        "outpatient.fund": 7500,
    }
    day = [*settled, line("2", REPAGLINIDE, "2026-05-11", "80", "2.5")]
    claim = load(demo, approved(demo, LH_EMPLOYEE, [visit("2026-05-11", lines=day, invono="BJ-0511")]))
    v = claim.visits[0]
    assert (v.category, v.direct_setl_ids, v.paid_directly) == ("other_temporary", [setl_id], Decimal("75.00"))
    assert v.split is not None and (v.split["act_pay_dedc"], v.split["hifp_pay"]) == ("150.00", "129.00")
    assert (claim.fund_pay_sumamt, claim.paid_directly, claim.payable) == (
        Decimal("129.00"),
        Decimal("75.00"),
        Decimal("54.00"),
    )
    assert accumulators(demo, LH_EMPLOYEE) == {
        "outpatient.deductible": 15000,
        "basic.fund": 12900,
        "outpatient.fund": 12900,
    }
    # A second claim of the same day (another invoice) cannot take the same settlement off again.
    again = submitted(demo, LH_EMPLOYEE, [visit("2026-05-11", lines=day, invono="BJ-0511-B")])
    with demo.unit_of_work() as s:
        service.take(s, REVIEWER_LH, again, NOW)
    e = refused(demo, "R_DIRECT_COUNTED", service.approve, REVIEWER_LH, again, [], NOW)
    assert setl_id in e.message_zh and claim.id in e.message_en


def test_a_claim_and_a_direct_settlement_at_once_share_one_deductible(demo: Database) -> None:
    """Approval and a 2207 of the same person race. Whichever locks the person's insurance row first bears the
    150 deductible; the other sees it used. Claim first: claim (300 − 150) × 0.60 = 90.00, settlement 400 × 0.30
    = 120.00. Settlement first: settlement (400 − 150) × 0.30 = 75.00, claim 300 × 0.60 = 180.00."""
    filed_to_beijing(demo, LH_EMPLOYEE_2, dt.date(2026, 5, 1), dt.datetime(2026, 5, 1, 9, tzinfo=NOW.tzinfo))
    claim_id = submitted(
        demo,
        LH_EMPLOYEE_2,
        [visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], **FANGCHENGGANG)],
    )
    with demo.unit_of_work() as s:
        service.take(s, REVIEWER_LH, claim_id, NOW)
    hospital = Hospital(demo)
    mdtrt_id = hospital.outpatient_visit(
        LH_EMPLOYEE_2, "411121199009099103", "2026-05-25", [line("1", ACARBOSE, "2026-05-25", "160", "2.5")]
    )
    envelope = hospital.settle_envelope(LH_EMPLOYEE_2, mdtrt_id)
    barrier = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def approve() -> None:
        barrier.wait()
        with demo.unit_of_work() as s:
            answers["claim"] = service.approve(s, REVIEWER_LH, claim_id, [], NOW).fund_pay_sumamt

    def settle() -> None:
        from yidi.gateway.service import handle

        barrier.wait()
        answers["settlement"] = handle(demo, hospital.principal, envelope)

    threads = [threading.Thread(target=approve), threading.Thread(target=settle)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers["settlement"]["infcode"] == 0, answers["settlement"]["err_msg"]
    info = answers["settlement"]["output"]["setlinfo"]
    claim = load(demo, claim_id)
    split = claim.visits[0].split
    assert split is not None
    pair = (split["act_pay_dedc"], split["hifp_pay"], info["act_pay_dedc"], info["hifp_pay"])
    assert pair in {("150.00", "90.00", "0.00", "120.00"), ("0.00", "180.00", "150.00", "75.00")}
    with demo.read_only() as s:
        settlement = s.scalars(select(Settlement)).one()
        increments = [settlement.increments, claim.visits[0].increments or {}]
    total: dict[str, int] = {}
    for inc in increments:
        for key, value in inc.items():
            total[key] = total.get(key, 0) + int(Decimal(value) * 100)
    assert total["outpatient.deductible"] == 15000  # the deductible, used once in total
    assert accumulators(demo, LH_EMPLOYEE_2) == total  # and the year's totals are the sum of both


# -- payment ---------------------------------------------------------------------------------------------------


def test_the_payments_module_marks_paid_and_back(demo: Database) -> None:
    claim_id = approved(
        demo,
        LH_EMPLOYEE,
        [visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], **FANGCHENGGANG)],
    )
    refused(demo, "E_FORBIDDEN", service.mark_paid, REVIEWER_LH, claim_id, NOW)
    later = NOW + dt.timedelta(days=3)
    with demo.unit_of_work() as s:
        assert (service.mark_paid(s, CLEARING_LH, claim_id, later).status, service.load(s, claim_id).paid_at) == (
            "paid",
            later,
        )
        assert service.mark_paid(s, CLEARING_LH, claim_id, later).status == "paid"  # again: nothing changes
    with demo.unit_of_work() as s:
        claim = service.back_to_approved(s, CLEARING_LH, claim_id, "账户已销户，银行退回", later)
        assert (claim.status, claim.paid_at) == ("approved", None)
    with demo.read_only() as s:
        last = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == claim_id).order_by(AuditEvent.id.desc())
        ).first()
        assert (
            last is not None and last.action == "claim.payment_failed" and last.before["note"] == "账户已销户，银行退回"
        )


def test_a_pharmacy_purchase_2102_cannot_use_a_claimed_invoice_and_its_cancel_gives_its_own_back(
    demo: Database,
) -> None:
    pharmacy_code = "P11010500001"
    filed_to_beijing(demo, LH_EMPLOYEE, dt.date(2026, 5, 1), dt.datetime(2026, 5, 1, 9, tzinfo=NOW.tzinfo))
    bought = [line("1", ACARBOSE, "2026-05-12", "40", "2.5")]
    claim_id = submitted(
        demo,
        LH_EMPLOYEE,
        [visit("2026-05-12", lines=bought, fixmedins_code=pharmacy_code, care="pharmacy", invono="YD-1")],
    )
    pharmacy = Hospital(demo, pharmacy_code)
    pharmacy.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "411102198505059094"}})

    def purchase(invono: str) -> dict[str, Any]:
        header = {
            "psn_no": LH_EMPLOYEE,
            "insutype": "310",
            "med_type": "41",
            "begntime": "2026-06-01 09:30:00",
            "medfee_sumamt": "100.00",
            "invono": invono,
        }
        return {"druginfo": header, "drugdetail": [line("1", ACARBOSE, "2026-06-01 09:30:00", "40", "2.5")]}

    refused_sale = pharmacy.call("2102", purchase("YD-1"))
    assert refused_sale["infcode"] == -1 and claim_id in refused_sale["err_msg"]
    sale = pharmacy.ok("2102", purchase("YD-2"))["setlinfo"]
    with demo.read_only() as s:
        assert invoices.owner_of(s, pharmacy_code, "YD-2") == ("settlement", sale["setl_id"])
    pharmacy.ok("2103", {"data": {"setl_id": sale["setl_id"], "mdtrt_id": sale["mdtrt_id"], "psn_no": LH_EMPLOYEE}})
    with demo.read_only() as s:
        assert invoices.owner_of(s, pharmacy_code, "YD-2") is None
        assert invoices.owner_of(s, pharmacy_code, "YD-1") == ("claim", claim_id)


def test_one_invoice_in_two_visits_of_a_claim_is_refused(demo: Database) -> None:
    one = visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "4", "2.5")], invono="SAME", **FANGCHENGGANG)
    two = visit("2026-05-21", lines=[line("1", ACARBOSE, "2026-05-21", "4", "2.5")], invono="SAME", **FANGCHENGGANG)
    claim_id = draft(demo, LH_EMPLOYEE, [one, two])
    upload(demo, claim_id, OUTPATIENT_PAPERS, person(LH_EMPLOYEE))
    e = refused(demo, "R_INPUT", service.submit, person(LH_EMPLOYEE), claim_id, NOW)
    assert e.details["field"] == "visits[2].invoices[1].invono" and "第1次就诊" in e.message_zh
