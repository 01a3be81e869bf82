"""Reviews of direct settlements (复核) and the difference (轧差): use cases.

The person (their own settlement) or staff of the insured region ask for a review; a reviewer of that region
recomputes the settlement with corrected facts and decides. The recomputation is the settlement's own: its
lines (the visit's fee lines settled under its setl_id, refunds folded in), its service date, care, insured and
treatment places, level and the stay so far, through `settlement.cases.compute`, with the person's accumulators
of that year as they stand less what the settlement counts for. The difference is the new fund share less the
one paid: above zero it is paid to the person (by the payment batches), below zero it is recovered. The change
to the accumulators is applied under the person's lock and recorded against the settlement (a settlement-floor
adjustment), whose row is never modified; a settlement with one is not cancelled at the institution.

A later review of the same settlement starts where the last decided one ended: its corrections carry over, and
its difference is taken against that review's recomputation, so nothing is paid or recovered twice.
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
from yidi.filing.coverage import Care
from yidi.filing.service import MED_TYPE_CARE
from yidi.parameters.policy import FilingCategory
from yidi.parameters.store import default_store
from yidi.reference.models import ChronicDisease, SettlementLevel
from yidi.reference.rules import CrossRegion, classify
from yidi.reference.service import get_institution
from yidi.reimbursement import review_rules as rules
from yidi.reimbursement.models import SettlementReview
from yidi.reimbursement.review_rules import Corrections, Outcome, Payee, Status, Totals
from yidi.settlement import cases, engine
from yidi.settlement.adjustments import counted_increments, record_adjustment
from yidi.settlement.models import Accumulator, Settlement, Visit
from yidi.settlement.service import (
    MONEY_FIELDS,
    accumulator_rows,
    accumulator_values,
    apply_increments,
    later_in_stay,
    net_lines,
    stay_so_far,
)
from yidi.settlement.visits import person_insurance

SOURCE_KIND = "review"  # of settlement adjustments and of payment items
REVIEWERS = frozenset({Role.REVIEWER, Role.ADMINISTRATOR})
SETTLERS = frozenset({Role.REVIEWER, Role.CLEARING_OFFICER, Role.ADMINISTRATOR})  # record money in or out
ACCOUNT_FUND = "310200"  # 职工个人账户, a setldetail fund_pay_type
CARE_TYPES = {Care.OUTPATIENT: engine.CareType.OUTPATIENT, Care.INPATIENT: engine.CareType.INPATIENT}


@dataclass(frozen=True)
class Recomputation:
    corrections: Corrections  # as applied: this review's over the last decided review's
    result: engine.Result
    recomputed: dict[str, Any]  # the split (setlinfo amounts as text, setldetail, lines: original vs recomputed)
    baseline: dict[str, Any]  # what the difference is taken against: the settlement or the last decided review
    difference: Decimal
    outcome: Outcome
    increments: dict[str, Decimal]  # the accumulator change: recomputed increments − what the settlement counts for


@dataclass(frozen=True)
class ReviewDetail:
    review: SettlementReview
    settlement: Settlement
    original: dict[str, Any]  # the settlement's split as it was settled
    overdue: bool


# -- reading -----------------------------------------------------------------------------------------------


def load_review(session: Session, review_id: str, *, lock: bool = False) -> SettlementReview:
    stmt = select(SettlementReview).where(SettlementReview.id == review_id)
    review = session.scalar(stmt.with_for_update() if lock else stmt)
    if review is None:
        raise YidiError(NOT_FOUND, what="复核 / settlement review", key=review_id)
    return review


def _settlement(session: Session, setl_id: str, *, lock: bool = False) -> Settlement:
    stmt = select(Settlement).where(Settlement.setl_id == setl_id)
    settlement = session.scalar(stmt.with_for_update() if lock else stmt)
    if settlement is None:
        raise YidiError(NOT_FOUND, what="结算 / settlement", key=setl_id)
    return settlement


def _authorize_party(principal: Principal, psn_no: str, region: str, what: str, key: str) -> None:
    """The person themself, or staff of the insured region (staff elsewhere are told it does not exist)."""
    if principal.audience in (Audience.SYSTEM, Audience.PERSON):
        principal.require_person(psn_no)
    elif principal.audience is Audience.STAFF:
        if region not in principal.regions:
            raise YidiError(NOT_FOUND, what=what, key=key)
    else:
        raise YidiError(
            FORBIDDEN, reason="reviews are asked by the person or their agency / 复核由参保人或经办机构申请"
        )


def _authorize_staff(principal: Principal, region: str, roles: frozenset[Role], action: str) -> None:
    principal.require_region(region)
    if principal.audience is Audience.STAFF and not principal.roles & roles:
        raise YidiError(FORBIDDEN, reason=f"{action}: not your role / 非本岗位职责")


def original_split(settlement: Settlement) -> dict[str, Any]:
    """A settlement's split in the shape a review keeps (setlinfo amounts as text, setldetail)."""
    return {
        **{k: str(getattr(settlement, k)) for k in MONEY_FIELDS},
        "pool_prop_selfpay": str(settlement.pool_prop_selfpay),
        "setldetail": settlement.setldetail,
    }


