"""门诊慢特病 (settlement.md §4; E1 and E2 in examples.md): ratio, monthly cap, yearly cap, and the
several-diseases rule (揭阳: the highest single-disease cap, not the sum). Synthetic policy in `policies.py`:
M07803 (dialysis) .90 with a monthly cap of 600; M03900 .80, deductible 100 a year, yearly cap 1,000; M04600
冠心病 500 and M06900 类风湿 1,000 a year. Service date 2025-06-15 (month keys end in .06)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from yidi.catalog.rules import ChargeLevel
from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, settle

from .policies import CATALOGUE, OUT_ITEM, D, bill, context, entry, fee, money, policy

SUM_OF_CAPS = {"employee": {"chronic": {"several_diseases_rule": "sum_of_caps"}}}

# -- monthly cap: M07803, no deductible, .90, 600 a month ---------------------------------------------------------

MONTHLY = [
    # (bill, accumulators, expected fund)
    pytest.param("500", {}, "450.00", id="500x.90=450 within 600"),
    pytest.param("1000", {}, "600.00", id="1000x.90=900 capped at 600 a month"),
    pytest.param("500", {"chronic.M07803.fund.06": "149.99"}, "450.00", id="450.01 left (1 fen above): 450"),
    pytest.param("500", {"chronic.M07803.fund.06": "150"}, "450.00", id="450 left (at): 450"),
    pytest.param("500", {"chronic.M07803.fund.06": "150.01"}, "449.99", id="449.99 left (1 fen below)"),
    pytest.param("500", {"chronic.M07803.fund.06": "600"}, "0.00", id="month used up: 0"),
    pytest.param("500", {"chronic.M07803.fund.05": "600"}, "450.00", id="May's use does not count in June"),
    pytest.param("500", {"chronic.M07803.fund": "9000"}, "450.00", id="no yearly cap for M07803"),
    pytest.param("500", {"basic.fund": "9700"}, "300.00", id="scheme cap 10000-9700=300 still applies"),
]


@pytest.mark.parametrize(("amount", "used", "fund"), MONTHLY)
def test_monthly_cap(amount: str, used: dict[str, str], fund: str) -> None:
    ctx = context(CareType.CHRONIC, disease="M07803", person_diseases=("M07803",))
    r = settle(bill(amount), CATALOGUE, ctx, {k: D(v) for k, v in used.items()})
    assert r.hifp_pay == money(fund)
    paid = money(fund)
    keys = ("basic.fund", "chronic.M07803.fund", "chronic.M07803.fund.06", "chronic.all.fund")
    assert r.increments == ({k: paid for k in keys} if paid else {})


# -- yearly caps: M03900 (deductible 100 already borne), bill 1,000 → 1000 × .80 = 800 before caps ------------------

YEARLY = [
    # (policy update, disease settled, person's diseases, accumulators, expected fund)
    pytest.param(SUM_OF_CAPS, "M03900", (), {"chronic.M03900.fund": "199.99"}, "800.00", id="own cap: 800.01 left"),
    pytest.param(SUM_OF_CAPS, "M03900", (), {"chronic.M03900.fund": "200"}, "800.00", id="own cap: 800 left"),
    pytest.param(SUM_OF_CAPS, "M03900", (), {"chronic.M03900.fund": "200.01"}, "799.99", id="own cap: 799.99 left"),
    pytest.param(SUM_OF_CAPS, "M03900", (), {"chronic.M03900.fund": "1000"}, "0.00", id="own cap reached"),
    # under sum_of_caps another disease's use does not count
    pytest.param(SUM_OF_CAPS, "M06900", ("M04600",), {"chronic.M04600.fund": "400", "chronic.all.fund": "400"},
                 "800.00", id="sum of caps: M06900 own 1000 untouched"),
    pytest.param(SUM_OF_CAPS, "M04600", ("M06900",), {"chronic.M04600.fund": "400", "chronic.all.fund": "400"},
                 "100.00", id="sum of caps: M04600 own 500-400=100"),
    # 揭阳: 冠心病 500 and 类风湿 1,000 share the highest single cap, 1,000; 400 already paid for 冠心病
    pytest.param({}, "M06900", ("M04600",), {"chronic.M04600.fund": "400", "chronic.all.fund": "400"}, "600.00",
                 id="highest cap: 1000-400=600"),
    pytest.param({}, "M06900", ("M04600",), {"chronic.all.fund": "199.99"}, "800.00", id="highest: 800.01 left"),
    pytest.param({}, "M06900", ("M04600",), {"chronic.all.fund": "200"}, "800.00", id="highest: 800 left"),
    pytest.param({}, "M06900", ("M04600",), {"chronic.all.fund": "200.01"}, "799.99", id="highest: 799.99 left"),
    pytest.param({}, "M06900", ("M04600",), {"chronic.all.fund": "1000"}, "0.00", id="highest cap reached"),
    # one disease: its own cap, 1,000, counted on all chronic use
    pytest.param({}, "M03900", ("M03900",), {"chronic.all.fund": "500"}, "500.00", id="single disease: 1000-500"),
    # a qualified disease without a yearly cap (M07803): no yearly chronic limit
    pytest.param({}, "M03900", ("M07803",), {"chronic.all.fund": "5000"}, "800.00", id="uncapped disease: no limit"),
]  # fmt: skip


@pytest.mark.parametrize(("update", "disease", "others", "used", "fund"), YEARLY)
def test_yearly_cap_and_several_diseases(
    update: dict[str, Any], disease: str, others: tuple[str, ...], used: dict[str, str], fund: str
) -> None:
    ctx = context(CareType.CHRONIC, pol=policy(update), disease=disease, person_diseases=(disease, *others))
    start = {f"chronic.{disease}.deductible": D(100), **{k: D(v) for k, v in used.items()}}
    r = settle(bill("1000.00"), CATALOGUE, ctx, start)
    assert r.hifp_pay == money(fund)
    assert r.increments.get("chronic.all.fund", D(0)) == money(fund)
    assert r.increments.get(f"chronic.{disease}.fund", D(0)) == money(fund)


def test_chronic_ratio_by_person_type() -> None:
    """M03900 retiree ratio .90, deductible 100: (600 − 100) × .90 = 450; default .80 → 400."""
    retiree = context(CareType.CHRONIC, retiree=True, disease="M03900", person_diseases=("M03900",))
    other = context(CareType.CHRONIC, disease="M03900", person_diseases=("M03900",))
    assert settle(bill("600.00"), CATALOGUE, retiree, {}).hifp_pay == money("450")
    assert settle(bill("600.00"), CATALOGUE, other, {}).hifp_pay == money("400")


ACARBOSE, REPAGLINIDE, NIFEDIPINE = "XA10BFA331A740537984000", "XA10BXA248A880381848000", "XC08CAA276A679591896000"


def test_e1_langfang_retiree_in_beijing() -> None:
    """E1 (examples.md; NHSA example, http://jingyanla.com/a/13/04041Q52512023.html): 阿卡波糖片 甲类 32.52,
    瑞格列奈片 乙类 31.77 at 10 % first self-pay (3.177 → 3.18, 28.59 in scope); eligible 32.52 + 28.59 = 61.11;
    ratio 80 %, no deductible: 61.11 × .80 = 48.888 → 48.89; personal 64.29 − 48.89 = 15.40."""
    pol = policy({"employee": {"chronic": {"diseases": {"M01600": {"deductible": 0}}}}})
    catalogue = {ACARBOSE: entry(ACARBOSE, ChargeLevel.A), REPAGLINIDE: entry(REPAGLINIDE, ChargeLevel.B, "0.10")}
    lines = [fee("32.52", ACARBOSE, "1"), fee("31.77", REPAGLINIDE, "2")]
    ctx = context(CareType.CHRONIC, pol=pol, retiree=True, disease="M01600", person_diseases=("M01600",))
    r = settle(lines, catalogue, ctx, {})
    assert (r.medfee_sumamt, r.preselfpay_amt, r.inscp_scp_amt) == (money("64.29"), money("3.18"), money("61.11"))
    assert (r.act_pay_dedc, r.hifp_pay, r.psn_part_amt) == (money("0"), money("48.89"), money("15.40"))


def test_e2_fangchenggang_hypertension_in_beijing() -> None:
    """E2 (examples.md, http://www.fcgs.gov.cn/ggfw/zxbs/shbz/wyw/t17315882.shtml): 300 of which 100 self-paid;
    deductible 50; 75 % at level 3: (300 − 100 − 50) × .75 = 112.50; personal 187.50."""
    ratio: dict[str, Any] = {"level_1": "0.75", "level_2": "0.75", "level_3": "0.75", "unrated": "0.75"}
    pol = policy({"employee": {"chronic": {"diseases": {"M03900": {"deductible": 50, "ratio": {"retiree": ratio}}}}}})
    lines = [fee("200.00", NIFEDIPINE, "1", cnt="100"), fee("100.00", OUT_ITEM, "2")]
    ctx = context(
        CareType.CHRONIC,
        pol=pol,
        retiree=True,
        level=SettlementLevel.LEVEL_3,
        disease="M03900",
        person_diseases=("M03900",),
    )
    r = settle(lines, {NIFEDIPINE: entry(NIFEDIPINE, ChargeLevel.A)}, ctx, {})
    assert (r.fulamt_ownpay_amt, r.act_pay_dedc) == (money("100"), money("50"))
    assert (r.hifp_pay, r.psn_part_amt) == (money("112.50"), money("187.50"))
    assert r.increments["chronic.M03900.deductible"] == Decimal("50")
