"""Endpoints of reviews of direct settlements (复核): the person's (ask, list, view, change the payee of a difference
not yet paid) and the staff's (ask at the counter, queue, preview, decide, refuse, record a recovery, change the
payee). Amounts are strings with two decimals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from yidi.core import clock
from yidi.core.principal import Audience, Role
from yidi.core.web import database
from yidi.reimbursement import review_payments, review_rules, reviews
from yidi.reimbursement.models import SettlementReview
from yidi.security.access import CurrentPrincipal, SecureRouter, allow

router = SecureRouter(prefix="/api/v1", tags=["reviews 复核"])
PERSON = allow(Audience.PERSON)
PERSON_OR_STAFF = allow(Audience.PERSON, Audience.STAFF)
STAFF = allow(Audience.STAFF)
REVIEWERS = allow(Audience.STAFF, roles=[Role.REVIEWER, Role.ADMINISTRATOR])
SETTLERS = allow(Audience.STAFF, roles=[Role.REVIEWER, Role.CLEARING_OFFICER, Role.ADMINISTRATOR])
SetlId = Annotated[str, Path(pattern=r"^S[0-9]{29}$")]
ReviewId = Annotated[str, Path(pattern=r"^R[0-9]{29}$")]


def _uow(request: Request):  # type: ignore[no-untyped-def]
    with database(request).unit_of_work() as session:
        yield session


Uow = Annotated[Session, Depends(_uow)]


class PayeeIn(BaseModel):
    # Checked by the service (review_rules.checked_payee), which names the field it refuses.
    payee_name: Annotated[str | None, Field(max_length=50)] = None
    bank_name: Annotated[str | None, Field(max_length=100)] = None
    bank_account: Annotated[str | None, Field(max_length=40)] = None

    def payee(self) -> review_rules.Payee | None:
        return review_rules.checked_payee(self.payee_name, self.bank_name, self.bank_account)


class RequestIn(PayeeIn):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    request_id: Annotated[str | None, Field(max_length=40)] = None


class CorrectionsIn(BaseModel):
    # An object checked field by field by the service (review_rules.parse_corrections): category, qualification,
    # settlement_level, line_classes {med_list_codg: {chrgitm_lv, selfpay_prop}}.
    corrections: dict[str, Any] = {}


class DecideIn(CorrectionsIn, PayeeIn):
    note: Annotated[str | None, Field(max_length=500)] = None


class PayeeChangeIn(BaseModel):
    # Checked by the service (review_rules.checked_payee, the payment batches' own rule), which names the field.
    payee_name: Annotated[str, Field(max_length=50)]
    bank_name: Annotated[str, Field(max_length=100)]
    bank_account: Annotated[str, Field(max_length=40)]

    def payee(self) -> review_rules.Payee | None:
        return review_rules.checked_payee(self.payee_name, self.bank_name, self.bank_account)


class RefuseIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class RecoveredIn(BaseModel):
    serial: Annotated[str, Field(min_length=1, max_length=60)]


class ReviewOut(BaseModel):
    id: str
    setl_id: str
    psn_no: str
    insured_region: str
    status: str
    reason: str
    submitted_at: dt.datetime
    submitted_by: str
    due_date: dt.date | None
    due_date_provisional: bool  # counted over a year without a holiday notice: may still move (暂定)
    overdue: bool
    outcome: str | None
    difference: Decimal | None  # > 0 paid to the person (轧差), < 0 recovered
    account_credit: Decimal | None  # of a difference: the part credited back to the personal account
    decision_note: str | None
    decided_at: dt.datetime | None
    corrections: dict[str, Any] | None
    increments: dict[str, str] | None
    payee_name: str | None
    bank_name: str | None
    bank_account: str | None
    settled_at: dt.datetime | None
    settled_serial: str | None


class DetailOut(ReviewOut):
    mdtrt_id: str
    fixmedins_code: str
    service_date: dt.date
    med_type: str
    category: str  # the filing category the settlement applied
    original: dict[str, Any]  # the settlement's split (amounts as text)
    recomputed: dict[str, Any] | None  # the decided split, with its lines beside the original classes


class PreviewOut(BaseModel):
    corrections: dict[str, Any]
    original: dict[str, Any]  # what the difference is taken against
    recomputed: dict[str, Any]
    difference: Decimal
    outcome: str
    increments: dict[str, str]
    account_credit: Decimal  # of a difference: credited back to the personal account at the decision
    cash: Decimal  # paid to the person by bank (> 0) or recovered from them (< 0)


def out(review: SettlementReview) -> ReviewOut:
    return ReviewOut(**_fields(review))


def _fields(review: SettlementReview) -> dict[str, Any]:
    return {
        "id": review.id,
        "setl_id": review.setl_id,
        "psn_no": review.psn_no,
        "insured_region": review.insured_region,
        "status": review.status,
        "reason": review.reason,
        "submitted_at": review.submitted_at,
        "submitted_by": review.submitted_by,
        "due_date": review.due_date,
        "due_date_provisional": bool(review.due_date_provisional),
        "overdue": reviews.is_overdue(review, clock.today()),
        "outcome": review.outcome,
        "difference": review.difference,
        "account_credit": review.account_credit,
        "decision_note": review.decision_note,
        "decided_at": review.decided_at,
        "corrections": review.corrections,
        "increments": review.increments,
        "payee_name": review.payee_name,
        "bank_name": review.bank_name,
        "bank_account": review.bank_account,
        "settled_at": review.settled_at,
        "settled_serial": review.settled_serial,
    }


def _detail(d: reviews.ReviewDetail) -> DetailOut:
    s = d.settlement
    return DetailOut(
        **_fields(d.review),
        mdtrt_id=s.mdtrt_id,
        fixmedins_code=s.fixmedins_code,
        service_date=s.service_date,
        med_type=s.med_type,
        category=s.category,
        original=d.original,
        recomputed=d.review.recomputed,
    )


# -- the insured person ---------------------------------------------------------------------------------


@router.post(
    "/settlements/{setl_id}/reviews",
    access=PERSON,
    response_model=ReviewOut,
    status_code=201,
    summary="Ask for a review of my settlement (复核)",
)
def request_mine(session: Uow, principal: CurrentPrincipal, setl_id: SetlId, body: RequestIn) -> ReviewOut:
    review = reviews.request_review(
        session, principal, setl_id, body.reason, body.request_id, body.payee(), clock.now()
    )
    return out(review)


@router.post(
    "/reviews/{review_id}/payee",
    access=PERSON,
    response_model=ReviewOut,
    summary="Send my review's difference not yet paid to another account",
)
def change_my_payee(session: Uow, principal: CurrentPrincipal, review_id: ReviewId, body: PayeeChangeIn) -> ReviewOut:
    return out(review_payments.change_payee(session, principal, review_id, body.payee(), clock.now()))


@router.get("/reviews", access=PERSON, response_model=list[ReviewOut], summary="My reviews")
def my_reviews(session: Uow, principal: CurrentPrincipal) -> list[ReviewOut]:
    return [out(r) for r in reviews.my_reviews(session, principal)]


@router.get("/reviews/{review_id}", access=PERSON_OR_STAFF, response_model=DetailOut, summary="One review")
def show_review(session: Uow, principal: CurrentPrincipal, review_id: ReviewId) -> DetailOut:
    return _detail(reviews.detail(session, principal, review_id, clock.today()))


# -- agency staff ---------------------------------------------------------------------------------------


@router.post(
    "/staff/settlements/{setl_id}/reviews",
    access=STAFF,
    response_model=ReviewOut,
    status_code=201,
    summary="Open a review of a settlement at the counter",
)
def request_at_counter(session: Uow, principal: CurrentPrincipal, setl_id: SetlId, body: RequestIn) -> ReviewOut:
    review = reviews.request_review(
        session, principal, setl_id, body.reason, body.request_id, body.payee(), clock.now()
    )
    return out(review)


@router.get("/staff/reviews", access=STAFF, response_model=list[ReviewOut], summary="Review queue, overdue first")
def staff_reviews(
    session: Uow,
    principal: CurrentPrincipal,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    status: Annotated[str | None, Query(max_length=14)] = "requested",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ReviewOut]:
    return [out(r) for r in reviews.review_queue(session, principal, region, status or None, limit, offset)]


@router.post(
    "/staff/reviews/{review_id}/preview",
    access=REVIEWERS,
    response_model=PreviewOut,
    summary="Recompute with corrections, nothing stored",
)
def preview_review(session: Uow, principal: CurrentPrincipal, review_id: ReviewId, body: CorrectionsIn) -> PreviewOut:
    r = reviews.preview(session, principal, review_id, body.corrections)
    return PreviewOut(
        corrections=r.corrections.as_json(),
        original=r.baseline,
        recomputed=r.recomputed,
        difference=r.difference,
        outcome=r.outcome.value,
        increments={k: str(v) for k, v in r.increments.items()},
        account_credit=r.shares.account_credit,
        cash=r.shares.cash,
    )


@router.post("/staff/reviews/{review_id}/decide", access=REVIEWERS, response_model=DetailOut)
def decide_review(session: Uow, principal: CurrentPrincipal, review_id: ReviewId, body: DecideIn) -> DetailOut:
    reviews.decide(session, principal, review_id, body.corrections, body.note, clock.now(), body.payee())
    return _detail(reviews.detail(session, principal, review_id, clock.today()))


@router.post("/staff/reviews/{review_id}/refuse", access=REVIEWERS, response_model=ReviewOut)
def refuse_review(session: Uow, principal: CurrentPrincipal, review_id: ReviewId, body: RefuseIn) -> ReviewOut:
    return out(reviews.refuse(session, principal, review_id, body.reason, clock.now()))


@router.post(
    "/staff/reviews/{review_id}/payee",
    access=STAFF,
    response_model=ReviewOut,
    summary="Send a difference not yet paid to another account",
)
def change_payee(session: Uow, principal: CurrentPrincipal, review_id: ReviewId, body: PayeeChangeIn) -> ReviewOut:
    return out(review_payments.change_payee(session, principal, review_id, body.payee(), clock.now()))


@router.post("/staff/reviews/{review_id}/recovered", access=SETTLERS, response_model=ReviewOut)
def recovered(session: Uow, principal: CurrentPrincipal, review_id: ReviewId, body: RecoveredIn) -> ReviewOut:
    return out(reviews.record_recovery(session, principal, review_id, body.serial, clock.now()))
