"""Checks on JSON input before and after parsing: nesting depth, and text the database cannot hold.

The depth is measured on the raw bytes, before any parser recurses into them: a body nested thousands of levels
deep would otherwise exhaust the parser's recursion limit (an internal error instead of a refusal).
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 32  # the national envelope nests four levels; nothing legitimate comes near this

# Possessive (`*+`): a backtracking `*` takes quadratic time on a run of `\\"` (a body an attacker sends unsigned),
# possessive matching is linear. An unterminated string runs to the end (`"?`).
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+"?', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_BAD_CHAR = re.compile(r"[\x00\ud800-\udfff]")  # NUL (PostgreSQL text refuses it), lone surrogates (not UTF-8)
# In JSON text both can only arrive as escapes (a raw NUL is refused by the parser, a raw surrogate is not UTF-8):
# a body without `\u0000` or `\uD8..`–`\uDF..` needs no walk (a paired surrogate escape passes the walk).
_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` levels (strings are skipped)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def bad_text_in(raw: bytes, parsed: Any) -> str | None:
    """`bad_text` of the parsed body, walked only when its text holds an escape that could be one."""
    return bad_text(parsed) if _BAD_ESCAPE.search(raw) else None


def bad_text(value: Any, path: str = "") -> str | None:
    """The path of the first key or string holding NUL or a lone surrogate, else None."""
    if isinstance(value, str):
        return path or "body" if _BAD_CHAR.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _BAD_CHAR.search(key):
                return path or "body"
            found = bad_text(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = bad_text(item, f"{path}[{n}]")
            if found:
                return found
    return None
