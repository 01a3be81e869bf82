"""Reading the `input` node of an interface message: typed values with precise, bilingual errors.

One place for every context that reads national-interface input (settlement, filing, the gateway): a missing,
overlong or malformed field is refused by name. Each reader raises `BAD_INPUT` (S_INPUT) unless the caller
names its own kind (`kind=`), which must take `field` and `problem`; `field=` reports a value under another
name (a fee line's `feedetail[3].det_item_fee_sumamt`).

What a vendor HIS sends is taken as it comes:
- a blank value (`""`, spaces, `null`) is the field left out: an optional field is absent, a required one is
  refused as required;
- amounts, counts and prices are JSON numbers or numeric strings (`12.5`, `"12.50"`, `1.25e1`), ASCII digits only;
- date-times are `yyyy-MM-dd HH:mm:ss` or ISO 8601 (`2026-12-01T09:30:00`, with a fraction, with `Z` or an
  offset such as `+08:00` / `+0800`), converted to Beijing time; a fraction of a second is dropped (truncated,
  so that 23:59:59.9 stays on its day). A bare date is midnight.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, overload

from yidi.core.clock import SHANGHAI
from yidi.core.errors import ErrorKind, YidiError
from yidi.core.money import parse_amount

BAD_INPUT = ErrorKind("S_INPUT", "输入有误：{field} {problem}", "bad input: {field} {problem}", 422)

# No amount or quantity on the interface comes near this: it keeps every stored fen far inside BIGINT and every
# product (count × price) exact. Business limits (a line, a bill) are parameters, checked where they apply.
MAGNITUDE = Decimal(10) ** 12

# The longest date-time accepted: `2026-12-01T09:30:00.123456789+08:00` (ISO 8601, nanoseconds and an offset).
TIME_MAX_LEN = 35
_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
# A JSON number as text (the gateway parses numbers as their text, never as float): no sign-only, no NaN.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)


def blank(value: Any) -> bool:
    """Whether a value counts as left out: missing, null, or text of nothing but spaces."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def text(
    data: dict[str, Any],
    name: str,
    *,
    required: bool = True,
    max_len: int = 100,
    kind: ErrorKind = BAD_INPUT,
    field: str | None = None,
) -> str:
    """A text field, stripped; "" when it is optional and absent. A number is taken as its text; an object, a
    list or true/false where text belongs is refused."""
    value = data.get(name)
    where = field or name
    if blank(value):
        if required:
            raise YidiError(kind, field=where, problem="is required / 必填")
        return ""
    if isinstance(value, bool | dict | list):
        raise YidiError(kind, field=where, problem="must be text / 应为文本")
    stripped = str(value).strip()
    if len(stripped) > max_len:
        raise YidiError(kind, field=where, problem=f"longer than {max_len} / 超长")
    return stripped


def parse_time(value: str, *, bare_date: bool = True) -> dt.datetime | None:
    """`yyyy-MM-dd[( |T)HH:mm:ss[.fraction][Z|±hh[:mm]]]` as an aware Beijing time to the second, or None when the
    text is not one (or names no real instant). Without an offset the time is Beijing time; a bare date is its
    midnight, unless `bare_date` is False."""
    m = _TIME_RE.fullmatch(value)
    if m is None or (m.group(4) is None and not bare_date):
        return None
    year, month, day, hour, minute, second, _fraction, offset = m.groups()
    try:
        zone: dt.tzinfo = SHANGHAI
        if offset and offset != "Z":
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            if int(digits[2:] or 0) > 59:
                return None
            zone = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))
        elif offset == "Z":
            zone = dt.UTC
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=zone
        )
        return moment.astimezone(SHANGHAI)
    except (ValueError, OverflowError):  # 2026-02-30, 24:00:00, an offset of a day or more, year 0 after conversion
        return None


def time_text(moment: dt.datetime | None) -> str | None:
    """A date-time as the interface writes it in answers: `yyyy-MM-dd HH:mm:ss` in Beijing time; None when unknown."""
    return None if moment is None else moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def time(
    data: dict[str, Any], name: str, *, required: bool = True, kind: ErrorKind = BAD_INPUT, field: str | None = None
) -> dt.datetime | None:
    """A date-time in Beijing time (see `parse_time`); None when optional and absent."""
    value = text(data, name, required=required, max_len=TIME_MAX_LEN, kind=kind, field=field)
    if not value:
        return None
    moment = parse_time(value)
    if moment is None:
        raise YidiError(
            kind,
            field=field or name,
            problem="must be yyyy-MM-dd HH:mm:ss or ISO 8601 / 时间格式错误（yyyy-MM-dd HH:mm:ss 或 ISO 8601）",
        )
    return moment


def iso_date(value: str) -> dt.date | None:
    """The day of `yyyy-MM-dd` or of a date-time (its day in Beijing, after converting an offset), or None."""
    moment = parse_time(value)
    return None if moment is None else moment.date()


def date(data: dict[str, Any], name: str, *, kind: ErrorKind = BAD_INPUT, field: str | None = None) -> dt.date:
    """A required day: `yyyy-MM-dd`, or a date-time whose day (in Beijing) is taken."""
    day = optional_date(data, name, kind=kind, field=field)
    if day is None:
        raise YidiError(kind, field=field or name, problem="is required / 必填")
    return day


