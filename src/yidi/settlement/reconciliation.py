"""3201 summary reconciliation (对总账): the institution's totals for a period against the platform's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core import inputs
from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.settlement.inputs import BAD_INPUT, OUTPATIENT_TYPES, Call
from yidi.settlement.models import Settlement


def summary(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    insutype, clr_type = inputs.text(data, "insutype", max_len=3), inputs.text(data, "clr_type", max_len=6)
    optins = inputs.text(data, "setl_optins", max_len=6)
    begin, end = inputs.date(data, "stmt_begndate"), inputs.date(data, "stmt_enddate")
    if end < begin:
        raise YidiError(BAD_INPUT, field="stmt_enddate", problem="before stmt_begndate / 早于开始日期")
    start = dt.datetime.combine(begin, dt.time.min, SHANGHAI)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, SHANGHAI)
    rows = session.scalars(
        select(Settlement).where(
            Settlement.fixmedins_code == call.fixmedins_code,
            Settlement.insutype == insutype,
            Settlement.insuplc_admdvs == optins,
            Settlement.setl_time >= start,
            Settlement.setl_time < stop,
        )
    )
    wanted_outpatient = clr_type == "11"
    ours = {"medfee_sumamt": Decimal("0.00"), "fund_pay_sumamt": Decimal("0.00"), "acct_pay": Decimal("0.00")}
    count = 0
    for s in rows:
        if (s.med_type in OUTPATIENT_TYPES) != wanted_outpatient:
            continue
        for key in ours:
            ours[key] += getattr(s, key)  # cancellations and their reversal records net out
        count += s.status == "settled"
    theirs = {key: inputs.amount(data, key) for key in ours}
    their_count = int(inputs.number(data, "fixmedins_setl_cnt", 10))  # a JSON number or digits, ASCII only
    differences = [f"{k}: institution {theirs[k]} / platform {ours[k]}" for k in ours if theirs[k] != ours[k]]
    if their_count != count:
        differences.append(f"fixmedins_setl_cnt: institution {their_count} / platform {count}")
    return {
        "stmtinfo": {
            "setl_optins": optins,
            "stmt_rslt": "0" if not differences else "1",
            "stmt_rslt_dscr": "平 / balanced" if not differences else "不平 / unbalanced: " + "; ".join(differences),
        }
    }
