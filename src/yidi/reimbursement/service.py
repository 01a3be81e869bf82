"""Manual reimbursement (手工报销) use cases: reading a claim, its workflow and what other modules call.

A claim is drafted by the person (online) or by agency staff for them (counter) in `reimbursement.drafts`; here
it is submitted, taken for review, approved with the engine of direct settlement, returned for materials, refused
or withdrawn, and marked paid (or back to approved when a transfer fails) by the payments module.

Each use case runs in the caller's unit of work, checks who acts (the `Principal`), locks the claim row it changes
and writes an audit row with the state before and after. A refusal leaves nothing written (the unit of work rolls
back). Approval locks the person's insurance row first, as a direct settlement does, so that a claim and a direct
settlement of the same person never both use the deductible or the cap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from yidi.core import audit
from yidi.core.calendar import default_calendar, recount_provisional
from yidi.core.clock import SHANGHAI
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.principal import FORBIDDEN, Audience, Principal, Role
from yidi.parameters.policy import ClaimCare, MaterialKind
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.people.service import get_person
from yidi.reference.models import Institution
from yidi.reimbursement import computation, inputs, rules, splits
from yidi.reimbursement.models import Claim, ClaimVisit
from yidi.reimbursement.payment_rules import mask_account
from yidi.settlement import invoices
from yidi.settlement.adjustments import record_adjustment
from yidi.settlement.engine import CareType
from yidi.settlement.models import Accumulator, Settlement
from yidi.settlement.service import MONEY_FIELDS, apply_increments
from yidi.settlement.visits import person_insurance

DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, PAID = "draft", "submitted", "under_review", "approved", "paid"
RETURNED, REFUSED, WITHDRAWN = "returned", "refused", "withdrawn"
PENDING = (SUBMITTED, UNDER_REVIEW)
ONLINE, COUNTER = "online", "counter"
REVIEW_ROLES = frozenset({Role.REVIEWER, Role.ADMINISTRATOR})
PAYMENT_ROLES = frozenset({Role.CLEARING_OFFICER, Role.ADMINISTRATOR})


# -- reading ------------------------------------------------------------------------------------------------


def load(session: Session, claim_id: str, *, lock: bool = False) -> Claim:
    """The claim with its visits (invoices, lines) and materials; with `lock`, its row locked for the change."""
    stmt = (
        select(Claim)
        .where(Claim.id == claim_id)
        .options(
            selectinload(Claim.visits).selectinload(ClaimVisit.invoices),
            selectinload(Claim.visits).selectinload(ClaimVisit.lines),
            selectinload(Claim.materials),
        )
        .execution_options(populate_existing=True)
    )
    claim = session.scalar(stmt.with_for_update(of=Claim) if lock else stmt)
    if claim is None:
        raise YidiError(NOT_FOUND, what="报销申请 / claim", key=claim_id)
    return claim


def authorize(session: Session, principal: Principal, claim: Claim) -> Person:
    """The person themself, or staff of the claim's insured region: a region the person was once insured in is
    not the claim's (staff of any other region are told the claim does not exist, as for an unknown one)."""
    if principal.audience is Audience.STAFF:
        if claim.insured_region not in principal.regions:
            raise YidiError(NOT_FOUND, what="报销申请 / claim", key=claim.id)
    elif principal.audience in (Audience.SYSTEM, Audience.PERSON):
        principal.require_person(claim.psn_no)
    else:
        raise YidiError(FORBIDDEN, reason="claims are made by the person or their agency / 报销由本人或经办机构办理")
    return get_person(session, claim.psn_no)


def get_claim(session: Session, principal: Principal, claim_id: str) -> Claim:
    claim = load(session, claim_id)
    authorize(session, principal, claim)
    return claim


def my_claims(session: Session, principal: Principal) -> list[Claim]:
    if principal.audience is not Audience.PERSON:
        raise YidiError(FORBIDDEN, reason="a person's own claims / 仅限本人")
    stmt = select(Claim).where(Claim.psn_no == principal.subject).options(selectinload(Claim.visits))
    return list(session.scalars(stmt.order_by(Claim.created_at.desc())))


