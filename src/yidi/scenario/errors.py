"""Scenario errors: every refusal names the scenario entry (`persons[3].certno`, `filings[1]`) in both languages.

A `ScenarioError` is a `YidiError` that carries the list of problems found (`problems`), each with its path in
the YAML document. Problems with the file itself (syntax, unknown keys, bad values, unknown references) use
`E_SCENARIO`; rows that already exist use `E_SCENARIO_CONFLICT`; a refusal by a service while loading (a filing
rule, a weak password, a catalogue row) keeps that service's own code (`F_INSTITUTION_COUNT`, `E_PASSWORD`, …)
so clients can branch on it, and prefixes the message with the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import DBAPIError

from yidi.catalog.service import CatalogImportRefused
from yidi.core.errors import ErrorKind, YidiError

INVALID = ErrorKind(
    "E_SCENARIO",
    "场景文件 {source} 有误（{count}处），未写入任何数据。{entry}：{first_zh}",
    "scenario {source} is invalid ({count} problem(s)); nothing was written. {entry}: {first_en}",
    422,
)
CONFLICT = ErrorKind(
    "E_SCENARIO_CONFLICT",
    "场景 {source} 中{count}个条目已存在，未写入任何数据。{entry}：{first_zh}；"
    "如需保留已有数据并跳过这些条目，请在文件顶层写 on_conflict: skip",
    "scenario {source}: rows already exist for {count} entry/entries; nothing was written. {entry}: {first_en}; "
    "write `on_conflict: skip` at the top of the file to keep existing rows and skip those entries",
    409,
)
NOT_ALLOWED = ErrorKind(
    "E_FORBIDDEN",
    "无权加载场景 {source}（{count}处）：{entry}：{first_zh}",
    "not allowed to load scenario {source} ({count} problem(s)): {entry}: {first_en}",
    403,
)
DATABASE = ErrorKind(
    "E_SCENARIO_DB",
    "场景 {source} 的条目 {entry} 无法写入数据库，未写入任何数据：{first_zh}",
    "scenario {source}: entry {entry} could not be written, nothing was written: {first_en}",
    422,
)


@dataclass(frozen=True)
class Problem:
    """One problem at one place of the scenario document."""

    path: str  # e.g. persons[3].certno; "(document)" for the whole file
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.path}: {self.en} / {self.zh}"


class ScenarioError(YidiError):
    """A scenario refused as a whole. `problems` lists every problem found (at least one)."""

    def __init__(
        self, kind: ErrorKind, source: str, problems: Sequence[Problem], cause: YidiError | None = None
    ) -> None:
        if not problems:
            raise ValueError("a ScenarioError needs at least one problem")
        self.problems = list(problems)
        self.cause = cause
        first = self.problems[0]
        super().__init__(
            kind, source=source, entry=first.path, count=len(self.problems), first_zh=first.zh, first_en=first.en
        )

    @property
    def entry(self) -> str:
        return self.problems[0].path

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["problems"] = [{"path": p.path, "zh": p.zh, "en": p.en} for p in self.problems[:1000]]
        if self.cause is not None:
            body["cause"] = self.cause.as_dict()
        return body


def entry_failure(source: str, path: str, cause: YidiError) -> ScenarioError:
    """A service refused entry `path`: keep its code, name the entry in both languages."""
    kind = ErrorKind(
        cause.code,
        "场景 {source} 的条目 {entry} 被拒绝，未写入任何数据：{first_zh}",
        "scenario {source}: entry {entry} was refused, nothing was written: {first_en}",
        cause.http_status,
    )
    rows: list[Problem] = []
    if isinstance(cause, CatalogImportRefused):  # every bad row of the catalogue file, by row and column
        rows = [Problem(f"{path}.file row {e.row}, {e.column}", e.problem, e.problem) for e in cause.errors]
    return ScenarioError(kind, source, [Problem(path, cause.message_zh, cause.message_en), *rows], cause)


def database_failure(source: str, path: str, exc: DBAPIError) -> ScenarioError:
    """A constraint the checks did not foresee; the driver's first line, never the statement's parameters."""
    detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0][:300]
    return ScenarioError(DATABASE, source, [Problem(path, f"数据库拒绝写入：{detail}", f"database refused: {detail}")])


class Bilingual(ValueError):
    """A validation message in both languages (raised inside pydantic validators)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.zh, self.en = zh, en

    @classmethod
    def of(cls, exc: YidiError) -> Bilingual:
        return cls(exc.message_zh, exc.message_en)


# -- pydantic errors → bilingual problems with a document path ------------------------------------------

_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段（文档中没有这个键）",
    "string_type": "应为文本（代码请加引号）",
    "string_pattern_mismatch": "格式不符",
    "string_too_short": "文本过短",
    "string_too_long": "文本过长",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期，不应含时刻",
    "datetime_type": "应为日期时间（YYYY-MM-DDTHH:MM:SS+08:00）",
    "datetime_parsing": "应为日期时间（YYYY-MM-DDTHH:MM:SS+08:00）",
    "datetime_from_date_parsing": "应为日期时间（YYYY-MM-DDTHH:MM:SS+08:00）",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为键值映射",
    "model_type": "应为键值映射",
    "model_attributes_type": "应为键值映射",
    "too_short": "项数过少",
    "too_long": "项数过多",
    "decimal_type": "应为十进制数",
    "decimal_parsing": "应为十进制数",
}


_EN = {
    "missing": "required field missing",
    "extra_forbidden": "unknown key (not part of the scenario format)",
}


def path_of(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _problem(err: ErrorDetails) -> Problem:
    path = path_of(err["loc"])
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, Bilingual):
        return Problem(path, error.zh, error.en)
    msg = err["msg"].removeprefix("Value error, ")
    ctx = err.get("ctx") or {}
    zh = _ZH.get(err["type"], "取值无效")
    if "expected" in ctx:
        zh += f"：应为 {ctx['expected']}"
    elif "pattern" in ctx:
        zh += f"：应匹配 {ctx['pattern']}"
    elif err["type"] == "value_error":
        zh += f"：{msg}"
    return Problem(path, zh, _EN.get(err["type"], msg))


def problems_of(exc: ValidationError) -> list[Problem]:
    return [_problem(e) for e in exc.errors(include_url=False, include_input=False)]
