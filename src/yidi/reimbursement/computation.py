"""Computing a claim with the one engine of direct settlement (`settlement.cases.compute`).

Each visit is a `Case`: the insured place's policy at the visit's service date, the catalogue the region's
manual-reimbursement rule names (the treatment place's unless it prices claims by its own), the settlement
level of the institution (as typed in for one outside the network), the filing category at the admission date.

A visit of the same care as direct settlements in force (`rules.same_care`) is computed as the WHOLE care: the
settlements' own lines (as settled, refunds folded in) and the claim's, from the year's accumulators less what
those settlements count for now (their increments and every later adjustment), and it pays the funds' share of
the whole care less what they count for in fund terms now (their fund share and the differences reviews
decided). The person usually claims only what they paid in full; a settled line listed again is left out.
The accumulators are read as the caller read them (under the lock of the person's insurance row at approval, as
a direct settlement reads them); visits of one year are computed in date order, each after the previous one's
increments. Nothing here writes: `approval_changes` says how the accumulators change and the caller records,
against each settlement computed again, that it now counts for nothing (`settlement.adjustments`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.filing.coverage import Care
from yidi.filing.rules import InstitutionFacts
from yidi.filing.service import MED_TYPE_CARE, coverage_at, institution_facts
from yidi.parameters.policy import ClaimCare, FilingCategory, RegionPolicy
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.reference.models import SettlementLevel
from yidi.reference.rules import CrossRegion
from yidi.reimbursement import rules, splits
from yidi.reimbursement.models import Claim, ClaimLine, ClaimVisit, SettlementReview
from yidi.reimbursement.review_rules import STANDING
from yidi.settlement import cases, engine
from yidi.settlement.adjustments import counted_increments
from yidi.settlement.models import Accumulator, FeeRecord, Settlement, SettlementAdjustment, Visit
from yidi.settlement.service import accumulator_rows, accumulator_values, net_lines

ZERO = Decimal("0.00")
DONE = ("approved", "paid")  # a claim in force: the direct settlements it computed again are taken
SOURCE_KIND = "claim"  # of the settlement adjustments a claim records


@dataclass(frozen=True)
class VisitResult:
    visit: ClaimVisit
    category: FilingCategory
    service_date: dt.date
    result: engine.Result | None  # None: every line was excluded, nothing computed
    direct: list[rules.DirectSettlement]
    own_lines: int = 0  # the claim's lines computed: the first of `result.lines`, the settlements' follow
    settled: tuple[tuple[ClaimLine, str], ...] = ()  # claim lines a direct settlement holds: left out

    @property
    def paid_directly(self) -> Decimal:
        return sum((d.fund_pay_sumamt for d in self.direct), ZERO)

    @property
    def fund(self) -> Decimal:
        return self.result.fund_pay_sumamt if self.result else ZERO

    @property
    def medfee(self) -> Decimal:
        return self.result.medfee_sumamt if self.result else ZERO

    @property
    def payable(self) -> Decimal:
        return rules.visit_payable(self.fund, self.paid_directly)


@dataclass(frozen=True)
class Computation:
    visits: list[VisitResult]
    rows: dict[int, dict[str, Accumulator]]  # the accumulator rows of each year read

    @property
    def totals(self) -> rules.Totals:
        return rules.totals((v.medfee, v.fund, v.paid_directly) for v in self.visits)


def computed_care(visit: ClaimVisit, policy: RegionPolicy, insutype: str) -> engine.CareType:
    diseases = policy.scheme(insutype).chronic.diseases
    return rules.engine_care(ClaimCare(visit.care), visit.med_type, visit.dise_codg, diseases)


def visit_service_date(visit: ClaimVisit, insured_region: str, insutype: str) -> dt.date:
    """The stay's discharge or the visit's day; which one needs the care type, which for a pharmacy purchase
    needs the scheme's 门慢 list (of the policy on the visit's first day: a purchase is one day)."""
    if visit.begndate == visit.enddate:
        return visit.begndate
    care = computed_care(visit, default_store().at(insured_region, visit.begndate), insutype)
    return rules.service_date(care, visit.begndate, visit.enddate)


def check_chronic(visit: ClaimVisit, policy: RegionPolicy, person: Person, insutype: str, day: dt.date) -> None:
    """A 门慢 claim names a disease of the insured region's scheme that the person is qualified for on the day."""
    disease = visit.dise_codg
    if ClaimCare(visit.care) is not ClaimCare.CHRONIC:
        return
    if disease not in policy.scheme(insutype).chronic.diseases:
        raise YidiError(
            rules.R_CHRONIC,
            seq=visit.seq,
            disease=disease,
            problem_zh="不是参保地的门诊慢特病病种",
            problem_en="is not a chronic disease of the insured region",
        )
    if not any(
        q.opsp_dise_code == disease
        and q.insutype == insutype
        and q.status == "active"
        and q.begndate <= day <= q.enddate
        for q in person.qualifications
    ):
        raise YidiError(
            rules.R_CHRONIC,
            seq=visit.seq,
            disease=disease,
            problem_zh=f"在{day}没有有效的待遇资格",
            problem_en=f"has no valid qualification on {day}",
        )


