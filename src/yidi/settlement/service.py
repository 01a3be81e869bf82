"""Settling: 2206/2303 pre-settle, 2207/2304 settle, 2208/2305 (and 2601) cancel.

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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yidi.core import inputs
from yidi.core.clock import SHANGHAI
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.core.money import from_fen, to_fen
from yidi.filing.coverage import Care, Coverage
from yidi.filing.service import MED_TYPE_CARE, coverage_for
from yidi.parameters.policy import FilingCategory
from yidi.parameters.store import default_store
from yidi.people.models import Insurance
from yidi.people.service import age_on
from yidi.reference.models import ChronicDisease, Institution, ServiceKind, SettlementLevel
from yidi.reference.rules import CrossRegion
from yidi.reference.service import get_institution, is_opened
from yidi.settlement import cases, engine, invoices
from yidi.settlement.adjustments import adjusted, settlements_in_year, stay_share
from yidi.settlement.care import settlement as kept_fields
from yidi.settlement.inputs import (
    BAD_INPUT,
    COUNT_KEYS,
    MISMATCH,
    OUTPATIENT_TYPES,
    REFUSED,
    STATE,
    Call,
)
from yidi.settlement.models import Accumulator, FeeRecord, Settlement, Visit
from yidi.settlement.visits import own_visit, person_insurance


def accumulator_rows(session: Session, psn_no: str, insutype: str, year: int) -> dict[str, Accumulator]:
    stmt = select(Accumulator).where(
        Accumulator.psn_no == psn_no, Accumulator.insutype == insutype, Accumulator.year == year
    )
    return {r.key: r for r in session.scalars(stmt)}


def accumulator_values(rows: dict[str, Accumulator]) -> dict[str, Decimal]:
    return {k: (Decimal(r.value) if k in COUNT_KEYS else from_fen(r.value)) for k, r in rows.items()}


def accumulators(session: Session, psn_no: str, insutype: str, year: int) -> dict[str, Decimal]:
    return accumulator_values(accumulator_rows(session, psn_no, insutype, year))


def apply_increments(
    session: Session,
    rows: dict[str, Accumulator],
    psn_no: str,
    insutype: str,
    year: int,
    increments: dict[str, Decimal],
    sign: int,
) -> None:
    """Add (sign +1) or take back (-1) a settlement's increments on the rows read under the lock. A year-to-date
    total is never below zero: a second line of defence should a negative increment ever be computed."""
    for key, amount in increments.items():
        value = sign * (int(amount) if key in COUNT_KEYS else to_fen(amount))
        row = rows.get(key)
        if row is None:
            session.add(Accumulator(psn_no=psn_no, insutype=insutype, year=year, key=key, value=max(0, value)))
        else:
            row.value = max(0, row.value + value)


def net_lines(fees: list[FeeRecord]) -> list[engine.FeeLine]:
    """The engine's lines: each refund (a negative 2301 line) taken off the line it refunds, so that the engine
    only ever splits what was finally charged. A line refunded in full is left out."""
    refunds: dict[str, list[FeeRecord]] = defaultdict(list)
    for f in fees:
        if f.cnt < 0:
            refunds[f.init_feedetl_sn or ""].append(f)
    charged = {f.feedetl_sn for f in fees if f.cnt > 0}
    for sn, rows in refunds.items():
        if sn not in charged:
            raise YidiError(
                BAD_INPUT,
                field="chrg_bchno",
                problem=f"refund {rows[0].feedetl_sn} without its line {sn} / 退费无原明细",
            )
    lines = []
    for f in fees:
        if f.cnt < 0:
            continue
        total = f.det_item_fee_sumamt + sum((r.det_item_fee_sumamt for r in refunds.get(f.feedetl_sn, ())), Decimal(0))
        cnt = f.cnt + sum((r.cnt for r in refunds.get(f.feedetl_sn, ())), Decimal(0))
        if cnt > 0:
            lines.append(engine.FeeLine(f.feedetl_sn, f.med_list_codg, f.fee_ocur_time.date(), total, cnt, f.pric))
    return lines


@dataclass(frozen=True)
class Prepared:
    visit: Visit
    insurance: Insurance
    fees: list[FeeRecord]
    result: engine.Result
    service_date: dt.date
    category: FilingCategory
    accumulators: dict[str, Accumulator]  # the year's rows, read after the lock
    kept: dict[str, Any]  # what the HIS sent that the settlement keeps (settlement.care)
    # What the engine read, kept on the row for a later review (复核): the accumulators before it, the case's
    # facts, and the row's place in the person's year.
    acc_before: dict[str, str]
    basis: cases.Basis
    year_seq: int


def _prepare(session: Session, call: Call, data: dict[str, Any], *, lock: bool) -> Prepared:
    visit = own_visit(session, call, inputs.text(data, "mdtrt_id", max_len=30), lock=lock)
    if inputs.text(data, "psn_no", max_len=30) != visit.psn_no:
        raise YidiError(BAD_INPUT, field="psn_no", problem="is not the visit's person / 与就诊人员不符")
    if visit.status not in ("registered", "discharged"):
        raise YidiError(STATE, mdtrt_id=visit.mdtrt_id, status=visit.status, action="settle / 结算")
    kept = kept_fields(data)  # psn_setlway first: a way yidi does not settle is refused before any work
    person, insurance = person_insurance(session, visit.psn_no, visit.insutype, lock=lock)  # the serialising lock
    institution = get_institution(session, visit.fixmedins_code)
    med_type = inputs.text(data, "med_type", required=False, max_len=6) or visit.med_type
    care = MED_TYPE_CARE.get(med_type)
    purchase = visit.kind == "pharmacy"  # a purchase is settled as 41 (定点药店购药), and only a purchase is
    if care is None or purchase != (care is Care.PHARMACY):
        raise YidiError(BAD_INPUT, field="med_type", problem=f"{med_type} is not settled here / 不支持的医疗类别")
    if purchase:  # the insured place's 门慢 rules when a 门慢 disease is named, else its ordinary-outpatient rules
        care = Care.CHRONIC if visit.dise_codg and session.get(ChronicDisease, visit.dise_codg) else Care.OUTPATIENT
    admission = visit.begntime.date()
    disease = visit.dise_codg if care is Care.CHRONIC else None
    decision = coverage_for(  # 门慢 drugs bought at a pharmacy need what any 门慢 visit needs ("14")
        session,
        visit.psn_no,
        visit.fixmedins_code,
        "14" if care is Care.CHRONIC else med_type,
        disease,
        admission,
        visit.insutype,
        person,
    )
    service_date = (visit.endtime or call.now).date() if visit.kind == "inpatient" else admission
    if service_date > call.now.date():  # the year's caps are those of the service date, once it has come
        raise YidiError(BAD_INPUT, field="begntime", problem=f"{service_date} has not come yet / 就诊日期未到")
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
    _check_opened_and_exclusions(institution, care, disease, admission, policy, decision.classification, purchase)
    fees = [f for f in visit.fees if f.status == "active"]
    batch = inputs.text(data, "chrg_bchno", required=False, max_len=30)
    if batch and batch != "0000":
        chosen = [f for f in fees if f.chrg_bchno == batch]
        originals = {f.feedetl_sn for f in chosen if f.cnt > 0}
        # A refund goes with the line it refunds, whatever batch it came in: else the fund would pay on a line
        # refunded in another batch.
        fees = chosen + [f for f in fees if f.cnt < 0 and f.init_feedetl_sn in originals and f not in chosen]
    if not fees:
        raise YidiError(BAD_INPUT, field="mdtrt_id", problem="has no uploaded fees to settle / 无可结算费用")
    lines = net_lines(fees)
    year = service_date.year
    rows = accumulator_rows(session, visit.psn_no, visit.insutype, year)
    case = cases.Case(
        insured_region=insurance.insuplc_admdvs,
        catalogue_region=visit.mdtrtarea_admvs,
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
        use_account=kept["acct_used_flag"] == "1",
        account_balance=insurance.balc,
        stay=stay_so_far(session, visit, year) if care is Care.INPATIENT else None,
    )
    values = accumulator_values(rows)
    result = cases.compute(session, case, lines, values)
    given = inputs.optional_amount(data, "medfee_sumamt")
    if given is not None and given != result.medfee_sumamt:
        raise YidiError(MISMATCH, field="medfee_sumamt", given=given, expected=result.medfee_sumamt)
    acc_before = {k: str(v) for k, v in sorted(values.items()) if v}
    year_seq = _year_seq(session, visit, year) if lock else 0  # a pre-settlement stores nothing
    return Prepared(
        visit, insurance, fees, result, service_date, category, rows, kept, acc_before, cases.Basis.of(case), year_seq
    )


def _year_seq(session: Session, visit: Visit, year: int) -> int:
    """A settlement's place in the person's year: read after the person's lock, which every settlement and
    cancellation of the person takes, so two settlements in the same second are still ordered."""
    return 1 + settlements_in_year(session, visit.psn_no, visit.insutype, year)


def stay_so_far(session: Session, visit: Visit, year: int, before: Settlement | None = None) -> engine.StaySoFar | None:
    """None when no settlement of this stay is in force: this one is its first and counts the stay. With
    `before` (a settlement of the stay being recomputed, as a review does), only the settlements in force that
    came before it."""
    earlier = session.scalars(
        select(Settlement).where(Settlement.mdtrt_id == visit.mdtrt_id, Settlement.status == "settled")
    ).all()
    if before is not None:
        earlier = [s for s in earlier if s.setl_id != before.setl_id and not later_in_stay_than(s, before)]
    if not earlier:
        return None
    shares = [stay_share(session, s) for s in earlier]  # as reviews (复核) of them left them
    return engine.StaySoFar(
        deductible=sum((dedc for dedc, _ in shares), Decimal("0.00")),
        counted_this_year=any(s.year == year and counts for s, (_, counts) in zip(earlier, shares, strict=True)),
    )


def _check_opened_and_exclusions(
    institution: Institution,
    care: Care,
    disease: str | None,
    day: dt.date,
    policy: Any,
    classification: CrossRegion,
    purchase: bool = False,
) -> None:
    """`classification` is the filing decision's (`reference.rules.classify` over pooling regions): one answer to
    "is this cross-region care?" for filing and settlement alike (仙桃 429004 and 潜江 429005 share a 4-digit prefix
    but are two pools, so care there is in-province cross-region care and needs an opened institution).
    A `purchase` at a pharmacy needs the pharmacy opened for 购药 (and for the disease, when 门慢 drugs are bought)."""
    local = classification is CrossRegion.LOCAL
    services = [{Care.OUTPATIENT: ServiceKind.OUTPATIENT, Care.INPATIENT: ServiceKind.INPATIENT}.get(care)]
    if purchase:
        services = [ServiceKind.PHARMACY]
    if care is Care.CHRONIC:
        services.append(ServiceKind.CHRONIC)
    for service in services:
        if service is not None and not local and not is_opened(institution, service, day, disease):
            raise YidiError(
                REFUSED,
                reason=f"{institution.fixmedins_code} is not opened for cross-region {service.value}"
                f"{' ' + disease if disease and service is ServiceKind.CHRONIC else ''} on {day} / "
                "机构未开通该项异地直接结算",
            )
    if purchase and not local and policy.exclusions.pharmacy_purchase:
        raise YidiError(REFUSED, reason="pharmacy purchases are reimbursed at home / 异地药店购药须回参保地报销")
    if (
        care is Care.INPATIENT
        and institution.psychiatric_specialist
        and policy.exclusions.psychiatric_specialist_inpatient
    ):
        raise YidiError(
            REFUSED, reason="psychiatric specialist hospital stays are reimbursed at home / 精神专科住院须回参保地报销"
        )


# The settlement's amounts in setlinfo order; a cancellation record negates each of them.
MONEY_FIELDS = (
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
)


def setlinfo(s: Settlement, insurance: Insurance) -> dict[str, Any]:
    """setlinfo as the specification lists it (2206/2207/2303/2304, the reversal records of 2208/2305, 5203).
    Amounts are text here, as the message log stores them; the gateway's edge sends them as JSON numbers. Person
    fields are the person's and insurance record's; the ID number is masked (the institution is not the person's
    agency). A field yidi cannot know is None (null on the wire), never ""."""
    person = insurance.person
    day = s.setl_time.astimezone(SHANGHAI).date()
    info: dict[str, Any] = {
        "mdtrt_id": s.mdtrt_id,
        "setl_id": s.setl_id or None,  # none for a pre-settlement (2206/2303)
        "psn_no": s.psn_no,
        "psn_name": person.psn_name,
        "psn_cert_type": person.psn_cert_type,
        "certno": person.certno_masked,
        "gend": person.gend,
        "naty": person.naty,
        "brdy": str(person.brdy),
        "age": str(age_on(person.brdy, day)),  # at the settlement time
        "insutype": s.insutype,
        "psn_type": insurance.psn_type,
        "cvlserv_flag": "1" if insurance.civil_servant else "0",
        "setl_time": inputs.time_text(s.setl_time),
        "mdtrt_cert_type": s.mdtrt_cert_type,
        "med_type": s.med_type,
    }
    info.update({k: str(getattr(s, k)) for k in MONEY_FIELDS})
    info.update(
        pool_prop_selfpay=str(s.pool_prop_selfpay),
        # Funds yidi does not run: enterprise supplementary (企业补充), hospital share, family mutual-aid account,
        # and 伤残人员医疗保障基金 (hifdm_pay, for disabled servicemen: no such fund in any region's parameters).
        hifes_pay="0.00",
        hosp_part_amt="0.00",
        acct_mulaid_pay="0.00",
        hifdm_pay="0.00",
        balc=str(s.balc),
        medins_setl_id=s.msgid,
        clr_optins=s.insuplc_admdvs,
        clr_way="1",
        clr_type="11" if s.med_type in OUTPATIENT_TYPES else "21",
        insuplc_admdvs=s.insuplc_admdvs,
        mdtrtarea_admvs=s.mdtrtarea_admvs,
        exp_content=None,
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
        acc_before=p.acc_before,
        basis=p.basis.as_json(),
        year_seq=p.year_seq,
        **p.kept,
    )


def presettle(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2206 / 2303: the same computation, nothing stored."""
    p = _prepare(session, call, data, lock=False)
    record = _record(p, call, inputs.text(data, "med_type", required=False, max_len=6) or p.visit.med_type)
    record.setl_id = ""
    return setlinfo(record, p.insurance)


