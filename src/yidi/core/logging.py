"""Structured JSON logs, one object a line, with ID numbers masked in every line.

Masking happens in the formatter, after the message and any `extra` fields are rendered, so no code path
can log a full ID number by accident (the rule is enforced here, not at each call site).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from yidi.core.certno import mask_certnos_in_text
from yidi.core.clock import SHANGHAI

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, SHANGHAI).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_certnos_in_text(json.dumps(entry, ensure_ascii=False, default=str))


class MaskingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_certnos_in_text(super().format(record))


def configure_logging(level: str = "INFO", json_lines: bool = True, stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else MaskingTextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
