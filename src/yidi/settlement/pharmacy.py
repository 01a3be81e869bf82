"""Purchases at a designated pharmacy (定点零售药店购药, med_type 41): 2101 pre-settle, 2102 settle, and the
cancel (2103 in the public copies of the specification; the code is a setting, `pharmacy_cancel_infno`).

A purchase is settled at the counter in one call: the header (node `druginfo`, or `data`) and the drug lines
(node `drugdetail`, or `feedetail`) come together, with no visit registered before. 2102 opens a visit of
kind "pharmacy", stores the lines and settles them in the call's transaction through the very code of 2201 +
2204 + 2207 (`visits.register_visit`, `visits.upload_fees`, `service.settle`): the treatment place's catalogue
splits the lines, the insured place pays them by its ordinary-outpatient rules, or by its 门慢 rules when the
purchase names a 门慢 disease, into the same accumulators. 2101 runs that same code inside a savepoint it rolls
back, so its answer is what 2102 would answer, and nothing of it is kept. The cancel is 2208's (a negative
record with its own setl_id, every accumulator and the account restored) and ends the purchase.

Only a pharmacy (fixmedins_type 2) may call these, and a pharmacy may not open hospital visits (see
`refuse_pharmacy`). The person must have been identified at the pharmacy (1101) today or yesterday.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from yidi.core import inputs
from yidi.core.errors import NOT_FOUND, ErrorKind, YidiError
from yidi.reference.service import get_institution
from yidi.settlement import service, visits
from yidi.settlement.inputs import BAD_INPUT, Call
from yidi.settlement.models import Settlement, Visit

PHARMACY_TYPE = "2"  # fixmedins_type: 1 定点医疗机构, 2 定点零售药店
PURCHASE_MED_TYPE = "41"  # med_type 41 定点药店购药
PURCHASE_KIND = "pharmacy"  # Visit.kind of a purchase

WRONG_INSTITUTION = ErrorKind(
    "S_INSTITUTION_TYPE",
    "{infno} 仅供{allowed_zh}使用，{fixmedins_code} 不是",
    "{infno} is for {allowed_en} only; {fixmedins_code} is not one",
    403,
)


def is_pharmacy(session: Session, fixmedins_code: str) -> bool:
    return get_institution(session, fixmedins_code).fixmedins_type == PHARMACY_TYPE


def require_pharmacy(session: Session, call: Call) -> None:
    if not is_pharmacy(session, call.fixmedins_code):
        raise YidiError(
            WRONG_INSTITUTION,
            infno=call.infno,
            allowed_zh="定点零售药店",
            allowed_en="designated pharmacies",
            fixmedins_code=call.fixmedins_code,
        )


def refuse_pharmacy(session: Session, call: Call) -> None:
    """Visits, stays, their fee lines and their settlement are a hospital's: a pharmacy settles a purchase in one
    call (2101/2102). Were it let open a visit, it could also settle one by 2207 and cancel a purchase by 2208,
    leaving the purchase's visit open (and an open visit makes the person present there)."""
    if is_pharmacy(session, call.fixmedins_code):
        raise YidiError(
            WRONG_INSTITUTION,
            infno=call.infno,
            allowed_zh="定点医疗机构（药店购药用2101/2102）",
            allowed_en="designated medical institutions (a pharmacy settles purchases with 2101/2102)",
            fixmedins_code=call.fixmedins_code,
        )


