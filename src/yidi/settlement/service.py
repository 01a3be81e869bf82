"""Settlement use cases behind the outpatient (2201–2208), inpatient (2401–2405, 2301–2305), reversal (2601)
and query (5201–5206) transactions.

A settlement locks the person's insurance row first (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises
writers), reads the year-to-date accumulators, runs the pure engine and writes the settlement, the fee lines'
state and the accumulator increments in the same transaction. A cancellation writes a negative record with its
own setl_id and subtracts exactly what the original added.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.catalog.service import as_entry, items_at
from yidi.core import audit
from yidi.core.clock import SHANGHAI
from yidi.core.errors import NOT_FOUND, ErrorKind, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.core.money import from_fen, parse_amount, to_fen
from yidi.core.principal import Principal
from yidi.filing.coverage import Care, Coverage
from yidi.filing.service import MED_TYPE_CARE, coverage_for
from yidi.parameters.policy import FilingCategory
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.reference.models import Institution, ServiceKind, SettlementLevel
from yidi.reference.rules import CrossRegion
from yidi.reference.service import get_institution, is_opened
from yidi.settlement import engine
from yidi.settlement.models import Accumulator, FeeRecord, Settlement, Visit

REFUSED = ErrorKind("S_REFUSED", "不能直接结算：{reason}", "cannot settle directly: {reason}", 422)
BAD_INPUT = ErrorKind("S_INPUT", "输入有误：{field} {problem}", "bad input: {field} {problem}", 422)
STATE = ErrorKind(
    "S_STATE", "就诊 {mdtrt_id} 当前为{status}，不能{action}", "visit {mdtrt_id} is {status}; cannot {action}", 409
)
MISMATCH = ErrorKind(
    "S_MISMATCH",
    "{field} 与已上传费用不符：传入 {given}，应为 {expected}",
    "{field} does not match the uploaded fees: given {given}, expected {expected}",
    422,
)
COUNT_KEYS = {engine.Acc.INPATIENT_STAYS.value}
OUTPATIENT_TYPES = {"11", "12", "13", "14", "19", "51"}


@dataclass(frozen=True)
class Call:
    principal: Principal  # the institution (signed request)
    msgid: str
    infno: str
    now: dt.datetime
    insuplc_admdvs: str

    @property
    def fixmedins_code(self) -> str:
        return self.principal.subject


def _str(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 100) -> str:
    value = data.get(name)
    if value is None or str(value).strip() == "":
        if required:
            raise YidiError(BAD_INPUT, field=name, problem="is required / 必填")
        return ""
    text = str(value).strip()
    if len(text) > max_len:
        raise YidiError(BAD_INPUT, field=name, problem=f"longer than {max_len} / 超长")
    return text


def _time(data: dict[str, Any], name: str, *, required: bool = True) -> dt.datetime | None:
    text = _str(data, name, required=required, max_len=19)
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    raise YidiError(BAD_INPUT, field=name, problem="must be yyyy-MM-dd HH:mm:ss / 时间格式错误")


def _amount(data: dict[str, Any], name: str) -> Decimal:
    value = data.get(name)
    if isinstance(value, float):
        value = repr(value)  # JSON numbers arrive as float; keep the decimal digits the client sent
    try:
        return parse_amount(value if isinstance(value, str | int) else str(value))
    except YidiError as exc:
        raise YidiError(BAD_INPUT, field=name, problem=exc.message_en) from None


def _decimal(data: dict[str, Any], name: str, places: int) -> Decimal:
    value = data.get(name)
    text = repr(value) if isinstance(value, float) else str(value)
    try:
        d = Decimal(text)
    except Exception:
        raise YidiError(BAD_INPUT, field=name, problem="not a number / 不是数字") from None
    if not d.is_finite() or d != d.quantize(Decimal(1).scaleb(-places)) or abs(d) >= Decimal(10) ** 12:
        raise YidiError(BAD_INPUT, field=name, problem=f"needs at most {places} decimals / 小数位过多")
    return d


# -- visits -----------------------------------------------------------------------------------------------


def _person_insurance(session: Session, psn_no: str, insutype: str, *, lock: bool = False) -> tuple[Person, Insurance]:
    person = session.get(Person, psn_no)
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    stmt = select(Insurance).where(Insurance.psn_no == psn_no, Insurance.insutype == insutype)
    insurance = session.scalar(stmt.with_for_update() if lock else stmt)
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
    psn_no, insutype = _str(data, "psn_no", max_len=30), _str(data, "insutype", max_len=3)
    begntime = _time(data, "begntime")
    assert begntime is not None
    institution = get_institution(session, call.fixmedins_code)
    _, insurance = _person_insurance(session, psn_no, insutype)
    med_type = _str(data, "med_type", required=kind == "inpatient", max_len=6) or "11"
    number = _str(data, "ipt_no" if kind == "inpatient" else "ipt_otp_no", max_len=30)
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
        dise_codg=_str(data, "dise_codg", required=False, max_len=30) or None,
        dept_code=_str(data, "dept_code" if kind == "outpatient" else "adm_dept_codg", required=False, max_len=30)
        or None,
        status="registered",
        created_msgid=call.msgid,
    )
    session.add(visit)
    session.flush()
    audit.record(
        session,
        at=call.now,
        actor_type="institution",
        actor_id=call.fixmedins_code,
        channel="interface",
        action="visit.register",
        entity_type="visit",
        entity_id=visit.mdtrt_id,
        msgid=call.msgid,
        after={"psn_no": psn_no, "kind": kind, "med_type": med_type},
    )
    return {"mdtrt_id": visit.mdtrt_id, "psn_no": psn_no, "ipt_otp_no": number}


def update_visit(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2203 visit information (med_type, disease) / 2403 admission change."""
    visit = own_visit(session, call, _str(data, "mdtrt_id", max_len=30), lock=True)
    if visit.status not in ("registered", "discharged"):
        raise YidiError(STATE, mdtrt_id=visit.mdtrt_id, status=visit.status, action="change / 修改")
    if data.get("med_type"):
        visit.med_type = _str(data, "med_type", max_len=6)
    if data.get("dise_codg"):
        visit.dise_codg = _str(data, "dise_codg", max_len=30)
    if data.get("begntime"):
        visit.begntime = _time(data, "begntime") or visit.begntime
    visit.version += 1
    return {}