def review_queue(
    session: Session,
    principal: Principal,
    region: str | None,
    statuses: Sequence[str],
    psn_no: str | None,
    limit: int,
    offset: int,
) -> list[Claim]:
    """Claims of the staff member's regions, the most overdue first (then the oldest submission)."""
    regions = principal.regions_asked(region)
    stmt = select(Claim).where(Claim.insured_region.in_(regions)).options(selectinload(Claim.visits))
    if statuses:
        stmt = stmt.where(Claim.status.in_(list(statuses)))
    if psn_no:
        stmt = stmt.where(Claim.psn_no == psn_no)
    stmt = stmt.order_by(Claim.due_date.is_(None), Claim.due_date, Claim.submitted_at, Claim.id)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def may_see_account(principal: Principal, claim: Claim) -> bool:
    """The person and their insured region's agency see the bank account in full; anyone else the mask."""
    if principal.audience is Audience.SYSTEM:
        return True
    if principal.audience is Audience.PERSON:
        return principal.subject == claim.psn_no
    return principal.is_staff and claim.insured_region in principal.regions


def account_shown(principal: Principal, claim: Claim) -> str:
    return claim.bank_account if may_see_account(principal, claim) else mask_account(claim.bank_account)


def _money(value: object) -> str | None:
    return None if value is None else str(value)


def _lines_digest(visit: ClaimVisit) -> str:
    text = "\n".join(
        f"{ln.feedetl_sn}|{ln.med_list_codg}|{ln.fee_ocur_time.isoformat()}|{ln.cnt}|{ln.pric}|{ln.det_item_fee_sumamt}"
        for ln in visit.lines
    )
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot(c: Claim) -> dict[str, Any]:
    """The audited state of a claim: the lines by count, total and digest (every change of a line changes it),
    the bank account masked (the audit trail is read by more people than the person and their agency)."""
    return {
        "status": c.status,
        "channel": c.channel,
        "due_date": str(c.due_date) if c.due_date else None,
        "due_date_provisional": bool(c.due_date_provisional),
        "reviewer": c.reviewer,
        "reason": c.reason,
        "materials_requested": c.materials_requested,
        "payee_name": c.payee_name,
        "bank_name": c.bank_name,
        "bank_account": mask_account(c.bank_account),
        **{k: _money(getattr(c, k)) for k in ("medfee_sumamt", "fund_pay_sumamt", "paid_directly", "payable")},
        "visits": [
            {
                "seq": v.seq,
                "fixmedins_code": v.fixmedins_code,
                "institution": f"{v.institution_region} {v.institution_name} {v.institution_level}",
                "care": v.care,
                "med_type": v.med_type,
                "dates": f"{v.begndate}/{v.enddate}",
                "dise_codg": v.dise_codg,
                "injury": v.injury,
                "invoices": [[i.invono, str(i.amount)] for i in v.invoices],
                "lines": len(v.lines),
                "lines_total": str(sum((ln.det_item_fee_sumamt for ln in v.lines), rules.ZERO)),
                "lines_digest": _lines_digest(v),
                "excluded": [[ln.feedetl_sn, ln.exclusion_reason] for ln in v.lines if ln.excluded],
                "category": v.category,
                "fund_pay_sumamt": (v.split or {}).get("fund_pay_sumamt"),
                "direct_setl_ids": v.direct_setl_ids,
            }
            for v in c.visits
        ],
        "materials": [[m.kind, m.sha256] for m in c.materials],
    }


def record(
    session: Session,
    principal: Principal,
    channel: str,
    action: str,
    claim: Claim,
    before: dict[str, Any] | None,
    now: dt.datetime,
) -> None:
    session.flush()
    session.expire(claim, ["visits", "materials"])  # the snapshot reads what was flushed, in order
    audit.by(
        session,
        principal,
        now,
        channel=channel,
        action=action,
        entity_type="claim",
        entity_id=claim.id,
        before=before,
        after=snapshot(claim),
    )


def channel_of(principal: Principal) -> str:
    return "counter" if principal.is_staff else "api"


def require_state(claim: Claim, allowed: Sequence[str], zh: str, en: str) -> None:
    if claim.status not in allowed:
        raise YidiError(rules.R_STATE, claim_id=claim.id, status=claim.status, action_zh=zh, action_en=en)


