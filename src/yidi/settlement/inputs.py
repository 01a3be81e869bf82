"""Reading the `input` node of interface transactions: typed values with precise, bilingual errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from yidi.core import audit
from yidi.core.clock import SHANGHAI
from yidi.core.errors import ErrorKind, YidiError
from yidi.core.money import parse_amount
from yidi.core.principal import Principal
from yidi.settlement import engine

REFUSED = ErrorKind("S_REFUSED", "不能直接结算：{reason}", "cannot settle directly: {reason}", 422)
BAD_INPUT = ErrorKind("S_INPUT", "输入有误：{field} {problem}", "bad input: {field} {problem}", 422)
STATE = ErrorKind(
    "S_STATE", "就诊 {mdtrt_id} 当前为{status}，不能{action}", "visit {mdtrt_id} is {status}; cannot {action}", 409
)
MISMATCH = ErrorKind(
    "S_MISMATCH",
    "{field} 与已上传费用不符：传入 {given}，应为 {expected}",
    "{field} does not match the uploaded fees: given {given}, expected {expected}",
    422,
)
COUNT_KEYS = {engine.Acc.INPATIENT_STAYS.value}
OUTPATIENT_TYPES = {"11", "12", "13", "14", "19", "51"}


@dataclass(frozen=True)
class Call:
    principal: Principal  # the institution (signed request)
    msgid: str
    infno: str
    now: dt.datetime
    insuplc_admdvs: str

    @property
    def fixmedins_code(self) -> str:
        return self.principal.subject

    def audit(self, session: Session, action: str, entity_type: str, entity_id: str, after: dict[str, Any]) -> None:
        """The audit row of a state change this call made (the institution, through the interface)."""
        audit.record(
            session,
            at=self.now,
            actor_type="institution",
            actor_id=self.fixmedins_code,
            channel="interface",
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            msgid=self.msgid,
            after=after,
        )


def _str(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 100) -> str:
    value = data.get(name)
    if value is None or str(value).strip() == "":
        if required:
            raise YidiError(BAD_INPUT, field=name, problem="is required / 必填")
        return ""
    text = str(value).strip()
    if len(text) > max_len:
        raise YidiError(BAD_INPUT, field=name, problem=f"longer than {max_len} / 超长")
    return text


def _time(data: dict[str, Any], name: str, *, required: bool = True) -> dt.datetime | None:
    text = _str(data, name, required=required, max_len=19)
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    raise YidiError(BAD_INPUT, field=name, problem="must be yyyy-MM-dd HH:mm:ss / 时间格式错误")


# No amount or quantity on the interface comes near this: it keeps every stored fen far inside BIGINT and every
# product (count × price) exact. Business limits (a line, a bill) are parameters, checked where they apply.
MAGNITUDE = Decimal(10) ** 12


def _amount(data: dict[str, Any], name: str, *, field: str | None = None) -> Decimal:
    value = data.get(name)
    if isinstance(value, float):
        value = repr(value)  # JSON numbers arrive as float; keep the decimal digits the client sent
    if value is None or isinstance(value, bool | dict | list):
        raise YidiError(BAD_INPUT, field=field or name, problem="must be an amount / 应为金额")
    try:
        amount = parse_amount(value if isinstance(value, str | int) else str(value))
    except YidiError as exc:
        raise YidiError(BAD_INPUT, field=field or name, problem=exc.message_en) from None
    if abs(amount) >= MAGNITUDE:
        raise YidiError(BAD_INPUT, field=field or name, problem="is out of range / 超出范围")
    return amount


def _decimal(data: dict[str, Any], name: str, places: int, *, field: str | None = None) -> Decimal:
    value = data.get(name)
    if value is None or isinstance(value, bool | dict | list):
        raise YidiError(BAD_INPUT, field=field or name, problem="must be a number / 应为数字")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        d = Decimal(text)
    except Exception:
        raise YidiError(BAD_INPUT, field=field or name, problem="not a number / 不是数字") from None
    # Magnitude first: quantizing 1e400 would overflow the decimal context instead of refusing.
    if not d.is_finite() or abs(d) >= MAGNITUDE:
        raise YidiError(BAD_INPUT, field=field or name, problem="is out of range / 超出范围")
    if d != d.quantize(Decimal(1).scaleb(-places)):
        raise YidiError(BAD_INPUT, field=field or name, problem=f"needs at most {places} decimals / 小数位过多")
    return d


# -- visits -----------------------------------------------------------------------------------------------