def care_class(med_type: str) -> Care | None:
    """The care class of a med_type, as direct settlement maps it (outpatient, inpatient, chronic, pharmacy)."""
    return MED_TYPE_CARE.get(med_type)


def _candidates(claim: Claim) -> Any:
    """The person's settlements in force at the claim's networked institutions that may be of a visit's care:
    served on or after the first visit's first day, their visit begun by the last visit's last day."""
    codes = sorted({v.fixmedins_code for v in claim.visits if v.fixmedins_code})
    if not codes:
        return None
    first = min(v.begndate for v in claim.visits)
    after_last = dt.datetime.combine(max(v.enddate for v in claim.visits) + dt.timedelta(days=1), dt.time(), SHANGHAI)
    return (
        select(Settlement, Visit.begntime)
        .join(Visit, Visit.mdtrt_id == Settlement.mdtrt_id)
        .where(
            Settlement.psn_no == claim.psn_no,
            Settlement.insutype == claim.insutype,
            Settlement.status == "settled",
            Settlement.fixmedins_code.in_(codes),
            Settlement.service_date >= first,
            Visit.begntime < after_last,
        )
    )


def lock_direct_settlements(session: Session, claim: Claim) -> None:
    """Lock the settlements a claim may compute again, before the person's insurance row: the order of a
    cancellation (2208 locks the settlement, then the person), so that the two wait for each other rather than
    deadlock, and a settlement the claim takes cannot be cancelled meanwhile."""
    stmt = _candidates(claim)
    if stmt is not None:
        session.execute(stmt.order_by(Settlement.setl_id).with_for_update(of=Settlement)).all()


def _reviewed(session: Session, setl_ids: list[str]) -> dict[str, Decimal]:
    """setl_id → the differences decided by its reviews (复核): paid or to pay (> 0), recovered or to recover."""
    stmt = (
        select(SettlementReview.setl_id, func.sum(SettlementReview.difference))
        .where(SettlementReview.setl_id.in_(setl_ids), SettlementReview.status.in_(STANDING))
        .group_by(SettlementReview.setl_id)
    )
    return {setl_id: Decimal(total or 0) for setl_id, total in session.execute(stmt)}


