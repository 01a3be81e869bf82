"""Ratio (settlement.md §2 step 6): by the treatment institution's 医保结算等级 and the person type, flat or
banded (分段) over the amount above the deductible. Synthetic policy in `policies.py`; each row's arithmetic
beside it."""

from __future__ import annotations

import pytest

from yidi.parameters.policy import FilingCategory
from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, settle

from .policies import CATALOGUE, acc, bill, context, mechanism, money, policy

L1, L2, L3, UNRATED = SettlementLevel.LEVEL_1, SettlementLevel.LEVEL_2, SettlementLevel.LEVEL_3, SettlementLevel.UNRATED
DEDUCTIBLE_USED = acc(outpatient__deductible="500")  # the outpatient year deductible already borne

# -- flat ratios: outpatient, deductible already borne, bill 1,000 ------------------------------------------------

FLAT = [
    pytest.param(L1, False, "700.00", "0.7000", id="L1 default 1000x.70"),
    pytest.param(L2, False, "600.00", "0.6000", id="L2 default 1000x.60"),
    pytest.param(L3, False, "500.00", "0.5000", id="L3 default 1000x.50"),
    pytest.param(UNRATED, False, "400.00", "0.4000", id="unrated default 1000x.40"),
    pytest.param(L1, True, "800.00", "0.8000", id="L1 retiree 1000x.80"),
    pytest.param(L2, True, "750.00", "0.7500", id="L2 retiree 1000x.75"),
    pytest.param(L3, True, "650.00", "0.6500", id="L3 retiree 1000x.65"),
    pytest.param(UNRATED, True, "550.00", "0.5500", id="unrated retiree 1000x.55"),
]


@pytest.mark.parametrize(("level", "retiree", "fund", "ratio"), FLAT)
def test_flat_ratio_by_level_and_person_type(level: SettlementLevel, retiree: bool, fund: str, ratio: str) -> None:
    ctx = context(CareType.OUTPATIENT, level=level, retiree=retiree)
    r = settle(bill("1000.00"), CATALOGUE, ctx, DEDUCTIBLE_USED)
    assert (r.hifp_pay, str(r.pool_prop_selfpay)) == (money(fund), ratio)
    assert r.psn_part_amt == money("1000") - money(fund)


def test_a_retiree_value_missing_falls_back_to_the_default() -> None:
    """Resident outpatient has no retiree ratio: a retiree gets the default .50 → 1000 × .50 = 500;
    deductible 200 already borne."""
    ctx = context(CareType.OUTPATIENT, insutype="390", retiree=True, level=L3)
    r = settle(bill("400.00"), CATALOGUE, ctx, acc(outpatient__deductible="200"))
    assert r.hifp_pay == money("200")  # 400 × .50


ROUNDING = [
    # half up, never to even: 0.05 × .90 = 0.045 → 0.05; 0.15 × .70 = 0.105 → 0.11 (outpatient L1 .70)
    pytest.param(CareType.INPATIENT, "100.05", "0.05", id="0.05x.90=0.045->0.05"),
    pytest.param(CareType.OUTPATIENT, "0.15", "0.11", id="0.15x.70=0.105->0.11"),
    pytest.param(CareType.OUTPATIENT, "0.01", "0.01", id="0.01x.70=0.007->0.01"),
    pytest.param(CareType.OUTPATIENT, "0.02", "0.01", id="0.02x.70=0.014->0.01"),
]


@pytest.mark.parametrize(("care", "amount", "fund"), ROUNDING)
def test_fund_rounds_half_up(care: CareType, amount: str, fund: str) -> None:
    # inpatient L1: first-stay deductible 100 → base 0.05; outpatient: deductible already borne
    r = settle(bill(amount), CATALOGUE, context(care), DEDUCTIBLE_USED)
    assert r.hifp_pay == money(fund)


# -- banded: inpatient level 3, bands over the amount above the first-stay deductible (300) ------------------------
#    default 0–1,000 at .70, 1,000–5,000 at .80, above 5,000 at .90; retiree .75 / .85 / .95 (deductible 150)

BANDED = [
    # (retiree, amount above the deductible, expected fund, effective ratio)
    pytest.param(False, "500.00", "350.00", "0.7000", id="in band 1: 500x.70=350"),
    pytest.param(False, "999.99", "699.99", "0.7000", id="band edge 1000 - 1 fen: 999.99x.70=699.993->699.99"),
    pytest.param(False, "1000.00", "700.00", "0.7000", id="at band edge 1000: 700"),
    pytest.param(False, "1000.01", "700.01", "0.7000", id="1000 + 1 fen: 700+0.01x.80=700.008->700.01"),
    pytest.param(False, "3000.00", "2300.00", "0.7667", id="band 2: 1000x.70+2000x.80=2300"),
    pytest.param(False, "4999.99", "3899.99", "0.7800", id="5000 - 1 fen: 700+3999.99x.80=3899.992->3899.99"),
    pytest.param(False, "5000.00", "3900.00", "0.7800", id="at 5000: 700+4000x.80=3900"),
    pytest.param(False, "5000.01", "3900.01", "0.7800", id="5000 + 1 fen: 3900+0.01x.90=3900.009->3900.01"),
    pytest.param(False, "8000.00", "6600.00", "0.8250", id="band 3: 700+3200+3000x.90=6600"),
    pytest.param(True, "3000.00", "2450.00", "0.8167", id="retiree: 1000x.75+2000x.85=2450"),
    pytest.param(True, "8000.00", "7000.00", "0.8750", id="retiree: 750+3400+3000x.95=7000"),
]


@pytest.mark.parametrize(("retiree", "above", "fund", "ratio"), BANDED)
def test_banded_ratio(retiree: bool, above: str, fund: str, ratio: str) -> None:
    deductible = money("150") if retiree else money("300")
    ctx = context(CareType.INPATIENT, level=L3, retiree=retiree)
    r = settle(bill(str(money(above) + deductible)), CATALOGUE, ctx, {})
    assert r.act_pay_dedc == deductible
    assert (r.hifp_pay, str(r.pool_prop_selfpay)) == (money(fund), ratio)


def test_banded_ratio_with_a_point_cut_cuts_the_effective_ratio() -> None:
    """Referral with a 10-point cut at level 3: effective ratio 2300 / 3000 − .10, so the fund is
    2300 − 3000 × .10 = 2000.00."""
    pol = policy({"cross_region": {"cross_province": {"referral": mechanism(point_cut=10)}}})
    ctx = context(CareType.INPATIENT, pol=pol, level=L3, category=FilingCategory.REFERRAL)
    r = settle(bill("3300.00"), CATALOGUE, ctx, {})
    assert r.hifp_pay == money("2000")


def test_banded_outpatient_ratio() -> None:
    """Bands apply to outpatient care too: 0–100 at .50, above 100 at .80; deductible borne;
    bill 300 → 100 × .50 + 200 × .80 = 210."""
    bands = {"bands": [{"above": 0, "rate": "0.50"}, {"above": 100, "rate": "0.80"}]}
    pol = policy({"employee": {"outpatient": {"ratio": {"default": {"level_2": bands}}}}})
    r = settle(bill("300.00"), CATALOGUE, context(CareType.OUTPATIENT, pol=pol, level=L2), DEDUCTIBLE_USED)
    assert r.hifp_pay == money("210")