def _name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def check_typed_institution(session: Session, seq: int, name: str, region: str) -> None:
    """An institution typed in (by name, region and level) must not be one of the register: a networked
    hospital typed by name would escape the invoice register's key and the subtraction of what it settled
    directly. The name is compared in one normal form (NFKC, white space removed) with the register's
    institutions of that pooling region; a match is refused, naming the code to give instead."""
    key = _name_key(name)
    stmt = select(Institution.fixmedins_code, Institution.fixmedins_name).where(Institution.pooling_region == region)
    for code, registered in session.execute(stmt.order_by(Institution.fixmedins_code)):
        if _name_key(registered) == key:
            raise inputs.refuse(
                f"visits[{seq}].institution_name",
                f"是定点医药机构{code}的名称：请填写定点医药机构编号（fixmedins_code）{code}，不要手工填写机构",
                f"names the registered institution {code}: give its fixmedins_code {code} instead of typing it in",
            )


def insurance_of(person: Person, insutype: str) -> Insurance:
    for ins in person.insurances:
        if ins.insutype == insutype:
            return ins
    raise inputs.refuse("insutype", f"没有险种{insutype}的参保记录", f"no insurance record of type {insutype}")


def _reviewer(principal: Principal, claim: Claim) -> None:
    principal.require_region(claim.insured_region)
    if principal.is_staff and not principal.roles & REVIEW_ROLES:
        raise YidiError(FORBIDDEN, reason="only reviewers decide claims / 仅审核人员可审核报销")


def _set_due_date(claim: Claim, start: dt.date, working_days: int) -> None:
    due = default_calendar().count_working_days(start, working_days)
    claim.due_date, claim.due_date_provisional, claim.due_from = due.date, due.provisional, start


def _clear_due_date(claim: Claim) -> None:
    claim.due_date, claim.due_date_provisional, claim.due_from = None, False, None


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(SHANGHAI).date()


# -- the workflow -------------------------------------------------------------------------------------------


def submit(session: Session, principal: Principal, claim_id: str, now: dt.datetime) -> Claim:
    """Submit a draft, or resubmit a claim returned for materials. Every visit is checked (insurance period,
    deadline, excluded care, injury undertaking, 门慢 qualification, invoices adding up to the lines), the
    required materials and those asked for must be there, and the invoices are taken in the register (an invoice
    another claim or a direct settlement used is refused, naming it). The decision is due `review_working_days`
    working days later. Submitting again what is already submitted changes nothing (a retry)."""
    claim = load(session, claim_id, lock=True)
    person = authorize(session, principal, claim)
    if claim.status in PENDING:
        return claim
    require_state(claim, (DRAFT, RETURNED), "提交", "be submitted")
    before = snapshot(claim)
    insurance = insurance_of(person, claim.insutype)
    if not claim.visits:
        raise inputs.refuse("visits", "须至少一次就诊", "needs at least one visit")
    today = _today(now)
    first_submitted = _today(claim.submitted_at) if claim.submitted_at else today  # a resubmission is not late
    limits = default_store().input_limits(today)
    kinds = {m.kind for m in claim.materials}
    stays = visits = False
    for v in claim.visits:
        day = computation.visit_service_date(v, claim.insured_region, claim.insutype)
        policy = default_store().at(claim.insured_region, day)
        mr = policy.manual_reimbursement
        rules.check_insurance_period(
            v.seq, v.begndate, v.enddate, insurance.begndate, insurance.enddate, insurance.psn_insu_stas
        )
        if v.fixmedins_code is None:  # the register may have taken the institution in since the draft
            check_typed_institution(session, v.seq, v.institution_name, v.institution_region)
        rules.check_deadline(mr, v.seq, v.fixmedins_code or v.institution_name, v.enddate, first_submitted)
        rules.check_care(mr, v.seq, ClaimCare(v.care), v.injury, kinds)
        computation.check_chronic(v, policy, person, claim.insutype, day)
        rules.check_invoice_sum(
            v.seq, [i.amount for i in v.invoices], [ln.det_item_fee_sumamt for ln in v.lines], limits
        )
        stay = computation.computed_care(v, policy, claim.insutype) is CareType.INPATIENT
        stays, visits = stays or stay, visits or not stay
    missing = rules.missing_materials(
        default_store().at(claim.insured_region, today).manual_reimbursement, stays, visits, kinds
    )
    missing += [MaterialKind(k) for k in claim.materials_requested or () if k not in kinds and k not in missing]
    rules.check_materials(missing)
    held: dict[tuple[str, str], int] = {}
    for v in claim.visits:
        key = invoices.institution_key(v.fixmedins_code, v.institution_region, v.institution_name)
        for n, i in enumerate(v.invoices, 1):
            number = invoices.invoice_number(i.invono)
            if (key, number) in held:  # one invoice in two visits would be paid twice
                raise inputs.refuse(
                    f"visits[{v.seq}].invoices[{n}].invono",
                    f"与第{held[key, number]}次就诊的发票重复",
                    f"repeats an invoice of visit {held[key, number]}",
                )
            held[key, number] = v.seq
            invoices.take(session, key, i.invono, invoices.CLAIM, claim.id, now)
    claim.status, claim.reason, claim.materials_requested = SUBMITTED, None, None
    claim.submitted_at = claim.submitted_at or now
    days = default_store().at(claim.insured_region, today).manual_reimbursement.review_working_days
    _set_due_date(claim, today, days)
    claim.version += 1
    record(session, principal, channel_of(principal), "claim.submit", claim, before, now)
    return claim


