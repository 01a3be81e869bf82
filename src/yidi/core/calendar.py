"""China's working-day calendar: official holidays and make-up working days, from data files.

Review due dates and payment deadlines count working days (工作日). The holiday schedule is announced
each year, so it is data (`data/holidays.yaml` plus any files in YIDI_HOLIDAY_FILES), and a year that
is not in the data raises instead of silently treating holidays as working days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from yidi.core.errors import CALENDAR_YEAR_UNKNOWN, INVALID_DATA_FILE, YidiError


@dataclass(frozen=True)
class HolidayYear:
    year: int
    reference: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    names: dict[dt.date, str] = field(default_factory=dict, compare=False)


class WorkingDayCalendar:
    def __init__(self, years: Iterable[HolidayYear]) -> None:
        self._years = {y.year: y for y in years}

    @property
    def known_years(self) -> list[int]:
        return sorted(self._years)

    def _year(self, day: dt.date) -> HolidayYear:
        try:
            return self._years[day.year]
        except KeyError:
            raise YidiError(CALENDAR_YEAR_UNKNOWN, year=day.year) from None

    def is_working_day(self, day: dt.date) -> bool:
        year = self._year(day)
        if day in year.workdays:
            return True
        if day in year.holidays:
            return False
        return day.weekday() < 5

    def holiday_name(self, day: dt.date) -> str | None:
        return self._year(day).names.get(day)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start` (before it, if negative).

        `start` itself is not counted: a filing submitted on a Thursday with a 3-working-day limit is due
        the following Tuesday. Works across year ends as long as both years are known.
        """
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        day = start
        while remaining:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

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


@lru_cache(maxsize=8)
def load_calendar(extra_files: tuple[str, ...] = ()) -> WorkingDayCalendar:
    text = resources.files("yidi.core").joinpath("data/holidays.yaml").read_text(encoding="utf-8")
    years = {y.year: y for y in parse_holiday_file(text, "yidi/core/data/holidays.yaml")}
    for path in extra_files:  # later files override earlier years (e.g. a corrected notice)
        for y in parse_holiday_file(Path(path).read_text(encoding="utf-8"), path):
            years[y.year] = y
    return WorkingDayCalendar(years.values())


def default_calendar() -> WorkingDayCalendar:
    from yidi.core.config import get_settings

    return load_calendar(tuple(get_settings().holiday_files))


def is_working_day(day: dt.date) -> bool:
    return default_calendar().is_working_day(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    return default_calendar().add_working_days(start, days)
