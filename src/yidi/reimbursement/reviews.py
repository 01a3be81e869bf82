"""Reviews of direct settlements (复核) and the difference (轧差): use cases.

The person (their own settlement) or staff of the insured region ask for a review; a reviewer of that region
recomputes the settlement with corrected facts and decides (`review_recompute`: the settlement's case as it stood
when it was made, with the corrections). The difference is the new fund share less the one paid: above zero it is
the person's (the cash they paid is refunded by the payment batches, the rest is credited back to the personal
account that paid it), below zero it is recovered in cash. The change to the accumulators is applied under the
person's lock and recorded against the settlement (a settlement-floor adjustment, with the deductible and stay count
it leaves the settlement with), whose row is never modified; a settlement with a standing adjustment is not
cancelled at the institution.

A later review of the same settlement starts where the last decided one ended: its corrections carry over, and
its difference is taken against that review's recomputation, so nothing is paid or recovered twice. It may be
asked for only once every earlier decided review of the settlement is paid or recovered.

A decided difference is paid by the payment batches only (`review_payments`); until a batch holds it, the person or
staff may send it to another account (`review_payments.change_payee`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core import audit
from yidi.core.calendar import default_calendar
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.core.principal import FORBIDDEN, Audience, Principal, Role
from yidi.parameters.store import default_store
from yidi.people.models import Insurance
from yidi.reimbursement import review_rules as rules
from yidi.reimbursement.models import SettlementReview
from yidi.reimbursement.payment_rules import bank_details_fault
from yidi.reimbursement.review_recompute import (
    Recomputation,
    applied_corrections,
    original_split,
    recompute,
    require_reviewable,
)
from yidi.reimbursement.review_rules import Outcome, Payee, Status
from yidi.settlement.adjustments import record_adjustment
from yidi.settlement.models import Settlement
from yidi.settlement.service import apply_increments

SOURCE_KIND = "review"  # of settlement adjustments and of payment items
REVIEWERS = frozenset({Role.REVIEWER, Role.ADMINISTRATOR})
SETTLERS = frozenset({Role.REVIEWER, Role.CLEARING_OFFICER, Role.ADMINISTRATOR})  # record a recovery


@dataclass(frozen=True)
class ReviewDetail:
    review: SettlementReview
    settlement: Settlement
    original: dict[str, Any]  # the settlement's split as it was settled
    overdue: bool


# -- reading -----------------------------------------------------------------------------------------------


def load_review(session: Session, review_id: str, *, lock: bool = False) -> SettlementReview:
    stmt = select(SettlementReview).where(SettlementReview.id == review_id)
    review = session.scalar(stmt.with_for_update().execution_options(populate_existing=True) if lock else stmt)
    if review is None:
        raise YidiError(NOT_FOUND, what="复核 / settlement review", key=review_id)
    return review


def _settlement(session: Session, setl_id: str, *, lock: bool = False) -> Settlement:
    stmt = select(Settlement).where(Settlement.setl_id == setl_id)
    settlement = session.scalar(stmt.with_for_update().execution_options(populate_existing=True) if lock else stmt)
    if settlement is None:
        raise YidiError(NOT_FOUND, what="结算 / settlement", key=setl_id)
    return settlement


def authorize_party(principal: Principal, psn_no: str, region: str, what: str, key: str) -> None:
    """The person themself, or staff of the insured region. Another person and staff elsewhere are told it does not
    exist (as for an unknown id: they learn nothing of another person's records)."""
    if principal.audience is Audience.SYSTEM:
        return
    if principal.audience is Audience.PERSON:
        if principal.subject != psn_no:
            raise YidiError(NOT_FOUND, what=what, key=key)
    elif principal.audience is Audience.STAFF:
        if region not in principal.regions:
            raise YidiError(NOT_FOUND, what=what, key=key)
    else:
        raise YidiError(
            FORBIDDEN, reason="reviews are asked by the person or their agency / 复核由参保人或经办机构申请"
        )


def authorize_staff(principal: Principal, region: str, roles: frozenset[Role], action: str) -> None:
    principal.require_region(region)
    if principal.audience is Audience.STAFF and not principal.roles & roles:
        raise YidiError(FORBIDDEN, reason=f"{action}: not your role / 非本岗位职责")


def _payee(review: SettlementReview) -> dict[str, str] | None:
    if not review.bank_account:
        return None
    return Payee(review.payee_name or "", review.bank_name or "", review.bank_account).masked()


def snapshot(review: SettlementReview) -> dict[str, Any]:
    """The audited state of a review (the payee's account masked)."""
    return {
        "status": review.status,
        "setl_id": review.setl_id,
        "reason": review.reason,
        "due_date": str(review.due_date) if review.due_date else None,
        "due_date_provisional": bool(review.due_date_provisional),
        "corrections": review.corrections,
        "outcome": review.outcome,
        "difference": str(review.difference) if review.difference is not None else None,
        "account_credit": str(review.account_credit) if review.account_credit is not None else None,
        "increments": review.increments,
        "decision_note": review.decision_note,
        "payee": _payee(review),
        "settled_serial": review.settled_serial,
    }


def audit_review(
    session: Session,
    principal: Principal,
    action: str,
    review: SettlementReview,
    before: dict[str, Any] | None,
    now: dt.datetime,
    *,
    channel: str = "api",
    payment: dict[str, Any] | None = None,
) -> None:
    after = snapshot(review) if payment is None else {**snapshot(review), "payment_item": payment}
    audit.by(
        session,
        principal,
        now,
        channel=channel,
        action=action,
        entity_type="settlement_review",
        entity_id=review.id,
        before=before,
        after=after,
    )


# -- asking ------------------------------------------------------------------------------------------------


def request_review(
    session: Session,
    principal: Principal,
    setl_id: str,
    reason: str,
    request_id: str | None,
    payee: Payee | None,
    now: dt.datetime,
) -> SettlementReview:
    """Ask for a review of a settlement in force. A retry with the same request_id returns the same review."""
    seen = _settlement(session, setl_id)  # who asks is checked before any row is locked
    authorize_party(principal, seen.psn_no, seen.insuplc_admdvs, "结算 / settlement", setl_id)
    reason_text = rules.checked_text(reason, "reason", 500)
    request_key = rules.checked_text(request_id, "request_id", 40, required=False)
    submitted_by = principal.subject or "anonymous"
    if request_key:
        earlier = session.scalar(
            select(SettlementReview).where(
                SettlementReview.submitted_by == submitted_by, SettlementReview.request_id == request_key
            )
        )
        if earlier is not None:
            if earlier.setl_id != setl_id:
                raise YidiError(
                    rules.RV_INPUT, field="request_id", problem=f"was used for {earlier.id} / 已用于另一复核申请"
                )
            return earlier
    settlement = _settlement(session, setl_id, lock=True)  # serialises the one-open-review rule per settlement
    require_reviewable(session, settlement)
    open_review = session.scalar(
        select(SettlementReview.id).where(
            SettlementReview.setl_id == setl_id, SettlementReview.status == Status.REQUESTED.value
        )
    )
    if open_review is not None:
        raise YidiError(rules.RV_OPEN, setl_id=setl_id, other=open_review)
    _refuse_while_unsettled(session, setl_id)
    assert reason_text is not None
    days = default_store().at(settlement.insuplc_admdvs, now.date()).manual_reimbursement.review_working_days
    due = default_calendar().count_working_days(now.date(), days)
    review = SettlementReview(
        id=new_platform_id(PlatformIdKind.CLAIM, settlement.insuplc_admdvs, now),
        setl_id=setl_id,
        psn_no=settlement.psn_no,
        insured_region=settlement.insuplc_admdvs,
        status=Status.REQUESTED.value,
        request_id=request_key,
        reason=reason_text,
        submitted_at=now,
        submitted_by=submitted_by,
        due_date=due.date,
        due_date_provisional=due.provisional,
        due_from=now.date(),
        payee_name=payee.payee_name if payee else None,
        bank_name=payee.bank_name if payee else None,
        bank_account=payee.bank_account if payee else None,
        version=1,
    )
    session.add(review)
    session.flush()
    audit_review(session, principal, "review.request", review, None, now)
    return review


def _refuse_while_unsettled(session: Session, setl_id: str) -> None:
    """A decided review whose money has not moved yet (a difference not paid, a recovery not recovered) is settled
    before the settlement is reviewed again: else a difference and a recovery that undoes it would both be carried
    out (paid by one batch, recovered from the person by another hand)."""
    unsettled = session.scalar(
        select(SettlementReview.id)
        .where(SettlementReview.setl_id == setl_id, SettlementReview.status == Status.DECIDED.value)
        .order_by(SettlementReview.decided_at, SettlementReview.id)
        .limit(1)
    )
    if unsettled is not None:
        raise YidiError(rules.RV_UNSETTLED, setl_id=setl_id, other=unsettled)


def recompute_provisional_due_dates(session: Session, principal: Principal, now: dt.datetime) -> dict[str, int]:
    """As filings' (`yidi calendar add-year`): recount the open reviews' due dates that were counted over a year
    without a holiday notice, from the day they were counted from; each change gets an audit row."""
    calendar = default_calendar()
    counts = {"recomputed": 0, "unchanged": 0, "still_provisional": 0}
    stmt = (
        select(SettlementReview)
        .where(
            SettlementReview.due_date_provisional.is_(True),
            SettlementReview.status == Status.REQUESTED.value,
            SettlementReview.due_from.is_not(None),
        )
        .order_by(SettlementReview.id)
        .with_for_update()
    )
    for review in session.scalars(stmt):
        assert review.due_from is not None
        before = snapshot(review)
        days = default_store().at(review.insured_region, review.due_from).manual_reimbursement.review_working_days
        due = calendar.count_working_days(review.due_from, days)
        review.due_date, review.due_date_provisional = due.date, due.provisional
        if snapshot(review) == before:
            counts["unchanged"] += 1
        else:
            review.version += 1
            counts["recomputed"] += 1
            audit_review(session, principal, "review.due_date_recomputed", review, before, now)
        counts["still_provisional"] += bool(review.due_date_provisional)
    return counts


# -- deciding ----------------------------------------------------------------------------------------------


def _open_for_decision(
    session: Session, principal: Principal, review_id: str, action: str, *, lock: bool
) -> SettlementReview:
    review = load_review(session, review_id, lock=lock)
    authorize_staff(principal, review.insured_region, REVIEWERS, action)
    if review.status != Status.REQUESTED.value:
        raise YidiError(rules.RV_STATE, review_id=review.id, status=review.status, action=action)
    return review


def state_error(review: SettlementReview, action: str) -> YidiError:
    return YidiError(rules.RV_STATE, review_id=review.id, status=review.status, action=action)


def preview(session: Session, principal: Principal, review_id: str, corrections: Any) -> Recomputation:
    """The recomputation with these corrections, nothing stored (the reviewer tries before deciding)."""
    review = _open_for_decision(session, principal, review_id, "preview / 试算", lock=False)
    return recompute(session, _settlement(session, review.setl_id), corrections, lock=False).recomputation


def _same_decision(
    session: Session,
    settlement: Settlement,
    review: SettlementReview,
    corrections: Any,
    note: str | None,
    payee: Payee | None,
) -> bool:
    """A retried decision: the review was decided with these very corrections, note and payee."""
    if review.status not in rules.STANDING or review.decision_note != note:
        return False
    if payee is not None and (payee.payee_name, payee.bank_name, payee.bank_account) != (
        review.payee_name,
        review.bank_name,
        review.bank_account,
    ):
        return False
    return applied_corrections(session, settlement, corrections, review).as_json() == (review.corrections or {})


def decide(
    session: Session,
    principal: Principal,
    review_id: str,
    corrections: Any,
    note: str | None,
    now: dt.datetime,
    payee: Payee | None = None,
) -> SettlementReview:
    """Recompute under the person's lock and decide: a difference, a recovery, or no change; the accumulators and
    the personal account take the change in the same transaction. The same decision again answers the review as
    decided; a different one is refused."""
    action = "decide / 核定"
    review = load_review(session, review_id, lock=True)
    authorize_staff(principal, review.insured_region, REVIEWERS, action)
    note_text = rules.checked_text(note, "note", 500, required=False)
    settlement = _settlement(session, review.setl_id, lock=True)  # settlement, then person: as a cancellation locks
    if review.status != Status.REQUESTED.value:
        if _same_decision(session, settlement, review, corrections, note_text, payee):
            return review
        raise state_error(review, action)
    _refuse_while_unsettled(session, settlement.setl_id)
    recomputed = recompute(session, settlement, corrections, lock=True)
    r = recomputed.recomputation
    before = snapshot(review)
    if payee is not None:
        review.payee_name, review.bank_name, review.bank_account = payee.payee_name, payee.bank_name, payee.bank_account
    if r.outcome is Outcome.DIFFERENCE and r.shares.cash > 0:
        if not review.bank_account:
            raise YidiError(
                rules.RV_INPUT,
                field="bank_account",
                problem="the cash the person paid is refunded to a bank account: give the payee / 须填写收款账户",
            )
        fault = bank_details_fault(review.payee_name, review.bank_name, review.bank_account)
        if fault is not None:  # what a batch would refuse is refused now, naming the field
            raise YidiError(rules.RV_INPUT, field=fault.field, problem=fault.problem)
    if r.increments:
        apply_increments(
            session, recomputed.rows, settlement.psn_no, settlement.insutype, settlement.year, r.increments, +1
        )
    stands = bool(r.increments) or r.outcome is not Outcome.NO_CHANGE
    dedc, counts = r.result.act_pay_dedc, r.counts_stay
    record_adjustment(
        session,
        settlement,
        r.increments,
        SOURCE_KIND,
        review.id,
        now,
        act_pay_dedc=dedc,
        counts_stay=counts,
        stands=stands,
    )
    if r.shares.account_credit:
        _credit_account(session, principal, recomputed.insurance, r.shares.account_credit, review.id, now)
    review.corrections = r.corrections.as_json()
    review.recomputed = r.recomputed
    review.increments = {k: str(v) for k, v in r.increments.items()}
    review.difference = r.difference
    review.outcome = r.outcome.value
    review.account_credit = r.shares.account_credit if r.outcome is Outcome.DIFFERENCE else None
    if r.outcome is Outcome.NO_CHANGE:
        review.status = Status.CLOSED.value
    elif r.outcome is Outcome.DIFFERENCE and r.shares.cash == 0:  # all of it went back to the account
        review.status, review.settled_at = Status.PAID.value, now
    else:
        review.status = Status.DECIDED.value
    review.decided_at, review.decided_by, review.decision_note = now, principal.subject or "system", note_text
    review.version += 1
    session.flush()
    audit_review(session, principal, f"review.decide.{r.outcome.value}", review, before, now)
    return review


def _credit_account(
    session: Session, principal: Principal, insurance: Insurance, credit: Decimal, review_id: str, now: dt.datetime
) -> None:
    """Credit back to the personal account what it paid of a difference (the insurance row was read under the
    person's lock by the recomputation, as a settlement debits it)."""
    was = insurance.balc
    insurance.balc = was + credit
    audit.record(
        session,
        at=now,
        actor_type=principal.audience.value,
        actor_id=principal.subject or "system",
        channel="api",
        action="insurance.account_credit",
        entity_type="insurance",
        entity_id=f"{insurance.psn_no}/{insurance.insutype}",
        before={"balc": str(was)},
        after={"balc": str(insurance.balc), "credit": str(credit), "review_id": review_id},
    )


def refuse(session: Session, principal: Principal, review_id: str, reason: str, now: dt.datetime) -> SettlementReview:
    """Refuse the review (nothing recomputed); the reason is shown to the person. The same refusal again answers
    the refused review."""
    action = "refuse / 不予复核"
    review = load_review(session, review_id, lock=True)
    authorize_staff(principal, review.insured_region, REVIEWERS, action)
    text = rules.checked_text(reason, "reason", 500)
    if review.status == Status.REFUSED.value and review.decision_note == text:
        return review
    if review.status != Status.REQUESTED.value:
        raise state_error(review, action)
    before = snapshot(review)
    review.status, review.decision_note = Status.REFUSED.value, text
    review.decided_at, review.decided_by = now, principal.subject or "system"
    review.version += 1
    session.flush()
    audit_review(session, principal, "review.refuse", review, before, now)
    return review


def record_recovery(
    session: Session, principal: Principal, review_id: str, serial: str, now: dt.datetime
) -> SettlementReview:
    """The overpayment came back (the recovery's receipt or bank serial). The same serial again answers the
    recovered review."""
    action = "record recovery / 登记追回"
    review = load_review(session, review_id, lock=True)
    authorize_staff(principal, review.insured_region, SETTLERS, action)
    checked = rules.checked_serial(serial)
    if review.status == Status.RECOVERED.value and review.settled_serial == checked:
        return review
    if review.status != Status.DECIDED.value or review.outcome != Outcome.RECOVERY.value:
        raise YidiError(rules.RV_STATE, review_id=review.id, status=f"{review.status}/{review.outcome}", action=action)
    before = snapshot(review)
    review.status, review.settled_at, review.settled_serial = Status.RECOVERED.value, now, checked
    review.version += 1
    session.flush()
    audit_review(session, principal, "review.recovered", review, before, now)
    return review


# -- lists and views ---------------------------------------------------------------------------------------


def payable(session: Session, principal: Principal, region: str) -> list[SettlementReview]:
    """Decided differences of a region not yet paid by bank, oldest decision first."""
    principal.require_region(region)
    stmt = (
        select(SettlementReview)
        .where(
            SettlementReview.insured_region == region,
            SettlementReview.status == Status.DECIDED.value,
            SettlementReview.outcome == Outcome.DIFFERENCE.value,
        )
        .order_by(SettlementReview.decided_at, SettlementReview.id)
    )
    return list(session.scalars(stmt))


def my_reviews(session: Session, principal: Principal) -> list[SettlementReview]:
    if principal.audience is not Audience.PERSON:
        raise YidiError(FORBIDDEN, reason="a person's own reviews / 本人的复核")
    stmt = (
        select(SettlementReview)
        .where(SettlementReview.psn_no == principal.subject)
        .order_by(SettlementReview.submitted_at.desc(), SettlementReview.id)
    )
    return list(session.scalars(stmt))


def review_queue(
    session: Session,
    principal: Principal,
    region: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[SettlementReview]:
    """The staff's reviews of their regions, the earliest due (overdue) first."""
    regions = principal.regions_asked(region)
    stmt = select(SettlementReview).where(SettlementReview.insured_region.in_(regions))
    if status:
        stmt = stmt.where(SettlementReview.status == status)
    stmt = stmt.order_by(
        SettlementReview.due_date.is_(None),
        SettlementReview.due_date,
        SettlementReview.submitted_at,
        SettlementReview.id,
    )
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def detail(session: Session, principal: Principal, review_id: str, today: dt.date) -> ReviewDetail:
    """One review for the person or their agency's staff, with the settlement's split beside it."""
    review = load_review(session, review_id)
    authorize_party(principal, review.psn_no, review.insured_region, "复核 / settlement review", review_id)
    settlement = _settlement(session, review.setl_id)
    return ReviewDetail(review, settlement, original_split(settlement), is_overdue(review, today))


def is_overdue(review: SettlementReview, today: dt.date) -> bool:
    return review.status == Status.REQUESTED.value and review.due_date is not None and review.due_date < today
