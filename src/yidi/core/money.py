"""Money: integer fen in storage, `Decimal` yuan at the edges, never float.

Rounding is half up to 0.01 unless a parameter says otherwise. Parsing accepts "1234.5", "1,234.56" and
"-0.01"; anything with more than two decimals is refused at the edges (it would hide a rounding decision)
unless the caller rounds it explicitly with `round_yuan`.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from yidi.core.errors import INVALID_AMOUNT, YidiError

CENT = Decimal("0.01")
_AMOUNT_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$", re.ASCII)


def round_yuan(amount: Decimal, quantum: Decimal = CENT) -> Decimal:
    """Round half up to `quantum` (0.01 by default)."""
    _require_decimal(amount)
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def round_ratio(ratio: Decimal, places: int = 4) -> Decimal:
    """Ratios travel as decimal(5,4) on the national interface."""
    _require_decimal(ratio)
    return ratio.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    """Exact conversion yuan → fen; refuses amounts that are not whole fen."""
    _require_decimal(amount)
    if not amount.is_finite():
        raise YidiError(INVALID_AMOUNT, value=str(amount), reason="not a finite number / 不是有限数值")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise YidiError(INVALID_AMOUNT, value=str(amount), reason="more than two decimals / 小数超过两位")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """fen → yuan with exactly two decimals."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be int, got {type(fen).__name__}")
    return (Decimal(fen) / 100).quantize(CENT)


def parse_amount(text: str | int | Decimal) -> Decimal:
    """Parse an amount from user or interface input. Thousands separators are allowed; floats are not."""
    if isinstance(text, bool) or isinstance(text, float):
        raise YidiError(INVALID_AMOUNT, value=str(text), reason="must be text or integer, not float / 不得为浮点数")
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, int):
        value = Decimal(text)
    else:
        raw = text.strip()
        if not _AMOUNT_RE.match(raw):
            raise YidiError(INVALID_AMOUNT, value=text, reason="not a decimal number / 不是十进制数")
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
            raise YidiError(INVALID_AMOUNT, value=text, reason="not a decimal number / 不是十进制数") from exc
    to_fen(value)  # refuses sub-fen precision
    return value.quantize(CENT)


def format_amount(amount: Decimal | int) -> str:
    """ "1,234.56"; an int is taken as fen."""
    value = from_fen(amount) if isinstance(amount, int) and not isinstance(amount, bool) else amount
    if not isinstance(value, Decimal):
        raise TypeError("amount must be Decimal yuan or int fen")
    return f"{round_yuan(value):,.2f}"


def _require_decimal(value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"money and ratios must be Decimal, got {type(value).__name__}")
