"""The audit rows of paying persons: who acted (`Act`), and the audited state of a batch, an item and the claim or
review it pays. Accounts are masked in every row, and so is any run of eight or more digits in a bank's reason
(an account number the bank quoted back)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from yidi.core import audit
from yidi.core.principal import Principal
from yidi.reimbursement.models import Claim, PaymentBatch, PaymentItem, SettlementReview
from yidi.reimbursement.payment_rules import SourceKind, mask_account, mask_digit_runs
from yidi.reimbursement.review_payments import cash_due

Source = Claim | SettlementReview


def batch_snapshot(b: PaymentBatch) -> dict[str, object]:
    return {
        "status": b.status,
        "insured_region": b.insured_region,
        "item_count": b.item_count,
        "total": str(b.total),
        "request_id": b.request_id,
        "closed_at": b.closed_at.isoformat() if b.closed_at else None,
    }


def _note(text: str | None) -> str | None:
    return None if text is None else mask_digit_runs(text)


def item_snapshot(i: PaymentItem) -> dict[str, object]:
    return {
        "batch_id": i.batch_id,
        "source_kind": i.source_kind,
        "source_id": i.source_id,
        "amount": str(i.amount),
        "result": i.result,
        "bank_serial": i.bank_serial,
        "paid_on": str(i.paid_on) if i.paid_on else None,
        "result_note": _note(i.result_note),
        "payee_name": i.payee_name,
        "bank_name": i.bank_name,
        "bank_account": mask_account(i.bank_account),
    }


def source_amount(source: Source) -> Decimal | None:
    """What a batch pays of it: a claim's payable, a review's difference less what went back to the account."""
    if isinstance(source, Claim):
        return source.payable
    return cash_due(source) if source.difference is not None else None


def source_snapshot(source: Source, item: PaymentItem | None) -> dict[str, object]:
    """The audited state of a claim or review, with the payment item it is in (None: not in one yet)."""
    payment = (
        None
        if item is None
        else {"batch_id": item.batch_id, "item_id": item.id, "result": item.result, "reason": _note(item.result_note)}
    )
    amount = source_amount(source)
    at = source.paid_at if isinstance(source, Claim) else source.settled_at
    return {
        "status": source.status,
        "amount": str(amount) if amount is not None else None,
        "paid_at": at.isoformat() if at else None,
        "version": source.version,
        "payment_item": payment,
    }


def source_entity(kind: SourceKind, source_id: str) -> tuple[str, str]:
    return ("claim" if kind is SourceKind.CLAIM else "settlement_review", source_id)


@dataclass(frozen=True)
class Act:
    """Who changes what, when and through which channel: what every audit row of one use case shares."""

    session: Session
    principal: Principal
    channel: str
    now: dt.datetime

    @property
    def actor(self) -> str:
        return self.principal.subject or "system"

    def audit(
        self, action: str, entity: tuple[str, str], before: dict[str, object] | None, after: dict[str, object] | None
    ) -> None:
        audit.record(
            self.session,
            at=self.now,
            actor_type=self.principal.audience.value,
            actor_id=self.actor,
            channel=self.channel,
            action=action,
            entity_type=entity[0],
            entity_id=entity[1],
            before=before,
            after=after,
        )
