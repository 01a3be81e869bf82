"""Catalogue use cases: all-or-nothing import of dated items, and look-ups at a date."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from yidi.catalog.files import MAX_ROWS, read_table
from yidi.catalog.models import CatalogImport, CatalogItem
from yidi.catalog.rules import CatalogEntry, ChargeLevel, ItemKind, RowError, map_header, validate_rows
from yidi.core import audit
from yidi.core.errors import ErrorKind, YidiError
from yidi.reference.models import DivisionRow
from yidi.reference.rules import divisions

ROWS_REFUSED = ErrorKind(
    "E_CATALOG_ROWS",
    "目录导入被拒绝：{count} 处错误，未导入任何数据。首个错误：{first}",
    "catalogue import refused: {count} problem(s), nothing was imported. First: {first}",
    422,
)
NOT_POOLING = ErrorKind("E_NOT_POOLING_REGION", "{code} 不是统筹区代码", "{code} is not a pooling region code", 422)


class CatalogImportRefused(YidiError):
    def __init__(self, errors: Sequence[RowError | str]) -> None:
        self.errors = [e if isinstance(e, RowError) else RowError(1, "header", e) for e in errors]
        super().__init__(ROWS_REFUSED, count=len(self.errors), first=str(self.errors[0]))

    def as_dict(self) -> dict[str, object]:
        body = super().as_dict()
        body["errors"] = [{"row": e.row, "column": e.column, "problem": e.problem} for e in self.errors[:1000]]
        return body


@dataclass(frozen=True)
class ImportReport:
    import_id: int
    region: str
    rows: int
    added: int
    unchanged: int
    closed: int


def _require_pooling_region(region: str) -> None:
    d = divisions().get(region)
    if d is None or not d.is_pooling_region:
        raise YidiError(NOT_POOLING, code=region)


def _same(row: CatalogItem, e: CatalogEntry) -> bool:
    return (
        row.med_list_name == e.med_list_name
        and row.chrgitm_lv == e.chrgitm_lv.value
        and row.med_chrgitm_type == e.med_chrgitm_type
        and row.selfpay_prop == e.selfpay_prop
        and row.pric_uplmt_amt == e.pric_uplmt_amt
        and row.enddate == e.enddate
        and row.spec == e.spec
        and row.lmt_used_scope == e.lmt_used_scope
    )


def import_catalog(
    session: Session, region: str, filename: str, content: bytes, *, actor: str, now: dt.datetime
) -> ImportReport:
    """Import a CSV/XLSX catalogue for a treatment pooling region. Any bad row → nothing is written.

    A row for a code whose current version is open-ended and starts earlier closes that version the day
    before; re-importing identical rows changes nothing; a different row for an existing (code, start)
    or an overlap with a closed version is an error naming the row.
    """
    _require_pooling_region(region)
    # One import of a region at a time: an import reads the region's versions before it writes, and its id is the
    # catalogue version the downloads hand out, so ids must become visible in the order they were taken. FOR NO KEY
    # UPDATE (key_share) leaves the rows that merely point at the division (filings, insurances) unblocked.
    session.execute(select(DivisionRow.code).where(DivisionRow.code == region).with_for_update(key_share=True))
    header, cells = read_table(filename, content)
    positions, header_problems = map_header(header)
    if header_problems:
        raise CatalogImportRefused(header_problems)
    rows: list[tuple[int, dict[str, object]]] = []
    for line, row in cells:
        if len(rows) >= MAX_ROWS:
            raise CatalogImportRefused([RowError(line, "file", f"more than {MAX_ROWS} rows; split the file")])
        rows.append((line, {k: (row[i] if i < len(row) else None) for k, i in positions.items()}))
    entries, errors = validate_rows(rows, default_reference=filename)
    if not rows:
        errors.append(RowError(2, "file", "no data rows / 没有数据行"))
    entries, chain_errors = _chain_versions(entries)
    errors += chain_errors
    existing = _existing_versions(session, region, {e.med_list_codg for _, e in entries})
    to_add: list[CatalogEntry] = []
    to_close: list[tuple[CatalogItem, dt.date]] = []
    unchanged = 0
    for line, e in entries:
        versions = existing.get(e.med_list_codg, [])
        same_start = next((v for v in versions if v.begndate == e.begndate), None)
        if same_start is not None:
            if _same(same_start, e):
                unchanged += 1
            else:
                errors.append(
                    RowError(
                        line,
                        "begndate",
                        f"a different version of {e.med_list_codg} already starts "
                        f"{e.begndate}; give the change a new begndate / 同一开始日期已有不同版本",
                    )
                )
            continue
        end = e.enddate or dt.date.max
        for v in versions:
            v_end = v.enddate or dt.date.max
            if v.begndate < e.begndate and v.enddate is None:
                to_close.append((v, e.begndate - dt.timedelta(days=1)))
            elif v.begndate <= end and e.begndate <= v_end:
                errors.append(
                    RowError(
                        line,
                        "begndate",
                        f"overlaps version {v.begndate}–{v.enddate or '…'} of {e.med_list_codg} / 与已有版本时间重叠",
                    )
                )
        to_add.append(e)
    if errors:
        ordered: list[RowError] = sorted(errors, key=lambda r: r.row)
        raise CatalogImportRefused(ordered)
    record = CatalogImport(
        region=region,
        filename=filename[:300],
        sha256=hashlib.sha256(content).hexdigest(),
        rows=len(rows),
        added=len(to_add),
        unchanged=unchanged,
        closed=len(to_close),
        imported_at=now,
        actor=actor,
    )
    session.add(record)
    session.flush()
    for version, end_day in to_close:
        version.enddate = end_day
        version.version_id = record.id
    if to_add:
        session.execute(insert(CatalogItem), [_row(region, e, record.id) for e in to_add])
    audit.record(
        session,
        at=now,
        actor_type="staff",
        actor_id=actor,
        channel="import",
        action="catalog.import",
        entity_type="catalog",
        entity_id=region,
        after={
            "import_id": record.id,
            "filename": filename,
            "sha256": record.sha256,
            "rows": len(rows),
            "added": len(to_add),
            "unchanged": unchanged,
            "closed": len(to_close),
        },
    )
    return ImportReport(record.id, region, len(rows), len(to_add), unchanged, len(to_close))


def _chain_versions(
    entries: list[tuple[int, CatalogEntry]],
) -> tuple[list[tuple[int, CatalogEntry]], list[RowError]]:
    """Versions of one code inside the file: an open-ended earlier one ends the day before the next."""
    by_code: dict[str, list[tuple[int, CatalogEntry]]] = {}
    for line, e in entries:
        by_code.setdefault(e.med_list_codg, []).append((line, e))
    out: list[tuple[int, CatalogEntry]] = []
    errors: list[RowError] = []
    for versions in by_code.values():
        versions.sort(key=lambda le: le[1].begndate)
        for i, (line, e) in enumerate(versions):
            if i + 1 < len(versions):
                nxt_line, nxt = versions[i + 1]
                if e.enddate is None:
                    e = replace(e, enddate=nxt.begndate - dt.timedelta(days=1))
                elif e.enddate >= nxt.begndate:
                    errors.append(
                        RowError(nxt_line, "begndate", f"overlaps row {line} of the same code / 与第{line}行时间重叠")
                    )
            out.append((line, e))
    out.sort(key=lambda le: le[0])
    return out, errors


def _existing_versions(session: Session, region: str, codes: set[str]) -> dict[str, list[CatalogItem]]:
    out: dict[str, list[CatalogItem]] = {}
    ordered = sorted(codes)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        for item in session.scalars(
            select(CatalogItem).where(CatalogItem.region == region, CatalogItem.med_list_codg.in_(chunk))
        ):
            out.setdefault(item.med_list_codg, []).append(item)
    return out


def _row(region: str, e: CatalogEntry, import_id: int) -> dict[str, object]:
    return {
        "region": region,
        "med_list_codg": e.med_list_codg,
        "med_list_name": e.med_list_name,
        "item_kind": e.item_kind.value,
        "chrgitm_lv": e.chrgitm_lv.value,
        "med_chrgitm_type": e.med_chrgitm_type,
        "selfpay_prop": e.selfpay_prop,
        "pric_uplmt_amt": e.pric_uplmt_amt,
        "spec": e.spec,
        "lmt_used_scope": e.lmt_used_scope,
        "begndate": e.begndate,
        "enddate": e.enddate,
        "reference": e.reference,
        "import_id": import_id,
        "version_id": import_id,
    }


def as_entry(item: CatalogItem) -> CatalogEntry:
    return CatalogEntry(
        item.med_list_codg,
        item.med_list_name,
        ItemKind(item.item_kind),
        ChargeLevel(item.chrgitm_lv),
        item.med_chrgitm_type,
        Decimal(item.selfpay_prop),
        item.pric_uplmt_amt,
        item.spec,
        item.lmt_used_scope,
        item.begndate,
        item.enddate,
        item.reference,
    )


def _in_force(day: dt.date):  # type: ignore[no-untyped-def]
    return (CatalogItem.begndate <= day) & or_(CatalogItem.enddate.is_(None), CatalogItem.enddate >= day)


def item_at(session: Session, region: str, code: str, day: dt.date) -> CatalogItem | None:
    """The version of `code` in the region's catalogue in force on `day` (None: not in the catalogue)."""
    return session.scalar(
        select(CatalogItem).where(CatalogItem.region == region, CatalogItem.med_list_codg == code, _in_force(day))
    )


