"""Types on the wire: the national platform sends amounts, prices, ratios and counts as JSON numbers.

Inside yidi an answer holds text (what the services build, and what the message log stores as JSON): "123.40",
"" for an unknown value in older stored answers. HIS software reads these fields as decimals, and many crash on
text, above all on "". So at the HTTP edge, and only there, every field named in the registry below becomes a
`Decimal` (an amount quantized to 0.01), and "" or None becomes null; the whole answer is then written with
simplejson, which writes a `Decimal` digit for digit as a JSON number (never through float). Because the
conversion happens here, a replay of an answer stored before this module existed comes out typed the same way.

The registry is built from the field tables of the specification as public implementations copy them
(binzhe12123/Medical 深圳: 1101, 2204, 2207, 5203, 5204, 5206, 1901; TeaHZ/185 江苏: 1101, 2204, 2207, 2208;
newtouch-cloud/openhis: 2206/2207 result DTOs), with the precision each table gives (数值型 16,2 and so on).
Code fields (insutype, psn_type, gend, naty, flags such as cvlserv_flag, dates) are 字符型 in those tables and
stay text. A field that is numeric in the registry but holds other text is a bug in yidi: it is logged and sent
as null, never allowed to fail the answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from typing import Any

import simplejson

log = logging.getLogger("yidi.gateway.wire")


class Kind(Enum):
    """How a numeric field travels, by the specification's precision."""

    AMOUNT = "decimal(16,2)"  # money and other two-decimal values: quantized to 0.01
    PRICE = "decimal(16,6)"  # unit prices and price caps: as given (quantizing to 0.01 would lose digits)
    RATIO = "decimal(5,4)"  # ratios: as given
    QUANTITY = "decimal(16,4)"  # quantities of a fee line: as given
    NUMBER = "number"  # age (4,1), days (4,2 / 4,0), whole counts (整型): as given


_AMOUNTS = {
    # setlinfo of 2206/2207/2303/2304/2208/2305/5203 (数值型 16,2)
    "medfee_sumamt": "医疗费总额",
    "fulamt_ownpay_amt": "全自费金额",
    "overlmt_selfpay": "超限价自费费用",
    "preselfpay_amt": "先行自付金额",
    "inscp_scp_amt": "符合政策范围金额",
    "act_pay_dedc": "实际支付起付线",
    "hifp_pay": "基本医疗保险统筹基金支出",
    "cvlserv_pay": "公务员医疗补助资金支出",
    "hifes_pay": "企业补充医疗保险基金支出",
    "hifmi_pay": "居民大病保险资金支出",
    "hifob_pay": "职工大额医疗费用补助基金支出",
    "hifdm_pay": "伤残人员医疗保障基金支出",
    "maf_pay": "医疗救助基金支出",
    "oth_pay": "其他支出",
    "othfund_pay": "其他基金支出",
    "fund_pay_sumamt": "基金支付总额",
    "psn_part_amt": "个人负担总金额",
    "psn_pay": "个人支付金额",
    "acct_pay": "个人账户支出",
    "psn_cash_pay": "个人现金支出",
    "cash_payamt": "现金支付金额",
    "hosp_part_amt": "医院负担金额",
    "ownpay_hosp_part": "现金支付中医院负担金额",
    "balc": "余额",
    "acct_mulaid_pay": "个人账户共济支付金额",
    "med_sumfee": "医保认可费用总额",
    # exp_content of 2207 (江苏)
    "cash_selfdspo_pay": "现金自理支付",
    "cash_selfpay_pay": "现金自付支付",
    "acct_selfdspo_pay": "账户自理支付",
    "acct_selfpay_pay": "账户自付支付",
    # setldetail
    "crt_payb_lmt_amt": "本次可支付限额金额",
    "fund_payamt": "基金支付金额",
    # result of 2204/2301, fee lines of 5204/5205
    "det_item_fee_sumamt": "明细项目费用总额",
    "overlmt_amt": "超限价金额",
    # cuminfo of 5206 (累计值, 16,2; a count of stays travels as 2.00 as the table says)
    "cum": "累计值",
}
_PRICES = {"pric": "单价", "pric_uplmt_amt": "定价上限金额", "hilist_pric_uplmt_amt": "医保目录定价上限金额 (1318)"}
_RATIOS = {"selfpay_prop": "自付比例", "pool_prop_selfpay": "基本医疗保险统筹基金支付比例"}
_QUANTITIES = {"cnt": "数量"}
_NUMBERS = {
    "age": "年龄 (4,1)",
    "prd_days": "周期天数 (4,2)",
    "ipt_days": "住院天数 (4,0)",
    "sort": "序号 (1901, 整型)",
    "fixmedins_setl_cnt": "定点医药机构结算笔数",
    "psntime": "人次",
    "geso_val": "孕周数",
    "fetts": "胎次",
    "fetus_cnt": "胎儿数",
}

