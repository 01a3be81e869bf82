"""Treatment-place catalogues: the per-line split, imports (all or nothing), versions and look-ups."""

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from yidi.app import create_app
from yidi.catalog.models import CatalogImport, CatalogItem
from yidi.catalog.rules import CatalogEntry, ChargeLevel, ItemKind, item_kind, split_fee_line, validate_row
from yidi.catalog.service import CatalogImportRefused, as_entry, import_catalog, item_at, items_at
from yidi.core.audit import AuditEvent
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.money import round_yuan

from ..helpers import institution_get, staff_headers

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
D = dt.date
HEADER = "med_list_codg,med_list_name,chrgitm_lv,med_chrgitm_type,selfpay_prop,pric_uplmt_amt,begndate,enddate\n"
ACARBOSE = "XA10BFA331A740537984000"
REPAGLINIDE = "XA10BXA248A880381848000"


def _entry(level: ChargeLevel, share: str = "0", cap: str | None = None) -> CatalogEntry:
    return CatalogEntry(
        "XA10BXA248A880381848000",
        "瑞格列奈片",
        ItemKind.WESTERN_DRUG,
        level,
        "09",
        Decimal(share),
        Decimal(cap) if cap else None,
        None,
        None,
        D(2022, 1, 1),
        None,
        "test",
    )


# -- the catalogue's effect on a fee line (pure) -----------------------------------------------------


def test_e1_class_b_first_selfpay_follows_the_treatment_place() -> None:
    a = split_fee_line(_entry(ChargeLevel.A), Decimal("32.52"), Decimal(1), Decimal("32.52"))
    b = split_fee_line(_entry(ChargeLevel.B, "0.10"), Decimal("31.77"), Decimal(1), Decimal("31.77"))
    assert (a.inscp_scp_amt, a.preselfpay_amt) == (Decimal("32.52"), Decimal("0.00"))
    assert (b.preselfpay_amt, b.inscp_scp_amt) == (Decimal("3.18"), Decimal("28.59"))
    eligible = a.inscp_scp_amt + b.inscp_scp_amt
    assert eligible == Decimal("61.11")
    assert round_yuan(eligible * Decimal("0.80")) == Decimal("48.89")  # E1 fund share


def test_e2_out_of_catalogue_is_fully_self_paid() -> None:
    nifedipine = split_fee_line(_entry(ChargeLevel.A), Decimal("200"), Decimal(1), Decimal("200"))
    outside = split_fee_line(None, Decimal("100"), Decimal(1), Decimal("100"))
    assert nifedipine.inscp_scp_amt == Decimal("200")
    assert outside.fulamt_ownpay_amt == Decimal("100") and outside.inscp_scp_amt == 0
    assert split_fee_line(_entry(ChargeLevel.C), Decimal("5"), Decimal(1), Decimal("5")).fulamt_ownpay_amt == 5


def test_price_cap_then_class_b_share() -> None:
    line = split_fee_line(_entry(ChargeLevel.B, "0.10", cap="8.5"), Decimal("30.00"), Decimal(3), Decimal("10"))
    assert line.overlmt_amt == Decimal("4.50")  # (10 − 8.5) × 3
    assert line.preselfpay_amt == Decimal("2.55")  # 10% of 25.50
    assert line.inscp_scp_amt == Decimal("22.95")
    assert line.overlmt_amt + line.preselfpay_amt + line.inscp_scp_amt == line.det_item_fee_sumamt


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (ACARBOSE, ItemKind.WESTERN_DRUG),
        ("ZA01AAA0001010101010101", ItemKind.PATENT_DRUG),
        ("001216000010100", ItemKind.SERVICE),
        ("C01020304050607080910", ItemKind.CONSUMABLE),
        ("XA10", None),
        ("Y" + "0" * 22, None),
    ],
)
def test_code_formats(code: str, kind: ItemKind | None) -> None:
    assert item_kind(code) is kind


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ({"chrgitm_lv": "04"}, "chrgitm_lv", "not 01"),
        ({"selfpay_prop": "1.5"}, "selfpay_prop", "outside"),
        ({"chrgitm_lv": "01", "selfpay_prop": "0.1"}, "selfpay_prop", "甲类"),
        ({"selfpay_prop": ""}, "selfpay_prop", "乙类"),
        ({"med_chrgitm_type": "15"}, "med_chrgitm_type", "01–14"),
        ({"begndate": "2024-13-01"}, "begndate", "not a date"),
        ({"enddate": "2021-01-01"}, "enddate", "before begndate"),
        ({"pric_uplmt_amt": "abc"}, "pric_uplmt_amt", "not a price"),
        ({"med_list_codg": "123"}, "med_list_codg", "not a national code"),
        ({"med_list_name": ""}, "med_list_name", "1–200"),
    ],
)
def test_row_validation_names_column_and_problem(row: dict[str, str], column: str, fragment: str) -> None:
    good = {
        "med_list_codg": REPAGLINIDE,
        "med_list_name": "瑞格列奈片",
        "chrgitm_lv": "02",
        "med_chrgitm_type": "09",
        "selfpay_prop": "0.10",
        "begndate": "2022-01-01",
    }
    entry, errors = validate_row(7, {**good, **row}, "test")
    assert entry is None
    assert [e.column for e in errors] == [column]
    assert fragment in errors[0].problem and errors[0].row == 7


