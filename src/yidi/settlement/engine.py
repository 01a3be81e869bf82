"""The settlement engine: a pure function from a bill and its context to the split between funds and person.

Order (settlement.md §2): the treatment place's catalogue splits each line (fully self-paid, over the price
cap, 乙类 first self-pay, eligible); then the insured place's policy at the service date: deductible, ratio
by settlement level and person type (banded where the region bands it), the filing category's mechanism
(first self-pay share, point cut, separate deductible, ratio floor), the annual caps, 大额 (employees) or
大病 (residents), the civil-servant subsidy, the personal account, cash. Every amount is `Decimal`,
rounded half up to 0.01 where it is paid. The year-to-date accumulators come in and their increments go
out, so the caller can store them under a lock in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from yidi.catalog.rules import CatalogEntry, LineSplit, split_fee_line
from yidi.core.money import round_ratio, round_yuan
from yidi.parameters.policy import FilingCategory, Mechanism, RegionPolicy, Scale, Scheme, TopUp
from yidi.reference.models import SettlementLevel

ZERO = Decimal("0.00")
ONE = Decimal(1)


class CareType(StrEnum):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    CHRONIC = "chronic"


class Acc(StrEnum):
    """Accumulator keys: per person, insurance type and year (chronic keys add disease and month)."""

    OUTPATIENT_DEDUCTIBLE = "outpatient.deductible"
    OUTPATIENT_FUND = "outpatient.fund"
    INPATIENT_STAYS = "inpatient.stays"  # a count, not money
    BASIC_FUND = "basic.fund"  # toward the scheme's annual cap
    TOP_UP_FUND = "top_up.fund"  # 大额 / 大病 paid
    CRITICAL_BASE = "critical.base"  # in-scope personal amounts counted toward 大病
    CIVIL_SERVANT = "civil_servant.fund"
    CHRONIC_ALL = "chronic.all.fund"  # all chronic diseases together (several-diseases rule)

    @staticmethod
    def chronic(disease: str, what: str, month: int | None = None) -> str:
        return f"chronic.{disease}.{what}" + (f".{month:02d}" if month else "")


@dataclass(frozen=True)
class FeeLine:
    feedetl_sn: str
    med_list_codg: str
    fee_ocur_time: dt.date
    det_item_fee_sumamt: Decimal
    cnt: Decimal
    pric: Decimal


@dataclass(frozen=True)
class StaySoFar:
    """What the settlements in force of a stay already did: one stay is one case (settlement.md §7), so a later
    settlement of a stay settled in part (中途结算) bears only what is left of the stay's deductible and does not
    count the stay again."""

    deductible: Decimal  # act_pay_dedc applied so far
    counted_this_year: bool  # one of them added the stay to this year's inpatient.stays


@dataclass(frozen=True)
class Context:
    policy: RegionPolicy  # insured place's policy at the service date
    insutype: str
    retiree: bool
    civil_servant: bool
    settlement_level: SettlementLevel  # treatment institution's 医保结算等级
    care: CareType
    category: FilingCategory  # from the filing decision
    cross_province: bool | None  # None for local care (no cross-region mechanism)
    service_date: dt.date
    disease: str | None = None  # chronic
    person_diseases: tuple[str, ...] = ()  # qualified chronic diseases (several-diseases rule)
    acct_used_flag: bool = False
    account_balance: Decimal = ZERO
    stay: StaySoFar | None = None  # inpatient: None when this is the stay's first settlement


@dataclass(frozen=True)
class FundDetail:
    fund_pay_type: str
    fund_pay_type_name: str
    inscp_scp_amt: Decimal
    crt_payb_lmt_amt: Decimal
    fund_payamt: Decimal
    setl_proc_info: str


@dataclass(frozen=True)
class Result:
    lines: list[tuple[FeeLine, LineSplit]]
    medfee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    act_pay_dedc: Decimal
    hifp_pay: Decimal
    pool_prop_selfpay: Decimal  # the pooled fund's effective ratio
    cvlserv_pay: Decimal
    hifmi_pay: Decimal  # 大病
    hifob_pay: Decimal  # 大额
    maf_pay: Decimal
    oth_pay: Decimal
    fund_pay_sumamt: Decimal
    psn_part_amt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    balc: Decimal
    setldetail: list[FundDetail]
    increments: dict[str, Decimal]  # accumulator key → amount added by this settlement
    notes: list[str] = field(default_factory=list)


def _mechanism(ctx: Context) -> Mechanism | None:
    if ctx.cross_province is None:
        return None  # local care: no cross-region reduction
    table = ctx.policy.cross_region.cross_province if ctx.cross_province else ctx.policy.cross_region.in_province
    return table[ctx.category]


def _ratio_base(scheme: Scheme, ctx: Context) -> Decimal | Scale:
    retiree, level = ctx.retiree, ctx.settlement_level
    if ctx.care is CareType.OUTPATIENT:
        return scheme.outpatient.ratio.for_person(retiree).for_level(level)
    if ctx.care is CareType.INPATIENT:
        return scheme.inpatient.ratio.for_person(retiree).for_level(level)
    assert ctx.disease is not None
    return scheme.chronic.diseases[ctx.disease].ratio.for_person(retiree).for_level(level)


def _deductible(
    scheme: Scheme, ctx: Context, acc: dict[str, Decimal], mechanism: Mechanism | None
) -> tuple[Decimal, str | None]:
    """The deductible still to bear in this settlement and the accumulator key it is counted on (None: per stay,
    nothing carried to the year)."""
    if ctx.care is CareType.INPATIENT:
        if mechanism is not None and mechanism.separate_deductible is not None:
            full = mechanism.separate_deductible  # replaces the stay's deductible: still one per stay
        else:
            stays = acc.get(Acc.INPATIENT_STAYS, ZERO) - (ONE if ctx.stay and ctx.stay.counted_this_year else ZERO)
            table = scheme.inpatient.deductible_first_stay if stays <= 0 else scheme.inpatient.deductible_later_stay
            full = table.for_person(ctx.retiree).for_level(ctx.settlement_level)
        return max(ZERO, full - (ctx.stay.deductible if ctx.stay else ZERO)), None
    if mechanism is not None and mechanism.separate_deductible is not None:
        full = mechanism.separate_deductible  # a region's own deductible for this filing category
    elif ctx.care is CareType.OUTPATIENT:
        full = scheme.outpatient.deductible.for_person(ctx.retiree)
    else:
        assert ctx.disease is not None
        disease = scheme.chronic.diseases[ctx.disease]
        full = disease.deductible
        month = ctx.service_date.month if disease.deductible_period == "month" else None
        key = Acc.chronic(ctx.disease, "deductible", month)
        return max(ZERO, full - acc.get(key, ZERO)), key
    key = Acc.OUTPATIENT_DEDUCTIBLE
    return max(ZERO, full - acc.get(key, ZERO)), key


def _effective_ratio(
    base: Decimal, flat_or_scale: Decimal | Scale, mechanism: Mechanism | None
) -> tuple[Decimal, Decimal]:
    """(fund amount before caps, unrounded; effective ratio) after the point cut and floor."""
    cut = (mechanism.point_cut / 100) if mechanism else ZERO
    floor = mechanism.ratio_floor if mechanism else None
    if isinstance(flat_or_scale, Scale):
        raw = flat_or_scale.apply(base)
        ratio = raw / base if base else (flat_or_scale.bands[0].rate)
    else:
        ratio = flat_or_scale
    reduced = ratio - cut
    if floor is not None:
        reduced = max(reduced, min(floor, ratio))
    reduced = max(reduced, ZERO)
    return base * reduced, reduced


class Increments(dict[str, Decimal]):
    """What a settlement adds to the year-to-date accumulators (key → amount)."""

    def add(self, key: str, amount: Decimal) -> None:
        if amount > 0:  # an increment is never negative: only a cancellation takes back, and only what it added
            self[key] = self.get(key, ZERO) + amount


@dataclass(frozen=True)
class Bill:
    """Steps 1–4: the bill split line by line by the treatment place's catalogue."""

    lines: list[tuple[FeeLine, LineSplit]]
    total: Decimal  # medfee_sumamt
    fully_self_paid: Decimal  # fulamt_ownpay_amt: out of catalogue, 丙类
    over_price_cap: Decimal  # overlmt_selfpay
    first_self_pay: Decimal  # preselfpay_amt: 乙类 share
    eligible: Decimal  # inscp_scp_amt


