"""大额 (employees) and 大病 (residents) (settlement.md §2 step 8; E6 in examples.md). Synthetic policy in
`policies.py`: 大额 deductible 1,000, 0–2,000 at .80, above at .90, yearly cap 5,000; 大病 deductible 2,000,
0–1,000 at .50, above at .60, yearly cap 3,000. Each row's arithmetic is beside it."""

from __future__ import annotations

from typing import Any

import pytest

from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, settle

from .policies import CATALOGUE, OUT_ITEM, D, acc, bill, context, fee, money, policy

# -- 大额 ----------------------------------------------------------------------------------------------------------
# Employee stay at level 1, a later stay (deductible 40, ratio .90). With 9,100 of the 10,000 basic cap already
# paid, the basic fund pays at most 900, which covers 900 / .90 = 1,000 of the amount above the deductible; 大额
# takes the rest ("uncovered") above its own deductible of 1,000.

LARGE = [
    # (amount above the stay deductible, basic fund paid so far, 大额 paid so far, expected basic, expected 大额)
    pytest.param("4000", "0", "0", "3600.00", "0.00", id="cap not reached: 4000x.90, no 大额"),
    pytest.param("4000", "9100", "0", "900.00", "1600.00", id="uncovered 4000-1000=3000; 2000 above ded x.80=1600"),
    pytest.param("1900", "9100", "0", "900.00", "0.00", id="uncovered 900 below the 大额 deductible: 0"),
    pytest.param("1999.99", "9100", "0", "900.00", "0.00", id="uncovered 999.99: ded - 1 fen: 0"),
    pytest.param("2000", "9100", "0", "900.00", "0.00", id="uncovered 1000 = ded: 0"),
    pytest.param("2000.01", "9100", "0", "900.00", "0.01", id="uncovered ded + 1 fen: 0.01x.80=0.008->0.01"),
    pytest.param("3999.99", "9100", "0", "900.00", "1599.99", id="band edge - 1 fen: 1999.99x.80=1599.992"),
    pytest.param("4000.01", "9100", "0", "900.00", "1600.01", id="band edge + 1 fen: 1600+0.01x.90=1600.009"),
    pytest.param("6000", "9100", "0", "900.00", "3400.00", id="2000x.80+2000x.90=3400"),
    pytest.param("3000", "10000", "0", "0.00", "1600.00", id="basic cap used up: uncovered 3000, 2000x.80"),
    # yearly cap 5,000: 3,400 due
    pytest.param("6000", "9100", "1599.99", "900.00", "3400.00", id="大额 cap 1 fen above: 3400"),
    pytest.param("6000", "9100", "1600", "900.00", "3400.00", id="大额 cap at: 3400"),
    pytest.param("6000", "9100", "1600.01", "900.00", "3399.99", id="大额 cap 1 fen below: 3399.99"),
    pytest.param("6000", "9100", "4000", "900.00", "1000.00", id="大额 1000 left: 1000"),
    pytest.param("6000", "9100", "5000", "900.00", "0.00", id="大额 cap reached: 0"),
]


@pytest.mark.parametrize(("above", "basic_paid", "top_paid", "basic", "large"), LARGE)
def test_large_amount(above: str, basic_paid: str, top_paid: str, basic: str, large: str) -> None:
    total = money(above) + money("40")
    start = acc(inpatient__stays="1", basic__fund=basic_paid, top_up__fund=top_paid)
    r = settle(bill(str(total)), CATALOGUE, context(CareType.INPATIENT), start)
    assert (r.hifp_pay, r.hifob_pay, r.hifmi_pay) == (money(basic), money(large), money("0"))
    assert r.increments.get("top_up.fund", D(0)) == money(large)
    assert r.fund_pay_sumamt == money(basic) + money(large)
    assert r.psn_part_amt == total - money(basic) - money(large)


def test_large_amount_after_a_banded_ratio() -> None:
    """Level 3, later stay (deductible 120): 3,000 above it gives 1000 × .70 + 2000 × .80 = 2,300 (ratio 23/30).
    Basic cap leaves 1,150, which covers 1150 ÷ (23/30) = 1,500; uncovered 1,500 − 1,000 大额 deductible = 500
    → 500 × .80 = 400."""
    start = acc(inpatient__stays="1", basic__fund="8850")
    r = settle(bill("3120.00"), CATALOGUE, context(CareType.INPATIENT, level=SettlementLevel.LEVEL_3), start)
    assert (r.hifp_pay, r.hifob_pay) == (money("1150"), money("400"))


@pytest.mark.parametrize(
    ("care", "update"),
    [
        pytest.param(CareType.OUTPATIENT, {}, id="outpatient: no 大额"),
        pytest.param(
            CareType.INPATIENT, {"employee": {"top_up": {"in_direct_settlement": False}}}, id="claimed at home"
        ),
    ],
)
def test_no_large_amount(care: CareType, update: dict[str, Any]) -> None:
    start = acc(inpatient__stays="1", outpatient__deductible="500", basic__fund="10000")
    r = settle(bill("3040.00"), CATALOGUE, context(care, pol=policy(update)), start)
    assert (r.hifp_pay, r.hifob_pay) == (money("0"), money("0"))
    assert "top_up.fund" not in r.increments


