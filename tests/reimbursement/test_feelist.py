"""Fee lines typed in and the hospital's fee list (CSV or XLSX): every line checked, all or nothing, a report by
row naming the field in Chinese and English."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook

from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.reimbursement import feelist
from yidi.reimbursement.inputs import InputRefused

from .test_rules import LIMITS, NOW

D = dt.date
BEGIN, END = D(2026, 5, 4), D(2026, 5, 8)
HEADER = "feedetl_sn,med_list_codg,medins_list_codg,medins_list_name,fee_ocur_time,cnt,pric,det_item_fee_sumamt"
ZH_HEADER = "费用明细流水号,医疗目录编码,医药机构目录编码,医药机构目录名称,费用发生时间,数量,单价,明细项目费用总额"


def row(sn: str = "1", **changes: Any) -> dict[str, Any]:
    return {
        "feedetl_sn": sn,
        "med_list_codg": "XA10BFA331A740537984000",
        "medins_list_codg": "YP0001",
        "medins_list_name": "阿卡波糖片",
        "fee_ocur_time": "2026-05-05 10:00:00",
        "cnt": "1600",
        "pric": "2.5",
        "det_item_fee_sumamt": "4000.00",
    } | changes


def read(rows: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    return feelist.read_lines(list(enumerate(rows, 1)), LIMITS, BEGIN, END, NOW, where="lines")


def test_good_lines_are_read_exactly() -> None:
    lines, problems = read([row(), row("2", cnt="3", pric="33.335", det_item_fee_sumamt="100.01")])
    assert problems == []
    assert [(ln.feedetl_sn, ln.cnt, ln.pric, ln.det_item_fee_sumamt) for ln in lines] == [
        ("1", Decimal("1600"), Decimal("2.5"), Decimal("4000.00")),
        ("2", Decimal("3"), Decimal("33.335"), Decimal("100.01")),  # 3 × 33.335 = 100.005 → 100.01, half up
    ]
    assert lines[0].fee_ocur_time == dt.datetime(2026, 5, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("changes", "field", "zh", "en"),
    [
        ({"det_item_fee_sumamt": "100.00", "cnt": "3", "pric": "33.335"}, "det_item_fee_sumamt", "100.01", "100.01"),
        ({"det_item_fee_sumamt": "4000.001"}, "det_item_fee_sumamt", "小数超过2位", "more than 2 decimals"),
        ({"cnt": "-1600", "det_item_fee_sumamt": "-4000.00"}, "cnt", "不得为负数", "must not be negative"),
        ({"cnt": "0"}, "cnt", "须大于0", "greater than 0"),
        ({"pric": "2.5000001"}, "pric", "小数超过6位", "more than 6 decimals"),
        ({"pric": "5000000.01", "cnt": "1", "det_item_fee_sumamt": "5000000.01"}, "pric", "超过上限", "above the"),
        ({"cnt": "100001", "pric": "0.01", "det_item_fee_sumamt": "1000.01"}, "cnt", "超过上限100000", "above the"),
        ({"cnt": 1600.0}, "cnt", "数字文本", "written as text"),  # a float would hide a rounding
        ({"cnt": "abc"}, "cnt", "不是数字", "not a number"),
        ({"fee_ocur_time": "2026-05-09 00:00:00"}, "fee_ocur_time", "不在就诊日期", "outside the visit"),
        ({"fee_ocur_time": "2026-05-03 23:59:59"}, "fee_ocur_time", "不在就诊日期", "outside the visit"),
        ({"fee_ocur_time": "05/05/2026"}, "fee_ocur_time", "yyyy-MM-dd", "yyyy-MM-dd"),
        ({"med_list_codg": ""}, "med_list_codg", "必填", "required"),
        ({"medins_list_codg": None}, "medins_list_codg", "必填", "required"),
        ({"feedetl_sn": "a b"}, "feedetl_sn", "只能含字母", "only letters"),
        ({"medins_list_name": "x" * 201}, "medins_list_name", "1至200", "1 to 200"),
    ],
)
def test_a_bad_line_names_its_field(changes: dict[str, Any], field: str, zh: str, en: str) -> None:
    _, problems = read([row(**changes)])
    assert [(p.field, p.row) for p in problems][:1] == [(f"lines[1].{field}", None)]
    assert zh in problems[0].zh and en in problems[0].en


def test_a_line_in_the_future_is_refused() -> None:
    later = dt.datetime(2026, 6, 1, 10, 11, tzinfo=SHANGHAI)  # 11 minutes after now: past the 600 s clock skew
    _, problems = feelist.read_lines([(1, row(fee_ocur_time="2026-06-01 10:11:00"))], LIMITS, BEGIN, later.date(), NOW)
    assert [(p.field, p.en) for p in problems] == [("fee_ocur_time", "is in the future")]


def test_typed_in_lines_are_refused_whole_with_every_problem() -> None:
    with pytest.raises(InputRefused) as refused:
        feelist.read_json_lines([row(), row("1"), row("3", cnt="0")], "visits[2].lines", LIMITS, BEGIN, END, NOW)
    e = refused.value
    assert e.code == "R_INPUT" and e.details["field"] == "visits[2].lines[2].feedetl_sn"
    assert "费用明细流水号" in e.message_zh and "repeats line 1" in e.message_en
    assert [p["field"] for p in e.as_dict()["errors"]] == ["visits[2].lines[2].feedetl_sn", "visits[2].lines[3].cnt"]
    with pytest.raises(YidiError) as too_many:
        feelist.read_json_lines([row(str(n)) for n in range(5001)], "lines", LIMITS, BEGIN, END, NOW)
    assert "至多" in too_many.value.message_zh or "5000" in too_many.value.message_zh


# -- the file ----------------------------------------------------------------------------------------------------


def csv(header: str, *rows: str, encoding: str = "utf-8") -> bytes:
    return "\n".join([header, *rows]).encode(encoding)


GOOD = "1,XA10BFA331A740537984000,YP0001,阿卡波糖片,2026-05-05 10:00:00,1600,2.5,4000.00"
SECOND = "2,XA10BXA248A880381848000,YP0002,瑞格列奈片,2026-05-06 10:00:00,2000,2.5,5000.00"


def test_a_csv_with_the_national_names_or_the_chinese_titles() -> None:
    bom = b"\xef\xbb\xbf"
    for content in (csv(HEADER, GOOD, SECOND), csv(ZH_HEADER, GOOD, SECOND), bom + csv(ZH_HEADER, GOOD, SECOND)):
        lines = feelist.read_fee_list("清单.csv", content, LIMITS, BEGIN, END, NOW)
        assert [(ln.feedetl_sn, ln.det_item_fee_sumamt, ln.medins_list_name) for ln in lines] == [
            ("1", Decimal("4000.00"), "阿卡波糖片"),
            ("2", Decimal("5000.00"), "瑞格列奈片"),
        ]


def test_a_csv_saved_by_a_chinese_spreadsheet_gb18030() -> None:
    lines = feelist.read_fee_list("list.CSV", csv(ZH_HEADER, GOOD, encoding="gb18030"), LIMITS, BEGIN, END, NOW)
    assert lines[0].medins_list_name == "阿卡波糖片"


def test_the_name_column_is_optional_and_columns_may_come_in_any_order() -> None:
    header = "det_item_fee_sumamt,pric,cnt,fee_ocur_time,medins_list_codg,med_list_codg,feedetl_sn"
    content = csv(header, "4000.00,2.5,1600,2026-05-05,YP0001,XA10BFA331A740537984000,A-1")
    (only,) = feelist.read_fee_list("a.csv", content, LIMITS, BEGIN, END, NOW)
    assert (only.feedetl_sn, only.medins_list_name, only.fee_ocur_time.date()) == ("A-1", None, D(2026, 5, 5))


def test_an_xlsx_with_numbers_and_dates_as_the_spreadsheet_keeps_them() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ZH_HEADER.split(","))
    sheet.append([1, "XA10BFA331A740537984000", "YP0001", "阿卡波糖片", dt.datetime(2026, 5, 5, 10), 1600, 2.5, 4000])
    sheet.append([2, "XA10BXA248A880381848000", "YP0002", None, dt.datetime(2026, 5, 6, 10), 3, 33.335, 100.01])
    buffer = io.BytesIO()
    book.save(buffer)
    lines = feelist.read_fee_list("清单.xlsx", buffer.getvalue(), LIMITS, BEGIN, END, NOW)
    assert [(ln.feedetl_sn, ln.cnt, ln.pric, ln.det_item_fee_sumamt) for ln in lines] == [
        ("1", Decimal("1600"), Decimal("2.5"), Decimal("4000.00")),
        ("2", Decimal("3"), Decimal("33.335"), Decimal("100.01")),
    ]
    assert lines[0].fee_ocur_time == dt.datetime(2026, 5, 5, 10, tzinfo=SHANGHAI)


def test_every_bad_row_is_reported_and_nothing_is_taken() -> None:
    bad = [
        GOOD,
        "2,XA10BXA248A880381848000,YP0002,,2026-05-06 10:00:00,2000,2.5,5000.01",  # 2000 × 2.5 = 5000.00
        SECOND.replace("2,", "3,", 1),
        "4,,YP0004,,2026-05-10 10:00:00,1,1,1.00",  # no code, and after the discharge
    ]
    with pytest.raises(InputRefused) as refused:
        feelist.read_fee_list("list.csv", csv(HEADER, *bad), LIMITS, BEGIN, END, NOW)
    e = refused.value
    assert e.code == "R_FEE_LIST" and e.details["count"] == 3
    assert [(p["row"], p["field"]) for p in e.as_dict()["errors"]] == [
        (3, "det_item_fee_sumamt"),
        (5, "med_list_codg"),
        (5, "fee_ocur_time"),
    ]
    assert "第3行" in e.message_zh and "明细项目费用总额" in e.message_zh and "row 3" in e.message_en
    first = e.as_dict()["errors"][0]
    assert first["label_zh"] == "明细项目费用总额" and "5000.00" in first["problem_en"]


@pytest.mark.parametrize(
    ("name", "content", "zh", "en"),
    [
        ("list.csv", b"%PDF-1.7 not a table", "不是CSV", "not CSV"),
        ("list.csv", b"\x89PNG\r\n\x1a\nrest", "不是CSV", "not CSV"),
        ("list.xlsx", csv(HEADER, GOOD), "不是XLSX", "not an XLSX"),
        ("list.xlsx", b"PK\x03\x04 a broken zip", "无法读取", "unreadable"),
        ("list.xls", b"\xd0\xcf\x11\xe0 an old workbook", "不支持", "not .csv or .xlsx"),
        ("list.txt", csv(HEADER, GOOD), "不支持", "not .csv or .xlsx"),
        ("list.csv", b"", "为空", "empty"),
        ("list.csv", csv(HEADER), "没有数据行", "no data rows"),
        ("list.csv", csv("feedetl_sn,cnt,pric", "1,1,1"), "缺少此列", "missing"),
        ("list.csv", csv(HEADER + ",cnt", GOOD + ",1"), "列重复", "twice"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused(name: str, content: bytes, zh: str, en: str) -> None:
    with pytest.raises(InputRefused) as refused:
        feelist.read_fee_list(name, content, LIMITS, BEGIN, END, NOW)
    assert refused.value.code == "R_FEE_LIST"
    assert zh in refused.value.message_zh and en in refused.value.message_en


def test_a_fee_list_is_bounded() -> None:
    rows = [GOOD.replace("1,", f"{n},", 1) for n in range(1, 5002)]
    with pytest.raises(InputRefused) as refused:
        feelist.read_fee_list("big.csv", csv(HEADER, *rows), LIMITS, BEGIN, END, NOW)
    assert "5000" in refused.value.message_zh and refused.value.problems[0].row == 5002
    with pytest.raises(InputRefused) as large:
        feelist.read_fee_list("huge.csv", b"x" * (feelist.MAX_FILE_BYTES + 1), LIMITS, BEGIN, END, NOW)
    assert "bytes" in large.value.message_en


# -- a workbook that claims more than it holds (the code review's defect 8) --------------------------------------


def _claiming(rows: int, last_cell: str | None) -> bytes:
    """A workbook of a header and one good line whose <dimension> claims A1:XFD{rows} (16,384 columns); with
    `last_cell`, row `rows` holds that text in column A. A few KB whatever `rows` is."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["feedetl_sn", "med_list_codg", "medins_list_codg", "fee_ocur_time", "cnt", "pric", "det_item_fee_sumamt"]
    )
    sheet.append(["1", "XA10BFA331A740537984000", "YP0001", "2026-05-05 10:00:00", "2", "2.5", "5.00"])
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="A1:XFD{rows}"'.encode(), data)
                if last_cell is not None:
                    cell = f'<row r="{rows}"><c r="A{rows}" t="inlineStr"><is><t>{last_cell}</t></is></c></row>'
                    data = data.replace(b"</sheetData>", cell.encode() + b"</sheetData>")
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize("rows", [8_000, 1_048_576])
def test_a_workbook_going_on_past_the_last_row_allowed_is_refused_without_reading_on(rows: int) -> None:
    """Before: openpyxl's reader yielded every claimed row, 16,384 cells wide (minutes for a million rows), and
    the file was refused for row `rows`' content. Now the reading stops at row 5,002, which refuses it."""
    content = _claiming(rows, "x")
    started = time.perf_counter()
    with pytest.raises(InputRefused) as refused:
        feelist.read_fee_list("list.xlsx", content, LIMITS, BEGIN, END, NOW)
    assert time.perf_counter() - started < 3  # about 0.1 s here; the old reading took 2 s for 8,000 rows
    assert refused.value.problems[0].row == 5002 and "5000" in refused.value.message_zh


def test_a_workbook_whose_dimension_lies_is_read_as_far_as_it_holds() -> None:
    (only,) = feelist.read_fee_list("list.xlsx", _claiming(3_000, None), LIMITS, BEGIN, END, NOW)
    assert (only.feedetl_sn, only.det_item_fee_sumamt) == ("1", Decimal("5.00"))
