"""Catalogue transactions of the national interface: the 13xx downloads (a file for 9102) and the paged queries.

Every answer comes from the catalogue of the calling institution's pooling region, the treatment place whose
catalogue prices its fees (yidi.catalog.interface).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from yidi.catalog import interface
from yidi.core import inputs
from yidi.reference.service import get_institution
from yidi.settlement import files
from yidi.settlement.inputs import Call

FILE_DAYS = 7  # the download end date announced with a file, as for the files of 9101 and 3202


def _region(session: Session, call: Call) -> str:
    return get_institution(session, call.fixmedins_code).pooling_region


def download(infno: str) -> Callable[[Session, Call, dict[str, Any]], dict[str, Any]]:
    """1301, 1302, 1305, 1306: {ver} → {file_qury_no, filename, dld_end_time, data_cnt}; the file is stored for the
    calling institution only (9102 refuses it to any other), so the call is a write, replayed by msgid."""

    def handler(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        asked = inputs.text(data, "ver", max_len=40)
        made = interface.version_file(session, _region(session, call), infno, asked)
        record = files.store(session, call, made.filename, made.content)
        call.audit(
            session,
            "catalog.download",
            "interface_file",
            record.file_qury_no,
            {"infno": infno, "region": made.region, "ver_asked": asked, "ver": made.ver, "data_cnt": made.data_cnt},
        )
        return {
            "file_qury_no": record.file_qury_no,
            "filename": record.filename,
            "dld_end_time": (call.now + dt.timedelta(days=FILE_DAYS)).date().isoformat(),
            "data_cnt": made.data_cnt,
        }

    return handler


def _query(
    fn: Callable[[Session, str, dict[str, Any]], dict[str, Any]],
) -> Callable[[Session, Call, dict[str, Any]], dict[str, Any]]:
    def handler(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        return fn(session, _region(session, call), data)

    return handler


# Read-only and paged: 1312 医保目录信息查询, 1318 医保目录限价, 1319 医保目录先自付比例.
hilist = _query(interface.hilist)
price_caps = _query(interface.price_caps)
first_selfpay = _query(interface.first_selfpay)