def snapshot(review: SettlementReview) -> dict[str, Any]:
    """The audited state of a review."""
    return {
        "status": review.status,
        "setl_id": review.setl_id,
        "reason": review.reason,
        "due_date": str(review.due_date) if review.due_date else None,
        "due_date_provisional": bool(review.due_date_provisional),
        "corrections": review.corrections,
        "outcome": review.outcome,
        "difference": str(review.difference) if review.difference is not None else None,
        "increments": review.increments,
        "decision_note": review.decision_note,
        "payee": bool(review.bank_account),  # that one is given; the account number stays on the row
        "settled_serial": review.settled_serial,
    }


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    review: SettlementReview,
    before: dict[str, Any] | None,
    now: dt.datetime,
) -> None:
    audit.record(
        session,
        at=now,
        actor_type=principal.audience.value,
        actor_id=principal.subject or "anonymous",
        channel="api",
        action=action,
        entity_type="settlement_review",
        entity_id=review.id,
        before=before,
        after=snapshot(review),
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
    settlement = _settlement(session, setl_id, lock=True)  # serialises the one-open-review rule per settlement
    _authorize_party(principal, settlement.psn_no, settlement.insuplc_admdvs, "结算 / settlement", setl_id)
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
    _require_reviewable(session, settlement)
    open_review = session.scalar(
        select(SettlementReview.id).where(
            SettlementReview.setl_id == setl_id, SettlementReview.status == Status.REQUESTED.value
        )
    )
    if open_review is not None:
        raise YidiError(rules.RV_OPEN, setl_id=setl_id, other=open_review)
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
    _audit(session, principal, "review.request", review, None, now)
    return review


def _require_reviewable(session: Session, settlement: Settlement) -> None:
    """A settlement in force (not cancelled, not a reversal record), and the last of its stay: a later
    settlement of the stay bore what this one left of the stay's deductible, so it is reviewed first."""
    if settlement.status != "settled":
        reason = {
            "cancelled": "it was cancelled / 已撤销",
            "reversal": "it is a cancellation record / 为撤销记录",
        }.get(settlement.status, settlement.status)
        raise YidiError(rules.RV_SETTLEMENT, setl_id=settlement.setl_id, reason=reason)
    if later_in_stay(session, settlement):
        raise YidiError(
            rules.RV_SETTLEMENT,
            setl_id=settlement.setl_id,
            reason="a later settlement of the same stay is in force; review that one first / "
            "同次住院其后另有结算，请先复核最后一次结算",
        )


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
            _audit(session, principal, "review.due_date_recomputed", review, before, now)
        counts["still_provisional"] += bool(review.due_date_provisional)
    return counts


# -- recomputing -------------------------------------------------------------------------------------------


def _standing(session: Session, setl_id: str) -> list[SettlementReview]:
    """The decided reviews of a settlement, in the order they were decided."""
    stmt = (
        select(SettlementReview)
        .where(SettlementReview.setl_id == setl_id, SettlementReview.status.in_(rules.STANDING))
        .order_by(SettlementReview.decided_at, SettlementReview.id)
    )
    return list(session.scalars(stmt))


def _care(session: Session, settlement: Settlement, visit: Visit) -> tuple[engine.CareType, str | None]:
    """The care as the settlement computed it (settlement.service): a pharmacy purchase follows the insured
    place's 门慢 rules when a 门慢 disease is named, else its ordinary-outpatient rules."""
    care = MED_TYPE_CARE.get(settlement.med_type, Care.OUTPATIENT)
    if care is Care.PHARMACY or visit.kind == "pharmacy":
        named = visit.dise_codg and session.get(ChronicDisease, visit.dise_codg)
        care = Care.CHRONIC if named else Care.OUTPATIENT
    if care is Care.CHRONIC:
        return engine.CareType.CHRONIC, visit.dise_codg
    return CARE_TYPES[care], None


def _recompute(
    session: Session, settlement: Settlement, raw: Any, *, lock: bool
) -> tuple[Recomputation, dict[str, Accumulator]]:
    person, insurance = person_insurance(session, settlement.psn_no, settlement.insutype, lock=lock)
    _require_reviewable(session, settlement)  # read again under the lock: a cancellation may have come first
    visit = session.get(Visit, settlement.mdtrt_id)
    assert visit is not None
    lines = net_lines([f for f in visit.fees if f.setl_id == settlement.setl_id])
    institution = get_institution(session, settlement.fixmedins_code)
    care, disease = _care(session, settlement, visit)
    classification = classify(settlement.insuplc_admdvs, institution.pooling_region)
    facts = rules.CorrectionFacts(
        line_codes=frozenset(line.med_list_codg for line in lines),
        chronic_diseases=frozenset(session.scalars(select(ChronicDisease.code))),
        local=classification is CrossRegion.LOCAL,
    )
    standing = _standing(session, settlement.setl_id)
    earlier = rules.parse_corrections(standing[-1].corrections, facts) if standing else Corrections()
    corrections = rules.parse_corrections(raw, facts).over(earlier)
    rows = accumulator_rows(session, settlement.psn_no, settlement.insutype, settlement.year)
    counted = counted_increments(session, settlement)
    diseases = tuple(q.opsp_dise_code for q in person.qualifications if q.status == "active")
    if corrections.qualification and corrections.qualification not in diseases:
        diseases += (corrections.qualification,)
    case = cases.Case(
        insured_region=settlement.insuplc_admdvs,
        catalogue_region=settlement.mdtrtarea_admvs,
        insutype=settlement.insutype,
        retiree=insurance.retiree,
        civil_servant=insurance.civil_servant,
        settlement_level=corrections.settlement_level or SettlementLevel(institution.settlement_level),
        care=care,
        category=corrections.category or FilingCategory(settlement.category),
        cross_province=None if classification is CrossRegion.LOCAL else classification is CrossRegion.CROSS_PROVINCE,
        service_date=settlement.service_date,
        disease=disease,
        person_diseases=diseases,
        use_account=False,  # the account's payment is kept as it was (review_rules.personal_shares)
        stay=stay_so_far(session, visit, settlement.year, before=settlement)
        if care is engine.CareType.INPATIENT
        else None,
    )
    catalogue = cases.catalogue_for(session, settlement.mdtrtarea_admvs, lines)
    first_day = min((line.fee_ocur_time for line in lines), default=settlement.service_date)
    corrected = rules.corrected_catalogue(catalogue, corrections.line_classes, first_day)
    result = cases.compute(session, case, lines, rules.without(accumulator_values(rows), counted), corrected)
    baseline = standing[-1].recomputed if standing and standing[-1].recomputed else original_split(settlement)
    before = Totals.of(baseline)
    acct, cash = rules.personal_shares(result.psn_part_amt, before.acct_pay)
    after = Totals(result.medfee_sumamt, result.fund_pay_sumamt, result.psn_part_amt, acct)
    difference = rules.difference_of(before, after)
    originals = engine.split_bill(lines, catalogue).lines
    kept = [d for d in settlement.setldetail if d["fund_pay_type"] == ACCOUNT_FUND]  # its row stands with it
    recomputed = rules.split_json(result, MONEY_FIELDS, acct, cash, kept, originals)
    delta = rules.increments_delta(result.increments, counted)
    return (
        Recomputation(corrections, result, recomputed, baseline, difference, rules.outcome_of(difference), delta),
        rows,
    )


# -- deciding ----------------------------------------------------------------------------------------------


def _open_for_decision(
    session: Session, principal: Principal, review_id: str, action: str, *, lock: bool
) -> SettlementReview:
    review = load_review(session, review_id, lock=lock)
    _authorize_staff(principal, review.insured_region, REVIEWERS, action)
    if review.status != Status.REQUESTED.value:
        raise YidiError(rules.RV_STATE, review_id=review.id, status=review.status, action=action)
    return review


def preview(session: Session, principal: Principal, review_id: str, corrections: Any) -> Recomputation:
    """The recomputation with these corrections, nothing stored (the reviewer tries before deciding)."""
    review = _open_for_decision(session, principal, review_id, "preview / 试算", lock=False)
    recomputation, _ = _recompute(session, _settlement(session, review.setl_id), corrections, lock=False)
    return recomputation


def decide(
    session: Session,
    principal: Principal,
    review_id: str,
    corrections: Any,
    note: str | None,
    now: dt.datetime,
    payee: Payee | None = None,
) -> SettlementReview:
    """Recompute under the person's lock and decide: a difference to pay, a recovery, or no change; the
    accumulators take the change in the same transaction."""
    review = _open_for_decision(session, principal, review_id, "decide / 核定", lock=True)
    note_text = rules.checked_text(note, "note", 500, required=False)
    settlement = _settlement(session, review.setl_id, lock=True)  # settlement, then person: as a cancellation locks
    recomputation, rows = _recompute(session, settlement, corrections, lock=True)
    before = snapshot(review)
    if payee is not None:
        review.payee_name, review.bank_name, review.bank_account = payee.payee_name, payee.bank_name, payee.bank_account
    if recomputation.outcome is Outcome.DIFFERENCE and not review.bank_account:
        raise YidiError(
            rules.RV_INPUT,
            field="bank_account",
            problem="a difference is paid to a bank account: give the payee / 须填写收款账户",
        )
    if recomputation.increments or recomputation.outcome is not Outcome.NO_CHANGE:
        delta = recomputation.increments
        apply_increments(session, rows, settlement.psn_no, settlement.insutype, settlement.year, delta, +1)
        record_adjustment(session, settlement, delta, SOURCE_KIND, review.id, now)
    review.corrections = recomputation.corrections.as_json()
    review.recomputed = recomputation.recomputed
    review.increments = {k: str(v) for k, v in recomputation.increments.items()}
    review.difference = recomputation.difference
    review.outcome = recomputation.outcome.value
    review.status = (Status.CLOSED if recomputation.outcome is Outcome.NO_CHANGE else Status.DECIDED).value
    review.decided_at, review.decided_by, review.decision_note = now, principal.subject or "system", note_text
    review.version += 1
    session.flush()
    _audit(session, principal, f"review.decide.{recomputation.outcome.value}", review, before, now)
    return review


def refuse(session: Session, principal: Principal, review_id: str, reason: str, now: dt.datetime) -> SettlementReview:
    """Refuse the review (nothing recomputed); the reason is shown to the person."""
    review = _open_for_decision(session, principal, review_id, "refuse / 不予复核", lock=True)
    text = rules.checked_text(reason, "reason", 500)
    before = snapshot(review)
    review.status, review.decision_note = Status.REFUSED.value, text
    review.decided_at, review.decided_by = now, principal.subject or "system"
    review.version += 1
    session.flush()
    _audit(session, principal, "review.refuse", review, before, now)
    return review


def _settle_money(
    session: Session,
    principal: Principal,
    review_id: str,
    outcome: Outcome,
    status: Status,
    serial: str,
    now: dt.datetime,
    action: str,
) -> SettlementReview:
    review = load_review(session, review_id, lock=True)
    _authorize_staff(principal, review.insured_region, SETTLERS, action)
    if review.status != Status.DECIDED.value or review.outcome != outcome.value:
        raise YidiError(rules.RV_STATE, review_id=review.id, status=f"{review.status}/{review.outcome}", action=action)
    checked = rules.checked_serial(serial)
    before = snapshot(review)
    review.status, review.settled_at, review.settled_serial = status.value, now, checked
    review.version += 1
    session.flush()
    _audit(session, principal, f"review.{status.value}", review, before, now)
    return review


def record_recovery(
    session: Session, principal: Principal, review_id: str, serial: str, now: dt.datetime
) -> SettlementReview:
    """The overpayment came back (the recovery's receipt or bank serial)."""
    return _settle_money(
        session, principal, review_id, Outcome.RECOVERY, Status.RECOVERED, serial, now, "record recovery / 登记追回"
    )


def mark_paid(
    session: Session, principal: Principal, review_id: str, serial: str, now: dt.datetime
) -> SettlementReview:
    """The difference reached the person (for the payment batches: the bank's serial of the transfer)."""
    return _settle_money(
        session, principal, review_id, Outcome.DIFFERENCE, Status.PAID, serial, now, "mark paid / 登记支付"
    )


# -- lists and views ---------------------------------------------------------------------------------------


def payable(session: Session, principal: Principal, region: str) -> list[SettlementReview]:
    """Decided differences of a region not yet paid, oldest decision first (for the payment batches)."""
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
    regions = [region] if region else sorted(principal.regions)
    for r in regions:
        principal.require_region(r)
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
    _authorize_party(principal, review.psn_no, review.insured_region, "复核 / settlement review", review_id)
    settlement = _settlement(session, review.setl_id)
    return ReviewDetail(review, settlement, original_split(settlement), is_overdue(review, today))


def is_overdue(review: SettlementReview, today: dt.date) -> bool:
    return review.status == Status.REQUESTED.value and review.due_date is not None and review.due_date < today
