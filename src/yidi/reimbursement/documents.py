"""Printing forms 1–5: read the facts, check who may print them, fill the form.

Who may print: the person their own papers; staff of the record's insured region (the filing's, the
settlement's insured place, the claim's); nobody else. A person or staff member outside that scope is told the
record does not exist, as for an unknown id, so that nobody learns whose records there are. Institutions print
nothing here (their settlement receipts are their HIS's).

Printing changes nothing, so it runs on a read-only session and writes no audit row. The ID number on every
form is the masked one (see forms.common).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from yidi.core.clock import to_shanghai
from yidi.core.errors import INVALID_FIELD, NOT_FOUND, ErrorKind, YidiError
from yidi.core.principal import FORBIDDEN, Audience, Principal
from yidi.filing import service as filing_service
from yidi.filing.models import Filing
from yidi.filing.rules import Basis
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.people.service import get_person
from yidi.reference.models import ChronicDisease
from yidi.reference.rules import DivisionLevel, divisions
from yidi.reference.service import get_institution
from yidi.reimbursement.forms import injury, outside_care, registration, settlement_sheet, undertaking
from yidi.reimbursement.forms.common import STAY_MED_TYPES, PersonFacts
from yidi.reimbursement.models import Claim, ClaimVisit
from yidi.reimbursement.payment_rules import mask_account
from yidi.settlement.models import Settlement, Visit, VisitDiagnosis
from yidi.settlement.service import MONEY_FIELDS

NOT_COMMITMENT = ErrorKind(
    "D_NOT_COMMITMENT",
    "备案{filing_id}不是以个人承诺方式办理的，没有个人承诺书",
    "filing {filing_id} was not made on an undertaking (承诺制): it has no 个人承诺书",
    409,
)
NOT_SETTLED = ErrorKind(
    "D_NOT_SETTLED",
    "结算{setl_id}的状态为{status}，只有有效的结算可以打印结算单",
    "settlement {setl_id} is {status}: only a settlement in force has a settlement sheet",
    409,
)
NOT_APPROVED = ErrorKind(
    "D_NOT_APPROVED",
    "报销申请{claim_id}的状态为{status}，审核通过后方可打印结算单",
    "claim {claim_id} is {status}: the settlement sheet is printed once the claim is approved",
    409,
)
NOT_INJURY = ErrorKind(
    "D_NOT_INJURY",
    "报销申请{claim_id}的第{seq}次就医未登记为外伤",
    "visit {seq} of claim {claim_id} is not recorded as an injury",
    409,
)
NOT_STAY = ErrorKind(
    "D_NOT_STAY",
    "报销申请{claim_id}的第{seq}次就医不是住院",
    "visit {seq} of claim {claim_id} is not a stay in hospital",
    409,
)
PRINTABLE_CLAIM_STATUSES = ("approved", "paid")


@dataclass(frozen=True)
class Pdf:
    filename: str  # ASCII: it travels in Content-Disposition
    content: bytes


# -- who may print ------------------------------------------------------------------------------------------


def require_reader(principal: Principal, psn_no: str, region: str, what: str, key: str) -> None:
    """The person themself, or staff of `region` (the record's insured region); anyone else learns nothing."""
    if principal.audience is Audience.SYSTEM:
        return
    if principal.audience is Audience.PERSON and principal.subject == psn_no:
        return
    if principal.audience is Audience.STAFF and region in principal.regions:
        return
    if principal.audience in (Audience.PERSON, Audience.STAFF):
        raise YidiError(NOT_FOUND, what=what, key=key)
    raise YidiError(FORBIDDEN, reason="forms are printed by the person or their agency / 表单由参保人或经办机构打印")


def _field(field: str, problem: str) -> YidiError:
    return YidiError(INVALID_FIELD, field=field, problem=problem)


# -- facts shared by the forms --------------------------------------------------------------------------------


def region_name(code: str) -> str:
    """河南省漯河市, 北京市; the code itself when the division table does not know it."""
    index = divisions()
    division = index.get(code)
    if division is None:
        try:
            division = index.pooling_region_of(code)
        except YidiError:
            return code
    if division.level is DivisionLevel.PROVINCE or division.parent is None:
        return division.name
    province = index.get(division.parent)
    return (province.name if province else "") + division.name


def _insurance(person: Person, insutype: str | None) -> Insurance:
    for ins in person.insurances:
        if insutype is None or ins.insutype == insutype:
            return ins
    raise _field("insutype", f"the person has no insurance {insutype} / 无该险种参保记录")


def person_facts(person: Person, insurance: Insurance) -> PersonFacts:
    if insurance.insutype == "390":
        kind = "城乡居民"
    else:
        kind = "退休" if insurance.retiree else "在职"
    return PersonFacts(
        name=person.psn_name,
        certno_masked=person.certno_masked,
        psn_no=person.psn_no,
        gender=person.gend,
        insured_region=region_name(insurance.insuplc_admdvs),
        insutype=insurance.insutype,
        person_type=kind + ("（公务员）" if insurance.civil_servant else ""),
        tel=person.tel or "",
    )


def _institution_name(session: Session, code: str) -> str:
    try:
        return get_institution(session, code).fixmedins_name
    except YidiError:
        return code


def _local_day(moment: dt.datetime | None) -> dt.date | None:
    return to_shanghai(moment).date() if moment else None


# -- forms 1 and 2: from a filing -----------------------------------------------------------------------------


def _filing(session: Session, principal: Principal, filing_id: str) -> tuple[Filing, Person, Insurance]:
    filing = filing_service.load(session, filing_id)
    require_reader(principal, filing.psn_no, filing.insured_region, "备案 / filing", filing_id)
    person = get_person(session, filing.psn_no)
    return filing, person, _insurance(person, filing.insutype)


def registration_form(session: Session, principal: Principal, filing_id: str, now: dt.datetime) -> Pdf:
    filing, person, insurance = _filing(session, principal, filing_id)
    disease = ""
    if filing.opsp_dise_code:
        row = session.get(ChronicDisease, filing.opsp_dise_code)
        disease = f"{filing.opsp_dise_code} {row.name}" if row else filing.opsp_dise_code
    facts = registration.RegistrationFacts(
        filing_id=filing.id,
        person=person_facts(person, insurance),
        subtype=filing.subtype,
        target=region_name(filing.target_region),
        target_level=filing.target_level,
        institutions=tuple(
            f"{_institution_name(session, i.fixmedins_code)}（{i.fixmedins_code}）" for i in filing.institutions
        ),
        disease=disease,
        begndate=filing.begndate,
        enddate=filing.enddate,
        basis=filing.basis,
        proof_deadline=filing.proof_deadline,
        proof_received_on=filing.proof_received_on,
        channel=filing.channel,
        status=filing.status,
        submitted_at=filing.submitted_at,
        approved_on=filing.approved_on,
        void_from=filing.void_from,
        retroactive=filing.retroactive,
    )
    return Pdf(f"registration-{filing.id}.pdf", registration.fill(facts, now))


def undertaking_form(session: Session, principal: Principal, filing_id: str, now: dt.datetime) -> Pdf:
    filing, person, insurance = _filing(session, principal, filing_id)
    if filing.basis != Basis.COMMITMENT.value:
        raise YidiError(NOT_COMMITMENT, filing_id=filing.id)
    filed_on = _local_day(filing.submitted_at)
    assert filed_on is not None  # submitted_at is never empty
    terms = default_store().at(filing.insured_region, filed_on).commitment  # as the person undertook them
    facts = undertaking.UndertakingFacts(
        filing_id=filing.id,
        person=person_facts(person, insurance),
        subtype=filing.subtype,
        target=region_name(filing.target_region),
        begndate=filing.begndate,
        proof_deadline=filing.proof_deadline,
        terms=undertaking.CommitmentTerms(terms.proof_deadline_days, terms.consequence, terms.ban_months),
    )
    return Pdf(f"undertaking-{filing.id}.pdf", undertaking.fill(facts, now))


# -- forms 3 and 4: a person and a visit, from a claim or from values the caller gives -------------------------


@dataclass(frozen=True)
class ClaimVisitRef:
    claim_id: str
    seq: int


def _claim_visit(session: Session, principal: Principal, ref: ClaimVisitRef) -> tuple[Claim, ClaimVisit]:
    claim = session.get(Claim, ref.claim_id)
    if claim is None:
        raise YidiError(NOT_FOUND, what="报销申请 / claim", key=ref.claim_id)
    require_reader(principal, claim.psn_no, claim.insured_region, "报销申请 / claim", ref.claim_id)
    visit = session.scalar(select(ClaimVisit).where(ClaimVisit.claim_id == claim.id, ClaimVisit.seq == ref.seq))
    if visit is None:
        raise YidiError(NOT_FOUND, what="报销就医记录 / claim visit", key=f"{claim.id}#{ref.seq}")
    return claim, visit


def _person_for(
    session: Session, principal: Principal, psn_no: str | None, insutype: str | None
) -> tuple[Person, Insurance]:
    """The person a form given by values is for: a person prints for themself; staff name the person."""
    if psn_no is None:
        if principal.audience is not Audience.PERSON:
            raise _field("psn_no", "is required / 须填写人员编号")
        psn_no = principal.subject
    try:
        person = get_person(session, psn_no)
    except YidiError:
        # Unknown: the answer an outsider gets for a known person (institutions are refused before that).
        require_reader(principal, "", "", "参保人员 / insured person", psn_no)
        raise
    # Staff of any of the person's insured regions.
    regions = sorted(i.insuplc_admdvs for i in person.insurances)
    region = next((r for r in regions if r in principal.regions), regions[0] if regions else "")
    require_reader(principal, person.psn_no, region, "参保人员 / insured person", psn_no)
    return person, _insurance(person, insutype)


def _main_diagnosis(rows: list[dict[str, Any]]) -> str:
    main = sorted(rows, key=lambda d: str(d.get("maindiag_flag")) != "1")
    return " ".join(str(main[0].get(k) or "") for k in ("diag_code", "diag_name")).strip() if main else ""


def _check_dates(field: str, first: dt.date, last: dt.date, born: dt.date, today: dt.date) -> None:
    if last < first:
        raise _field(field, f"ends {last} before it begins {first} / 结束日期早于开始日期")
    if first < born or last > today:
        raise _field(field, f"must lie between the birth date and today ({today}) / 须在出生日期与今天之间")


def _text(field: str, value: str | None, limit: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise _field(field, "is required / 不能为空")
    if len(text) > limit:
        raise _field(field, f"at most {limit} characters / 不超过{limit}个字符")
    return text


@dataclass(frozen=True)
class InjuryRequest:
    description: str
    claim_visit: ClaimVisitRef | None = None
    psn_no: str | None = None  # with explicit values; a person may leave it out
    insutype: str | None = None
    institution: str | None = None
    begndate: dt.date | None = None
    enddate: dt.date | None = None
    injury_date: dt.date | None = None
    injury_place: str | None = None


def injury_form(session: Session, principal: Principal, req: InjuryRequest, now: dt.datetime) -> Pdf:
    today = to_shanghai(now).date()
    description = _text("description", req.description, injury.DESCRIPTION_MAX, required=True)
    place = _text("injury_place", req.injury_place, injury.PLACE_MAX, required=False)
    reference = ""
    if req.claim_visit is not None:
        if req.psn_no or req.institution or req.begndate or req.enddate:
            raise _field("claim_id", "give a claim visit or the visit's values, not both / 申请与就医信息只能二选一")
        claim, visit = _claim_visit(session, principal, req.claim_visit)
        if not visit.injury:
            raise YidiError(NOT_INJURY, claim_id=claim.id, seq=visit.seq)
        person = get_person(session, claim.psn_no)
        insurance = _insurance(person, claim.insutype)
        institution, begin, end = visit.institution_name, visit.begndate, visit.enddate
        reference = f"报销单号：{claim.id}（第{visit.seq}次就医）"
    else:
        person, insurance = _person_for(session, principal, req.psn_no, req.insutype)
        institution = _text("institution", req.institution, injury.INSTITUTION_MAX, required=True)
        if req.begndate is None:
            raise _field("begndate", "is required / 须填写就医日期")
        begin, end = req.begndate, req.enddate or req.begndate
        _check_dates("begndate", begin, end, person.brdy, today)
    if req.injury_date is not None:
        _check_dates("injury_date", req.injury_date, req.injury_date, person.brdy, today)
        if req.injury_date > begin:
            raise _field("injury_date", f"after the visit began ({begin}) / 受伤日期晚于就医日期")
    facts = injury.InjuryFacts(
        person=person_facts(person, insurance),
        institution=institution,
        begndate=begin,
        enddate=end,
        description=description,
        injury_date=req.injury_date,
        injury_place=place,
        reference=reference,
    )
    return Pdf(f"injury-undertaking-{person.psn_no}-{today:%Y%m%d}.pdf", injury.fill(facts, now))


@dataclass(frozen=True)
class OutsideCareRequest:
    items: tuple[outside_care.OutsideItem, ...]
    claim_visit: ClaimVisitRef | None = None
    psn_no: str | None = None
    insutype: str | None = None
    institution: str | None = None
    admission: dt.date | None = None
    discharge: dt.date | None = None
    diagnosis: str | None = None
    department: str | None = None
    admission_no: str | None = None


def outside_care_form(session: Session, principal: Principal, req: OutsideCareRequest, now: dt.datetime) -> Pdf:
    today = to_shanghai(now).date()
    department = _text("department", req.department, outside_care.TEXT_MAX, required=False)
    admission_no = _text("admission_no", req.admission_no, 30, required=False)
    reference = ""
    if req.claim_visit is not None:
        if req.psn_no or req.institution or req.admission or req.discharge or req.diagnosis:
            raise _field("claim_id", "give a claim visit or the stay's values, not both / 申请与住院信息只能二选一")
        claim, visit = _claim_visit(session, principal, req.claim_visit)
        if visit.med_type not in STAY_MED_TYPES:
            raise YidiError(NOT_STAY, claim_id=claim.id, seq=visit.seq)
        person = get_person(session, claim.psn_no)
        insurance = _insurance(person, claim.insutype)
        stay = outside_care.StayFacts(
            institution=visit.institution_name,
            admission=visit.begndate,
            discharge=visit.enddate,
            diagnosis=_main_diagnosis(visit.diagnoses or []),
            department=department,
            admission_no=admission_no,
        )
        reference = f"报销单号：{claim.id}（第{visit.seq}次就医）"
    else:
        person, insurance = _person_for(session, principal, req.psn_no, req.insutype)
        if req.admission is None:
            raise _field("admission", "is required / 须填写入院日期")
        _check_dates("admission", req.admission, req.discharge or req.admission, person.brdy, today)
        stay = outside_care.StayFacts(
            institution=_text("institution", req.institution, outside_care.TEXT_MAX, required=True),
            admission=req.admission,
            discharge=req.discharge,
            diagnosis=_text("diagnosis", req.diagnosis, outside_care.TEXT_MAX, required=True),
            department=department,
            admission_no=admission_no,
        )
    outside_care.check_items(stay, req.items, today, default_store().input_limits(today).max_line_amount)
    facts = outside_care.OutsideCareFacts(person_facts(person, insurance), stay, req.items, reference)
    return Pdf(f"outside-care-{person.psn_no}-{today:%Y%m%d}.pdf", outside_care.fill(facts, now))


# -- form 5: a direct settlement or an approved claim ----------------------------------------------------------


def _visit_diagnosis(session: Session, visit: Visit | None) -> str:
    if visit is None:
        return ""
    rows = session.scalars(
        select(VisitDiagnosis).where(VisitDiagnosis.mdtrt_id == visit.mdtrt_id, VisitDiagnosis.vali_flag != "0")
    ).all()
    main = sorted(  # the discharge diagnosis (2402) before the admission's, the main one first
        (r for r in rows if r.maindiag_flag == "1"), key=lambda r: (r.source != "2402", r.diag_srt_no)
    )
    if main:
        return f"{main[0].diag_code} {main[0].diag_name}"
    for code, name in (
        (visit.dscg_maindiag_code, visit.dscg_maindiag_name),
        (visit.dise_codg, visit.dise_name),
        (None, visit.adm_diag_dscr),
    ):
        if code or name:
            return " ".join(x for x in (code, name) if x)
    return ""


def settlement_sheet_form(session: Session, principal: Principal, setl_id: str, now: dt.datetime) -> Pdf:
    s = session.get(Settlement, setl_id)
    if s is None:
        raise YidiError(NOT_FOUND, what="结算 / settlement", key=setl_id)
    require_reader(principal, s.psn_no, s.insuplc_admdvs, "结算 / settlement", setl_id)
    if s.status != "settled":
        raise YidiError(NOT_SETTLED, setl_id=setl_id, status=s.status)
    visit = session.get(Visit, s.mdtrt_id)
    person = get_person(session, s.psn_no)
    institution = get_institution(session, s.fixmedins_code)
    split = settlement_sheet.Split(
        amounts={k: getattr(s, k) for k in MONEY_FIELDS},
        ratio=s.pool_prop_selfpay,
        details=settlement_sheet.fund_rows(s.setldetail, setl_id),
    )
    admission = _local_day(visit.begntime) if visit else None
    case = settlement_sheet.CareFacts(
        reference=s.setl_id,
        institution=institution.fixmedins_name,
        hospital_grade=institution.hosp_lv or "",
        settlement_level=institution.settlement_level,
        treatment_region=region_name(s.mdtrtarea_admvs),
        med_type=s.med_type,
        admission=admission or s.service_date,
        discharge=_local_day(visit.endtime) if visit else None,
        diagnosis=_visit_diagnosis(session, visit),
        category=s.category,
        settled_at=s.setl_time,
        split=split,
    )
    facts = settlement_sheet.SheetFacts(person_facts(person, _insurance(person, s.insutype)), (case,))
    return Pdf(f"settlement-sheet-{s.setl_id}.pdf", settlement_sheet.fill(facts, now))


def _claim_amount(claim: Claim, name: str) -> Decimal:
    value: Decimal | None = getattr(claim, name)
    if value is None:  # an approved claim always has its totals: a missing one is a defect upstream
        raise YidiError(settlement_sheet.UNBALANCED, check=name, detail=f"claim {claim.id}: {name} is empty")
    return value


def claim_sheet_form(session: Session, principal: Principal, claim_id: str, now: dt.datetime) -> Pdf:
    claim = session.scalar(select(Claim).where(Claim.id == claim_id).options(selectinload(Claim.visits)))
    if claim is None:
        raise YidiError(NOT_FOUND, what="报销申请 / claim", key=claim_id)
    require_reader(principal, claim.psn_no, claim.insured_region, "报销申请 / claim", claim_id)
    if claim.status not in PRINTABLE_CLAIM_STATUSES:
        raise YidiError(NOT_APPROVED, claim_id=claim_id, status=claim.status)
    person = get_person(session, claim.psn_no)
    cases = []
    for v in claim.visits:
        where = f"{claim.id} 第{v.seq}次就医"
        grade = ""
        if v.fixmedins_code:  # a networked institution gives its grade; one outside the network has none here
            try:
                grade = get_institution(session, v.fixmedins_code).hosp_lv or ""
            except YidiError:
                grade = ""
        cases.append(
            settlement_sheet.CareFacts(
                reference=where,
                institution=v.institution_name,
                hospital_grade=grade,
                settlement_level=v.institution_level,
                treatment_region=region_name(v.institution_region),
                med_type=v.med_type,
                admission=v.begndate,
                discharge=v.enddate,
                diagnosis=_main_diagnosis(v.diagnoses or []),
                category=v.category,
                settled_at=claim.decided_at,
                split=settlement_sheet.Split.from_json(v.split or {}, where),
                paid_directly=v.paid_directly or Decimal("0.00"),
            )
        )
    totals = settlement_sheet.ClaimTotals(
        claim_id=claim.id,
        status=claim.status,
        medfee_sumamt=_claim_amount(claim, "medfee_sumamt"),
        fund_pay_sumamt=_claim_amount(claim, "fund_pay_sumamt"),
        paid_directly=_claim_amount(claim, "paid_directly"),
        payable=_claim_amount(claim, "payable"),
        payee_name=claim.payee_name,
        bank_name=claim.bank_name,
        bank_account_masked=mask_account(claim.bank_account),
    )
    facts = settlement_sheet.SheetFacts(person_facts(person, _insurance(person, claim.insutype)), tuple(cases), totals)
    return Pdf(f"settlement-sheet-{claim.id}.pdf", settlement_sheet.fill(facts, now))