def withdraw(session: Session, principal: Principal, claim_id: str, now: dt.datetime) -> Claim:
    """The person (or staff for them at the counter) withdraws a claim before a decision; its invoices are free
    again. Withdrawing a withdrawn claim changes nothing."""
    claim = load(session, claim_id, lock=True)
    authorize(session, principal, claim)
    if claim.status == WITHDRAWN:
        return claim
    require_state(claim, (DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED), "撤回", "be withdrawn")
    before = snapshot(claim)
    invoices.release(session, invoices.CLAIM, claim.id)
    claim.status = WITHDRAWN
    _clear_due_date(claim)
    claim.version += 1
    record(session, principal, channel_of(principal), "claim.withdraw", claim, before, now)
    return claim


def take(session: Session, principal: Principal, claim_id: str, now: dt.datetime) -> Claim:
    """A reviewer takes a submitted claim (or takes over one under review from another reviewer)."""
    claim = load(session, claim_id, lock=True)
    _reviewer(principal, claim)
    if claim.status == UNDER_REVIEW and claim.reviewer == principal.subject:
        return claim
    require_state(claim, PENDING, "受理审核", "be taken for review")
    before = snapshot(claim)
    claim.status, claim.reviewer = UNDER_REVIEW, principal.subject
    claim.version += 1
    record(session, principal, "review", "claim.take", claim, before, now)
    return claim


def _exclude(claim: Claim, exclusions: Sequence[Mapping[str, Any]]) -> None:
    """Mark the lines the reviewer leaves out, each with the reason the person will read."""
    seen: set[tuple[int, str]] = set()
    for n, item in enumerate(exclusions, 1):
        where = f"exclusions[{n}]."
        seq = item.get("seq")
        sn = inputs.text(item, "feedetl_sn", where, max_len=30)
        reason = inputs.text(item, "reason", where, max_len=300)
        visit = next((v for v in claim.visits if v.seq == seq), None)
        line = next((ln for ln in visit.lines if ln.feedetl_sn == sn), None) if visit else None
        if line is None:
            raise inputs.refuse(f"{where}feedetl_sn", f"第{seq}次就诊没有明细{sn}", f"visit {seq} has no line {sn}")
        if (line.claim_visit_id, line.feedetl_sn) in seen:
            raise inputs.refuse(f"{where}feedetl_sn", "重复剔除", "excluded twice")
        seen.add((line.claim_visit_id, line.feedetl_sn))
        line.excluded, line.exclusion_reason = True, reason


def _settled_reason(setl_id: str) -> str:
    return f"已由直接结算{setl_id}支付 / paid by direct settlement {setl_id}"


def _same_exclusions(claim: Claim, exclusions: Sequence[Mapping[str, Any]]) -> bool:
    """Whether an approval asked again leaves out what the approval did: each line asked with the reason kept,
    and no other line left out by the reviewer (a settled line left out by the computation aside)."""
    asked = {(item.get("seq"), item.get("feedetl_sn")): item.get("reason") for item in exclusions}
    for v in claim.visits:
        settled = {_settled_reason(s) for s in v.direct_setl_ids or ()}
        for ln in v.lines:
            key = (v.seq, ln.feedetl_sn)
            if key in asked:
                if not ln.excluded or (ln.exclusion_reason or "").strip() != str(asked.pop(key) or "").strip():
                    return False
            elif ln.excluded and ln.exclusion_reason not in settled:
                return False
    return not asked