def direct_settlements(session: Session, claim: Claim) -> list[rules.DirectSettlement]:
    """The person's direct settlements in force that may be of the same care as a visit of the claim, each with
    what it counts for now and its own lines."""
    stmt = _candidates(claim)
    if stmt is None:
        return []
    found = [(s, begntime) for s, begntime in session.execute(stmt.order_by(Settlement.setl_time, Settlement.setl_id))]
    ids = [s.setl_id for s, _ in found]
    fees: dict[str, list[FeeRecord]] = defaultdict(list)
    for fee in session.scalars(select(FeeRecord).where(FeeRecord.setl_id.in_(ids)).order_by(FeeRecord.id)):
        fees[fee.setl_id or ""].append(fee)
    reviewed = _reviewed(session, ids) if ids else {}
    return [
        rules.DirectSettlement(
            s.setl_id,
            s.fixmedins_code,
            care_class(s.med_type),
            s.service_date,
            begntime.astimezone(SHANGHAI).date(),
            s.year,
            s.fund_pay_sumamt + reviewed.get(s.setl_id, ZERO),
            counted_increments(session, s),
            tuple(net_lines(fees[s.setl_id])),
        )
        for s, begntime in found
    ]


def absorbing_claim(session: Session, setl_id: str) -> str | None:
    """The claim that computed this settlement again (it now counts for nothing: the claim holds its care), or
    None. A review of such a settlement must be refused: the claim already paid the whole care."""
    stmt = select(SettlementAdjustment.source_id).where(
        SettlementAdjustment.setl_id == setl_id, SettlementAdjustment.source_kind == SOURCE_KIND
    )
    return session.scalar(stmt.limit(1))


def taken_elsewhere(session: Session, claim: Claim) -> dict[str, str]:
    """setl_id → the other claim in force that already computed that direct settlement again."""
    stmt = select(Claim).where(Claim.psn_no == claim.psn_no, Claim.id != claim.id, Claim.status.in_(DONE))
    out: dict[str, str] = {}
    for other in session.scalars(stmt):
        for v in other.visits:
            out.update(dict.fromkeys(v.direct_setl_ids or (), other.id))
    return out


def _institution(session: Session, visit: ClaimVisit, care: engine.CareType) -> InstitutionFacts:
    """The institution as the filing decision sees it. Whether it was connected for direct settlement does not
    matter to a claim (not being connected is often why the person claims): a 门慢 disease counts as opened."""
    opened = {visit.dise_codg} if care is engine.CareType.CHRONIC and visit.dise_codg else set()
    if visit.fixmedins_code is None:
        return InstitutionFacts("", visit.institution_region, False, [], opened)
    facts = institution_facts(session, visit.fixmedins_code, visit.begndate)
    return dataclasses.replace(facts, chronic_opened=facts.chronic_opened | opened)