def split_bill(lines: list[FeeLine], catalogue: dict[str, CatalogEntry]) -> Bill:
    split = [
        (ln, split_fee_line(catalogue.get(ln.med_list_codg), ln.det_item_fee_sumamt, ln.cnt, ln.pric)) for ln in lines
    ]
    # The service refuses negative lines (a refund is folded into its original before the engine sees it). Should
    # one get through all the same, no fund pays on it and no accumulator or account moves backwards.
    return Bill(
        lines=split,
        total=sum((ln.det_item_fee_sumamt for ln in lines), ZERO),
        fully_self_paid=sum((s.fulamt_ownpay_amt for _, s in split), ZERO),
        over_price_cap=sum((s.overlmt_amt for _, s in split), ZERO),
        first_self_pay=sum((s.preselfpay_amt for _, s in split), ZERO),
        eligible=max(ZERO, sum((s.inscp_scp_amt for _, s in split), ZERO)),
    )


def deductible_borne(
    eligible: Decimal,
    scheme: Scheme,
    ctx: Context,
    acc: dict[str, Decimal],
    mechanism: Mechanism | None,
    inc: Increments,
) -> Decimal:
    """Step 5, 起付线: the part of the eligible amount the person bears before the fund pays (what is left of the
    year's, the stay's, the month's or the filing category's separate deductible)."""
    remaining, key = _deductible(scheme, ctx, acc, mechanism)
    borne = min(eligible, remaining)
    if key:
        inc.add(key, borne)
    return borne


