"""What a manual claim's input must look like: every field read, bounded and refused by name, in Chinese and
English (`InputRefused` carries every problem found, the first in its message). Pure: values in, values out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yidi.core.clock import SHANGHAI
from yidi.core.errors import ErrorKind, YidiError
from yidi.core.money import parse_amount
from yidi.parameters.policy import ClaimCare, InputLimits
from yidi.reference.models import SettlementLevel
from yidi.reimbursement.payment_rules import bank_details_fault, normalise_account
from yidi.settlement.invoices import invoice_number

MAX_VISITS, MAX_LINES, MAX_INVOICES, MAX_MATERIALS, MAX_DIAGNOSES = 20, 5000, 50, 30, 20

R_INPUT = ErrorKind(
    "R_INPUT",
    "报销申请输入有误：{field}（{label_zh}）{problem_zh}",
    "claim input refused: {field} ({label_en}) {problem_en}",
    422,
)

LABELS: dict[str, tuple[str, str]] = {
    "request_id": ("请求号", "request id"),
    "insutype": ("险种类型", "insurance type"),
    "payee_name": ("收款人姓名", "payee name"),
    "bank_name": ("开户银行", "bank"),
    "bank_account": ("银行账号", "bank account"),
    "visits": ("就诊记录", "visits"),
    "seq": ("就诊序号", "visit number"),
    "fixmedins_code": ("定点医药机构编号", "institution code"),
    "institution_name": ("机构名称", "institution name"),
    "institution_region": ("机构所在统筹区", "institution's pooling region"),
    "institution_level": ("医保结算等级", "settlement level"),
    "care": ("报销类别", "care type"),
    "med_type": ("医疗类别", "medical type"),
    "begndate": ("开始日期", "start date"),
    "enddate": ("结束日期", "end date"),
    "dise_codg": ("门慢病种编码", "chronic disease code"),
    "diagnoses": ("诊断", "diagnoses"),
    "diag_code": ("诊断代码", "diagnosis code"),
    "diag_name": ("诊断名称", "diagnosis name"),
    "maindiag_flag": ("主诊断标志", "main diagnosis flag"),
    "injury": ("外伤标志", "injury flag"),
    "invoices": ("发票", "invoices"),
    "invono": ("发票号", "invoice number"),
    "invoice_date": ("开票日期", "invoice date"),
    "amount": ("发票金额", "invoice amount"),
    "lines": ("费用明细", "fee lines"),
    "feedetl_sn": ("费用明细流水号", "fee line number"),
    "med_list_codg": ("医疗目录编码", "national list code"),
    "medins_list_codg": ("医药机构目录编码", "institution's list code"),
    "medins_list_name": ("医药机构目录名称", "institution's list name"),
    "fee_ocur_time": ("费用发生时间", "time of the fee"),
    "cnt": ("数量", "count"),
    "pric": ("单价", "unit price"),
    "det_item_fee_sumamt": ("明细项目费用总额", "line amount"),
    "materials": ("材料", "materials"),
    "kind": ("材料类别", "material kind"),
    "file": ("文件", "file"),
    "exclusions": ("剔除明细", "excluded lines"),
    "reason": ("原因", "reason"),
    "materials_requested": ("补充材料", "materials requested"),
}

# The national med_type codes a claim of each care type may carry.
CARE_MED_TYPES: dict[ClaimCare, tuple[str, ...]] = {
    ClaimCare.OUTPATIENT: ("11", "12", "13", "19"),
    ClaimCare.INPATIENT: ("21", "23", "24"),
    ClaimCare.CHRONIC: ("14",),
    ClaimCare.PHARMACY: ("41",),
    ClaimCare.EMERGENCY_OBSERVATION: ("13",),
    ClaimCare.MATERNITY: ("51", "52"),
    ClaimCare.WORK_INJURY: ("11", "12", "13", "14", "19", "21", "23", "24", "41"),
}
INPATIENT_MED_TYPES = {"21", "23", "24", "52"}
_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._\-/]*", re.ASCII)
_DISEASE = re.compile(r"M[0-9]{5}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (a field path; a fee-list file's row number) and why, in both
    languages."""

    field: str
    zh: str
    en: str
    row: int | None = None

    def as_dict(self) -> dict[str, object]:
        label_zh, label_en = label(self.field)
        return {
            "row": self.row,
            "field": self.field,
            "label_zh": label_zh,
            "label_en": label_en,
            "problem_zh": self.zh,
            "problem_en": self.en,
        }


def label(path: str) -> tuple[str, str]:
    last = re.sub(r"\[\d+\]", "", path.rsplit(".", 1)[-1])
    return LABELS.get(last, (last, last))


