"""Queries: 5201 visits, 5202 diagnoses, 5203 a settlement, 5204 fee lines, 5205 门慢 drug records, 5206
year-to-date accumulators.

Every answer row carries each field the specification's output table lists (docs/interface/schemas/52xx.json),
spelt as the specification spells it. A value yidi does not know is None (null on the wire), never "": an HIS
reads an empty string in a number or date field as an error. Amounts, prices and counts are numeric text, as in
the other settlement answers (the gateway's edge sends them as JSON numbers); a whole number the edge does not
type (diag_srt_no) is an int. ID numbers are masked: the institution is not the person's agency.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.catalog.models import CatalogItem
from yidi.catalog.rules import split_fee_line
from yidi.catalog.service import as_entry, items_on
from yidi.core import inputs
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.people.models import Insurance, Person
from yidi.people.service import age_on, get_person
from yidi.reference.service import get_institution
from yidi.settlement.engine import Acc
from yidi.settlement.inputs import BAD_INPUT, COUNT_KEYS, Call
from yidi.settlement.models import FeeRecord, Settlement, Visit, VisitDiagnosis
from yidi.settlement.service import accumulators, setlinfo
from yidi.settlement.visits import own_visit, person_insurance, price_ceiling

# -- 5201 -------------------------------------------------------------------------------------------------------


def query_visits(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5201: this institution's visits of a person begun in a period (optionally of one med_type, or one visit)."""
    psn_no = inputs.text(data, "psn_no", max_len=30)
    begin, end = inputs.time(data, "begntime"), inputs.time(data, "endtime")
    stmt = select(Visit).where(Visit.psn_no == psn_no, Visit.fixmedins_code == call.fixmedins_code)
    if begin is not None:
        stmt = stmt.where(Visit.begntime >= begin)
    if end is not None:
        stmt = stmt.where(Visit.begntime <= end)
    if med_type := inputs.text(data, "med_type", required=False, max_len=6):
        stmt = stmt.where(Visit.med_type == med_type)
    if mdtrt_id := inputs.text(data, "mdtrt_id", required=False, max_len=30):
        stmt = stmt.where(Visit.mdtrt_id == mdtrt_id)
    rows = session.scalars(stmt.order_by(Visit.begntime, Visit.mdtrt_id)).all()
    if not rows:
        return {"mdtrtinfo": []}
    person = get_person(session, psn_no)
    insurances = {i.insutype: i for i in person.insurances}
    return {"mdtrtinfo": [_visit_row(v, person, insurances.get(v.insutype)) for v in rows]}


def _visit_row(v: Visit, person: Person, insurance: Insurance | None) -> dict[str, Any]:
    return {
        "mdtrt_id": v.mdtrt_id,
        "psn_no": v.psn_no,
        "psn_cert_type": person.psn_cert_type,
        "certno": person.certno_masked,  # never the full number to an institution
        "psn_name": person.psn_name,
        "gend": person.gend,
        "naty": person.naty,
        "brdy": str(person.brdy),
        "age": str(age_on(person.brdy, v.begntime.date())),  # at the visit's start
        "insutype": v.insutype,
        "psn_type": insurance.psn_type if insurance else None,
        "cvlserv_flag": ("1" if insurance.civil_servant else "0") if insurance else None,
        "insu_optins": v.insuplc_admdvs,
        "begntime": inputs.time_text(v.begntime),
        "endtime": inputs.time_text(v.endtime),  # none for an outpatient visit or a stay not yet discharged
        "mdtrt_cert_type": None,  # the certificate shown is not kept with the visit
        "med_type": v.med_type,
        "ipt_otp_no": v.ipt_otp_no,
        "status": v.status,
        "dise_codg": v.dise_codg or None,
    }


# -- 5202 -------------------------------------------------------------------------------------------------------

# 出入院诊断类别 by the transaction that sent the diagnoses: 2401 (入院办理) and 2403 (入院信息变更) carry the
# admission diagnoses (1), 2402 (出院办理) the discharge diagnoses (2). The 2203 table has no such field: an
# outpatient visit's diagnoses are those made as care begins, answered as 1 (the field is required in 5202).
INOUT_DIAG_TYPE = {"2401": "1", "2403": "1", "2402": "2", "2203": "1"}


def _main_diagnosis(flag: str | None, srt_no: str) -> str:
    """主诊断标志: the HIS's own flag where it sent one (2401/2402 tables), else by the order it gave (诊断排序号 1 is
    the main diagnosis), as the 2203 table has no flag."""
    first = srt_no.strip().isascii() and srt_no.strip().isdigit() and int(srt_no) == 1  # "1" or "01"
    return flag if flag else ("1" if first else "0")


