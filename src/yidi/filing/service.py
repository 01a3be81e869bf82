"""Filing use cases: submit, upload materials, review, change, cancel, renew, expire, and `coverage_for`.

Each use case runs inside the caller's unit of work, checks who is acting (the `Principal`), locks the
person's row so two submissions cannot both pass the one-area rule, and writes an audit row for every state
change with the before and after state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from yidi.core import audit
from yidi.core.calendar import WorkingDayCalendar, default_calendar, recount_provisional
from yidi.core.config import get_settings
from yidi.core.errors import NOT_FOUND, ErrorKind, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.core.principal import FORBIDDEN, Audience, Principal, Role
from yidi.filing import rules
from yidi.filing.coverage import Care, FilingDecision, VisitFacts, decide
from yidi.filing.models import Filing, FilingInstitution, FilingMaterial
from yidi.filing.rules import Basis, Channel, FilingView, InstitutionFacts, Qualification, Status, Subtype
from yidi.parameters.store import default_store
from yidi.people.models import ChronicQualification, Insurance, Person
from yidi.people.service import get_person, require_staff_region
from yidi.reference.models import ChronicDisease, Institution, ServiceKind
from yidi.reference.rules import divisions
from yidi.reference.service import get_institution, opened_services

BAD_UPLOAD = ErrorKind("F_UPLOAD", "材料文件无效：{reason}", "material file refused: {reason}", 422)
NO_INSURANCE = ErrorKind(
    "F_NO_INSURANCE", "没有险种{insutype}的参保记录", "no insurance record of type {insutype}", 422
)
ALLOWED_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
EXTENSIONS = {"application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg")}
PENDING = (Status.SUBMITTED.value, Status.UNDER_REVIEW.value)


@dataclass(frozen=True)
class SubmitRequest:
    psn_no: str
    insutype: str
    subtype: Subtype
    target_region: str
    begndate: dt.date
    basis: Basis
    channel: Channel
    opsp_dise_code: str | None = None
    institutions: list[str] = field(default_factory=list)
    reason: str | None = None


# -- reading ------------------------------------------------------------------------------------------


def load(session: Session, filing_id: str, *, lock: bool = False) -> Filing:
    stmt = (
        select(Filing)
        .where(Filing.id == filing_id)
        .options(selectinload(Filing.institutions), selectinload(Filing.materials))
    )
    filing = session.scalar(stmt.with_for_update() if lock else stmt)
    if filing is None:
        raise YidiError(NOT_FOUND, what="备案 / filing", key=filing_id)
    return filing


def view(f: Filing) -> FilingView:
    return FilingView(
        id=f.id,
        subtype=Subtype(f.subtype),
        target_region=f.target_region,
        begndate=f.begndate,
        enddate=f.enddate,
        basis=Basis(f.basis),
        status=Status(f.status),
        approved_on=f.approved_on,
        void_from=f.void_from,
        proof_deadline=f.proof_deadline,
        proof_received_on=f.proof_received_on,
        opsp_dise_code=f.opsp_dise_code,
        institutions=tuple(i.fixmedins_code for i in f.institutions),
        channel=Channel(f.channel),
    )


def snapshot(f: Filing) -> dict[str, object]:
    """The audited state of a filing."""
    return {
        "status": f.status,
        "subtype": f.subtype,
        "target_region": f.target_region,
        "begndate": str(f.begndate),
        "enddate": str(f.enddate) if f.enddate else None,
        "basis": f.basis,
        "void_from": str(f.void_from or "") or None,
        "institutions": [i.fixmedins_code for i in f.institutions],
        "due_date": str(f.due_date or "") or None,
        "due_date_provisional": bool(f.due_date_provisional),
    }


def person_filings(session: Session, psn_no: str) -> list[Filing]:
    stmt = (
        select(Filing)
        .where(Filing.psn_no == psn_no)
        .options(joinedload(Filing.institutions))
        .order_by(Filing.submitted_at)
    )
    return list(session.scalars(stmt).unique())


def authorize_person_scope(principal: Principal, person: Person, *, institution_ok: bool = False) -> None:
    """The person themself, staff of their insured region, or (for hospital filings) an institution."""
    if principal.audience in (Audience.SYSTEM, Audience.PERSON):
        principal.require_person(person.psn_no)
    elif principal.audience is Audience.STAFF:
        require_staff_region(principal, person)
    elif not (institution_ok and principal.audience is Audience.INSTITUTION):
        raise YidiError(FORBIDDEN, reason="filings are made by the person, their agency or a hospital / 无权办理备案")


def _audit(
    session: Session,
    principal: Principal,
    channel: str,
    action: str,
    filing: Filing,
    before: dict[str, object] | None,
    now: dt.datetime,
) -> None:
    audit.by(
        session,
        principal,
        now,
        channel=channel,
        action=action,
        entity_type="filing",
        entity_id=filing.id,
        before=before,
        after=snapshot(filing),
    )


def set_due_date(filing: Filing, calendar: WorkingDayCalendar, start: dt.date, working_days: int) -> None:
    """The review deadline `working_days` after `start`, with whether it was counted provisionally."""
    due = calendar.count_working_days(start, working_days)
    filing.due_date, filing.due_date_provisional, filing.due_from = due.date, due.provisional, start


def clear_due_date(filing: Filing) -> None:
    filing.due_date, filing.due_date_provisional, filing.due_from = None, False, None


# -- submitting ---------------------------------------------------------------------------------------


def _insurance(person: Person, insutype: str) -> Insurance:
    for ins in person.insurances:
        if ins.insutype == insutype:
            return ins
    raise YidiError(NO_INSURANCE, insutype=insutype)


def institution_facts(session: Session, code: str, on: dt.date) -> InstitutionFacts:
    """A networked institution as the filing rules see it on `on` (departments, 门慢 diseases opened)."""
    inst = get_institution(session, code)
    return InstitutionFacts(
        fixmedins_code=inst.fixmedins_code,
        pooling_region=inst.pooling_region,
        networked=inst.networked,
        caty_codes=[d.caty for d in inst.departments],
        chronic_opened={
            s.opsp_dise_code
            for s in opened_services(inst, on)
            if s.service == ServiceKind.CHRONIC.value and s.opsp_dise_code
        },
        is_hospital=inst.fixmedins_type == "1",
    )


def _qualification(session: Session, person: Person, disease: str | None, on: dt.date) -> Qualification | None:
    if disease is None:
        return None
    candidates = [q for q in person.qualifications if q.opsp_dise_code == disease and q.status == "active"]
    current = [q for q in candidates if q.begndate <= on <= q.enddate] or candidates
    if not current:
        return None
    q = max(current, key=lambda q: q.enddate)
    group = session.scalar(select(ChronicDisease.national_group).where(ChronicDisease.code == disease))
    return Qualification(q.opsp_dise_code, q.begndate, q.enddate, group)


def submit(
    session: Session,
    principal: Principal,
    req: SubmitRequest,
    now: dt.datetime,
    *,
    replaces: Filing | None = None,
    replace_mode: str | None = None,
) -> Filing:
    person = session.get(Person, req.psn_no, with_for_update=True)  # serialises one person's filings
    if person is None:
        raise YidiError(NOT_FOUND, what="参保人员 / insured person", key=req.psn_no)
    person = get_person(session, req.psn_no)
    authorize_person_scope(principal, person, institution_ok=req.channel is Channel.HOSPITAL)
    insurance = _insurance(person, req.insutype)
    today = now.date()
    policy = default_store().at(insurance.insuplc_admdvs, today)
    others = [
        view(f)
        for f in person_filings(session, person.psn_no)
        if f.status in (*PENDING, Status.APPROVED.value) and (replaces is None or f.id != replaces.id)
    ]
    facts = rules.SubmissionFacts(
        insured_region=insurance.insuplc_admdvs,
        insurance_active=insurance.psn_insu_stas == "1",
        subtype=req.subtype,
        target_region=req.target_region,
        begndate=req.begndate,
        basis=req.basis,
        channel=req.channel,
        submitted_on=today,
        opsp_dise_code=req.opsp_dise_code,
        qualification=_qualification(session, person, req.opsp_dise_code, req.begndate),
        institutions=[institution_facts(session, c, req.begndate) for c in req.institutions],
        active_filings=others,
        replaces=view(replaces) if replaces else None,
    )
    plan = rules.plan_submission(policy, divisions(), default_calendar(), facts)
    materials_first = req.basis is Basis.MATERIALS and not plan.auto_approve
    filing = Filing(
        id=new_platform_id(PlatformIdKind.FILING, insurance.insuplc_admdvs, now),
        psn_no=person.psn_no,
        insutype=req.insutype,
        insured_region=insurance.insuplc_admdvs,
        subtype=req.subtype.value,
        target_region=plan.target_region,
        target_level=plan.target_level,
        opsp_dise_code=req.opsp_dise_code,
        begndate=plan.begndate,
        enddate=plan.enddate,
        basis=req.basis.value,
        proof_deadline=plan.proof_deadline,
        retroactive=plan.retroactive,
        channel=req.channel.value,
        status=(Status.SUBMITTED if materials_first else Status.UNDER_REVIEW).value,
        submitted_at=now,
        submitted_by=principal.subject or "anonymous",
        due_date=None if materials_first else plan.due_date,
        due_date_provisional=not materials_first and plan.due_date_provisional,
        due_from=None if materials_first or plan.due_date is None else today,
        replaces_id=replaces.id if replaces else None,
        replace_mode=replace_mode,
        fixmedins_code=principal.subject if principal.audience is Audience.INSTITUTION else None,
        end_reason=req.reason,
    )
    filing.institutions = [FilingInstitution(fix_srt_no=n, fixmedins_code=c) for n, c in enumerate(req.institutions, 1)]
    session.add(filing)
    session.flush()
    _audit(session, principal, req.channel.value, "filing.submit", filing, None, now)
    if plan.auto_approve:
        _approve(session, principal, filing, now, "filing.auto_approve")
    return filing


def _approve(session: Session, principal: Principal, filing: Filing, now: dt.datetime, action: str) -> None:
    before = snapshot(filing)
    filing.status, filing.approved_on, filing.decided_at = Status.APPROVED.value, now.date(), now
    filing.decided_by = principal.subject or "system"
    clear_due_date(filing)
    filing.version += 1
    _audit(session, principal, "review", action, filing, before, now)
    if filing.replaces_id:
        old = load(session, filing.replaces_id, lock=True)
        old_before = snapshot(old)
        if filing.replace_mode == "renewal":
            old.status, old.void_from = Status.SUPERSEDED.value, max(filing.begndate, now.date())
        else:
            old.status, old.void_from = Status.CHANGED.value, now.date()  # an approved change voids the old one
        old.end_reason, old.version = f"replaced by {filing.id}", old.version + 1
        _audit(session, principal, "review", f"filing.{old.status}", old, old_before, now)


# -- materials ----------------------------------------------------------------------------------------


def sniff_type(content: bytes) -> str | None:
    for magic, content_type in ALLOWED_TYPES.items():
        if content.startswith(magic):
            return content_type
    return None


def upload_type(filename: str, content: bytes) -> str:
    """The content type of an uploaded paper (filings' and claims' materials), or BAD_UPLOAD: not empty, within
    the size limit, a PDF, PNG or JPEG by its first bytes, and named for what it is (case aside). A reader's
    computer opens a file by its name: a PDF named .png, .exe or .html would be opened as something else."""
    limit = get_settings().max_upload_bytes
    if not content:
        raise YidiError(BAD_UPLOAD, reason="empty file / 文件为空")
    if len(content) > limit:
        raise YidiError(BAD_UPLOAD, reason=f"larger than {limit} bytes / 超过大小上限")
    content_type = sniff_type(content)
    if content_type is None:
        raise YidiError(BAD_UPLOAD, reason="only PDF, PNG or JPEG files / 仅支持PDF、PNG、JPEG")
    suffix, wanted = Path(filename).suffix.lower(), EXTENSIONS[content_type]
    if suffix not in wanted:
        names = " or ".join(wanted)
        reason = f"the content is {content_type}: name the file {names} / 文件内容为{content_type}，扩展名应为{names}"
        raise YidiError(BAD_UPLOAD, reason=reason)
    return content_type


def store_file(content: bytes) -> str:
    """Content-addressed storage under the data directory; returns the SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    folder = Path(get_settings().data_dir) / "materials" / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / digest
    if not target.exists():
        tmp = target.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(target)
    return digest


