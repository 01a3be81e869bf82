"""Form 2, 个人承诺书: the undertaking a long-term filing on 承诺制 rests on (filing.md §3).

The deadline for the proof and what happens without it are the insured region's commitment parameters at the
filing date (`CommitmentTerms`), written into the text: no number of days or months lives in this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yidi.core import pdf
from yidi.reimbursement.forms.common import MASK_NOTE, PersonFacts, form, person_rows
from yidi.reimbursement.forms.registration import SUBTYPE

TITLE = "异地就医备案个人承诺书"

# What the undertaking stands in for, and the situation it asserts, per long-term sub-type (filing.md §2).
PROOF = {
    "resettled_retiree": "户籍证明（户口簿首页及本人常住人口登记卡）",
    "long_term_resident": "居住证明（居住证或社区出具的居住证明）",
    "posted_worker": "工作证明（单位派出证明、异地工作证明或劳动合同）",
}
SITUATION = {
    "resettled_retiree": "退休后异地安置",
    "long_term_resident": "在就医地长期居住",
    "posted_worker": "由用人单位派驻就医地常驻工作",
}
ANY_PROOF = "相关证明材料"
INTRO = (
    "本人{name}（身份证号码：{certno}），参保地为{region}，申请办理异地就医备案（{subtype}，就医地：{target}，"
    "自{begin}起）。因暂时无法提供{proof}，本人自愿选择以个人承诺方式办理备案，并郑重承诺："
)
TRUE = "本人{situation}的情况属实，所填报的备案信息真实、准确、完整。"
PROOF_BY = "本人将自备案申请之日起{days}日内（即{deadline}前）向参保地医疗保障经办机构补交{proof}。"
PROOF_BY_DAYS = "本人将自备案申请之日起{days}日内向参保地医疗保障经办机构补交{proof}。"
PROOF_WHEN_ASKED = "本人将按参保地医疗保障经办机构的要求补交{proof}。"
CONSEQUENCE = {
    "cancel": "逾期未补交的，本人同意参保地医疗保障经办机构取消本次备案。",
    "lower_ratio": "逾期未补交的，本人同意按参保地对未补交证明材料的承诺制备案人员规定的待遇标准结算医疗费用。",
    "downgrade_to_temporary": "逾期未补交的，本人同意本次备案转为“其他临时外出就医人员”备案，按相应待遇结算医疗费用。",
    "fixed_term": "逾期未补交的，本次备案于期满时终止，补交证明材料后方可继续享受异地长期居住人员待遇。",
    "none": "",
}
BAN = "逾期未补交的，自备案终止之日起{months}个月内，本人不再以承诺方式办理异地就医备案。"
LIABILITY = "如承诺不实，本人愿承担相应的法律责任；医疗保障基金因此多支付的费用，由本人全额退还。"
SIGNATURES = ("承诺人（签字）", "代办人（签字）")
NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class CommitmentTerms:
    """The insured region's 承诺制 parameters at the filing date (parameters.policy.Commitment)."""

    proof_deadline_days: int | None
    consequence: str  # none | lower_ratio | cancel | downgrade_to_temporary | fixed_term
    ban_months: int


@dataclass(frozen=True)
class UndertakingFacts:
    filing_id: str
    person: PersonFacts
    subtype: str
    target: str
    begndate: dt.date
    proof_deadline: dt.date | None  # the filing's own deadline, computed when it was submitted
    terms: CommitmentTerms


def promises(f: UndertakingFacts) -> list[str]:
    """The numbered paragraphs of the undertaking, from the terms."""
    proof = PROOF.get(f.subtype, ANY_PROOF)
    days = f.terms.proof_deadline_days
    if days is not None and f.proof_deadline is not None:
        proof_item = PROOF_BY.format(days=days, deadline=pdf.date_text(f.proof_deadline), proof=proof)
    elif days is not None:
        proof_item = PROOF_BY_DAYS.format(days=days, proof=proof)
    else:
        proof_item = PROOF_WHEN_ASKED.format(proof=proof)
    items = [TRUE.format(situation=SITUATION.get(f.subtype, "异地就医")), proof_item]
    consequence = CONSEQUENCE.get(f.terms.consequence, "")
    if consequence:
        items.append(consequence)
    if f.terms.ban_months > 0:
        items.append(BAN.format(months=f.terms.ban_months))
    items.append(LIABILITY)
    return [f"{NUMERALS[n]}、{text}" for n, text in enumerate(items)]


def build(f: UndertakingFacts) -> pdf.Form:
    intro = INTRO.format(
        name=f.person.name,
        certno=f.person.certno_masked,
        region=f.person.insured_region,
        subtype=SUBTYPE.get(f.subtype, f.subtype),
        target=f.target,
        begin=pdf.date_text(f.begndate),
        proof=PROOF.get(f.subtype, ANY_PROOF),
    )
    return form(
        TITLE,
        [
            pdf.Fields(
                [
                    *person_rows(f.person, with_tel=True),
                    [("就医地", f.target), ("开始日期", pdf.date_text(f.begndate))],
                ]
            ),
            pdf.Gap(3),
            pdf.Text([intro]),
            pdf.Text(promises(f)),
            pdf.Text(["特此承诺。"]),
            pdf.Note(MASK_NOTE),
            pdf.Signatures(SIGNATURES),
        ],
        reference=f"备案编号：{f.filing_id}",
        subtitle=f"参保地：{f.person.insured_region}",
    )


def fill(f: UndertakingFacts, generated_at: dt.datetime) -> bytes:
    return pdf.render(build(f), generated_at)
