"""Pure rules of paying persons (no database, clock or HTTP): which bank details may go into a transfer file (one
check wherever bank details are given: `bank_details_fault`), masking, and whether each result a bank sends back may
be recorded (paid, failed, or returned after paid: 退票). The files themselves are `bank_files`.

A batch pays approved claims (`payable`) and review differences (`difference`). The files carry the account in
full (they go to the bank); everything else that leaves the platform (audit rows, logs, answers to anyone but the
person and their agency) carries `mask_account`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from yidi.core.errors import ErrorKind, YidiError
from yidi.core.money import from_fen, parse_amount, to_fen


class SourceKind(StrEnum):
    CLAIM = "claim"  # a manual reimbursement claim: its payable
    REVIEW = "review"  # a review of a settlement decided with a difference in the person's favour


class ItemResult(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"  # the transfer did not go through
    RETURNED = "returned"  # 退票: the bank paid, then the money came back (account frozen, closed, …)


class BatchStatus(StrEnum):
    EXPORTED = "exported"  # the transfer file exists; results are awaited
    CLOSED = "closed"  # every item has a result (a transfer returned later is recorded on its item; the batch
    # stays closed and its total stays what was sent: the claim or review it paid is taken by the next batch)


# Technical bounds, not policy: a bank's bulk transfer file takes a few thousand lines; what is left waits for the
# next batch. A results submission names each item at most once or twice.
MAX_ITEMS = 5000
MAX_RESULT_ROWS = 10_000
SERIAL_MAX, REASON_MAX, CELL_MAX = 60, 300, 300
NOTHING_TO_TRANSFER = "无需转账：已由直接结算全部支付 / nothing to transfer: all paid by direct settlement"

P_EMPTY = ErrorKind(
    "P_EMPTY", "区域{region}没有可支付的单据：{reason}", "nothing to pay in region {region}: {reason}", 409
)
P_REQUEST = ErrorKind(
    "P_REQUEST",
    "请求号“{request_id}”已用于区域{region}的支付批次{batch_id}",
    "request id '{request_id}' was already used for payment batch {batch_id} of region {region}",
    409,
)
P_EXPORT = ErrorKind(
    "P_EXPORT",
    "支付批次{batch_id}没有待银行结果的转账，不再导出：{reason}",
    "payment batch {batch_id} has no transfer awaiting the bank; no file is made: {reason}",
    409,
)
P_RESULTS = ErrorKind(
    "P_RESULTS",
    "支付结果有{count}行有误，未记录任何结果（见rows）",
    "{count} result row(s) refused; nothing was recorded (see rows)",
    422,
)
P_RESULTS_FILE = ErrorKind(
    "P_RESULTS_FILE", "支付结果文件无法读取：{reason}", "the payment results file cannot be read: {reason}", 422
)


# -- bank details -----------------------------------------------------------------------------------------------

_ACCOUNT_RE = re.compile(r"[0-9]{8,32}", re.ASCII)
_SEPARATORS_RE = re.compile(r"[\s-]+")
# A cell starting with one of these is a formula to a spreadsheet: a payee name must never run as one.
_FORMULA_START = ("=", "+", "-", "@")


def normalise_account(account: str) -> str:
    """The account as the bank wants it: digits only (spaces and hyphens typed for readability dropped)."""
    return _SEPARATORS_RE.sub("", account)


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


# The columns that keep them (claim, settlement_review, payment_item): longer would not be stored whole.
PAYEE_NAME_MAX, BANK_NAME_MAX, BANK_ACCOUNT_MAX = 50, 100, 40


@dataclass(frozen=True)
class BankDetailsFault:
    """Why bank details cannot go into a transfer file: the field (payee_name, bank_name or bank_account, as the
    APIs name them) and the problem ("english / 中文")."""

    field: str
    problem: str


def bank_details_fault(payee: str | None, bank: str | None, account: str | None) -> BankDetailsFault | None:
    """The one check of where money is sent to, wherever the details are given (a claim, a review's request,
    decision or change of payee) and again when a batch takes them: None when they can go to the bank."""
    named = (
        ("payee_name", "payee", "收款人", payee, PAYEE_NAME_MAX),
        ("bank_name", "bank", "开户银行", bank, BANK_NAME_MAX),
        ("bank_account", "account", "账号", account, BANK_ACCOUNT_MAX),
    )
    for field, en, zh, value, longest in named:
        if value is None or not value.strip():
            return BankDetailsFault(field, f"{en} missing / 缺少{zh}")
        if _has_control(value):
            return BankDetailsFault(field, f"{en} holds a control character / {zh}含有控制字符")
        if len(value.strip()) > longest:
            return BankDetailsFault(field, f"{en} longer than {longest} characters / {zh}超过{longest}个字符")
    assert payee is not None and bank is not None and account is not None  # checked above
    for field, value in (("payee_name", payee), ("bank_name", bank)):
        if value.strip().startswith(_FORMULA_START):
            return BankDetailsFault(field, "payee or bank starts with = + - @ / 收款人或开户银行以公式符号开头")
    if not _ACCOUNT_RE.fullmatch(normalise_account(account)):
        return BankDetailsFault("bank_account", "account must be 8 to 32 digits / 账号应为8至32位数字")
    return None


def bank_details_problem(payee: str | None, bank: str | None, account: str | None) -> str | None:
    """Why these details cannot go into a transfer file (None: they can): `bank_details_fault`'s problem."""
    fault = bank_details_fault(payee, bank, account)
    return None if fault is None else fault.problem


