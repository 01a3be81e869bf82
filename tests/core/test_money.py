from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.core.errors import YidiError
from yidi.core.money import format_amount, from_fen, parse_amount, round_ratio, round_yuan, to_fen


@pytest.mark.parametrize(
    ("raw", "rounded"),
    [
        ("48.888", "48.89"),  # E1: 61.11 × 0.8
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.345", "2.35"),  # half up, not banker's rounding (which gives 2.34)
        ("2.335", "2.34"),
        ("112.5", "112.50"),
        ("-0.005", "-0.01"),  # half away from zero for refunds, symmetric with charges
        ("-2.345", "-2.35"),
    ],
)
def test_round_half_up_to_cent(raw: str, rounded: str) -> None:
    assert round_yuan(Decimal(raw)) == Decimal(rounded)
    assert str(round_yuan(Decimal(raw))) == rounded


def test_round_ratio_four_places() -> None:
    assert round_ratio(Decimal("0.66665")) == Decimal("0.6667")


def test_float_is_refused_everywhere() -> None:
    with pytest.raises(TypeError):
        round_yuan(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_fen(1.5)  # type: ignore[arg-type]
    with pytest.raises(YidiError) as err:
        parse_amount(1.5)  # type: ignore[arg-type]
    assert err.value.code == "E_AMOUNT"


def test_fen_conversion_is_exact() -> None:
    assert to_fen(Decimal("1234.56")) == 123456
    assert to_fen(Decimal("-0.01")) == -1
    assert from_fen(123456) == Decimal("1234.56")
    assert str(from_fen(5)) == "0.05"
    with pytest.raises(YidiError, match="two decimals"):
        to_fen(Decimal("0.001"))


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.56", "1234.56"), ("1234.5", "1234.50"), ("0", "0.00"), ("-12.30", "-12.30"), ("1,000,000", "1000000.00")],
)
def test_parse_amount(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1,23.00", "12.345", "1e3", "NaN", "1.2.3", "１２"])
def test_parse_amount_refuses_bad_text_with_bilingual_message(text: str) -> None:
    with pytest.raises(YidiError) as err:
        parse_amount(text)
    assert err.value.code == "E_AMOUNT"
    assert "金额" in err.value.message_zh and "invalid amount" in err.value.message_en


def test_format_amount() -> None:
    assert format_amount(Decimal("1234.56")) == "1,234.56"
    assert format_amount(123456) == "1,234.56"
    assert format_amount(Decimal("0.5")) == "0.50"
    assert format_amount(Decimal("-1234567.891")) == "-1,234,567.89"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_fen_round_trip(fen: int) -> None:
    assert to_fen(from_fen(fen)) == fen
    assert parse_amount(format_amount(fen)) == from_fen(fen)
