"""9101 upload, 3202 detail reconciliation (对明细账) and 9102 download.

The institution uploads its settlement details for a period (9101: a tab-separated text, optionally zipped,
one line per settlement: setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay, refd_setl_flag),
asks for the comparison (3202 with the file's file_qury_no) and downloads the result (9102): a zip holding
`result.txt`, tab-separated {psn_no, mdtrt_id, setl_id, msgid, stmt_rslt, refd_setl_flag, memo, medfee_sumamt,
fund_pay_sumamt, acct_pay}. stmt_rslt: 0 agrees, 1 amounts differ, 2 only on the platform, 3 only at the
institution.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import zipfile
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core import inputs
from yidi.core.clock import SHANGHAI
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.settlement.inputs import BAD_INPUT, Call
from yidi.settlement.models import InterfaceFile, Settlement

MAX_FILE = 20 * 1024 * 1024


def _bytes(node: dict[str, Any]) -> bytes:
    raw = node.get("in")
    if isinstance(raw, list) and all(isinstance(b, int) and 0 <= b < 256 for b in raw):
        return bytes(raw)  # some clients send the bytes as a JSON array
    if isinstance(raw, str):
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError:
            raise YidiError(BAD_INPUT, field="fsUploadIn.in", problem="is not base64 / 不是base64") from None
    raise YidiError(
        BAD_INPUT, field="fsUploadIn.in", problem="must be base64 text or a byte array / 应为base64或字节数组"
    )


def _store(session: Session, call: Call, filename: str, content: bytes) -> InterfaceFile:
    if len(content) > MAX_FILE:
        raise YidiError(BAD_INPUT, field="file", problem=f"larger than {MAX_FILE} bytes / 文件过大")
    record = InterfaceFile(
        file_qury_no=new_platform_id(PlatformIdKind.CLEARING, "000000", call.now).replace("C", "D", 1),
        fixmedins_code=call.fixmedins_code,
        filename=filename[:200],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        created_at=call.now,
    )
    session.add(record)
    return record


def store(session: Session, call: Call, filename: str, content: bytes) -> InterfaceFile:
    """A file the platform made for the calling institution (a catalogue download), for it alone to fetch with 9102."""
    return _store(session, call, filename, content)


def upload(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    node = data.get("fsUploadIn")
    if not isinstance(node, dict):
        raise YidiError(BAD_INPUT, field="fsUploadIn", problem="is required / 必填")
    record = _store(session, call, inputs.text(node, "filename", max_len=200), _bytes(node))
    return {
        "file_qury_no": record.file_qury_no,
        "filename": record.filename,
        "dld_endtime": (call.now + dt.timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S"),
    }


def own_file(session: Session, call: Call, file_qury_no: str) -> InterfaceFile:
    record = session.get(InterfaceFile, file_qury_no)
    if record is None or record.fixmedins_code != call.fixmedins_code:
        raise YidiError(NOT_FOUND, what="文件 / file", key=file_qury_no)
    return record


def _lines(record: InterfaceFile) -> list[list[str]]:
    content = record.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            content = archive.read(names[0]) if names else b""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise YidiError(BAD_INPUT, field="file", problem="is not UTF-8 text / 不是UTF-8文本") from None
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def detail(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    optins = inputs.text(data, "setl_optins", max_len=6)
    begin, end = inputs.date(data, "stmt_begndate"), inputs.date(data, "stmt_enddate")
    theirs: dict[str, list[str]] = {}
    for n, cols in enumerate(_lines(own_file(session, call, inputs.text(data, "file_qury_no", max_len=40))), 1):
        if len(cols) < 6:
            raise YidiError(
                BAD_INPUT, field=f"file line {n}", problem="needs at least 6 tab-separated fields / 字段不足"
            )
        theirs[cols[0]] = cols
    start = dt.datetime.combine(begin, dt.time.min, SHANGHAI)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, SHANGHAI)
    ours = {
        s.setl_id: s
        for s in session.scalars(
            select(Settlement).where(
                Settlement.fixmedins_code == call.fixmedins_code,
                Settlement.insuplc_admdvs == optins,
                Settlement.setl_time >= start,
                Settlement.setl_time < stop,
            )
        )
    }
    rows = []
    for setl_id, s in sorted(ours.items()):
        found: list[str] | None = theirs.pop(setl_id, None)
        amounts = [s.medfee_sumamt, s.fund_pay_sumamt, s.acct_pay]
        if found is None:
            result, memo = "2", "platform only / 仅平台有"
        else:
            try:
                given = [Decimal(c) for c in found[3:6]]
            except InvalidOperation:
                given = []
            result, memo = ("0", "agrees / 一致") if given == amounts else ("1", f"institution {found[3:6]} / 金额不符")
        rows.append(
            [
                s.psn_no,
                s.mdtrt_id,
                setl_id,
                s.msgid,
                result,
                "1" if s.status == "reversal" else "0",
                memo,
                *map(str, amounts),
            ]
        )
    for setl_id, cols in sorted(theirs.items()):
        rows.append(
            [
                cols[2],
                cols[1],
                setl_id,
                "",
                "3",
                cols[6] if len(cols) > 6 else "0",
                "institution only / 仅机构有",
                *cols[3:6],
            ]
        )
    text = "\n".join("\t".join(r) for r in rows) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("result.txt", text)
    result_file = _store(session, call, f"result_{begin:%Y%m%d}_{end:%Y%m%d}.zip", buffer.getvalue())
    balanced = all(r[4] == "0" for r in rows)
    totals_ok = all(
        inputs.amount(data, k) == sum((getattr(s, k) for s in ours.values()), Decimal("0.00"))
        for k in ("medfee_sumamt", "fund_pay_sumamt")
        if k in data
    )
    return {
        "fileinfo": {"file_qury_no": result_file.file_qury_no, "filename": result_file.filename},
        "stmt_rslt": "0" if balanced and totals_ok else "1",
        "rows": str(len(rows)),
    }


def download(session: Session, call: Call, data: dict[str, Any]) -> InterfaceFile:
    node = data.get("fsDownloadIn") if isinstance(data.get("fsDownloadIn"), dict) else data
    assert isinstance(node, dict)
    return own_file(session, call, inputs.text(node, "file_qury_no", max_len=40))
