import datetime as dt

import pytest

from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.core.ids import (
    PlatformIdKind,
    make_msgid,
    make_refmsgid,
    new_platform_id,
    parse_msgid,
    platform_id_kind,
)

T = dt.datetime(2026, 11, 23, 9, 30, 5)


def test_msgid_round_trip() -> None:
    msgid = make_msgid("H11010500001", T, 7)
    assert msgid == "H11010500001202611230930050007"
    assert len(msgid) == 30
    parsed = parse_msgid(msgid)
    assert (parsed.fixmedins_code, parsed.sent_at, parsed.sequence) == ("H11010500001", T, 7)
    assert str(parsed) == msgid


def test_msgid_uses_shanghai_wall_time_for_aware_times() -> None:
    utc = dt.datetime(2026, 11, 23, 1, 30, 5, tzinfo=dt.UTC)
    assert make_msgid("H11010500001", utc, 1)[12:26] == "20261123093005"


@pytest.mark.parametrize(
    "bad",
    ["", "H1101050000120261123093005000", "X11010500001202611230930050007", "H11010500001202613230930050007"],
)
def test_bad_msgid_is_refused_with_reason(bad: str) -> None:
    with pytest.raises(YidiError) as err:
        parse_msgid(bad)
    assert err.value.code == "E_IDENTIFIER"
    assert "msgid" in err.value.message_en


def test_bad_institution_code_or_sequence() -> None:
    with pytest.raises(YidiError):
        make_msgid("H1101", T, 1)
    with pytest.raises(YidiError):
        make_msgid("H11010500001", T, 10000)


def test_refmsgid_format() -> None:
    ref = make_refmsgid("110000", T.replace(tzinfo=SHANGHAI), 42)
    assert ref == "110000202611230930050000000042"
    assert len(ref) == 30
    with pytest.raises(YidiError):
        make_refmsgid("11000", T, 1)


def test_platform_ids_are_distinct_and_typed() -> None:
    ids = {new_platform_id(PlatformIdKind.SETTLEMENT, "110000", T) for _ in range(1000)}
    assert len(ids) == 1000
    one = next(iter(ids))
    assert len(one) == 30 and one.startswith("S110000")
    assert platform_id_kind(one) is PlatformIdKind.SETTLEMENT
    with pytest.raises(YidiError):
        platform_id_kind("nonsense")