def add_material(
    session: Session, principal: Principal, filing_id: str, kind: str, filename: str, content: bytes, now: dt.datetime
) -> FilingMaterial:
    filing = load(session, filing_id, lock=True)
    authorize_person_scope(principal, get_person(session, filing.psn_no))
    if filing.status not in (*PENDING, Status.APPROVED.value):
        raise rules.refuse(rules.R_STATE, status=filing.status, action="upload materials / 上传材料")
    content_type = upload_type(filename, content)
    material = FilingMaterial(
        kind=kind,
        filename=filename[:200],
        content_type=content_type,
        size=len(content),
        sha256=store_file(content),
        uploaded_at=now,
        uploaded_by=principal.subject or "anonymous",
    )
    before = snapshot(filing)
    filing.materials.append(material)
    policy = default_store().at(filing.insured_region, now.date())
    if filing.status == Status.SUBMITTED.value or filing.materials_requested:
        filing.status, filing.materials_requested = Status.UNDER_REVIEW.value, None
        set_due_date(filing, default_calendar(), now.date(), policy.filing.review_working_days)
    if filing.basis == Basis.COMMITMENT.value and filing.proof_received_on is None:
        filing.proof_received_on = now.date()
    filing.version += 1
    session.flush()
    _audit(session, principal, "upload", "filing.material", filing, before, now)
    return material


