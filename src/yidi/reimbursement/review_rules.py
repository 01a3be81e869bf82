"""Pure rules of a review of a direct settlement (复核) and its difference (轧差): values in, values out.

A reviewer recomputes a settlement with corrected facts: the filing category that should have applied, a 门慢
qualification that existed, a line the catalogue classed wrongly, the institution's settlement level, the person
type (retired or not: a retirement registered late at the insured place leaves settlements made meanwhile on the
in-service ratios). Here:
reading and checking those corrections (each refusal names its field), the catalogue as corrected, the
difference and its outcome, what the person's shares become, and the change to the accumulators.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from yidi.catalog.rules import CatalogEntry, ChargeLevel, LineSplit, item_kind
from yidi.core.errors import ErrorKind, YidiError
from yidi.parameters.policy import FilingCategory
from yidi.reference.models import SettlementLevel
from yidi.reimbursement.payment_rules import bank_details_fault, mask_account, normalise_account
from yidi.settlement import engine

ZERO = Decimal("0.00")


def _kind(code: str, zh: str, en: str, status: int = 422) -> ErrorKind:
    return ErrorKind(code, zh, en, status)


RV_INPUT = _kind("RV_INPUT", "复核输入有误：{field} {problem}", "review input refused: {field} {problem}")
RV_STATE = _kind(
    "RV_STATE", "复核{review_id}当前为{status}，不能{action}", "review {review_id} is {status}; cannot {action}", 409
)
RV_OPEN = _kind(
    "RV_OPEN",
    "结算{setl_id}已有未办结的复核申请{other}，请待其办结",
    "settlement {setl_id} already has an open review {other}; wait for its decision",
    409,
)
RV_UNSETTLED = _kind(
    "RV_UNSETTLED",
    "结算{setl_id}的复核{other}已核定但尚未支付或追回，请待其办结后再申请",
    "settlement {setl_id} has a decided review {other} not yet paid or recovered; wait until it is settled",
    409,
)
RV_PENDING = _kind(
    "RV_PENDING",
    "复核{review_id}的差额已在支付批次{batch_id}中等待银行结果，暂不能变更收款账户",
    "the difference of review {review_id} is in payment batch {batch_id} awaiting the bank; the payee cannot change",
    409,
)
RV_SETTLEMENT = _kind(
    "RV_SETTLEMENT", "结算{setl_id}不能复核：{reason}", "settlement {setl_id} cannot be reviewed: {reason}", 409
)
RV_MISMATCH = _kind(
    "RV_MISMATCH",
    "重新计算与结算不符：{field} 原为{given}，重算为{expected}",
    "the recomputation does not match the settlement: {field} was {given}, recomputed {expected}",
)


class Status(StrEnum):
    REQUESTED = "requested"
    DECIDED = "decided"  # a difference to pay or a recovery to make
    PAID = "paid"  # the difference reached the person (set by the payment batches)
    RECOVERED = "recovered"  # the overpayment came back
    CLOSED = "closed"  # decided, nothing to pay or recover
    REFUSED = "refused"


# Decided reviews: their recomputation stands, so the next review of the settlement starts from the last of them.
STANDING = (Status.DECIDED.value, Status.PAID.value, Status.RECOVERED.value, Status.CLOSED.value)


class Outcome(StrEnum):
    DIFFERENCE = "difference"  # underpaid: the difference is paid to the person (轧差)
    RECOVERY = "recovery"  # overpaid: recovered from the person
    NO_CHANGE = "no_change"


def outcome_of(difference: Decimal) -> Outcome:
    if difference > 0:
        return Outcome.DIFFERENCE
    return Outcome.RECOVERY if difference < 0 else Outcome.NO_CHANGE


# -- corrections -------------------------------------------------------------------------------------------

KEYS = ("category", "qualification", "settlement_level", "retiree", "line_classes")
MAX_LINE_CLASSES = 200
_DISEASE_RE = re.compile(r"M[0-9]{5}", re.ASCII)


@dataclass(frozen=True)
class LineClass:
    """A line's corrected class (chrgitm_lv) and/or first self-pay share; None keeps the catalogue's."""

    chrgitm_lv: ChargeLevel | None = None
    selfpay_prop: Decimal | None = None


@dataclass(frozen=True)
class Corrections:
    category: FilingCategory | None = None  # the filing category that should have applied
    qualification: str | None = None  # a 门慢 disease the person was qualified for then
    settlement_level: SettlementLevel | None = None  # the institution's 医保结算等级 when wrongly recorded
    line_classes: Mapping[str, LineClass] = field(default_factory=dict)  # med_list_codg → corrected class
    retiree: bool | None = None  # the person type (退休 or 在职) that should have applied

    def over(self, earlier: Corrections) -> Corrections:
        """These corrections on top of an earlier review's: a later fact replaces the earlier one of its kind (a
        line's class replaces that line's); to take an earlier correction back, give the original value."""
        return Corrections(
            category=self.category or earlier.category,
            qualification=self.qualification or earlier.qualification,
            settlement_level=self.settlement_level or earlier.settlement_level,
            line_classes={**earlier.line_classes, **self.line_classes},
            retiree=self.retiree if self.retiree is not None else earlier.retiree,
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.category:
            out["category"] = self.category.value
        if self.qualification:
            out["qualification"] = self.qualification
        if self.settlement_level:
            out["settlement_level"] = self.settlement_level.value
        if self.retiree is not None:
            out["retiree"] = self.retiree
        if self.line_classes:
            out["line_classes"] = {
                code: {
                    **({"chrgitm_lv": c.chrgitm_lv.value} if c.chrgitm_lv else {}),
                    **({"selfpay_prop": str(c.selfpay_prop)} if c.selfpay_prop is not None else {}),
                }
                for code, c in sorted(self.line_classes.items())
            }
        return out


@dataclass(frozen=True)
class CorrectionFacts:
    """What a correction is checked against: the settlement's own lines and care, the known 门慢 diseases."""

    line_codes: frozenset[str]
    chronic_diseases: frozenset[str]
    local: bool  # local care: no cross-region filing category applies
    employee: bool = True  # employee insurance: the only one with a retiree person type


