"""The platform's time: Asia/Shanghai. Services take a clock so tests can fix "now"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], dt.datetime]


def now() -> dt.datetime:
    """Aware current time in Asia/Shanghai."""
    return dt.datetime.now(SHANGHAI)


def today() -> dt.date:
    return now().date()


def fixed(moment: dt.datetime) -> Clock:
    """A clock that always answers `moment` (for tests and replays)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    return lambda: aware


def to_shanghai(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the platform only handles aware times")
    return moment.astimezone(SHANGHAI)