def cancel_visit(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2202 / 2404: only a visit with no settlement in force."""
    visit = own_visit(session, call, _str(data, "mdtrt_id", max_len=30), lock=True)
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
    visit = own_visit(session, call, _str(info, "mdtrt_id", max_len=30), lock=True)
    if visit.kind != "inpatient" or visit.status not in (("discharged",) if undo else ("registered",)):
        raise YidiError(STATE, mdtrt_id=visit.mdtrt_id, status=visit.status, action="discharge / 出院")
    if undo:
        visit.status, visit.endtime = "registered", None
    else:
        visit.endtime = _time(info, "endtime")
        if visit.endtime is not None and visit.endtime < visit.begntime:
            raise YidiError(BAD_INPUT, field="endtime", problem="before begntime / 早于入院时间")
        visit.status = "discharged"
    visit.version += 1
    return {}


# -- fee lines --------------------------------------------------------------------------------------------


def upload_fees(session: Session, call: Call, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """2204 / 2301: store the lines and answer the treatment place's catalogue split of each."""
    if not rows:
        raise YidiError(BAD_INPUT, field="feedetail", problem="is empty / 为空")
    if len(rows) > 2000:
        raise YidiError(BAD_INPUT, field="feedetail", problem="more than 2000 lines / 超过2000条")
    visits: dict[str, Visit] = {}
    parsed = []
    for n, row in enumerate(rows):
        mdtrt_id = _str(row, "mdtrt_id", max_len=30)
        visit = visits.get(mdtrt_id) or own_visit(session, call, mdtrt_id, lock=True)
        visits[mdtrt_id] = visit
        if visit.status not in ("registered", "discharged"):
            raise YidiError(STATE, mdtrt_id=mdtrt_id, status=visit.status, action="upload fees / 上传费用")
        when = _time(row, "fee_ocur_time")
        assert when is not None
        total, cnt, pric = _amount(row, "det_item_fee_sumamt"), _decimal(row, "cnt", 4), _decimal(row, "pric", 6)
        if abs(cnt * pric - total) > Decimal("0.01") * max(Decimal(1), abs(cnt)):
            raise YidiError(
                BAD_INPUT, field=f"feedetail[{n}].det_item_fee_sumamt", problem="is not cnt × pric / 金额≠数量×单价"
            )
        parsed.append((visit, row, when, total, cnt, pric))
    out = []
    by_day: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for visit, row, when, *_ in parsed:
        by_day[(visit.mdtrtarea_admvs, when.date())].add(_str(row, "med_list_codg", max_len=50))
    entries = {key: items_at(session, key[0], codes, key[1]) for key, codes in by_day.items()}
    from yidi.catalog.rules import split_fee_line

    for visit, row, when, total, cnt, pric in parsed:
        code = _str(row, "med_list_codg", max_len=50)
        item = entries[(visit.mdtrtarea_admvs, when.date())].get(code)
        split = split_fee_line(as_entry(item) if item else None, total, cnt, pric)
        sn = _str(row, "feedetl_sn", max_len=30)
        if session.scalar(select(FeeRecord.id).where(FeeRecord.mdtrt_id == visit.mdtrt_id, FeeRecord.feedetl_sn == sn)):
            raise YidiError(BAD_INPUT, field="feedetl_sn", problem=f"{sn} already uploaded / 重复上传")
        session.add(
            FeeRecord(
                mdtrt_id=visit.mdtrt_id,
                feedetl_sn=sn,
                chrg_bchno=_str(row, "chrg_bchno", required=False, max_len=30) or None,
                init_feedetl_sn=_str(row, "init_feedetl_sn", required=False, max_len=30) or None,
                med_list_codg=code,
                medins_list_codg=_str(row, "medins_list_codg", required=False, max_len=150) or None,
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
            )
        )
        out.append(
            {
                "feedetl_sn": sn,
                "det_item_fee_sumamt": str(total),
                "cnt": str(cnt),
                "pric": str(pric),
                "pric_uplmt_amt": str(split.pric_uplmt_amt) if split.pric_uplmt_amt is not None else "",
                "selfpay_prop": str(split.selfpay_prop),
                "fulamt_ownpay_amt": str(split.fulamt_ownpay_amt),
                "overlmt_amt": str(split.overlmt_amt),
                "preselfpay_amt": str(split.preselfpay_amt),
                "inscp_scp_amt": str(split.inscp_scp_amt),
                "chrgitm_lv": split.chrgitm_lv or "",
                "med_chrgitm_type": item.med_chrgitm_type if item else "",
                "lmt_used_flag": "0",
            }
        )
    session.flush()
    return {"result": out}


def cancel_fees(
    session: Session, call: Call, mdtrt_id: str, feedetl_sn: str | None, chrg_bchno: str | None
) -> dict[str, Any]:
    """2205 (by chrg_bchno, "0000" = all) / 2302 (by feedetl_sn, "0000" = all): unsettled lines only."""
    visit = own_visit(session, call, mdtrt_id, lock=True)
    for fee in visit.fees:
        if fee.status != "active":
            continue
        if (feedetl_sn in (None, "0000") or fee.feedetl_sn == feedetl_sn) and (
            chrg_bchno in (None, "0000") or fee.chrg_bchno == chrg_bchno
        ):
            fee.status = "cancelled"
    return {}


# -- settling ---------------------------------------------------------------------------------------------


def _accumulators(session: Session, psn_no: str, insutype: str, year: int) -> dict[str, Decimal]:
    rows = session.scalars(
        select(Accumulator).where(
            Accumulator.psn_no == psn_no, Accumulator.insutype == insutype, Accumulator.year == year
        )
    )
    return {r.key: (Decimal(r.value) if r.key in COUNT_KEYS else from_fen(r.value)) for r in rows}


def _apply(session: Session, psn_no: str, insutype: str, year: int, increments: dict[str, Decimal], sign: int) -> None:
    existing = {
        r.key: r
        for r in session.scalars(
            select(Accumulator).where(
                Accumulator.psn_no == psn_no, Accumulator.insutype == insutype, Accumulator.year == year
            )
        )
    }
    for key, amount in increments.items():
        value = sign * (int(amount) if key in COUNT_KEYS else to_fen(amount))
        row = existing.get(key)
        if row is None:
            session.add(Accumulator(psn_no=psn_no, insutype=insutype, year=year, key=key, value=value))
        else:
            row.value += value


@dataclass(frozen=True)
class Prepared:
    visit: Visit
    insurance: Insurance
    fees: list[FeeRecord]
    result: engine.Result
    service_date: dt.date
    category: FilingCategory


def _prepare(session: Session, call: Call, data: dict[str, Any], *, lock: bool) -> Prepared:
    visit = own_visit(session, call, _str(data, "mdtrt_id", max_len=30), lock=lock)
    if _str(data, "psn_no", max_len=30) != visit.psn_no:
        raise YidiError(BAD_INPUT, field="psn_no", problem="is not the visit's person / 与就诊人员不符")
    if visit.status not in ("registered", "discharged"):
        raise YidiError(STATE, mdtrt_id=visit.mdtrt_id, status=visit.status, action="settle / 结算")
    person, insurance = _person_insurance(session, visit.psn_no, visit.insutype, lock=lock)  # the serialising lock
    institution = get_institution(session, visit.fixmedins_code)
    med_type = _str(data, "med_type", required=False, max_len=6) or visit.med_type
    care = MED_TYPE_CARE.get(med_type)
    if care is None or care is Care.PHARMACY:
        raise YidiError(BAD_INPUT, field="med_type", problem=f"{med_type} is not settled here / 不支持的医疗类别")
    admission = visit.begntime.date()
    disease = visit.dise_codg if care is Care.CHRONIC else None
    decision = coverage_for(session, visit.psn_no, visit.fixmedins_code, med_type, disease, admission, visit.insutype)
    service_date = (visit.endtime or call.now).date() if visit.kind == "inpatient" else admission
    policy = default_store().at(insurance.insuplc_admdvs, service_date)
    category = decision.category
    if not decision.covered:
        mechanism_table = (
            policy.cross_region.cross_province
            if decision.classification is CrossRegion.CROSS_PROVINCE
            else policy.cross_region.in_province
        )
        if care is Care.CHRONIC or not mechanism_table[FilingCategory.UNFILED].settle_directly:
            raise YidiError(
                REFUSED,
                reason="; ".join(decision.reasons) + " — 请全额自付后回参保地报销 / pay in full and claim at home",
            )
    _check_opened_and_exclusions(institution, care, disease, admission, policy, visit)
    fees = [f for f in visit.fees if f.status == "active"]
    batch = _str(data, "chrg_bchno", required=False, max_len=30)
    if batch and batch != "0000":
        fees = [f for f in fees if f.chrg_bchno == batch]
    if not fees:
        raise YidiError(BAD_INPUT, field="mdtrt_id", problem="has no uploaded fees to settle / 无可结算费用")
    by_day: dict[dt.date, set[str]] = defaultdict(set)
    for f in fees:
        by_day[f.fee_ocur_time.date()].add(f.med_list_codg)
    catalogue: dict[str, Any] = {}
    for day, codes in by_day.items():
        catalogue.update({c: as_entry(i) for c, i in items_at(session, visit.mdtrtarea_admvs, codes, day).items()})
    lines = [
        engine.FeeLine(f.feedetl_sn, f.med_list_codg, f.fee_ocur_time.date(), f.det_item_fee_sumamt, f.cnt, f.pric)
        for f in fees
    ]
    year = service_date.year
    ctx = engine.Context(
        policy=policy,
        insutype=visit.insutype,
        retiree=insurance.retiree,
        civil_servant=insurance.civil_servant,
        settlement_level=SettlementLevel(institution.settlement_level),
        care={
            Care.OUTPATIENT: engine.CareType.OUTPATIENT,
            Care.INPATIENT: engine.CareType.INPATIENT,
            Care.CHRONIC: engine.CareType.CHRONIC,
        }[care],
        category=category,
        cross_province=None
        if decision.coverage is Coverage.LOCAL
        else decision.classification is CrossRegion.CROSS_PROVINCE,
        service_date=service_date,
        disease=disease,
        person_diseases=tuple(q.opsp_dise_code for q in person.qualifications if q.status == "active"),
        acct_used_flag=str(data.get("acct_used_flag", "0")) == "1",
        account_balance=insurance.balc,
    )
    result = engine.settle(lines, catalogue, ctx, _accumulators(session, visit.psn_no, visit.insutype, year))
    if "medfee_sumamt" in data and _amount(data, "medfee_sumamt") != result.medfee_sumamt:
        raise YidiError(MISMATCH, field="medfee_sumamt", given=data["medfee_sumamt"], expected=result.medfee_sumamt)
    return Prepared(visit, insurance, fees, result, service_date, category)


def _check_opened_and_exclusions(
    institution: Institution, care: Care, disease: str | None, day: dt.date, policy: Any, visit: Visit
) -> None:
    local = visit.insuplc_admdvs[:4] == visit.mdtrtarea_admvs[:4] or visit.insuplc_admdvs == visit.mdtrtarea_admvs
    service = {
        Care.OUTPATIENT: ServiceKind.OUTPATIENT,
        Care.INPATIENT: ServiceKind.INPATIENT,
        Care.CHRONIC: ServiceKind.CHRONIC,
    }[care]
    if not local and not is_opened(institution, service, day, disease):
        raise YidiError(
            REFUSED,
            reason=f"{institution.fixmedins_code} is not opened for cross-region {service.value}"
            f"{' ' + disease if disease else ''} / 机构未开通该项异地直接结算",
        )
    if (
        care is Care.INPATIENT
        and institution.psychiatric_specialist
        and policy.exclusions.psychiatric_specialist_inpatient
    ):
        raise YidiError(
            REFUSED, reason="psychiatric specialist hospital stays are reimbursed at home / 精神专科住院须回参保地报销"
        )


def _setlinfo(s: Settlement) -> dict[str, Any]:
    money = [
        "medfee_sumamt",
        "fulamt_ownpay_amt",
        "overlmt_selfpay",
        "preselfpay_amt",
        "inscp_scp_amt",
        "act_pay_dedc",
        "hifp_pay",
        "cvlserv_pay",
        "hifmi_pay",
        "hifob_pay",
        "maf_pay",
        "oth_pay",
        "fund_pay_sumamt",
        "psn_part_amt",
        "acct_pay",
        "psn_cash_pay",
        "balc",
    ]
    info: dict[str, Any] = {k: str(getattr(s, k)) for k in money}
    info.update(
        setl_id=s.setl_id,
        mdtrt_id=s.mdtrt_id,
        psn_no=s.psn_no,
        insutype=s.insutype,
        med_type=s.med_type,
        setl_time=s.setl_time.strftime("%Y-%m-%d %H:%M:%S"),
        pool_prop_selfpay=str(s.pool_prop_selfpay),
        hifes_pay="0.00",
        hosp_part_amt="0.00",
        acct_mulaid_pay="0.00",
        medins_setl_id=s.msgid,
        clr_optins=s.insuplc_admdvs,
        clr_way="1",
        clr_type="11" if s.med_type in OUTPATIENT_TYPES else "21",
        insuplc_admdvs=s.insuplc_admdvs,
        mdtrtarea_admvs=s.mdtrtarea_admvs,
    )
    return {"setlinfo": info, "setldetail": s.setldetail}


def _detail_json(result: engine.Result, sign: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "fund_pay_type": d.fund_pay_type,
            "fund_pay_type_name": d.fund_pay_type_name,
            "inscp_scp_amt": str(sign * d.inscp_scp_amt),
            "crt_payb_lmt_amt": str(d.crt_payb_lmt_amt),
            "fund_payamt": str(sign * d.fund_payamt),
            "setl_proc_info": d.setl_proc_info,
        }
        for d in result.setldetail
    ]