@dataclass(frozen=True)
class BasicFund:
    base: Decimal  # what the ratio applies to: above the deductible, less the category's first self-pay share
    fund: Decimal  # before the caps
    ratio: Decimal  # the effective ratio after the point cut (降低比例) and the ratio floor (最低比例)


def basic_fund_before_caps(above: Decimal, scheme: Scheme, ctx: Context, mechanism: Mechanism | None) -> BasicFund:
    """Step 6: the filing category's first self-pay share, then the ratio by settlement level and person type
    (banded where the region bands it), reduced by the category's point cut and held up by its ratio floor."""
    first_selfpay = round_yuan(above * mechanism.first_selfpay) if mechanism else ZERO
    base = above - first_selfpay
    raw_fund, ratio = _effective_ratio(base, _ratio_base(scheme, ctx), mechanism)
    return BasicFund(base, round_yuan(raw_fund), ratio)


def capped_basic_fund(
    fund: Decimal, scheme: Scheme, ctx: Context, acc: dict[str, Decimal], inc: Increments, notes: list[str]
) -> tuple[Decimal, Decimal]:
    """Step 7, 最高支付限额: (hifp_pay, the limit that applied) within the scheme's yearly cap, the outpatient
    yearly cap and the chronic disease's monthly and yearly caps (several diseases: the region's rule)."""
    limits = [scheme.annual_cap - acc.get(Acc.BASIC_FUND, ZERO)]
    if ctx.care is CareType.OUTPATIENT and scheme.outpatient.annual_cap is not None:
        limits.append(scheme.outpatient.annual_cap - acc.get(Acc.OUTPATIENT_FUND, ZERO))
    if ctx.care is CareType.CHRONIC:
        limits += _chronic_limits(scheme, ctx, acc)
    limit = max(ZERO, min(limits))
    hifp = min(fund, limit)
    if hifp < fund:
        notes.append(f"basic fund capped at {limit} / 统筹基金已达支付限额")
    inc.add(Acc.BASIC_FUND, hifp)
    if ctx.care is CareType.OUTPATIENT:
        inc.add(Acc.OUTPATIENT_FUND, hifp)
    if ctx.care is CareType.CHRONIC:
        assert ctx.disease is not None
        inc.add(Acc.chronic(ctx.disease, "fund"), hifp)
        inc.add(Acc.chronic(ctx.disease, "fund", ctx.service_date.month), hifp)
        inc.add(Acc.CHRONIC_ALL, hifp)
    if ctx.care is CareType.INPATIENT and ctx.stay is None:  # a stay is counted by its first settlement only
        inc.add(Acc.INPATIENT_STAYS, ONE)
    return hifp, limit


