"""Identifiers of the national interface and of the platform.

- msgid (报文ID): institution code (12) + yyyyMMddHHmmss (14) + 4-digit sequence = 30 characters.
- inf_refmsgid (接收方报文ID): receiver division (6) + yyyyMMddHHmmss (14) + serial (10) = 30 characters.
- platform ids (mdtrt_id, setl_id, …): a letter for the kind + the treatment division (6) +
  yyyyMMddHHmmss (14) + 9 random digits = 30 characters; opaque to clients, unique by construction
  with overwhelming probability and guarded by unique constraints in the database.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from yidi.core.clock import SHANGHAI
from yidi.core.errors import INVALID_IDENTIFIER, YidiError

FIXMEDINS_CODE_RE = re.compile(r"^[HP]\d{11}$", re.ASCII)
DIVISION_RE = re.compile(r"^\d{6}$", re.ASCII)
MSGID_RE = re.compile(r"^(?P<ins>[HP]\d{11})(?P<ts>\d{14})(?P<seq>\d{4})$", re.ASCII)
REFMSGID_RE = re.compile(r"^(?P<adm>\d{6})(?P<ts>\d{14})(?P<serial>\d{10})$", re.ASCII)
PLATFORM_ID_RE = re.compile(r"^(?P<kind>[A-Z])(?P<adm>\d{6})(?P<ts>\d{14})(?P<rand>\d{9})$", re.ASCII)
TS_FORMAT = "%Y%m%d%H%M%S"


class PlatformIdKind(StrEnum):
    VISIT = "V"  # mdtrt_id
    SETTLEMENT = "S"  # setl_id
    FILING = "F"  # trt_dcla_detl_sn
    CLAIM = "R"  # manual reimbursement claim
    CLEARING = "C"
    PAYMENT_BATCH = "B"  # a bank transfer file of payments to persons


@dataclass(frozen=True)
class MsgId:
    fixmedins_code: str
    sent_at: dt.datetime  # naive wall time as written by the sender (Asia/Shanghai)
    sequence: int

    def __str__(self) -> str:
        return f"{self.fixmedins_code}{self.sent_at.strftime(TS_FORMAT)}{self.sequence:04d}"


def _ts(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return moment.strftime(TS_FORMAT)


def require_fixmedins_code(fixmedins_code: str) -> str:
    """The institution code as the national interface writes it (H/P + 11 digits), else a refusal naming it."""
    if not FIXMEDINS_CODE_RE.fullmatch(fixmedins_code):
        raise YidiError(
            INVALID_IDENTIFIER,
            name="fixmedins_code",
            value=fixmedins_code,
            reason="H/P + 11 digits / 应为H或P加11位数字",
        )
    return fixmedins_code


def make_msgid(fixmedins_code: str, moment: dt.datetime, sequence: int) -> str:
    require_fixmedins_code(fixmedins_code)
    if not 0 <= sequence <= 9999:
        raise YidiError(INVALID_IDENTIFIER, name="msgid sequence", value=str(sequence), reason="0–9999")
    return f"{fixmedins_code}{_ts(moment)}{sequence:04d}"


def parse_msgid(msgid: str) -> MsgId:
    m = MSGID_RE.fullmatch(msgid or "")
    if not m:
        raise YidiError(
            INVALID_IDENTIFIER,
            name="msgid",
            value=msgid,
            reason="30 characters: institution code (12) + yyyyMMddHHmmss + 4 digits / "
            "应为机构编码(12位)+yyyyMMddHHmmss+4位顺序号",
        )
    try:
        sent_at = dt.datetime.strptime(m["ts"], TS_FORMAT)
    except ValueError:
        raise YidiError(
            INVALID_IDENTIFIER, name="msgid", value=msgid, reason="timestamp is not a real time / 时间无效"
        ) from None
    return MsgId(m["ins"], sent_at, int(m["seq"]))


def make_refmsgid(admdvs: str, moment: dt.datetime, serial: int) -> str:
    if not DIVISION_RE.fullmatch(admdvs):
        raise YidiError(INVALID_IDENTIFIER, name="admdvs", value=admdvs, reason="6 digits / 应为6位数字")
    if not 0 <= serial < 10**10:
        raise YidiError(INVALID_IDENTIFIER, name="serial", value=str(serial), reason="0–9999999999")
    return f"{admdvs}{_ts(moment)}{serial:010d}"


def new_platform_id(kind: PlatformIdKind, admdvs: str, moment: dt.datetime) -> str:
    if not DIVISION_RE.fullmatch(admdvs):
        raise YidiError(INVALID_IDENTIFIER, name="admdvs", value=admdvs, reason="6 digits / 应为6位数字")
    return f"{kind.value}{admdvs}{_ts(moment)}{secrets.randbelow(10**9):09d}"


def platform_id_kind(value: str) -> PlatformIdKind:
    m = PLATFORM_ID_RE.fullmatch(value or "")
    if not m:
        raise YidiError(INVALID_IDENTIFIER, name="platform id", value=value, reason="unknown format / 格式未知")
    return PlatformIdKind(m["kind"])
