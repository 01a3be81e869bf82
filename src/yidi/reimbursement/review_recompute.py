"""The recomputation of a reviewed settlement (复核): the settlement's own case as it stood when it was made, with
the reviewer's corrections on top.

As it stood: its lines (the visit's fee lines settled under its setl_id, refunds folded in), service date, care,
insured and treatment places and the stay so far (as reviews of the stay's earlier settlements left them); the facts
of the case kept on its row (`Settlement.basis`: retiree, civil servant, the institution's settlement level, the
person's 门慢 qualifications); and the accumulators the engine read (`Settlement.acc_before`) plus what reviews of
the person's earlier settlements of that year changed in them. Later settlements of the year are not recomputed: a
review corrects one settlement. A settlement made before its row kept these (NULL) is recomputed with today's facts
and this year's totals now less what it counts for, and the review's notes say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core.errors import YidiError
from yidi.filing.coverage import Care
from yidi.filing.service import MED_TYPE_CARE
from yidi.parameters.policy import FilingCategory
from yidi.people.models import Insurance, Person
from yidi.reference.models import ChronicDisease, Institution, SettlementLevel
from yidi.reference.rules import CrossRegion, classify
from yidi.reference.service import get_institution
from yidi.reimbursement import review_rules as rules
from yidi.reimbursement import splits
from yidi.reimbursement.computation import absorbing_claim
from yidi.reimbursement.models import SettlementReview
from yidi.reimbursement.review_rules import Corrections, Outcome, Shares, Totals
from yidi.settlement import cases, engine
from yidi.settlement.adjustments import counted_increments, earlier_adjustments
from yidi.settlement.models import Accumulator, Settlement, Visit
from yidi.settlement.service import (
    MONEY_FIELDS,
    accumulator_rows,
    accumulator_values,
    later_in_stay,
    net_lines,
    stay_so_far,
)
from yidi.settlement.visits import person_insurance

ACCOUNT_FUND = "310200"  # 职工个人账户, a setldetail fund_pay_type
EMPLOYEE_INSUTYPE = "310"  # 职工基本医疗保险 (national code)
CARE_TYPES = {Care.OUTPATIENT: engine.CareType.OUTPATIENT, Care.INPATIENT: engine.CareType.INPATIENT}
TODAYS_FACTS = (
    "facts of the case not kept when it was settled: today's person type, civil-servant status, 门慢 "
    "qualifications and institution level used / "
    "结算时未保存当时情况，按当前人员类别、公务员身份、门慢资格和机构等级复核"
)
TODAYS_TOTALS = (
    "accumulators not kept when it was settled: this year's totals now less this settlement used (later "
    "settlements of the year included) / 结算时未保存当时累计，按本年现累计减本次结算复核（含其后结算）"
)


@dataclass(frozen=True)
class Recomputation:
    corrections: Corrections  # as applied: this review's over the last decided review's
    result: engine.Result
    recomputed: dict[str, Any]  # the split (setlinfo amounts as text, setldetail, lines: original vs recomputed)
    baseline: dict[str, Any]  # what the difference is taken against: the settlement or the last decided review
    difference: Decimal
    outcome: Outcome
    increments: dict[str, Decimal]  # the accumulator change: recomputed increments − what the settlement counts for
    shares: Shares  # how the difference reaches the person: cash by bank or recovered, credit to the account
    counts_stay: bool  # the recomputed settlement counts its stay in the year's inpatient.stays


@dataclass(frozen=True)
class Recomputed:
    """A recomputation and what deciding it writes to: the accumulator rows and the insurance row (both read
    under the person's lock when the decision is stored)."""

    recomputation: Recomputation
    rows: dict[str, Accumulator]
    insurance: Insurance


def standing(session: Session, setl_id: str) -> list[SettlementReview]:
    """The decided reviews of a settlement, in the order they were decided."""
    stmt = (
        select(SettlementReview)
        .where(SettlementReview.setl_id == setl_id, SettlementReview.status.in_(rules.STANDING))
        .order_by(SettlementReview.decided_at, SettlementReview.id)
    )
    return list(session.scalars(stmt))


def require_reviewable(session: Session, settlement: Settlement) -> None:
    """A settlement in force (not cancelled, not a reversal record), and the last of its stay: a later
    settlement of the stay bore what this one left of the stay's deductible, so it is reviewed first."""
    if settlement.status != "settled":
        reason = {
            "cancelled": "it was cancelled / 已撤销",
            "reversal": "it is a cancellation record / 为撤销记录",
        }.get(settlement.status, settlement.status)
        raise YidiError(rules.RV_SETTLEMENT, setl_id=settlement.setl_id, reason=reason)
    if (claim_id := absorbing_claim(session, settlement.setl_id)) is not None:
        raise YidiError(  # the claim paid the whole care, this settlement's part included
            rules.RV_SETTLEMENT,
            setl_id=settlement.setl_id,
            reason=f"computed again by claim {claim_id} / 已由手工报销{claim_id}重新计算",
        )
    if later_in_stay(session, settlement):
        raise YidiError(
            rules.RV_SETTLEMENT,
            setl_id=settlement.setl_id,
            reason="a later settlement of the same stay is in force; review that one first / "
            "同次住院其后另有结算，请先复核最后一次结算",
        )


def care_of(session: Session, settlement: Settlement, visit: Visit) -> tuple[engine.CareType, str | None]:
    """The care as the settlement computed it (settlement.service): a pharmacy purchase follows the insured
    place's 门慢 rules when a 门慢 disease is named, else its ordinary-outpatient rules."""
    care = MED_TYPE_CARE.get(settlement.med_type, Care.OUTPATIENT)
    if care is Care.PHARMACY or visit.kind == "pharmacy":
        named = visit.dise_codg and session.get(ChronicDisease, visit.dise_codg)
        care = Care.CHRONIC if named else Care.OUTPATIENT
    if care is Care.CHRONIC:
        return engine.CareType.CHRONIC, visit.dise_codg
    return CARE_TYPES[care], None


def _lines(session: Session, settlement: Settlement) -> tuple[Visit, list[engine.FeeLine]]:
    visit = session.get(Visit, settlement.mdtrt_id)
    assert visit is not None
    return visit, net_lines([f for f in visit.fees if f.setl_id == settlement.setl_id])


def _facts(session: Session, settlement: Settlement, lines: list[engine.FeeLine], local: bool) -> rules.CorrectionFacts:
    return rules.CorrectionFacts(
        line_codes=frozenset(line.med_list_codg for line in lines),
        chronic_diseases=frozenset(session.scalars(select(ChronicDisease.code))),
        local=local,
        employee=settlement.insutype == EMPLOYEE_INSUTYPE,
    )


def applied_corrections(session: Session, settlement: Settlement, raw: Any, review: SettlementReview) -> Corrections:
    """The corrections `raw` would make, on top of the reviews of the settlement decided before `review` (a retried
    decision is the same one when these are what it applied)."""
    _, lines = _lines(session, settlement)
    institution = get_institution(session, settlement.fixmedins_code)
    local = classify(settlement.insuplc_admdvs, institution.pooling_region) is CrossRegion.LOCAL
    facts = _facts(session, settlement, lines, local)
    decided = standing(session, settlement.setl_id)
    before = decided[: decided.index(review)] if review in decided else decided
    earlier = rules.parse_corrections(before[-1].corrections, facts) if before else Corrections()
    return rules.parse_corrections(raw, facts).over(earlier)


def basis_then(
    settlement: Settlement, insurance: Insurance, person: Person, institution: Institution
) -> tuple[cases.Basis, list[str]]:
    """The facts of the case as the settlement was made with them, else today's (with a note saying so)."""
    if settlement.basis is not None:
        return cases.Basis.from_json(settlement.basis), []
    diseases = tuple(q.opsp_dise_code for q in person.qualifications if q.status == "active")
    level = SettlementLevel(institution.settlement_level)
    return cases.Basis(insurance.retiree, insurance.civil_servant, level, diseases), [TODAYS_FACTS]


def accumulators_then(
    session: Session, settlement: Settlement, rows: dict[str, Accumulator], counted: dict[str, Decimal]
) -> tuple[dict[str, Decimal], list[str]]:
    """The year's accumulators the settlement should have been computed on: those it was (`acc_before`) plus what
    reviews of the person's earlier settlements of the year changed in them. Without `acc_before`: this year's
    totals now less what it counts for (with a note saying so)."""
    if settlement.acc_before is None:
        return splits.without(accumulator_values(rows), counted), [TODAYS_TOTALS]
    values = {k: Decimal(v) for k, v in settlement.acc_before.items()}
    for key, change in earlier_adjustments(session, settlement).items():
        values[key] = max(Decimal(0), values.get(key, Decimal(0)) + change)
    return values, []


def recompute(session: Session, settlement: Settlement, raw: Any, *, lock: bool) -> Recomputed:
    person, insurance = person_insurance(session, settlement.psn_no, settlement.insutype, lock=lock)
    require_reviewable(session, settlement)  # read again under the lock: a cancellation may have come first
    visit, lines = _lines(session, settlement)
    institution = get_institution(session, settlement.fixmedins_code)
    care, disease = care_of(session, settlement, visit)
    classification = classify(settlement.insuplc_admdvs, institution.pooling_region)
    facts = _facts(session, settlement, lines, classification is CrossRegion.LOCAL)
    decided = standing(session, settlement.setl_id)
    earlier = rules.parse_corrections(decided[-1].corrections, facts) if decided else Corrections()
    corrections = rules.parse_corrections(raw, facts).over(earlier)
    rows = accumulator_rows(session, settlement.psn_no, settlement.insutype, settlement.year)
    counted = counted_increments(session, settlement)
    basis, basis_notes = basis_then(settlement, insurance, person, institution)
    acc, acc_notes = accumulators_then(session, settlement, rows, counted)
    diseases = basis.person_diseases
    if corrections.qualification and corrections.qualification not in diseases:
        diseases += (corrections.qualification,)
    case = cases.Case(
        insured_region=settlement.insuplc_admdvs,
        catalogue_region=settlement.mdtrtarea_admvs,
        insutype=settlement.insutype,
        retiree=basis.retiree if corrections.retiree is None else corrections.retiree,
        civil_servant=basis.civil_servant,
        settlement_level=corrections.settlement_level or basis.settlement_level,
        care=care,
        category=corrections.category or FilingCategory(settlement.category),
        cross_province=None if classification is CrossRegion.LOCAL else classification is CrossRegion.CROSS_PROVINCE,
        service_date=settlement.service_date,
        disease=disease,
        person_diseases=diseases,
        use_account=False,  # the account's share follows the difference (review_rules.personal_shares)
        stay=stay_so_far(session, visit, settlement.year, before=settlement)
        if care is engine.CareType.INPATIENT
        else None,
    )
    catalogue = cases.catalogue_for(session, settlement.mdtrtarea_admvs, lines)
    first_day = min((line.fee_ocur_time for line in lines), default=settlement.service_date)
    corrected = rules.corrected_catalogue(catalogue, corrections.line_classes, first_day)
    result = cases.compute(session, case, lines, acc, corrected)
    baseline = decided[-1].recomputed if decided and decided[-1].recomputed else original_split(settlement)
    before = Totals.of(baseline)
    difference = rules.difference_of(before, result.medfee_sumamt, result.fund_pay_sumamt, result.psn_part_amt)
    shares = rules.personal_shares(difference, before)
    originals = engine.split_bill(lines, catalogue).lines
    kept = [d for d in settlement.setldetail if d["fund_pay_type"] == ACCOUNT_FUND]  # the account's row
    recomputed = rules.split_json(
        result, MONEY_FIELDS, shares.acct_pay, shares.psn_cash_pay, kept, originals, basis_notes + acc_notes
    )
    delta = rules.increments_delta(result.increments, counted)
    counts_stay = result.increments.get(engine.Acc.INPATIENT_STAYS, Decimal(0)) > 0
    recomputation = Recomputation(
        corrections, result, recomputed, baseline, difference, rules.outcome_of(difference), delta, shares, counts_stay
    )
    return Recomputed(recomputation, rows, insurance)


def original_split(settlement: Settlement) -> dict[str, Any]:
    """A settlement's split in the shape a review keeps (setlinfo amounts as text, setldetail)."""
    return {
        **{k: str(getattr(settlement, k)) for k in MONEY_FIELDS},
        "pool_prop_selfpay": str(settlement.pool_prop_selfpay),
        "setldetail": settlement.setldetail,
    }
