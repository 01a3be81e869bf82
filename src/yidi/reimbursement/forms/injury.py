"""Form 3, 外伤无第三方责任承诺书 (吉林, filing.md §9): the person declares that nobody else is liable for an
injury, so that the fund may pay for its care, and undertakes to repay if a liable party is found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yidi.core import pdf
from yidi.reimbursement.forms.common import MASK_NOTE, PersonFacts, form, period, person_rows

TITLE = "外伤无第三方责任承诺书"
DESCRIPTION_MAX = 300  # characters of the account of how the injury happened
PLACE_MAX = 100
INSTITUTION_MAX = 100

INTRO = (
    "本人{name}（身份证号码：{certno}），参保地为{region}。本人{when}受伤，受伤经过如上表所述，"
    "{period}在{institution}就医治疗。本人郑重承诺："
)
PROMISES = (
    "一、本次受伤系本人自身原因所致，不存在应当承担医疗费用的第三方责任人，不属于交通事故、工伤、他人伤害、"
    "医疗事故等应由第三方负担医疗费用的情形。",
    "二、本次医疗费用未从任何责任方或其他途径获得赔偿。",
    "三、本人所述受伤经过及提供的材料真实、完整。",
    "四、如经查实存在第三方责任或上述承诺不实，本人同意退还医疗保障基金已支付的全部费用，并承担相应的法律责任。",
)
SIGNATURES = ("承诺人（签字）", "代办人（签字）")
STAMPS = ("参保地医疗保障经办机构受理意见（盖章）",)


@dataclass(frozen=True)
class InjuryFacts:
    person: PersonFacts
    institution: str
    begndate: dt.date
    enddate: dt.date
    description: str  # how the injury happened, in the person's words
    injury_date: dt.date | None = None
    injury_place: str = ""
    reference: str = ""  # the claim and visit it belongs to, when there is one


def build(f: InjuryFacts) -> pdf.Form:
    if not f.description.strip() or len(f.description) > DESCRIPTION_MAX:
        raise ValueError(f"the description is 1 to {DESCRIPTION_MAX} characters")
    begin, end = pdf.date_text(f.begndate), pdf.date_text(f.enddate)
    intro = INTRO.format(
        name=f.person.name,
        certno=f.person.certno_masked,
        region=f.person.insured_region,
        when=f"于{pdf.date_text(f.injury_date)}" if f.injury_date else "",
        period=f"于{period(begin, end)}",
        institution=f.institution,
    )
    return form(
        TITLE,
        [
            pdf.Fields(
                [
                    *person_rows(f.person, with_tel=True),
                    [("就医机构", f.institution)],
                    [("就医日期", period(begin, end)), ("受伤日期", pdf.date_text(f.injury_date) or "—")],
                    [("受伤地点", f.injury_place or "—")],
                    [("受伤经过", f.description.strip())],
                ]
            ),
            pdf.Gap(3),
            pdf.Text([intro]),
            pdf.Text(PROMISES),
            pdf.Text(["特此承诺。"]),
            pdf.Note(MASK_NOTE),
            pdf.Signatures(SIGNATURES),
            pdf.Stamps(STAMPS, height_mm=28),
        ],
        reference=f.reference,
        subtitle=f"参保地：{f.person.insured_region}",
    )


def fill(f: InjuryFacts, generated_at: dt.datetime) -> bytes:
    return pdf.render(build(f), generated_at)
