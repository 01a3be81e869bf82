"""Form 5, 异地就医住院结算单: the full split of a direct settlement, or of each visit of an approved claim with the
claim's totals (what direct settlement already paid, what is payable now).

A sheet whose numbers do not add up is refused, not printed: the parts of the bill must make its total, the
funds their sum, funds plus the person's part the total, account plus cash the person's part. A sheet that
failed these would be a defect upstream, and paper would carry it further.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yidi.core import pdf
from yidi.core.errors import ErrorKind, YidiError
from yidi.core.money import parse_amount
from yidi.reimbursement.forms.common import (
    CATEGORY,
    MASK_NOTE,
    MED_TYPE,
    SETTLEMENT_LEVEL,
    STAY_MED_TYPES,
    PersonFacts,
    form,
    label,
    person_rows,
)
from yidi.reimbursement.rules import visit_payable
from yidi.settlement.service import MONEY_FIELDS

log = logging.getLogger("yidi.reimbursement.forms")

UNBALANCED = ErrorKind(
    "D_UNBALANCED",
    "结算数据不平衡，不予打印（{check}）：{detail}",
    "the settlement's numbers do not add up, so the sheet is not printed ({check}): {detail}",
    409,
)
TITLE_STAY = "异地就医住院结算单"
TITLE_VISIT = "异地就医门诊结算单"
TITLE_MIXED = "异地就医医疗费用结算单"
RATIO = "pool_prop_selfpay"
WORDS = "fund_pay_sumamt_words"  # the funds' total in words (人民币大写)

# The split, two (label, field) pairs per row, in the order of the calculation (settlement.md §2).
SPLIT_LAYOUT: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = (
    (("医疗费总额", "medfee_sumamt"), ("全自费金额", "fulamt_ownpay_amt")),
    (("超限价自付金额", "overlmt_selfpay"), ("先行自付金额", "preselfpay_amt")),
    (("符合政策范围金额", "inscp_scp_amt"), ("起付标准（本次负担）", "act_pay_dedc")),
    (("统筹基金支付", "hifp_pay"), ("统筹基金支付比例", RATIO)),
    (("公务员医疗补助", "cvlserv_pay"), ("大病保险支付", "hifmi_pay")),
    (("大额医疗费用补助", "hifob_pay"), ("医疗救助支付", "maf_pay")),
    (("其他基金支付", "oth_pay"), ("基金支付合计", "fund_pay_sumamt")),
    (("个人负担合计", "psn_part_amt"), ("个人账户支付", "acct_pay")),
    (("个人现金支付", "psn_cash_pay"), ("基金支付合计（大写）", WORDS)),
)
SPLIT_HEADERS = ("项目", "金额（元）", "项目", "金额（元）")
SPLIT_WIDTHS = (2.7, 2.1, 2.7, 2.5)
DETAIL_HEADERS = ("基金类型", "基金名称", "符合范围金额", "本次支付限额", "支付金额", "计算说明")
DETAIL_WIDTHS = (1.0, 2.55, 1.3, 1.3, 1.3, 2.75)
# The checks, each: (name, the parts, the whole).
CHECKS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "费用构成 / parts of the bill",
        ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"),
        "medfee_sumamt",
    ),
    (
        "基金合计 / funds",
        ("hifp_pay", "cvlserv_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay"),
        "fund_pay_sumamt",
    ),
    ("基金＋个人＝总额 / fund + person = total", ("fund_pay_sumamt", "psn_part_amt"), "medfee_sumamt"),
    ("账户＋现金＝个人负担 / account + cash = person", ("acct_pay", "psn_cash_pay"), "psn_part_amt"),
)


def _unbalanced(check: str, detail: str) -> YidiError:
    log.error("unbalanced settlement refused for printing", extra={"check": check, "detail": detail})
    return YidiError(UNBALANCED, check=check, detail=detail)


@dataclass(frozen=True)
class FundRow:
    fund_pay_type: str
    name: str
    inscp_scp_amt: Decimal
    crt_payb_lmt_amt: Decimal
    fund_payamt: Decimal
    info: str


@dataclass(frozen=True)
class Split:
    """Every amount of MONEY_FIELDS, the pooled fund's ratio and the fund rows (setldetail)."""

    amounts: Mapping[str, Decimal]
    ratio: Decimal | None
    details: tuple[FundRow, ...]

    def __getitem__(self, name: str) -> Decimal:
        return self.amounts[name]

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, where: str) -> Split:
        """The agreed JSON of a claim visit's split (amounts as 2-decimal text); a missing or malformed one is a
        defect upstream."""
        if not data:
            raise _unbalanced("拆分数据 / split data", f"{where}: no split")
        try:
            amounts = {k: parse_amount(str(data[k])) for k in MONEY_FIELDS}
            ratio = Decimal(str(data[RATIO])) if data.get(RATIO) is not None else None
        except (KeyError, TypeError, ArithmeticError, YidiError) as exc:
            raise _unbalanced("拆分数据 / split data", f"{where}: {type(exc).__name__} {exc}") from exc
        return cls(amounts, ratio, fund_rows(data.get("setldetail") or [], where))