def large_amount(basic: BasicFund, hifp: Decimal, top: TopUp, acc: dict[str, Decimal]) -> Decimal:
    """Step 8 for employees, 大额医疗费用补助 (hifob_pay): bands over the part of the ratio base the basic fund
    could not pay for its cap, above the 大额 deductible, within its yearly cap."""
    uncovered = basic.base - (hifp / basic.ratio if basic.ratio else ZERO) if hifp < basic.fund else ZERO
    amount = round_yuan(top.scale.apply(max(ZERO, uncovered - top.deductible)))
    return _within_top_up_cap(amount, top, acc)


def critical_illness(eligible: Decimal, hifp: Decimal, top: TopUp, acc: dict[str, Decimal], inc: Increments) -> Decimal:
    """Step 8 for residents, 大病保险 (hifmi_pay): bands over the year's in-scope personal amount (eligible less
    what the basic fund paid: never the fund's own share) above the 大病 deductible, within its yearly cap."""
    personal_in_scope = eligible - hifp
    before = acc.get(Acc.CRITICAL_BASE, ZERO)
    after = before + personal_in_scope
    gain = top.scale.apply(max(ZERO, after - top.deductible)) - top.scale.apply(max(ZERO, before - top.deductible))
    inc.add(Acc.CRITICAL_BASE, personal_in_scope)
    return _within_top_up_cap(round_yuan(gain), top, acc)


def _within_top_up_cap(amount: Decimal, top: TopUp, acc: dict[str, Decimal]) -> Decimal:
    if not top.annual_cap:
        return amount
    return min(amount, top.annual_cap - acc.get(Acc.TOP_UP_FUND, ZERO))


def civil_servant_subsidy(
    eligible: Decimal, paid: Decimal, scheme: Scheme, ctx: Context, acc: dict[str, Decimal], inc: Increments
) -> Decimal:
    """公务员医疗补助 (cvlserv_pay): a share of the eligible amount the funds did not pay, within its yearly cap."""
    if not ctx.civil_servant or scheme.civil_servant is None:
        return ZERO
    amount = round_yuan(max(ZERO, eligible - paid) * scheme.civil_servant.ratio)
    subsidy = min(amount, max(ZERO, scheme.civil_servant.annual_cap - acc.get(Acc.CIVIL_SERVANT, ZERO)))
    inc.add(Acc.CIVIL_SERVANT, subsidy)
    return subsidy


def personal_account(personal: Decimal, scheme: Scheme, ctx: Context) -> Decimal:
    """Steps 10–11, 个人账户 (acct_pay): what the account pays of the personal part when the person uses it,
    never more than its balance and never negative (it is never credited); the rest is cash."""
    if not (ctx.acct_used_flag and scheme.personal_account):
        return ZERO
    return max(ZERO, min(personal, ctx.account_balance))


