"""Fee lines of a claim's visit: typed in (JSON) or imported from the hospital's detailed fee list (费用明细清单),
a CSV or XLSX file with the national column names of 2204 `feedetail` or their Chinese titles.

All or nothing, like the catalogue import: every row is checked and a file with any problem is refused with a
row-level report (row, field, problem in Chinese and English); nothing of it is kept. A file whose content is not
what its name says (a PDF named .csv, a CSV named .xlsx) is refused before any row is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from yidi.core.clock import SHANGHAI
from yidi.core.errors import ErrorKind
from yidi.core.inputs import parse_time
from yidi.core.money import round_yuan
from yidi.parameters.policy import InputLimits
from yidi.reimbursement.inputs import (
    MAX_LINES,
    InputRefused,
    LineIn,
    Problem,
    blank,
    code,
    decimal_problem,
    refuse,
    text,
)

R_FEE_LIST = ErrorKind(
    "R_FEE_LIST",
    "费用明细文件被拒绝，未导入任何明细：{field}（{label_zh}）{problem_zh}；共{count}处错误",
    "fee list refused, no line was imported: {field} ({label_en}) {problem_en}; {count} problem(s) in all",
    422,
)
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # an XLSX of 5,000 lines unpacks to a few MB
MAX_COLUMNS = 64  # the header read: the 8 columns and whatever else a hospital prints

# The national names of 2204 feedetail and the Chinese column titles hospitals print.
COLUMNS: dict[str, tuple[str, ...]] = {
    "feedetl_sn": ("feedetl_sn", "费用明细流水号"),
    "med_list_codg": ("med_list_codg", "医疗目录编码"),
    "medins_list_codg": ("medins_list_codg", "医药机构目录编码"),
    "medins_list_name": ("medins_list_name", "医药机构目录名称"),
    "fee_ocur_time": ("fee_ocur_time", "费用发生时间"),
    "cnt": ("cnt", "数量"),
    "pric": ("pric", "单价"),
    "det_item_fee_sumamt": ("det_item_fee_sumamt", "明细项目费用总额"),
}
REQUIRED = ("feedetl_sn", "med_list_codg", "medins_list_codg", "fee_ocur_time", "cnt", "pric", "det_item_fee_sumamt")
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
_BINARY = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", _ZIP, _OLE, b"GIF8")


def read_json_lines(
    value: Any, where: str, limits: InputLimits, begndate: dt.date, enddate: dt.date, now: dt.datetime
) -> tuple[LineIn, ...]:
    if not isinstance(value, list):
        raise refuse(where, "应为数组", "must be a list")
    if len(value) > MAX_LINES:
        raise refuse(where, f"每次就诊最多{MAX_LINES}条", f"at most {MAX_LINES} lines per visit")
    rows = []
    for n, item in enumerate(value, 1):
        if not isinstance(item, Mapping):
            raise refuse(f"{where}[{n}]", "应为对象", "must be an object")
        rows.append((n, item))
    lines, problems = read_lines(rows, limits, begndate, enddate, now, where=where)
    if problems:
        raise InputRefused(problems)
    return tuple(lines)


def read_lines(
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    limits: InputLimits,
    begndate: dt.date,
    enddate: dt.date,
    now: dt.datetime,
    *,
    where: str | None = None,
) -> tuple[list[LineIn], list[Problem]]:
    """Every row's line and every problem: with `where` (JSON) a problem's field is `where[n].name`; without it
    (a file) the field is the column and `row` the file's row. A line's amount must be its count times its price,
    rounded half up to the fen; its time within the visit's days; its number unique in the visit."""
    lines: list[LineIn] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    count = 0
    for n, row in rows:
        count += 1
        found = _line_problems(row, limits, begndate, enddate, now)
        sn = row.get("feedetl_sn")
        if isinstance(sn, str) and sn.strip():
            if sn.strip() in seen:
                found.append(("feedetl_sn", f"与第{seen[sn.strip()]}条重复", f"repeats line {seen[sn.strip()]}"))
            else:
                seen[sn.strip()] = n
        if found:
            for name, zh, en in found:
                path = f"{where}[{n}].{name}" if where is not None else name
                problems.append(Problem(path, zh, en, None if where is not None else n))
            continue
        lines.append(_line(row))
    if count > MAX_LINES:
        problems.insert(
            0,
            Problem(
                where or "lines",
                f"每次就诊最多{MAX_LINES}条，共{count}条",
                f"at most {MAX_LINES} lines per visit, {count} given",
            ),
        )
    return lines, problems


_LINE_TEXTS = (  # name, longest, required, a code (letters, digits, . _ - /) rather than free text
    ("feedetl_sn", 30, True, True),
    ("med_list_codg", 50, True, True),
    ("medins_list_codg", 150, True, False),
    ("medins_list_name", 200, False, False),
)


