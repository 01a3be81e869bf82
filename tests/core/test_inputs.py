"""The input readers take what vendor HIS send: ISO 8601 times with offsets, numbers as JSON numbers or text,
blanks as absent; and refuse the rest by name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.core import inputs
from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError


def _bj(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("sent", "meant"),
    [
        ("2026-12-01 09:30:00", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:00", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:00.123", _bj(2026, 12, 1, 9, 30)),  # the fraction is dropped
        ("2026-12-01T09:30:00,5", _bj(2026, 12, 1, 9, 30)),  # ISO 8601 allows a comma
        ("2026-12-01T23:59:59.999999999", _bj(2026, 12, 1, 23, 59, 59)),  # truncated: the day does not change
        ("2026-12-01T01:30:00Z", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T01:30:00+00:00", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T01:30:00+0000", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:00+08:00", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:00+0800", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:00+08", _bj(2026, 12, 1, 9, 30)),
        ("2026-11-30T20:30:00-05:00", _bj(2026, 12, 1, 9, 30)),
        ("2026-11-30T17:00:00Z", _bj(2026, 12, 1, 1, 0)),  # another day in UTC, the next in Beijing
        ("2026-12-01 09:30:00+08:00", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:00.123456789+08:00", _bj(2026, 12, 1, 9, 30)),  # the longest form: 35 characters
        ("  2026-12-01 09:30:00 ", _bj(2026, 12, 1, 9, 30)),
        ("2026-12-01", _bj(2026, 12, 1)),  # a bare date is its midnight, as before
    ],
)
def test_time_reads_every_form_a_his_sends_as_beijing_time(sent: str, meant: dt.datetime) -> None:
    got = inputs.time({"begntime": sent}, "begntime")
    assert got == meant and got is not None and got.utcoffset() == dt.timedelta(hours=8)
    assert got.microsecond == 0


@pytest.mark.parametrize(
    "sent",
    [
        "2026-12-01T09:30",  # no seconds
        "2026/12/01 09:30:00",
        "2026-12-1 09:30:00",
        "20261201093000",
        "2026-02-30 09:30:00",
        "2026-12-01T24:00:00",
        "2026-12-01T23:59:60",
        "2026-12-01T09:30:00+08:75",
        "2026-12-01T09:30:00+24:00",
        "2026-12-01T09:30:00+8:00",
        "2026-12-01T09:30:00.1234567890",  # ten fraction digits: past the bound
        "2026-12-01T09:30:00.1234567890+08:00",  # 36 characters
        "２０２６-12-01 09:30:00",  # full-width digits
        "2026-12-01Z",
        "0000-01-01 00:00:00",
        "9999-12-31T23:00:00-08:00",  # after 9999 once in Beijing
        "yesterday",
    ],
)
def test_time_refuses_what_is_not_a_date_time_naming_the_field(sent: str) -> None:
    with pytest.raises(YidiError) as caught:
        inputs.time({"t": sent}, "t", field="feedetail[2].fee_ocur_time")
    assert "feedetail[2].fee_ocur_time" in caught.value.message_en


@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2999, 12, 30)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
    st.sampled_from(["+HH:MM", "+HHMM"]),
)
def test_an_iso_time_with_any_offset_is_the_same_instant_in_beijing(
    naive: dt.datetime, minutes: int, style: str
) -> None:
    zone = dt.timezone(dt.timedelta(minutes=minutes))
    moment = naive.replace(tzinfo=zone)
    sent = moment.isoformat()  # +HH:MM, with microseconds when there are any
    if style == "+HHMM":
        sent = sent[:-3] + sent[-2:]
    got = inputs.time({"t": sent}, "t")
    assert got is not None and got.tzinfo is SHANGHAI
    assert got == moment.replace(microsecond=0)


def test_a_blank_time_is_absent_or_required() -> None:
    for blank in ("", "   ", None):
        assert inputs.time({"t": blank}, "t", required=False) is None
        with pytest.raises(YidiError, match="t is required"):
            inputs.time({"t": blank}, "t")
    assert inputs.time({}, "t", required=False) is None


@pytest.mark.parametrize(
    ("sent", "day"),
    [
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("2026-12-01 23:00:00", dt.date(2026, 12, 1)),
        ("2026-11-30T17:00:00Z", dt.date(2026, 12, 1)),  # the day in Beijing after conversion
        ("2026-12-01T09:00:00-10:00", dt.date(2026, 12, 2)),
    ],
)
def test_dates_take_a_date_or_the_beijing_day_of_a_date_time(sent: str, day: dt.date) -> None:
    assert inputs.date({"d": sent}, "d") == day
    assert inputs.optional_date({"d": sent}, "d") == day
    assert inputs.iso_date(sent) == day


def test_dates_refuse_trailing_text_and_blank_is_absent_or_required() -> None:
    for bad in ("2026-12-01xyz", "2026-13-01", "01/12/2026"):
        assert inputs.iso_date(bad) is None
        with pytest.raises(YidiError, match="die_date must be yyyy-MM-dd"):
            inputs.optional_date({"die_date": bad}, "die_date")
    assert inputs.optional_date({"die_date": ""}, "die_date") is None
    with pytest.raises(YidiError, match="stmt_begndate is required"):
        inputs.date({"stmt_begndate": " "}, "stmt_begndate")


@pytest.mark.parametrize(
    ("sent", "meant"),
    [
        (12, "12.00"),
        (12.5, "12.50"),  # a float (a caller that parsed JSON its own way): the digits it prints
        ("12.5", "12.50"),  # a JSON number as the gateway parses it, or a numeric string
        ("12.50", "12.50"),
        ("12.500", "12.50"),  # trailing zeros are no decimals
        ("1.25e1", "12.50"),  # a JSON number in exponent form
        ("1250E-2", "12.50"),
        ("-0.01", "-0.01"),
        ("1,234.56", "1234.56"),
        (" 7 ", "7.00"),
    ],
)
def test_amounts_come_as_numbers_or_numeric_text(sent: Any, meant: str) -> None:
    got = inputs.amount({"a": sent}, "a")
    assert got == Decimal(meant) and str(got) == meant
    assert inputs.optional_amount({"a": sent}, "a") == Decimal(meant)


@pytest.mark.parametrize(
    ("sent", "problem"),
    [
        ("", "is required"),
        ("  ", "is required"),
        (None, "is required"),
        ("1.234", "two decimals"),
        ("1e-3", "two decimals"),
        ("abc", "not a number"),
        ("١٢", "not a number"),  # Arabic-Indic digits: Decimal would read them, the interface does not
        ("12.5元", "not a number"),
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        (True, "must be a number"),
        ({"v": 1}, "must be a number"),
        ("1e400", "out of range"),
        ("1" * 40, "out of range"),
        ("1,000,000,000,000.00", "out of range"),
        ("1,2", "not a decimal number"),
    ],
)
def test_amounts_refused_by_name(sent: Any, problem: str) -> None:
    with pytest.raises(YidiError) as caught:
        inputs.amount({"a": sent}, "a", field="feedetail[0].det_item_fee_sumamt")
    assert "feedetail[0].det_item_fee_sumamt" in caught.value.message_en and problem in caught.value.message_en


def test_an_optional_amount_left_blank_is_absent() -> None:
    for blank in ("", " ", None):
        assert inputs.optional_amount({"a": blank}, "a") is None
    assert inputs.optional_amount({}, "a") is None


def test_counts_and_prices_as_numbers() -> None:
    assert inputs.decimal({"cnt": 1000}, "cnt", 4) == Decimal(1000)
    assert inputs.decimal({"cnt": "0.5"}, "cnt", 4) == Decimal("0.5")
    assert inputs.decimal({"pric": 2.3}, "pric", 6) == Decimal("2.3")
    assert inputs.decimal({"pric": "2.3E0"}, "pric", 6) == Decimal("2.3")
    for bad, problem in (("", "is required"), ("0.00001", "at most 4 decimals"), ("٣", "not a number")):
        with pytest.raises(YidiError, match=problem):
            inputs.decimal({"cnt": bad}, "cnt", 4)


def test_numbers_of_the_specification_keep_their_precision() -> None:
    assert inputs.number({"geso_val": 38}, "geso_val", 2) == 38
    assert inputs.number({"geso_val": "38"}, "geso_val", 2) == 38
    assert inputs.number({"prd_days": "7.5"}, "prd_days", 4, 2) == Decimal("7.5")
    assert inputs.number({"geso_val": ""}, "geso_val", 2, required=False) is None
    for bad, problem in (("100", "0 to 99"), ("-1", "0 to 99"), ("3.5", "at most 0 decimals")):
        with pytest.raises(YidiError, match=f"geso_val.*{problem}"):
            inputs.number({"geso_val": bad}, "geso_val", 2, required=False)
    with pytest.raises(YidiError, match=r"prd_days.*0 to 99\.99"):
        inputs.number({"prd_days": "100"}, "prd_days", 4, 2)
    with pytest.raises(YidiError, match="fixmedins_setl_cnt is required"):
        inputs.number({"fixmedins_setl_cnt": ""}, "fixmedins_setl_cnt", 10)


def test_flags_are_zero_or_one_and_blank_is_the_default() -> None:
    for blank in ("", " ", None):
        assert inputs.flag({"acct_used_flag": blank}, "acct_used_flag") is False
        assert inputs.flag({"acct_used_flag": blank}, "acct_used_flag", default=True) is True
    assert inputs.flag({}, "acct_used_flag") is False
    assert inputs.flag({"acct_used_flag": "1"}, "acct_used_flag") is True
    assert inputs.flag({"acct_used_flag": 1}, "acct_used_flag") is True  # a JSON number
    assert inputs.flag({"acct_used_flag": "0"}, "acct_used_flag") is False
    for bad in ("Y", "2", "true", True):
        with pytest.raises(YidiError, match="acct_used_flag"):
            inputs.flag({"acct_used_flag": bad}, "acct_used_flag")


def test_text_blank_is_absent_or_required_and_only_text_or_numbers_are_text() -> None:
    assert inputs.text({"dept_name": ""}, "dept_name", required=False) == ""
    assert inputs.text({"dept_name": "  "}, "dept_name", required=False) == ""
    assert inputs.text({"ipt_otp_no": 12345}, "ipt_otp_no") == "12345"
    with pytest.raises(YidiError, match="psn_no is required"):
        inputs.text({"psn_no": ""}, "psn_no")
    for bad in ({"a": 1}, [1], True):
        with pytest.raises(YidiError, match="dept_name must be text"):
            inputs.text({"dept_name": bad}, "dept_name", required=False)
    with pytest.raises(YidiError, match=r"feedetail\[1\].rxno longer than 30"):
        inputs.text({"rxno": "R" * 31}, "rxno", required=False, max_len=30, field="feedetail[1].rxno")