def settle(lines: list[FeeLine], catalogue: dict[str, CatalogEntry], ctx: Context, acc: dict[str, Decimal]) -> Result:
    """Split a bill. `catalogue` maps national codes to the entry in force on each line's date. The steps are the
    functions above, in the order of settlement.md §2."""
    scheme = ctx.policy.scheme(ctx.insutype)
    notes: list[str] = []
    inc = Increments()
    bill = split_bill(lines, catalogue)
    mechanism = _mechanism(ctx)
    deductible = deductible_borne(bill.eligible, scheme, ctx, acc, mechanism, inc)
    basic = basic_fund_before_caps(bill.eligible - deductible, scheme, ctx, mechanism)
    hifp, limit = capped_basic_fund(basic.fund, scheme, ctx, acc, inc, notes)
    hifob = hifmi = ZERO
    top = scheme.top_up
    if top.in_direct_settlement and ctx.care is not CareType.OUTPATIENT:
        if top.kind == "large_amount":
            hifob = large_amount(basic, hifp, top, acc)
        else:
            hifmi = critical_illness(bill.eligible, hifp, top, acc, inc)
        inc.add(Acc.TOP_UP_FUND, hifob + hifmi)
    # Step 9 (医疗救助) is not settled here: no region parameter enables it yet.
    cvlserv = civil_servant_subsidy(bill.eligible, hifp + hifob + hifmi, scheme, ctx, acc, inc)
    fund_total = hifp + hifob + hifmi + cvlserv
    personal = bill.total - fund_total
    acct = personal_account(personal, scheme, ctx)
    detail = _details(ctx.insutype, bill.eligible, limit, hifp, hifob, hifmi, cvlserv, acct, basic.ratio, deductible)
    return Result(
        lines=bill.lines,
        medfee_sumamt=bill.total,
        fulamt_ownpay_amt=bill.fully_self_paid,
        overlmt_selfpay=bill.over_price_cap,
        preselfpay_amt=bill.first_self_pay,
        inscp_scp_amt=bill.eligible,
        act_pay_dedc=deductible,
        hifp_pay=hifp,
        pool_prop_selfpay=round_ratio(basic.ratio),  # half up, as money: decimal(5,4) on the interface
        cvlserv_pay=cvlserv,
        hifmi_pay=hifmi,
        hifob_pay=hifob,
        maf_pay=ZERO,
        oth_pay=ZERO,
        fund_pay_sumamt=fund_total,
        psn_part_amt=personal,
        acct_pay=acct,
        psn_cash_pay=personal - acct,
        balc=ctx.account_balance - acct,
        setldetail=detail,
        increments=dict(inc),
        notes=notes,
    )


def _chronic_limits(scheme: Scheme, ctx: Context, acc: dict[str, Decimal]) -> list[Decimal]:
    assert ctx.disease is not None
    disease = scheme.chronic.diseases[ctx.disease]
    out = []
    if disease.monthly_cap is not None:
        out.append(disease.monthly_cap - acc.get(Acc.chronic(ctx.disease, "fund", ctx.service_date.month), ZERO))
    if scheme.chronic.several_diseases_rule == "highest_cap":
        caps = [
            scheme.chronic.diseases[d].annual_cap
            for d in {ctx.disease, *ctx.person_diseases}
            if d in scheme.chronic.diseases
        ]
        if caps and all(c is not None for c in caps):
            # Several diseases share one yearly limit: the highest single-disease cap, not the sum.
            out.append(max(c for c in caps if c is not None) - acc.get(Acc.CHRONIC_ALL, ZERO))
    elif disease.annual_cap is not None:
        out.append(disease.annual_cap - acc.get(Acc.chronic(ctx.disease, "fund"), ZERO))
    return out


FUND_NAMES = {
    "310100": "职工基本医疗保险统筹基金",
    "390100": "城乡居民基本医疗保险基金",
    "320100": "公务员医疗补助资金",
    "330100": "大额医疗费用补助基金",
    "390200": "城乡居民大病医疗保险资金",
    "310200": "职工个人账户",
}


def _details(
    insutype: str,
    eligible: Decimal,
    limit: Decimal,
    hifp: Decimal,
    hifob: Decimal,
    hifmi: Decimal,
    cvlserv: Decimal,
    acct: Decimal,
    ratio: Decimal,
    deductible: Decimal,
) -> list[FundDetail]:
    basic = "310100" if insutype == "310" else "390100"
    rows = [
        (basic, hifp, f"起付线{deductible}，支付比例{round_ratio(ratio)}"),
        ("330100", hifob, "大额医疗费用补助"),
        ("390200", hifmi, "大病保险分段支付"),
        ("320100", cvlserv, "公务员医疗补助"),
        ("310200", acct, "个人账户支付"),
    ]
    return [
        FundDetail(code, FUND_NAMES[code], eligible, limit if code == basic else ZERO, amount, info)
        for code, amount, info in rows
        if amount or code == basic
    ]
