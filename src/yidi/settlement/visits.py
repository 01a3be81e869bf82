"""Visits and fee lines: 2201/2401 register, 2203/2403 change, 2202/2404 cancel, 2402/2405 discharge,
2204/2301 upload (answering the catalogue split of each line), 2205/2302 cancel lines."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from yidi.catalog.rules import CatalogEntry, LineSplit, split_fee_line
from yidi.catalog.service import as_entry, items_at
from yidi.core import inputs
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.parameters.policy import InputLimits
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.people.service import get_person
from yidi.reference.service import get_institution
from yidi.settlement import care
from yidi.settlement.inputs import BAD_INPUT, STATE, Call
from yidi.settlement.models import FeeRecord, Visit, VisitDiagnosis
from yidi.settlement.presence import require_identified

REFUND_TRANSACTIONS = {"2301"}  # the interface defines a refund line (negative, with init_feedetl_sn) only here


def limits(call: Call) -> InputLimits:
    return default_store().input_limits(call.now.date())


def latest_time(call: Call) -> dt.datetime:
    """The latest visit, fee or discharge time accepted now: now plus the HIS clock's allowed error."""
    return call.now + dt.timedelta(seconds=limits(call).clock_skew_seconds)


def not_in_future(latest: dt.datetime, when: dt.datetime | None, field: str) -> dt.datetime | None:
    """Refuse a time after `latest`: a bill from the future would be settled today against that future year's
    untouched caps."""
    if when is not None and when > latest:
        raise YidiError(BAD_INPUT, field=field, problem="is in the future / 晚于当前时间")
    return when


def person_insurance(session: Session, psn_no: str, insutype: str, *, lock: bool = False) -> tuple[Person, Insurance]:
    """The person (with insurances and qualifications) and one insurance record; with `lock`, that record is
    locked first (`SELECT … FOR UPDATE`): it serialises everything that reads and changes the person's
    accumulators and account."""
    if lock:
        stmt = select(Insurance).where(Insurance.psn_no == psn_no, Insurance.insutype == insutype)
        session.scalar(stmt.with_for_update().execution_options(populate_existing=True))
    person = get_person(session, psn_no)
    insurance = next((i for i in person.insurances if i.insutype == insutype), None)
    if insurance is None:
        raise YidiError(NOT_FOUND, what="参保记录 / insurance record", key=f"{psn_no}/{insutype}")
    return person, insurance


def own_visit(session: Session, call: Call, mdtrt_id: str, *, lock: bool = False) -> Visit:
    stmt = select(Visit).where(Visit.mdtrt_id == mdtrt_id)
    visit = session.scalar(stmt.with_for_update() if lock else stmt)
    if visit is None or visit.fixmedins_code != call.fixmedins_code:
        raise YidiError(NOT_FOUND, what="就诊 / visit", key=mdtrt_id)  # another institution's visit does not exist
    return visit


def register_visit(session: Session, call: Call, data: dict[str, Any], kind: str) -> dict[str, Any]:
    """2201 (outpatient) and 2401 (inpatient): the filing decision is taken at the admission date."""
    psn_no, insutype = inputs.text(data, "psn_no", max_len=30), inputs.text(data, "insutype", max_len=3)
    require_identified(session, call.fixmedins_code, psn_no, call.now)
    begntime = not_in_future(latest_time(call), inputs.time(data, "begntime"), "begntime")
    assert begntime is not None
    institution = get_institution(session, call.fixmedins_code)
    _, insurance = person_insurance(session, psn_no, insutype)
    med_type = inputs.text(data, "med_type", required=kind == "inpatient", max_len=6) or "11"
    number = inputs.text(data, "ipt_no" if kind == "inpatient" else "ipt_otp_no", max_len=30)
    existing = session.scalar(
        select(Visit).where(Visit.fixmedins_code == call.fixmedins_code, Visit.ipt_otp_no == number)
    )
    if existing is not None:
        raise YidiError(BAD_INPUT, field="ipt_otp_no", problem=f"already registered as {existing.mdtrt_id} / 重复登记")
    visit = Visit(
        mdtrt_id=new_platform_id(PlatformIdKind.VISIT, institution.pooling_region, call.now),
        psn_no=psn_no,
        insutype=insutype,
        insuplc_admdvs=insurance.insuplc_admdvs,
        fixmedins_code=call.fixmedins_code,
        mdtrtarea_admvs=institution.pooling_region,
        kind=kind,
        med_type=med_type,
        ipt_otp_no=number,
        begntime=begntime,
        status="registered",
        created_msgid=call.msgid,
        **care.read(data, care.VISIT),
    )
    session.add(visit)
    session.flush()
    call.audit(
        session, "visit.register", "visit", visit.mdtrt_id, {"psn_no": psn_no, "kind": kind, "med_type": med_type}
    )
    return {"mdtrt_id": visit.mdtrt_id, "psn_no": psn_no, "ipt_otp_no": number}


