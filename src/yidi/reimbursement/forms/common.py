"""What every form prints about the person, and the words for the codes the forms show.

The ID number is always the masked one (`411102********9217`): a form is a paper that travels (printed, scanned,
handed over a counter), and the masked number with the name and psn_no identifies the person well enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from yidi.core import pdf

GENDER = {"1": "男", "2": "女", "9": "未说明"}
INSUTYPE = {"310": "职工基本医疗保险", "390": "城乡居民基本医疗保险"}
MED_TYPE = {
    "11": "普通门诊",
    "12": "门诊挂号",
    "13": "急诊",
    "14": "门诊慢特病",
    "19": "意外伤害门诊",
    "21": "普通住院",
    "23": "转外诊治住院",
    "24": "急诊转住院",
    "41": "定点药店购药",
    "51": "生育门诊",
    "52": "生育住院",
    "53": "计划生育手术费",
}
STAY_MED_TYPES = frozenset({"21", "23", "24", "52"})
SETTLEMENT_LEVEL = {"level_1": "一级", "level_2": "二级", "level_3": "三级", "unrated": "未定级"}
# The filing category that set the ratio of a settlement (parameters.policy.FilingCategory).
CATEGORY = {
    "long_term": "异地长期居住",
    "referral": "异地转诊",
    "emergency": "异地急诊抢救",
    "other_temporary": "其他临时外出就医",
    "unfiled": "未备案",
    "commitment_pending": "承诺制备案（待补材料）",
}


def label(table: dict[str, str], code: str | None) -> str:
    """The word for a code, or the code itself when the table does not know it (never an empty cell)."""
    if not code:
        return ""
    return table.get(code, code)


@dataclass(frozen=True)
class PersonFacts:
    name: str
    certno_masked: str
    psn_no: str
    gender: str  # gend code
    insured_region: str  # name, e.g. 河南省漯河市
    insutype: str  # code
    person_type: str = ""  # 在职 / 退休 / 城乡居民, with （公务员）
    tel: str = ""


def person_rows(p: PersonFacts, *, with_tel: bool = False) -> list[list[tuple[str, str]]]:
    rows = [
        [("姓名", p.name), ("性别", label(GENDER, p.gender))],
        [("身份证号码", p.certno_masked), ("人员编号", p.psn_no)],
        [("参保地", p.insured_region), ("险种类型", label(INSUTYPE, p.insutype))],
    ]
    if p.person_type or with_tel:
        rows.append([("人员类别", p.person_type), ("联系电话", p.tel)] if with_tel else [("人员类别", p.person_type)])
    return rows


def period(begin: str, end: str) -> str:
    return f"{begin} 至 {end}" if end and end != begin else begin


MASK_NOTE = "注：身份证号码按规定部分隐去；本表由 yidi 异地就医平台根据系统记录生成。"


def form(title: str, blocks: list[pdf.Block], *, reference: str = "", subtitle: str = "") -> pdf.Form:
    return pdf.Form(title=title, blocks=blocks, reference=reference, subtitle=subtitle)
