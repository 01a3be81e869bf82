"""Form 4, 住院期间外院检查治疗或定点药店购药单 (吉林, settlement.md §10): during a stay at one hospital, tests
or treatment at another institution, or drugs bought at a pharmacy, confirmed by the treating doctor and the
department so that the agency can count them with the stay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from yidi.core import pdf
from yidi.core.errors import INVALID_FIELD, YidiError
from yidi.reimbursement.forms.common import MASK_NOTE, PersonFacts, form, person_rows

TITLE = "住院期间外院检查治疗或定点药店购药单"
KINDS = {"test": "检查", "treatment": "治疗", "drug": "药店购药"}
MAX_ITEMS = 30
TEXT_MAX = 100
AMOUNT_MIN = Decimal("0.01")

HEADERS = ("序号", "日期", "外院或药店名称", "类别", "检查治疗项目或药品名称", "金额（元）")
WIDTHS = (0.65, 1.75, 2.75, 1.0, 2.95, 1.4)
STATEMENT = (
    "上述项目系患者在本院住院期间，因本院不具备相应检查、治疗条件或药品暂缺，经治疗医师同意，"
    "到其他医疗机构检查治疗或到定点零售药店购药所发生，情况属实。"
)
SIGNATURES = ("患者或家属（签字）", "经治医师（签字）", "科室负责人（签字）")
STAMPS = ("住院科室意见（签字）", "住院医疗机构医保管理部门意见（盖章）")


@dataclass(frozen=True)
class StayFacts:
    institution: str
    admission: dt.date
    diagnosis: str
    discharge: dt.date | None = None  # None: still in hospital
    department: str = ""
    admission_no: str = ""  # 住院号


@dataclass(frozen=True)
class OutsideItem:
    day: dt.date
    institution: str  # the other hospital, or the pharmacy
    kind: str  # test | treatment | drug
    item: str
    amount: Decimal


@dataclass(frozen=True)
class OutsideCareFacts:
    person: PersonFacts
    stay: StayFacts
    items: tuple[OutsideItem, ...]
    reference: str = ""


def _refuse(field: str, problem: str) -> YidiError:
    return YidiError(INVALID_FIELD, field=field, problem=problem)


def check_items(stay: StayFacts, items: Sequence[OutsideItem], today: dt.date, max_amount: Decimal) -> None:
    """Refuse, naming the field, what cannot be on the form: no items or too many, an amount out of bounds
    (`max_amount`: the platform's limit of one fee line) or finer than a fen, a day outside the stay or still to
    come, an unknown kind, an empty or overlong text."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise _refuse("items", f"1 to {MAX_ITEMS} items / 须为1至{MAX_ITEMS}项")
    last = min(stay.discharge or today, today)
    if stay.admission > today:
        raise _refuse("stay.admission", "is in the future / 入院日期晚于今天")
    for n, it in enumerate(items):
        where = f"items[{n}]"
        if not isinstance(it.amount, Decimal) or not it.amount.is_finite():
            raise _refuse(f"{where}.amount", "must be a decimal amount / 金额须为十进制数")
        if not AMOUNT_MIN <= it.amount <= max_amount or it.amount != it.amount.quantize(AMOUNT_MIN):
            raise _refuse(f"{where}.amount", f"0.01 to {max_amount}, in fen / 金额须在0.01至{max_amount}元之间且至分")
        if not stay.admission <= it.day <= last:
            raise _refuse(
                f"{where}.day",
                f"{it.day} is outside the stay {stay.admission}–{last} / 日期不在住院期间",
            )
        if it.kind not in KINDS:
            raise _refuse(f"{where}.kind", f"one of {', '.join(KINDS)} / 类别无效")
        for name, text in (("institution", it.institution), ("item", it.item)):
            if not text.strip() or len(text) > TEXT_MAX:
                raise _refuse(f"{where}.{name}", f"1 to {TEXT_MAX} characters / 须为1至{TEXT_MAX}个字符")


def total(items: Sequence[OutsideItem]) -> Decimal:
    return sum((it.amount for it in items), Decimal("0.00"))


def build(f: OutsideCareFacts) -> pdf.Form:
    stay = f.stay
    rows: list[list[pdf.Cell]] = [
        [pdf.Num(str(n)), pdf.date_text(it.day), it.institution, KINDS[it.kind], it.item, it.amount]
        for n, it in enumerate(f.items, 1)
    ]
    sum_ = total(f.items)
    return form(
        TITLE,
        [
            pdf.Heading("一、患者及住院信息"),
            pdf.Fields(
                [
                    *person_rows(f.person),
                    [("住院医疗机构", stay.institution)],
                    [("住院科室", stay.department or "—"), ("住院号", stay.admission_no or "—")],
                    [
                        ("入院日期", pdf.date_text(stay.admission)),
                        ("出院日期", pdf.date_text(stay.discharge) or "在院"),
                    ],
                    [("诊断", stay.diagnosis)],
                ]
            ),
            pdf.Heading("二、外院检查治疗或药店购药明细"),
            pdf.Table(
                HEADERS,
                rows,
                WIDTHS,
                total=["合计", f"人民币（大写）{pdf.amount_in_words(sum_)}", "", "", "", sum_],
                total_spans=((1, 4),),
            ),
            pdf.Gap(2),
            pdf.Text([STATEMENT]),
            pdf.Note(MASK_NOTE),
            pdf.Signatures(SIGNATURES),
            pdf.Stamps(STAMPS, height_mm=30),
        ],
        reference=f.reference,
        subtitle=f"参保地：{f.person.insured_region}",
    )


def fill(f: OutsideCareFacts, generated_at: dt.datetime) -> bytes:
    return pdf.render(build(f), generated_at)
