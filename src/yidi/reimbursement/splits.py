"""What the two recomputations of care (a manual claim, a review of a settlement) share: the accumulators as they
would stand without the settlements computed again, and the split kept in the agreed shape (`ClaimVisit.split`,
the base of `SettlementReview.recomputed`). Pure: values in, values out."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from yidi.settlement import engine

ZERO_SPLIT_RATIO = "0.0000"


def without(values: Mapping[str, Decimal], counted: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The year's accumulators as they would be without a settlement: each less what it counts for (never
    below zero)."""
    keys = set(values) | set(counted)
    return {k: max(Decimal(0), values.get(k, Decimal(0)) - counted.get(k, Decimal(0))) for k in keys}


def setldetail_json(result: engine.Result) -> list[dict[str, Any]]:
    """The fund details (setldetail) of a split, amounts as text."""
    return [
        {
            "fund_pay_type": d.fund_pay_type,
            "fund_pay_type_name": d.fund_pay_type_name,
            "inscp_scp_amt": str(d.inscp_scp_amt),
            "crt_payb_lmt_amt": str(d.crt_payb_lmt_amt),
            "fund_payamt": str(d.fund_payamt),
            "setl_proc_info": d.setl_proc_info,
        }
        for d in result.setldetail
    ]


def split_json(result: engine.Result | None, money_fields: tuple[str, ...]) -> dict[str, Any]:
    """The split as kept: every setlinfo amount (`money_fields`, settlement.service.MONEY_FIELDS) as 2-decimal
    text, the ratio, the fund details. None (nothing computed: every line left out) is a split of zeros."""
    if result is None:
        return {**dict.fromkeys(money_fields, "0.00"), "pool_prop_selfpay": ZERO_SPLIT_RATIO, "setldetail": []}
    return {
        **{k: str(getattr(result, k)) for k in money_fields},
        "pool_prop_selfpay": str(result.pool_prop_selfpay),
        "setldetail": setldetail_json(result),
    }
