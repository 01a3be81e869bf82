import datetime as dt

import pytest

from yidi.core.calendar import load_calendar, parse_holiday_file
from yidi.core.errors import YidiError

D = dt.date
cal = load_calendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025 Spring Festival: 1/28–2/4 off; Sunday 1/26 and Saturday 2/8 are make-up working days.
        (D(2025, 1, 26), True),
        (D(2025, 1, 27), True),
        (D(2025, 1, 28), False),
        (D(2025, 2, 4), False),
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),
        (D(2025, 2, 9), False),
        # 2025 National Day and Mid-Autumn: 10/1–10/8 off; Sunday 9/28 and Saturday 10/11 worked.
        (D(2025, 9, 28), True),
        (D(2025, 9, 30), True),
        (D(2025, 10, 1), False),
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),
        # 2026 Spring Festival: 2/15–2/23 off; Saturdays 2/14 and 2/28 worked.
        (D(2026, 2, 14), True),
        (D(2026, 2, 15), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),
        # 2026 National Day: 10/1–10/7 off; Sunday 9/20 and Saturday 10/10 worked; 9/25–27 Mid-Autumn.
        (D(2026, 9, 20), True),
        (D(2026, 9, 25), False),
        (D(2026, 9, 30), True),
        (D(2026, 10, 1), False),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),
        # An ordinary weekend and weekday.
        (D(2026, 11, 21), False),
        (D(2026, 11, 23), True),
    ],
)
def test_working_days_over_official_holidays(day: dt.date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_add_working_days_over_spring_festival_2025() -> None:
    # Friday 2025-01-24; Sunday 1/26 is worked, then 1/27, then the holiday until 2/4.
    assert cal.add_working_days(D(2025, 1, 24), 1) == D(2025, 1, 26)
    assert cal.add_working_days(D(2025, 1, 24), 2) == D(2025, 1, 27)
    assert cal.add_working_days(D(2025, 1, 24), 3) == D(2025, 2, 5)


def test_add_working_days_over_national_day_2025() -> None:
    # Submitted on the last working day before the holiday: 3 working days later is Saturday 10/11.
    assert cal.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)


def test_add_working_days_over_spring_festival_and_national_day_2026() -> None:
    assert cal.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert cal.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert cal.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert cal.add_working_days(D(2026, 10, 10), -1) == D(2026, 10, 9)
    assert cal.add_working_days(D(2026, 10, 8), -1) == D(2026, 9, 30)


def test_working_days_between_counts_like_add() -> None:
    start = D(2026, 9, 30)
    for n in range(0, 15):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def test_add_across_year_end() -> None:
    assert cal.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)  # 1/1–1/3 off, Sunday 1/4 worked


def test_unknown_year_fails_loudly() -> None:
    with pytest.raises(YidiError) as err:
        cal.is_working_day(D(2027, 3, 1))
    assert err.value.code == "E_CALENDAR_YEAR"
    assert "2027" in err.value.message_zh and "2027" in err.value.message_en
    with pytest.raises(YidiError):
        cal.add_working_days(D(2026, 12, 30), 5)  # runs into 2027


def test_holiday_names() -> None:
    assert cal.holiday_name(D(2026, 2, 17)) == "春节"
    assert cal.holiday_name(D(2026, 2, 24)) is None


def test_matches_the_chinese_calendar_package_for_every_day() -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    day = D(2022, 1, 1)
    while day <= D(2026, 12, 31):
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_extra_holiday_file_adds_a_year(tmp_path) -> None:
    extra = tmp_path / "2027.yaml"
    extra.write_text(
        "2027:\n  reference: test notice\n  holidays:\n    - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
        "  workdays: []\n",
        encoding="utf-8",
    )
    c = load_calendar((str(extra),))
    assert not c.is_working_day(D(2027, 1, 1))
    assert c.is_working_day(D(2027, 1, 4))


@pytest.mark.parametrize(
    "body",
    [
        "2027: {reference: x, holidays: [{name: a, from: 2027-01-03, to: 2027-01-01}]}",
        "2027: {reference: x, holidays: [{name: a, from: 2028-01-01, to: 2028-01-01}]}",
        "2027: {reference: x, holidays: [{name: a, from: 2027-01-01, to: 2027-01-01}], workdays: [2027-01-01]}",
        "2027: {holidays: []}",
        "- just a list",
    ],
)
def test_bad_holiday_files_are_refused(body: str) -> None:
    with pytest.raises(YidiError) as err:
        parse_holiday_file(body, "bad.yaml")
    assert err.value.code == "E_DATA_FILE"