# -- review, change, cancel, renew, expire ------------------------------------------------------------


def decide_review(
    session: Session, principal: Principal, filing_id: str, decision: str, reason: str | None, now: dt.datetime
) -> Filing:
    """A reviewer approves, rejects (with a reason) or asks for more materials."""
    filing = load(session, filing_id, lock=True)
    principal.require_region(filing.insured_region)
    if principal.audience is Audience.STAFF and not principal.roles & {Role.REVIEWER, Role.ADMINISTRATOR}:
        raise YidiError(FORBIDDEN, reason="only reviewers decide filings / 仅审核人员可审批")
    if filing.status != Status.UNDER_REVIEW.value:
        raise rules.refuse(rules.R_STATE, status=filing.status, action=f"{decision} / 审批")
    if decision == "approve":
        _approve(session, principal, filing, now, "filing.approve")
        return filing
    if not reason:
        raise rules.refuse(rules.R_DATES, reason="a reason is required / 须填写原因")
    before = snapshot(filing)
    if decision == "reject":
        filing.status, filing.reject_reason = Status.REJECTED.value, reason
        filing.decided_at, filing.decided_by = now, principal.subject
        clear_due_date(filing)
    elif decision == "request_materials":
        filing.materials_requested = reason
        clear_due_date(filing)
    else:
        raise rules.refuse(rules.R_STATE, status=filing.status, action=decision)
    filing.version += 1
    _audit(session, principal, "review", f"filing.{decision}", filing, before, now)
    return filing


