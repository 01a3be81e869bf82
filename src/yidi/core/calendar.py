"""China's working-day calendar: official holidays and make-up working days, from data files.

Review due dates and payment deadlines count working days (工作日). The holiday schedule is announced
each year by the State Council's notice, so it is data: `data/holidays.yaml`, then the files in
YIDI_HOLIDAY_FILES, then the notices installed with `yidi calendar add-year FILE` (kept in
`<YIDI_DATA_DIR>/calendar/`); a later source replaces a year of an earlier one.

A year before or between the notices raises E_CALENDAR_YEAR rather than guess. A year after the last notice
is different: from December, due dates reach into a year whose notice may not be out yet, and refusing would
stop the work. The platform's calendar (`default_calendar`) counts such a year provisionally, weekends only,
and every answer that used it says so (`CountedDate.provisional`); a warning is logged once a day while it
happens, and `yidi calendar add-year` recomputes the provisional due dates once the notice is in.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from yidi.core import clock
from yidi.core.errors import CALENDAR_YEAR_UNKNOWN, INVALID_DATA_FILE, ErrorKind, YidiError

log = logging.getLogger("yidi.calendar")

# How far ahead the health check looks for a provisional year: review and proof deadlines are weeks long.
PROVISIONAL_HORIZON_DAYS = 60
INSTALLED_DIR = "calendar"  # under YIDI_DATA_DIR: the notices installed by `yidi calendar add-year`

PROVISIONAL_YEAR = ErrorKind(
    "W_CALENDAR_PROVISIONAL",
    "工作日历尚无{year}年的法定节假日安排（国务院办公厅通知），暂按周末休息计算，据此得出的到期日为暂定；"
    "通知发布后请运行 yidi calendar add-year FILE 导入",
    "the working-day calendar has no official holiday notice for {year} yet and counts it provisionally "
    "(weekends only); due dates counted over it are provisional until the notice is added with "
    "`yidi calendar add-year FILE`",
    200,
)
INVALID_NOTICE = ErrorKind(
    "E_CALENDAR_NOTICE",
    "节假日安排文件 {path} 不能导入：{reason}",
    "holiday notice file {path} cannot be added: {reason}",
    422,
)


@dataclass(frozen=True)
class HolidayYear:
    year: int
    reference: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    names: dict[dt.date, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CountedDate:
    """A date counted in working days, and the years it was counted over without an official notice."""

    date: dt.date
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


class WorkingDayCalendar:
    """Working days from the official notices.

    With `provisional=True` (the platform's calendar), a year after the last notice is counted weekends only
    instead of refused; without it (the default, for checks of the data itself) such a year raises too.
    """

    def __init__(self, years: Iterable[HolidayYear], *, provisional: bool = False) -> None:
        self._years = {y.year: y for y in years}
        self.provisional = provisional
        self._last = max(self._years, default=0)

    @property
    def known_years(self) -> list[int]:
        return sorted(self._years)

    def is_provisional_year(self, year: int) -> bool:
        """Whether `year` is counted weekends only (no notice yet) rather than from its notice."""
        return self.provisional and year > self._last

    def provisional_years_between(self, start: dt.date, end: dt.date) -> list[int]:
        """The provisional years among those of the days from `start` to `end` (both included)."""
        return [y for y in range(start.year, end.year + 1) if self.is_provisional_year(y)]

    def _year(self, day: dt.date) -> HolidayYear | None:
        """The year's notice; None for a provisional year (and the day's warning); E_CALENDAR_YEAR otherwise."""
        year = self._years.get(day.year)
        if year is None:
            if not self.is_provisional_year(day.year):
                raise YidiError(CALENDAR_YEAR_UNKNOWN, year=day.year)
            warn_provisional(day.year)
        return year

    def is_working_day(self, day: dt.date) -> bool:
        year = self._year(day)
        if year is not None:
            if day in year.workdays:
                return True
            if day in year.holidays:
                return False
        return day.weekday() < 5

    def holiday_name(self, day: dt.date) -> str | None:
        year = self._year(day)
        return None if year is None else year.names.get(day)

    def count_working_days(self, start: dt.date, days: int) -> CountedDate:
        """The date `days` working days after `start` (before it, if negative), marked provisional when any
        day counted over lies in a year without a notice.

        `start` itself is not counted: a filing submitted on a Thursday with a 3-working-day limit is due
        the following Tuesday. Works across year ends.
        """
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        day = start
        while remaining:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return CountedDate(day, tuple(self.provisional_years_between(min(start, day), max(start, day))))

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """`count_working_days` without saying whether the answer is provisional."""
        return self.count_working_days(start, days).date

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many working days have passed from start to end."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count


def parse_holiday_file(text: str, source: str) -> list[HolidayYear]:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise YidiError(INVALID_DATA_FILE, path=source, reason=str(exc)) from exc
    if not isinstance(data, dict):
        raise YidiError(INVALID_DATA_FILE, path=source, reason="top level must map years to schedules")
    years = []
    for year, body in data.items():
        try:
            holidays: set[dt.date] = set()
            names: dict[dt.date, str] = {}
            for rng in body["holidays"]:
                day, end = rng["from"], rng["to"]
                if not (isinstance(day, dt.date) and isinstance(end, dt.date)) or end < day:
                    raise ValueError(f"bad range {rng}")
                while day <= end:
                    holidays.add(day)
                    names[day] = str(rng["name"])
                    day += dt.timedelta(days=1)
            workdays = set(body.get("workdays") or [])
            for d in holidays | workdays:
                if d.year != int(year):
                    raise ValueError(f"{d} is outside year {year}")
            if overlap := holidays & workdays:
                raise ValueError(f"days both holiday and workday: {sorted(overlap)}")
            years.append(
                HolidayYear(int(year), str(body["reference"]), frozenset(holidays), frozenset(workdays), names)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise YidiError(INVALID_DATA_FILE, path=source, reason=f"year {year}: {exc}") from exc
    return years


def load_calendar(extra_files: tuple[str, ...] = (), *, provisional: bool = False) -> WorkingDayCalendar:
    """The shipped notices, then `extra_files` in order (a later file replaces a year of an earlier one)."""
    # Each file's modification time is part of the cache key, so a notice installed by `yidi calendar add-year`
    # (or a corrected file) is seen by running servers at their next count, without a restart.
    return _load(tuple((path, _mtime(path)) for path in extra_files), provisional)


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1  # missing: reading it below raises with the path in the message


@lru_cache(maxsize=8)
def _load(extra_files: tuple[tuple[str, int], ...], provisional: bool) -> WorkingDayCalendar:
    text = resources.files("yidi.core").joinpath("data/holidays.yaml").read_text(encoding="utf-8")
    years = {y.year: y for y in parse_holiday_file(text, "yidi/core/data/holidays.yaml")}
    for path, _ in extra_files:  # later files override earlier years (e.g. a corrected notice)
        try:
            content = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise YidiError(INVALID_DATA_FILE, path=path, reason=f"cannot be read: {exc.strerror}") from exc
        for y in parse_holiday_file(content, path):
            years[y.year] = y
    return WorkingDayCalendar(years.values(), provisional=provisional)


def installed_dir(data_dir: Path | None = None) -> Path:
    """Where `yidi calendar add-year` keeps the notices it installed."""
    if data_dir is None:
        from yidi.core.config import get_settings

        data_dir = get_settings().data_dir
    return Path(data_dir) / INSTALLED_DIR


def installed_files(data_dir: Path | None = None) -> tuple[str, ...]:
    folder = installed_dir(data_dir)
    return tuple(str(p) for p in sorted(folder.glob("holidays-*.yaml"))) if folder.is_dir() else ()


def default_calendar() -> WorkingDayCalendar:
    """The platform's calendar: every notice it has (shipped, YIDI_HOLIDAY_FILES, installed), provisional after
    the last one."""
    return notice_calendar(provisional=True)


class DueDated(Protocol):
    """A case with a review deadline counted in working days (a filing, a claim, a review of a settlement)."""

    due_date: dt.date | None
    due_from: dt.date | None  # the day the working days count from
    due_date_provisional: bool
    version: int


Case = TypeVar("Case", bound=DueDated)


def recount_provisional(
    cases: Iterable[Case],
    working_days: Callable[[Case, dt.date], int],
    snapshot: Callable[[Case], dict[str, Any]],
    audit: Callable[[Case, dict[str, Any]], None],
) -> dict[str, int]:
    """Recount the deadlines that were counted over a year without a holiday notice, from the day they were
    counted from, with the calendar as it is now (after `yidi calendar add-year`). `working_days(case, start)` is
    the limit as when it was counted; a case whose deadline or mark changes gets a new version and `audit(case,
    before)`. Running it again changes nothing more."""
    calendar = default_calendar()
    counts = {"recomputed": 0, "unchanged": 0, "still_provisional": 0}
    for case in cases:
        start = case.due_from
        assert start is not None  # selected so: the start is always kept with the date
        before = snapshot(case)
        due = calendar.count_working_days(start, working_days(case, start))
        case.due_date, case.due_date_provisional = due.date, due.provisional
        if snapshot(case) == before:
            counts["unchanged"] += 1
        else:
            case.version += 1
            counts["recomputed"] += 1
            audit(case, before)
        counts["still_provisional"] += bool(case.due_date_provisional)
    return counts


def notice_calendar(*, provisional: bool = False) -> WorkingDayCalendar:
    """Every notice the platform has; by default only them (a year without one raises E_CALENDAR_YEAR)."""
    from yidi.core.config import get_settings

    return load_calendar(tuple(get_settings().holiday_files) + installed_files(), provisional=provisional)


# -- years without a notice ---------------------------------------------------------------------------------

_warned: set[tuple[dt.date, int]] = set()
_warned_lock = threading.Lock()


def warn_provisional(year: int) -> bool:
    """Log that `year` is counted provisionally, at most once per process, year and calendar day (so the
    warning repeats daily until the notice is added without flooding the log); True when it logged now."""
    today = clock.today()
    with _warned_lock:
        if (today, year) in _warned:
            return False
        _warned.difference_update({k for k in _warned if k[0] != today})  # earlier days are done with
        _warned.add((today, year))
    err = YidiError(PROVISIONAL_YEAR, year=year)
    log.warning(
        f"{err.message_zh} / {err.message_en}",
        extra={"code": PROVISIONAL_YEAR.code, "year": year},
    )
    return True


def provisional_years_in_reach(
    calendar: WorkingDayCalendar, today: dt.date, horizon_days: int = PROVISIONAL_HORIZON_DAYS
) -> list[int]:
    """The provisional years that deadlines counted from `today` can reach within `horizon_days`."""
    return calendar.provisional_years_between(today, today + dt.timedelta(days=horizon_days))


def calendar_health(today: dt.date, horizon_days: int = PROVISIONAL_HORIZON_DAYS) -> dict[str, Any]:
    """The calendar section of /healthz: which years in reach are provisional (each warned once a day)."""
    try:
        calendar = default_calendar()
    except YidiError as exc:  # a broken holiday file: say so rather than fail the whole health answer
        return {"status": "fail", **exc.as_dict()}
    years = provisional_years_in_reach(calendar, today, horizon_days)
    for year in years:
        warn_provisional(year)
    answer: dict[str, Any] = {
        "status": "provisional" if years else "ok",
        "known_years": calendar.known_years,
        "provisional_years": years,
        "horizon_days": horizon_days,
    }
    if years:
        err = YidiError(PROVISIONAL_YEAR, year="、".join(str(y) for y in years))
        answer |= {"code": err.code, "message_zh": err.message_zh, "message_en": err.message_en}
    return answer


# -- adding a year's notice ---------------------------------------------------------------------------------


def check_notice(text: str, source: str) -> HolidayYear:
    """A notice file for one year, checked beyond the file layout: the checks a typo would fail."""
    try:
        years = parse_holiday_file(text, source)
    except YidiError as exc:
        raise YidiError(INVALID_NOTICE, path=source, reason=exc.details.get("reason", exc.message_en)) from exc
    if len(years) != 1:
        raise YidiError(INVALID_NOTICE, path=source, reason=f"one year per file / 每个文件只含一年（{len(years)}）")
    year = years[0]
    if not 2000 <= year.year <= 2100:
        raise YidiError(INVALID_NOTICE, path=source, reason=f"year {year.year} out of range / 年份超出范围")
    if not year.holidays:
        raise YidiError(INVALID_NOTICE, path=source, reason="no holidays listed / 未列出任何节假日")
    if weekdays := sorted(d for d in year.workdays if d.weekday() < 5):
        # A make-up working day (调休上班) is always a Saturday or Sunday; a weekday here is a typo.
        listed = ", ".join(str(d) for d in weekdays)
        raise YidiError(
            INVALID_NOTICE, path=source, reason=f"workdays that are not weekend days: {listed} / 调休上班日应为周末"
        )
    return year


def install_notice(text: str, source: str, data_dir: Path | None = None) -> tuple[HolidayYear, Path]:
    """Check a year's notice and install it where `default_calendar` reads it (replacing an earlier install)."""
    year = check_notice(text, source)
    folder = installed_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"holidays-{year.year}.yaml"
    tmp = target.with_suffix(".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)  # atomic: a server reading meanwhile sees the old file or the new one, never half
    return year, target


def is_working_day(day: dt.date) -> bool:
    return default_calendar().is_working_day(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    return default_calendar().add_working_days(start, days)