def _line_problems(
    row: Mapping[str, Any], limits: InputLimits, begndate: dt.date, enddate: dt.date, now: dt.datetime
) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for name, max_len, required, is_code in _LINE_TEXTS:
        try:
            (code if is_code else text)(row, name, "", max_len=max_len, required=required)
        except InputRefused as exc:
            found.append((name, exc.problems[0].zh, exc.problems[0].en))
    when = _line_time(row.get("fee_ocur_time"))
    if isinstance(when, tuple):
        found.append(("fee_ocur_time", *when))
    elif when > now + dt.timedelta(seconds=limits.clock_skew_seconds):
        found.append(("fee_ocur_time", "晚于当前时间", "is in the future"))
    elif not begndate <= when.date() <= enddate:
        found.append(
            ("fee_ocur_time", f"不在就诊日期{begndate}至{enddate}内", f"is outside the visit ({begndate} to {enddate})")
        )
    cnt, p1 = decimal_problem(row.get("cnt"), 4, maximum=limits.max_line_count, positive=True)
    pric, p2 = decimal_problem(row.get("pric"), 6, maximum=limits.max_unit_price, positive=False)
    total, p3 = decimal_problem(row.get("det_item_fee_sumamt"), 2, maximum=limits.max_line_amount, positive=False)
    found += [(name, *p) for name, p in (("cnt", p1), ("pric", p2), ("det_item_fee_sumamt", p3)) if p]
    if cnt is not None and pric is not None and total is not None and round_yuan(cnt * pric) != total:
        product = round_yuan(cnt * pric)
        found.append(
            (
                "det_item_fee_sumamt",
                f"应等于数量×单价（四舍五入到分）{product}",
                f"must be cnt × pric rounded half up to the fen, {product}",
            )
        )
    return found


def _line(row: Mapping[str, Any]) -> LineIn:
    """A row `_line_problems` found nothing wrong with."""
    when = _line_time(row.get("fee_ocur_time"))
    assert not isinstance(when, tuple)
    values = {name: (row.get(name) or "").strip() or None for name, *_ in _LINE_TEXTS}
    return LineIn(
        values["feedetl_sn"] or "",
        values["med_list_codg"] or "",
        values["medins_list_codg"] or "",
        values["medins_list_name"],
        when,
        Decimal(str(row["cnt"]).strip().replace(",", "")),
        Decimal(str(row["pric"]).strip().replace(",", "")),
        Decimal(str(row["det_item_fee_sumamt"]).strip().replace(",", "")).quantize(Decimal("0.01")),
    )


def _line_time(value: Any) -> dt.datetime | tuple[str, str]:
    if isinstance(value, dt.datetime):  # a spreadsheet's cell: Beijing time unless it says otherwise
        return (value if value.tzinfo else value.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI)
    if blank(value):
        return ("必填", "is required")
    if not isinstance(value, str) or len(value) > 35:
        return ("须为yyyy-MM-dd HH:mm:ss", "must be yyyy-MM-dd HH:mm:ss")
    moment = parse_time(value.strip())
    if moment is None:
        return ("须为yyyy-MM-dd HH:mm:ss", "must be yyyy-MM-dd HH:mm:ss")
    return moment


# -- the file -----------------------------------------------------------------------------------------------


def read_fee_list(
    filename: str, content: bytes, limits: InputLimits, begndate: dt.date, enddate: dt.date, now: dt.datetime
) -> list[LineIn]:
    """The lines of a fee-list file, or `InputRefused` (R_FEE_LIST) listing every problem by row."""
    return check_fee_rows(read_fee_table(filename, content), limits, begndate, enddate, now)