def approve(
    session: Session, principal: Principal, claim_id: str, exclusions: Sequence[Mapping[str, Any]], now: dt.datetime
) -> Claim:
    """Approve, leaving out the lines the reviewer excludes. Under the lock of the person's insurance row (the
    lock of direct settlement; the settlements of the same care locked before it, as a cancellation locks them),
    a visit of the same care as direct settlements in force is computed as the whole care (their lines and the
    claim's) from the year's accumulators less what they count for; the accumulators change by the claim's
    increments less that, and each such settlement is recorded as now counting for nothing (an adjustment of
    source "claim"), so that it is neither cancelled at the hospital nor reviewed on its own afterwards. Each
    visit pays the funds' share less what was paid directly for it, never below zero. Asking again with the same
    exclusions answers the claim as approved (a retry); other exclusions are refused."""
    claim = load(session, claim_id, lock=True)
    _reviewer(principal, claim)
    if claim.status in (APPROVED, PAID) and _same_exclusions(claim, exclusions):
        return claim
    require_state(claim, (UNDER_REVIEW,), "审核通过", "be approved")
    before = snapshot(claim)
    _exclude(claim, exclusions)
    computation.lock_direct_settlements(session, claim)
    person, insurance = person_insurance(session, claim.psn_no, claim.insutype, lock=True)
    rows: dict[int, dict[str, Accumulator]] = {}
    done = computation.compute(session, claim, person, insurance, rows)
    for year, changes in computation.approval_changes(done).items():
        apply_increments(session, rows[year], claim.psn_no, claim.insutype, year, changes, +1)
    for d in (d for r in done.visits for d in r.direct):
        settlement = session.get(Settlement, d.setl_id)
        assert settlement is not None  # read and locked above
        counted = {k: -v for k, v in d.increments.items()}
        # It now bears nothing of its stay and counts nothing: the claim holds the whole care. It stands: the
        # hospital no longer cancels it (the claim paid on top of it).
        record_adjustment(
            session,
            settlement,
            counted,
            computation.SOURCE_KIND,
            claim.id,
            now,
            act_pay_dedc=rules.ZERO,
            counts_stay=False,
            stands=True,
        )
    _store(claim, done)
    claim.status, claim.decided_at, claim.decided_by = APPROVED, now, principal.subject
    _clear_due_date(claim)
    claim.version += 1
    record(session, principal, "review", "claim.approve", claim, before, now)
    return claim


def _store(claim: Claim, done: computation.Computation) -> None:
    for r in done.visits:
        v = r.visit
        v.category, v.service_date, v.year = r.category.value, r.service_date, r.service_date.year
        v.split = splits.split_json(r.result, MONEY_FIELDS)
        v.increments = {k: str(x) for k, x in (r.result.increments if r.result else {}).items()}
        v.paid_directly, v.direct_setl_ids = r.paid_directly, [d.setl_id for d in r.direct]
        for line, setl_id in r.settled:
            line.excluded, line.exclusion_reason = True, _settled_reason(setl_id)
        results = computation.line_results(r)
        for ln in v.lines:
            ln.result = None if ln.excluded else results.get(ln.feedetl_sn)
    t = done.totals
    claim.medfee_sumamt, claim.fund_pay_sumamt = t.medfee_sumamt, t.fund_pay_sumamt
    claim.paid_directly, claim.payable = t.paid_directly, t.payable


def _requested_kinds(materials: Sequence[str]) -> list[str] | None:
    kinds = []
    for n, k in enumerate(materials, 1):
        try:
            kinds.append(MaterialKind(k).value)
        except ValueError:
            raise inputs.refuse(f"materials_requested[{n}]", "不是材料类别", "is not a material kind") from None
    return sorted(set(kinds)) or None


def return_claim(
    session: Session, principal: Principal, claim_id: str, reason: str, materials: Sequence[str], now: dt.datetime
) -> Claim:
    """Return the claim to the person for materials, saying why and which kinds; the review clock stops. Asking
    again with the same reason and kinds answers the claim as returned (a retry); another reason is refused."""
    claim = load(session, claim_id, lock=True)
    _reviewer(principal, claim)
    text = inputs.read_reason(reason, max_len=500)
    kinds = _requested_kinds(materials)
    if claim.status == RETURNED and (claim.reason, claim.materials_requested) == (text, kinds):
        return claim
    require_state(claim, PENDING, "退回补充材料", "be returned")
    before = snapshot(claim)
    claim.status, claim.reason, claim.materials_requested = RETURNED, text, kinds
    _clear_due_date(claim)
    claim.version += 1
    record(session, principal, "review", "claim.return", claim, before, now)
    return claim


