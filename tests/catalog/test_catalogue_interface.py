"""The catalogue on the national interface, through the gateway: 1312/1318/1319 queries with pages, the 13xx
downloads fetched with 9102 (columns in the specification's order, one version per file), who may fetch a file."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yidi.catalog.models import CatalogItem
from yidi.catalog.service import import_catalog
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.gateway.client import GatewayClient, GatewayError

from ..gateway.test_gateway import ACARBOSE, his, http  # noqa: F401  (http is a fixture)

REGION = "110000"  # the pooling region of his(http), H11010500001
OTHER_BJ_HOSP = "H11010800003"
TJ_HOSP = "H12010100001"  # pooling region 120000
METFORMIN = "XA10BAA721A348801766000"
NEW_DRUG = "XA10BHA123A456789012000"
VISIT_FEE = "001101000010000"  # 普通门诊诊查费: capped at 13.00 until 2024-12-31, at 14.30 from 2025
ALL_TIME = "2000-01-01 00:00:00"

# The 1312 row as the public copies of the specification list it (openhis Output_1312, binzhe ML1312 Out1312).
HILIST_FIELDS = [
    "hilist_code", "hilist_name", "insu_admdvs", "begndate", "enddate", "med_chrgitm_type", "chrgitm_lv",
    "lmt_used_flag", "list_type", "med_use_flag", "matn_used_flag", "hilist_use_type", "lmt_cpnd_type", "wubi",
    "pinyin", "memo", "vali_flag", "rid", "updt_time", "crter_id", "crter_name", "crte_time", "crte_optins_no",
    "opter_id", "opter_name", "opt_time", "optins_no", "poolarea_no",
]  # fmt: skip
PAGE_FIELDS = ["firstPage", "lastPage", "size", "startRow", "endRow", "pageSize", "pageNum", "recordCounts", "pages"]


def _query(client: GatewayClient, infno: str, **fields: Any) -> dict[str, Any]:
    return client.call(infno, {"data": {"updt_time": ALL_TIME, "page_num": 1, "page_size": 10, **fields}})


def _codes(db: Database, kinds: set[str], region: str = REGION) -> list[str]:
    with db.read_only() as s:
        stmt = select(CatalogItem.med_list_codg).where(CatalogItem.region == region, CatalogItem.item_kind.in_(kinds))
        return sorted(s.scalars(stmt))


def _download(client: GatewayClient, infno: str, ver: str) -> tuple[dict[str, Any], list[list[str]]]:
    """The 13xx answer and the rows of its file, fetched with 9102 and unzipped."""
    answer = client.call(infno, {"data": {"ver": ver}})
    archive = zipfile.ZipFile(io.BytesIO(client.download(answer["file_qury_no"], answer["filename"])))
    assert archive.namelist() == [answer["filename"].removesuffix(".zip")]  # the text file clients look for
    text = archive.read(archive.namelist()[0]).decode("utf-8")
    return answer, [line.split("\t") for line in text.splitlines()]


def test_1312_finds_an_item_by_its_code_with_the_specification_fields(http: TestClient) -> None:  # noqa: F811
    out = _query(his(http), "1312", hilist_code=ACARBOSE)
    assert list(out)[:9] == PAGE_FIELDS and out["recordCounts"] == 1 and out["pages"] == 1
    assert out["firstPage"] is True and out["lastPage"] is True
    (row,) = out["data"]
    assert list(row) == HILIST_FIELDS
    assert (row["hilist_code"], row["hilist_name"], row["insu_admdvs"], row["poolarea_no"]) == (
        ACARBOSE,
        "阿卡波糖片",
        REGION,
        REGION,
    )
    levels = (row["chrgitm_lv"], row["med_chrgitm_type"], row["list_type"], row["lmt_used_flag"])
    assert levels == ("01", "09", "101", "0")
    assert (row["begndate"], row["enddate"], row["vali_flag"]) == ("2021-01-01", None, "1")
    assert row["updt_time"] == row["crte_time"] == "2021-01-01 00:00:00"  # the demo import
    assert row["wubi"] is None and row["med_use_flag"] is None and row["crter_id"] is None  # not held: null


def test_1312_pages_through_the_whole_catalogue_once(http: TestClient, db: Database) -> None:  # noqa: F811
    everything = _codes(db, {"western_drug", "patent_drug", "herbal", "service", "consumable"})
    client, size = his(http), 100
    pages = [_query(client, "1312", page_num=n, page_size=size) for n in (1, 2, 3)]
    assert [p["recordCounts"] for p in pages] == [len(everything)] * 3
    assert pages[0]["pages"] == 3 and 200 < len(everything) <= 300
    assert [(p["size"], p["startRow"], p["endRow"]) for p in pages] == [
        (100, 1, 100),
        (100, 101, 200),
        (len(everything) - 200, 201, len(everything)),
    ]
    assert [(p["firstPage"], p["lastPage"]) for p in pages] == [(True, False), (False, False), (False, True)]
    assert [r["hilist_code"] for p in pages for r in p["data"]] == everything  # in code order, none twice
    beyond = _query(client, "1312", page_num=4, page_size=size)
    assert (beyond["size"], beyond["startRow"], beyond["endRow"], beyond["data"]) == (0, 0, 0, [])
    named = _query(client, "1312", hilist_name="二甲双胍")
    assert [r["hilist_code"] for r in named["data"]] == [METFORMIN]
    services = _query(client, "1312", list_type="201", page_size=1000)
    assert [r["hilist_code"] for r in services["data"]] == _codes(db, {"service"})
    assert _query(client, "1312", query_date="2020-12-31")["recordCounts"] == 0  # nothing was in force yet
    assert _query(client, "1312", wubi="RGT")["recordCounts"] == 0  # no mnemonic is held: nothing matches


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"page_size": 1001}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"page_num": -1}, "page_num"),
        ({"updt_time": ""}, "updt_time"),
        ({"query_date": "31/12/2024"}, "query_date"),
        ({"insu_admdvs": "120000"}, "insu_admdvs"),  # another treatment place's catalogue
    ],
)
def test_queries_refuse_a_bad_page_or_filter_by_name(http: TestClient, fields: dict[str, Any], named: str) -> None:  # noqa: F811
    for infno in ("1312", "1318", "1319"):
        with pytest.raises(GatewayError) as refused:
            _query(his(http), infno, **fields)
        assert f"bad input: {named} " in refused.value.answer["err_msg"], refused.value.answer["err_msg"]


def test_1318_price_caps_and_1319_first_selfpay_shares(http: TestClient) -> None:  # noqa: F811
    client = his(http)
    capped = _query(client, "1318", hilist_code=VISIT_FEE)["data"]
    assert [(Decimal(str(r["hilist_pric_uplmt_amt"])), r["begndate"], r["enddate"]) for r in capped] == [
        (Decimal("13.00"), "2021-01-01", "2024-12-31"),
        (Decimal("14.30"), "2025-01-01", None),
    ]
    in_force = _query(client, "1318", hilist_code=VISIT_FEE, query_date="2025-03-01")["data"]
    assert [Decimal(str(r["hilist_pric_uplmt_amt"])) for r in in_force] == [Decimal("14.30")]
    assert list(capped[0])[:7] == [
        "hilist_code", "hilist_lmtpric_type", "overlmt_dspo_way", "insu_admdvs", "begndate", "enddate",
        "hilist_pric_uplmt_amt",
    ]  # fmt: skip
    assert _query(client, "1318", hilist_code=ACARBOSE)["recordCounts"] == 0  # no cap on this drug
    (share,) = _query(client, "1319", hilist_code="XA10BXA248A880381848000")["data"]  # 瑞格列奈片, 乙类 10 %
    assert Decimal(str(share["selfpay_prop"])) == Decimal("0.10") and share["selfpay_prop_psn_type"] is None
    assert _query(client, "1319", hilist_code=ACARBOSE)["recordCounts"] == 0  # 甲类: nothing paid first


def test_1301_file_has_the_drug_columns_in_the_specification_order(http: TestClient, db: Database) -> None:  # noqa: F811
    answer, rows = _download(his(http), "1301", "0")
    assert list(answer) == ["file_qury_no", "filename", "dld_end_time", "data_cnt"]
    drugs = _codes(db, {"western_drug", "patent_drug"})
    assert answer["data_cnt"] == len(rows) == len(drugs) and sorted(r[0] for r in rows) == drugs
    assert {len(r) for r in rows} == {92}
    acarbose = next(r for r in rows if r[0] == ACARBOSE)
    # med_list_codg 0, drug_genname 3, drug_spec 13, tcmpat_flag 23, begndate 36, enddate 37, lmt_used_flag 57,
    # vali_flag 78, rid 79, crte_time 80, updt_time 81, ver 82, ver_name 83 (openhis G_yb_wm_tcmpat_info_b)
    assert [acarbose[i] for i in (3, 13, 23, 36, 37, 57, 78)] == ["阿卡波糖片", "片", "0", "2021-01-01", "", "0", "1"]
    assert acarbose[80] == acarbose[81] == "2021-01-01 00:00:00"
    assert acarbose[82] == acarbose[83] and acarbose[82].startswith("20210101000000_")
    assert acarbose[1] == acarbose[2] == acarbose[91] == ""  # trade name, generic-name code: not held
    patent = next(r for r in rows if r[0].startswith("Z"))
    assert patent[23] == "1"  # 中成药标志


def test_1305_file_has_the_service_columns_in_the_specification_order(http: TestClient, db: Database) -> None:  # noqa: F811
    answer, rows = _download(his(http), "1305", "0")
    assert answer["data_cnt"] == len(rows) == len(_codes(db, {"service"})) and {len(r) for r in rows} == {16}
    visits = sorted(r for r in rows if r[0] == VISIT_FEE)
    # med_list_codg 0, prcunt_name 2, vali_flag 6, memo 7, servitem_name 9, begndate 11, enddate 12, ver 14, 15
    assert [[visit[i] for i in (2, 6, 9, 11, 12)] for visit in visits] == [
        ["次", "1", "普通门诊诊查费", "2021-01-01", "2024-12-31"],
        ["次", "1", "普通门诊诊查费", "2025-01-01", ""],
    ]
    visit = visits[0]
    assert visit[14] == visit[15] != ""


def test_a_download_holds_only_what_changed_since_the_version_asked(http: TestClient, db: Database) -> None:  # noqa: F811
    client = his(http)
    _, rows = _download(client, "1301", "0")
    held = rows[0][82]
    assert {r[82] for r in rows} == {held}  # one version per file
    nothing, empty = _download(client, "1301", held)
    assert (nothing["data_cnt"], empty) == (0, [])
    _, services = _download(client, "1305", "0")
    later = dt.datetime(2025, 6, 1, 9, 0, tzinfo=SHANGHAI)
    change = (
        "med_list_codg,med_list_name,chrgitm_lv,med_chrgitm_type,selfpay_prop,begndate\n"
        f"{ACARBOSE},阿卡波糖片,02,09,0.05,2025-07-01\n"
        f"{NEW_DRUG},新药片,02,09,0.10,2025-07-01\n"
    )
    with db.unit_of_work() as s:
        import_catalog(s, REGION, "change.csv", change.encode(), actor="t", now=later)
    answer, rows = _download(client, "1301", held)
    assert answer["data_cnt"] == 3 and {r[82] for r in rows} == {rows[0][82]} and rows[0][82] > held
    assert sorted((r[0], r[36], r[37]) for r in rows) == [
        (ACARBOSE, "2021-01-01", "2025-06-30"),  # the version the import closed comes again, now with its end
        (ACARBOSE, "2025-07-01", ""),
        (NEW_DRUG, "2025-07-01", ""),
    ]
    assert all(r[81] == "2025-06-01 09:00:00" for r in rows)
    assert _download(client, "1301", rows[0][82])[0]["data_cnt"] == 0
    assert _download(client, "1305", services[0][14])[0]["data_cnt"] == 0  # the import changed no service item
    since = _query(client, "1312", updt_time="2025-01-01", page_size=50)
    assert sorted(r["hilist_code"] for r in since["data"]) == [ACARBOSE, ACARBOSE, NEW_DRUG]


def test_only_the_institution_that_asked_can_fetch_the_file(http: TestClient) -> None:  # noqa: F811
    answer = his(http).call("1301", {"data": {"ver": "0"}})
    with pytest.raises(GatewayError, match="E_NOT_FOUND"):
        his(http, OTHER_BJ_HOSP).download(answer["file_qury_no"], answer["filename"])
    assert his(http).download(answer["file_qury_no"])[:2] == b"PK"


def test_a_download_is_a_write_replayed_by_msgid_and_a_foreign_version_is_refused(http: TestClient) -> None:  # noqa: F811
    client = his(http)
    envelope, first = client.send("1306", {"data": {"ver": "0"}})
    assert first["infcode"] == 0 and client.replay(envelope) == first  # the same file, not a second one
    with pytest.raises(GatewayError) as refused:
        client.call("1301", {"data": {"ver": "F001_0000_A"}})
    assert "bad input: ver " in refused.value.answer["err_msg"]


def test_each_institution_gets_its_own_treatment_place_catalogue(http: TestClient, db: Database) -> None:  # noqa: F811
    tianjin = his(http, TJ_HOSP, "120000")
    answer, rows = _download(tianjin, "1301", "0")
    with db.read_only() as s:
        kinds = ("western_drug", "patent_drug")
        ids = s.scalars(select(CatalogItem.id).where(CatalogItem.region == "120000", CatalogItem.item_kind.in_(kinds)))
        assert sorted(int(r[79]) for r in rows) == sorted(ids)  # 天津's rows, not 北京's with the same codes
    assert "_120000_" in answer["filename"]
    out = tianjin.call(
        "1312", {"data": {"updt_time": ALL_TIME, "page_num": 1, "page_size": 1, "insu_admdvs": "120000"}}
    )
    assert out["data"][0]["insu_admdvs"] == "120000"


def test_a_line_boundary_inside_a_value_stays_inside_its_cell() -> None:
    """Any character a reader may split lines on (not only \\n) would shift the later columns of the row."""
    from yidi.catalog.layouts import _cell

    cell = _cell("a\tb\nc\u2028d\x0be\x85f\rg\x1ch")
    assert cell == "a b c d e f g h" and len(cell.splitlines()) == 1
