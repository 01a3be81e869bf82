"""The engine's second line of defence: whatever lines reach it, no fund pays on a negative amount, no
accumulator moves backwards and the personal account is never credited."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.catalog.rules import CatalogEntry
from yidi.settlement.engine import Context, FeeLine, settle

from .test_engine_properties import DAY, bills, contexts


@st.composite
def bills_with_negative_lines(draw: st.DrawFn) -> tuple[list[FeeLine], dict[str, CatalogEntry]]:
    lines, catalogue = draw(bills())
    flipped = []
    for ln in lines:
        if draw(st.booleans()):  # a refund-like or hostile line: count and amount negative
            ln = FeeLine(ln.feedetl_sn, ln.med_list_codg, DAY, -ln.det_item_fee_sumamt, -ln.cnt, ln.pric)
        flipped.append(ln)
    return flipped, catalogue


@given(bills_with_negative_lines(), contexts())
@settings(max_examples=300, deadline=None)
def test_negative_lines_never_credit_the_account_or_lower_an_accumulator(
    bill: tuple[list[FeeLine], dict[str, CatalogEntry]], context: tuple[Context, dict[str, Decimal]]
) -> None:
    lines, catalogue = bill
    ctx, acc = context
    r = settle(lines, catalogue, ctx, acc)
    assert all(v > 0 for v in r.increments.values()), r.increments
    assert 0 <= r.acct_pay <= max(Decimal(0), ctx.account_balance)
    assert r.balc <= ctx.account_balance
    for amount in (r.hifp_pay, r.hifob_pay, r.hifmi_pay, r.cvlserv_pay, r.act_pay_dedc, r.inscp_scp_amt):
        assert amount >= 0


def test_an_all_negative_bill_pays_nothing() -> None:
    """The issue's case: one line of −800 × 2.5 = −2,000.00 with the account in use."""
    from yidi.parameters.policy import FilingCategory
    from yidi.reference.models import SettlementLevel
    from yidi.settlement.engine import CareType

    from .test_engine_properties import STORE

    ctx = Context(
        policy=STORE.at("411100", DAY),
        insutype="310",
        retiree=True,
        civil_servant=False,
        settlement_level=SettlementLevel.LEVEL_3,
        care=CareType.OUTPATIENT,
        category=FilingCategory.LONG_TERM,
        cross_province=True,
        service_date=DAY,
        acct_used_flag=True,
        account_balance=Decimal("3250.40"),
    )
    line = FeeLine("1", "X0000000000000000000000", DAY, Decimal("-2000.00"), Decimal(-800), Decimal("2.5"))
    r = settle([line], {}, ctx, {})
    assert (r.acct_pay, r.balc, r.hifp_pay, r.increments) == (Decimal(0), Decimal("3250.40"), Decimal(0), {})