def _node(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """The first of the named nodes the client wrapped the header in, else the input itself."""
    for name in names:
        node = data.get(name)
        if isinstance(node, dict):
            return node
    return data


def _lines(data: dict[str, Any], header: dict[str, Any]) -> list[dict[str, Any]]:
    for where in (data, header):
        for name in ("drugdetail", "feedetail"):
            if name in where:
                rows = where[name]
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    raise YidiError(BAD_INPUT, field=name, problem="must be a list of objects / 应为对象数组")
                return rows
    raise YidiError(BAD_INPUT, field="drugdetail", problem="is required / 必填")


def _open(
    session: Session, call: Call, data: dict[str, Any], *, confirm_total: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Open the purchase (a visit with its lines) and answer what settling it takes and the lines' split."""
    require_pharmacy(session, call)
    header = _node(data, "druginfo", "data")
    rows = _lines(data, header)
    med_type = inputs.text(header, "med_type", required=False, max_len=6) or PURCHASE_MED_TYPE
    if med_type != PURCHASE_MED_TYPE:
        raise YidiError(BAD_INPUT, field="med_type", problem="must be 41 / 应为41（定点药店购药）")
    if confirm_total and inputs.blank(header.get("medfee_sumamt")):
        # The pharmacy confirms the total it charges: a line lost on the way is refused, not settled short.
        raise YidiError(BAD_INPUT, field="medfee_sumamt", problem="is required / 必填")
    when = (inputs.time(header, "begntime", required=False) or call.now).strftime("%Y-%m-%d %H:%M:%S")
    visit = visits.register_visit(
        session,
        call,
        {
            "psn_no": header.get("psn_no"),
            "insutype": header.get("insutype"),
            "begntime": when,
            "med_type": PURCHASE_MED_TYPE,
            "ipt_otp_no": call.msgid,  # the purchase's own number: unique per pharmacy, as msgid is
            "dise_codg": header.get("dise_codg"),
            "dise_name": header.get("dise_name"),
        },
        PURCHASE_KIND,
    )
    lines = [
        {
            **row,
            "mdtrt_id": visit["mdtrt_id"],
            "psn_no": visit["psn_no"],
            "fee_ocur_time": row.get("fee_ocur_time") or when,  # a line bought with the purchase
        }
        for row in rows
    ]
    split = visits.upload_fees(session, call, lines)["result"]
    request = {
        "mdtrt_id": visit["mdtrt_id"],
        "psn_no": visit["psn_no"],
        "med_type": PURCHASE_MED_TYPE,
        "acct_used_flag": header.get("acct_used_flag", "0"),
    }
    # What the pharmacy says about the settlement is kept with it, as for 2207 (settlement.care).
    for name in ("medfee_sumamt", "invono", "mdtrt_cert_type", "mdtrt_cert_no", "psn_setlway"):
        if not inputs.blank(header.get(name)):
            request[name] = header[name]
    return request, split


def presettle(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2101: 2102's computation on the same code, in a savepoint rolled back whatever happens: nothing is kept."""
    savepoint = session.begin_nested()
    try:
        request, split = _open(session, call, data, confirm_total=False)
        out = service.presettle(session, call, request)
    finally:
        savepoint.rollback()
    # mdtrt_id is required in setlinfo: this is the id the pre-settlement computed under. It identifies nothing
    # kept (the savepoint was rolled back); 2102 assigns the purchase its own.
    return {**out, "detlcutinfo": split}


def settle(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2102: open the purchase, store its lines and settle it, all in the call's transaction."""
    request, split = _open(session, call, data, confirm_total=True)
    return {**service.settle(session, call, request), "detlcutinfo": split}


def cancel(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """The pharmacy's cancel (2103 by default): input `data` {setl_id, mdtrt_id, psn_no}."""
    require_pharmacy(session, call)
    body = _node(data, "data")
    out = cancel_purchase(
        session,
        call,
        inputs.text(body, "setl_id", max_len=30),
        inputs.text(body, "mdtrt_id", required=False, max_len=30) or None,
        inputs.text(body, "psn_no", max_len=30),
    )
    info = out["setlinfo"]
    # The cancel's table names the person's share psn_pay and the cash cash_payamt (two public copies agree);
    # 2208's names are kept alongside.
    info.update(psn_pay=info["psn_part_amt"], cash_payamt=info["psn_cash_pay"])
    return out


def cancel_purchase(session: Session, call: Call, setl_id: str, mdtrt_id: str | None, psn_no: str) -> dict[str, Any]:
    """The cancel, and 2601 of a 2102: 2208's cancellation, and the purchase ends (a new purchase is a new 2102;
    left open, its visit would take more lines and make the person present at the pharmacy)."""
    original = session.get(Settlement, setl_id)
    visit = session.get(Visit, original.mdtrt_id) if original is not None else None
    if visit is None or visit.kind != PURCHASE_KIND or visit.fixmedins_code != call.fixmedins_code:
        raise YidiError(NOT_FOUND, what="购药结算 / pharmacy settlement", key=setl_id)
    out = service.cancel_settlement(session, call, setl_id, mdtrt_id, psn_no)
    visit.status, visit.version = "cancelled", visit.version + 1
    for fee in visit.fees:
        fee.status = "cancelled"
    return out