class InputRefused(YidiError):
    """Refused input: the first problem in the message, every problem (up to 1,000) in `errors`."""

    def __init__(self, problems: Sequence[Problem], kind: ErrorKind = R_INPUT, **details: object) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        label_zh, label_en = label(first.field)
        where = f"第{first.row}行 " if first.row is not None else ""
        where_en = f"row {first.row}, " if first.row is not None else ""
        super().__init__(
            kind,
            field=first.field,
            label_zh=label_zh,
            label_en=label_en,
            problem_zh=where + first.zh,
            problem_en=where_en + first.en,
            count=len(self.problems),
            **details,
        )

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["errors"] = [p.as_dict() for p in self.problems[:1000]]
        return body


def refuse(field_path: str, zh: str, en: str) -> InputRefused:
    return InputRefused([Problem(field_path, zh, en)])


# -- reading values -----------------------------------------------------------------------------------------


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(
    data: Mapping[str, Any], name: str, where: str, *, max_len: int, required: bool = True, min_len: int = 1
) -> str | None:
    value = data.get(name)
    path = f"{where}{name}"
    if blank(value):
        if required:
            raise refuse(path, "必填", "is required")
        return None
    if not isinstance(value, str):
        raise refuse(path, "应为文本", "must be text")
    stripped = value.strip()
    if _CONTROL.search(stripped):
        raise refuse(path, "含有控制字符", "holds a control character")
    if not min_len <= len(stripped) <= max_len:
        raise refuse(path, f"长度须为{min_len}至{max_len}个字符", f"must have {min_len} to {max_len} characters")
    return stripped


def code(data: Mapping[str, Any], name: str, where: str, *, max_len: int, required: bool = True) -> str | None:
    value = text(data, name, where, max_len=max_len, required=required)
    if value is not None and not _CODE.fullmatch(value):
        raise refuse(f"{where}{name}", "只能含字母、数字和 . _ - /", "may hold only letters, digits and . _ - /")
    return value


def day(data: Mapping[str, Any], name: str, where: str) -> dt.date:
    value = data.get(name)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(data, name, where, max_len=10)
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        raise refuse(f"{where}{name}", "日期格式须为yyyy-MM-dd", "must be a date yyyy-MM-dd") from None


def decimal_problem(
    value: Any, places: int, *, maximum: Decimal, positive: bool
) -> tuple[Decimal | None, tuple[str, str] | None]:
    """(the number, None) or (None, (zh, en)): text in the grammar of `core.money.parse_amount` (ASCII digits, an
    optional sign, thousands separators only in groups of three, a decimal point) or an integer, with at most
    `places` decimals, not negative, greater than zero where `positive`, at most `maximum`. Never a float: a
    binary fraction would hide a rounding. "12,50" is not 1250, "1e3" not 1000: a reading that guesses is
    refused."""
    if blank(value):
        return None, ("必填", "is required")
    if isinstance(value, bool) or isinstance(value, float) or not isinstance(value, str | int | Decimal):
        return None, ("应为数字文本，如“12.50”", 'must be a number written as text, such as "12.50"')
    number = value if isinstance(value, Decimal) else _number(value)
    if number is None:
        return None, ("不是数字", "is not a number")
    # By the exponent, before any arithmetic: abs() or quantize() of 1e999999999 would overflow the context.
    if not number.is_finite() or (number and number.adjusted() >= 12) or number.as_tuple().exponent < -12:  # type: ignore[operator]
        return None, ("超出范围", "is out of range")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        return None, (f"小数超过{places}位", f"has more than {places} decimals")
    if number < 0:
        return None, ("不得为负数", "must not be negative")
    if positive and number == 0:
        return None, ("须大于0", "must be greater than 0")
    if number > maximum:
        return None, (f"超过上限{maximum}", f"is above the limit {maximum}")
    return number, None


def _number(value: str | int) -> Decimal | None:
    """The number in `parse_amount`'s grammar, any number of decimals: its whole part is checked by
    `parse_amount` itself (sign, digits, groups of three), the decimals must be ASCII digits."""
    if isinstance(value, int):
        return Decimal(value)
    whole, point, decimals = value.strip().partition(".")
    if len(value) > 40 or (point and not (decimals.isascii() and decimals.isdigit())):
        return None
    try:
        parse_amount(whole)
    except YidiError:
        return None
    return Decimal(whole.replace(",", "") + point + decimals)


def amount(data: Mapping[str, Any], name: str, where: str, maximum: Decimal) -> Decimal:
    number, problem = decimal_problem(data.get(name), 2, maximum=maximum, positive=True)
    if problem:
        raise refuse(f"{where}{name}", *problem)
    assert number is not None
    return number.quantize(Decimal("0.01"))


