"""The money of a decided review difference (复核补差): what the payment batches record of it (paid by the bank, or
returned by it after success, 退票), and where it goes (a change of payee before a batch holds it). Payments call
these; nothing else moves a review to paid. A review's own audit row (its snapshot, the account masked) records each
change.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core.errors import YidiError
from yidi.core.principal import Audience, Principal, Role
from yidi.reimbursement import review_rules as rules
from yidi.reimbursement.models import PaymentItem, SettlementReview
from yidi.reimbursement.payment_rules import ItemResult
from yidi.reimbursement.review_rules import Outcome, Payee, Status
from yidi.reimbursement.reviews import (
    SOURCE_KIND,
    audit_review,
    authorize_party,
    authorize_staff,
    load_review,
    snapshot,
    state_error,
)

PAYERS = frozenset({Role.CLEARING_OFFICER, Role.ADMINISTRATOR})  # record what the bank did (as payments.PAYERS)


def cash_due(review: SettlementReview) -> Decimal:
    """What a decided difference pays by bank: the difference less what was credited to the personal account."""
    if review.outcome != Outcome.DIFFERENCE.value or review.difference is None:
        return Decimal("0.00")
    return review.difference - (review.account_credit or Decimal("0.00"))


def _payment_path(principal: Principal, review: SettlementReview, item: PaymentItem, result: ItemResult) -> None:
    """Only what the bank did to an item of a batch paying this review moves its money states, and only financial
    staff of the region (or the platform's jobs) record it: not reviewers, not by hand."""
    if principal.audience is not Audience.SYSTEM:
        authorize_staff(principal, review.insured_region, PAYERS, "record a bank result / 登记银行结果")
    if (item.source_kind, item.source_id, item.result) != (SOURCE_KIND, review.id, result.value):
        raise YidiError(
            rules.RV_STATE,
            review_id=review.id,
            status=review.status,
            action=f"take a bank result of item {item.id} ({item.result}) / 登记非本复核的支付结果",
        )


def _payment_ref(item: PaymentItem) -> dict[str, Any]:
    return {"batch_id": item.batch_id, "item_id": item.id, "result": item.result, "reason": item.result_note}


def record_paid_by_bank(
    session: Session, principal: Principal, review: SettlementReview, item: PaymentItem, now: dt.datetime, channel: str
) -> None:
    """decided → paid: the bank paid the cash part of the difference (`item`, recorded paid by the payment batches);
    the bank's serial is the review's settled serial."""
    _payment_path(principal, review, item, ItemResult.PAID)
    if review.status != Status.DECIDED.value or review.outcome != Outcome.DIFFERENCE.value:
        raise state_error(review, "record the bank's payment / 登记银行支付")
    before = snapshot(review)
    review.status, review.settled_at, review.settled_serial = Status.PAID.value, now, item.bank_serial
    review.version += 1
    audit_review(
        session, principal, "review.payment_paid", review, before, now, channel=channel, payment=_payment_ref(item)
    )


def record_payment_returned(
    session: Session, principal: Principal, review: SettlementReview, item: PaymentItem, now: dt.datetime, channel: str
) -> None:
    """paid → decided: the bank returned the transfer (退票, `item` recorded returned); the next batch pays the
    difference again, to the same account unless the payee is changed first."""
    _payment_path(principal, review, item, ItemResult.RETURNED)
    if review.status != Status.PAID.value:
        raise state_error(review, "record a returned transfer / 登记退票")
    before = snapshot(review)
    review.status, review.settled_at, review.settled_serial = Status.DECIDED.value, None, None
    review.version += 1
    audit_review(
        session, principal, "review.payment_returned", review, before, now, channel=channel, payment=_payment_ref(item)
    )


def change_payee(
    session: Session, principal: Principal, review_id: str, payee: Payee | None, now: dt.datetime
) -> SettlementReview:
    """Send a decided difference not yet paid to another account (after a failed or returned transfer, say): the
    person themself or staff of their insured region. Refused while a batch holds the difference (its item is
    pending at the bank). The same payee again changes nothing."""
    action = "change payee / 变更收款账户"
    review = load_review(session, review_id, lock=True)  # a batch being made locks the review the same way
    authorize_party(principal, review.psn_no, review.insured_region, "复核 / settlement review", review_id)
    if payee is None:
        raise YidiError(rules.RV_INPUT, field="bank_account", problem="is required / 必填")
    given = (payee.payee_name, payee.bank_name, payee.bank_account)
    if review.status != Status.DECIDED.value or cash_due(review) <= 0:
        raise state_error(review, action)
    if given == (review.payee_name, review.bank_name, review.bank_account):
        return review
    pending = session.scalar(
        select(PaymentItem.batch_id).where(
            PaymentItem.source_kind == SOURCE_KIND,
            PaymentItem.source_id == review.id,
            PaymentItem.result == ItemResult.PENDING.value,
        )
    )
    if pending is not None:
        raise YidiError(rules.RV_PENDING, review_id=review.id, batch_id=pending)
    before = snapshot(review)
    review.payee_name, review.bank_name, review.bank_account = given
    review.version += 1
    session.flush()
    audit_review(session, principal, "review.payee_changed", review, before, now)
    return review
