"""The request and response envelopes of the national interface (interface.md §2)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from yidi.core.clock import SHANGHAI
from yidi.core.ids import make_refmsgid, parse_msgid
from yidi.core.inputs import TIME_MAX_LEN, parse_time

INFNO_RE = re.compile(r"[0-9]{4}A?", re.ASCII)
DIVISION_RE = re.compile(r"[0-9]{6}", re.ASCII)


class EnvelopeError(Exception):
    """A bad envelope field: answered with infcode -1 and the field named in err_msg."""

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True)
class Envelope:
    infno: str
    msgid: str
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    recer_sys_code: str
    infver: str
    opter_type: str
    opter: str
    opter_name: str
    inf_time: dt.datetime
    fixmedins_code: str
    fixmedins_name: str
    sign_no: str
    input: dict[str, Any]

    @property
    def transaction(self) -> str:
        return self.infno[:4]  # "2203A" is the revised 2203


_LIMITS = {
    "recer_sys_code": 10,
    "infver": 6,
    "opter": 30,
    "opter_name": 50,
    "fixmedins_name": 200,
    "sign_no": 30,
    "dev_no": 100,
    "dev_safe_info": 2000,
    "cainfo": 1024,
    "signtype": 10,
    "inf_time": TIME_MAX_LEN,  # 19 in the specification; ISO 8601 with a fraction and an offset is longer
}


def _text(body: dict[str, Any], name: str, required: bool) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise EnvelopeError(name, "is required / 必填")
        return ""
    if not isinstance(value, str | int):
        raise EnvelopeError(name, "must be text / 应为字符串")
    text = str(value)
    if name in _LIMITS and len(text) > _LIMITS[name]:
        raise EnvelopeError(name, f"longer than {_LIMITS[name]} characters / 超过长度")
    return text


def parse(body: Any) -> Envelope:
    if not isinstance(body, dict):
        raise EnvelopeError("body", "must be a JSON object / 应为JSON对象")
    infno = _text(body, "infno", True)
    if not INFNO_RE.fullmatch(infno):
        raise EnvelopeError("infno", "must be 4 digits, optionally followed by A / 应为4位交易编号")
    fixmedins_code = _text(body, "fixmedins_code", True)
    msgid = _text(body, "msgid", True)
    try:
        parsed = parse_msgid(msgid)
    except Exception:
        raise EnvelopeError(
            "msgid", "must be fixmedins_code (12) + yyyyMMddHHmmss + 4 digits / 报文ID格式错误"
        ) from None
    if parsed.fixmedins_code != fixmedins_code:
        raise EnvelopeError("msgid", "does not start with fixmedins_code / 报文ID须以机构编码开头")
    for name in _LIMITS:
        _text(body, name, False)
    mdtrtarea = _text(body, "mdtrtarea_admvs", True)
    if not DIVISION_RE.fullmatch(mdtrtarea):
        raise EnvelopeError("mdtrtarea_admvs", "must be a 6-digit division code / 应为6位区划")
    insuplc = _text(body, "insuplc_admdvs", False)
    if insuplc and not DIVISION_RE.fullmatch(insuplc):
        raise EnvelopeError("insuplc_admdvs", "must be a 6-digit division code / 应为6位区划")
    opter_type = _text(body, "opter_type", True)
    if opter_type not in ("1", "2", "3"):
        raise EnvelopeError("opter_type", "must be 1, 2 or 3 / 应为1、2或3")
    inf_time = parse_time(_text(body, "inf_time", True).strip(), bare_date=False)
    if inf_time is None:
        raise EnvelopeError("inf_time", "must be yyyy-MM-dd HH:mm:ss or ISO 8601 / 时间格式错误")
    payload = body.get("input", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise EnvelopeError("input", "must be a JSON object / 应为JSON对象")
    return Envelope(
        infno=infno,
        msgid=msgid,
        mdtrtarea_admvs=mdtrtarea,
        insuplc_admdvs=insuplc,
        recer_sys_code=_text(body, "recer_sys_code", True),
        infver=_text(body, "infver", True),
        opter_type=opter_type,
        opter=_text(body, "opter", True),
        opter_name=_text(body, "opter_name", True),
        inf_time=inf_time,
        fixmedins_code=fixmedins_code,
        fixmedins_name=_text(body, "fixmedins_name", False),
        sign_no=_text(body, "sign_no", False),
        input=payload,
    )


def answer(
    admdvs: str,
    received: dt.datetime,
    responded: dt.datetime,
    output: dict[str, Any] | None,
    err_msg: str = "",
    warn_msg: str = "",
) -> dict[str, Any]:
    """The response envelope: infcode 0 with output, or -1 with err_msg."""
    stamp = "%Y%m%d%H%M%S%f"
    return {
        "infcode": -1 if err_msg else 0,
        "inf_refmsgid": make_refmsgid(
            admdvs if DIVISION_RE.fullmatch(admdvs) else "000000", responded, secrets.randbelow(10**10)
        ),
        "refmsg_time": received.astimezone(SHANGHAI).strftime(stamp)[:17],
        "respond_time": responded.astimezone(SHANGHAI).strftime(stamp)[:17],
        "err_msg": err_msg[:200] if err_msg else "",
        "warn_msg": warn_msg,
        "cainfo": "",
        "signtype": "",
        "enctype": "",
        "output": output if not err_msg else {},
    }
