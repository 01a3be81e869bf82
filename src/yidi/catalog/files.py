"""Reading catalogue files (CSV or XLSX) into numbered rows. An edge: no rules here."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from yidi.core.errors import ErrorKind, YidiError

UNREADABLE = ErrorKind("E_CATALOG_FILE", "目录文件无法读取：{reason}", "the catalogue file cannot be read: {reason}")
MAX_ROWS = 200_000


def read_table(name: str, content: bytes) -> tuple[list[str], Iterator[tuple[int, list[object]]]]:
    """Header and (line number, cells) rows of a .csv (UTF-8, optional BOM) or .xlsx file."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YidiError(UNREADABLE, reason=f"not UTF-8 text ({exc.reason}) / 不是UTF-8编码") from exc
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise YidiError(UNREADABLE, reason="empty file / 文件为空")
        return header, ((n, list(r)) for n, r in enumerate(reader, start=2) if any(c.strip() for c in r))
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise YidiError(UNREADABLE, reason=f"not a readable XLSX workbook ({type(exc).__name__})") from exc
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise YidiError(UNREADABLE, reason="empty worksheet / 工作表为空")
        header = ["" if c is None else str(c) for c in first]

        def cells() -> Iterator[tuple[int, list[object]]]:
            for n, r in enumerate(rows, start=2):
                if any(c not in (None, "") for c in r):
                    yield n, list(r)
            workbook.close()

        return header, cells()
    raise YidiError(UNREADABLE, reason=f"unsupported file type '{suffix}'; use .csv or .xlsx / 仅支持csv或xlsx")
