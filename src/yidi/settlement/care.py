"""What the HIS says about the care, kept with the visit, the fee line and the settlement.

The national tables of 2201/2203/2401/2403/2402 (visit), 2204/2301 (fee line) and 2206/2207/2303/2304
(settlement) carry fields yidi does not need to compute a split but that review, reimbursement, clearing and
reporting do: departments, doctors, beds, the discharge, prescriptions and orders, the hospital's approval of a
line, the invoice. Each is read here with the type and length of the specification's table (copies: newtouch-cloud/
openhis, binzhe12123/Medical, TeaHZ/185), refused by name when malformed or too long, absent when blank, and
stored in a column of its own (typed, so that review and reports can query it).

Not kept: the contact person and telephone of 2401/2403 (`coner_name`, `tel`: personal data the care does not
need), regional extensions (`exp_content`, `dise_type_code`), and an e-voucher token (`mdtrt_cert_no` of
`mdtrt_cert_type` 01: a credential, not a fact about the care). An ID number is kept masked only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yidi.core import inputs
from yidi.core.certno import mask_certno, mask_id_runs
from yidi.core.errors import YidiError
from yidi.settlement.inputs import BAD_INPUT, REFUSED

Reader = Callable[[dict[str, Any], str, str], Any]  # (data, input name, name to report) -> value or None/""


def _text(max_len: int) -> Reader:
    return lambda data, name, where: inputs.text(data, name, required=False, max_len=max_len, field=where) or None


def _date() -> Reader:
    return lambda data, name, where: inputs.optional_date(data, name, field=where)


def _count(digits: int) -> Reader:
    def read(data: dict[str, Any], name: str, where: str) -> int | None:
        value = inputs.number(data, name, digits, required=False, field=where)
        return None if value is None else int(value)

    return read


def _number(precision: int, scale: int) -> Reader:
    return lambda data, name, where: inputs.number(data, name, precision, scale, required=False, field=where)


@dataclass(frozen=True)
class Kept:
    """A column and the input field(s) that fill it: the first of `names` the message carries (2201 says
    `dept_code` where 2401 says `adm_dept_codg`, 2201 `dr_name` where 2401 says `chfpdr_name`)."""

    column: str
    names: tuple[str, ...]
    read: Reader


def _kept(column: str, read: Reader, *aliases: str) -> Kept:
    return Kept(column, (column, *aliases), read)


# Shared by the visit messages: the disease, the operation and the maternity fields of 2203/2401/2403/2402.
_CONDITION = (
    _kept("main_cond_dscr", _text(1000)),
    _kept("dise_codg", _text(30)),
    _kept("dise_name", _text(500)),
    _kept("oprn_oprt_code", _text(30)),
    _kept("oprn_oprt_name", _text(500)),
    _kept("fpsc_no", _text(50)),
    _kept("matn_type", _text(6)),
    _kept("birctrl_type", _text(6)),
    _kept("birctrl_matn_date", _date()),
    _kept("latechb_flag", _text(3)),
    _kept("geso_val", _count(2)),
    _kept("fetts", _count(3)),
    _kept("fetus_cnt", _count(3)),
    _kept("pret_flag", _text(3)),
)

# 2201 (data), 2203 (mdtrtinfo), 2401 (mdtrtinfo), 2403 (adminfo). The visit's department and doctor are the
# registering (outpatient) or admitting (inpatient) ones.
VISIT = (
    _kept("dept_code", _text(30), "adm_dept_codg"),
    _kept("dept_name", _text(100), "adm_dept_name"),
    _kept("caty", _text(6)),
    _kept("atddr_no", _text(30)),
    _kept("dr_name", _text(50), "chfpdr_name"),
    _kept("medrcdno", _text(30)),
    _kept("adm_bed", _text(30)),
    _kept("adm_diag_dscr", _text(200)),
    _kept("dscg_maindiag_code", _text(20)),
    _kept("dscg_maindiag_name", _text(300)),
    *_CONDITION,
)

# 2402 (dscginfo): undone by 2405, which clears these columns.
DISCHARGE_ONLY = (
    _kept("dscg_dept_codg", _text(30)),
    _kept("dscg_dept_name", _text(100)),
    _kept("dscg_bed", _text(30)),
    _kept("dscg_way", _text(3)),
    _kept("die_date", _date()),
    _kept("cop_flag", _text(3)),
)
DISCHARGE = (*DISCHARGE_ONLY, *_CONDITION)

# 2204 and 2301 feedetail rows.
FEE_LINE = (
    _kept("med_type", _text(6)),
    _kept("dise_codg", _text(30)),
    _kept("rxno", _text(30)),
    _kept("rx_circ_flag", _text(3)),
    _kept("drord_no", _text(30)),
    _kept("sin_dos_dscr", _text(200)),
    _kept("used_frqu_dscr", _text(200)),
    _kept("prd_days", _number(4, 2)),
    _kept("medc_way_dscr", _text(200)),
    _kept("bilg_dept_codg", _text(30)),
    _kept("bilg_dept_name", _text(100)),
    _kept("bilg_dr_codg", _text(30)),
    _kept("bilg_dr_name", _text(50)),
    _kept("acord_dept_codg", _text(30)),
    _kept("acord_dept_name", _text(100)),
    _kept("orders_dr_code", _text(30)),
    _kept("orders_dr_name", _text(50)),
    _kept("hosp_appr_flag", _text(3)),
    _kept("tcmdrug_used_way", _text(6)),
    _kept("etip_flag", _text(3)),
    _kept("etip_hosp_code", _text(30)),
    _kept("dscg_tkdrug_flag", _text(3)),
    _kept("matn_fee_flag", _text(6)),
    _kept("memo", _text(500)),
)


def read(data: dict[str, Any], fields: tuple[Kept, ...], *, where: str = "", every: bool = False) -> dict[str, Any]:
    """The columns the message fills. Without `every`, only those it carries (a later message that leaves a field
    out keeps what an earlier one said); with it, every column (None when absent), for a bulk insert."""
    out: dict[str, Any] = {}
    for kept in fields:
        value = None
        for name in kept.names:
            if inputs.blank(data.get(name)):  # most fields are absent from most rows: no reader call for them
                continue
            value = kept.read(data, name, where + name)
            if value is not None:
                break
        if value is not None or every:
            out[kept.column] = value
    return out


# -- the settlement ------------------------------------------------------------------------------------------

BY_ITEM, BY_FIXED_AMOUNT = "01", "02"  # psn_setlway: 按项目结算, 按定额结算

# The amounts 2207/2304 send as the HIS computed them from the 2204/2301 answers, kept beside yidi's own.
CLAIMED = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")


def settlement(data: dict[str, Any]) -> dict[str, Any]:
    """The settlement's kept fields (2206/2207/2303/2304), the way of settling checked first: yidi settles by item.
    By fixed amount (按定额) needs a fixed amount per case set by the insured place's policy, which yidi's policy
    parameters do not hold: 02 is refused rather than settled by item under a name that says otherwise."""
    way = inputs.text(data, "psn_setlway", required=False, max_len=6) or BY_ITEM
    if way == BY_FIXED_AMOUNT:
        raise YidiError(
            REFUSED,
            reason="psn_setlway 02 (settlement by fixed amount) is not provided by the insured place's policy; "
            "settle by item (01) / psn_setlway 02：参保地政策未提供按定额结算，请按项目结算（01）",
        )
    if way != BY_ITEM:
        raise YidiError(BAD_INPUT, field="psn_setlway", problem="must be 01 or 02 / 应为01或02")
    cert_type = inputs.text(data, "mdtrt_cert_type", required=False, max_len=3)
    return {
        "psn_setlway": way,
        "invono": inputs.text(data, "invono", required=False, max_len=20) or None,
        "mdtrt_cert_type": cert_type or None,
        "mdtrt_cert_no": _certificate(cert_type, data),
        "acct_used_flag": "1" if inputs.flag(data, "acct_used_flag") else "0",
        "mid_setl_flag": "1" if inputs.flag(data, "mid_setl_flag") else "0",
        **{f"his_{name}": inputs.optional_amount(data, name) for name in CLAIMED},
    }


# Whatever could be an ID number inside another certificate number (a social security card numbered by it, with
# or without a prefix): masked without asking whether its date and checksum are valid.
def _certificate(cert_type: str, data: dict[str, Any]) -> str | None:
    """The certificate number as it may be kept: an ID card's (type 02) masked whole, any ID-like run inside another
    number masked too; an e-voucher token (01, up to 600 characters when yidi issues it) not kept."""
    number = inputs.text(data, "mdtrt_cert_no", required=False, max_len=600 if cert_type == "01" else 50)
    if not number or cert_type == "01":
        return None
    return mask_certno(number) if cert_type == "02" else mask_id_runs(number)