def _record(p: Prepared, call: Call, med_type: str) -> Settlement:
    r = p.result
    return Settlement(
        setl_id=new_platform_id(PlatformIdKind.SETTLEMENT, p.visit.mdtrtarea_admvs, call.now),
        mdtrt_id=p.visit.mdtrt_id,
        psn_no=p.visit.psn_no,
        insutype=p.visit.insutype,
        fixmedins_code=p.visit.fixmedins_code,
        insuplc_admdvs=p.visit.insuplc_admdvs,
        mdtrtarea_admvs=p.visit.mdtrtarea_admvs,
        med_type=med_type,
        setl_time=call.now,
        year=p.service_date.year,
        service_date=p.service_date,
        status="settled",
        reverses=None,
        msgid=call.msgid,
        infno=call.infno,
        medfee_sumamt=r.medfee_sumamt,
        fulamt_ownpay_amt=r.fulamt_ownpay_amt,
        overlmt_selfpay=r.overlmt_selfpay,
        preselfpay_amt=r.preselfpay_amt,
        inscp_scp_amt=r.inscp_scp_amt,
        act_pay_dedc=r.act_pay_dedc,
        hifp_pay=r.hifp_pay,
        pool_prop_selfpay=r.pool_prop_selfpay,
        cvlserv_pay=r.cvlserv_pay,
        hifmi_pay=r.hifmi_pay,
        hifob_pay=r.hifob_pay,
        maf_pay=r.maf_pay,
        oth_pay=r.oth_pay,
        fund_pay_sumamt=r.fund_pay_sumamt,
        psn_part_amt=r.psn_part_amt,
        acct_pay=r.acct_pay,
        psn_cash_pay=r.psn_cash_pay,
        balc=r.balc,
        setldetail=_detail_json(r),
        increments={k: str(v) for k, v in r.increments.items()},
        category=p.category.value,
    )