def cancel(session: Session, principal: Principal, filing_id: str, reason: str, now: dt.datetime) -> Filing:
    filing = load(session, filing_id, lock=True)
    authorize_person_scope(principal, get_person(session, filing.psn_no))
    return end_filing(session, principal, filing, reason, now, channel="api")


def end_filing(
    session: Session, principal: Principal, filing: Filing, reason: str, now: dt.datetime, *, channel: str
) -> Filing:
    """Withdraw a pending filing, or cancel an approved one (long-term ones only after the lock period)."""
    before = snapshot(filing)
    if filing.status in PENDING:
        filing.status = Status.CANCELLED.value  # withdrawn before a decision
    else:
        policy = default_store().at(filing.insured_region, now.date())
        rules.check_change_allowed(policy, view(filing), now.date(), "cancel / 取消")
        filing.status, filing.void_from = Status.CANCELLED.value, now.date()
    filing.end_reason, filing.version = reason, filing.version + 1
    _audit(session, principal, channel, "filing.cancel", filing, before, now)
    return filing


def change(
    session: Session,
    principal: Principal,
    filing_id: str,
    target_region: str | None,
    institutions: list[str] | None,
    begndate: dt.date,
    reason: str,
    channel: Channel,
    now: dt.datetime,
) -> Filing:
    """Apply for a change (new area or institutions); the old filing stays in force until it is approved."""
    old = load(session, filing_id, lock=True)
    # The caller's right first: someone who may not see the filing learns nothing about its state.
    authorize_person_scope(principal, get_person(session, old.psn_no), institution_ok=channel is Channel.HOSPITAL)
    policy = default_store().at(old.insured_region, now.date())
    rules.check_change_allowed(policy, view(old), now.date(), "change / 变更")
    req = SubmitRequest(
        psn_no=old.psn_no,
        insutype=old.insutype,
        subtype=Subtype(old.subtype),
        target_region=target_region or old.target_region,
        begndate=begndate,
        basis=Basis.MATERIALS
        if old.basis == Basis.NONE.value and old.subtype in ("referral", "designated_chronic")
        else Basis(old.basis),
        channel=channel,
        opsp_dise_code=old.opsp_dise_code,
        institutions=institutions if institutions is not None else [i.fixmedins_code for i in old.institutions],
        reason=reason,
    )
    return submit(session, principal, req, now, replaces=old, replace_mode="change")


