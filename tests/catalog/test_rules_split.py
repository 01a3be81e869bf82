"""split_fee_line, row by row: the treatment place's catalogue splits one fee line into fully self-paid,
over the price cap, 乙类 first self-pay and eligible (settlement.md §2 steps 1–4). Every expected amount is
worked out beside its row; amounts are rounded half up to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yidi.catalog.rules import CatalogEntry, ChargeLevel, ItemKind, split_fee_line

D = Decimal
CODE = "XA10BXA248A880381848000"


def entry(level: ChargeLevel, share: str = "0", cap: str | None = None) -> CatalogEntry:
    return CatalogEntry(
        CODE, "x", ItemKind.WESTERN_DRUG, level, "09", D(share), D(cap) if cap else None, None, None,
        dt.date(2021, 1, 1), None, "t",
    )  # fmt: skip


A, B, C = ChargeLevel.A, ChargeLevel.B, ChargeLevel.C

# (level or None for "not in the catalogue", 乙类 share, price cap, line total, count, unit price,
#  expected fully self-paid, over cap, first self-pay, eligible)
ROWS = [
    # -- fully self-paid ---------------------------------------------------------------------------------------
    pytest.param(
        None, "0", None, "123.45", "1", "123.45", "123.45", "0", "0", "0", id="not-in-catalogue-all-self-paid"
    ),
    pytest.param(C, "1", None, "80.00", "4", "20", "80.00", "0", "0", "0", id="bing-class-all-self-paid"),
    # 丙类 with a cap: still all self-paid, nothing counted as over the cap.
    pytest.param(C, "1", "10", "80.00", "4", "20", "80.00", "0", "0", "0", id="bing-class-cap-ignored"),
    # -- 甲类 -----------------------------------------------------------------------------------------------------
    pytest.param(A, "0", None, "200.00", "100", "2", "0", "0", "0", "200.00", id="jia-all-eligible"),
    # -- over the price cap: (price − cap) × count ------------------------------------------------------------
    # cap 2.00, price 2.50 × 100 = 250.00 → over (2.50 − 2.00) × 100 = 50.00; eligible 200.00
    pytest.param(A, "0", "2", "250.00", "100", "2.5", "0", "50.00", "0", "200.00", id="jia-over-cap"),
    # price one fen below the cap, at it, one fen above (count 10, total = 10 × price)
    pytest.param(A, "0", "5", "49.90", "10", "4.99", "0", "0", "0", "49.90", id="price-cap-minus-1-fen"),
    pytest.param(A, "0", "5", "50.00", "10", "5.00", "0", "0", "0", "50.00", id="price-at-cap"),
    # (5.01 − 5.00) × 10 = 0.10 over; 50.10 − 0.10 = 50.00 eligible
    pytest.param(A, "0", "5", "50.10", "10", "5.01", "0", "0.10", "0", "50.00", id="price-cap-plus-1-fen"),
    # a price cap with sub-fen digits: (3.3335 − 3.333) × 3 = 0.0015 → 0.00 (half up at the fen)
    pytest.param(A, "0", "3.333", "10.00", "3", "3.3335", "0", "0.00", "0", "10.00", id="over-cap-rounds-to-0"),
    # (3.335 − 3.33) × 1 = 0.005 → 0.01 half up
    pytest.param(A, "0", "3.33", "3.34", "1", "3.335", "0", "0.01", "0", "3.33", id="over-cap-half-up"),
    # over-cap never exceeds the line: (10 − 1) × 10 = 90 but the line is 50.00 → 50.00 over, 0 eligible
    pytest.param(A, "0", "1", "50.00", "10", "10", "0", "50.00", "0", "0.00", id="over-cap-bounded-by-line"),
    # -- 乙类 first self-pay: share × (total − over) ------------------------------------------------------------
    # E1 (examples.md): 瑞格列奈片 31.77 at 10 % → 3.177 → 3.18 first self-pay, 28.59 eligible
    pytest.param(B, "0.10", None, "31.77", "1", "31.77", "0", "0", "3.18", "28.59", id="E1-yi-10pct"),
    # 100.00 at 20 % → 20.00; 80.00 eligible
    pytest.param(B, "0.2", None, "100.00", "10", "10", "0", "0", "20.00", "80.00", id="yi-20pct"),
    pytest.param(B, "0", None, "100.00", "10", "10", "0", "0", "0.00", "100.00", id="yi-0pct"),
    # 0.05 × 10 % = 0.005 → 0.01 (half up, not to even)
    pytest.param(B, "0.1", None, "0.05", "1", "0.05", "0", "0", "0.01", "0.04", id="yi-share-half-up"),
    # 0.04 × 10 % = 0.004 → 0.00
    pytest.param(B, "0.1", None, "0.04", "1", "0.04", "0", "0", "0.00", "0.04", id="yi-share-rounds-down"),
    # 乙类 over cap: cap 8, price 10 × 10 = 100 → over 20.00; share 10 % of (100 − 20) = 8.00; eligible 72.00
    pytest.param(B, "0.1", "8", "100.00", "10", "10", "0", "20.00", "8.00", "72.00", id="yi-over-cap-then-share"),
    # 乙类 with a 100 % share: all first self-pay, nothing eligible
    pytest.param(B, "1", None, "66.60", "2", "33.3", "0", "0", "66.60", "0.00", id="yi-100pct"),
]


@pytest.mark.parametrize(("level", "share", "cap", "total", "cnt", "pric", "fulamt", "over", "pre", "eligible"), ROWS)
def test_split_fee_line(
    level: ChargeLevel | None,
    share: str,
    cap: str | None,
    total: str,
    cnt: str,
    pric: str,
    fulamt: str,
    over: str,
    pre: str,
    eligible: str,
) -> None:
    item = entry(level, share, cap) if level is not None else None
    s = split_fee_line(item, D(total), D(cnt), D(pric))
    assert (s.fulamt_ownpay_amt, s.overlmt_amt, s.preselfpay_amt, s.inscp_scp_amt) == (
        D(fulamt),
        D(over),
        D(pre),
        D(eligible),
    )
    # the four parts always add up to the line
    assert s.fulamt_ownpay_amt + s.overlmt_amt + s.preselfpay_amt + s.inscp_scp_amt == D(total)


def test_split_reports_the_entry_it_used() -> None:
    s = split_fee_line(entry(B, "0.15", "9.5"), D("19.00"), D("2"), D("9.5"))
    assert (s.chrgitm_lv, s.selfpay_prop, s.pric_uplmt_amt) == ("02", D("0.15"), D("9.5"))
    missing = split_fee_line(None, D("1.00"), D("1"), D("1"))
    assert (missing.chrgitm_lv, missing.selfpay_prop, missing.pric_uplmt_amt) == (None, D(1), None)


def test_a_fully_self_paid_split_reports_the_line_its_class_and_its_cap() -> None:
    """丙类 with a price cap of 10: all 80.00 self-paid; the answer still names the class (03) and the cap."""
    from yidi.catalog.rules import LineSplit

    bing = split_fee_line(entry(C, "1", "10"), D("80.00"), D("4"), D("20"))
    assert bing == LineSplit(D("80.00"), D("80.00"), D("0.00"), D("0.00"), D("0.00"), "03", D("1"), D("10"))
    none = split_fee_line(None, D("12.34"), D("1"), D("12.34"))
    assert none == LineSplit(D("12.34"), D("12.34"), D("0.00"), D("0.00"), D("0.00"), None, D("1"), None)
