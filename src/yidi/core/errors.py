"""Errors that carry a stable code and a message in Chinese and English.

Every error a user, an HIS or a staff member can see is a `YidiError`: the code is stable across releases
(clients may branch on it), the two messages are for people. Messages are format strings filled from
`details`, so the same facts appear in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    code: str
    zh: str
    en: str
    http_status: int = 400


class YidiError(Exception):
    """An expected failure with a stable code and bilingual message."""

    def __init__(self, kind: ErrorKind, **details: Any) -> None:
        self.kind = kind
        self.details = details
        self.message_zh = kind.zh.format(**details)
        self.message_en = kind.en.format(**details)
        super().__init__(f"[{kind.code}] {self.message_zh} / {self.message_en}")

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def http_status(self) -> int:
        return self.kind.http_status

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": {k: _jsonable(v) for k, v in self.details.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


# -- The catalogue of error kinds shared by all contexts. Contexts add their own next to their code. --

INVALID_AMOUNT = ErrorKind("E_AMOUNT", "金额“{value}”无效：{reason}", "invalid amount '{value}': {reason}")
INVALID_CERTNO = ErrorKind("E_CERTNO", "身份证号码无效：{reason}", "invalid resident ID number: {reason}")
UNKNOWN_DIVISION = ErrorKind(
    "E_DIVISION", "未知的行政区划代码“{code}”", "unknown administrative division code '{code}'", 404
)
CALENDAR_YEAR_UNKNOWN = ErrorKind(
    "E_CALENDAR_YEAR",
    "工作日历不含{year}年的法定节假日安排，请先补充节假日数据",
    "the working-day calendar has no official holiday schedule for {year}; add it to the holiday data first",
    500,
)
INVALID_IDENTIFIER = ErrorKind(
    "E_IDENTIFIER", "{name}“{value}”格式无效：{reason}", "invalid {name} '{value}': {reason}"
)
INVALID_FIELD = ErrorKind("E_INPUT", "输入有误：{field} {problem}", "bad input: {field} {problem}", 422)
NOT_FOUND = ErrorKind("E_NOT_FOUND", "未找到{what}“{key}”", "{what} '{key}' not found", 404)
INVALID_DATA_FILE = ErrorKind(
    "E_DATA_FILE", "数据文件 {path} 有误：{reason}", "data file {path} is invalid: {reason}", 500
)
