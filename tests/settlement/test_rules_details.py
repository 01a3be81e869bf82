"""What the settlement answers besides the amounts: the fund rows of setldetail (code, name, limit, info), the
split lines, the effective ratio when nothing is above the deductible, and which deductible table a stay's later
settlement uses. Written for the mutants that survived `make mutation` (docs/mutation.md)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from yidi.reference.models import SettlementLevel
from yidi.settlement.engine import CareType, FundDetail, StaySoFar, settle

from .policies import CATALOGUE, acc, bill, context, money, policy

D = Decimal


def test_an_employees_fund_rows_name_each_fund_with_its_limit_and_reason() -> None:
    """Employee civil servant, level 1 stay of 13,000 using the account (balance 10,000):
    deductible 100; (13,000 − 100) × .90 = 11,610 → capped at the annual 10,000 (limit 10,000);
    大额: uncovered 12,900 − 10,000 / .90 = 1,788.89 above its 1,000 deductible = 788.89 × .80 = 631.11;
    civil servant: (13,000 − 10,000 − 631.11) × 50 % = 1,184.45 → its cap 300;
    personal 13,000 − 10,931.11 = 2,068.89, all from the account."""
    ctx = context(CareType.INPATIENT, civil_servant=True, acct_used_flag=True, account_balance="10000")
    r = settle(bill("13000.00"), CATALOGUE, ctx, {})
    assert r.setldetail == [
        FundDetail("310100", "职工基本医疗保险统筹基金", money("13000"), money("10000"), money("10000"),
                   "起付线100.00，支付比例0.9000"),
        FundDetail("330100", "大额医疗费用补助基金", money("13000"), money("0"), money("631.11"), "大额医疗费用补助"),
        FundDetail("320100", "公务员医疗补助资金", money("13000"), money("0"), money("300"), "公务员医疗补助"),
        FundDetail("310200", "职工个人账户", money("13000"), money("0"), money("2068.89"), "个人账户支付"),
    ]  # fmt: skip


def test_a_residents_fund_rows_use_the_resident_codes_and_list_only_funds_that_paid() -> None:
    """Resident stay of 10,000: deductible 500; (10,000 − 500) × .60 = 5,700; 大病 base 10,000 − 5,700 = 4,300,
    above its 2,000 deductible 2,300: 1,000 × .50 + 1,300 × .60 = 1,280. No account, no subsidy: no rows."""
    r = settle(bill("10000.00"), CATALOGUE, context(CareType.INPATIENT, insutype="390"), {})
    assert [(d.fund_pay_type, d.fund_pay_type_name, d.crt_payb_lmt_amt, d.fund_payamt, d.setl_proc_info)
            for d in r.setldetail] == [
        ("390100", "城乡居民基本医疗保险基金", money("10000"), money("5700"), "起付线500.00，支付比例0.6000"),
        ("390200", "城乡居民大病医疗保险资金", money("0"), money("1280"), "大病保险分段支付"),
    ]  # fmt: skip


def test_the_basic_fund_row_is_there_even_when_it_pays_nothing() -> None:
    """Outpatient 300 under the 500 deductible: the fund pays 0, and its row still says so."""
    r = settle(bill("300.00"), CATALOGUE, context(CareType.OUTPATIENT), {})
    assert [(d.fund_pay_type, d.fund_payamt) for d in r.setldetail] == [("310100", money("0"))]


def test_the_result_keeps_each_line_with_its_split_and_an_empty_bill_is_zero_fen() -> None:
    lines = bill("10.00", "20.00")
    r = settle(lines, CATALOGUE, context(CareType.OUTPATIENT), {})
    assert [(ln, s.inscp_scp_amt) for ln, s in r.lines] == [(lines[0], money("10")), (lines[1], money("20"))]
    empty = settle([], CATALOGUE, context(CareType.OUTPATIENT), {})
    amounts = (empty.medfee_sumamt, empty.fulamt_ownpay_amt, empty.overlmt_selfpay, empty.preselfpay_amt,
               empty.inscp_scp_amt)  # fmt: skip
    assert [str(a) for a in amounts] == ["0.00"] * 5  # Decimal fen, never the integer 0


def test_a_banded_ratio_with_nothing_above_the_deductible_reports_the_first_band() -> None:
    """Level 3 stay of 200 under the 300 first-stay deductible: the base is 0, the ratio shown is band one (.70)."""
    r = settle(bill("200.00"), CATALOGUE, context(CareType.INPATIENT, level=SettlementLevel.LEVEL_3), {})
    assert (r.hifp_pay, r.pool_prop_selfpay) == (money("0"), D("0.7000"))


def test_the_rest_of_a_first_stay_uses_the_first_stay_deductible() -> None:
    """This year's only stay was counted by its mid-stay settlement (inpatient.stays = 1) which bore 80 of the
    level-1 first-stay deductible of 100: the final settlement bears 20 (not the later-stay 40 − 80 = 0)."""
    ctx = replace(context(CareType.INPATIENT), stay=StaySoFar(money("80"), counted_this_year=True))
    r = settle(bill("1000.00"), CATALOGUE, ctx, acc(inpatient__stays="1"))
    assert (r.act_pay_dedc, r.hifp_pay) == (money("20"), money("882"))  # (1000 − 20) × .90 = 882


def test_no_large_amount_is_paid_while_the_basic_fund_is_under_its_cap_even_with_no_deductible() -> None:
    """漯河 writes its 大额 deductible as 0. An unrated stay of 400.04: deductible 400, 0.04 × .60 = 0.024 → 0.02
    from the basic fund, not capped. 大额 pays only on what the cap left unpaid: nothing here. (Measured from
    the rounded fund, the remainder 0.04 − 0.02 / .60 = 0.0067 × .80 would round to 0.01.)"""
    pol = policy({"employee": {"top_up": {"deductible": 0}}})
    r = settle(bill("400.04"), CATALOGUE, context(CareType.INPATIENT, pol=pol, level=SettlementLevel.UNRATED), {})
    assert (r.act_pay_dedc, r.hifp_pay, r.hifob_pay) == (money("400"), money("0.02"), money("0"))