def test_percent_and_chinese_level_names() -> None:
    entry, errors = validate_row(
        2,
        {
            "med_list_codg": REPAGLINIDE,
            "med_list_name": "x",
            "chrgitm_lv": "乙类",
            "med_chrgitm_type": "9",
            "selfpay_prop": "10%",
            "begndate": "2022/01/01",
        },
        "t",
    )
    assert errors == [] and entry is not None
    assert entry.selfpay_prop == Decimal("0.10") and entry.chrgitm_lv is ChargeLevel.B
    assert entry.med_chrgitm_type == "09" and entry.begndate == D(2022, 1, 1)


# -- imports against the database (SQLite and PostgreSQL) -------------------------------------------


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def _count(db: Database) -> int:
    with db.read_only() as s:
        return s.scalar(select(func.count()).select_from(CatalogItem)) or 0


def _xlsx(n: int, bad_row: int | None = None) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER.strip().split(","))
    for i in range(n):
        level = ("01", "02", "03")[i % 3]
        share = {"01": 0, "02": 0.1, "03": None}[level]  # spreadsheets carry numbers as floats
        row = [f"X{i:022d}", f"演示药品{i}", level, "09", share, 12.5 if i % 2 else None, "2024-01-01", None]
        if bad_row is not None and i == bad_row:
            row[2] = "07"
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_ten_thousand_row_xlsx_imports_completely(db: Database) -> None:
    with db.unit_of_work() as s:
        report = import_catalog(s, "110000", "big.xlsx", _xlsx(10_000), actor="tester", now=NOW)
    assert report.rows == report.added == 10_000
    assert _count(db) == 10_000
    with db.read_only() as s:
        item = item_at(s, "110000", f"X{1:022d}", D(2024, 6, 1))
        assert item is not None and item.selfpay_prop == Decimal("0.1") and item.pric_uplmt_amt == Decimal("12.5")
        assert s.scalar(select(AuditEvent.action)) == "catalog.import"


def test_one_bad_row_in_ten_thousand_imports_nothing_and_names_it(db: Database) -> None:
    content = _xlsx(10_000, bad_row=6_789)
    with pytest.raises(CatalogImportRefused) as err:
        with db.unit_of_work() as s:
            import_catalog(s, "110000", "big.xlsx", content, actor="tester", now=NOW)
    assert [(e.row, e.column) for e in err.value.errors] == [(6_791, "chrgitm_lv")]  # header is row 1
    assert "6791" in err.value.message_en and "nothing was imported" in err.value.message_en
    assert _count(db) == 0
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(CatalogImport)) == 0


def test_versions_close_reimport_is_idempotent_and_lookups_follow_dates(db: Database) -> None:
    first = _csv(f"{REPAGLINIDE},瑞格列奈片,02,09,0.10,,2022-01-01,", f"{ACARBOSE},阿卡波糖片,01,09,0,,2022-01-01,")
    with db.unit_of_work() as s:
        assert import_catalog(s, "110000", "a.csv", first, actor="t", now=NOW).added == 2
    with db.unit_of_work() as s:
        again = import_catalog(s, "110000", "a.csv", first, actor="t", now=NOW)
    assert (again.added, again.unchanged) == (0, 2)
    change = _csv(f"{REPAGLINIDE},瑞格列奈片,02,09,0.15,,2025-01-01,")
    with db.unit_of_work() as s:
        report = import_catalog(s, "110000", "b.csv", change, actor="t", now=NOW)
    assert (report.added, report.closed) == (1, 1)
    with db.read_only() as s:
        shares = [item_at(s, "110000", REPAGLINIDE, d) for d in (D(2024, 12, 31), D(2025, 1, 1), D(2025, 1, 2))]
        assert [i.selfpay_prop for i in shares if i] == [Decimal("0.1"), Decimal("0.15"), Decimal("0.15")]
        assert shares[0] is not None and shares[0].enddate == D(2024, 12, 31)
        assert item_at(s, "110000", REPAGLINIDE, D(2021, 12, 31)) is None
        assert item_at(s, "120000", REPAGLINIDE, D(2025, 1, 1)) is None  # another region's catalogue
        batch = items_at(s, "110000", {REPAGLINIDE, ACARBOSE, "X" + "9" * 22}, D(2025, 6, 1))
        assert set(batch) == {REPAGLINIDE, ACARBOSE}
        assert as_entry(batch[REPAGLINIDE]).selfpay_prop == Decimal("0.15")