def settle(session: Session, call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """2207 / 2304: settle, update the accumulators and the account balance, all in this transaction."""
    p = _prepare(session, call, data, lock=True)
    med_type = inputs.text(data, "med_type", required=False, max_len=6) or p.visit.med_type
    record = _record(p, call, med_type)
    if record.invono:  # an invoice pays once: not again here if a claim or another settlement has used it
        try:
            invoices.take(session, record.fixmedins_code, record.invono, invoices.SETTLEMENT, record.setl_id, call.now)
        except invoices.InvoiceTaken as taken:
            raise YidiError(REFUSED, reason=f"{taken.message_zh} / {taken.message_en}") from None
    session.add(record)
    apply_increments(session, p.accumulators, p.visit.psn_no, p.visit.insutype, record.year, p.result.increments, +1)
    p.insurance.balc = p.result.balc
    session.execute(  # one statement for the lines (the objects in this session are updated in step)
        update(FeeRecord)
        .where(FeeRecord.id.in_([f.id for f in p.fees]))
        .values(status="settled", setl_id=record.setl_id)
    )
    if p.visit.kind == "outpatient" or p.visit.status == "discharged" or record.mid_setl_flag != "1":
        p.visit.status = "settled"
    p.visit.version += 1
    session.flush()
    call.audit(
        session,
        "settlement.settle",
        "settlement",
        record.setl_id,
        {
            "mdtrt_id": record.mdtrt_id,
            "fund_pay_sumamt": str(record.fund_pay_sumamt),
            "psn_part_amt": str(record.psn_part_amt),
        },
    )
    return setlinfo(record, p.insurance)


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
    _, insurance = person_insurance(session, original.psn_no, original.insutype, lock=True)
    if adjusted(session, original.setl_id):  # read under the person's lock, as a review decides under it
        raise YidiError(
            STATE,
            mdtrt_id=original.mdtrt_id,
            status="reviewed (复核) or computed again by a manual claim at the insured place's agency / "
            "经办机构已复核或已手工报销重新核定",
            action="cancel settlement; apply to the agency / 撤销结算，请向参保地经办机构申请",
        )
    if later_in_stay(session, original):  # read under the person's lock, as a settlement of the stay reads them
        # The stay's later settlements bore only what was left of its deductible and did not count the stay:
        # cancel them first (the last settlement first), then this one.
        raise YidiError(
            STATE,
            mdtrt_id=original.mdtrt_id,
            status="settled again after this settlement / 本次结算后已再次结算",
            action="cancel this settlement before the later one (cancel the last first) / 先于其后的结算撤销本次结算",
        )
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
                "psn_setlway",
                "mdtrt_cert_type",
            )
        },
        **{k: -getattr(original, k) for k in MONEY_FIELDS},
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
    invoices.release(session, invoices.SETTLEMENT, original.setl_id)  # the invoice may be settled or claimed again
    apply_increments(
        session,
        accumulator_rows(session, original.psn_no, original.insutype, original.year),
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
    call.audit(session, "settlement.cancel", "settlement", original.setl_id, {"reversal_setl_id": reversal.setl_id})
    answer = setlinfo(reversal, insurance)
    # 2208's table spells the cash share pdn_cash_pay (both public copies of it): sent under both names.
    answer["setlinfo"]["pdn_cash_pay"] = answer["setlinfo"]["psn_cash_pay"]
    return answer


def later_in_stay(session: Session, original: Settlement) -> bool:
    """Whether another settlement of the same visit in force came after `original` (a final settlement after a
    mid-stay one); the stay's first settlement is the one that counted the stay."""
    others = session.scalars(
        select(Settlement).where(
            Settlement.mdtrt_id == original.mdtrt_id,
            Settlement.status == "settled",
            Settlement.setl_id != original.setl_id,
        )
    ).all()
    return any(later_in_stay_than(o, original) for o in others)


def later_in_stay_than(other: Settlement, original: Settlement) -> bool:
    counted = Decimal(original.increments.get(engine.Acc.INPATIENT_STAYS, "0")) > 0
    return other.setl_time > original.setl_time or (other.setl_time == original.setl_time and counted)


def find_settlement_by_msgid(session: Session, msgid: str, infno: str) -> Settlement | None:
    return session.scalar(
        select(Settlement).where(
            Settlement.msgid == msgid, Settlement.infno == infno, Settlement.status.in_(("settled", "cancelled"))
        )
    )


# -- queries ----------------------------------------------------------------------------------------------
