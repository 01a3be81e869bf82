"""The pure rules of manual claims, table by table, with the expected values worked out by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.filing.coverage import Care, Coverage, FilingDecision
from yidi.parameters.policy import ClaimCare, FilingCategory, InputLimits, ManualReimbursement, MaterialKind
from yidi.reference.rules import CrossRegion
from yidi.reimbursement import inputs, rules, splits
from yidi.reimbursement.payment_rules import mask_account
from yidi.settlement import engine
from yidi.settlement.engine import CareType

D = dt.date
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
LIMITS = InputLimits(
    max_line_amount=Decimal("5000000.00"),
    max_unit_price=Decimal("5000000.00"),
    max_line_count=Decimal("100000"),
    max_visit_amount=Decimal("50000000.00"),
    clock_skew_seconds=600,
    institution_read_days=7,
)


def mr(**changes: Any) -> ManualReimbursement:
    values: dict[str, Any] = {
        "deadline_months": 12,
        "deadline_end_of_following_year": False,
        "review_working_days": 20,
        "catalogue": "treatment_place",
        "excluded_care": ["work_injury"],
        "injury_requires_undertaking": True,
        "required_materials": {
            "inpatient": ["invoice", "fee_list", "discharge_summary"],
            "outpatient": ["invoice", "fee_list"],
        },
    }
    return ManualReimbursement.model_validate(values | changes)


# -- the deadline ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "end_of_care", "deadline"),
    [
        (mr(), D(2025, 5, 8), D(2026, 5, 8)),  # 12 months after discharge
        (mr(deadline_months=6), D(2025, 8, 31), D(2026, 2, 28)),  # 31 August + 6 months: the month's last day
        (mr(deadline_months=24), D(2024, 2, 29), D(2026, 2, 28)),  # a leap day two years on
        (mr(deadline_months=None, deadline_end_of_following_year=True), D(2025, 3, 1), D(2026, 12, 31)),
        (mr(deadline_months=None, deadline_end_of_following_year=True), D(2025, 12, 31), D(2026, 12, 31)),
    ],
)
def test_claim_deadline(rule: ManualReimbursement, end_of_care: dt.date, deadline: dt.date) -> None:
    assert rules.claim_deadline(rule, end_of_care) == deadline


def test_a_claim_after_the_deadline_is_refused_naming_the_visit_and_the_deadline() -> None:
    rules.check_deadline(mr(), 2, "H11010500001", D(2025, 5, 8), D(2026, 5, 8))  # the last day is still in time
    with pytest.raises(YidiError) as refused:
        rules.check_deadline(mr(), 2, "H11010500001", D(2025, 5, 8), D(2026, 5, 9))
    assert refused.value.code == "R_DEADLINE"
    assert "第2次就诊" in refused.value.message_zh and "2026-05-08" in refused.value.message_zh
    assert "visit 2" in refused.value.message_en and "deadline was 2026-05-08" in refused.value.message_en


# -- which care, which date, which catalogue, which category -------------------------------------------------


CHRONIC_LIST = ("M03900", "M01600")
CROSS = CrossRegion.CROSS_PROVINCE


@pytest.mark.parametrize(
    ("care", "med_type", "disease", "expected"),
    [
        (ClaimCare.OUTPATIENT, "11", None, CareType.OUTPATIENT),
        (ClaimCare.INPATIENT, "21", None, CareType.INPATIENT),
        (ClaimCare.CHRONIC, "14", "M03900", CareType.CHRONIC),
        (ClaimCare.PHARMACY, "41", "M03900", CareType.CHRONIC),  # 门慢 drugs bought: the disease's rules
        (ClaimCare.PHARMACY, "41", "M99999", CareType.OUTPATIENT),  # not a disease of the scheme
        (ClaimCare.PHARMACY, "41", None, CareType.OUTPATIENT),
        (ClaimCare.EMERGENCY_OBSERVATION, "13", None, CareType.OUTPATIENT),
        (ClaimCare.MATERNITY, "52", None, CareType.INPATIENT),
        (ClaimCare.MATERNITY, "51", None, CareType.OUTPATIENT),
        (ClaimCare.WORK_INJURY, "14", "M01600", CareType.CHRONIC),
        (ClaimCare.WORK_INJURY, "14", None, CareType.OUTPATIENT),
    ],
)
def test_engine_care(care: ClaimCare, med_type: str, disease: str | None, expected: CareType) -> None:
    assert rules.engine_care(care, med_type, disease, CHRONIC_LIST) is expected


@pytest.mark.parametrize(
    ("care", "computed", "expected"),
    [
        (ClaimCare.PHARMACY, CareType.OUTPATIENT, Care.PHARMACY),
        (ClaimCare.INPATIENT, CareType.INPATIENT, Care.INPATIENT),
        (ClaimCare.CHRONIC, CareType.CHRONIC, Care.CHRONIC),
        (ClaimCare.EMERGENCY_OBSERVATION, CareType.OUTPATIENT, Care.OUTPATIENT),
    ],
)
def test_filing_care(care: ClaimCare, computed: CareType, expected: Care) -> None:
    assert rules.filing_care(care, computed) is expected


def test_service_date_is_the_discharge_of_a_stay_and_the_day_of_a_visit() -> None:
    assert rules.service_date(CareType.INPATIENT, D(2025, 12, 28), D(2026, 1, 4)) == D(2026, 1, 4)
    assert rules.service_date(CareType.OUTPATIENT, D(2026, 5, 4), D(2026, 5, 6)) == D(2026, 5, 4)


def test_catalogue_is_the_treatment_place_unless_the_region_prices_claims_by_its_own() -> None:
    assert rules.catalogue_region(mr(), "110000", "411100") == "110000"
    assert rules.catalogue_region(mr(catalogue="insured_place"), "110000", "411100") == "411100"


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (FilingDecision(Coverage.FILED, True, FilingCategory.REFERRAL, CROSS), "referral"),
        (FilingDecision(Coverage.FILED, True, FilingCategory.OTHER_TEMPORARY, CROSS), "other_temporary"),
        (FilingDecision(Coverage.LOCAL, True, FilingCategory.LONG_TERM, CrossRegion.LOCAL), "long_term"),
        # not covered: unfiled, even where the region's unfiled mechanism forbids direct settlement
        (FilingDecision(Coverage.NOT_FILED, False, FilingCategory.UNFILED, CROSS), "unfiled"),
        (FilingDecision(Coverage.NOT_FILED, False, FilingCategory.REFERRAL, CROSS), "unfiled"),
    ],
)
def test_filing_category(decision: FilingDecision, expected: str) -> None:
    assert rules.filing_category(decision).value == expected


# -- exclusions and materials ----------------------------------------------------------------------------------


def test_excluded_care_and_the_injury_undertaking() -> None:
    with pytest.raises(YidiError) as excluded:
        rules.check_care(mr(), 1, ClaimCare.WORK_INJURY, False, set())
    assert excluded.value.code == "R_EXCLUDED_CARE" and "work_injury" in excluded.value.message_en
    with pytest.raises(YidiError) as injury:
        rules.check_care(mr(), 3, ClaimCare.OUTPATIENT, True, {"invoice"})
    assert injury.value.code == "R_INJURY_UNDERTAKING" and "第3次就诊" in injury.value.message_zh
    rules.check_care(mr(), 3, ClaimCare.OUTPATIENT, True, {"injury_undertaking"})  # with the undertaking
    rules.check_care(mr(injury_requires_undertaking=False), 3, ClaimCare.OUTPATIENT, True, set())
    rules.check_care(mr(excluded_care=[]), 1, ClaimCare.WORK_INJURY, False, set())


@pytest.mark.parametrize(
    ("stays", "visits", "uploaded", "missing"),
    [
        (True, False, set(), ["invoice", "fee_list", "discharge_summary"]),
        (False, True, set(), ["invoice", "fee_list"]),
        (True, True, {"invoice"}, ["fee_list", "discharge_summary"]),  # both lists, each kind once
        (True, False, {"invoice", "fee_list", "discharge_summary", "other"}, []),
    ],
)
def test_missing_materials(stays: bool, visits: bool, uploaded: set[str], missing: list[str]) -> None:
    assert [k.value for k in rules.missing_materials(mr(), stays, visits, uploaded)] == missing


def test_missing_materials_are_listed_in_the_refusal() -> None:
    with pytest.raises(YidiError) as refused:
        rules.check_materials([MaterialKind.FEE_LIST, MaterialKind.DISCHARGE_SUMMARY])
    assert refused.value.code == "R_MATERIALS" and "fee_list, discharge_summary" in refused.value.message_zh
    rules.check_materials([])


def test_invoices_must_add_up_to_the_lines() -> None:
    rules.check_invoice_sum(1, [Decimal("600.00"), Decimal("400.00")], [Decimal("999.99"), Decimal("0.01")], LIMITS)
    with pytest.raises(YidiError) as refused:
        rules.check_invoice_sum(2, [Decimal("1000.00")], [Decimal("999.99")], LIMITS)
    assert refused.value.code == "R_INVOICE_SUM"
    assert "第2次就诊" in refused.value.message_zh and "1000.00" in refused.value.message_zh
    assert "999.99" in refused.value.message_en
    with pytest.raises(YidiError) as none:
        rules.check_invoice_sum(1, [], [Decimal("1.00")], LIMITS)
    assert none.value.details["field"] == "visits[1].invoices"


def test_insurance_period() -> None:
    rules.check_insurance_period(1, D(2026, 1, 1), D(2026, 3, 31), D(2026, 1, 1), D(2026, 3, 31))
    with pytest.raises(YidiError) as early:
        rules.check_insurance_period(1, D(2025, 12, 31), D(2026, 1, 2), D(2026, 1, 1), None)
    assert early.value.details["field"] == "visits[1].begndate" and "参保开始日期" in early.value.message_zh
    with pytest.raises(YidiError) as late:
        rules.check_insurance_period(2, D(2026, 3, 30), D(2026, 4, 1), D(2026, 1, 1), D(2026, 3, 31))
    assert late.value.details["field"] == "visits[2].enddate" and "after the insurance ended" in late.value.message_en


# -- what was paid directly ------------------------------------------------------------------------------------


def _direct(
    setl_id: str,
    code: str,
    day: dt.date,
    fund: str,
    care: Care = Care.INPATIENT,
    admission: dt.date | None = None,
    **increments: str,
) -> rules.DirectSettlement:
    inc = {k.replace("_", "."): Decimal(v) for k, v in increments.items()}
    return rules.DirectSettlement(setl_id, code, care, day, admission or day, day.year, Decimal(fund), inc)


def test_same_care_is_the_same_institution_and_care_class_within_the_visits_days() -> None:
    settlements = [
        _direct("S1", "H11010500001", D(2026, 5, 6), "100.00"),
        _direct("S2", "H11010500001", D(2026, 5, 9), "50.00"),  # after the discharge
        _direct("S3", "H11010800003", D(2026, 5, 6), "70.00"),  # another hospital
        _direct("S4", "H11010500001", D(2026, 5, 5), "75.00", Care.OUTPATIENT),  # an outpatient visit in the stay
        # a stay settled at its discharge after the claimed days, admitted on one of them
        _direct("S5", "H11010500001", D(2026, 5, 12), "900.00", admission=D(2026, 5, 8)),
    ]
    stay = (Care.INPATIENT, D(2026, 5, 4), D(2026, 5, 8))
    assert [s.setl_id for s in rules.same_care(settlements, "H11010500001", *stay)] == ["S1", "S5"]
    assert [
        s.setl_id for s in rules.same_care(settlements, "H11010500001", Care.OUTPATIENT, D(2026, 5, 5), D(2026, 5, 5))
    ] == ["S4"]
    assert rules.same_care(settlements, None, *stay) == []  # outside the network
    assert rules.same_care(settlements, "H11010500001", None, D(2026, 5, 4), D(2026, 5, 8)) == []  # no care class


def test_a_claim_line_a_settlement_holds_is_found() -> None:
    held = engine.FeeLine("1", "XA10", D(2026, 5, 11), Decimal("400.00"), Decimal("160"), Decimal("2.5"))
    settlement = dataclasses.replace(_direct("S1", "H11010500001", D(2026, 5, 11), "75.00"), lines=(held,))
    claim_lines = [
        ("2", "XA10", Decimal("200.00")),
        ("1", "XA10", Decimal("400.00")),  # the settled line, listed again
        ("1", "XA99", Decimal("400.00")),  # the same number of another item: another line
    ]
    assert rules.settled_lines(claim_lines, [settlement]) == {1: "S1"}


def test_recomputing_the_whole_care_takes_the_direct_settlements_increments_out_and_nets_them_at_approval() -> None:
    # The year so far: a direct settlement of this care bore the whole outpatient deductible (150) and paid 75.00;
    # another care of the year paid 25.00 more. The claim recomputes the care from the accumulators without the
    # settlement: deductible 0 used, fund 25.00 paid.
    acc = {"outpatient.deductible": Decimal("150.00"), "basic.fund": Decimal("100.00")}
    settlement = _direct(
        "S1", "H11010500001", D(2026, 5, 11), "75.00", Care.OUTPATIENT, outpatient_deductible="150", basic_fund="75"
    )
    assert splits.without(acc, settlement.increments) == {
        "outpatient.deductible": Decimal("0.00"),
        "basic.fund": Decimal("25.00"),
    }
    # The claim bears the deductible again (150) and pays 129.00: the year's totals change by 150 − 150 = 0 and
    # 129 − 75 = 54, ending at 150 and 154.00 (25 + 129), as if the care had been settled once, by the claim.
    claim = {"outpatient.deductible": Decimal("150.00"), "basic.fund": Decimal("129.00")}
    change = rules.net_change(2026, claim, [settlement])
    assert change == {2026: {"basic.fund": Decimal("54.00")}}
    assert rules.add(acc, change[2026]) == {"outpatient.deductible": Decimal("150.00"), "basic.fund": Decimal("154.00")}


def test_a_direct_settlement_of_another_year_changes_its_own_year() -> None:
    # A stay across the new year: its mid-stay settlement of 30 December 2025 counted the stay and 800 of
    # deductible in 2025; the claim's computation is dated at the discharge (2026).
    mid = _direct("S1", "H11010500001", D(2025, 12, 30), "1000.00", inpatient_stays="1", basic_fund="1000")
    change = rules.net_change(2026, {"inpatient.stays": Decimal(1), "basic.fund": Decimal("2500.00")}, [mid])
    assert change == {
        2026: {"inpatient.stays": Decimal(1), "basic.fund": Decimal("2500.00")},
        2025: {"inpatient.stays": Decimal(-1), "basic.fund": Decimal("-1000")},
    }


def test_totals_pay_the_fund_less_what_was_paid_directly_never_below_zero() -> None:
    d = Decimal
    t = rules.totals([(d("600.00"), d("129.00"), d("75.00")), (d("10.00"), d("0.00"), d("0.00"))])
    assert (t.medfee_sumamt, t.fund_pay_sumamt, t.paid_directly, t.payable) == (
        Decimal("610.00"),
        Decimal("129.00"),
        Decimal("75.00"),
        Decimal("54.00"),
    )
    assert rules.totals([(Decimal("100.00"), Decimal("40.00"), Decimal("60.00"))]).payable == Decimal("0.00")


def test_each_visit_pays_its_own_share_a_visit_below_what_was_paid_directly_takes_nothing_from_another() -> None:
    # Visit 1 was paid 125.00 directly and computes to 78.00 as a whole: it pays nothing (no refund to the fund).
    # Visit 2, unrelated, computes to 180.00: it pays 180.00, as it would claimed on its own (not 258 − 125 = 133).
    d = Decimal
    t = rules.totals([(d("410.00"), d("78.00"), d("125.00")), (d("300.00"), d("180.00"), d("0.00"))])
    assert (t.fund_pay_sumamt, t.paid_directly, t.payable) == (d("258.00"), d("125.00"), d("180.00"))


# -- input -----------------------------------------------------------------------------------------------------


def test_payee_and_the_masked_account() -> None:
    payee = inputs.read_payee({"bank_name": "工商银行", "bank_account": "6222 0202 0011 2233 445"}, "陈某戊")
    assert payee == inputs.Payee("陈某戊", "工商银行", "6222020200112233445")
    assert mask_account(payee.bank_account) == "6222***********3445"
    # The payment batches' rule (payment_rules.bank_details_problem): 8 to 32 digits.
    assert inputs.read_payee({"bank_name": "工商银行", "bank_account": "1" * 32}, "陈某戊").bank_account == "1" * 32
    for account in ("1234567", "6222abc0200112233", "1" * 33):
        with pytest.raises(YidiError) as refused:
            inputs.read_payee({"bank_name": "工商银行", "bank_account": account}, "陈某戊")
        assert refused.value.details["field"] == "bank_account" and "银行账号" in refused.value.message_zh


OUTSIDE: dict[str, Any] = {"fixmedins_code": None, "institution_name": "某县人民医院"}


def good_visit(**changes: Any) -> dict[str, Any]:
    return {
        "fixmedins_code": "H11010500001",
        "care": "inpatient",
        "med_type": "21",
        "begndate": "2026-05-04",
        "enddate": "2026-05-08",
        "diagnoses": [{"diag_code": "I10.x00", "diag_name": "高血压", "maindiag_flag": True}],
        "invoices": [{"invono": "BJ001", "invoice_date": "2026-05-08", "amount": "100.00"}],
    } | changes


def test_a_good_visit_is_read() -> None:
    v = inputs.read_visit(good_visit(), "visits[1].", LIMITS, NOW)
    assert (v.care, v.begndate, v.enddate, v.invoices) == (
        ClaimCare.INPATIENT,
        D(2026, 5, 4),
        D(2026, 5, 8),
        (inputs.InvoiceIn("BJ001", D(2026, 5, 8), Decimal("100.00")),),
    )
    outside = inputs.read_visit(
        good_visit(**OUTSIDE, institution_region="450600", institution_level="level_2"),
        "",
        LIMITS,
        NOW,
    )
    assert (outside.fixmedins_code, outside.institution_region, outside.institution_level.value) == (  # type: ignore[union-attr]
        None,
        "450600",
        "level_2",
    )


def _invoice(**changes: str) -> dict[str, Any]:
    return {"invoices": [{"invono": "BJ001", "invoice_date": "2026-05-08", "amount": "100.00"} | changes]}


@pytest.mark.parametrize(
    ("changes", "field", "zh", "en"),
    [
        ({"enddate": "2026-05-03"}, "enddate", "早于开始日期", "before begndate"),
        ({"enddate": "2026-06-02"}, "enddate", "晚于今天", "in the future"),
        ({"begndate": "2026-13-01"}, "begndate", "yyyy-MM-dd", "yyyy-MM-dd"),
        ({"care": "outpatient", "med_type": "11"}, "enddate", "须与开始日期相同", "a visit is one day"),
        ({"med_type": "11"}, "med_type", "与报销类别inpatient不符", "for care inpatient"),
        ({"care": "dental"}, "care", "须为", "must be one of"),
        ({"fixmedins_code": "X123"}, "fixmedins_code", "H或P加11位数字", "11 digits"),
        (OUTSIDE | {"institution_region": "4506"}, "institution_region", "6位", "6-digit"),
        (
            OUTSIDE | {"institution_region": "450600", "institution_level": "top"},
            "institution_level",
            "level_1",
            "level_1",
        ),
        ({"care": "chronic", "med_type": "14", "enddate": "2026-05-04"}, "dise_codg", "必填", "required"),
        ({"diagnoses": []}, "diagnoses", "至少", "at least one"),
        (
            {"diagnoses": [{"diag_code": "A", "diag_name": "a", "maindiag_flag": True}] * 2},
            "diagnoses[1].maindiag_flag",
            "有且仅有一项主诊断",
            "exactly one",
        ),
        (_invoice(amount="100.005"), "invoices[1].amount", "小数超过2位", "more than 2 decimals"),
        (_invoice(amount="-100.00"), "invoices[1].amount", "不得为负数", "must not be negative"),
        (_invoice(amount="0"), "invoices[1].amount", "须大于0", "greater than 0"),
        (_invoice(amount="50000000.01"), "invoices[1].amount", "超过上限50000000.00", "above the limit"),
        (_invoice(amount="1e3"), "invoices[1].amount", "不是数字", "not a number"),  # parse_amount's grammar
        (_invoice(invoice_date="2026-06-02"), "invoices[1].invoice_date", "晚于今天", "in the future"),
        (_invoice(invoice_date="2026-05-03"), "invoices[1].invoice_date", "早于就诊开始日期", "before the visit"),
        (
            {"invoices": [{"invono": "A1", "invoice_date": "2026-05-08", "amount": "1.00"}] * 2},
            "invoices[2].invono",
            "重复",
            "twice",
        ),
    ],
)
def test_bad_visit_input_names_the_field(changes: dict[str, Any], field: str, zh: str, en: str) -> None:
    with pytest.raises(YidiError) as refused:
        inputs.read_visit(good_visit(**changes), "visits[1].", LIMITS, NOW)
    e = refused.value
    assert e.code == "R_INPUT" and e.details["field"] == f"visits[1].{field}"
    assert zh in e.message_zh and en in e.message_en
    label_zh, _ = inputs.label(field)
    assert f"visits[1].{field}（{label_zh}）" in e.message_zh  # the field, named in Chinese too


def test_counts_are_bounded() -> None:
    inputs.check_counts(20, 50, 30)
    for counts, field in (((21, 0, 0), "visits"), ((1, 51, 0), "invoices"), ((1, 1, 31), "materials")):
        with pytest.raises(YidiError) as refused:
            inputs.check_counts(*counts)
        assert refused.value.details["field"] == field