def fund_rows(setldetail: Sequence[Mapping[str, Any]], where: str) -> tuple[FundRow, ...]:
    """The fund rows of a settlement or a split (setldetail items, amounts as text)."""
    try:
        return tuple(
            FundRow(
                str(d["fund_pay_type"]),
                str(d.get("fund_pay_type_name") or ""),
                parse_amount(str(d["inscp_scp_amt"])),
                parse_amount(str(d.get("crt_payb_lmt_amt") or "0")),
                parse_amount(str(d["fund_payamt"])),
                str(d.get("setl_proc_info") or ""),
            )
            for d in setldetail
        )
    except (KeyError, TypeError, ArithmeticError, YidiError) as exc:
        raise _unbalanced("基金支付明细 / setldetail", f"{where}: {type(exc).__name__} {exc}") from exc


def check_adds_up(split: Split, where: str) -> None:
    for name, value in split.amounts.items():
        if value < 0:
            raise _unbalanced("金额非负 / no negative amount", f"{where}: {name} = {value}")
    for check, parts, whole in CHECKS:
        got = sum((split[p] for p in parts), Decimal("0.00"))
        if got != split[whole]:
            raise _unbalanced(check, f"{where}: {' + '.join(parts)} = {got} ≠ {whole} = {split[whole]}")


@dataclass(frozen=True)
class CareFacts:
    """One settled case: a direct settlement, or one visit of a claim."""

    reference: str  # setl_id, or "<claim id> / 第n次就医"
    institution: str
    hospital_grade: str  # 三级甲等 …, as the institution gives it ("" if unknown)
    settlement_level: str  # SettlementLevel value
    treatment_region: str  # name
    med_type: str
    admission: dt.date
    discharge: dt.date | None
    diagnosis: str
    category: str | None  # filing category that set the ratio
    settled_at: dt.datetime | None
    split: Split
    paid_directly: Decimal = Decimal("0.00")  # a claim's visit: what direct settlement paid for the same care


@dataclass(frozen=True)
class ClaimTotals:
    claim_id: str
    status: str
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    paid_directly: Decimal
    payable: Decimal
    payee_name: str
    bank_name: str
    bank_account_masked: str


@dataclass(frozen=True)
class SheetFacts:
    person: PersonFacts
    cases: tuple[CareFacts, ...]
    claim: ClaimTotals | None = None


def check_claim(c: ClaimTotals, cases: Sequence[CareFacts]) -> None:
    """The claim's totals are its visits' sums, and what is payable is each visit's funds' share less what direct
    settlement paid for it, never below zero, summed (rules.visit_payable)."""
    medfee = sum((case.split["medfee_sumamt"] for case in cases), Decimal("0.00"))
    fund = sum((case.split["fund_pay_sumamt"] for case in cases), Decimal("0.00"))
    paid = sum((case.paid_directly for case in cases), Decimal("0.00"))
    payable = sum((visit_payable(case.split["fund_pay_sumamt"], case.paid_directly) for case in cases), Decimal(0))
    where = f"claim {c.claim_id}"
    if medfee != c.medfee_sumamt:
        raise _unbalanced("报销总额 / claim total", f"{where}: visits {medfee} ≠ claim {c.medfee_sumamt}")
    if fund != c.fund_pay_sumamt:
        raise _unbalanced("报销基金合计 / claim funds", f"{where}: visits {fund} ≠ claim {c.fund_pay_sumamt}")
    if paid != c.paid_directly or c.payable != payable:
        raise _unbalanced(
            "应付金额 / payable",
            f"{where}: payable {c.payable}, paid directly {c.paid_directly} ≠ the visits' {payable}, {paid}",
        )


def check(f: SheetFacts) -> None:
    if not f.cases:
        raise _unbalanced("就医记录 / visits", "no settled visit to print")
    for case in f.cases:
        check_adds_up(case.split, case.reference)
    if f.claim is not None:
        check_claim(f.claim, f.cases)


def _title(cases: Sequence[CareFacts]) -> str:
    stays = {c.med_type in STAY_MED_TYPES for c in cases}
    return TITLE_MIXED if len(stays) > 1 else TITLE_STAY if stays == {True} else TITLE_VISIT


