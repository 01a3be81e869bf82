"""After the funds: the civil-servant subsidy (a share of the eligible personal part, within its yearly cap) and
the personal account (settlement.md §2 steps 10–11). Synthetic policy in `policies.py`: subsidy 50 %, yearly cap
300; employees have an account, residents do not. Each row's arithmetic is beside it."""

from __future__ import annotations

from typing import Any

import pytest

from yidi.settlement.engine import CareType, settle

from .policies import CATALOGUE, OUT_ITEM, D, acc, bill, context, fee, money, policy

HIGH_CAP = {"employee": {"civil_servant": {"annual_cap": 50000}}}

# -- civil-servant subsidy ------------------------------------------------------------------------------------------
# Employee stay at level 1, a later stay (deductible 40, ratio .90) unless the row says otherwise.

CIVIL = [
    # (policy update, care, bill, out-of-catalogue amount, accumulators, civil servant?, expected basic, subsidy)
    pytest.param({}, CareType.INPATIENT, "1040", "0", {}, False, "900.00", "0.00", id="not a civil servant: 0"),
    # eligible 1040 − basic 900 = 140 personal → 140 × .50 = 70
    pytest.param({}, CareType.INPATIENT, "1040", "0", {}, True, "900.00", "70.00", id="(1040-900)x.50=70"),
    # the out-of-catalogue 100 is not eligible: still 70
    pytest.param({}, CareType.INPATIENT, "1040", "100", {}, True, "900.00", "70.00", id="self-paid line excluded: 70"),
    # bill within the deductible: 39.99 personal → 19.995 → 20.00 (half up)
    pytest.param({}, CareType.INPATIENT, "39.99", "0", {}, True, "0.00", "20.00", id="39.99x.50=19.995->20.00"),
    # (5040 − 4500) × .50 = 270
    pytest.param({}, CareType.INPATIENT, "5040", "0", {}, True, "4500.00", "270.00", id="(5040-4500)x.50=270"),
    # yearly cap 300 − already paid: 70 due
    pytest.param({}, CareType.INPATIENT, "1040", "0", {"civil_servant.fund": "229.99"}, True, "900.00", "70.00",
                 id="cap 1 fen above: 70"),
    pytest.param({}, CareType.INPATIENT, "1040", "0", {"civil_servant.fund": "230"}, True, "900.00", "70.00",
                 id="cap at: 70"),
    pytest.param({}, CareType.INPATIENT, "1040", "0", {"civil_servant.fund": "230.01"}, True, "900.00", "69.99",
                 id="cap 1 fen below: 69.99"),
    pytest.param({}, CareType.INPATIENT, "1040", "0", {"civil_servant.fund": "300"}, True, "900.00", "0.00",
                 id="cap reached: 0"),
    # after 大额: basic 900 (9,100 of the cap paid), 大额 1,600 (see test_rules_top_up) → personal 4040 − 2500 = 1540
    # → 770, capped at 300; with a cap of 50,000 → 770
    pytest.param({}, CareType.INPATIENT, "4040", "0", {"basic.fund": "9100"}, True, "900.00", "300.00",
                 id="after 大额, capped: 300"),
    pytest.param(HIGH_CAP, CareType.INPATIENT, "4040", "0", {"basic.fund": "9100"}, True, "900.00", "770.00",
                 id="after 大额: (4040-900-1600)x.50=770"),
    # outpatient, first visit: deductible 500, basic 350, personal 650 → 325
    pytest.param(HIGH_CAP, CareType.OUTPATIENT, "1000", "0", {"inpatient.stays": "0"}, True, "350.00", "325.00",
                 id="outpatient (1000-350)x.50=325"),
    # resident scheme without a subsidy
    pytest.param({}, CareType.OUTPATIENT, "1000", "0", {}, True, None, "0.00", id="resident: no subsidy"),
]  # fmt: skip