def refuse(session: Session, principal: Principal, claim_id: str, reason: str, now: dt.datetime) -> Claim:
    """Refuse the claim with the reason the person reads. Its invoices stay taken: they were claimed. Asking
    again with the same reason answers the claim as refused (a retry); another reason is refused."""
    claim = load(session, claim_id, lock=True)
    _reviewer(principal, claim)
    text = inputs.read_reason(reason, max_len=500)
    if claim.status == REFUSED and claim.reason == text:
        return claim
    require_state(claim, PENDING, "不予报销", "be refused")
    before = snapshot(claim)
    claim.status, claim.reason, claim.decided_at, claim.decided_by = REFUSED, text, now, principal.subject
    _clear_due_date(claim)
    claim.version += 1
    record(session, principal, "review", "claim.refuse", claim, before, now)
    return claim


def preview(
    session: Session, principal: Principal, claim_id: str, exclusions: Sequence[Mapping[str, Any]] = ()
) -> computation.Computation:
    """What approval would compute now, with the lines a reviewer means to exclude; nothing locked or kept."""
    claim = load(session, claim_id)
    person = authorize(session, principal, claim)
    if exclusions:
        _reviewer(principal, claim)
    savepoint = session.begin_nested()
    try:
        _exclude(claim, exclusions)
        return computation.compute(session, claim, person, insurance_of(person, claim.insutype))
    finally:
        savepoint.rollback()


# -- what the payments module calls ------------------------------------------------------------------------


def _payments(principal: Principal, claim: Claim) -> None:
    principal.require_region(claim.insured_region)
    if principal.is_staff and not principal.roles & PAYMENT_ROLES:
        raise YidiError(FORBIDDEN, reason="only clearing officers record payments / 仅清算人员可登记支付")


def mark_paid(session: Session, principal: Principal, claim_id: str, now: dt.datetime) -> Claim:
    """An approved claim was paid to its payee (the bank confirmed the transfer). Again: nothing changes."""
    claim = load(session, claim_id, lock=True)
    _payments(principal, claim)
    if claim.status == PAID:
        return claim
    require_state(claim, (APPROVED,), "登记已支付", "be marked paid")
    before = snapshot(claim)
    claim.status, claim.paid_at = PAID, now
    claim.version += 1
    record(session, principal, "payment", "claim.paid", claim, before, now)
    return claim


def back_to_approved(session: Session, principal: Principal, claim_id: str, reason: str, now: dt.datetime) -> Claim:
    """A transfer recorded as paid failed after all (returned by the bank): the claim is approved and unpaid
    again, so that a later batch pays it. The reason is audited."""
    claim = load(session, claim_id, lock=True)
    _payments(principal, claim)
    if claim.status == APPROVED:
        return claim
    require_state(claim, (PAID,), "退回为待支付", "go back to approved")
    text = inputs.read_reason(reason, max_len=500)
    before = snapshot(claim)
    claim.status, claim.paid_at = APPROVED, None
    claim.version += 1
    record(session, principal, "payment", "claim.payment_failed", claim, before | {"note": text}, now)
    return claim


def recompute_provisional_due_dates(session: Session, principal: Principal, now: dt.datetime) -> dict[str, int]:
    """As filings' (`yidi calendar add-year`): recount the open claims' decision dates that were counted over a
    year without a holiday notice, from the day they were counted from; each change gets an audit row."""
    stmt = (
        select(Claim)
        .where(Claim.due_date_provisional.is_(True), Claim.status.in_(PENDING), Claim.due_from.is_not(None))
        .order_by(Claim.id)
        .with_for_update()
    )
    return recount_provisional(
        session.scalars(stmt),
        lambda c, start: default_store().at(c.insured_region, start).manual_reimbursement.review_working_days,
        snapshot,
        lambda c, before: record(session, principal, "job", "claim.due_date_recomputed", c, before, now),
    )
