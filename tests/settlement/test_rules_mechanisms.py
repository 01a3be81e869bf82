"""Filing-category mechanisms (settlement.md §3): point cut, first self-pay share, separate deductible, ratio
floor, and unfiled care settled with its own reduction. Rows use an employee's inpatient stay at level 1
(first-stay deductible 100, ratio .90) unless they say otherwise, so that the local same-level fund on a bill of
1,100 is (1100 − 100) × .90 = 900. Each row's arithmetic is beside it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from yidi.parameters.policy import FilingCategory
from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, StaySoFar, settle

from .policies import CATALOGUE, acc, bill, context, mechanism, money, policy

REF, EMG, OTHER, UNFILED, LONG = (
    FilingCategory.REFERRAL,
    FilingCategory.EMERGENCY,
    FilingCategory.OTHER_TEMPORARY,
    FilingCategory.UNFILED,
    FilingCategory.LONG_TERM,
)


def _with(category: FilingCategory, table: str = "cross_province", **values: Any) -> dict[str, Any]:
    return {"cross_region": {table: {category.value: mechanism(**values)}}}


# (policy update, category, bill, expected deductible, expected fund, effective ratio)
ROWS = [
    # -- point cut (percentage points off the ratio) -------------------------------------------------------------
    pytest.param({}, LONG, "1100.00", "100.00", "900.00", "0.9000", id="no cut: 1000x.90=900"),
    pytest.param(_with(REF, point_cut=10), REF, "1100.00", "100.00", "800.00", "0.8000", id="cut 10: 1000x.80=800"),
    pytest.param(_with(EMG, point_cut=5), EMG, "1100.00", "100.00", "850.00", "0.8500", id="cut 5: 1000x.85=850"),
    pytest.param(_with(OTHER, point_cut=20), OTHER, "1100.00", "100.00", "700.00", "0.7000", id="cut 20: 1000x.70"),
    # a cut of 0.5 point: .90 − .005 = .895 → 1000 × .895 = 895
    pytest.param(_with(REF, point_cut="0.5"), REF, "1100.00", "100.00", "895.00", "0.8950", id="cut 0.5: 895"),
    # cut larger than the ratio: never below zero
    pytest.param(_with(REF, point_cut=95), REF, "1100.00", "100.00", "0.00", "0.0000", id="cut 95 > 90: 0"),
    pytest.param(_with(REF, point_cut=90), REF, "1100.00", "100.00", "0.00", "0.0000", id="cut 90 = 90: 0"),
    # -- first self-pay share of the amount above the deductible ------------------------------------------------
    # 1000 × 10 % = 100 first self-paid; (1000 − 100) × .90 = 810
    pytest.param(_with(REF, first_selfpay="0.10"), REF, "1100.00", "100.00", "810.00", "0.9000", id="first 10%: 810"),
    # 1000 × 40 % = 400; 600 × .90 = 540
    pytest.param(_with(UNFILED, first_selfpay="0.40"), UNFILED, "1100.00", "100.00", "540.00", "0.9000", id="40%: 540"),
    # 333.33 × 10 % = 33.333 → 33.33; (333.33 − 33.33) × .90 = 270.00
    pytest.param(_with(REF, first_selfpay="0.10"), REF, "433.33", "100.00", "270.00", "0.9000", id="first 10% rounded"),
    # 0.05 × 10 % = 0.005 → 0.01 (half up); 0.04 × .90 = 0.036 → 0.04
    pytest.param(_with(REF, first_selfpay="0.10"), REF, "100.05", "100.00", "0.04", "0.9000", id="first share half up"),
    # -- separate deductible replaces the stay's 100 -------------------------------------------------------------
    # (1400 − 400) × .90 = 900
    pytest.param(_with(REF, separate_deductible=400), REF, "1400.00", "400.00", "900.00", "0.9000", id="own 400: 900"),
    pytest.param(_with(REF, separate_deductible=400), REF, "399.99", "399.99", "0.00", "0.9000", id="own 400 - 1 fen"),
    pytest.param(_with(REF, separate_deductible=400), REF, "400.00", "400.00", "0.00", "0.9000", id="own 400 at"),
    pytest.param(_with(REF, separate_deductible=400), REF, "400.01", "400.00", "0.01", "0.9000", id="own 400 + 1 fen"),
    # a separate deductible of 0 removes the deductible: 1100 × .90 = 990
    pytest.param(_with(REF, separate_deductible=0), REF, "1100.00", "0.00", "990.00", "0.9000", id="own 0: 990"),
    # -- ratio floor ---------------------------------------------------------------------------------------------
    # .90 − .50 = .40 < floor .45 → .45: 1000 × .45 = 450
    pytest.param(_with(OTHER, point_cut=50, ratio_floor="0.45"), OTHER, "1100.00", "100.00", "450.00", "0.4500",
                 id="floor lifts .40 to .45: 450"),
    # .90 − .45 = .45 = floor: 450
    pytest.param(_with(OTHER, point_cut=45, ratio_floor="0.45"), OTHER, "1100.00", "100.00", "450.00", "0.4500",
                 id="cut lands on the floor: 450"),
    # .90 − .10 = .80 above the floor: 800
    pytest.param(_with(OTHER, point_cut=10, ratio_floor="0.45"), OTHER, "1100.00", "100.00", "800.00", "0.8000",
                 id="floor below the cut ratio: 800"),
    # a floor above the local ratio never raises it: min(.95, .90) = .90 → 900
    pytest.param(_with(OTHER, point_cut=50, ratio_floor="0.95"), OTHER, "1100.00", "100.00", "900.00", "0.9000",
                 id="floor above local ratio: 900"),
    # -- combinations ----------------------------------------------------------------------------------------------
    # 蚌埠-style: own deductible 2,000, cut 50, floor .45: (3000 − 2000) × .45 = 450
    pytest.param(_with(OTHER, point_cut=50, separate_deductible=2000, ratio_floor="0.45"), OTHER, "3000.00",
                 "2000.00", "450.00", "0.4500", id="own deductible + floor: 450"),
    # 1000 × 20 % = 200; (1000 − 200) × (.90 − .20) = 560
    pytest.param(_with(UNFILED, point_cut=20, first_selfpay="0.20"), UNFILED, "1100.00", "100.00", "560.00",
                 "0.7000", id="unfiled: first 20% + cut 20: 560"),
    # 1000 × 10 % = 100; 900 × max(.90 − .60, .40) = 900 × .40 = 360
    pytest.param(_with(UNFILED, point_cut=60, first_selfpay="0.10", ratio_floor="0.40"), UNFILED, "1100.00",
                 "100.00", "360.00", "0.4000", id="unfiled: first 10% + cut 60 floored at .40: 360"),
]  # fmt: skip


@pytest.mark.parametrize(("update", "category", "amount", "deductible", "fund", "ratio"), ROWS)
def test_mechanism(
    update: dict[str, Any], category: FilingCategory, amount: str, deductible: str, fund: str, ratio: str
) -> None:
    ctx = context(CareType.INPATIENT, pol=policy(update), category=category)
    r = settle(bill(amount), CATALOGUE, ctx, {})
    assert (r.act_pay_dedc, r.hifp_pay, str(r.pool_prop_selfpay)) == (money(deductible), money(fund), ratio)
    assert r.psn_part_amt == money(amount) - money(fund)


TABLES = [
    # referral cut 5 in-province, 10 cross-province; local care (cross_province None) has no reduction
    pytest.param(False, "850.00", id="in-province table: cut 5 → 850"),
    pytest.param(True, "800.00", id="cross-province table: cut 10 → 800"),
    pytest.param(None, "900.00", id="local care: no mechanism → 900"),
]


@pytest.mark.parametrize(("cross_province", "fund"), TABLES)
def test_the_mechanism_comes_from_the_classification_table(cross_province: bool | None, fund: str) -> None:
    pol = policy(
        {
            "cross_region": {
                "in_province": {"referral": mechanism(point_cut=5)},
                "cross_province": {"referral": mechanism(point_cut=10)},
            }
        }
    )
    ctx = context(CareType.INPATIENT, pol=pol, category=REF, cross_province=cross_province)
    assert settle(bill("1100.00"), CATALOGUE, ctx, {}).hifp_pay == money(fund)


OUTPATIENT = [
    # outpatient L1 .70, year deductible 500
    # separate 1,000 replaces 500: (3000 − 1000) × .70 = 1400
    pytest.param(_with(REF, separate_deductible=1000), {}, "3000.00", "1000.00", "1400.00", id="own 1000: 1400"),
    # …and it is counted on the year deductible: 600 already borne → 400 left: (1000 − 400) × .70 = 420
    pytest.param(_with(REF, separate_deductible=1000), {"outpatient.deductible": "600"}, "1000.00", "400.00",
                 "420.00", id="own 1000, 600 borne: 420"),
    # point cut 10 on .70: (1000 − 500) × .60 = 300
    pytest.param(_with(REF, point_cut=10), {}, "1000.00", "500.00", "300.00", id="outpatient cut 10: 300"),
    # first self-pay 10 %: 500 × .10 = 50; 450 × .70 = 315
    pytest.param(_with(REF, first_selfpay="0.10"), {}, "1000.00", "500.00", "315.00", id="outpatient first 10%: 315"),
]  # fmt: skip


@pytest.mark.parametrize(("update", "used", "amount", "deductible", "fund"), OUTPATIENT)
def test_outpatient_mechanism(
    update: dict[str, Any], used: dict[str, str], amount: str, deductible: str, fund: str
) -> None:
    ctx = context(CareType.OUTPATIENT, pol=policy(update), category=REF)
    r = settle(bill(amount), CATALOGUE, ctx, {k: money(v) for k, v in used.items()})
    assert (r.act_pay_dedc, r.hifp_pay) == (money(deductible), money(fund))


def test_chronic_point_cut() -> None:
    """M03900 ratio .80, deductible 100 (year): referral cut 10 → (600 − 100) × .70 = 350."""
    ctx = context(CareType.CHRONIC, pol=policy(_with(REF, point_cut=10)), category=REF, disease="M03900")
    assert settle(bill("600.00"), CATALOGUE, ctx, {}).hifp_pay == money("350")


def test_point_cut_at_level_2_for_a_retiree() -> None:
    """Retiree, level 2: first stay 100, ratio .85; cut 10 → .75: (1100 − 100) × .75 = 750."""
    ctx = context(
        CareType.INPATIENT,
        pol=policy(_with(EMG, point_cut=10)),
        category=EMG,
        retiree=True,
        level=SettlementLevel.LEVEL_2,
    )
    assert settle(bill("1100.00"), CATALOGUE, ctx, acc()).hifp_pay == money("750")


def test_a_stays_separate_deductible_does_not_use_up_the_outpatient_year_deductible() -> None:
    """A stay under a separate deductible of 400 (replacing the stay's own deductible, settlement.md §3
    深圳 row) is still a stay: the outpatient year deductible (500, shared across outpatient visits only,
    §2 step 5) must be untouched. A later outpatient visit of 1,000 bears 500: (1000 − 500) × .70 = 350."""
    pol = policy(_with(REF, separate_deductible=400))
    stay = settle(bill("1400.00"), CATALOGUE, context(CareType.INPATIENT, pol=pol, category=REF), {})
    assert stay.act_pay_dedc == money("400")
    visit = settle(bill("1000.00"), CATALOGUE, context(CareType.OUTPATIENT, pol=pol), dict(stay.increments))
    assert (visit.act_pay_dedc, visit.hifp_pay) == (money("500"), money("350"))


def test_a_stays_separate_deductible_is_per_stay() -> None:
    """The separate deductible replaces the stay's own: a second stay under it bears 400 again, and a mid-stay
    settlement (StaySoFar) leaves the rest of it to the final one: 400 − 250 = 150."""
    pol = policy(_with(REF, separate_deductible=400))
    first = settle(bill("1400.00"), CATALOGUE, context(CareType.INPATIENT, pol=pol, category=REF), {})
    second = settle(bill("1400.00"), CATALOGUE, context(CareType.INPATIENT, pol=pol, category=REF), first.increments)
    assert (first.act_pay_dedc, second.act_pay_dedc) == (money("400"), money("400"))
    ctx = context(CareType.INPATIENT, pol=pol, category=REF)
    rest = settle(bill("1400.00"), CATALOGUE, replace(ctx, stay=StaySoFar(money("250"), True)), first.increments)
    assert rest.act_pay_dedc == money("150") and "inpatient.stays" not in rest.increments