# -- 大病 ----------------------------------------------------------------------------------------------------------
# Resident stay, ratio .60. First stay (deductible 500) of 5,500: basic (5500 − 500) × .60 = 3,000, so the in-scope
# personal amount is 5500 − 3000 = 2,500. A first stay of 1,000: basic 500 × .60 = 300, personal 700.

CRITICAL = [
    # (bill, in-scope personal counted so far, 大病 paid so far, expected 大病)
    pytest.param("5500", "0", "0", "250.00", id="2500 personal, 500 above ded x.50=250"),
    pytest.param("5500", "1500", "0", "1100.00", id="1500+2500=4000: 1000x.50+1000x.60=1100"),
    pytest.param("5500", "3000", "0", "1500.00", id="3000->5500: scale(3500)-scale(1000)=2000-500=1500"),
    pytest.param("1000", "1299.99", "0", "0.00", id="year total 1999.99: ded - 1 fen: 0"),
    pytest.param("1000", "1300", "0", "0.00", id="year total 2000 = ded: 0"),
    pytest.param("1000", "1300.01", "0", "0.01", id="ded + 1 fen: 0.01x.50=0.005->0.01 half up"),
    pytest.param("5500", "499.99", "0", "500.00", id="band edge - 1 fen: 999.99x.50=499.995->500.00"),
    pytest.param("5500", "500", "0", "500.00", id="band edge: 1000x.50=500"),
    pytest.param("5500", "500.01", "0", "500.01", id="band edge + 1 fen: 500+0.01x.60=500.006->500.01"),
    # yearly cap 3,000 against the 1,500 due on the 3000 → 5500 row
    pytest.param("5500", "3000", "1499.99", "1500.00", id="大病 cap 1 fen above: 1500"),
    pytest.param("5500", "3000", "1500", "1500.00", id="大病 cap at: 1500"),
    pytest.param("5500", "3000", "1500.01", "1499.99", id="大病 cap 1 fen below: 1499.99"),
    pytest.param("5500", "3000", "2000", "1000.00", id="大病 1000 left"),
    pytest.param("5500", "3000", "3000", "0.00", id="大病 cap reached"),
]


@pytest.mark.parametrize(("amount", "base_before", "top_paid", "critical"), CRITICAL)
def test_critical_illness(amount: str, base_before: str, top_paid: str, critical: str) -> None:
    ctx = context(CareType.INPATIENT, insutype="390")
    r = settle(bill(amount), CATALOGUE, ctx, acc(critical__base=base_before, top_up__fund=top_paid))
    basic = (money(amount) - money("500")) * D("0.6")
    assert (r.hifp_pay, r.hifmi_pay, r.hifob_pay) == (money(str(basic)), money(critical), money("0"))
    # the in-scope personal amount is counted whether or not 大病 pays on it
    assert r.increments["critical.base"] == money(amount) - money(str(basic))
    assert r.increments.get("top_up.fund", D(0)) == money(critical)


def test_critical_illness_counts_only_in_scope_personal_amounts() -> None:
    """A line outside the catalogue (1,000) and the fund's share stay out of the 大病 base: 5,500 eligible →
    basic 3,000, in-scope personal 2,500 → (2500 − 2000) × .50 = 250, as without the extra line."""
    lines = [*bill("5500.00"), fee("1000.00", code=OUT_ITEM, sn="9")]
    r = settle(lines, CATALOGUE, context(CareType.INPATIENT, insutype="390"), {})
    assert (r.fulamt_ownpay_amt, r.hifp_pay, r.hifmi_pay) == (money("1000"), money("3000"), money("250"))
    assert r.increments["critical.base"] == money("2500")
    assert r.psn_part_amt == money("6500") - money("3000") - money("250")


def test_critical_illness_not_for_outpatient_care() -> None:
    r = settle(bill("5000.00"), CATALOGUE, context(CareType.OUTPATIENT, insutype="390"), acc(critical__base="9000"))
    assert r.hifmi_pay == 0 and "critical.base" not in r.increments


def test_e6_critical_illness_in_bands() -> None:
    """E6 (examples.md, https://www.51dongshi.net/eedfrcdgagbvc.html): total 100,000, basic 40,000, 10,000
    outside insurance, in-scope personal 50,000; 大病 deductible 20,000; 0–20,000 at 30 %, 20,000–50,000 at 40 %:
    20000 × .30 + 10000 × .40 = 10,000. The basic step is made to pay 40,000: a stay deductible of 10,000 and
    .50 on the remaining (90000 − 10000) = 40,000."""
    e6 = policy(
        {
            "resident": {
                "annual_cap": 1000000,
                "inpatient": {
                    "deductible_first_stay": {"default": {"level_1": 10000}},
                    "ratio": {"default": {"level_1": "0.50"}},
                },
                "top_up": {
                    "deductible": 20000,
                    "scale": {"bands": [{"above": 0, "rate": "0.30"}, {"above": 20000, "rate": "0.40"}]},
                    "annual_cap": None,
                },
            }
        }
    )
    lines = [*bill("90000.00"), fee("10000.00", code=OUT_ITEM, sn="9")]
    r = settle(lines, CATALOGUE, context(CareType.INPATIENT, pol=e6, insutype="390"), {})
    assert (r.medfee_sumamt, r.hifp_pay, r.hifmi_pay) == (money("100000"), money("40000"), money("10000"))
    assert r.psn_part_amt == money("50000")  # 100,000 − 40,000 − 10,000