def query_diagnoses(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5202: the diagnoses of one of this institution's visits."""
    visit = _own_visit_of(session, call, data)
    rows = session.scalars(
        select(VisitDiagnosis).where(VisitDiagnosis.mdtrt_id == visit.mdtrt_id).order_by(VisitDiagnosis.id)
    )
    return {
        "diseinfo": [
            {
                "diag_info_id": str(d.id),
                "mdtrt_id": visit.mdtrt_id,
                "psn_no": visit.psn_no,
                "inout_diag_type": INOUT_DIAG_TYPE.get(d.source),
                "diag_type": d.diag_type,
                "maindiag_flag": _main_diagnosis(d.maindiag_flag, d.diag_srt_no),
                "diag_srt_no": int(d.diag_srt_no) if d.diag_srt_no.isascii() and d.diag_srt_no.isdigit() else None,
                "diag_code": d.diag_code,
                "diag_name": d.diag_name,
                "adm_cond": d.adm_cond,
                "diag_dept": d.diag_dept,
                "dise_dor_no": d.dise_dor_no,
                "dise_dor_name": d.dise_dor_name,
                "diag_time": _diag_time(d.diag_time),
                "vali_flag": d.vali_flag,
            }
            for d in rows
        ]
    }


def _diag_time(stored: str | None) -> str | None:
    """The diagnosis time as kept (the HIS's text), in the specification's form; None when it is not a time."""
    try:
        return inputs.time_text(inputs.time({"diag_time": stored}, "diag_time", required=False))
    except YidiError:
        return None


def _own_visit_of(session: Session, call: Call, data: dict[str, Any]) -> Visit:
    """The visit named by mdtrt_id, of this institution and, when psn_no is given, of that person (another
    person's visit is answered as one that does not exist)."""
    visit = own_visit(session, call, inputs.text(data, "mdtrt_id", max_len=30))
    psn_no = inputs.text(data, "psn_no", required=False, max_len=30)
    if psn_no and psn_no != visit.psn_no:
        raise YidiError(NOT_FOUND, what="就诊 / visit", key=visit.mdtrt_id)
    return visit


# -- 5203 -------------------------------------------------------------------------------------------------------


def query_settlement(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5203: a settlement of this institution, as 2207 answered it plus the 5203 table's own fields."""
    s = session.get(Settlement, inputs.text(data, "setl_id", max_len=30))
    mdtrt_id = inputs.text(data, "mdtrt_id", required=False, max_len=30)
    if (
        s is None
        or s.fixmedins_code != call.fixmedins_code
        or s.psn_no != inputs.text(data, "psn_no", max_len=30)
        or (mdtrt_id and s.mdtrt_id != mdtrt_id)
    ):
        raise YidiError(NOT_FOUND, what="结算 / settlement", key=str(data.get("setl_id")))
    _, insurance = person_insurance(session, s.psn_no, s.insutype)
    out = setlinfo(s, insurance)
    out["setlinfo"].update(_settlement_query_fields(session, s))
    out["setldetail"] = [{k: d.get(k) for k in DETAIL_FIELDS} | d for d in s.setldetail]
    return out


DETAIL_FIELDS = ("fund_pay_type", "inscp_scp_amt", "crt_payb_lmt_amt", "fund_payamt", "fund_pay_type_name",
                 "setl_proc_info")  # fmt: skip


def _settlement_query_fields(session: Session, s: Settlement) -> dict[str, Any]:
    """The fields of the 5203 table that 2207's does not have."""
    visit = session.get(Visit, s.mdtrt_id)
    assert visit is not None  # a settlement's visit is never deleted (foreign key)
    return {
        "psn_pay": str(s.psn_part_amt),  # 个人支付金额: the person's share, as psn_part_amt
        "cash_payamt": str(s.psn_cash_pay),  # 现金支付金额, as psn_cash_pay
        "fixmedins_code": s.fixmedins_code,
        "fixmedins_name": get_institution(session, s.fixmedins_code).fixmedins_name,
        "begndate": str(visit.begntime.date()),
        # The visit's end; an outpatient visit (no end time) and a stay settled before discharge end, for this
        # settlement, on its service date (the visit's day, or the day the stay was settled).
        "enddate": str(visit.endtime.date() if visit.endtime else s.service_date),
        # 退费结算标志: a settlement since cancelled (2208/2305/2601) and the negative record of that cancellation.
        "refd_setl_flag": "1" if s.status in ("cancelled", "reversal") else "0",
        "year": str(s.year),
    }


# -- 5204 -------------------------------------------------------------------------------------------------------


def query_fees(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5204: the fee lines of one of this institution's visits (of one settlement when setl_id is given)."""
    visit = _own_visit_of(session, call, data)
    setl_id = inputs.text(data, "setl_id", required=False, max_len=30)
    fees = [f for f in visit.fees if not setl_id or f.setl_id == setl_id]
    items = _catalogue_items(session, [(visit, f) for f in fees])
    rows = []
    for f in fees:
        item = items.get((visit.mdtrtarea_admvs, f.med_list_codg, f.fee_ocur_time.date()))
        # Ratio and price cap as the upload's split took them (out of the catalogue or 丙类: fully self-paid).
        split = split_fee_line(as_entry(item) if item else None, abs(f.det_item_fee_sumamt), abs(f.cnt), f.pric)
        rows.append(
            {
                "mdtrt_id": visit.mdtrt_id,
                "setl_id": f.setl_id,  # none while the line is not settled
                **_line_fields(visit, f, item),
                "det_item_fee_sumamt": str(f.det_item_fee_sumamt),
                "pric_uplmt_amt": price_ceiling(split),
                "selfpay_prop": str(split.selfpay_prop),
                "fulamt_ownpay_amt": str(f.fulamt_ownpay_amt),
                "overlmt_amt": str(f.overlmt_amt),
                "preselfpay_amt": str(f.preselfpay_amt),
                "inscp_scp_amt": str(f.inscp_scp_amt),
                "chrgitm_lv": f.chrgitm_lv,
                "init_feedetl_sn": f.init_feedetl_sn,
                "status": f.status,
            }
        )
    return {"feedetail": rows}


def _catalogue_items(
    session: Session, lines: list[tuple[Visit, FeeRecord]]
) -> dict[tuple[str, str, dt.date], CatalogItem]:
    """The treatment place's catalogue item of each line on its fee date, in one look-up for all lines."""
    return items_on(session, {(v.mdtrtarea_admvs, f.med_list_codg, f.fee_ocur_time.date()) for v, f in lines})


def _line_fields(visit: Visit, f: FeeRecord, item: CatalogItem | None) -> dict[str, Any]:
    """What 5204 and 5205 share of a line: the line as uploaded and the catalogue item it was priced by (none:
    not in the treatment place's catalogue)."""
    return {
        "feedetl_sn": f.feedetl_sn,
        "med_type": f.med_type or visit.med_type,
        "fee_ocur_time": inputs.time_text(f.fee_ocur_time),
        "cnt": str(f.cnt),
        "pric": str(f.pric),
        "hilist_code": item.med_list_codg if item else None,
        "hilist_name": item.med_list_name if item else None,
        "med_list_codg": f.med_list_codg,
        "medins_list_codg": f.medins_list_codg,
        "med_chrgitm_type": item.med_chrgitm_type if item else None,
        "spec": item.spec if item else None,
    }


# -- 5205 -------------------------------------------------------------------------------------------------------


def query_chronic_drugs(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5205: the person's chronic-disease (门慢) drug and item records at this institution from begntime (to
    endtime, which the specification makes optional: absent or empty, up to now)."""
    psn_no = inputs.text(data, "psn_no", max_len=30)
    begin = inputs.time(data, "begntime")
    end = inputs.time(data, "endtime", required=False)
    stmt = (
        select(FeeRecord, Visit)
        .join(Visit, FeeRecord.mdtrt_id == Visit.mdtrt_id)
        .where(
            Visit.psn_no == psn_no,
            Visit.fixmedins_code == call.fixmedins_code,
            Visit.med_type == "14",
            FeeRecord.status == "settled",
        )
    )
    if begin is not None:
        stmt = stmt.where(FeeRecord.fee_ocur_time >= begin)
    if end is not None:
        stmt = stmt.where(FeeRecord.fee_ocur_time <= end)
    lines = [(visit, fee) for fee, visit in session.execute(stmt.order_by(FeeRecord.fee_ocur_time, FeeRecord.id))]
    if not lines:
        return {"feedetail": []}
    institution = get_institution(session, call.fixmedins_code)
    items = _catalogue_items(session, lines)
    return {
        "feedetail": [
            {
                **_line_fields(visit, fee, items.get(_key(visit, fee))),
                "fixmedins_code": institution.fixmedins_code,
                "fixmedins_name": institution.fixmedins_name,
                "psn_no": visit.psn_no,
                "chrgitm_lv": fee.chrgitm_lv,  # as the upload's split stored it
                "mdtrt_id": visit.mdtrt_id,
                "setl_id": fee.setl_id,
                "opsp_dise_code": visit.dise_codg or None,
                "det_item_fee_sumamt": str(fee.det_item_fee_sumamt),
            }
            for visit, fee in lines
        ]
    }


def _key(visit: Visit, fee: FeeRecord) -> tuple[str, str, dt.date]:
    return visit.mdtrtarea_admvs, fee.med_list_codg, fee.fee_ocur_time.date()


# -- 5206 -------------------------------------------------------------------------------------------------------

# 累计类别代码 (cum_type_code, 字符型 10): the specification leaves the codes to the regions. yidi's accumulator keys
# (settlement.engine.Acc) are longer, so each has a short, stable code; the key itself travels as cum_type_name.
# Money is in yuan; a count (COUNT_KEYS) is a plain number. Never renumber a code: HIS keep them.
CUM_TYPE_CODES: dict[str, str] = {
    Acc.OUTPATIENT_DEDUCTIBLE.value: "OPDEDC",  # 门诊起付线累计: outpatient deductible borne this year (money)
    Acc.OUTPATIENT_FUND.value: "OPFUND",  # 门诊统筹基金支付累计: basic fund paid for outpatient care (money)
    Acc.INPATIENT_STAYS.value: "IPTCNT",  # 住院次数: stays counted this year, for a later stay's deductible (count)
    Acc.BASIC_FUND.value: "HIFPFUND",  # 统筹基金支付累计: basic fund paid, toward the scheme's annual cap (money)
    Acc.TOP_UP_FUND.value: "TOPUPFUND",  # 大额/大病支付累计: top-up fund paid, toward its annual cap (money)
    Acc.CRITICAL_BASE.value: "CRITBASE",  # 大病起付累计: in-scope personal amounts counted toward 大病 (money)
    Acc.CIVIL_SERVANT.value: "CVLSVFUND",  # 公务员医疗补助累计: civil-servant subsidy paid (money)
    Acc.CHRONIC_ALL.value: "OPSPFUND",  # 门慢特病基金支付累计, all diseases together (money)
}
# Per 门慢 disease (opsp_dise_code, always M + 5 digits): a prefix, the disease, and the month for monthly keys.
CHRONIC_CUM_PREFIXES = {
    "fund": "CF",  # CF<disease>: fund paid for the disease this year; CF<disease><MM>: in month MM (money)
    "deductible": "CD",  # CD<disease>: the disease's deductible borne this year; CD<disease><MM>: in month MM
}
_CHRONIC_KEY = re.compile(r"chronic\.(M[0-9]{5})\.(fund|deductible)(?:\.([0-9]{2}))?", re.ASCII)


def cum_type_code(key: str) -> str:
    """The 10-character cum_type_code of an accumulator key (see CUM_TYPE_CODES)."""
    if key in CUM_TYPE_CODES:
        return CUM_TYPE_CODES[key]
    if m := _CHRONIC_KEY.fullmatch(key):
        return CHRONIC_CUM_PREFIXES[m[2]] + m[1] + (m[3] or "")
    # A key no table above knows (none is written today): still a stable code within the length, never a refusal.
    return "X" + hashlib.sha256(key.encode()).hexdigest()[:9].upper()


def query_accumulators(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5206: year-to-date accumulators (cum_ym = yyyyMM; the year is taken from it)."""
    psn_no = inputs.text(data, "psn_no", max_len=30)
    cum_ym = inputs.text(data, "cum_ym", required=False, max_len=6) or call.now.strftime("%Y%m")
    if not (cum_ym.isascii() and cum_ym.isdigit() and len(cum_ym) == 6 and 1 <= int(cum_ym[4:]) <= 12):
        raise YidiError(BAD_INPUT, field="cum_ym", problem="must be yyyyMM / 格式应为yyyyMM")
    person = session.get(Person, psn_no)
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    out = []
    for ins in person.insurances:
        values = accumulators(session, psn_no, ins.insutype, int(cum_ym[:4]))
        for key, value in sorted(values.items()):
            out.append(
                {
                    "insutype": ins.insutype,
                    "year": cum_ym[:4],
                    "cum_ym": cum_ym,
                    "cum_type_code": cum_type_code(key),
                    "cum_type_name": key,
                    "cum": str(int(value)) if key in COUNT_KEYS else str(value),
                }
            )
    return {"cuminfo": out}