def _refuse(where: str, problem: str) -> YidiError:
    return YidiError(RV_INPUT, field=where, problem=problem)


def _shown(value: Any) -> str:
    """A value as a refusal quotes it: short, whatever was sent."""
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _share(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _refuse(where, 'give the share as text, e.g. "0.10" / 比例请以文本给出，如"0.10"')
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        raise _refuse(where, f"'{_shown(value)}' is not a number / 不是数值") from None
    if not share.is_finite() or not 0 <= share <= 1:
        raise _refuse(where, f"{_shown(value)} is outside 0–1 / 须在0至1之间")
    if share != share.quantize(Decimal("0.0001")):
        raise _refuse(where, "more than 4 decimals / 小数超过4位")
    return share


def _line_class(code: Any, value: Any, facts: CorrectionFacts) -> tuple[str, LineClass]:
    where = f"corrections.line_classes.{str(code)[:50]}"
    if not isinstance(code, str) or item_kind(code) is None:
        raise _refuse(where, "is not a national catalogue code (unknown code) / 不是国家医保目录编码")
    if code not in facts.line_codes:
        raise _refuse(where, "is not on the settlement's lines / 不在本次结算的费用明细中")
    if not isinstance(value, Mapping) or not value:
        raise _refuse(where, "give chrgitm_lv and/or selfpay_prop / 须给出收费项目等级或自付比例")
    unknown = sorted(set(value) - {"chrgitm_lv", "selfpay_prop"})
    if unknown:
        raise _refuse(f"{where}.{unknown[0]}", "is not a line correction / 不是可更正的项目")
    level: ChargeLevel | None = None
    if "chrgitm_lv" in value:
        try:
            level = ChargeLevel(value["chrgitm_lv"])
        except ValueError:
            raise _refuse(
                f"{where}.chrgitm_lv", f"'{_shown(value['chrgitm_lv'])}' is not 01 甲类, 02 乙类 or 03 丙类"
            ) from None
    share = _share(value["selfpay_prop"], f"{where}.selfpay_prop") if "selfpay_prop" in value else None
    _check_share(level, share, where)
    return code, LineClass(level, share)


def _check_share(level: ChargeLevel | None, share: Decimal | None, where: str) -> None:
    if level is ChargeLevel.A and share not in (None, Decimal(0)):
        raise _refuse(f"{where}.selfpay_prop", "甲类 items have no first self-pay share / 甲类无先行自付")
    if level is ChargeLevel.C and share not in (None, Decimal(1)):
        raise _refuse(f"{where}.selfpay_prop", "丙类 items are wholly self-paid / 丙类全部自付")


def parse_corrections(raw: Any, facts: CorrectionFacts) -> Corrections:
    """The corrections a reviewer gives (JSON object), each checked: a refusal names the field."""
    if raw is None:
        return Corrections()
    if not isinstance(raw, Mapping):
        raise _refuse("corrections", "must be an object / 须为对象")
    unknown = sorted(str(k) for k in set(raw) - set(KEYS))
    if unknown:
        raise _refuse(
            f"corrections.{unknown[0][:40]}", f"is not a correction; use {', '.join(KEYS)} / 不是可更正的事实"
        )
    category = None
    if raw.get("category") is not None:
        try:
            category = FilingCategory(raw["category"])
        except ValueError:
            names = ", ".join(c.value for c in FilingCategory)
            raise _refuse(
                "corrections.category", f"'{_shown(raw['category'])}' is not a filing category ({names})"
            ) from None
        if facts.local:
            raise _refuse("corrections.category", "local care has no filing category / 本地就医不适用备案类别")
    qualification = raw.get("qualification")
    if qualification is not None:
        if not isinstance(qualification, str) or not _DISEASE_RE.fullmatch(qualification):
            raise _refuse("corrections.qualification", "is not a 门慢 disease code M + 5 digits / 不是门慢病种编码")
        if qualification not in facts.chronic_diseases:
            raise _refuse("corrections.qualification", f"unknown disease code {qualification} / 未知病种编码")
    level = None
    if raw.get("settlement_level") is not None:
        try:
            level = SettlementLevel(raw["settlement_level"])
        except ValueError:
            names = ", ".join(s.value for s in SettlementLevel)
            raise _refuse(
                "corrections.settlement_level",
                f"'{_shown(raw['settlement_level'])}' is not a settlement level ({names})",
            ) from None
    retiree = raw.get("retiree")
    if retiree is not None:
        if not isinstance(retiree, bool):
            raise _refuse("corrections.retiree", "must be true or false / 须为true或false")
        if not facts.employee:
            raise _refuse("corrections.retiree", "only employee insurance has retirees / 仅职工医保区分退休人员")
    classes = raw.get("line_classes") or {}
    if not isinstance(classes, Mapping):
        raise _refuse("corrections.line_classes", "must be an object of med_list_codg / 须为以医保编码为键的对象")
    if len(classes) > MAX_LINE_CLASSES:
        raise _refuse("corrections.line_classes", f"more than {MAX_LINE_CLASSES} lines / 超过{MAX_LINE_CLASSES}项")
    line_classes = dict(_line_class(code, value, facts) for code, value in classes.items())
    return Corrections(category, qualification, level, line_classes, retiree)


def corrected_catalogue(
    catalogue: Mapping[str, CatalogEntry], classes: Mapping[str, LineClass], first_day: dt.date
) -> dict[str, CatalogEntry]:
    """The treatment place's entries with the lines' classes corrected. A code the catalogue does not hold gets an
    entry of its own (no price cap) and needs its class; a 乙类 line needs its share unless it was 乙类 already."""
    out = dict(catalogue)
    for code, correction in classes.items():
        where = f"corrections.line_classes.{code}"
        base = catalogue.get(code)
        level = correction.chrgitm_lv or (base.chrgitm_lv if base else None)
        if level is None:
            raise _refuse(
                f"{where}.chrgitm_lv",
                "the code is not in the treatment place's catalogue: give its class / 该编码不在就医地目录，须给出等级",
            )
        _check_share(level, correction.selfpay_prop, where)
        if level is ChargeLevel.A:
            share = Decimal(0)
        elif level is ChargeLevel.C:
            share = Decimal(1)
        elif correction.selfpay_prop is not None:
            share = correction.selfpay_prop
        elif base is not None and base.chrgitm_lv is ChargeLevel.B:
            share = base.selfpay_prop
        else:
            raise _refuse(
                f"{where}.selfpay_prop", "a 乙类 line needs its first self-pay share / 乙类须给出先行自付比例"
            )
        if base is not None:
            out[code] = dataclasses.replace(base, chrgitm_lv=level, selfpay_prop=share)
        else:
            kind = item_kind(code)
            assert kind is not None  # parse_corrections took only national codes
            out[code] = CatalogEntry(
                code, code, kind, level, "14", share, None, None, None, first_day, None, "review correction / 复核更正"
            )
    return out


# -- the difference, the shares and the accumulators --------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """The amounts a difference is taken between (the settlement's, or the last decided review's)."""

    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    psn_part_amt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal

    @staticmethod
    def of(split: Mapping[str, Any]) -> Totals:
        keys = ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay")
        return Totals(*(Decimal(str(split[k])) for k in keys))


def difference_of(before: Totals, medfee_sumamt: Decimal, fund_pay_sumamt: Decimal, psn_part_amt: Decimal) -> Decimal:
    """What the funds owe the person (> 0) or the person owes back (< 0): new fund share − the fund share paid.
    The bill is the settlement's own, so the person's part moves by exactly the opposite amount."""
    if medfee_sumamt != before.medfee_sumamt:
        raise YidiError(RV_MISMATCH, field="medfee_sumamt", given=before.medfee_sumamt, expected=medfee_sumamt)
    difference = fund_pay_sumamt - before.fund_pay_sumamt
    if psn_part_amt - before.psn_part_amt != -difference:
        raise YidiError(RV_MISMATCH, field="psn_part_amt", given=before.psn_part_amt, expected=psn_part_amt)
    return difference


@dataclass(frozen=True)
class Shares:
    """How a difference reaches the person, and the person's shares it leaves (acct_pay + psn_cash_pay is the new
    personal part)."""

    acct_pay: Decimal
    psn_cash_pay: Decimal
    account_credit: Decimal  # credited back to the personal account (≥ 0)
    cash: Decimal  # paid to the person by bank (> 0) or recovered from them in cash (< 0)


def personal_shares(difference: Decimal, before: Totals) -> Shares:
    """A difference in the person's favour first refunds the cash the person paid (the cash share as it stands:
    the settlement's, less what earlier reviews refunded), by bank; the rest was paid from the personal account and
    is credited back to it. An overpayment is recovered in cash (the account is not debited after the fact), so the
    cash share grows by it. Money is neither made nor lost: the shares add up to the new personal part."""
    if difference > 0:
        refund = min(difference, max(ZERO, before.psn_cash_pay))
        credit = difference - refund
        if credit > before.acct_pay:  # the person's part never goes below zero (difference_of held it)
            raise YidiError(RV_MISMATCH, field="acct_pay", given=before.acct_pay, expected=credit)
        return Shares(before.acct_pay - credit, before.psn_cash_pay - refund, credit, refund)
    return Shares(before.acct_pay, before.psn_cash_pay - difference, ZERO, difference)


def increments_delta(new: Mapping[str, Decimal], old: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Per accumulator key, what the recomputation counts for less what the settlement counted for (zeros
    left out): added to the year's totals, they become what they would be had it been computed right."""
    keys = sorted(set(new) | set(old))
    delta = {k: new.get(k, Decimal(0)) - old.get(k, Decimal(0)) for k in keys}
    return {k: v for k, v in delta.items() if v}


# -- what people type --------------------------------------------------------------------------------------

_SERIAL_RE = re.compile(r"[0-9A-Za-z_-]{1,60}", re.ASCII)


def checked_text(value: Any, where: str, max_len: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _refuse(where, "is required / 必填")
        return None
    if not isinstance(value, str):
        raise _refuse(where, "must be text / 须为文本")
    text = value.strip()
    if len(text) > max_len:
        raise _refuse(where, f"longer than {max_len} characters / 超过{max_len}个字符")
    if any(ord(ch) < 32 for ch in text):
        raise _refuse(where, "contains control characters / 含控制字符")
    return text


def checked_serial(value: Any, where: str = "serial") -> str:
    text = checked_text(value, where, 60)
    assert text is not None
    if not _SERIAL_RE.fullmatch(text):
        raise _refuse(where, "letters, digits, - and _ only / 仅限字母、数字、-和_")
    return text


@dataclass(frozen=True)
class Payee:
    """Where a difference is paid: the person's own bank account unless an agent's is given."""

    payee_name: str
    bank_name: str
    bank_account: str  # digits only (`payment_rules.normalise_account`)

    def masked(self) -> dict[str, str]:
        """As audit rows and logs carry it: the account masked."""
        return {
            "payee_name": self.payee_name,
            "bank_name": self.bank_name,
            "bank_account": mask_account(self.bank_account),
        }


def checked_payee(name: Any, bank: Any, account: Any) -> Payee | None:
    """All three or none (a review may be asked for before anyone knows money is owed). Checked by the very rule a
    payment batch applies (`payment_rules.bank_details_fault`): what is accepted here can go to the bank."""
    given = [v for v in (name, bank, account) if v not in (None, "")]
    if not given:
        return None
    for where, value in (("payee_name", name), ("bank_name", bank), ("bank_account", account)):
        if value is not None and not isinstance(value, str):
            raise _refuse(where, "must be text / 须为文本")
    fault = bank_details_fault(name, bank, account)
    if fault is not None:
        raise _refuse(fault.field, fault.problem)
    assert isinstance(name, str) and isinstance(bank, str) and isinstance(account, str)  # checked above
    return Payee(name.strip(), bank.strip(), normalise_account(account))


# -- the recomputed split as kept ------------------------------------------------------------------------


def split_json(
    result: engine.Result,
    money_fields: tuple[str, ...],
    acct: Decimal,
    cash: Decimal,
    account_detail: list[dict[str, Any]],
    originals: list[tuple[engine.FeeLine, LineSplit]],
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The recomputation in the one shape kept (`SettlementReview.recomputed`, `ClaimVisit.split`):
    each setlinfo amount as text, pool_prop_selfpay, setldetail; and, for the person's view, each line's class
    and split before (`originals`: the catalogue's own classes) and after the corrections. The account's
    setldetail row (`account_detail`, the settlement's) carries what the account now pays (`personal_shares`);
    `notes` are the review's own (how it read the facts), after the engine's."""
    amounts = {k: str(getattr(result, k)) for k in money_fields} | {"acct_pay": str(acct), "psn_cash_pay": str(cash)}
    detail = [
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
    if acct:
        detail += [{**d, "inscp_scp_amt": str(result.inscp_scp_amt), "fund_payamt": str(acct)} for d in account_detail]
    return {
        **amounts,
        "pool_prop_selfpay": str(result.pool_prop_selfpay),
        "setldetail": detail,
        "lines": [
            {
                "feedetl_sn": line.feedetl_sn,
                "med_list_codg": line.med_list_codg,
                "det_item_fee_sumamt": str(line.det_item_fee_sumamt),
                "original": _line_json(was),
                "recomputed": _line_json(now),
            }
            for (line, was), (_, now) in zip(originals, result.lines, strict=True)
        ],
        "notes": [*result.notes, *notes],
    }


def _line_json(split: LineSplit) -> dict[str, Any]:
    return {
        "chrgitm_lv": split.chrgitm_lv,
        "selfpay_prop": str(split.selfpay_prop),
        "fulamt_ownpay_amt": str(split.fulamt_ownpay_amt),
        "overlmt_amt": str(split.overlmt_amt),
        "preselfpay_amt": str(split.preselfpay_amt),
        "inscp_scp_amt": str(split.inscp_scp_amt),
    }
