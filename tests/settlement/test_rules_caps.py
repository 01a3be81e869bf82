"""Annual caps (settlement.md §2 step 7): the scheme's yearly cap on the basic fund and the outpatient yearly cap,
each reduced by what the year has already paid. Employee scheme cap 10,000, outpatient cap 2,000 (see
`policies.py`). Each row's arithmetic is beside it; boundary rows put the remaining cap one fen below, at and
one fen above the fund the bill would otherwise get."""

from __future__ import annotations

import pytest

from yidi.settlement.engine import CareType, settle

from .policies import CATALOGUE, D, acc, bill, context, money

# Inpatient, level 1, a later stay (deductible 40): a bill of 1,040 gives (1040 − 40) × .90 = 900 before caps.
ANNUAL = [
    # (basic fund already paid this year, expected fund)
    pytest.param("0", "900.00", id="nothing paid yet: 900"),
    pytest.param("9000", "900.00", id="1000 left: 900"),
    pytest.param("9099.99", "900.00", id="900.01 left (cap 1 fen above): 900"),
    pytest.param("9100.00", "900.00", id="900 left (cap at the fund): 900"),
    pytest.param("9100.01", "899.99", id="899.99 left (cap 1 fen below): 899.99"),
    pytest.param("9500", "500.00", id="500 left: 500"),
    pytest.param("9999.99", "0.01", id="1 fen left"),
    pytest.param("10000", "0.00", id="cap reached: 0"),
    pytest.param("10000.01", "0.00", id="cap passed: 0, never negative"),
]


@pytest.mark.parametrize(("paid", "fund"), ANNUAL)
def test_scheme_annual_cap(paid: str, fund: str) -> None:
    ctx = context(CareType.INPATIENT)
    r = settle(bill("1040.00"), CATALOGUE, ctx, acc(inpatient__stays="1", basic__fund=paid))
    assert r.hifp_pay == money(fund)
    assert r.increments.get("basic.fund", D(0)) == money(fund)
    assert r.psn_part_amt == money("1040") - money(fund)
    capped = money(fund) < money("900")
    assert any("capped" in n for n in r.notes) is capped


# Outpatient, level 1, deductible borne: a bill of 1,000 gives 1000 × .70 = 700 before caps.
OUTPATIENT = [
    # (outpatient fund paid, basic fund paid, expected fund)
    pytest.param("0", "0", "700.00", id="nothing paid: 700"),
    pytest.param("1299.99", "1299.99", "700.00", id="700.01 of the outpatient cap left: 700"),
    pytest.param("1300.00", "1300.00", "700.00", id="700 left: 700"),
    pytest.param("1300.01", "1300.01", "699.99", id="699.99 left: 699.99"),
    pytest.param("1800", "1800", "200.00", id="200 left: 200"),
    pytest.param("2000", "2000", "0.00", id="outpatient cap reached: 0"),
    # the lower of the two caps binds: outpatient 2,000 − 0 = 2,000 but the scheme has 10,000 − 9,650 = 350
    pytest.param("0", "9650", "350.00", id="scheme cap lower: 350"),
    # outpatient cap lower: 2,000 − 1,900 = 100 against 10,000 − 5,000
    pytest.param("1900", "5000", "100.00", id="outpatient cap lower: 100"),
]


@pytest.mark.parametrize(("outpatient_paid", "basic_paid", "fund"), OUTPATIENT)
def test_outpatient_annual_cap(outpatient_paid: str, basic_paid: str, fund: str) -> None:
    start = acc(outpatient__deductible="500", outpatient__fund=outpatient_paid, basic__fund=basic_paid)
    r = settle(bill("1000.00"), CATALOGUE, context(CareType.OUTPATIENT), start)
    assert r.hifp_pay == money(fund)
    expected = {"basic.fund": money(fund), "outpatient.fund": money(fund)} if money(fund) else {}
    assert r.increments == expected


def test_outpatient_cap_does_not_limit_a_stay() -> None:
    """The outpatient cap is used up, yet a stay gets its 900 (only the scheme cap counts for a stay)."""
    start = acc(inpatient__stays="1", outpatient__fund="2000", basic__fund="2000")
    r = settle(bill("1040.00"), CATALOGUE, context(CareType.INPATIENT), start)
    assert r.hifp_pay == money("900")
    assert "outpatient.fund" not in r.increments


def test_resident_outpatient_cap() -> None:
    """Resident: outpatient cap 400, ratio .50, deductible 200. Bill 1,200: (1200 − 200) × .50 = 500 → 400."""
    r = settle(bill("1200.00"), CATALOGUE, context(CareType.OUTPATIENT, insutype="390"), {})
    assert (r.act_pay_dedc, r.hifp_pay) == (money("200"), money("400"))


def test_caps_accumulate_over_settlements() -> None:
    """Three stays of 5,040 each (later-stay deductible 40): 4,500 + 4,500 + (10,000 − 9,000) = 1,000."""
    ctx = context(CareType.INPATIENT)
    year = acc(inpatient__stays="1")
    paid = []
    for _ in range(3):
        r = settle(bill("5040.00"), CATALOGUE, ctx, year)
        paid.append(r.hifp_pay)
        year = {k: year.get(k, D(0)) + r.increments.get(k, D(0)) for k in {*year, *r.increments}}
    assert paid == [money("4500"), money("4500"), money("1000")]
    assert year["basic.fund"] == money("10000") and year["inpatient.stays"] == 4