def renew(session: Session, principal: Principal, filing_id: str, channel: Channel, now: dt.datetime) -> Filing:
    """Renew a designated-institution filing before it ends, for the qualification's next period."""
    old = load(session, filing_id, lock=True)
    authorize_person_scope(principal, get_person(session, old.psn_no), institution_ok=channel is Channel.HOSPITAL)
    if (
        old.subtype != Subtype.DESIGNATED_CHRONIC.value
        or old.status != Status.APPROVED.value
        or (old.enddate is None or old.enddate < now.date())
    ):
        raise rules.refuse(rules.R_RENEW)
    req = SubmitRequest(
        psn_no=old.psn_no,
        insutype=old.insutype,
        subtype=Subtype.DESIGNATED_CHRONIC,
        target_region=old.target_region,
        begndate=old.enddate + dt.timedelta(days=1),
        basis=Basis.MATERIALS,
        channel=channel,
        opsp_dise_code=old.opsp_dise_code,
        institutions=[i.fixmedins_code for i in old.institutions],
        reason="renewal / 续期",
    )
    return submit(session, principal, req, now, replaces=old, replace_mode="renewal")


def expire(session: Session, principal: Principal, today: dt.date, now: dt.datetime) -> dict[str, int]:
    """Mark ended filings expired and apply the cancellation consequence of overdue undertakings."""
    counts = {"expired": 0, "cancelled": 0}
    stmt = select(Filing).where(Filing.status == Status.APPROVED.value).with_for_update()
    for f in session.scalars(stmt):
        before = snapshot(f)
        if f.enddate is not None and f.enddate < today:
            f.status = Status.EXPIRED.value
            counts["expired"] += 1
        elif (
            f.basis == Basis.COMMITMENT.value
            and f.proof_received_on is None
            and f.proof_deadline
            and (
                f.proof_deadline < today
                and default_store().at(f.insured_region, today).commitment.consequence == "cancel"
            )
        ):
            f.status, f.void_from = Status.CANCELLED.value, f.proof_deadline + dt.timedelta(days=1)
            f.end_reason = "undertaking proof not supplied in time / 承诺材料逾期未补交"
            counts["cancelled"] += 1
        else:
            continue
        f.version += 1
        _audit(session, principal, "job", f"filing.{f.status}", f, before, now)
    return counts


def recompute_provisional_due_dates(session: Session, principal: Principal, now: dt.datetime) -> dict[str, int]:
    """Recompute the open review deadlines that were counted provisionally (a year without a holiday notice),
    with the calendar as it is now: after `yidi calendar add-year` their year has its notice. Each filing whose
    due date or mark changes gets an audit row; running it again changes nothing more."""
    stmt = (
        select(Filing)
        .where(
            Filing.due_date_provisional.is_(True),
            Filing.status.in_(PENDING),
            Filing.due_date.is_not(None),
            Filing.due_from.is_not(None),
        )
        .options(selectinload(Filing.institutions))  # part of the audited snapshot
        .order_by(Filing.id)
        .with_for_update()
    )
    return recount_provisional(
        session.scalars(stmt),
        lambda f, start: default_store().at(f.insured_region, start).filing.review_working_days,  # as when counted
        snapshot,
        lambda f, before: _audit(session, principal, "job", "filing.due_date_recomputed", f, before, now),
    )


