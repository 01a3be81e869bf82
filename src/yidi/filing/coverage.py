"""Whether a visit is covered for direct settlement by a filing, and at which filing category.

`decide` is the pure core of `coverage_for`: it takes the facts on the admission (or visit) date and
returns a `FilingDecision` with the reasons in words. Order: insurance → local care → 门慢 conditions →
no-filing zones (never for 门慢) → filings in force (emergency deemed filed) → not filed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from yidi.filing.rules import FilingView, InstitutionFacts, Kind, Qualification, Subtype
from yidi.parameters.policy import FilingCategory, NoFilingZone, RegionPolicy
from yidi.reference.rules import CrossRegion, DivisionIndex


class Care(StrEnum):
    """What kind of care the visit is (from med_type)."""

    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"
    CHRONIC = "chronic"  # 门诊慢特病
    PHARMACY = "pharmacy"


class Coverage(StrEnum):
    FILED = "filed"  # 已备案
    DEEMED_FILED = "deemed_filed"  # 视同备案 (emergency)
    ZONE_EXEMPT = "zone_exempt"  # 免备案 by rule
    LOCAL = "local"  # not cross-region: no filing needed
    NOT_FILED = "not_filed"  # 未备案


@dataclass(frozen=True)
class FilingDecision:
    coverage: Coverage
    covered: bool  # may settle directly as filed (the settlement still applies the category's mechanism)
    category: FilingCategory  # sets the ratio (unfiled when not filed)
    classification: CrossRegion
    filing_id: str | None = None
    materials_outstanding: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VisitFacts:
    insured_region: str
    insurance_active: bool
    institution: InstitutionFacts
    care: Care
    admission_date: dt.date
    disease: str | None = None
    qualifications: list[Qualification] = field(default_factory=list)
    filings: list[FilingView] = field(default_factory=list)


def _not(reason: str, classification: CrossRegion, coverage: Coverage = Coverage.NOT_FILED) -> FilingDecision:
    return FilingDecision(coverage, False, FilingCategory.UNFILED, classification, reasons=[reason])


def _area_matches(filing: FilingView, institution: InstitutionFacts) -> bool:
    return filing.target_region in (institution.pooling_region, institution.pooling_region[:2] + "0000")


def decide(
    facts: VisitFacts, policy: RegionPolicy, zones: dict[str, NoFilingZone], divisions: DivisionIndex
) -> FilingDecision:
    day = facts.admission_date
    inst = facts.institution
    classification = divisions.classify(facts.insured_region, inst.pooling_region)
    if not facts.insurance_active:
        return _not("参保状态不正常 / insurance not active on the admission date", classification)
    if classification is CrossRegion.LOCAL:
        return FilingDecision(
            Coverage.LOCAL,
            True,
            FilingCategory.LONG_TERM,
            classification,
            reasons=["本地就医，无需异地备案 / local care: no cross-region filing needed"],
        )
    if facts.care is Care.CHRONIC:
        problem = _chronic_problem(facts, policy, classification)
        if problem:
            return _not(problem, classification)
    zone = _zone(facts, policy, zones, classification)
    if zone:
        return FilingDecision(Coverage.ZONE_EXEMPT, True, FilingCategory.LONG_TERM, classification, reasons=[zone])
    in_force = [f for f in facts.filings if f.in_force(day) and _area_matches(f, inst)]
    if facts.care is Care.CHRONIC:
        designated = [
            f for f in in_force if f.subtype is Subtype.DESIGNATED_CHRONIC and f.opsp_dise_code == facts.disease
        ]
        if policy.filing.chronic_requires_designated_institution or designated:
            chosen = [f for f in designated if inst.fixmedins_code in f.institutions]
            if not chosen:
                return _not(
                    f"门诊慢特病须在备案的定点机构就医，{inst.fixmedins_code} 不在其中 / "
                    f"chronic care must be at the filed designated institutions; {inst.fixmedins_code} is not one",
                    classification,
                )
            return _filed(chosen[0], day, policy, classification)
        in_force = [f for f in in_force if f.subtype.kind in (Kind.LONG_TERM, Kind.TEMPORARY)]
    else:
        in_force = [f for f in in_force if f.subtype.kind is not Kind.DESIGNATED_CHRONIC]
    if not in_force:
        started_later = [f for f in facts.filings if f.approved_on and f.begndate > day and _area_matches(f, inst)]
        reason = "没有覆盖就诊日期和就医地的有效备案 / no approved filing covers this area on the admission date"
        if started_later:
            reason += (
                f"（备案 {started_later[0].id} 自 {started_later[0].begndate} 起，晚于入院 / starts after admission）"
            )
        return _not(reason, classification)
    # Prefer the filing with the best category: long-term before referral/emergency before other temporary.
    order = [
        FilingCategory.LONG_TERM,
        FilingCategory.REFERRAL,
        FilingCategory.EMERGENCY,
        FilingCategory.OTHER_TEMPORARY,
    ]
    best = min(
        in_force, key=lambda f: order.index(f.subtype.ratio_category) if f.subtype.ratio_category in order else 9
    )
    return _filed(best, day, policy, classification)


def _filed(filing: FilingView, day: dt.date, policy: RegionPolicy, classification: CrossRegion) -> FilingDecision:
    category = filing.subtype.ratio_category
    outstanding = filing.basis.value == "commitment" and (
        filing.proof_received_on is None or filing.proof_received_on > day
    )
    reasons = [f"备案 {filing.id}（{filing.subtype.value}）有效 / filing {filing.id} ({filing.subtype.value}) in force"]
    if outstanding and filing.proof_deadline is not None and day > filing.proof_deadline:
        consequence = policy.commitment.consequence
        reasons.append(f"承诺制材料逾期未交，按“{consequence}”处理 / undertaking proof overdue: {consequence}")
        if consequence == "lower_ratio":
            category = FilingCategory.COMMITMENT_PENDING
        elif consequence == "downgrade_to_temporary":
            category = FilingCategory.OTHER_TEMPORARY
        elif consequence == "cancel":
            return FilingDecision(
                Coverage.NOT_FILED, False, FilingCategory.UNFILED, classification, filing.id, True, reasons
            )
    coverage = Coverage.DEEMED_FILED if filing.subtype is Subtype.EMERGENCY else Coverage.FILED
    if coverage is Coverage.DEEMED_FILED:
        reasons.append("急诊抢救视同备案 / emergency rescue is deemed filed")
    return FilingDecision(coverage, True, category, classification, filing.id, outstanding, reasons)


def _chronic_problem(facts: VisitFacts, policy: RegionPolicy, classification: CrossRegion) -> str | None:
    disease, day, inst = facts.disease, facts.admission_date, facts.institution
    if disease is None:
        return "门诊慢特病须注明病种 / a chronic-disease visit needs the disease code"
    if not any(q.opsp_dise_code == disease and q.begndate <= day <= q.enddate for q in facts.qualifications):
        return f"没有{disease}的有效待遇资格 / no valid qualification for {disease} on {day}"
    if classification is CrossRegion.CROSS_PROVINCE and disease not in policy.chronic_cross_province:
        return (
            f"{disease}不在参保地跨省直接结算病种内，请回参保地报销 / {disease} is not settled across provinces by "
            "the insured region; claim at home"
        )
    if disease not in inst.chronic_opened:
        return (
            f"{inst.fixmedins_code}未开通{disease}异地结算，请回参保地报销 / institution not opened for {disease}; "
            "claim at home"
        )
    return None


def _zone(
    facts: VisitFacts, policy: RegionPolicy, zones: dict[str, NoFilingZone], classification: CrossRegion
) -> str | None:
    if facts.care is Care.CHRONIC:
        return None  # 门慢 always needs qualification and registration, zones or not
    insured_prov, treat_prov = facts.insured_region[:2], facts.institution.pooling_region[:2]
    for key, zone in zones.items():
        if insured_prov in zone.members and treat_prov in zone.members and facts.care.value in zone.care:
            return f"{zone.name}免备案 / no filing needed inside {key}"
    if classification is CrossRegion.IN_PROVINCE and getattr(policy.in_province_no_filing, facts.care.value, False):
        return "省内异地免备案 / no filing needed inside the province"
    return None
