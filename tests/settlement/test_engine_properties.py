"""Property tests of the settlement engine over random bills, people, institutions and year-to-date states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.catalog.rules import CatalogEntry, ChargeLevel, ItemKind
from yidi.parameters.policy import FilingCategory
from yidi.parameters.store import ParameterStore, shipped_directory
from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import Acc, CareType, Context, FeeLine, settle

STORE = ParameterStore([shipped_directory()])
REGIONS = STORE.regions()
DAY = dt.date(2025, 6, 1)
cents = st.integers(min_value=0, max_value=5_000_000).map(lambda c: Decimal(c) / 100)


@st.composite
def bills(draw: st.DrawFn) -> tuple[list[FeeLine], dict[str, CatalogEntry]]:
    lines, catalogue = [], {}
    for n in range(draw(st.integers(1, 12))):
        code = f"X{n:022d}"
        cnt = Decimal(draw(st.integers(1, 50)))
        pric = Decimal(draw(st.integers(1, 200_000))) / 100
        lines.append(FeeLine(str(n), code, DAY, (cnt * pric).quantize(Decimal("0.01")), cnt, pric))
        kind = draw(st.sampled_from(["A", "B", "C", "none"]))
        if kind != "none":
            level = {"A": ChargeLevel.A, "B": ChargeLevel.B, "C": ChargeLevel.C}[kind]
            share = Decimal(draw(st.integers(0, 30))) / 100 if kind == "B" else Decimal(kind == "C")
            cap = Decimal(draw(st.integers(1, 200_000))) / 100 if draw(st.booleans()) else None
            catalogue[code] = CatalogEntry(
                code, "x", ItemKind.WESTERN_DRUG, level, "09", share, cap, None, None, dt.date(2021, 1, 1), None, "t"
            )
    return lines, catalogue


@st.composite
def contexts(draw: st.DrawFn) -> tuple[Context, dict[str, Decimal]]:
    region = draw(st.sampled_from(REGIONS))
    policy = STORE.at(region, DAY)
    insutype = draw(st.sampled_from(["310", "390"]))
    scheme = policy.scheme(insutype)
    care = draw(st.sampled_from(list(CareType)))
    disease = draw(st.sampled_from(sorted(scheme.chronic.diseases))) if care is CareType.CHRONIC else None
    ctx = Context(
        policy=policy,
        insutype=insutype,
        retiree=draw(st.booleans()),
        civil_servant=draw(st.booleans()),
        settlement_level=draw(st.sampled_from(list(SettlementLevel))),
        care=care,
        category=draw(st.sampled_from(list(FilingCategory))),
        cross_province=draw(st.sampled_from([None, True, False])),
        service_date=DAY,
        disease=disease,
        acct_used_flag=draw(st.booleans()),
        account_balance=draw(cents),
    )
    acc = {
        Acc.BASIC_FUND.value: draw(st.sampled_from([Decimal(0), scheme.annual_cap / 2, scheme.annual_cap])),
        Acc.OUTPATIENT_DEDUCTIBLE.value: draw(cents),
        Acc.OUTPATIENT_FUND.value: draw(cents),
        Acc.INPATIENT_STAYS.value: Decimal(draw(st.integers(0, 3))),
        Acc.TOP_UP_FUND.value: draw(cents),
        Acc.CRITICAL_BASE.value: draw(cents),
        Acc.CIVIL_SERVANT.value: draw(cents),
        Acc.CHRONIC_ALL.value: draw(cents),
    }
    return ctx, acc


@given(bills(), contexts())
@settings(max_examples=400, deadline=None)
def test_settlement_invariants(
    bill: tuple[list[FeeLine], dict[str, CatalogEntry]], context: tuple[Context, dict[str, Decimal]]
) -> None:
    lines, catalogue = bill
    ctx, acc = context
    scheme = ctx.policy.scheme(ctx.insutype)
    r = settle(lines, catalogue, ctx, acc)
    total = sum(ln.det_item_fee_sumamt for ln in lines)
    # fund + personal = total, and the catalogue split adds up
    assert r.medfee_sumamt == total == r.fund_pay_sumamt + r.psn_part_amt
    assert r.fulamt_ownpay_amt + r.overlmt_selfpay + r.preselfpay_amt + r.inscp_scp_amt == total
    assert r.fund_pay_sumamt == r.hifp_pay + r.hifob_pay + r.hifmi_pay + r.cvlserv_pay + r.maf_pay + r.oth_pay
    assert r.psn_part_amt == r.acct_pay + r.psn_cash_pay
    # no negative amount
    for name in (
        "fulamt_ownpay_amt",
        "overlmt_selfpay",
        "preselfpay_amt",
        "inscp_scp_amt",
        "act_pay_dedc",
        "hifp_pay",
        "cvlserv_pay",
        "hifmi_pay",
        "hifob_pay",
        "fund_pay_sumamt",
        "psn_part_amt",
        "acct_pay",
        "psn_cash_pay",
        "balc",
    ):
        assert getattr(r, name) >= 0, name
    # the fund pays at most the eligible amount, and no cap is exceeded
    assert r.hifp_pay <= r.inscp_scp_amt - r.act_pay_dedc
    assert acc[Acc.BASIC_FUND.value] + r.hifp_pay <= max(scheme.annual_cap, acc[Acc.BASIC_FUND.value])
    if ctx.care is CareType.OUTPATIENT and scheme.outpatient.annual_cap is not None:
        assert r.hifp_pay <= max(Decimal(0), scheme.outpatient.annual_cap - acc[Acc.OUTPATIENT_FUND.value])
    if scheme.top_up.annual_cap is not None:
        assert r.hifob_pay + r.hifmi_pay <= max(Decimal(0), scheme.top_up.annual_cap - acc[Acc.TOP_UP_FUND.value])
    if scheme.civil_servant is not None:
        assert r.cvlserv_pay <= max(Decimal(0), scheme.civil_servant.annual_cap - acc[Acc.CIVIL_SERVANT.value])
    assert r.acct_pay <= ctx.account_balance
    # every amount is whole fen
    for name in ("hifp_pay", "hifob_pay", "hifmi_pay", "cvlserv_pay", "acct_pay", "act_pay_dedc", "preselfpay_amt"):
        value = getattr(r, name)
        assert value == value.quantize(Decimal("0.01")), name
    # the increments are what was paid
    assert r.increments.get(Acc.BASIC_FUND, Decimal(0)) == r.hifp_pay


def test_pool_prop_selfpay_is_rounded_half_up() -> None:
    """北京 employee, level-3 hospital, first stay: eligible 81,300.00 − deductible 1,300.00 = 80,000.00; bands
    30,000 × 0.85 + 50,000 × 0.90 = 70,500.00; ratio 0.88125 exactly, a tie: half up 0.8813 (half-even: 0.8812)."""
    day = dt.date(2025, 6, 1)
    code = "X" + "0" * 22
    entry = CatalogEntry(
        code,
        "x",
        ItemKind.WESTERN_DRUG,
        ChargeLevel.A,
        "09",
        Decimal(0),
        None,
        None,
        None,
        dt.date(2021, 1, 1),
        None,
        "t",
    )
    ctx = Context(
        policy=STORE.at("110000", day),
        insutype="310",
        retiree=False,
        civil_servant=False,
        settlement_level=SettlementLevel.LEVEL_3,
        care=CareType.INPATIENT,
        category=FilingCategory.LONG_TERM,
        cross_province=None,  # local care
        service_date=day,
    )
    line = FeeLine("1", code, day, Decimal("81300.00"), Decimal(32520), Decimal("2.5"))
    result = settle([line], {code: entry}, ctx, {})
    assert (result.act_pay_dedc, result.hifp_pay) == (Decimal("1300.00"), Decimal("70500.00"))
    assert str(result.pool_prop_selfpay) == "0.8813"
    assert result.setldetail[0].setl_proc_info.endswith("支付比例0.8813")
