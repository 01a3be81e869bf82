"""Form 1, 异地就医登记备案表: the filing as the system recorded it (吉林: "system-generated", filing.md §2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yidi.core import pdf
from yidi.reimbursement.forms.common import MASK_NOTE, PersonFacts, form, label, person_rows

TITLE = "异地就医登记备案表"

KIND = {
    "resettled_retiree": "异地长期居住人员",
    "long_term_resident": "异地长期居住人员",
    "posted_worker": "异地长期居住人员",
    "referral": "临时外出就医人员",
    "emergency": "临时外出就医人员",
    "other_temporary": "临时外出就医人员",
    "designated_chronic": "门诊慢特病异地定点就医",
    "maternity": "生育",
}
SUBTYPE = {
    "resettled_retiree": "异地安置退休人员",
    "long_term_resident": "异地长期居住人员",
    "posted_worker": "常驻异地工作人员",
    "referral": "异地转诊就医人员",
    "emergency": "异地急诊抢救人员",
    "other_temporary": "其他临时外出就医人员",
    "designated_chronic": "门诊慢特病定点机构备案",
    "maternity": "生育备案",
}
BASIS = {"materials": "提交证明材料", "commitment": "个人承诺（承诺制）", "none": "无需证明材料"}
CHANNEL = {
    "national_app": "国家医保服务平台",
    "mini_program": "国家异地就医备案小程序",
    "provincial_app": "省级医保服务平台",
    "web_portal": "yidi 网上服务",
    "counter": "经办窗口",
    "hospital": "定点医疗机构代办",
    "phone": "电话（12393）",
}
STATUS = {
    "submitted": "已提交（待补材料）",
    "under_review": "审核中",
    "approved": "备案成功",
    "rejected": "未通过",
    "changed": "已变更",
    "cancelled": "已取消",
    "expired": "已到期",
    "superseded": "已续期",
}
TARGET_LEVEL = {"city": "（地市）", "province": "（全省）"}

# The filing part of the form, row by row: (label, key of `_values`).
FILING_ROWS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("备案类别", "kind"), ("人员类型", "subtype")),
    (("就医地", "target"), ("备案方式", "basis")),
    (("定点医疗机构", "institutions"),),
    (("门诊慢特病病种", "disease"),),
    (("开始日期", "begndate"), ("结束日期", "enddate")),
    (("补交材料期限", "proof_deadline"), ("材料补交日期", "proof_received_on")),
    (("办理渠道", "channel"), ("补办备案", "retroactive")),
    (("申请时间", "submitted_at"), ("备案状态", "status")),
    (("审核日期", "approved_on"), ("终止日期", "void_from")),
)
OPTIONAL_ROWS = frozenset({"institutions", "disease", "proof_deadline"})  # left out when the filing has none
DECLARATION = (
    "本人承诺以上信息真实、准确，已知晓异地就医备案的有关规定：在备案有效期内到就医地联网定点医疗机构就医时，"
    "主动出示医保电子凭证、社会保障卡或居民身份证，按规定办理异地就医直接结算；备案信息发生变化时，及时办理变更或取消。"
)
SIGNATURES = ("申请人（签字）", "代办人（签字）")
STAMPS = ("参保地医疗保障经办机构审核意见（盖章）", "经办人 / 复核人（签字）")


@dataclass(frozen=True)
class RegistrationFacts:
    filing_id: str
    person: PersonFacts
    subtype: str
    target: str  # the filed area's name
    target_level: str  # city | province
    institutions: tuple[str, ...]  # "name（code）", in order
    disease: str  # "M03900 高血压", or ""
    begndate: dt.date
    enddate: dt.date | None  # None: long-term, until changed
    basis: str
    proof_deadline: dt.date | None
    proof_received_on: dt.date | None
    channel: str
    status: str
    submitted_at: dt.datetime
    approved_on: dt.date | None
    void_from: dt.date | None
    retroactive: bool


def _values(f: RegistrationFacts) -> dict[str, str]:
    return {
        "kind": label(KIND, f.subtype),
        "subtype": label(SUBTYPE, f.subtype),
        "target": f.target + TARGET_LEVEL.get(f.target_level, ""),
        "basis": label(BASIS, f.basis),
        "institutions": "；".join(f"{n}. {name}" for n, name in enumerate(f.institutions, 1)),
        "disease": f.disease,
        "begndate": pdf.date_text(f.begndate),
        "enddate": pdf.date_text(f.enddate) if f.enddate else "长期（至变更或取消）",
        "proof_deadline": pdf.date_text(f.proof_deadline),
        "proof_received_on": pdf.date_text(f.proof_received_on) or "—",
        "channel": label(CHANNEL, f.channel),
        "retroactive": "是" if f.retroactive else "否",
        "submitted_at": pdf.time_text(f.submitted_at),
        "status": label(STATUS, f.status),
        "approved_on": pdf.date_text(f.approved_on) or "—",
        "void_from": pdf.date_text(f.void_from) or "—",
    }


def build(f: RegistrationFacts) -> pdf.Form:
    values = _values(f)
    rows = [
        [(title, values[key]) for title, key in row]
        for row in FILING_ROWS
        if not (row[0][1] in OPTIONAL_ROWS and not values[row[0][1]])
    ]
    return form(
        TITLE,
        [
            pdf.Heading("一、参保人员信息"),
            pdf.Fields(person_rows(f.person, with_tel=True)),
            pdf.Heading("二、备案信息"),
            pdf.Fields(rows),
            pdf.Gap(2),
            pdf.Text([DECLARATION]),
            pdf.Note(MASK_NOTE),
            pdf.Signatures(SIGNATURES),
            pdf.Stamps(STAMPS),
        ],
        reference=f"备案编号：{f.filing_id}",
        subtitle=f"参保地：{f.person.insured_region}",
    )


def fill(f: RegistrationFacts, generated_at: dt.datetime) -> bytes:
    return pdf.render(build(f), generated_at)