@pytest.mark.parametrize(("update", "care", "amount", "out", "used", "civil", "basic", "subsidy"), CIVIL)
def test_civil_servant_subsidy(
    update: dict[str, Any],
    care: CareType,
    amount: str,
    out: str,
    used: dict[str, str],
    civil: bool,
    basic: str | None,
    subsidy: str,
) -> None:
    insutype = "390" if basic is None else "310"
    lines = bill(amount) + ([fee(out, code=OUT_ITEM, sn="9")] if money(out) else [])
    start = {"inpatient.stays": D(1), **{k: D(v) for k, v in used.items()}}
    ctx = context(care, pol=policy(update), insutype=insutype, civil_servant=civil)
    r = settle(lines, CATALOGUE, ctx, start)
    if basic is not None:
        assert r.hifp_pay == money(basic)
    assert r.cvlserv_pay == money(subsidy)
    assert r.increments.get("civil_servant.fund", D(0)) == money(subsidy)
    assert r.fund_pay_sumamt == r.hifp_pay + r.hifob_pay + r.hifmi_pay + money(subsidy)
    assert r.psn_part_amt == money(amount) + money(out) - r.fund_pay_sumamt


def test_civil_servant_subsidy_after_critical_illness() -> None:
    """A resident scheme given a subsidy of 50 %: stay of 5,500 → basic 3,000, 大病 250 (test_rules_top_up),
    personal eligible 5500 − 3250 = 2,250 → 1,125."""
    pol = policy({"resident": {"civil_servant": {"ratio": "0.50", "annual_cap": 5000}}})
    r = settle(bill("5500.00"), CATALOGUE, context(CareType.INPATIENT, pol=pol, insutype="390", civil_servant=True), {})
    assert (r.hifp_pay, r.hifmi_pay, r.cvlserv_pay) == (money("3000"), money("250"), money("1125"))


# -- personal account -------------------------------------------------------------------------------------------
# Employee outpatient, deductible borne: bill 1,000 → basic 700, personal 300.

ACCOUNT = [
    # (flag, balance, expected account pay, cash, balance after)
    pytest.param(True, "1000.00", "300.00", "0.00", "700.00", id="balance covers: 300 from account"),
    pytest.param(True, "300.01", "300.00", "0.00", "0.01", id="balance 1 fen above personal"),
    pytest.param(True, "300.00", "300.00", "0.00", "0.00", id="balance = personal"),
    pytest.param(True, "299.99", "299.99", "0.01", "0.00", id="balance 1 fen below: 0.01 cash"),
    pytest.param(True, "120.50", "120.50", "179.50", "0.00", id="part: 300-120.50=179.50 cash"),
    pytest.param(True, "0.00", "0.00", "300.00", "0.00", id="empty account: all cash"),
    pytest.param(False, "1000.00", "0.00", "300.00", "1000.00", id="account not used: all cash"),
]


@pytest.mark.parametrize(("flag", "balance", "account", "cash", "after"), ACCOUNT)
def test_personal_account(flag: bool, balance: str, account: str, cash: str, after: str) -> None:
    ctx = context(CareType.OUTPATIENT, acct_used_flag=flag, account_balance=balance)
    r = settle(bill("1000.00"), CATALOGUE, ctx, acc(outpatient__deductible="500"))
    assert (r.hifp_pay, r.psn_part_amt) == (money("700"), money("300"))
    assert (r.acct_pay, r.psn_cash_pay, r.balc) == (money(account), money(cash), money(after))
    assert not any(k.startswith(("acct", "account")) for k in r.increments)  # the balance is the caller's


def test_account_pays_self_paid_lines_and_what_the_subsidy_leaves() -> None:
    """Personal = 1,000 eligible + 200 out of catalogue − basic 700 − subsidy (300 × .50 = 150) = 350;
    a balance of 1,000 pays all 350."""
    lines = [*bill("1000.00"), fee("200.00", code=OUT_ITEM, sn="9")]
    ctx = context(CareType.OUTPATIENT, civil_servant=True, acct_used_flag=True, account_balance="1000")
    r = settle(lines, CATALOGUE, ctx, acc(outpatient__deductible="500"))
    assert (r.cvlserv_pay, r.psn_part_amt, r.acct_pay, r.psn_cash_pay, r.balc) == (
        money("150"),
        money("350"),
        money("350"),
        money("0"),
        money("650"),
    )


def test_a_scheme_without_account_never_uses_it() -> None:
    """Resident (no account), outpatient, deductible 200 borne: 1,000 × .50 = 400 basic (cap 400), 600 personal,
    all cash although the flag is set and a balance given."""
    ctx = context(CareType.OUTPATIENT, insutype="390", acct_used_flag=True, account_balance="5000")
    r = settle(bill("1000.00"), CATALOGUE, ctx, acc(outpatient__deductible="200"))
    assert (r.hifp_pay, r.acct_pay, r.psn_cash_pay, r.balc) == (money("400"), money("0"), money("600"), money("5000"))
