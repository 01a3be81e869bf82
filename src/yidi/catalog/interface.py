"""The treatment place's catalogue on the national interface: versioned downloads (1301, 1302, 1305, 1306, fetched
with 9102) and paged queries (1312 医保目录信息查询, 1318 医保目录限价, 1319 医保目录先自付比例).

A catalogue version is an import: each row carries the import that last wrote it (`CatalogItem.version_id`). An HIS
sends the version it holds (`ver`, "0" for none) and receives the rows of the next version, one version per file,
each row carrying its version to ask with next time; it repeats until a file comes back empty (`data_cnt` 0), as
the public clients do (openhis NeiMengGuYiBaoApp loops on 1301–1315 with the version of the last file).

Field lists follow the public copies of the specification: binzhe12123/Medical (SZSI_Smart ML1301, ML1312,
ML1318, ML1319) and newtouch-cloud/openhis (Input_13, Output_13, Input_1312, Output_1312, Output_1318,
Output_1319); the page fields and their types follow a recorded 重庆 answer (CQYiBaoInterface Output_1316: firstPage
and lastPage booleans, size, startRow, endRow, pageSize, pageNum, recordCounts, pages, data). A field yidi does not
hold is null; a filter on such a field matches nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from yidi.catalog.layouts import LAYOUTS, Layout, Published, line, lmt_used_flag, zipped
from yidi.catalog.models import CatalogImport, CatalogItem
from yidi.catalog.rules import ItemKind
from yidi.core import inputs
from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.core.inputs import BAD_INPUT
from yidi.reference.rules import divisions

MAX_PAGE_SIZE = 1000  # rows per page of 1312/1318/1319; a whole catalogue is what the downloads are for
MAX_PAGE_NUM = 1_000_000
_VERSION = re.compile(r"([0-9]{14})_([0-9]{1,12})")
_WHOLE = re.compile(r"[0-9]{1,9}")

# 目录类别 of the national dictionary by the kind of code. 201 for service items is seen in a recorded 重庆 answer
# (1316 list_type "201"); 101, 102 and 301 are the dictionary's values for drugs, herbal pieces and consumables.
LIST_TYPES = {
    ItemKind.WESTERN_DRUG: "101",
    ItemKind.PATENT_DRUG: "101",
    ItemKind.HERBAL: "102",
    ItemKind.SERVICE: "201",
    ItemKind.CONSUMABLE: "301",
}


def version_text(import_id: int, imported_at: dt.datetime) -> str:
    """`yyyyMMddHHmmss_<import>`: when the version was published, then its number (the part that is compared)."""
    return f"{imported_at.astimezone(SHANGHAI):%Y%m%d%H%M%S}_{import_id}"


def parse_version(ver: str) -> int:
    """The import number in a `ver` this platform issued; 0 for "0" (nothing held yet)."""
    if ver == "0":
        return 0
    match = _VERSION.fullmatch(ver)
    if match is None:
        raise YidiError(
            BAD_INPUT,
            field="ver",
            problem="is not a version this platform issued; send 0 for the whole catalogue / 版本号无效，首次下载请传0",
        )
    return int(match.group(2))


def _published(session: Session, stmt: Select[CatalogItem, dt.datetime, dt.datetime]) -> list[Published]:
    return [Published(item, created, updated, _ver(item, updated)) for item, created, updated in session.execute(stmt)]


def _ver(item: CatalogItem, updated: dt.datetime | None) -> str:
    return version_text(item.version_id, updated) if item.version_id is not None and updated is not None else ""


_CREATED = aliased(CatalogImport)
_UPDATED = aliased(CatalogImport)


def _rows_select() -> Select[CatalogItem, dt.datetime, dt.datetime]:
    """Catalogue rows with the time of the import that added each and of the import that last wrote it."""
    return (
        select(CatalogItem, _CREATED.imported_at, _UPDATED.imported_at)
        .outerjoin(_CREATED, _CREATED.id == CatalogItem.import_id)
        .join(_UPDATED, _UPDATED.id == CatalogItem.version_id)
    )


# -- downloads ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionFile:
    """What one 13xx download hands out: the rows of the version after the one asked, zipped for 9102."""

    layout: Layout
    region: str
    ver: str  # the version in the file ("" when nothing is newer than what was asked)
    data_cnt: int
    filename: str
    content: bytes


def version_file(session: Session, region: str, infno: str, asked: str) -> VersionFile:
    layout = LAYOUTS[infno]
    after = parse_version(asked)
    scope = (CatalogItem.region == region) & CatalogItem.item_kind.in_([k.value for k in layout.kinds])
    version = session.scalar(select(func.min(CatalogItem.version_id)).where(scope, CatalogItem.version_id > after))
    rows: list[Published] = []
    if version is not None:
        stmt = _rows_select().where(scope, CatalogItem.version_id == version)
        rows = _published(session, stmt.order_by(CatalogItem.med_list_codg, CatalogItem.begndate))
    ver = rows[0].ver if rows else ""
    name = f"{infno}_{region}_{ver or asked}.txt"
    content = zipped(name, (line(layout, r) for r in rows))
    return VersionFile(layout, region, ver, len(rows), f"{name}.zip", content)


# -- paged queries ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    num: int
    size: int


def _whole(data: dict[str, Any], name: str, high: int) -> int:
    text = inputs.text(data, name, max_len=12)
    if isinstance(data.get(name), bool) or not _WHOLE.fullmatch(text) or not 1 <= int(text) <= high:
        raise YidiError(BAD_INPUT, field=name, problem=f"must be a whole number from 1 to {high} / 须为1至{high}的整数")
    return int(text)


def read_page(data: dict[str, Any]) -> Page:
    return Page(_whole(data, "page_num", MAX_PAGE_NUM), _whole(data, "page_size", MAX_PAGE_SIZE))


def _optional_date(data: dict[str, Any], name: str) -> dt.date | None:
    text = inputs.text(data, name, required=False, max_len=19)
    if not text:
        return None
    day = inputs.iso_date(text)
    if day is None:
        raise YidiError(BAD_INPUT, field=name, problem="must be yyyy-MM-dd / 日期格式错误")
    return day


def _own_region(data: dict[str, Any], name: str, region: str) -> None:
    """A division given must lie in the treatment place: the catalogue served is the one that prices its fees."""
    code = inputs.text(data, name, required=False, max_len=6)
    if not code:
        return
    try:
        pool = divisions().pooling_region_of(code).code
    except YidiError:
        pool = None
    if pool != region:
        raise YidiError(
            BAD_INPUT,
            field=name,
            problem=f"only the treatment place's catalogue ({region}) is served here / 仅提供就医地{region}的目录",
        )


def _conditions(
    data: dict[str, Any], region: str, unknown: tuple[str, ...], extra: Callable[[], list[ColumnElement[bool]]]
) -> list[ColumnElement[bool]]:
    """The filters shared by 1312, 1318 and 1319. A filter on a field yidi does not hold matches nothing."""
    for name in ("insu_admdvs", "poolarea_no"):
        _own_region(data, name, region)
    updated_since = inputs.time(data, "updt_time")
    assert updated_since is not None
    where: list[ColumnElement[bool]] = [CatalogItem.region == region, _UPDATED.imported_at >= updated_since]
    query_date = _optional_date(data, "query_date")
    if query_date is not None:
        where.append(CatalogItem.begndate <= query_date)
        where.append(or_(CatalogItem.enddate.is_(None), CatalogItem.enddate >= query_date))
    for name in ("begndate", "enddate"):
        day = _optional_date(data, name)
        if day is not None:
            where.append(getattr(CatalogItem, name) == day)
    code = inputs.text(data, "hilist_code", required=False, max_len=30)
    if code:
        where.append(CatalogItem.med_list_codg == code)
    vali_flag = inputs.text(data, "vali_flag", required=False, max_len=3)
    if vali_flag not in ("", "0", "1"):
        raise YidiError(BAD_INPUT, field="vali_flag", problem="must be 0 or 1 / 应为0或1")
    rid = inputs.text(data, "rid", required=False, max_len=40)
    if vali_flag == "0" or (rid and not _WHOLE.fullmatch(rid)):
        where.append(false())  # every stored row is valid; a record number not of this platform names no row
    elif rid:
        where.append(CatalogItem.id == int(rid))
    if any(inputs.text(data, name, required=False, max_len=500) for name in unknown):
        where.append(false())
    return where + extra()


def _answer(
    session: Session, where: list[ColumnElement[bool]], page: Page, row: Callable[[Published], dict[str, Any]]
) -> dict[str, Any]:
    counted = select(func.count()).select_from(CatalogItem).join(_UPDATED, _UPDATED.id == CatalogItem.version_id)
    total = session.scalar(counted.where(*where)) or 0
    stmt = _rows_select().where(*where).order_by(CatalogItem.med_list_codg, CatalogItem.begndate, CatalogItem.id)
    found = _published(session, stmt.limit(page.size).offset((page.num - 1) * page.size))
    pages = -(-total // page.size)
    first = (page.num - 1) * page.size + 1 if found else 0
    return {
        "firstPage": page.num == 1,
        "lastPage": page.num >= pages,
        "size": len(found),
        "startRow": first,
        "endRow": first + len(found) - 1 if found else 0,
        "pageSize": page.size,
        "pageNum": page.num,
        "recordCounts": total,
        "pages": pages,
        "data": [row(p) for p in found],
    }


def _record(p: Published) -> dict[str, Any]:
    """The record-keeping fields of a 13xx query row, in the tables' order; who created or handled a row is not
    disclosed to institutions (null)."""
    return {
        "vali_flag": "1",
        "rid": str(p.item.id),
        "updt_time": inputs.time_text(p.updt_time),
        "crter_id": None,
        "crter_name": None,
        "crte_time": inputs.time_text(p.crte_time),
        "crte_optins_no": None,
        "opter_id": None,
        "opter_name": None,
        "opt_time": None,
        "optins_no": None,
    }


def _day(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def hilist(session: Session, region: str, data: dict[str, Any]) -> dict[str, Any]:
    """1312 医保目录信息查询: the insurance catalogue items of the treatment place."""
    page = read_page(data)

    def extra() -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        name = inputs.text(data, "hilist_name", required=False, max_len=200)
        if name:
            where.append(CatalogItem.med_list_name.contains(name, autoescape=True))
        for field in ("med_chrgitm_type", "chrgitm_lv"):
            value = inputs.text(data, field, required=False, max_len=6)
            if value:
                where.append(getattr(CatalogItem, field) == value)
        flag = inputs.text(data, "lmt_used_flag", required=False, max_len=3)
        if flag not in ("", "0", "1"):
            raise YidiError(BAD_INPUT, field="lmt_used_flag", problem="must be 0 or 1 / 应为0或1")
        if flag:
            scope = CatalogItem.lmt_used_scope
            where.append(scope.is_not(None) if flag == "1" else scope.is_(None))
        list_type = inputs.text(data, "list_type", required=False, max_len=30)
        if list_type:
            where.append(CatalogItem.item_kind.in_([k.value for k, t in LIST_TYPES.items() if t == list_type]))
        return where

    unknown = ("wubi", "pinyin", "med_use_flag", "matn_used_flag", "hilist_use_type", "lmt_cpnd_type")
    where = _conditions(data, region, unknown, extra)

    def row(p: Published) -> dict[str, Any]:
        i = p.item
        return {
            "hilist_code": i.med_list_codg,
            "hilist_name": i.med_list_name,
            "insu_admdvs": region,
            "begndate": _day(i.begndate),
            "enddate": _day(i.enddate),
            "med_chrgitm_type": i.med_chrgitm_type,
            "chrgitm_lv": i.chrgitm_lv,
            "lmt_used_flag": lmt_used_flag(i),
            "list_type": LIST_TYPES[ItemKind(i.item_kind)],
            "med_use_flag": None,
            "matn_used_flag": None,
            "hilist_use_type": None,
            "lmt_cpnd_type": None,
            "wubi": None,
            "pinyin": None,
            "memo": i.reference,
            **_record(p),
            "poolarea_no": region,
        }

    return _answer(session, where, page, row)


def price_caps(session: Session, region: str, data: dict[str, Any]) -> dict[str, Any]:
    """1318 医保目录限价: the items with a price cap (above it the line is over-limit, self-paid)."""
    page = read_page(data)
    unknown = ("hilist_lmtpric_type", "overlmt_dspo_way", "tabname")
    where = _conditions(data, region, unknown, lambda: [CatalogItem.pric_uplmt_amt.is_not(None)])

    def row(p: Published) -> dict[str, Any]:
        i = p.item
        return {
            "hilist_code": i.med_list_codg,
            "hilist_lmtpric_type": None,
            "overlmt_dspo_way": None,
            "insu_admdvs": region,
            "begndate": _day(i.begndate),
            "enddate": _day(i.enddate),
            "hilist_pric_uplmt_amt": i.pric_uplmt_amt,
            **_record(p),
            "tabname": None,
            "poolarea_no": region,
        }

    return _answer(session, where, page, row)


def first_selfpay(session: Session, region: str, data: dict[str, Any]) -> dict[str, Any]:
    """1319 医保目录先自付比例: the 乙类 items and the share paid first before the eligible amount."""
    page = read_page(data)
    unknown = ("selfpay_prop_psn_type", "selfpay_prop_type", "tabname")
    where = _conditions(data, region, unknown, lambda: [CatalogItem.chrgitm_lv == "02"])

    def row(p: Published) -> dict[str, Any]:
        i = p.item
        return {
            "hilist_code": i.med_list_codg,
            "selfpay_prop_psn_type": None,  # the share applies to every insured person at the treatment place
            "selfpay_prop_type": None,
            "insu_admdvs": region,
            "begndate": _day(i.begndate),
            "enddate": _day(i.enddate),
            "selfpay_prop": i.selfpay_prop,
            **_record(p),
            "tabname": None,
            "poolarea_no": region,
        }

    return _answer(session, where, page, row)