REGISTRY: dict[str, Kind] = {
    **dict.fromkeys(_AMOUNTS, Kind.AMOUNT),
    **dict.fromkeys(_PRICES, Kind.PRICE),
    **dict.fromkeys(_RATIOS, Kind.RATIO),
    **dict.fromkeys(_QUANTITIES, Kind.QUANTITY),
    **dict.fromkeys(_NUMBERS, Kind.NUMBER),
}
# The specification names its money fields by these endings (…_amt, …_sumamt, …_payamt, …_pay): a field added
# to an answer later is typed even if nobody remembers this registry. Named fields above take precedence
# (pric_uplmt_amt is a price).
_AMOUNT_ENDINGS = ("amt", "_pay")

# What str(Decimal) writes: digits, a point, and an exponent for a normalized value (a price of 100 read back from
# the database is Decimal("1E+2")). No "+" sign, no thousands separators, no NaN or Infinity.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:E[-+]?[0-9]+)?", re.ASCII | re.IGNORECASE)
_CENT = Decimal("0.01")


def kind_of(field: str) -> Kind | None:
    """The registry's kind of a field name, or None for a text field."""
    kind = REGISTRY.get(field)
    if kind is None and field.endswith(_AMOUNT_ENDINGS):
        return Kind.AMOUNT
    return kind


def typed_answer(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an answer envelope with every numeric field a `Decimal` or None; the rest unchanged."""
    out = _walk(answer, "")
    assert isinstance(out, dict)
    return out


def dumps(answer: Mapping[str, Any]) -> str:
    """The answer as JSON text, typed: amounts as numbers with two decimals, unknown values null."""
    return simplejson.dumps(typed_answer(answer), use_decimal=True, ensure_ascii=False, default=str)


def _walk(value: Any, path: str) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            where = f"{path}.{name}" if path else name
            kind = kind_of(name)
            out[name] = _walk(item, where) if kind is None else number(item, kind, where)
        return out
    if isinstance(value, list):
        return [_walk(item, f"{path}[{n}]") for n, item in enumerate(value)]
    return value


def number(value: Any, kind: Kind, where: str = "") -> Decimal | None:
    """One numeric field's value on the wire: None for "" or None (and, logged, for anything not a number)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        parsed = _decimal(value)
        if parsed is not None and parsed.as_tuple().exponent > 0:  # type: ignore[operator]  # finite: an int
            parsed = parsed.quantize(Decimal(1))  # 100, not 1E+2: a HIS reads plain decimals
        exact = parsed
        if parsed is not None and kind is Kind.AMOUNT:
            parsed = parsed.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # beyond the decimal context (1E+999999, 29 digits): no number an answer can carry
        parsed = exact = None
    if parsed is None:
        log.error(
            "a numeric field of a gateway answer holds no number; sent as null",
            extra={"field": where, "kind": kind.value, "value": repr(value)[:60]},
        )
        return None
    if parsed != exact:
        log.error(
            "an amount of a gateway answer has more than two decimals; rounded half up",
            extra={"field": where, "value": str(exact)},
        )
    if parsed.is_zero():
        parsed = abs(parsed)  # a reversal of 0.00 is 0.00, not -0.00
    return parsed


def _decimal(value: Any) -> Decimal | None:
    """The value as a finite Decimal, or None when it is not a number."""
    if isinstance(value, bool):  # a bool is an int to Python, never a number to the interface
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # only from a JSON column read back: its shortest text, never its binary value
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None
