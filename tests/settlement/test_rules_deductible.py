"""Deductible (settlement.md §2 step 5): a year deductible for outpatient care shared across visits, a
per-stay inpatient deductible (first stay of the year vs later stays) by settlement level and person type,
chronic deductibles per year or per month. Figures from the synthetic policy in `policies.py`; the
arithmetic is written beside each row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, settle

from .policies import CATALOGUE, D, acc, bill, context, money, policy

L1, L2, L3, UNRATED = SettlementLevel.LEVEL_1, SettlementLevel.LEVEL_2, SettlementLevel.LEVEL_3, SettlementLevel.UNRATED

# -- outpatient: year deductible 500 (retiree 300), level 1 ratio .70 (retiree .80) ------------------------------

OUTPATIENT = [
    # (bill, retiree, deductible already used this year, expected deductible, expected fund)
    pytest.param("1000.00", False, None, "500.00", "350.00", id="first-visit: (1000-500)x.70=350"),
    pytest.param("1000.00", True, None, "300.00", "560.00", id="retiree: (1000-300)x.80=560"),
    pytest.param("499.99", False, None, "499.99", "0.00", id="bill 1 fen below deductible: all deductible"),
    pytest.param("500.00", False, None, "500.00", "0.00", id="bill at deductible: fund 0"),
    pytest.param("500.01", False, None, "500.00", "0.01", id="bill 1 fen above: 0.01x.70=0.007->0.01"),
    pytest.param("1000.00", False, "200.00", "300.00", "490.00", id="shared: 500-200=300 left, 700x.70=490"),
    pytest.param("100.00", False, "499.99", "0.01", "69.99", id="1 fen left: 99.99x.70=69.993->69.99"),
    pytest.param("100.00", False, "500.00", "0.00", "70.00", id="used up: 100x.70=70"),
    pytest.param("100.00", False, "500.01", "0.00", "70.00", id="over-used: never negative"),
    pytest.param("100.00", True, "300.00", "0.00", "80.00", id="retiree used up: 100x.80=80"),
]


@pytest.mark.parametrize(("amount", "retiree", "used", "deductible", "fund"), OUTPATIENT)
def test_outpatient_year_deductible(amount: str, retiree: bool, used: str | None, deductible: str, fund: str) -> None:
    start = acc(outpatient__deductible=used) if used else {}
    r = settle(bill(amount), CATALOGUE, context(CareType.OUTPATIENT, retiree=retiree), start)
    assert (r.act_pay_dedc, r.hifp_pay) == (money(deductible), money(fund))
    assert r.increments.get("outpatient.deductible", D(0)) == money(deductible)
    assert r.psn_part_amt == money(amount) - money(fund)


def test_outpatient_deductible_is_shared_across_visits() -> None:
    """Visit 1 of 300 uses 300 of the 500; visit 2 of 1,000 bears only the remaining 200:
    (1000 − 200) × .70 = 560.00. Visit 3 bears none: 100 × .70 = 70.00."""
    ctx = context(CareType.OUTPATIENT)
    first = settle(bill("300.00"), CATALOGUE, ctx, {})
    assert (first.act_pay_dedc, first.hifp_pay) == (money("300"), money("0"))
    second = settle(bill("1000.00"), CATALOGUE, ctx, dict(first.increments))
    assert (second.act_pay_dedc, second.hifp_pay) == (money("200"), money("560"))
    so_far = {
        k: first.increments.get(k, D(0)) + second.increments.get(k, D(0))
        for k in {*first.increments, *second.increments}
    }
    assert so_far["outpatient.deductible"] == money("500")
    third = settle(bill("100.00"), CATALOGUE, ctx, so_far)
    assert (third.act_pay_dedc, third.hifp_pay) == (money("0"), money("70"))


def test_e8_beijing_retiree_outpatient() -> None:
    """E8 (examples.md, http://www.21baoxian.com/7974.html): bill 2,300, deductible 1,300, ratio 80 %
    → fund (2300 − 1300) × .80 = 800, personal 1,500."""
    e8 = policy(
        {
            "employee": {
                "outpatient": {
                    "deductible": {"default": 1300, "retiree": 1300},
                    "ratio": {"retiree": {"level_1": "0.80", "level_2": "0.80", "level_3": "0.80", "unrated": "0.80"}},
                    "annual_cap": None,
                }
            }
        }
    )
    r = settle(bill("2300.00"), CATALOGUE, context(CareType.OUTPATIENT, pol=e8, retiree=True), {})
    assert (r.act_pay_dedc, r.hifp_pay, r.psn_part_amt) == (money("1300"), money("800"), money("1500"))


# -- inpatient: per stay, first vs later, by level and person type ------------------------------------------------

INPATIENT = [
    # (level, retiree, stays already this year, bill, expected deductible, expected fund)
    pytest.param(L1, False, "0", "1100.00", "100.00", "900.00", id="L1 first: (1100-100)x.90=900"),
    pytest.param(L2, False, "0", "1200.00", "200.00", "800.00", id="L2 first: (1200-200)x.80=800"),
    pytest.param(UNRATED, False, "0", "1400.00", "400.00", "600.00", id="unrated first: (1400-400)x.60=600"),
    pytest.param(L1, False, "1", "1100.00", "40.00", "954.00", id="L1 second stay: (1100-40)x.90=954"),
    pytest.param(L2, False, "1", "1200.00", "80.00", "896.00", id="L2 second stay: (1200-80)x.80=896"),
    pytest.param(L2, False, "2", "1200.00", "80.00", "896.00", id="L2 third stay: still later-stay 80"),
    pytest.param(UNRATED, False, "1", "1400.00", "160.00", "744.00", id="unrated second: (1400-160)x.60=744"),
    pytest.param(L1, True, "0", "1100.00", "50.00", "997.50", id="retiree L1 first: (1100-50)x.95=997.50"),
    pytest.param(L2, True, "0", "1100.00", "100.00", "850.00", id="retiree L2 first: (1100-100)x.85=850"),
    pytest.param(L2, True, "1", "1100.00", "40.00", "901.00", id="retiree L2 second: (1100-40)x.85=901"),
    pytest.param(UNRATED, True, "1", "1080.00", "80.00", "650.00", id="retiree unrated second: 1000x.65=650"),
    # level 3: first-stay 300 then bands; 1300 − 300 = 1000 → 1000 × .70 = 700
    pytest.param(L3, False, "0", "1300.00", "300.00", "700.00", id="L3 first: (1300-300) in band 1 x.70=700"),
    pytest.param(L3, False, "1", "1120.00", "120.00", "700.00", id="L3 second: (1120-120)x.70=700"),
    # boundaries at the first-stay deductible of level 2 (200)
    pytest.param(L2, False, "0", "199.99", "199.99", "0.00", id="L2 bill 1 fen below deductible"),
    pytest.param(L2, False, "0", "200.00", "200.00", "0.00", id="L2 bill at deductible"),
    pytest.param(L2, False, "0", "200.01", "200.00", "0.01", id="L2 bill 1 fen above: 0.01x.80=0.008->0.01"),
]


@pytest.mark.parametrize(("level", "retiree", "stays", "amount", "deductible", "fund"), INPATIENT)
def test_inpatient_deductible_per_stay(
    level: SettlementLevel, retiree: bool, stays: str, amount: str, deductible: str, fund: str
) -> None:
    ctx = context(CareType.INPATIENT, level=level, retiree=retiree)
    r = settle(bill(amount), CATALOGUE, ctx, acc(inpatient__stays=stays))
    assert (r.act_pay_dedc, r.hifp_pay) == (money(deductible), money(fund))
    # a stay's deductible is borne per stay: nothing carried on a deductible accumulator; the stay is counted
    assert not any("deductible" in k for k in r.increments)
    assert r.increments["inpatient.stays"] == 1


def test_inpatient_deductible_ignores_the_outpatient_year_deductible() -> None:
    """Outpatient deductible used up does not lower a stay's: first stay at level 1 still bears 100."""
    r = settle(bill("1100.00"), CATALOGUE, context(CareType.INPATIENT), acc(outpatient__deductible="500"))
    assert (r.act_pay_dedc, r.hifp_pay) == (money("100"), money("900"))


def test_resident_inpatient_first_and_later_stay() -> None:
    """Resident: first stay 500, later 250, ratio .60: (1500 − 500) × .6 = 600; (1500 − 250) × .6 = 750."""
    ctx = context(CareType.INPATIENT, insutype="390")
    first = settle(bill("1500.00"), CATALOGUE, ctx, {})
    later = settle(bill("1500.00"), CATALOGUE, ctx, dict(first.increments))
    assert (first.act_pay_dedc, first.hifp_pay) == (money("500"), money("600"))
    assert (later.act_pay_dedc, later.hifp_pay) == (money("250"), money("750"))


# -- chronic: M03900 100 a year; M01600 30 a month (咸阳-style) ---------------------------------------------------

CHRONIC = [
    # (disease, accumulators, bill, expected deductible, expected fund, deductible key)
    pytest.param("M03900", {}, "600.00", "100.00", "400.00", "chronic.M03900.deductible", id="year: (600-100)x.80=400"),
    pytest.param(
        "M03900", {"chronic.M03900.deductible": "40"}, "600.00", "60.00", "432.00", "chronic.M03900.deductible",
        id="year, 40 used: (600-60)x.80=432",
    ),
    pytest.param(
        "M03900", {"chronic.M03900.deductible": "100"}, "600.00", "0.00", "480.00", None, id="year used up: 600x.80"
    ),
    pytest.param("M01600", {}, "130.00", "30.00", "80.00", "chronic.M01600.deductible.06", id="month: (130-30)x.80=80"),
    pytest.param(
        "M01600", {"chronic.M01600.deductible.06": "30"}, "130.00", "0.00", "104.00", None,
        id="June's deductible borne: 130x.80=104",
    ),
    pytest.param(
        "M01600", {"chronic.M01600.deductible.05": "30"}, "130.00", "30.00", "80.00", "chronic.M01600.deductible.06",
        id="May's deductible does not count in June",
    ),
    pytest.param(
        "M01600", {"chronic.M01600.deductible.06": "29.99"}, "130.00", "0.01", "103.99", "chronic.M01600.deductible.06",
        id="1 fen of June's left: 129.99x.80=103.992->103.99",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("disease", "used", "amount", "deductible", "fund", "key"), CHRONIC)
def test_chronic_deductible(
    disease: str, used: dict[str, str], amount: str, deductible: str, fund: str, key: str | None
) -> None:
    start = {k: Decimal(v) for k, v in used.items()}
    r = settle(bill(amount), CATALOGUE, context(CareType.CHRONIC, disease=disease, person_diseases=(disease,)), start)
    assert (r.act_pay_dedc, r.hifp_pay) == (money(deductible), money(fund))
    deductible_keys = {k: v for k, v in r.increments.items() if "deductible" in k}
    assert deductible_keys == ({key: money(deductible)} if key else {})