def mask_account(account: str) -> str:
    """The first and last four digits, the rest hidden: enough to recognise one's own account."""
    digits = normalise_account(account)
    if len(digits) <= 8:
        return "*" * max(len(digits) - 4, 0) + digits[-4:]
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


# A run of digits, maybe in groups of three or more split by a space or a hyphen as accounts are typed (a date
# such as 2026-06-01 is not one run: its groups are shorter).
_DIGIT_RUN_RE = re.compile(r"[0-9]{3,}(?:[ -][0-9]{3,})*", re.ASCII)


def mask_digit_runs(text: str) -> str:
    """Every run of eight or more digits masked as an account is (`mask_account`): a bank's reason that quotes the
    account, kept for the person to read and written to audit rows, does not carry it in full."""

    def masked(match: re.Match[str]) -> str:
        run = match.group()
        return mask_account(run) if len(normalise_account(run)) >= 8 else run

    return _DIGIT_RUN_RE.sub(masked, text)


def amount_text(amount: Decimal) -> str:
    """Exactly two decimals, no separators ("1234.50"); refuses anything that is not whole fen."""
    return format(from_fen(to_fen(amount)), "f")


# -- results sent back by the bank ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    """One result as given (a file line or a JSON element), all text, nothing trusted yet. `row` is the file's
    line number or the element's position from 1; `batch_id` None when the input does not carry one."""

    row: int
    batch_id: str | None = None
    item_id: str | None = None
    source_id: str | None = None
    result: str | None = None
    bank_serial: str | None = None
    paid_on: str | None = None
    reason: str | None = None
    amount: str | None = None


@dataclass(frozen=True)
class ItemFacts:
    """What checking a result needs to know of an item and of the claim or review it pays."""

    item_id: int
    source_kind: SourceKind
    source_id: str
    amount: Decimal
    result: ItemResult
    bank_serial: str | None
    paid_on: dt.date | None
    source_status: str
    source_ready: bool  # the claim is approved / the review decided: a result may still be recorded
    source_paid: bool = False  # the claim / review is paid: a paid transfer may still come back (退票)


@dataclass(frozen=True)
class Decision:
    row: int
    item_id: int
    result: ItemResult
    bank_serial: str | None
    paid_on: dt.date | None
    reason: str | None
    unchanged: bool  # the same result again (recorded before, or earlier in the same submission)


@dataclass(frozen=True)
class RowProblem:
    row: int
    item: str | None
    field: str
    problem: str  # "english / 中文"

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "item": self.item, "field": self.field, "problem": self.problem}


class ResultsRefused(YidiError):
    """Results refused as a whole: nothing recorded; `rows` says what is wrong with each bad row."""

    def __init__(self, rows: list[RowProblem]) -> None:
        super().__init__(P_RESULTS, count=len({p.row for p in rows}))
        self.rows = rows

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "rows": [p.as_dict() for p in self.rows]}