def optional_date(
    data: dict[str, Any], name: str, *, kind: ErrorKind = BAD_INPUT, field: str | None = None
) -> dt.date | None:
    """A day as in `date`; None when absent."""
    value = text(data, name, required=False, max_len=TIME_MAX_LEN, kind=kind, field=field)
    if not value:
        return None
    day = iso_date(value)
    if day is None:
        raise YidiError(kind, field=field or name, problem="must be yyyy-MM-dd / 日期格式错误")
    return day


def _number_text(value: Any, where: str, kind: ErrorKind) -> str:
    """The text of a number given as a JSON number or a numeric string; a blank is refused as required."""
    if blank(value):
        raise YidiError(kind, field=where, problem="is required / 必填")
    if isinstance(value, bool | dict | list):
        raise YidiError(kind, field=where, problem="must be a number / 应为数字")
    written = repr(value) if isinstance(value, float) else str(value).strip()  # a float: the digits the client sent
    if not _NUMBER_RE.fullmatch(written):
        raise YidiError(kind, field=where, problem="not a number / 不是数字")
    return written


def amount(data: dict[str, Any], name: str, *, field: str | None = None, kind: ErrorKind = BAD_INPUT) -> Decimal:
    """Money in yuan with at most two decimals (a JSON number keeps the digits the client sent)."""
    where = field or name
    value = data.get(name)
    try:
        if isinstance(value, str) and "," in value:  # "1,234.56": parse_amount checks where the commas stand
            parsed = parse_amount(value)
        else:
            parsed = parse_amount(_bounded(Decimal(_number_text(value, where, kind)), where, kind))
    except YidiError as exc:
        if exc.kind is kind:
            raise
        raise YidiError(kind, field=where, problem=exc.message_en) from None
    except InvalidOperation:  # more digits than the decimal context holds
        raise YidiError(kind, field=where, problem="is out of range / 超出范围") from None
    return _bounded(parsed, where, kind)


def _bounded(d: Decimal, where: str, kind: ErrorKind) -> Decimal:
    """Refuse what no amount or quantity on the interface comes near, before any arithmetic on it."""
    if not d.is_finite() or abs(d) >= MAGNITUDE:
        raise YidiError(kind, field=where, problem="is out of range / 超出范围")
    return d


def optional_amount(
    data: dict[str, Any], name: str, *, field: str | None = None, kind: ErrorKind = BAD_INPUT
) -> Decimal | None:
    """An amount as in `amount`; None when absent (left out or blank)."""
    return None if blank(data.get(name)) else amount(data, name, field=field, kind=kind)


def decimal(
    data: dict[str, Any], name: str, places: int, *, field: str | None = None, kind: ErrorKind = BAD_INPUT
) -> Decimal:
    """A number (a count, a price) with at most `places` decimals."""
    where = field or name
    # Magnitude first: quantizing 1e400 would overflow the decimal context instead of refusing.
    d = _bounded(Decimal(_number_text(data.get(name), where, kind)), where, kind)
    if d != d.quantize(Decimal(1).scaleb(-places)):
        raise YidiError(kind, field=where, problem=f"needs at most {places} decimals / 小数位过多")
    return d


@overload
def number(
    data: dict[str, Any],
    name: str,
    precision: int,
    scale: int = 0,
    *,
    required: Literal[True] = True,
    field: str | None = None,
    kind: ErrorKind = BAD_INPUT,
) -> Decimal: ...


@overload
def number(
    data: dict[str, Any],
    name: str,
    precision: int,
    scale: int = 0,
    *,
    required: Literal[False],
    field: str | None = None,
    kind: ErrorKind = BAD_INPUT,
) -> Decimal | None: ...


def number(
    data: dict[str, Any],
    name: str,
    precision: int,
    scale: int = 0,
    *,
    required: bool = True,
    field: str | None = None,
    kind: ErrorKind = BAD_INPUT,
) -> Decimal | None:
    """A non-negative number of the specification's type 数值型 (precision, scale): at most `scale` decimals and
    `precision - scale` digits before the point (孕周数 is (2,0): 0 to 99). None when optional and absent."""
    where = field or name
    if blank(data.get(name)) and not required:
        return None
    d = decimal(data, name, scale, field=where, kind=kind)
    if d < 0 or d >= Decimal(10) ** (precision - scale):
        top = Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)
        raise YidiError(kind, field=where, problem=f"must be 0 to {top} / 超出范围")
    return d


def flag(
    data: dict[str, Any], name: str, *, default: bool = False, field: str | None = None, kind: ErrorKind = BAD_INPUT
) -> bool:
    """A 0/1 flag (0 否, 1 是); `default` when absent or blank. Any other value is refused: a flag that means
    "use the account" must not be read as "no" because the HIS wrote it another way."""
    value = text(data, name, required=False, max_len=3, kind=kind, field=field)
    if not value:
        return default
    if value not in ("0", "1"):
        raise YidiError(kind, field=field or name, problem="must be 0 or 1 / 应为0或1")
    return value == "1"
