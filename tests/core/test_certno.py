import datetime as dt

import pytest

from yidi.core.certno import (
    birth_date,
    checksum_char,
    gender,
    is_valid_certno,
    mask_certno,
    mask_certnos_in_text,
    validate_certno,
)
from yidi.core.errors import YidiError

VALID = "11010519491231002X"  # GB 11643 standard's own example
VALID_2 = "411102195603129013"


def test_valid_numbers() -> None:
    assert validate_certno(VALID) == VALID
    assert validate_certno("11010519491231002x") == VALID  # lower-case x normalised
    assert validate_certno(VALID_2) == VALID_2
    assert birth_date(VALID) == dt.date(1949, 12, 31)
    assert gender(VALID) == "2"
    assert gender(VALID_2) == "1"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "checksum"),
        ("411102195603129014", "checksum"),
        ("11010519491231002", "18"),
        ("1101051949123100211", "18"),
        ("11010519491331002X", "birth date"),  # month 13
        ("11010519490230002X", "birth date"),  # 30 February
        ("99010519491231002X", "province"),
        ("1101051949123100X2", "17 digits"),
        ("", "18"),
    ],
)
def test_invalid_numbers_name_the_problem(number: str, reason: str) -> None:
    assert not is_valid_certno(number)
    with pytest.raises(YidiError) as err:
        validate_certno(number)
    assert err.value.code == "E_CERTNO"
    assert reason in err.value.message_en
    assert "身份证号码无效" in err.value.message_zh


def test_checksum_char() -> None:
    assert checksum_char("11010519491231002") == "X"
    assert checksum_char("41110219560312901") == "3"
    with pytest.raises(ValueError):
        checksum_char("123")


def test_mask_keeps_address_code_and_last_four() -> None:
    assert mask_certno("411102195603129013") == "411102********9013"
    assert mask_certno(VALID) == "110105********002X"
    assert mask_certno("12345") == "*****"


def test_mask_in_free_text() -> None:
    text = f"person {VALID_2} settled; other {VALID} too; order no 4111021956031290131234 untouched"
    masked = mask_certnos_in_text(text)
    assert "411102********9013" in masked and "110105********002X" in masked
    assert VALID_2 not in masked.replace("4111021956031290131234", "")
    assert "4111021956031290131234" in masked  # longer digit runs are not ID numbers