def _case_rows(case: CareFacts) -> list[list[tuple[str, str]]]:
    stay = case.med_type in STAY_MED_TYPES
    level = label(SETTLEMENT_LEVEL, case.settlement_level)
    grade = f"{case.hospital_grade}（医保结算等级：{level}）" if case.hospital_grade else f"医保结算等级：{level}"
    settled = pdf.time_text(case.settled_at) if case.settled_at else "—"
    if stay:
        days = f"{(case.discharge - case.admission).days or 1}天" if case.discharge else "—"
        dates = [
            [("入院日期", pdf.date_text(case.admission)), ("出院日期", pdf.date_text(case.discharge) or "—")],
            [("住院天数", days), ("结算时间", settled)],
        ]
    else:
        dates = [[("就诊日期", pdf.date_text(case.admission)), ("结算时间", settled)]]
    return [
        [("定点医疗机构", case.institution)],
        [("机构等级", grade), ("就医地", case.treatment_region)],
        [("医疗类别", label(MED_TYPE, case.med_type)), ("备案类别", label(CATEGORY, case.category) or "—")],
        *dates,
        [("诊断", case.diagnosis or "—")],
    ]


def _money_blocks(case: CareFacts) -> list[pdf.Block]:
    s = case.split

    def cell(field: str) -> pdf.Cell:
        if field == WORDS:
            return pdf.amount_in_words(s["fund_pay_sumamt"])
        if field == RATIO:
            return pdf.Num(pdf.ratio_text(s.ratio) if s.ratio is not None else "—")
        return s[field]

    split_rows: list[list[pdf.Cell]] = [[a, cell(fa), b, cell(fb)] for (a, fa), (b, fb) in SPLIT_LAYOUT]
    blocks: list[pdf.Block] = [pdf.Gap(2), pdf.Table(SPLIT_HEADERS, split_rows, SPLIT_WIDTHS, unbroken=True)]
    if s.details:
        blocks += [
            pdf.Gap(2),
            pdf.Table(
                DETAIL_HEADERS,
                [
                    [d.fund_pay_type, d.name, d.inscp_scp_amt, d.crt_payb_lmt_amt, d.fund_payamt, d.info]
                    for d in s.details
                ],
                DETAIL_WIDTHS,
                unbroken=True,
            ),
        ]
    blocks.append(
        pdf.Note(
            f"核对：基金支付合计 {pdf.amount_text(s['fund_pay_sumamt'])} ＋ 个人负担合计 "
            f"{pdf.amount_text(s['psn_part_amt'])} ＝ 医疗费总额 {pdf.amount_text(s['medfee_sumamt'])}；"
            f"个人账户支付 {pdf.amount_text(s['acct_pay'])} ＋ 个人现金支付 {pdf.amount_text(s['psn_cash_pay'])} ＝ "
            f"个人负担合计 {pdf.amount_text(s['psn_part_amt'])}。"
        )
    )
    return blocks


def _claim_blocks(c: ClaimTotals) -> list[pdf.Block]:
    return [
        pdf.Heading("手工报销支付信息"),
        pdf.Table(
            (),
            [
                ["医疗费总额", c.medfee_sumamt, "基金支付合计", c.fund_pay_sumamt],
                ["已由直接结算支付", c.paid_directly, "本次应支付", c.payable],
            ],
            (3, 2, 3, 2),
        ),
        pdf.Fields(
            [
                [("应支付（大写）", pdf.amount_in_words(c.payable)), ("收款人", c.payee_name)],
                [("开户银行", c.bank_name), ("银行账号", c.bank_account_masked)],
            ],
            label_mm=30,
        ),
    ]


def build(f: SheetFacts) -> pdf.Form:
    check(f)
    blocks: list[pdf.Block]
    if len(f.cases) == 1:  # one grid: the person, then the stay
        blocks = [pdf.Fields(person_rows(f.person) + _case_rows(f.cases[0])), *_money_blocks(f.cases[0])]
    else:
        blocks = [pdf.Fields(person_rows(f.person))]
        for n, case in enumerate(f.cases, 1):
            money = _money_blocks(case)  # the split and the fund rows stay with the visit they belong to
            blocks += [
                pdf.Together([pdf.Heading(f"第{n}次就医"), pdf.Fields(_case_rows(case)), *money[:2]]),
                *money[2:],
            ]
    if f.claim is not None:
        blocks += _claim_blocks(f.claim)
        closing: list[pdf.Block] = [
            pdf.Signatures(("参保人（签字）", "经办人（签字）", "复核人（签字）"), dated=False, columns=3),
            pdf.Stamps(("参保地医疗保障经办机构（盖章）",), height_mm=24),
        ]
        reference = f"报销单号：{f.claim.claim_id}"
    else:
        closing = [
            pdf.Signatures(("参保人（签字）", "收费员（签字）"), dated=False, columns=2),
            pdf.Stamps(("定点医疗机构（盖章）",), height_mm=26),
        ]
        reference = f"结算编号：{f.cases[0].reference}"
    blocks += [pdf.Note(MASK_NOTE), *closing]
    return form(_title(f.cases), blocks, reference=reference, subtitle=f"参保地：{f.person.insured_region}")


def fill(f: SheetFacts, generated_at: dt.datetime) -> bytes:
    return pdf.render(build(f), generated_at)
