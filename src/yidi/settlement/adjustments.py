"""Later changes to what a settlement in force counts for in the accumulators, made by the insured place's agency
(the increments delta of a decided review, 复核). The settlement's row is never changed: its own increments plus
its adjustments are what it now counts for. A settlement with an adjustment stands: the institution does not
cancel it (2208/2305/2601), since the agency has decided a difference against it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.settlement.models import Settlement, SettlementAdjustment


def adjusted(session: Session, setl_id: str) -> bool:
    """Whether the agency has changed what this settlement counts for."""
    stmt = select(SettlementAdjustment.id).where(SettlementAdjustment.setl_id == setl_id).limit(1)
    return session.scalar(stmt) is not None


def counted_increments(session: Session, settlement: Settlement) -> dict[str, Decimal]:
    """What a settlement now counts for in its year's accumulators: its own increments and every adjustment."""
    total = {k: Decimal(v) for k, v in settlement.increments.items()}
    stmt = (
        select(SettlementAdjustment)
        .where(SettlementAdjustment.setl_id == settlement.setl_id)
        .order_by(SettlementAdjustment.id)
    )
    for adjustment in session.scalars(stmt):
        for key, amount in adjustment.increments.items():
            total[key] = total.get(key, Decimal(0)) + Decimal(amount)
    return {k: v for k, v in total.items() if v}


def record_adjustment(
    session: Session,
    settlement: Settlement,
    increments: dict[str, Decimal],
    source_kind: str,
    source_id: str,
    now: dt.datetime,
) -> SettlementAdjustment:
    """Record against the settlement the change its caller applied to the accumulators in the same transaction
    (`service.apply_increments`, on the rows read under the person's lock)."""
    adjustment = SettlementAdjustment(
        setl_id=settlement.setl_id,
        source_kind=source_kind,
        source_id=source_id,
        increments={k: str(v) for k, v in increments.items()},
        made_at=now,
    )
    session.add(adjustment)
    return adjustment
