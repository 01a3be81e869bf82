"""Pure catalogue rules: validating import rows and the catalogue's effect on one fee line.

The effect follows settlement.md §2 steps 1–4, all from the **treatment place's** catalogue: out of
catalogue or 丙类 → fully self-paid; above the price cap → over-limit; 乙类 → first self-pay share;
the rest is eligible (政策范围内).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from yidi.core.money import round_yuan

MAX_PRICE_PLACES = 6  # prices travel as decimal(16,6) on the national interface


class ItemKind(StrEnum):
    WESTERN_DRUG = "western_drug"  # X…, 23 characters
    PATENT_DRUG = "patent_drug"  # Z…, 23 characters
    HERBAL = "herbal"  # T…
    CONSUMABLE = "consumable"  # C…
    SERVICE = "service"  # digits (15 in the national service-item code)


class ChargeLevel(StrEnum):
    """chrgitm_lv: 01 甲类, 02 乙类, 03 丙类."""

    A = "01"
    B = "02"
    C = "03"


MED_CHRGITM_TYPES = {f"{n:02d}" for n in range(1, 15)}  # 01 床位费 … 14 其他费

_CODE_PATTERNS: list[tuple[re.Pattern[str], ItemKind]] = [
    (re.compile(r"X[A-Z0-9]{22}", re.ASCII), ItemKind.WESTERN_DRUG),
    (re.compile(r"Z[A-Z0-9]{22}", re.ASCII), ItemKind.PATENT_DRUG),
    (re.compile(r"T[A-Z0-9]{5,29}", re.ASCII), ItemKind.HERBAL),
    (re.compile(r"C[A-Z0-9]{5,29}", re.ASCII), ItemKind.CONSUMABLE),
    (re.compile(r"[0-9]{9,20}", re.ASCII), ItemKind.SERVICE),
]

# Accepted header names: the national field name or the usual Chinese column title.
COLUMNS = {
    "med_list_codg": ("med_list_codg", "医保目录编码", "国家编码", "编码"),
    "med_list_name": ("med_list_name", "名称", "项目名称", "药品名称"),
    "chrgitm_lv": ("chrgitm_lv", "收费项目等级", "甲乙类"),
    "med_chrgitm_type": ("med_chrgitm_type", "医疗收费项目类别", "收费类别"),
    "selfpay_prop": ("selfpay_prop", "自付比例", "先行自付比例"),
    "pric_uplmt_amt": ("pric_uplmt_amt", "最高限价", "限价"),
    "spec": ("spec", "规格"),
    "lmt_used_scope": ("lmt_used_scope", "限定支付范围", "限制使用范围"),
    "begndate": ("begndate", "开始日期", "生效日期"),
    "enddate": ("enddate", "结束日期", "失效日期"),
    "reference": ("reference", "依据", "文件依据"),
}
REQUIRED = ("med_list_codg", "med_list_name", "chrgitm_lv", "med_chrgitm_type", "begndate")
_LEVEL_ALIASES = {
    "01": "01",
    "1": "01",
    "甲": "01",
    "甲类": "01",
    "02": "02",
    "2": "02",
    "乙": "02",
    "乙类": "02",
    "03": "03",
    "3": "03",
    "丙": "03",
    "丙类": "03",
}


@dataclass(frozen=True)
class CatalogEntry:
    """One validated, dated catalogue item."""

    med_list_codg: str
    med_list_name: str
    item_kind: ItemKind
    chrgitm_lv: ChargeLevel
    med_chrgitm_type: str
    selfpay_prop: Decimal
    pric_uplmt_amt: Decimal | None
    spec: str | None
    lmt_used_scope: str | None
    begndate: dt.date
    enddate: dt.date | None
    reference: str


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line in the file, header = 1
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.problem}"


def item_kind(code: str) -> ItemKind | None:
    for pattern, kind in _CODE_PATTERNS:
        if pattern.fullmatch(code):
            return kind
    return None


def map_header(header: Iterable[str]) -> tuple[dict[str, int], list[str]]:
    """Column positions by canonical name, and the problems with the header."""
    positions: dict[str, int] = {}
    problems = []
    for i, raw in enumerate(header):
        name = (raw or "").strip()
        for canonical, aliases in COLUMNS.items():
            if name in aliases:
                if canonical in positions:
                    problems.append(f"column {canonical} appears twice")
                positions[canonical] = i
                break
    for req in REQUIRED:
        if req not in positions:
            problems.append(f"missing column {req} ({' / '.join(COLUMNS[req][1:])})")
    return positions, problems


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, float):  # spreadsheets hand over floats; keep their shortest text form
        return repr(value).removesuffix(".0") if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _decimal(text: str, places: int) -> Decimal:
    value = Decimal(text.replace(",", ""))
    if not value.is_finite():
        raise InvalidOperation
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"more than {places} decimals")
    return value


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text.replace("/", "-")[:10])


def validate_row(
    line: int, row: Mapping[str, object], default_reference: str
) -> tuple[CatalogEntry | None, list[RowError]]:
    errors: list[RowError] = []

    def err(column: str, problem: str) -> None:
        errors.append(RowError(line, column, problem))

    code = _text(row, "med_list_codg").upper()
    kind = item_kind(code)
    if not code:
        err("med_list_codg", "empty / 编码为空")
    elif kind is None:
        err(
            "med_list_codg",
            f"'{code}' is not a national code (drug X/Z + 22, herbal T…, consumable C…, service digits)",
        )
    name = _text(row, "med_list_name")
    if not name or len(name) > 200:
        err("med_list_name", "must have 1–200 characters / 名称须为1至200个字符")
    level_text = _text(row, "chrgitm_lv")
    level = _LEVEL_ALIASES.get(level_text.zfill(2) if level_text.isdigit() else level_text)
    if level is None:
        err("chrgitm_lv", f"'{level_text}' is not 01 甲类, 02 乙类 or 03 丙类")
    fee_type = _text(row, "med_chrgitm_type")
    fee_type = fee_type.zfill(2) if fee_type.isdigit() else fee_type
    if fee_type not in MED_CHRGITM_TYPES:
        err("med_chrgitm_type", f"'{fee_type}' is not a med_chrgitm_type code 01–14")
    selfpay = Decimal(0)
    selfpay_text = _text(row, "selfpay_prop").rstrip("%")
    if selfpay_text:
        try:
            selfpay = _decimal(selfpay_text, 4)
            if _text(row, "selfpay_prop").endswith("%"):
                selfpay /= 100
        except (InvalidOperation, ValueError) as exc:
            err("selfpay_prop", f"'{selfpay_text}' is not a ratio ({exc or 'not a number'})")
        else:
            if not 0 <= selfpay <= 1:
                err("selfpay_prop", f"{selfpay} is outside [0, 1]")
    if level == ChargeLevel.A and selfpay != 0:
        err("selfpay_prop", "甲类 items have no first self-pay share / 甲类无先行自付")
    if level == ChargeLevel.C:
        selfpay = Decimal(1)  # 丙类 is wholly self-paid; the share is implied
    if level == ChargeLevel.B and not selfpay_text:
        err("selfpay_prop", "乙类 items need a first self-pay share (0 allowed) / 乙类须填先行自付比例")
    cap: Decimal | None = None
    cap_text = _text(row, "pric_uplmt_amt")
    if cap_text:
        try:
            cap = _decimal(cap_text, MAX_PRICE_PLACES)
            if cap <= 0:
                err("pric_uplmt_amt", "a price cap must be positive")
        except (InvalidOperation, ValueError) as exc:
            err("pric_uplmt_amt", f"'{cap_text}' is not a price ({exc or 'not a number'})")
    begn = end = None
    try:
        begn = _date(_text(row, "begndate"))
    except ValueError:
        err("begndate", f"'{_text(row, 'begndate')}' is not a date YYYY-MM-DD")
    if _text(row, "enddate"):
        try:
            end = _date(_text(row, "enddate"))
        except ValueError:
            err("enddate", f"'{_text(row, 'enddate')}' is not a date YYYY-MM-DD")
        else:
            if begn and end < begn:
                err("enddate", f"{end} is before begndate {begn}")
    spec, scope = _text(row, "spec") or None, _text(row, "lmt_used_scope") or None
    if spec and len(spec) > 200:
        err("spec", "longer than 200 characters")
    if scope and len(scope) > 500:
        err("lmt_used_scope", "longer than 500 characters")
    if errors:
        return None, errors
    assert kind is not None and level is not None and begn is not None
    reference = _text(row, "reference") or default_reference
    return (
        CatalogEntry(
            code, name, kind, ChargeLevel(level), fee_type, selfpay, cap, spec, scope, begn, end, reference[:300]
        ),
        [],
    )


def validate_rows(
    rows: Iterable[tuple[int, Mapping[str, object]]], default_reference: str
) -> tuple[list[tuple[int, CatalogEntry]], list[RowError]]:
    """Validate every row (keeping its line number); refuse two rows for the same code and start date."""
    entries: list[tuple[int, CatalogEntry]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, dt.date], int] = {}
    for line, row in rows:
        entry, problems = validate_row(line, row, default_reference)
        errors += problems
        if entry is None:
            continue
        key = (entry.med_list_codg, entry.begndate)
        if key in seen:
            errors.append(RowError(line, "med_list_codg", f"same code and begndate as row {seen[key]}"))
            continue
        seen[key] = line
        entries.append((line, entry))
    return entries, errors


# -- the catalogue's effect on one fee line ---------------------------------------------------------------


@dataclass(frozen=True)
class LineSplit:
    """Per-line amounts of the 2204/2301 answer (yuan, rounded half up)."""

    det_item_fee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal  # out of catalogue or 丙类
    overlmt_amt: Decimal  # above the price cap
    preselfpay_amt: Decimal  # 乙类 first self-pay
    inscp_scp_amt: Decimal  # eligible
    chrgitm_lv: str | None
    selfpay_prop: Decimal
    pric_uplmt_amt: Decimal | None


def split_fee_line(entry: CatalogEntry | None, total: Decimal, cnt: Decimal, pric: Decimal) -> LineSplit:
    """Split one fee line by the treatment place's catalogue entry in force on `fee_ocur_time`."""
    if entry is None or entry.chrgitm_lv is ChargeLevel.C:
        zero = Decimal("0.00")
        return LineSplit(
            total,
            total,
            zero,
            zero,
            zero,
            entry.chrgitm_lv.value if entry else None,
            Decimal(1),
            entry.pric_uplmt_amt if entry else None,
        )
    over = Decimal("0.00")
    if entry.pric_uplmt_amt is not None and pric > entry.pric_uplmt_amt:
        over = min(total, round_yuan((pric - entry.pric_uplmt_amt) * cnt))
    pre = round_yuan((total - over) * entry.selfpay_prop)
    return LineSplit(
        det_item_fee_sumamt=total,
        fulamt_ownpay_amt=Decimal("0.00"),
        overlmt_amt=over,
        preselfpay_amt=pre,
        inscp_scp_amt=total - over - pre,
        chrgitm_lv=entry.chrgitm_lv.value,
        selfpay_prop=entry.selfpay_prop,
        pric_uplmt_amt=entry.pric_uplmt_amt,
    )