def read_fee_table(filename: str, content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The data rows of a fee-list file by national column name, each with its row number, or `InputRefused`
    (R_FEE_LIST): an empty, oversized or mislabelled file, a bad header, no rows or more than `MAX_LINES`.
    The rows are not checked here (`check_fee_rows` does, against the visit's days)."""
    if not content:
        raise _file_problem("file", "文件为空", "the file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise _file_problem("file", f"超过{MAX_FILE_BYTES}字节", f"larger than {MAX_FILE_BYTES} bytes")
    header, rows = _table(filename, content)
    positions, problems = map_header(header)
    if problems:
        raise InputRefused(problems, R_FEE_LIST)
    numbered: list[tuple[int, dict[str, Any]]] = []
    for n, cells in rows:
        if len(numbered) >= MAX_LINES:
            raise _too_long(n)
        numbered.append((n, {k: _cell(cells[i]) if i < len(cells) else None for k, i in positions.items()}))
    if not numbered:
        raise _file_problem("lines", "没有数据行", "no data rows", 2)
    return numbered


def check_fee_rows(
    rows: list[tuple[int, dict[str, Any]]], limits: InputLimits, begndate: dt.date, enddate: dt.date, now: dt.datetime
) -> list[LineIn]:
    """The lines of the rows `read_fee_table` read, or `InputRefused` (R_FEE_LIST) listing every problem by row."""
    lines, problems = read_lines(rows, limits, begndate, enddate, now)
    if problems:
        raise InputRefused(problems, R_FEE_LIST)
    return lines


def map_header(header: Iterable[object]) -> tuple[dict[str, int], list[Problem]]:
    """Column positions by national name, and the problems with the header (row 1)."""
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for i, raw in enumerate(header):
        name = str(raw or "").strip().lstrip("\ufeff")
        for canonical, aliases in COLUMNS.items():
            if name in aliases or name.lower() == canonical:
                if canonical in positions:
                    problems.append(Problem(canonical, "列重复", "the column appears twice", 1))
                positions[canonical] = i
                break
    for name in REQUIRED:
        if name not in positions:
            titles = " / ".join(COLUMNS[name])
            problems.append(Problem(name, f"缺少此列（{titles}）", f"the column is missing ({titles})", 1))
    return positions, problems


def _too_long(row: int) -> InputRefused:
    return _file_problem("lines", f"超过{MAX_LINES}行，请核对文件", f"more than {MAX_LINES} rows", row)


def _file_problem(field: str, zh: str, en: str, row: int | None = None) -> InputRefused:
    return InputRefused([Problem(field, zh, en, row)], R_FEE_LIST)


def _table(filename: str, content: bytes) -> tuple[list[object], Iterator[tuple[int, list[object]]]]:
    """Header and (row number, cells) of a .csv (UTF-8, or GB18030 as Chinese spreadsheets save it) or .xlsx."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        if content.startswith(_BINARY) or b"\x00" in content[:4096]:
            raise _file_problem("file", "文件内容不是CSV文本", "the content is not CSV text")
        try:
            decoded = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                decoded = content.decode("gb18030")
            except UnicodeDecodeError:
                raise _file_problem("file", "不是UTF-8或GB18030编码的文本", "not UTF-8 or GB18030 text") from None
        reader = csv.reader(io.StringIO(decoded))
        try:
            header: list[object] = list(next(reader, []))
            rows: list[tuple[int, list[object]]] = []
            for n, r in enumerate(reader, start=2):
                if any(c.strip() for c in r):
                    rows.append((n, list(r)))
                    if len(rows) > MAX_LINES:  # enough to refuse the file: the rest is not read
                        break
        except csv.Error as exc:
            raise _file_problem("file", f"CSV格式错误：{exc}", f"malformed CSV: {exc}") from None
        if not header:
            raise _file_problem("file", "文件为空", "the file is empty")
        return header, iter(rows)
    if suffix == ".xlsx":
        if not content.startswith(_ZIP):
            raise _file_problem("file", "文件内容不是XLSX工作簿", "the content is not an XLSX workbook")
        return _workbook(content)
    raise _file_problem("file", f"不支持{suffix or '无扩展名'}，请用.csv或.xlsx", f"'{suffix}' is not .csv or .xlsx")


def _workbook(content: bytes) -> tuple[list[object], Iterator[tuple[int, list[object]]]]:
    """Header and rows of the first worksheet, reading no more than the file may hold: the workbook's own
    <dimension> (it may claim 16,384 columns and a million rows in a few KB) is ignored, the header is at most
    `MAX_COLUMNS` wide, each row as wide as the header, and the reading stops at row `MAX_LINES` + 2, whose
    presence (even empty: the sheet goes on) refuses the file. Empty rows before it are skipped."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise _file_problem("file", "XLSX工作簿无法读取", "unreadable XLSX workbook") from None
    if unpacked > MAX_UNPACKED_BYTES:  # a few KB that inflate to gigabytes of XML
        raise _file_problem(
            "file", f"解压后超过{MAX_UNPACKED_BYTES}字节", f"unpacks to over {MAX_UNPACKED_BYTES} bytes"
        )
    last = MAX_LINES + 2  # one row past the most the file may hold
    body: list[tuple[int, list[object]]] = []
    beyond = False
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        first = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), None)
        header = list(first or ())
        while header and header[-1] in (None, ""):
            header.pop()
        if header:
            rows = sheet.iter_rows(min_row=2, max_row=last, max_col=len(header), values_only=True)
            for n, r in enumerate(rows, start=2):
                beyond = n == last
                if not beyond and any(c not in (None, "") for c in r):
                    body.append((n, list(r)))
        workbook.close()
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _file_problem(
            "file", f"XLSX工作簿无法读取（{type(exc).__name__}）", f"unreadable XLSX workbook ({type(exc).__name__})"
        ) from None
    if not header:
        raise _file_problem("file", "工作表为空", "the worksheet is empty")
    if beyond:
        raise _too_long(last)
    return header, iter(body)


def _cell(value: object) -> object:
    """A cell as the line readers take it: text, or a date-time (a spreadsheet's own). A spreadsheet's number is
    written back as its shortest text (2.5, not 2.5000000001); an integer-valued one without ".0"."""
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), SHANGHAI)
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value.is_integer() else repr(value)
    return str(value).strip()
