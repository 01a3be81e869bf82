"""Computing a claim with the one engine of direct settlement (`settlement.cases.compute`).

Each visit is a `Case`: the insured place's policy at the visit's service date, the catalogue the region's
manual-reimbursement rule names (the treatment place's unless it prices claims by its own), the settlement
level of the institution (as typed in for one outside the network), the filing category at the admission date.
The person's year-to-date accumulators are read as the caller read them (under the lock of the person's
insurance row at approval, as a direct settlement reads them), less the increments of every direct settlement of
the same care, which the claim computes again as a whole; visits of one year are computed in date order, each
after the previous one's increments. Nothing here writes: `approval_changes` says how the accumulators change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.filing.rules import InstitutionFacts
from yidi.filing.service import coverage_at, institution_facts
from yidi.parameters.policy import ClaimCare, FilingCategory, RegionPolicy
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.reference.models import SettlementLevel
from yidi.reference.rules import CrossRegion
from yidi.reimbursement import rules
from yidi.reimbursement.models import Claim, ClaimVisit
from yidi.settlement import cases, engine
from yidi.settlement.models import Accumulator, Settlement
from yidi.settlement.service import MONEY_FIELDS, accumulator_rows, accumulator_values

ZERO = Decimal("0.00")
DONE = ("approved", "paid")  # a claim in force: the direct settlements it computed again are taken


@dataclass(frozen=True)
class VisitResult:
    visit: ClaimVisit
    category: FilingCategory
    service_date: dt.date
    result: engine.Result | None  # None: every line was excluded, nothing computed
    direct: list[rules.DirectSettlement]

    @property
    def paid_directly(self) -> Decimal:
        return sum((d.fund_pay_sumamt for d in self.direct), ZERO)

    @property
    def fund(self) -> Decimal:
        return self.result.fund_pay_sumamt if self.result else ZERO

    @property
    def medfee(self) -> Decimal:
        return self.result.medfee_sumamt if self.result else ZERO


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


def direct_settlements(session: Session, claim: Claim) -> list[rules.DirectSettlement]:
    """The person's direct settlements in force at the claim's networked institutions."""
    codes = {v.fixmedins_code for v in claim.visits if v.fixmedins_code}
    if not codes:
        return []
    stmt = select(Settlement).where(
        Settlement.psn_no == claim.psn_no,
        Settlement.insutype == claim.insutype,
        Settlement.status == "settled",
        Settlement.fixmedins_code.in_(sorted(codes)),
    )
    return [
        rules.DirectSettlement(
            s.setl_id,
            s.fixmedins_code,
            s.service_date,
            s.year,
            s.fund_pay_sumamt,
            {k: Decimal(v) for k, v in s.increments.items()},
        )
        for s in session.scalars(stmt.order_by(Settlement.setl_time))
    ]


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
        )
        category = rules.filing_category(decision)
        lines = [
            engine.FeeLine(
                ln.feedetl_sn,
                ln.med_list_codg,
                ln.fee_ocur_time.astimezone(SHANGHAI).date(),
                ln.det_item_fee_sumamt,
                ln.cnt,
                ln.pric,
            )
            for ln in visit.lines
            if not ln.excluded
        ]
        if not lines:  # nothing left to pay: the care's direct settlements stay as they are
            results.append(VisitResult(visit, category, day, None, []))
            continue
        same = [
            d
            for d in rules.same_care(directs, visit.fixmedins_code, visit.begndate, visit.enddate)
            if d.setl_id not in used
        ]
        for d in same:
            if d.setl_id in elsewhere:
                raise YidiError(rules.R_DIRECT_COUNTED, setl_id=d.setl_id, claim_id=elsewhere[d.setl_id])
            used.add(d.setl_id)
            acc[d.year] = rules.add(acc_of(d.year), d.increments, -1)
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
        result = cases.compute(session, case, lines, acc_of(day.year))
        acc[day.year] = rules.add(acc_of(day.year), result.increments)
        results.append(VisitResult(visit, category, day, result, same))
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


def split_json(result: engine.Result | None) -> dict[str, Any]:
    """The split as kept on the visit: every setlinfo amount as 2-decimal text, the ratio, the fund details."""
    if result is None:
        return {**dict.fromkeys(MONEY_FIELDS, "0.00"), "pool_prop_selfpay": "0.0000", "setldetail": []}
    return {
        **{k: str(getattr(result, k)) for k in MONEY_FIELDS},
        "pool_prop_selfpay": str(result.pool_prop_selfpay),
        "setldetail": [
            {
                "fund_pay_type": d.fund_pay_type,
                "fund_pay_type_name": d.fund_pay_type_name,
                "inscp_scp_amt": str(d.inscp_scp_amt),
                "crt_payb_lmt_amt": str(d.crt_payb_lmt_amt),
                "fund_payamt": str(d.fund_payamt),
                "setl_proc_info": d.setl_proc_info,
            }
            for d in result.setldetail
        ],
    }


def line_results(result: engine.Result | None) -> dict[str, dict[str, Any]]:
    """feedetl_sn → the line's split (text amounts) and the catalogue class that made it."""
    if result is None:
        return {}
    return {
        line.feedetl_sn: {
            "fulamt_ownpay_amt": str(split.fulamt_ownpay_amt),
            "overlmt_selfpay": str(split.overlmt_amt),
            "preselfpay_amt": str(split.preselfpay_amt),
            "inscp_scp_amt": str(split.inscp_scp_amt),
            "chrgitm_lv": split.chrgitm_lv,
        }
        for line, split in result.lines
    }