def update_visit(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2203 visit information (med_type, disease) / 2403 admission change."""
    visit = own_visit(session, call, inputs.text(data, "mdtrt_id", max_len=30), lock=True)
    if visit.status not in ("registered", "discharged"):
        raise YidiError(STATE, mdtrt_id=visit.mdtrt_id, status=visit.status, action="change / 修改")
    # A field left out (or blank) keeps what the visit holds.
    visit.med_type = inputs.text(data, "med_type", required=False, max_len=6) or visit.med_type
    begntime = inputs.time(data, "begntime", required=False)
    visit.begntime = not_in_future(latest_time(call), begntime, "begntime") or visit.begntime
    for column, value in care.read(data, care.VISIT).items():
        setattr(visit, column, value)
    visit.version += 1
    return {}


def cancel_visit(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2202 / 2404: only a visit with no settlement in force."""
    visit = own_visit(session, call, inputs.text(data, "mdtrt_id", max_len=30), lock=True)
    if visit.status == "settled":
        raise YidiError(STATE, mdtrt_id=visit.mdtrt_id, status=visit.status, action="cancel / 撤销")
    visit.status, visit.version = "cancelled", visit.version + 1
    for fee in visit.fees:
        fee.status = "cancelled"
    return {}


def discharge(session: Session, call: Call, data: dict[str, Any], undo: bool = False) -> dict[str, Any]:
    """2402 discharge / 2405 discharge cancel."""
    node = data.get("dscginfo")
    info: dict[str, Any] = node if isinstance(node, dict) else data
    visit = own_visit(session, call, inputs.text(info, "mdtrt_id", max_len=30), lock=True)
    if visit.kind != "inpatient" or visit.status not in (("discharged",) if undo else ("registered",)):
        raise YidiError(STATE, mdtrt_id=visit.mdtrt_id, status=visit.status, action="discharge / 出院")
    if undo:
        visit.status, visit.endtime = "registered", None
        for kept in care.DISCHARGE_ONLY:  # the discharge no longer stands, nor what was said of it
            setattr(visit, kept.column, None)
    else:
        visit.endtime = not_in_future(latest_time(call), inputs.time(info, "endtime"), "endtime")
        if visit.endtime is not None and visit.endtime < visit.begntime:
            raise YidiError(BAD_INPUT, field="endtime", problem="before begntime / 早于入院时间")
        for column, value in care.read(info, care.DISCHARGE).items():
            setattr(visit, column, value)
        visit.status = "discharged"
    visit.version += 1
    return {}


# -- fee lines --------------------------------------------------------------------------------------------


def _line_amounts(row: dict[str, Any], n: int, bounds: InputLimits) -> tuple[Decimal, Decimal, Decimal]:
    """Amount, quantity and price of line `n`, each within the operating limits, and consistent in sign."""
    where = f"feedetail[{n}]."
    total = inputs.amount(row, "det_item_fee_sumamt", field=where + "det_item_fee_sumamt")
    cnt = inputs.decimal(row, "cnt", 4, field=where + "cnt")
    pric = inputs.decimal(row, "pric", 6, field=where + "pric")
    if abs(total) > bounds.max_line_amount:
        raise YidiError(
            BAD_INPUT, field=where + "det_item_fee_sumamt", problem=f"above {bounds.max_line_amount} / 超过单条上限"
        )
    if abs(cnt) > bounds.max_line_count:
        raise YidiError(BAD_INPUT, field=where + "cnt", problem=f"above {bounds.max_line_count} / 超过数量上限")
    if pric < 0 or pric > bounds.max_unit_price:
        raise YidiError(BAD_INPUT, field=where + "pric", problem=f"must be 0 to {bounds.max_unit_price} / 单价超出范围")
    if cnt == 0 or (cnt > 0 and total < 0) or (cnt < 0 and total > 0):
        raise YidiError(BAD_INPUT, field=where + "cnt", problem="is zero or of another sign than the amount / 数量有误")
    # The line's amount is its count × price to the fen: a tolerance growing with the count would let a line of
    # 100,000 × 0.01 be billed 2,000.00, and let a refund leave the fund paying on an inflated remainder.
    if abs(cnt * pric - total) > Decimal("0.01"):
        raise YidiError(BAD_INPUT, field=where + "det_item_fee_sumamt", problem="is not cnt × pric / 金额≠数量×单价")
    return total, cnt, pric


def _check_refund(
    call: Call,
    n: int,
    row: dict[str, Any],
    cnt: Decimal,
    total: Decimal,
    pric: Decimal,
    original: FeeRecord | None,
    refunded: dict[tuple[str, str], tuple[Decimal, Decimal]],
) -> None:
    """A negative line is a refund (退费): only in 2301, only against an active line already uploaded to the same
    visit, with its item and price, and never more than what is left of it."""
    where = f"feedetail[{n}]."
    if call.infno not in REFUND_TRANSACTIONS:
        raise YidiError(BAD_INPUT, field=where + "cnt", problem="must be positive / 应为正数")
    sn = inputs.text(row, "init_feedetl_sn", required=False, max_len=30)
    if not sn:
        raise YidiError(
            BAD_INPUT, field=where + "init_feedetl_sn", problem="a refund names its line / 退费须填原明细流水号"
        )
    if original is None or original.status != "active" or original.cnt <= 0:
        raise YidiError(
            BAD_INPUT, field=where + "init_feedetl_sn", problem=f"{sn} is not an active line / 原明细不存在"
        )
    if original.med_list_codg != inputs.text(row, "med_list_codg", max_len=50) or original.pric != pric:
        raise YidiError(
            BAD_INPUT, field=where + "init_feedetl_sn", problem="another item or price / 与原明细项目或单价不符"
        )
    done_cnt, done_total = _count_refund(refunded, original.mdtrt_id, original.feedetl_sn, cnt, total)
    if -done_cnt > original.cnt or -done_total > original.det_item_fee_sumamt:
        raise YidiError(BAD_INPUT, field=where + "cnt", problem="refunds more than the line / 退费超过原明细")


def _count_refund(
    refunded: dict[tuple[str, str], tuple[Decimal, Decimal]], mdtrt_id: str, sn: str, cnt: Decimal, total: Decimal
) -> tuple[Decimal, Decimal]:
    """Add a refund (negative count and amount) to what line `sn` of the visit has had refunded; the new totals."""
    done_cnt, done_total = refunded.get((mdtrt_id, sn), (Decimal(0), Decimal(0)))
    refunded[(mdtrt_id, sn)] = (done_cnt + cnt, done_total + total)
    return refunded[(mdtrt_id, sn)]


def upload_fees(session: Session, call: Call, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """2204 / 2301: store the lines and answer the treatment place's catalogue split of each."""
    if not rows:
        raise YidiError(BAD_INPUT, field="feedetail", problem="is empty / 为空")
    if len(rows) > 2000:
        raise YidiError(BAD_INPUT, field="feedetail", problem="more than 2000 lines / 超过2000条")
    bounds, latest = limits(call), latest_time(call)
    visits: dict[str, Visit] = {}
    parsed = []
    for n, row in enumerate(rows):
        mdtrt_id = inputs.text(row, "mdtrt_id", max_len=30)
        visit = visits.get(mdtrt_id) or own_visit(session, call, mdtrt_id, lock=True)
        visits[mdtrt_id] = visit
        if visit.status not in ("registered", "discharged"):
            raise YidiError(STATE, mdtrt_id=mdtrt_id, status=visit.status, action="upload fees / 上传费用")
        where = f"feedetail[{n}].fee_ocur_time"
        when = not_in_future(latest, inputs.time(row, "fee_ocur_time", field=where), where)
        assert when is not None
        parsed.append((visit, row, when, *_line_amounts(row, n, bounds)))
    kept = [care.read(row, care.FEE_LINE, where=f"feedetail[{n}].", every=True) for n, row in enumerate(rows)]
    # One query for the lines already uploaded to these visits (duplicates, refunds, the visit's total).
    stmt = select(FeeRecord).where(FeeRecord.mdtrt_id.in_(list(visits)))
    existing = {(f.mdtrt_id, f.feedetl_sn): f for f in session.scalars(stmt)}
    seen = set(existing)
    visit_totals: dict[str, Decimal] = defaultdict(Decimal)
    refunded: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for f in existing.values():
        if f.status == "active":
            visit_totals[f.mdtrt_id] += f.det_item_fee_sumamt
            if f.cnt < 0 and f.init_feedetl_sn:
                _count_refund(refunded, f.mdtrt_id, f.init_feedetl_sn, f.cnt, f.det_item_fee_sumamt)
    for n, (visit, row, _, total, cnt, pric) in enumerate(parsed):
        if cnt < 0:
            sn = inputs.text(row, "init_feedetl_sn", required=False, max_len=30)
            _check_refund(call, n, row, cnt, total, pric, existing.get((visit.mdtrt_id, sn)), refunded)
        visit_totals[visit.mdtrt_id] += total
    for mdtrt_id, visit_total in visit_totals.items():
        if visit_total > bounds.max_visit_amount:
            raise YidiError(
                BAD_INPUT, field="feedetail", problem=f"{mdtrt_id} above {bounds.max_visit_amount} / 超过单次就诊上限"
            )
    out = []
    by_day: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for visit, row, when, *_ in parsed:
        by_day[(visit.mdtrtarea_admvs, when.date())].add(inputs.text(row, "med_list_codg", max_len=50))
    entries = {key: items_at(session, key[0], codes, key[1]) for key, codes in by_day.items()}
    records = []
    for n, (visit, row, when, total, cnt, pric) in enumerate(parsed):
        code = inputs.text(row, "med_list_codg", max_len=50)
        item = entries[(visit.mdtrtarea_admvs, when.date())].get(code)
        entry = as_entry(item) if item else None
        split = (
            split_fee_line(entry, total, cnt, pric) if cnt > 0 else _negated(split_fee_line(entry, -total, -cnt, pric))
        )
        sn = inputs.text(row, "feedetl_sn", max_len=30)
        if (visit.mdtrt_id, sn) in seen:
            raise YidiError(BAD_INPUT, field="feedetl_sn", problem=f"{sn} already uploaded / 重复上传")
        seen.add((visit.mdtrt_id, sn))
        records.append(
            dict(
                mdtrt_id=visit.mdtrt_id,
                feedetl_sn=sn,
                chrg_bchno=inputs.text(row, "chrg_bchno", required=False, max_len=30) or None,
                init_feedetl_sn=inputs.text(row, "init_feedetl_sn", required=False, max_len=30) or None,
                med_list_codg=code,
                medins_list_codg=inputs.text(row, "medins_list_codg", required=False, max_len=150) or None,
                fee_ocur_time=when,
                det_item_fee_sumamt=total,
                cnt=cnt,
                pric=pric,
                fulamt_ownpay_amt=split.fulamt_ownpay_amt,
                overlmt_amt=split.overlmt_amt,
                preselfpay_amt=split.preselfpay_amt,
                inscp_scp_amt=split.inscp_scp_amt,
                chrgitm_lv=split.chrgitm_lv,
                status="active",
                setl_id=None,
                **kept[n],
            )
        )
        out.append(_result_row(sn, total, cnt, pric, split, entry))
    # A bulk insert (one multi-row statement): the lines are read back by the settlement in a later call.
    session.execute(insert(FeeRecord), records)
    return {"result": out}


def price_ceiling(split: LineSplit) -> str:
    """定价上限金额 as the interface sends it: the item's price cap, or 0 when it has none. The specification makes
    the field required and numeric (HIS software reads it into a non-nullable decimal), and 0 is the catalogues'
    own way of writing "no price ceiling" (不限价); `overlmt_amt` then is 0 too."""
    return str(split.pric_uplmt_amt) if split.pric_uplmt_amt is not None else "0"


NOT_IN_CATALOGUE = "不在就医地目录，全自费 / not in the treatment place's catalogue: fully self-paid"


def _result_row(
    sn: str, total: Decimal, cnt: Decimal, pric: Decimal, split: LineSplit, entry: CatalogEntry | None
) -> dict[str, Any]:
    """One row of the 2204/2301 answer, every field of the specification's result table. Amounts are text here
    (the message log stores them so); the gateway's edge sends them as JSON numbers. What the treatment place's
    catalogue does not record (基本药物, 谈判药品, 儿童用药, 特项, 直报) is None, null on the wire, not a guess."""
    return {
        "feedetl_sn": sn,
        "det_item_fee_sumamt": str(total),
        "cnt": str(cnt),
        "pric": str(pric),
        "pric_uplmt_amt": price_ceiling(split),
        "selfpay_prop": str(split.selfpay_prop),
        "fulamt_ownpay_amt": str(split.fulamt_ownpay_amt),
        "overlmt_amt": str(split.overlmt_amt),
        "preselfpay_amt": str(split.preselfpay_amt),
        "inscp_scp_amt": str(split.inscp_scp_amt),
        "chrgitm_lv": split.chrgitm_lv,
        "med_chrgitm_type": entry.med_chrgitm_type if entry else None,
        "bas_medn_flag": None,
        "hi_nego_drug_flag": None,
        "chld_medc_flag": None,
        "list_sp_item_flag": None,
        # 限制使用: the catalogue entry's restricted-use scope (限定支付范围), when it has one.
        "lmt_used_flag": ("1" if entry.lmt_used_scope else "0") if entry else None,
        "drt_reim_flag": None,
        "memo": None if entry else NOT_IN_CATALOGUE,
        "exp_content": None,
    }


def _negated(split: LineSplit) -> LineSplit:
    """A refund line's split: the split of what it refunds, with the amounts negative."""
    return dataclasses.replace(
        split,
        det_item_fee_sumamt=-split.det_item_fee_sumamt,
        fulamt_ownpay_amt=-split.fulamt_ownpay_amt,
        overlmt_amt=-split.overlmt_amt,
        preselfpay_amt=-split.preselfpay_amt,
        inscp_scp_amt=-split.inscp_scp_amt,
    )


def cancel_fees(
    session: Session, call: Call, mdtrt_id: str, feedetl_sn: str | None, chrg_bchno: str | None
) -> dict[str, Any]:
    """2205 (by chrg_bchno, "0000" = all) / 2302 (by feedetl_sn, "0000" = all): unsettled lines only."""
    visit = own_visit(session, call, mdtrt_id, lock=True)
    cancelled = set()
    for fee in visit.fees:
        if fee.status != "active":
            continue
        if (feedetl_sn in (None, "0000") or fee.feedetl_sn == feedetl_sn) and (
            chrg_bchno in (None, "0000") or fee.chrg_bchno == chrg_bchno
        ):
            fee.status = "cancelled"
            cancelled.add(fee.feedetl_sn)
    for fee in visit.fees:  # a refund of a cancelled line would otherwise refund nothing, and count below zero
        if fee.status == "active" and fee.cnt < 0 and fee.init_feedetl_sn in cancelled:
            fee.status = "cancelled"
    return {}


# -- settling ---------------------------------------------------------------------------------------------


def record_diagnoses(session: Session, call: Call, mdtrt_id: str, rows: Any) -> None:
    """Keep the diseinfo rows sent with 2203/2401/2402/2403; a later list replaces the earlier one (an empty list
    empties it), a list left out or blank keeps it."""
    if inputs.blank(rows):
        return
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise YidiError(BAD_INPUT, field="diseinfo", problem="must be a list of objects / 应为对象数组")
    if len(rows) > 50:
        raise YidiError(BAD_INPUT, field="diseinfo", problem="more than 50 diagnoses / 诊断超过50条")
    visit = own_visit(session, call, mdtrt_id)
    for old in session.scalars(select(VisitDiagnosis).where(VisitDiagnosis.mdtrt_id == visit.mdtrt_id)):
        session.delete(old)
    for n, row in enumerate(rows):
        session.add(VisitDiagnosis(mdtrt_id=visit.mdtrt_id, source=call.infno, **_diagnosis(row, n)))


def _diagnosis(row: dict[str, Any], n: int) -> dict[str, Any]:
    """Row `n` of diseinfo, bounded by the specification's lengths except diag_code and diag_name (20 and 100
    there), which keep yidi's earlier bounds 30 and 255 so that nothing accepted before is refused now; the time
    normalised to yyyy-MM-dd HH:mm:ss in Beijing."""
    where = f"diseinfo[{n}]."

    def field(name: str, max_len: int, required: bool = False) -> str | None:
        return inputs.text(row, name, required=required, max_len=max_len, field=where + name) or None

    diag_time = inputs.time(row, "diag_time", required=False, field=where + "diag_time")
    return {
        "diag_type": field("diag_type", 3, True),
        "diag_srt_no": field("diag_srt_no", 5) or str(n + 1),
        "diag_code": field("diag_code", 30, True),
        "diag_name": field("diag_name", 255, True),
        "diag_time": inputs.time_text(diag_time),
        "vali_flag": field("vali_flag", 1) or "1",
        "maindiag_flag": field("maindiag_flag", 3),
        "adm_cond": field("adm_cond", 500),
        "diag_dept": field("diag_dept", 50),
        "dise_dor_no": field("dise_dor_no", 30),
        "dise_dor_name": field("dise_dor_name", 50),
    }
