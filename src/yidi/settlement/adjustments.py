"""Later changes to what a settlement in force counts for, made by the insured place's agency (a decided review,
复核). The settlement's row is never changed: its own increments plus its adjustments are what it now counts for in
the accumulators, and its last adjustment says what it now bears of its stay's deductible and whether it counts the
stay. An adjustment that changed the accumulators or the money `stands`: the institution no longer cancels the
settlement (2208/2305/2601), since the agency has decided a difference against it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yidi.settlement import engine
from yidi.settlement.models import Settlement, SettlementAdjustment


def adjusted(session: Session, setl_id: str) -> bool:
    """Whether the agency has changed what this settlement counts for or what it paid."""
    stmt = (
        select(SettlementAdjustment.id)
        .where(SettlementAdjustment.setl_id == setl_id, SettlementAdjustment.stands.is_(True))
        .limit(1)
    )
    return session.scalar(stmt) is not None


def _adjustments(session: Session, setl_id: str) -> list[SettlementAdjustment]:
    stmt = select(SettlementAdjustment).where(SettlementAdjustment.setl_id == setl_id).order_by(SettlementAdjustment.id)
    return list(session.scalars(stmt))


def counted_increments(session: Session, settlement: Settlement) -> dict[str, Decimal]:
    """What a settlement now counts for in its year's accumulators: its own increments and every adjustment."""
    total = {k: Decimal(v) for k, v in settlement.increments.items()}
    for adjustment in _adjustments(session, settlement.setl_id):
        for key, amount in adjustment.increments.items():
            total[key] = total.get(key, Decimal(0)) + Decimal(amount)
    return {k: v for k, v in total.items() if v}


def stay_share(session: Session, settlement: Settlement) -> tuple[Decimal, bool]:
    """(the deductible it bears, whether it counts the stay) of a settlement of a stay: as its last review left
    them, else as it was settled."""
    for adjustment in reversed(_adjustments(session, settlement.setl_id)):
        if adjustment.act_pay_dedc is not None and adjustment.counts_stay is not None:
            return adjustment.act_pay_dedc, adjustment.counts_stay
    return settlement.act_pay_dedc, Decimal(settlement.increments.get(engine.Acc.INPATIENT_STAYS, "0")) > 0


def settlements_in_year(session: Session, psn_no: str, insutype: str, year: int) -> int:
    """How many settlement rows (cancellations included) the person's year holds: read after the person's lock,
    which every settlement, cancellation and decided review takes, it orders them all."""
    stmt = (
        select(func.count())
        .select_from(Settlement)
        .where(Settlement.psn_no == psn_no, Settlement.insutype == insutype, Settlement.year == year)
    )
    return session.scalar(stmt) or 0


def earlier_in_year(other: Settlement, settlement: Settlement) -> bool:
    """Whether `other` was made before `settlement` in the person's year (both kept their place, `year_seq`, under
    the person's lock; a row made before places were kept came before every row that has one)."""
    if settlement.year_seq is None:
        return other.setl_time < settlement.setl_time
    return other.year_seq is None or other.year_seq < settlement.year_seq


def earlier_adjustments(session: Session, settlement: Settlement) -> dict[str, Decimal]:
    """The accumulator changes that reviews decided after `settlement` was made to the person's settlements in force
    of the same insurance type and year that came before it (key → sum, zeros left out): what its `acc_before`
    lacks to be what the accumulators would have been had those settlements been computed right."""
    stmt = (
        select(SettlementAdjustment, Settlement)
        .join(Settlement, Settlement.setl_id == SettlementAdjustment.setl_id)
        .where(
            Settlement.psn_no == settlement.psn_no,
            Settlement.insutype == settlement.insutype,
            Settlement.year == settlement.year,
            Settlement.status == "settled",
            Settlement.setl_id != settlement.setl_id,
        )
        .order_by(SettlementAdjustment.id)
    )
    total: dict[str, Decimal] = {}
    for adjustment, other in session.execute(stmt):
        # Only a review's change made after `settlement` was (the year held it then): one made before is in its
        # acc_before already. A claim's (source "claim") moves an earlier settlement's count to the claim, whose
        # own increments are not adjustments: it is left out, the settlement taken as it stood.
        after = (
            adjustment.settlements_seen is None
            or settlement.year_seq is None
            or adjustment.settlements_seen >= settlement.year_seq
        )
        if adjustment.source_kind == "review" and after and earlier_in_year(other, settlement):
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
    *,
    act_pay_dedc: Decimal,
    counts_stay: bool,
    stands: bool,
) -> SettlementAdjustment:
    """Record against the settlement the change its caller applied to the accumulators in the same transaction
    (`service.apply_increments`, on the rows read under the person's lock), and what it now bears of its stay."""
    adjustment = SettlementAdjustment(
        setl_id=settlement.setl_id,
        settlements_seen=settlements_in_year(session, settlement.psn_no, settlement.insutype, settlement.year),
        source_kind=source_kind,
        source_id=source_id,
        increments={k: str(v) for k, v in increments.items()},
        made_at=now,
        act_pay_dedc=act_pay_dedc,
        counts_stay=counts_stay,
        stands=stands,
    )
    session.add(adjustment)
    return adjustment