def flag(data: Mapping[str, Any], name: str, where: str) -> bool:
    value = data.get(name, False)
    if isinstance(value, bool):
        return value
    if value in ("0", "1", 0, 1):
        return str(value) == "1"
    raise refuse(f"{where}{name}", "应为true/false或0/1", "must be true/false or 0/1")


# -- the payee ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payee:
    payee_name: str
    bank_name: str
    bank_account: str  # digits only


def read_payee(data: Mapping[str, Any], default_name: str) -> Payee:
    """The payee as the payment batches will send it to the bank: one validator, `bank_details_fault`, so that
    a claim approved is a claim the batches can pay. The account is kept as digits only."""
    typed = text(data, "payee_name", "", max_len=50, required=False)
    bank = text(data, "bank_name", "", max_len=100, min_len=2) or ""
    account = normalise_account(text(data, "bank_account", "", max_len=40) or "")
    # The person's name from the register, taken when no payee is typed, is not input: a typed one is checked.
    fault = bank_details_fault(typed or "收款人", bank, account)
    if fault is not None:
        en, _, zh = fault.problem.partition(" / ")
        raise refuse(fault.field, zh or en, en)
    return Payee(typed or default_name, bank, account)


# -- a visit ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    diag_code: str
    diag_name: str
    maindiag_flag: bool


@dataclass(frozen=True)
class InvoiceIn:
    invono: str
    invoice_date: dt.date
    amount: Decimal


@dataclass(frozen=True)
class LineIn:
    feedetl_sn: str
    med_list_codg: str
    medins_list_codg: str
    medins_list_name: str | None
    fee_ocur_time: dt.datetime  # aware, Beijing time
    cnt: Decimal
    pric: Decimal
    det_item_fee_sumamt: Decimal


@dataclass(frozen=True)
class VisitIn:
    """A visit as typed in. `fixmedins_code` for a networked institution; otherwise name, region and level."""

    fixmedins_code: str | None
    institution_name: str | None
    institution_region: str | None
    institution_level: SettlementLevel | None
    care: ClaimCare
    med_type: str
    begndate: dt.date
    enddate: dt.date
    dise_codg: str | None
    diagnoses: tuple[Diagnosis, ...]
    injury: bool
    invoices: tuple[InvoiceIn, ...] | None  # None: not given (kept as they are when a visit is replaced)
    lines: tuple[LineIn, ...] | None


def is_stay(care: ClaimCare, med_type: str) -> bool:
    """A stay (住院, 生育住院) or an emergency observation may last several days; any other visit is one day."""
    return care in (ClaimCare.INPATIENT, ClaimCare.EMERGENCY_OBSERVATION) or med_type in INPATIENT_MED_TYPES


def read_visit(data: Mapping[str, Any], where: str, limits: InputLimits, now: dt.datetime) -> VisitIn:
    """A visit's fields, invoices and lines as typed in (JSON); the first problem refuses it (all the lines'
    problems come together)."""
    today = now.astimezone(SHANGHAI).date()
    code_ = code(data, "fixmedins_code", where, max_len=12, required=False)
    name = region = level = None
    if code_ is None:
        name = text(data, "institution_name", where, max_len=100, min_len=2)
        region = text(data, "institution_region", where, max_len=6)
        if region is None or not re.fullmatch(r"[0-9]{6}", region):
            raise refuse(f"{where}institution_region", "须为6位统筹区代码", "must be a 6-digit pooling region code")
        level_text = text(data, "institution_level", where, max_len=8)
        try:
            level = SettlementLevel(level_text or "")
        except ValueError:
            allowed = ", ".join(v.value for v in SettlementLevel)
            raise refuse(f"{where}institution_level", f"须为{allowed}之一", f"must be one of {allowed}") from None
    elif not re.fullmatch(r"[HP][0-9]{11}", code_):
        raise refuse(f"{where}fixmedins_code", "须为H或P加11位数字", "must be H or P and 11 digits")
    care_text = text(data, "care", where, max_len=24)
    try:
        care = ClaimCare(care_text or "")
    except ValueError:
        allowed = ", ".join(c.value for c in ClaimCare)
        raise refuse(f"{where}care", f"须为{allowed}之一", f"must be one of {allowed}") from None
    med_type = text(data, "med_type", where, max_len=6) or ""
    if med_type not in CARE_MED_TYPES[care]:
        allowed = ", ".join(CARE_MED_TYPES[care])
        raise refuse(
            f"{where}med_type", f"与报销类别{care.value}不符，应为{allowed}", f"must be {allowed} for care {care}"
        )
    begndate, enddate = day(data, "begndate", where), day(data, "enddate", where)
    if enddate < begndate:
        raise refuse(f"{where}enddate", f"早于开始日期{begndate}", f"is before begndate {begndate}")
    if enddate > today:
        raise refuse(f"{where}enddate", "晚于今天", "is in the future")
    if enddate != begndate and not is_stay(care, med_type):
        raise refuse(f"{where}enddate", "门诊就诊只有一天，须与开始日期相同", "must equal begndate: a visit is one day")
    if (enddate - begndate).days > 366 * 2:
        raise refuse(
            f"{where}enddate", "一次住院不超过两年，请分次申请", "a stay of more than two years: claim in parts"
        )
    disease = text(data, "dise_codg", where, max_len=6, required=care is ClaimCare.CHRONIC)
    if disease is not None and not _DISEASE.fullmatch(disease):
        raise refuse(f"{where}dise_codg", "须为M加5位数字", "must be M and 5 digits")
    diagnoses = read_diagnoses(data.get("diagnoses"), f"{where}diagnoses")
    invoices = None
    if data.get("invoices") is not None:
        invoices = read_invoices(data["invoices"], f"{where}invoices", limits, begndate, today)
    return VisitIn(
        code_,
        name,
        region,
        level,
        care,
        med_type,
        begndate,
        enddate,
        disease,
        diagnoses,
        flag(data, "injury", where),
        invoices,
        None,  # read by feelist.read_json_lines, which knows the visit's days
    )


