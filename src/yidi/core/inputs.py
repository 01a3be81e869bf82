"""Reading the `input` node of an interface message: typed values with precise, bilingual errors.

One place for every context that reads national-interface input (settlement, filing, the gateway): a missing,
overlong or malformed field is refused by name. Each reader raises `BAD_INPUT` (S_INPUT) unless the caller
names its own kind (`kind=`), which must take `field` and `problem`; `field=` reports a value under another
name (a fee line's `feedetail[3].det_item_fee_sumamt`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from yidi.core.clock import SHANGHAI
from yidi.core.errors import ErrorKind, YidiError
from yidi.core.money import parse_amount

BAD_INPUT = ErrorKind("S_INPUT", "输入有误：{field} {problem}", "bad input: {field} {problem}", 422)

# No amount or quantity on the interface comes near this: it keeps every stored fen far inside BIGINT and every
# product (count × price) exact. Business limits (a line, a bill) are parameters, checked where they apply.
MAGNITUDE = Decimal(10) ** 12


def text(
    data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 100, kind: ErrorKind = BAD_INPUT
) -> str:
    """A text field, stripped; "" when it is optional and absent."""
    value = data.get(name)
    if value is None or str(value).strip() == "":
        if required:
            raise YidiError(kind, field=name, problem="is required / 必填")
        return ""
    stripped = str(value).strip()
    if len(stripped) > max_len:
        raise YidiError(kind, field=name, problem=f"longer than {max_len} / 超长")
    return stripped


def time(data: dict[str, Any], name: str, *, required: bool = True, kind: ErrorKind = BAD_INPUT) -> dt.datetime | None:
    """`yyyy-MM-dd HH:mm:ss` (or a bare date, at midnight) in Beijing time; None when optional and absent."""
    value = text(data, name, required=required, max_len=19, kind=kind)
    if not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    raise YidiError(kind, field=name, problem="must be yyyy-MM-dd HH:mm:ss / 时间格式错误")


def iso_date(value: str) -> dt.date | None:
    """The date at the start of `yyyy-MM-dd[ HH:mm:ss]`, or None when it is not one."""
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def date(data: dict[str, Any], name: str, *, kind: ErrorKind = BAD_INPUT) -> dt.date:
    """A required `yyyy-MM-dd` (a time after it is ignored)."""
    day = iso_date(text(data, name, max_len=19, kind=kind))
    if day is None:
        raise YidiError(kind, field=name, problem="must be yyyy-MM-dd / 日期格式错误")
    return day


def amount(data: dict[str, Any], name: str, *, field: str | None = None, kind: ErrorKind = BAD_INPUT) -> Decimal:
    """Money in yuan with at most two decimals (a JSON number keeps the digits the client sent)."""
    value = data.get(name)
    if isinstance(value, float):
        value = repr(value)  # JSON numbers arrive as float; keep the decimal digits the client sent
    if value is None or isinstance(value, bool | dict | list):
        raise YidiError(kind, field=field or name, problem="must be an amount / 应为金额")
    try:
        parsed = parse_amount(value if isinstance(value, str | int) else str(value))
    except YidiError as exc:
        raise YidiError(kind, field=field or name, problem=exc.message_en) from None
    if abs(parsed) >= MAGNITUDE:
        raise YidiError(kind, field=field or name, problem="is out of range / 超出范围")
    return parsed


def decimal(
    data: dict[str, Any], name: str, places: int, *, field: str | None = None, kind: ErrorKind = BAD_INPUT
) -> Decimal:
    """A number (a count, a price) with at most `places` decimals."""
    value = data.get(name)
    if value is None or isinstance(value, bool | dict | list):
        raise YidiError(kind, field=field or name, problem="must be a number / 应为数字")
    written = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        d = Decimal(written)
    except Exception:
        raise YidiError(kind, field=field or name, problem="not a number / 不是数字") from None
    # Magnitude first: quantizing 1e400 would overflow the decimal context instead of refusing.
    if not d.is_finite() or abs(d) >= MAGNITUDE:
        raise YidiError(kind, field=field or name, problem="is out of range / 超出范围")
    if d != d.quantize(Decimal(1).scaleb(-places)):
        raise YidiError(kind, field=field or name, problem=f"needs at most {places} decimals / 小数位过多")
    return d