def presettle(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2206 / 2303: the same computation, nothing stored."""
    p = _prepare(session, call, data, lock=False)
    record = _record(p, call, _str(data, "med_type", required=False, max_len=6) or p.visit.med_type)
    record.setl_id = ""
    return _setlinfo(record)


def settle(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2207 / 2304: settle, update the accumulators and the account balance, all in this transaction."""
    p = _prepare(session, call, data, lock=True)
    med_type = _str(data, "med_type", required=False, max_len=6) or p.visit.med_type
    record = _record(p, call, med_type)
    session.add(record)
    _apply(session, p.visit.psn_no, p.visit.insutype, record.year, p.result.increments, +1)
    p.insurance.balc = p.result.balc
    for fee in p.fees:
        fee.status, fee.setl_id = "settled", record.setl_id
    if p.visit.kind == "outpatient" or p.visit.status == "discharged" or str(data.get("mid_setl_flag", "0")) != "1":
        p.visit.status = "settled"
    p.visit.version += 1
    session.flush()
    audit.record(
        session,
        at=call.now,
        actor_type="institution",
        actor_id=call.fixmedins_code,
        channel="interface",
        action="settlement.settle",
        entity_type="settlement",
        entity_id=record.setl_id,
        msgid=call.msgid,
        after={
            "mdtrt_id": record.mdtrt_id,
            "fund_pay_sumamt": str(record.fund_pay_sumamt),
            "psn_part_amt": str(record.psn_part_amt),
        },
    )
    return _setlinfo(record)


def cancel_settlement(session: Session, call: Call, setl_id: str, mdtrt_id: str | None, psn_no: str) -> dict[str, Any]:
    """2208 / 2305 (and 2601): a negative record with its own setl_id; every accumulator restored exactly."""
    original = session.scalar(select(Settlement).where(Settlement.setl_id == setl_id).with_for_update())
    if (
        original is None
        or original.fixmedins_code != call.fixmedins_code
        or original.psn_no != psn_no
        or (mdtrt_id and original.mdtrt_id != mdtrt_id)
    ):
        raise YidiError(NOT_FOUND, what="结算 / settlement", key=setl_id)
    if original.status != "settled":
        raise YidiError(
            STATE, mdtrt_id=original.mdtrt_id, status=original.status, action="cancel settlement / 撤销结算"
        )
    _, insurance = _person_insurance(session, original.psn_no, original.insutype, lock=True)
    money = [
        "medfee_sumamt",
        "fulamt_ownpay_amt",
        "overlmt_selfpay",
        "preselfpay_amt",
        "inscp_scp_amt",
        "act_pay_dedc",
        "hifp_pay",
        "cvlserv_pay",
        "hifmi_pay",
        "hifob_pay",
        "maf_pay",
        "oth_pay",
        "fund_pay_sumamt",
        "psn_part_amt",
        "acct_pay",
        "psn_cash_pay",
    ]
    reversal = Settlement(
        setl_id=new_platform_id(PlatformIdKind.SETTLEMENT, original.mdtrtarea_admvs, call.now),
        **{
            k: getattr(original, k)
            for k in (
                "mdtrt_id",
                "psn_no",
                "insutype",
                "fixmedins_code",
                "insuplc_admdvs",
                "mdtrtarea_admvs",
                "med_type",
                "year",
                "service_date",
                "category",
            )
        },
        **{k: -getattr(original, k) for k in money},
        setl_time=call.now,
        status="reversal",
        reverses=original.setl_id,
        msgid=call.msgid,
        infno=call.infno,
        pool_prop_selfpay=original.pool_prop_selfpay,
        balc=insurance.balc + original.acct_pay,
        setldetail=[
            {**d, "fund_payamt": str(-Decimal(d["fund_payamt"])), "inscp_scp_amt": str(-Decimal(d["inscp_scp_amt"]))}
            for d in original.setldetail
        ],
        increments={k: str(-Decimal(v)) for k, v in original.increments.items()},
    )
    session.add(reversal)
    original.status = "cancelled"
    _apply(
        session,
        original.psn_no,
        original.insutype,
        original.year,
        {k: Decimal(v) for k, v in original.increments.items()},
        -1,
    )
    insurance.balc = insurance.balc + original.acct_pay
    visit = session.get(Visit, original.mdtrt_id)
    assert visit is not None
    for fee in visit.fees:
        if fee.setl_id == original.setl_id:
            fee.status, fee.setl_id = "active", None  # may be settled again
    visit.status = "discharged" if visit.kind == "inpatient" and visit.endtime else "registered"
    session.flush()
    audit.record(
        session,
        at=call.now,
        actor_type="institution",
        actor_id=call.fixmedins_code,
        channel="interface",
        action="settlement.cancel",
        entity_type="settlement",
        entity_id=original.setl_id,
        msgid=call.msgid,
        after={"reversal_setl_id": reversal.setl_id},
    )
    return _setlinfo(reversal)


def find_settlement_by_msgid(session: Session, msgid: str, infno: str) -> Settlement | None:
    return session.scalar(
        select(Settlement).where(
            Settlement.msgid == msgid, Settlement.infno == infno, Settlement.status.in_(("settled", "cancelled"))
        )
    )


# -- queries ----------------------------------------------------------------------------------------------


def query_settlement(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5203: a settlement of this institution."""
    s = session.get(Settlement, _str(data, "setl_id", max_len=30))
    if s is None or s.fixmedins_code != call.fixmedins_code or s.psn_no != _str(data, "psn_no", max_len=30):
        raise YidiError(NOT_FOUND, what="结算 / settlement", key=str(data.get("setl_id")))
    return _setlinfo(s)


def query_visits(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """5201: this institution's visits of a person in a period."""
    begin, end = _time(data, "begntime"), _time(data, "endtime")
    stmt = select(Visit).where(
        Visit.psn_no == _str(data, "psn_no", max_len=30), Visit.fixmedins_code == call.fixmedins_code
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
    visit = own_visit(session, call, _str(data, "mdtrt_id", max_len=30))
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
    psn_no = _str(data, "psn_no", max_len=30)
    cum_ym = _str(data, "cum_ym", required=False, max_len=6) or call.now.strftime("%Y%m")
    if not (cum_ym.isascii() and cum_ym.isdigit() and len(cum_ym) == 6):
        raise YidiError(BAD_INPUT, field="cum_ym", problem="must be yyyyMM / 格式应为yyyyMM")
    person = session.get(Person, psn_no)
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=psn_no)
    out = []
    for ins in person.insurances:
        for key, value in sorted(_accumulators(session, psn_no, ins.insutype, int(cum_ym[:4])).items()):
            out.append({"insutype": ins.insutype, "cum_ym": cum_ym, "cum_type_code": key, "cum": str(value)})
    return {"cuminfo": out}
