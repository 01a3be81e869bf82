"""The files exchanged with the bank (pure: no database, clock or HTTP): the transfer file of a batch (CSV and
XLSX from the same lines; the accounts in full, as the bank needs them) and the results file it sends back (a CSV
read into `payment_rules.ResultRow`s, then checked by `payment_rules.decide_results`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yidi.core.errors import YidiError
from yidi.reimbursement.payment_rules import (
    MAX_RESULT_ROWS,
    P_RESULTS_FILE,
    ResultRow,
    SourceKind,
    amount_text,
)

KIND_LABELS = {SourceKind.CLAIM: "手工报销", SourceKind.REVIEW: "复核补差"}
HEADERS = ("收款人", "开户银行", "账号", "金额", "单据号", "类型", "批次")


# -- the transfer file ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankLine:
    payee: str
    bank: str
    account: str  # in full: the file goes to the bank
    amount: Decimal
    source_id: str
    kind: SourceKind
    batch_id: str

    def cells(self) -> tuple[str, str, str, str, str, str, str]:
        return (
            self.payee,
            self.bank,
            self.account,
            amount_text(self.amount),
            self.source_id,
            KIND_LABELS[self.kind],
            self.batch_id,
        )


def total_of(lines: Iterable[BankLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def csv_file(lines: Sequence[BankLine]) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads the Chinese correctly), CRLF lines, a header, no total row
    (a bank import takes every line as a transfer)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(line.cells() for line in lines)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_file(lines: Sequence[BankLine], title: str) -> bytes:
    """The same lines as `csv_file` with a title row, a styled and frozen header, amounts as numbers of exactly
    their fen value (format 0.00) and a total row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "支付明细"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    thin = Side(style="thin", color="999999")
    for column, header in enumerate(HEADERS, start=1):
        cell = sheet.cell(2, column, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for row, line in enumerate(lines, start=3):
        for column, value in enumerate(line.cells(), start=1):
            if column == 4:
                _amount_cell(sheet, row, column, line.amount)
            else:
                _text_cell(sheet, row, column, value)
    total_row = len(lines) + 3
    _text_cell(sheet, total_row, 1, f"合计（{len(lines)}笔）")
    _amount_cell(sheet, total_row, 4, total_of(lines))
    for column in range(1, len(HEADERS) + 1):
        sheet.cell(total_row, column).font = Font(bold=True)
    sheet.freeze_panes = "A3"
    for letter, width in zip("ABCDEFG", (16, 28, 26, 14, 34, 12, 34), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: Any, row: int, column: int, value: str) -> None:
    cell = sheet.cell(row, column, value)
    cell.data_type = "s"  # never a formula, whatever the text starts with
    cell.number_format = "@"  # an account of 19 digits stays text, not 6.22E+18


def _amount_cell(sheet: Any, row: int, column: int, amount: Decimal) -> None:
    # openpyxl writes a number through float and "%.16g", which can turn 79811208.35 into 79811208.34999999.
    # Given the exact text with the numeric type, it writes that text: the cell holds exactly the fen value.
    cell = sheet.cell(row, column, amount_text(amount))
    cell.data_type = "n"
    cell.number_format = "0.00"


# -- a results file ---------------------------------------------------------------------------------------------

RESULT_COLUMNS = {
    "batch_id": ("批次", "批次号", "batch", "batch_id"),
    "item_id": ("明细号", "item", "item_id"),
    "source_id": ("单据号", "claim_id", "claim id", "source_id"),
    "result": ("结果", "支付结果", "result"),
    "bank_serial": ("银行流水号", "流水号", "bank_serial", "serial"),
    "paid_on": ("支付日期", "日期", "paid_on", "date"),
    "reason": ("原因", "失败原因", "reason"),
    "amount": ("金额", "amount"),
}
_REQUIRED_COLUMNS = (("batch_id", "批次/batch"), ("result", "结果/result"))
_LOOKUP = {name.lower(): field for field, names in RESULT_COLUMNS.items() for name in names}


def _column_field(header: str) -> str | None:
    """A header names its field in Chinese or English, or both as "结果/result"."""
    for part in [header, *header.split("/")]:
        field = _LOOKUP.get(part.strip().lower())
        if field is not None:
            return field
    return None


def parse_results_csv(content: bytes) -> list[ResultRow]:
    """The rows of a results CSV (UTF-8, BOM optional): the exported transfer file with 结果, 银行流水号, 支付日期
    and 原因 columns added will do; other columns are ignored. Refuses the whole file when it cannot be read or
    lacks the batch, the item (明细号 or 单据号) or the result column."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YidiError(P_RESULTS_FILE, reason=f"not UTF-8 text ({exc.reason}) / 不是UTF-8编码") from None
    if "\x00" in text:
        raise YidiError(P_RESULTS_FILE, reason="holds a NUL character / 含有非法字符")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise YidiError(P_RESULTS_FILE, reason="empty file / 文件为空")
        fields = [_column_field(h) for h in header]
        missing = [label for field, label in _REQUIRED_COLUMNS if field not in fields]
        if "item_id" not in fields and "source_id" not in fields:
            missing.append("单据号/claim id (or 明细号/item)")
        if missing:
            raise YidiError(P_RESULTS_FILE, reason=f"missing column(s) {', '.join(missing)} / 缺少必需的列")
        rows: list[ResultRow] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_RESULT_ROWS:
                raise YidiError(P_RESULTS_FILE, reason=f"more than {MAX_RESULT_ROWS} rows / 超过行数上限")
            values = {f: cells[i] for i, f in enumerate(fields) if f is not None and i < len(cells)}
            rows.append(
                ResultRow(
                    row=reader.line_num,
                    batch_id=values.get("batch_id", ""),  # a short line: the batch is blank, and refused as such
                    item_id=values.get("item_id"),
                    source_id=values.get("source_id"),
                    result=values.get("result"),
                    bank_serial=values.get("bank_serial"),
                    paid_on=values.get("paid_on"),
                    reason=values.get("reason"),
                    amount=values.get("amount"),
                )
            )
    except csv.Error as exc:
        raise YidiError(
            P_RESULTS_FILE, reason=f"line {reader.line_num}: {exc} / 第{reader.line_num}行格式有误"
        ) from None
    if not rows:
        raise YidiError(P_RESULTS_FILE, reason="no result rows / 没有结果行")
    return rows