PAID_WORDS = {"paid", "成功", "支付成功", "已支付"}
FAILED_WORDS = {"failed", "失败", "支付失败"}
RETURNED_WORDS = {"returned", "退票", "已退票", "退汇"}
# "Sent back": a transfer that did not go through (failed), or, of one recorded paid, the money come back (returned).
SENT_BACK_WORDS = {"退回", "已退回"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d")


def parse_result_word(text: str, recorded: ItemResult | None = None) -> ItemResult | None:
    """The result a word names; "退回" (sent back) names a failure, or a return of an item `recorded` paid."""
    word = text.strip().lower()
    if word in SENT_BACK_WORDS:
        return ItemResult.RETURNED if recorded in (ItemResult.PAID, ItemResult.RETURNED) else ItemResult.FAILED
    for result, words in (
        (ItemResult.PAID, PAID_WORDS),
        (ItemResult.FAILED, FAILED_WORDS),
        (ItemResult.RETURNED, RETURNED_WORDS),
    ):
        if word in words:
            return result
    return None


def parse_bank_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


class _RowCheck:
    """Collects one row's problems; the first problem of a field is enough."""

    def __init__(self, row: ResultRow, item: str | None) -> None:
        self.row, self.item, self.problems = row.row, item, list[RowProblem]()

    def refuse(self, field: str, problem: str) -> None:
        self.problems.append(RowProblem(self.row, self.item, field, problem))


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def decide_results(
    rows: Sequence[ResultRow], batch_id: str, items: Sequence[ItemFacts], opened_on: dt.date, today: dt.date
) -> tuple[list[Decision], list[RowProblem]]:
    """Each row's decision, or every problem of every row. A paid result needs the bank's serial and value date
    (between the batch's day and today), a failed one a reason; a given amount must be the item's to the fen.
    An item already decided takes the same result again (unchanged) but never a different one, except that a paid
    item may be returned (退票, with the bank's reason) while its claim or review is still paid."""
    by_id = {i.item_id: i for i in items}
    by_source = {i.source_id: i for i in items}
    decisions: list[Decision] = []
    problems: list[RowProblem] = []
    seen: dict[int, Decision] = {}
    for row in rows:
        check = _RowCheck(row, row.item_id or row.source_id)
        too_long = [name for name, value in vars(row).items() if isinstance(value, str) and len(value) > CELL_MAX]
        if too_long:
            check.refuse(too_long[0], f"longer than {CELL_MAX} characters / 超长")
            problems += check.problems
            continue
        if row.batch_id is not None and row.batch_id.strip() != batch_id:
            given = row.batch_id.strip() or "(blank)"
            check.refuse("batch", f"batch {given} is not this batch {batch_id} / 批次号与本批次不符")
        item = _identify(row, by_id, by_source, check)
        result = parse_result_word(row.result or "", item.result if item is not None else None)
        if result is None:
            check.refuse("result", "must be paid (成功), failed (失败) or returned (退票) / 结果应为成功、失败或退票")
        if item is not None and not _blank(row.amount):
            assert row.amount is not None
            try:
                given_amount = parse_amount(row.amount)
            except YidiError as exc:
                check.refuse("amount", f"{exc.message_en} / {exc.message_zh}")
            else:
                if given_amount != item.amount:
                    check.refuse(
                        "amount",
                        f"{given_amount} does not match the item's {item.amount} / 金额与明细金额{item.amount}不符",
                    )
        serial, paid_on, reason = _details(row, result, opened_on, today, check)
        if check.problems or item is None or result is None:
            problems += check.problems
            continue
        decision = Decision(row.row, item.item_id, result, serial, paid_on, reason, unchanged=False)
        earlier = seen.get(item.item_id)
        if earlier is not None:
            if _same(earlier, decision):
                decisions.append(_replace_unchanged(decision))
            else:
                check.refuse("result", f"conflicts with row {earlier.row} for the same item / 与第{earlier.row}行冲突")
                problems += check.problems
            continue
        if result is ItemResult.RETURNED and item.result is not ItemResult.RETURNED:
            _check_return(item, check)
        elif item.result is not ItemResult.PENDING:
            recorded = Decision(0, item.item_id, item.result, item.bank_serial, item.paid_on, None, unchanged=True)
            if _same(recorded, decision):
                decision = _replace_unchanged(decision)
            else:
                was = item.result.value + (f" (serial {item.bank_serial})" if item.bank_serial else "")
                check.refuse(
                    "result",
                    f"item {item.item_id} ({item.source_kind.value} {item.source_id}) was already recorded as {was}; "
                    f"a different result is refused / 该明细已记录为{was}，不能更改",
                )
        elif not item.source_ready:
            check.refuse(
                "item",
                f"{item.source_kind.value} {item.source_id} is {item.source_status}, no result can be recorded / "
                f"单据状态为{item.source_status}，不能记录支付结果",
            )
        if check.problems:
            problems += check.problems
            continue
        seen[item.item_id] = decision
        decisions.append(decision)
    return decisions, problems


def _check_return(item: ItemFacts, check: _RowCheck) -> None:
    """A return (退票) is of a transfer recorded paid, whose claim or review is still paid."""
    if item.result is not ItemResult.PAID:
        check.refuse(
            "result",
            f"item {item.item_id} is {item.result.value}: only a paid transfer comes back; one that did not go "
            "through is failed (失败) / 仅已支付的转账可记为退票，未成功的请记为失败",
        )
    elif not item.source_paid:
        check.refuse(
            "item",
            f"{item.source_kind.value} {item.source_id} is {item.source_status}, the return cannot be recorded / "
            f"单据状态为{item.source_status}，不能记录退票",
        )


def _identify(
    row: ResultRow, by_id: dict[int, ItemFacts], by_source: dict[str, ItemFacts], check: _RowCheck
) -> ItemFacts | None:
    item: ItemFacts | None = None
    if not _blank(row.item_id):
        assert row.item_id is not None
        text = row.item_id.strip()
        item = by_id.get(int(text)) if text.isascii() and text.isdigit() and len(text) <= 18 else None
        if item is None:
            check.refuse("item", f"no item {text} in this batch / 本批次无此明细")
            return None
    if not _blank(row.source_id):
        assert row.source_id is not None
        text = row.source_id.strip()
        by_src = by_source.get(text)
        if by_src is None:
            check.refuse("source_id", f"no claim or review {text} in this batch / 本批次无此单据")
            return None
        if item is not None and item is not by_src:
            check.refuse("source_id", f"item {item.item_id} pays {item.source_id}, not {text} / 明细与单据号不符")
            return None
        item = by_src
    if item is None:
        check.refuse("item", "an item or claim id is required / 须填写明细号或单据号")
    return item


def _details(
    row: ResultRow, result: ItemResult | None, opened_on: dt.date, today: dt.date, check: _RowCheck
) -> tuple[str | None, dt.date | None, str | None]:
    serial = None if _blank(row.bank_serial) else (row.bank_serial or "").strip()
    reason = None if _blank(row.reason) else (row.reason or "").strip()
    paid_on: dt.date | None = None
    if serial is not None and (len(serial) > SERIAL_MAX or _has_control(serial)):
        check.refuse("bank_serial", f"at most {SERIAL_MAX} printable characters / 流水号超长或含控制字符")
    if reason is not None and (len(reason) > REASON_MAX or _has_control(reason)):
        check.refuse("reason", f"at most {REASON_MAX} printable characters / 原因超长或含控制字符")
    if result is ItemResult.PAID:
        if serial is None:
            check.refuse("bank_serial", "the bank's serial is required for a paid item / 支付成功须填写银行流水号")
        if _blank(row.paid_on):
            check.refuse("paid_on", "the value date is required for a paid item / 支付成功须填写支付日期")
        else:
            paid_on = parse_bank_date(row.paid_on or "")
            if paid_on is None:
                check.refuse("paid_on", "not a date (yyyy-mm-dd) / 日期格式应为yyyy-mm-dd")
            elif not opened_on <= paid_on <= today:
                check.refuse(
                    "paid_on",
                    f"{paid_on} is not between the batch's day {opened_on} and today {today}"
                    " / 支付日期应在批次日期至今天之间",
                )
        reason = None  # a paid transfer has no failure reason
    elif result is ItemResult.FAILED and reason is None:
        check.refuse("reason", "a failed payment needs the reason the bank gave / 支付失败须填写原因")
    elif result is ItemResult.RETURNED:
        if reason is None:
            check.refuse("reason", "a returned transfer needs the reason the bank gave / 退票须填写原因")
        serial = None  # the item keeps the serial and value date of the transfer that came back
    return serial, paid_on, reason


def _same(recorded: Decision, given: Decision) -> bool:
    """The same result: paid with the same serial and value date, or failed or returned (whatever words the reason
    takes)."""
    if recorded.result is not given.result:
        return False
    return given.result in (ItemResult.FAILED, ItemResult.RETURNED) or (
        recorded.bank_serial == given.bank_serial and recorded.paid_on == given.paid_on
    )


def _replace_unchanged(decision: Decision) -> Decision:
    return Decision(
        decision.row, decision.item_id, decision.result, decision.bank_serial, decision.paid_on, decision.reason, True
    )
