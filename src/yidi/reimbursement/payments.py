"""Paying persons (支付): payment batches of approved claims and review differences, their bank transfer files,
the results the bank sends back, and what a person sees of their payment.

States. A claim stays `approved` while an item of a batch is pending for it: "in a pending item" is what keeps it
out of another batch (a partial unique index holds that in the database as well). A paid item makes the claim
`paid` (a review `paid`, through `review_payments`); a failed item leaves the claim `approved`, the failure and the
bank's reason kept on the item for the person to see, so the next batch takes the claim again. A paid transfer the
bank later returns (退票) is recorded on its item as `returned`, with the bank's reason: the claim goes back to
`approved` (the review to `decided`) and the next batch takes it again; the batch stays closed (every item has a
result). A claim approved with nothing payable (the funds' share was all paid by direct settlement) is closed by the
next batch: an item of 0.00, paid at once, with no line in the transfer file. A review pays by bank only the cash
part of its difference (the rest went back to the personal account at the decision). Every change writes an audit
row (actor, before, after); bank accounts, and digit runs in the bank's reasons, are masked in audit rows and logs.
The transfer files and the staff's lists of batches are `payment_files`.

Only financial staff pay (clearing officers and administrators of the batch's region); reviewers do not.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from yidi.core.clock import SHANGHAI
from yidi.core.errors import INVALID_FIELD, NOT_FOUND, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.core.principal import FORBIDDEN, Audience, Principal, Role
from yidi.reimbursement import review_payments
from yidi.reimbursement.bank_files import parse_results_csv
from yidi.reimbursement.models import Claim, PaymentBatch, PaymentItem, SettlementReview
from yidi.reimbursement.payment_audit import (
    Act,
    Source,
    batch_snapshot,
    item_snapshot,
    source_amount,
    source_entity,
    source_snapshot,
)
from yidi.reimbursement.payment_rules import (
    MAX_ITEMS,
    MAX_RESULT_ROWS,
    NOTHING_TO_TRANSFER,
    P_EMPTY,
    P_REQUEST,
    BatchStatus,
    Decision,
    ItemFacts,
    ItemResult,
    ResultRow,
    ResultsRefused,
    SourceKind,
    bank_details_problem,
    decide_results,
    mask_account,
    mask_digit_runs,
    normalise_account,
)

log = logging.getLogger("yidi.reimbursement.payments")

PAYERS = frozenset({Role.CLEARING_OFFICER, Role.ADMINISTRATOR})
CLAIM_PAYABLE, CLAIM_PAID = "approved", "paid"
REVIEW_PAYABLE, REVIEW_PAID, REVIEW_DIFFERENCE = "decided", "paid", "difference"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,40}", re.ASCII)


@dataclass(frozen=True)
class LeftOut:
    """A claim or review due for payment that the batch could not take, and why (shown to staff)."""

    source_kind: SourceKind
    source_id: str
    reason: str


@dataclass(frozen=True)
class CreatedBatch:
    batch: PaymentBatch
    replayed: bool  # the same request again: the batch made the first time
    left_out: tuple[LeftOut, ...]


@dataclass(frozen=True)
class RowOutcome:
    row: int
    item_id: int
    source_kind: SourceKind
    source_id: str
    result: ItemResult
    outcome: Literal["recorded", "unchanged"]


@dataclass(frozen=True)
class ResultsReport:
    batch_id: str
    batch_status: BatchStatus
    recorded: int
    unchanged: int
    rows: tuple[RowOutcome, ...]


@dataclass(frozen=True)
class PaymentView:
    """One payment of a claim or review as the person, the claims API and the console show it."""

    item_id: int
    batch_id: str
    source_kind: SourceKind
    source_id: str
    amount: Decimal
    result: ItemResult
    bank_serial: str | None
    paid_on: dt.date | None
    reason: str | None  # why it failed (or why nothing was transferred)
    recorded_at: dt.datetime | None
    batch_created_at: dt.datetime
    payee_name: str
    bank_name: str
    bank_account: str  # in full for the person and their agency staff, masked for anyone else


# -- who may pay --------------------------------------------------------------------------------------------


def require_payer(principal: Principal, region: str) -> None:
    """Clearing officers and administrators of the region (and the platform's own jobs)."""
    if principal.audience is Audience.SYSTEM:
        return
    if not principal.is_staff:
        raise YidiError(FORBIDDEN, reason="payments are made by agency staff / 支付由经办机构办理")
    if not principal.roles & PAYERS:
        raise YidiError(FORBIDDEN, reason="only clearing officers pay, reviewers do not / 仅清算（财务）人员可办理支付")
    principal.require_region(region)


def may_see_account(principal: Principal, psn_no: str | None, region: str) -> bool:
    """The person themself and staff of their insured region see the account in full (as the ID number)."""
    if psn_no is None:
        return principal.audience is Audience.SYSTEM or (principal.is_staff and region in principal.regions)
    return principal.may_see_full_certno(psn_no, {region})


# -- making a batch -----------------------------------------------------------------------------------------


def _replay(session: Session, actor: str, request_id: str, region: str) -> PaymentBatch | None:
    earlier = session.scalar(
        select(PaymentBatch).where(PaymentBatch.created_by == actor, PaymentBatch.request_id == request_id)
    )
    if earlier is not None and earlier.insured_region != region:
        raise YidiError(P_REQUEST, request_id=request_id, region=earlier.insured_region, batch_id=earlier.id)
    return earlier


def _pending_sources(session: Session, region: str) -> set[tuple[str, str]]:
    stmt = (
        select(PaymentItem.source_kind, PaymentItem.source_id)
        .join(PaymentBatch, PaymentBatch.id == PaymentItem.batch_id)
        .where(PaymentBatch.insured_region == region, PaymentItem.result == ItemResult.PENDING.value)
    )
    return {(kind, source_id) for kind, source_id in session.execute(stmt)}


def _due(session: Session, region: str) -> tuple[list[Claim], list[SettlementReview]]:
    """Every claim and review of the region that may be due, locked in id order (two batch creations lock in
    the same order, so the second waits for the first instead of deadlocking)."""
    claims = session.scalars(
        select(Claim)
        .where(Claim.insured_region == region, Claim.status == CLAIM_PAYABLE, Claim.payable.is_not(None))
        .order_by(Claim.id)
        .with_for_update()
    ).all()
    reviews = session.scalars(
        select(SettlementReview)
        .where(
            SettlementReview.insured_region == region,
            SettlementReview.status == REVIEW_PAYABLE,
            SettlementReview.outcome == REVIEW_DIFFERENCE,
            SettlementReview.difference > Decimal("0.00"),
        )
        .order_by(SettlementReview.id)
        .with_for_update()
    ).all()
    return list(claims), list(reviews)


def _pick(
    claims: Sequence[Claim], reviews: Sequence[SettlementReview], pending: set[tuple[str, str]]
) -> tuple[list[tuple[SourceKind, Source, Decimal]], list[LeftOut]]:
    picks: list[tuple[SourceKind, Source, Decimal]] = []
    left_out: list[LeftOut] = []
    sources: list[tuple[SourceKind, Source, Decimal | None]] = [
        *((SourceKind.CLAIM, c, source_amount(c)) for c in claims),
        *((SourceKind.REVIEW, r, source_amount(r)) for r in reviews),
    ]
    for kind, source, amount in sources:
        if (kind.value, source.id) in pending or amount is None:
            continue
        if amount < 0 or (kind is SourceKind.REVIEW and amount == 0):
            left_out.append(LeftOut(kind, source.id, f"no cash to transfer ({amount}) / 无须转账的金额"))
            continue
        problem = (
            None if amount == 0 else bank_details_problem(source.payee_name, source.bank_name, source.bank_account)
        )
        if problem is not None:
            left_out.append(LeftOut(kind, source.id, problem))
        elif len(picks) < MAX_ITEMS:  # the rest waits for the next batch
            picks.append((kind, source, amount))
    return picks, left_out


def create_batch(
    session: Session, principal: Principal, region: str, now: dt.datetime, request_id: str, *, channel: str = "api"
) -> CreatedBatch:
    """A batch of everything due in the region: approved claims with their payable, review differences in the
    person's favour (the cash part), none that is already in a pending item. The same request id of the same staff
    member gives the same batch; nothing to pay is refused."""
    require_payer(principal, region)
    if not REQUEST_ID_RE.fullmatch(request_id):
        raise YidiError(INVALID_FIELD, field="request_id", problem="1–40 letters, digits or ._:- / 1至40位字母数字")
    actor = principal.subject or "system"
    earlier = _replay(session, actor, request_id, region)
    if earlier is not None:
        return CreatedBatch(earlier, True, ())
    claims, reviews = _due(session, region)
    # Now that the rows are ours, read again in statements of their own: under READ COMMITTED they see what a
    # batch created meanwhile committed (its items, or this very request made by a retry that came first).
    earlier = _replay(session, actor, request_id, region)
    if earlier is not None:
        return CreatedBatch(earlier, True, ())
    picks, left_out = _pick(claims, reviews, _pending_sources(session, region))
    if not picks:
        reason = "no approved claim or review difference waiting / 没有待支付的已审批单据或复核差额"
        if left_out:
            first = left_out[0]
            reason += f"; {len(left_out)} left out, e.g. {first.source_id}: {first.reason}"
        raise YidiError(P_EMPTY, region=region, reason=reason)
    batch = PaymentBatch(
        id=new_platform_id(PlatformIdKind.PAYMENT_BATCH, region, now),
        insured_region=region,
        created_at=now,
        created_by=actor,
        request_id=request_id,
        status=BatchStatus.EXPORTED.value,
        item_count=len(picks),
        total=sum((amount for _, _, amount in picks), Decimal("0.00")),
    )
    session.add(batch)
    items = []
    for kind, source, amount in picks:
        item = PaymentItem(
            source_kind=kind.value,
            source_id=source.id,
            payee_name=source.payee_name or "",
            bank_name=source.bank_name or "",
            bank_account=normalise_account(source.bank_account or ""),
            amount=amount,
            result=ItemResult.PENDING.value,
        )
        batch.items.append(item)
        items.append((kind, source, item))
    session.flush()
    act = Act(session, principal, channel, now)
    act.audit("payment_batch.create", ("payment_batch", batch.id), None, batch_snapshot(batch))
    today = now.astimezone(SHANGHAI).date()
    for kind, source, item in items:
        before = source_snapshot(source, None)
        act.audit("payment_item.create", ("payment_item", str(item.id)), None, item_snapshot(item))
        if item.amount == 0:
            _decide(act, kind, source, item, Decision(0, item.id, ItemResult.PAID, None, today, None, False), before)
        else:
            entity = source_entity(kind, source.id)
            act.audit(f"{kind.value}.payment_pending", entity, before, source_snapshot(source, item))
    _close_if_done(act, batch)
    log.info(
        "payment batch created",
        extra={"batch_id": batch.id, "region": region, "items": batch.item_count, "total": str(batch.total)},
    )
    return CreatedBatch(batch, False, tuple(left_out))


# -- results ------------------------------------------------------------------------------------------------


def _decide(
    act: Act,
    kind: SourceKind,
    source: Source | None,
    item: PaymentItem,
    decision: Decision,
    source_before: dict[str, object] | None = None,
) -> None:
    """Record one item's result and what it means for the claim or review it pays."""
    item_before = item_snapshot(item)
    source_before = source_before or (source_snapshot(source, item) if source is not None else None)
    item.result, item.result_at, item.recorded_by = decision.result.value, act.now, act.actor
    reason = None if decision.reason is None else mask_digit_runs(decision.reason)
    if decision.result is ItemResult.PAID:
        item.bank_serial, item.paid_on = decision.bank_serial, decision.paid_on
        item.result_note = None if item.amount else NOTHING_TO_TRANSFER
    elif decision.result is ItemResult.RETURNED:
        item.result_note = reason  # the serial and value date of the transfer that came back stay on the item
    else:
        item.bank_serial, item.result_note = decision.bank_serial, reason
    act.audit(f"payment_item.{item.result}", ("payment_item", str(item.id)), item_before, item_snapshot(item))
    if source is None:
        return
    if isinstance(source, SettlementReview) and decision.result is not ItemResult.FAILED:
        # The review's own use cases move it and write its audit row.
        if decision.result is ItemResult.PAID:
            review_payments.record_paid_by_bank(act.session, act.principal, source, item, act.now, act.channel)
        else:
            review_payments.record_payment_returned(act.session, act.principal, source, item, act.now, act.channel)
        return
    if isinstance(source, Claim) and decision.result is ItemResult.PAID:
        claim_paid(source, act.now)
    elif isinstance(source, Claim) and decision.result is ItemResult.RETURNED:
        claim_payment_returned(source)
    # A failed transfer leaves the claim approved (the review decided): the next batch takes it again.
    entity = source_entity(kind, source.id)
    act.audit(f"{kind.value}.payment_{item.result}", entity, source_before, source_snapshot(source, item))


# -- the claim's money states: set by a batch's results only (the claims service reads them, never sets them) -----


def claim_paid(claim: Claim, now: dt.datetime) -> None:
    """approved → paid: the bank paid the claim's payable (or a batch closed a claim with nothing to transfer)."""
    claim.status, claim.paid_at = CLAIM_PAID, now
    claim.version += 1


def claim_payment_returned(claim: Claim) -> None:
    """paid → approved: the bank returned the transfer (退票); the next batch takes the claim again."""
    claim.status, claim.paid_at = CLAIM_PAYABLE, None
    claim.version += 1


def _close_if_done(act: Act, batch: PaymentBatch) -> None:
    if batch.status == BatchStatus.CLOSED.value or any(i.result == ItemResult.PENDING.value for i in batch.items):
        return
    before = batch_snapshot(batch)
    batch.status, batch.closed_at = BatchStatus.CLOSED.value, act.now
    act.audit("payment_batch.close", ("payment_batch", batch.id), before, batch_snapshot(batch))


def load_batch(session: Session, batch_id: str, *, lock: bool = False) -> PaymentBatch:
    stmt = select(PaymentBatch).where(PaymentBatch.id == batch_id).options(selectinload(PaymentBatch.items))
    batch = session.scalar(stmt.with_for_update() if lock else stmt)
    if batch is None:
        raise YidiError(NOT_FOUND, what="支付批次 / payment batch", key=batch_id)
    return batch


def _locked_sources(session: Session, items: Sequence[PaymentItem]) -> dict[tuple[str, str], Source]:
    claim_ids = sorted(i.source_id for i in items if i.source_kind == SourceKind.CLAIM.value)
    review_ids = sorted(i.source_id for i in items if i.source_kind == SourceKind.REVIEW.value)
    found: dict[tuple[str, str], Source] = {}
    if claim_ids:
        stmt = select(Claim).where(Claim.id.in_(claim_ids)).order_by(Claim.id).with_for_update()
        found |= {(SourceKind.CLAIM.value, c.id): c for c in session.scalars(stmt)}
    if review_ids:
        stmt_r = select(SettlementReview).where(SettlementReview.id.in_(review_ids)).order_by(SettlementReview.id)
        found |= {(SourceKind.REVIEW.value, r.id): r for r in session.scalars(stmt_r.with_for_update())}
    return found


def _facts(item: PaymentItem, source: Source | None) -> ItemFacts:
    claim = item.source_kind == SourceKind.CLAIM.value
    ready, paid = (CLAIM_PAYABLE, CLAIM_PAID) if claim else (REVIEW_PAYABLE, REVIEW_PAID)
    status = source.status if source is not None else "missing"
    return ItemFacts(
        item_id=item.id,
        source_kind=SourceKind(item.source_kind),
        source_id=item.source_id,
        amount=item.amount,
        result=ItemResult(item.result),
        bank_serial=item.bank_serial,
        paid_on=item.paid_on,
        source_status=status,
        source_ready=status == ready,
        source_paid=status == paid,
    )


def _record(act: Act, batch: PaymentBatch, rows: Sequence[ResultRow]) -> ResultsReport:
    if not rows:
        raise YidiError(INVALID_FIELD, field="results", problem="is empty / 没有结果")
    if len(rows) > MAX_RESULT_ROWS:
        raise YidiError(INVALID_FIELD, field="results", problem=f"more than {MAX_RESULT_ROWS} rows / 超过行数上限")
    sources = _locked_sources(act.session, batch.items)
    items = {i.id: i for i in batch.items}
    facts = [_facts(i, sources.get((i.source_kind, i.source_id))) for i in batch.items]
    opened_on = batch.created_at.astimezone(SHANGHAI).date()
    decisions, problems = decide_results(rows, batch.id, facts, opened_on, act.now.astimezone(SHANGHAI).date())
    if problems:
        raise ResultsRefused(problems)  # nothing has been changed: every row is checked before any is applied
    outcomes = []
    for d in decisions:
        item = items[d.item_id]
        kind = SourceKind(item.source_kind)
        if not d.unchanged:
            _decide(act, kind, sources.get((kind.value, item.source_id)), item, d)
        outcome: Literal["recorded", "unchanged"] = "unchanged" if d.unchanged else "recorded"
        outcomes.append(RowOutcome(d.row, d.item_id, kind, item.source_id, d.result, outcome))
    _close_if_done(act, batch)
    recorded = sum(o.outcome == "recorded" for o in outcomes)
    return ResultsReport(batch.id, BatchStatus(batch.status), recorded, len(outcomes) - recorded, tuple(outcomes))


def record_results(
    session: Session,
    principal: Principal,
    batch_id: str,
    rows: Sequence[ResultRow],
    now: dt.datetime,
    *,
    channel: str = "api",
) -> ResultsReport:
    """Record what the bank answered for items of a batch: all rows or none (`ResultsRefused` lists every bad
    row). Paid makes the claim paid, failed leaves it approved for the next batch with the reason kept, returned
    (退票, of a paid item) puts it back to approved for the next batch."""
    batch = load_batch(session, batch_id, lock=True)  # one batch's results are recorded one submission at a time
    require_payer(principal, batch.insured_region)
    return _record(Act(session, principal, channel, now), batch, rows)


def import_results_file(
    session: Session, principal: Principal, batch_id: str, content: bytes, now: dt.datetime, *, channel: str = "upload"
) -> ResultsReport:
    """A results CSV (see `payment_rules.parse_results_csv`), recorded as `record_results` does."""
    batch = load_batch(session, batch_id, lock=True)
    require_payer(principal, batch.insured_region)  # before reading a byte of the file
    return _record(Act(session, principal, channel, now), batch, parse_results_csv(content))


# -- what the person and the claims API see ---------------------------------------------------------------


def view_item(item: PaymentItem, batch: PaymentBatch, principal: Principal, psn_no: str | None) -> PaymentView:
    full = may_see_account(principal, psn_no, batch.insured_region)
    return PaymentView(
        item_id=item.id,
        batch_id=batch.id,
        source_kind=SourceKind(item.source_kind),
        source_id=item.source_id,
        amount=item.amount,
        result=ItemResult(item.result),
        bank_serial=item.bank_serial,
        paid_on=item.paid_on,
        reason=item.result_note,
        recorded_at=item.result_at,
        batch_created_at=batch.created_at,
        payee_name=item.payee_name,
        bank_name=item.bank_name,
        bank_account=item.bank_account if full else mask_account(item.bank_account),
    )


def payments_of(session: Session, principal: Principal, source_kind: str, source_id: str) -> list[PaymentView]:
    """Every payment of a claim or review, oldest first (a failure with its reason, then the retry): for the
    person themself and staff of their insured region; staff elsewhere are told it does not exist."""
    try:
        kind = SourceKind(source_kind)
    except ValueError:
        raise YidiError(
            INVALID_FIELD, field="source_kind", problem="must be claim or review / 应为claim或review"
        ) from None
    source: Source | None = (
        session.get(Claim, source_id) if kind is SourceKind.CLAIM else session.get(SettlementReview, source_id)
    )
    what = "报销单 / claim" if kind is SourceKind.CLAIM else "复核 / review"
    if source is None:
        raise YidiError(NOT_FOUND, what=what, key=source_id)
    if principal.is_staff:
        if source.insured_region not in principal.regions:
            raise YidiError(NOT_FOUND, what=what, key=source_id)
    elif kind is SourceKind.REVIEW and principal.audience is Audience.PERSON and principal.subject != source.psn_no:
        raise YidiError(NOT_FOUND, what=what, key=source_id)  # as reviews answer another person: nothing to learn
    elif principal.audience is Audience.PERSON or principal.audience is Audience.SYSTEM:
        principal.require_person(source.psn_no)
    else:
        raise YidiError(FORBIDDEN, reason="payments are seen by the person and their agency / 仅本人及经办机构可查看")
    stmt = (
        select(PaymentItem)
        .where(PaymentItem.source_kind == kind.value, PaymentItem.source_id == source_id)
        .options(selectinload(PaymentItem.batch))
        .order_by(PaymentItem.id)
    )
    return [view_item(i, i.batch, principal, source.psn_no) for i in session.scalars(stmt)]


def latest_payment(views: Sequence[PaymentView]) -> PaymentView | None:
    """The payment that says where things stand (None: not in a batch yet)."""
    return views[-1] if views else None
