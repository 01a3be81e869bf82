"""Resident ID numbers (公民身份号码, GB 11643-1999): validation and masking.

Masking keeps the six-digit address code and the last four characters (`411102********1234`); it is
what everyone but the person and their agency sees, and what every log line carries.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.cn import ric

from yidi.core.errors import INVALID_CERTNO, YidiError

# The address code is the county where the number was issued, which may postdate the birth (a person born
# in 1956 can hold a code created in 1986), so only its province is checked, not its history.
_PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

# 18-character ID numbers inside free text (for log scrubbing). Birth year 18xx–20xx narrows false hits.
CERTNO_IN_TEXT_RE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})((?:18|19|20)\d{2}[01]\d[0-3]\d\d{3})([0-9Xx])(?![0-9A-Za-z])",
    re.ASCII,
)


def validate_certno(value: str) -> str:
    """Return the normalised 18-character ID number or raise a bilingual error naming the problem."""
    raw = (value or "").strip().upper()
    if len(raw) != 18:
        raise YidiError(INVALID_CERTNO, reason=f"must have 18 characters, got {len(raw)} / 应为18位")
    if not (raw.isascii() and raw[:17].isdigit() and (raw[17].isdigit() or raw[17] == "X")):
        raise YidiError(INVALID_CERTNO, reason="17 digits followed by a digit or X / 前17位为数字，末位为数字或X")
    if raw[:2] not in _PROVINCE_PREFIXES:
        raise YidiError(INVALID_CERTNO, reason=f"address code {raw[:6]} names no province / 地址码不属于任何省份")
    try:
        born = dt.date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        raise YidiError(INVALID_CERTNO, reason="birth date is not a real date / 出生日期无效") from None
    if born.year < 1850:
        raise YidiError(INVALID_CERTNO, reason="birth year before 1850 / 出生年份早于1850年")
    if raw[17] != checksum_char(raw[:17]):
        raise YidiError(INVALID_CERTNO, reason="checksum digit does not match / 校验码不符")
    return raw


def is_valid_certno(value: str) -> bool:
    try:
        validate_certno(value)
    except YidiError:
        return False
    return True


def checksum_char(first17: str) -> str:
    """The GB 11643 check character for 17 digits (used to make synthetic demo numbers)."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("need exactly 17 digits")
    return str(ric.calc_check_digit(first17 + "0"))  # stdnum ignores the last character it is given


def birth_date(certno: str) -> dt.date:
    raw = validate_certno(certno)
    return dt.date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))


def gender(certno: str) -> str:
    """National `gend` code: 1 male, 2 female (17th digit odd/even)."""
    return "1" if int(validate_certno(certno)[16]) % 2 else "2"


def mask_certno(value: str) -> str:
    """`411102********1234`; anything too short to mask safely becomes all stars."""
    raw = (value or "").strip()
    if len(raw) < 11:
        return "*" * len(raw)
    return raw[:6] + "*" * (len(raw) - 10) + raw[-4:]


def mask_certnos_in_text(text: str) -> str:
    """Replace every ID number inside free text by its mask (log lines, error messages)."""
    return CERTNO_IN_TEXT_RE.sub(lambda m: m.group(1) + "********" + m.group(2)[-3:] + m.group(3), text)


_ID_RUN_RE = re.compile(r"[0-9]{17}[0-9Xx]", re.ASCII)


def mask_id_runs(text: str) -> str:
    """Every run that looks like an ID number masked, even inside a longer card or certificate number (a card
    number with a prefix, `A411102…`): for fields that hold certificate numbers, where no boundary can be assumed."""
    return _ID_RUN_RE.sub(lambda m: mask_certno(m.group()), text)


_ANY_18_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])", re.ASCII)


def find_certnos(text: str) -> list[str]:
    """Every valid (checksum and date) unmasked ID number in `text`: the log-leak detector."""
    return [m.group(0) for m in _ANY_18_RE.finditer(text) if is_valid_certno(m.group(0))]