def review_queue(
    session: Session,
    principal: Principal,
    region: str | None,
    status: str | None,
    psn_no: str | None,
    limit: int,
    offset: int,
) -> list[Filing]:
    regions = principal.regions_asked(region)
    stmt = select(Filing).where(Filing.insured_region.in_(regions)).options(selectinload(Filing.institutions))
    if status:
        stmt = stmt.where(Filing.status == status)
    if psn_no:
        stmt = stmt.where(Filing.psn_no == psn_no)
    stmt = stmt.order_by(Filing.due_date.is_(None), Filing.due_date, Filing.submitted_at)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


# -- the decision settlement asks for -----------------------------------------------------------------

MED_TYPE_CARE = {
    "11": Care.OUTPATIENT,
    "12": Care.OUTPATIENT,
    "13": Care.OUTPATIENT,
    "19": Care.OUTPATIENT,
    "14": Care.CHRONIC,
    "21": Care.INPATIENT,
    "23": Care.INPATIENT,
    "24": Care.INPATIENT,
    "41": Care.PHARMACY,
    "51": Care.OUTPATIENT,
    "52": Care.INPATIENT,
}


def coverage_for(
    session: Session,
    psn_no: str,
    fixmedins_code: str,
    med_type: str,
    disease: str | None,
    admission_date: dt.date,
    insutype: str | None = None,
    person: Person | None = None,
) -> FilingDecision:
    """Is this visit covered by a filing (or deemed filed, or exempt)? Values at the admission date.

    `person`, when the caller has already read it in this session (with insurances and qualifications)."""
    person = person if person is not None and person.psn_no == psn_no else get_person(session, psn_no)
    if insutype:
        _insurance(person, insutype)  # refused before the institution is looked at, as it always was
    institution: Institution = get_institution(session, fixmedins_code)
    care = MED_TYPE_CARE.get(med_type)
    if care is None:
        raise rules.refuse(rules.R_DATES, reason=f"unknown med_type {med_type} / 未知医疗类别")
    facts = institution_facts(session, institution.fixmedins_code, admission_date)
    return coverage_at(session, psn_no, facts, care, disease, admission_date, insutype, person)


def coverage_at(
    session: Session,
    psn_no: str,
    institution: InstitutionFacts,
    care: Care,
    disease: str | None,
    admission_date: dt.date,
    insutype: str | None = None,
    person: Person | None = None,
    *,
    looking_back: bool = False,
) -> FilingDecision:
    """`coverage_for` for an institution given by its facts: one outside the network (a manual claim types it in:
    its pooling region, no code) or one whose facts the caller adjusted. Values at the admission date.

    At the hospital the insurance record must be in force (psn_insu_stas 1). A manual claim is `looking_back`:
    care inside a period that has ended since was insured care; the flag counts only for a record without an end
    date (stopped, not ended)."""
    person = person if person is not None and person.psn_no == psn_no else get_person(session, psn_no)
    insurance = _insurance(person, insutype) if insutype else person.insurances[0]
    in_period = insurance.begndate <= admission_date and (
        insurance.enddate is None or admission_date <= insurance.enddate
    )
    active = in_period and (insurance.psn_insu_stas == "1" or (looking_back and insurance.enddate is not None))
    facts = VisitFacts(
        insured_region=insurance.insuplc_admdvs,
        insurance_active=active,
        institution=institution,
        care=care,
        admission_date=admission_date,
        disease=disease,
        qualifications=[
            Qualification(q.opsp_dise_code, q.begndate, q.enddate)
            for q in person.qualifications
            if q.status == "active" and q.insutype == insurance.insutype
        ],
        filings=[view(f) for f in person_filings(session, psn_no) if f.insutype == insurance.insutype],
    )
    store = default_store()
    policy = store.at(insurance.insuplc_admdvs, admission_date)
    return decide(facts, policy, store.no_filing_zones(admission_date), divisions())


def qualifications_of(session: Session, psn_no: str) -> list[ChronicQualification]:
    return list(session.scalars(select(ChronicQualification).where(ChronicQualification.psn_no == psn_no)))