def items_at(session: Session, region: str, codes: set[str], day: dt.date) -> dict[str, CatalogItem]:
    """Several codes at once (one query per 500 codes), for pricing a batch of fee lines."""
    out: dict[str, CatalogItem] = {}
    ordered = sorted(codes)
    for i in range(0, len(ordered), 500):
        stmt = select(CatalogItem).where(
            CatalogItem.region == region, CatalogItem.med_list_codg.in_(ordered[i : i + 500]), _in_force(day)
        )
        out.update({item.med_list_codg: item for item in session.scalars(stmt)})
    return out


def search(
    session: Session, region: str, day: dt.date, text: str | None, limit: int, offset: int
) -> tuple[int, list[CatalogItem]]:
    stmt = select(CatalogItem).where(CatalogItem.region == region, _in_force(day))
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(CatalogItem.med_list_name.like(like), CatalogItem.med_list_codg.like(like)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(CatalogItem.med_list_codg).limit(limit).offset(offset)).all()
    return total, list(items)


def items_on(session: Session, wanted: set[tuple[str, str, dt.date]]) -> dict[tuple[str, str, dt.date], CatalogItem]:
    """The version in force of each (region, code, day) asked for: fee lines of many days read back at once (one
    query per 500 codes, whatever the number of days), where `items_at` would take one query per day."""
    if not wanted:
        return {}
    regions = sorted({r for r, _, _ in wanted})
    first, last = min(d for _, _, d in wanted), max(d for _, _, d in wanted)
    versions: dict[tuple[str, str], list[CatalogItem]] = {}
    ordered = sorted({c for _, c, _ in wanted})
    for i in range(0, len(ordered), 500):
        stmt = select(CatalogItem).where(
            CatalogItem.region.in_(regions),
            CatalogItem.med_list_codg.in_(ordered[i : i + 500]),
            CatalogItem.begndate <= last,
            or_(CatalogItem.enddate.is_(None), CatalogItem.enddate >= first),
        )
        for item in session.scalars(stmt):
            versions.setdefault((item.region, item.med_list_codg), []).append(item)
    out: dict[tuple[str, str, dt.date], CatalogItem] = {}
    for region, code, day in wanted:
        for v in versions.get((region, code), ()):
            if v.begndate <= day and (v.enddate is None or day <= v.enddate):
                out[(region, code, day)] = v
                break
    return out