def compute(
    session: Session,
    claim: Claim,
    person: Person,
    insurance: Insurance,
    acc_rows: dict[int, dict[str, Accumulator]] | None = None,
) -> Computation:
    """Every visit of the claim computed, in date order. The accumulators are read here unless the caller passes
    the rows it read under the person's lock (it then passes an empty dict that this fills, year by year)."""
    rows: dict[int, dict[str, Accumulator]] = {} if acc_rows is None else acc_rows
    acc: dict[int, dict[str, Decimal]] = {}

    def acc_of(year: int) -> dict[str, Decimal]:
        if year not in acc:
            if year not in rows:
                rows[year] = accumulator_rows(session, claim.psn_no, claim.insutype, year)
            acc[year] = accumulator_values(rows[year])
        return acc[year]

    directs = direct_settlements(session, claim)
    elsewhere = taken_elsewhere(session, claim) if directs else {}
    used: set[str] = set()
    dated = [(visit_service_date(v, claim.insured_region, claim.insutype), v) for v in claim.visits]
    results: list[VisitResult] = []
    for day, visit in sorted(dated, key=lambda dv: (dv[0], dv[1].seq)):
        policy = default_store().at(claim.insured_region, day)
        care = computed_care(visit, policy, claim.insutype)
        check_chronic(visit, policy, person, claim.insutype, day)
        decision = coverage_at(
            session,
            claim.psn_no,
            _institution(session, visit, care),
            rules.filing_care(ClaimCare(visit.care), care),
            visit.dise_codg if care is engine.CareType.CHRONIC else None,
            visit.begndate,
            claim.insutype,
            person,
            looking_back=True,  # care inside an insurance period that has ended since was insured care
        )
        category = rules.filing_category(decision)
        kept = [ln for ln in visit.lines if not ln.excluded]
        same = [
            d
            for d in rules.same_care(
                directs, visit.fixmedins_code, care_class(visit.med_type), visit.begndate, visit.enddate
            )
            if d.setl_id not in used
        ]
        twice = rules.settled_lines([(ln.feedetl_sn, ln.med_list_codg, ln.det_item_fee_sumamt) for ln in kept], same)
        settled = tuple((kept[n], setl_id) for n, setl_id in sorted(twice.items()))
        own = [
            engine.FeeLine(
                ln.feedetl_sn,
                ln.med_list_codg,
                ln.fee_ocur_time.astimezone(SHANGHAI).date(),
                ln.det_item_fee_sumamt,
                ln.cnt,
                ln.pric,
            )
            for n, ln in enumerate(kept)
            if n not in twice
        ]
        if not own:  # nothing of the claim's own left to pay: the care's direct settlements stay as they are
            results.append(VisitResult(visit, category, day, None, [], 0, settled))
            continue
        for d in same:
            if d.setl_id in elsewhere:
                raise YidiError(rules.R_DIRECT_COUNTED, setl_id=d.setl_id, claim_id=elsewhere[d.setl_id])
            used.add(d.setl_id)
            acc[d.year] = splits.without(acc_of(d.year), d.increments)
        case = cases.Case(
            insured_region=claim.insured_region,
            catalogue_region=rules.catalogue_region(
                policy.manual_reimbursement, visit.institution_region, claim.insured_region
            ),
            insutype=claim.insutype,
            retiree=insurance.retiree,
            civil_servant=insurance.civil_servant,
            settlement_level=SettlementLevel(visit.institution_level),
            care=care,
            category=category,
            cross_province=None
            if decision.classification is CrossRegion.LOCAL
            else decision.classification is CrossRegion.CROSS_PROVINCE,
            service_date=day,
            disease=visit.dise_codg if care is engine.CareType.CHRONIC else None,
            person_diseases=tuple(
                q.opsp_dise_code for q in person.qualifications if q.status == "active" and q.insutype == claim.insutype
            ),
        )
        lines = own + [line for d in same for line in d.lines]
        result = cases.compute(session, case, lines, acc_of(day.year))
        acc[day.year] = rules.add(acc_of(day.year), result.increments)
        results.append(VisitResult(visit, category, day, result, same, len(own), settled))
    return Computation(results, rows)


def approval_changes(computation: Computation) -> dict[int, dict[str, Decimal]]:
    """Year → key → change of the accumulators at approval: each visit's increments less those of the direct
    settlements it computed again, summed over the claim (one change per key and year)."""
    out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for v in computation.visits:
        if v.result is None:
            continue
        for year, changes in rules.net_change(v.service_date.year, v.result.increments, v.direct).items():
            for key, value in changes.items():
                out[year][key] = out[year].get(key, Decimal(0)) + value
    return {y: {k: v for k, v in c.items() if v} for y, c in out.items()}


def line_results(r: VisitResult) -> dict[str, dict[str, Any]]:
    """feedetl_sn → the claim line's split (text amounts) and the catalogue class that made it (the settlements'
    lines computed with them are theirs, not the claim's)."""
    if r.result is None:
        return {}
    return {
        line.feedetl_sn: {
            "fulamt_ownpay_amt": str(split.fulamt_ownpay_amt),
            "overlmt_selfpay": str(split.overlmt_amt),
            "preselfpay_amt": str(split.preselfpay_amt),
            "inscp_scp_amt": str(split.inscp_scp_amt),
            "chrgitm_lv": split.chrgitm_lv,
        }
        for line, split in r.result.lines[: r.own_lines]
    }
