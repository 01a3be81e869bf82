"""Queries: 5201 visits, 5203 a settlement, 5204 fee lines, 5206 year-to-date accumulators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core import inputs
from yidi.core.clock import SHANGHAI
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.people.models import Person
from yidi.reference.service import get_institution
from yidi.settlement.inputs import BAD_INPUT, Call
from yidi.settlement.models import FeeRecord, Settlement, Visit, VisitDiagnosis
from yidi.settlement.service import _accumulators, _setlinfo
from yidi.settlement.visits import _person_insurance, own_visit


def query_settlement(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5203: a settlement of this institution."""
    s = session.get(Settlement, inputs.text(data, "setl_id", max_len=30))
    if s is None or s.fixmedins_code != call.fixmedins_code or s.psn_no != inputs.text(data, "psn_no", max_len=30):
        raise YidiError(NOT_FOUND, what="结算 / settlement", key=str(data.get("setl_id")))
    _, insurance = _person_insurance(session, s.psn_no, s.insutype)
    answer = _setlinfo(s, insurance)
    info, visit = answer["setlinfo"], session.get(Visit, s.mdtrt_id)
    assert visit is not None  # the settlement's foreign key
    # The 5203 table adds the institution, the period and the flags to the 2207 one, and names the person's share
    # and the cash psn_pay and cash_payamt: both names are sent, for a HIS written from either table.
    info.update(
        psn_pay=info["psn_part_amt"],
        cash_payamt=info["psn_cash_pay"],
        fixmedins_code=s.fixmedins_code,
        fixmedins_name=get_institution(session, s.fixmedins_code).fixmedins_name,
        begndate=str(visit.begntime.astimezone(SHANGHAI).date()),
        enddate=str(s.service_date),  # the visit's day, or the stay's last day settled
        refd_setl_flag="1" if s.status == "reversal" else "0",
        year=str(s.year),
    )
    return answer


def query_visits(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5201: this institution's visits of a person in a period."""
    begin, end = inputs.time(data, "begntime"), inputs.time(data, "endtime")
    stmt = select(Visit).where(
        Visit.psn_no == inputs.text(data, "psn_no", max_len=30), Visit.fixmedins_code == call.fixmedins_code
    )
    rows = [
        v
        for v in session.scalars(stmt)
        if (begin is None or v.begntime >= begin) and (end is None or v.begntime <= end)
    ]
    return {
        "mdtrtinfo": [
            {
                "mdtrt_id": v.mdtrt_id,
                "med_type": v.med_type,
                "begntime": v.begntime.strftime("%Y-%m-%d %H:%M:%S"),
                "status": v.status,
                "dise_codg": v.dise_codg or "",
            }
            for v in rows
        ]
    }


def query_fees(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5204: the fee lines of one of this institution's visits."""
    visit = own_visit(session, call, inputs.text(data, "mdtrt_id", max_len=30))
    return {
        "feedetail": [
            {
                "feedetl_sn": f.feedetl_sn,
                "med_list_codg": f.med_list_codg,
                "det_item_fee_sumamt": str(f.det_item_fee_sumamt),
                "inscp_scp_amt": str(f.inscp_scp_amt),
                "status": f.status,
                "setl_id": f.setl_id or "",
            }
            for f in visit.fees
        ]
    }


def query_accumulators(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5206: year-to-date accumulators (cum_ym = yyyyMM; the year is taken from it)."""
    psn_no = inputs.text(data, "psn_no", max_len=30)
    cum_ym = inputs.text(data, "cum_ym", required=False, max_len=6) or call.now.strftime("%Y%m")
    if not (cum_ym.isascii() and cum_ym.isdigit() and len(cum_ym) == 6):
        raise YidiError(BAD_INPUT, field="cum_ym", problem="must be yyyyMM / 格式应为yyyyMM")
    person = session.get(Person, psn_no)
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    out = []
    for ins in person.insurances:
        for key, value in sorted(_accumulators(session, psn_no, ins.insutype, int(cum_ym[:4])).items()):
            out.append(
                {
                    "insutype": ins.insutype,
                    "year": cum_ym[:4],
                    "cum_ym": cum_ym,
                    "cum_type_code": key,
                    "cum": str(value),
                }
            )
    return {"cuminfo": out}


def query_diagnoses(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5202: the diagnoses of one of this institution's visits."""
    visit = own_visit(session, call, inputs.text(data, "mdtrt_id", max_len=30))
    rows = session.scalars(
        select(VisitDiagnosis).where(VisitDiagnosis.mdtrt_id == visit.mdtrt_id).order_by(VisitDiagnosis.id)
    )
    return {
        "diseinfo": [
            {
                "diag_type": d.diag_type,
                "diag_srt_no": d.diag_srt_no,
                "diag_code": d.diag_code,
                "diag_name": d.diag_name,
                "diag_time": d.diag_time or "",
                "vali_flag": d.vali_flag,
            }
            for d in rows
        ]
    }


def query_chronic_drugs(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5205: the person's chronic-disease (门慢) drug and item records at this institution in a period."""
    begin, end = inputs.time(data, "begntime"), inputs.time(data, "endtime")
    stmt = (
        select(FeeRecord, Visit)
        .join(Visit, FeeRecord.mdtrt_id == Visit.mdtrt_id)
        .where(
            Visit.psn_no == inputs.text(data, "psn_no", max_len=30),
            Visit.fixmedins_code == call.fixmedins_code,
            Visit.med_type == "14",
            FeeRecord.status == "settled",
        )
        .order_by(FeeRecord.fee_ocur_time)
    )
    out = []
    for fee, visit in session.execute(stmt):
        if (begin and fee.fee_ocur_time < begin) or (end and fee.fee_ocur_time > end):
            continue
        out.append(
            {
                "mdtrt_id": visit.mdtrt_id,
                "setl_id": fee.setl_id or "",
                "opsp_dise_code": visit.dise_codg or "",
                "med_list_codg": fee.med_list_codg,
                "fee_ocur_time": fee.fee_ocur_time.strftime("%Y-%m-%d %H:%M:%S"),
                "cnt": str(fee.cnt),
                "pric": str(fee.pric),
                "det_item_fee_sumamt": str(fee.det_item_fee_sumamt),
            }
        )
    return {"feedetail": out}