def read_diagnoses(value: Any, where: str) -> tuple[Diagnosis, ...]:
    if not isinstance(value, list) or not value:
        raise refuse(where, "须至少填写一项诊断", "needs at least one diagnosis")
    if len(value) > MAX_DIAGNOSES:
        raise refuse(where, f"最多{MAX_DIAGNOSES}项", f"at most {MAX_DIAGNOSES}")
    out = []
    for n, item in enumerate(value, 1):
        at = f"{where}[{n}]."
        if not isinstance(item, Mapping):
            raise refuse(f"{where}[{n}]", "应为对象", "must be an object")
        code_ = code(item, "diag_code", at, max_len=20)
        name = text(item, "diag_name", at, max_len=300)
        assert code_ is not None and name is not None
        out.append(Diagnosis(code_, name, flag(item, "maindiag_flag", at)))
    if sum(d.maindiag_flag for d in out) != 1:
        raise refuse(f"{where}[1].maindiag_flag", "须有且仅有一项主诊断", "exactly one diagnosis must be the main one")
    return tuple(out)


def read_invoices(
    value: Any, where: str, limits: InputLimits, begndate: dt.date, today: dt.date
) -> tuple[InvoiceIn, ...]:
    if not isinstance(value, list):
        raise refuse(where, "应为数组", "must be a list")
    if len(value) > MAX_INVOICES:
        raise refuse(where, f"每份申请最多{MAX_INVOICES}张发票", f"at most {MAX_INVOICES} invoices in a claim")
    out: list[InvoiceIn] = []
    for n, item in enumerate(value, 1):
        at = f"{where}[{n}]."
        if not isinstance(item, Mapping):
            raise refuse(f"{where}[{n}]", "应为对象", "must be an object")
        invono = code(item, "invono", at, max_len=40)
        assert invono is not None
        if any(invoice_number(i.invono) == invoice_number(invono) for i in out):  # as the register keys it
            raise refuse(f"{at}invono", f"发票{invono}重复", f"invoice {invono} appears twice")
        issued = day(item, "invoice_date", at)
        if issued > today:
            raise refuse(f"{at}invoice_date", "晚于今天", "is in the future")
        if issued < begndate:
            raise refuse(f"{at}invoice_date", f"早于就诊开始日期{begndate}", f"is before the visit began ({begndate})")
        out.append(InvoiceIn(invono, issued, amount(item, "amount", at, limits.max_visit_amount)))
    return tuple(out)


def check_counts(visits: int, invoices: int, materials: int) -> None:
    if visits > MAX_VISITS:
        raise refuse("visits", f"每份申请最多{MAX_VISITS}次就诊", f"at most {MAX_VISITS} visits in a claim")
    if invoices > MAX_INVOICES:
        raise refuse("invoices", f"每份申请最多{MAX_INVOICES}张发票", f"at most {MAX_INVOICES} invoices in a claim")
    if materials > MAX_MATERIALS:
        raise refuse("materials", f"每份申请最多{MAX_MATERIALS}份材料", f"at most {MAX_MATERIALS} materials in a claim")


def read_reason(value: Any, name: str = "reason", max_len: int = 300) -> str:
    reason = text({name: value}, name, "", max_len=max_len)
    assert reason is not None
    return reason