def test_conflicting_version_and_overlap_are_refused(db: Database) -> None:
    with db.unit_of_work() as s:
        import_catalog(
            s, "110000", "a.csv", _csv(f"{ACARBOSE},阿卡波糖片,01,09,0,,2022-01-01,2023-12-31"), actor="t", now=NOW
        )
    bad = _csv(f"{ACARBOSE},阿卡波糖片(新),01,09,0,,2022-01-01,", f"{ACARBOSE},阿卡波糖片,01,09,0,,2023-06-01,")
    with pytest.raises(CatalogImportRefused) as err:
        with db.unit_of_work() as s:
            import_catalog(s, "110000", "bad.csv", bad, actor="t", now=NOW)
    problems = {(e.row, e.column) for e in err.value.errors}
    assert (2, "begndate") in problems  # different content for an existing start
    assert _count(db) == 1


def test_versions_inside_one_file_chain(db: Database) -> None:
    rows = _csv(f"{ACARBOSE},阿卡波糖片,01,09,0,,2023-01-01,", f"{ACARBOSE},阿卡波糖片,01,09,0,0.6,2022-01-01,")
    with db.unit_of_work() as s:
        import_catalog(s, "131000", "c.csv", rows, actor="t", now=NOW)
    with db.read_only() as s:
        older = item_at(s, "131000", ACARBOSE, D(2022, 12, 31))
        assert older is not None and older.enddate == D(2022, 12, 31) and older.pric_uplmt_amt == Decimal("0.6")


def test_bad_files_and_regions(db: Database) -> None:
    with pytest.raises(YidiError) as err:
        with db.unit_of_work() as s:
            import_catalog(s, "110000", "x.pdf", b"%PDF", actor="t", now=NOW)
    assert err.value.code == "E_CATALOG_FILE"
    with pytest.raises(CatalogImportRefused) as refused:
        with db.unit_of_work() as s:
            import_catalog(s, "110000", "x.csv", b"code,name\nA,B\n", actor="t", now=NOW)
    assert any("missing column chrgitm_lv" in e.problem for e in refused.value.errors)
    with pytest.raises(YidiError) as err:
        with db.unit_of_work() as s:
            import_catalog(s, "410000", "a.csv", _csv(f"{ACARBOSE},x,01,09,0,,2022-01-01,"), actor="t", now=NOW)
    assert err.value.code == "E_NOT_POOLING_REGION"
    with pytest.raises(YidiError) as err:
        with db.unit_of_work() as s:
            import_catalog(s, "110000", "a.xlsx", b"not a zip", actor="t", now=NOW)
    assert err.value.code == "E_CATALOG_FILE"


def test_chinese_headers_csv(db: Database) -> None:
    content = (
        "医保目录编码,名称,收费项目等级,医疗收费项目类别,自付比例,开始日期\n"
        f"{REPAGLINIDE},瑞格列奈片,乙类,09,10%,2022-01-01\n"
    )
    with db.unit_of_work() as s:
        assert import_catalog(s, "110000", "zh.csv", content.encode("utf-8-sig"), actor="t", now=NOW).added == 1


# -- staff API ------------------------------------------------------------------------------------------


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    from yidi.demo.service import load_demo

    with db.unit_of_work() as s:
        load_demo(s, NOW)
    with TestClient(create_app(db)) as c:
        yield c


def test_demo_catalogues_and_api(client: TestClient) -> None:
    page = institution_get(
        client, "H11010500001", "/api/v1/catalog/110000/items", {"date": "2022-07-01", "q": "瑞格列奈"}
    ).json()
    assert page["total"] == 1
    item = page["items"][0]
    assert item["chrgitm_lv"] == "02" and Decimal(item["selfpay_prop"]) == Decimal("0.10")
    staff = staff_headers(client, "reviewer.110000")
    one = client.get(f"/api/v1/catalog/110000/items/{ACARBOSE}", params={"date": "2022-07-01"}, headers=staff)
    assert one.status_code == 200 and one.json()["chrgitm_lv"] == "01"
    gone = client.get(f"/api/v1/catalog/110000/items/{ACARBOSE}", params={"date": "2020-12-31"}, headers=staff)
    assert gone.status_code == 404
    listing = client.get("/api/v1/catalog/420100/items", params={"date": "2025-06-01", "limit": 1}, headers=staff)
    total = listing.json()["total"]
    assert total >= 200


def test_parameters_api(client: TestClient) -> None:
    client.headers.update(staff_headers(client, "reviewer.411100"))
    r = client.get("/api/v1/parameters/411100", params={"date": "2025-06-01"})
    assert r.status_code == 200
    body = r.json()
    assert Decimal(body["policy"]["employee"]["annual_cap"]) == Decimal("300000")
    assert any(ref["key"] == "filing.retroactive_filing_from" for ref in body["references"])
    missing = client.get("/api/v1/parameters/411100", params={"date": "2020-01-01"})
    assert missing.status_code == 422 and missing.json()["code"] == "E_PARAMS_MISSING"
    assert "411100" in client.get("/api/v1/parameters").json()["regions"]
    national = client.get("/api/v1/parameters/national", params={"date": "2023-04-01"}).json()
    assert national["no_filing_zones"]["jingjinji"]["members"] == ["11", "12", "13"]
