"""Pure rules of manual reimbursement (手工报销): values in, values or refusals out. No database, clock or HTTP.

The claim deadline, which catalogue and which policy date apply, the filing category at the time of care, the
exclusions, the required materials, the invoices against the fee lines, which direct settlements are of the same
care (their lines join the claim's, and the whole care is computed again from the accumulators without them:
settlement.md §10), and what the claim pays (each visit's funds' share less what was paid directly for it). What
the input must look like is `reimbursement.inputs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from yidi.core.errors import ErrorKind, YidiError
from yidi.filing.coverage import Care, FilingDecision
from yidi.filing.rules import add_months
from yidi.parameters.policy import ClaimCare, FilingCategory, InputLimits, ManualReimbursement, MaterialKind
from yidi.reimbursement.inputs import INPATIENT_MED_TYPES, refuse
from yidi.settlement.engine import CareType, FeeLine

ZERO = Decimal("0.00")

R_STATE = ErrorKind(
    "R_STATE",
    "报销申请{claim_id}当前为{status}，不能{action_zh}",
    "claim {claim_id} is {status}; cannot {action_en}",
    409,
)
R_DEADLINE = ErrorKind(
    "R_DEADLINE",
    "第{seq}次就诊（{institution}，{end}结束）的报销申请期限为{deadline}，已逾期",
    "visit {seq} ({institution}, care ended {end}): the claim deadline was {deadline}",
    422,
)
R_EXCLUDED_CARE = ErrorKind(
    "R_EXCLUDED_CARE",
    "第{seq}次就诊：参保地不予报销该类医疗费用（care={care}）",
    "visit {seq}: the insured region does not reimburse care {care}",
    422,
)
R_INJURY = ErrorKind(
    "R_INJURY_UNDERTAKING",
    "第{seq}次就诊为外伤（injury），须上传外伤无第三方责任承诺书（injury_undertaking）",
    "visit {seq} is an injury: upload the undertaking that no third party is liable (injury_undertaking)",
    422,
)
R_MATERIALS = ErrorKind(
    "R_MATERIALS", "提交前须上传材料（materials）：{kinds}", "upload these materials (materials) first: {kinds}", 422
)
R_INVOICE_SUM = ErrorKind(
    "R_INVOICE_SUM",
    "第{seq}次就诊：发票金额合计（invoices.amount）{invoices}与费用明细合计（lines.det_item_fee_sumamt）{lines}不符",
    "visit {seq}: the invoices (invoices.amount) add up to {invoices}, the fee lines (lines.det_item_fee_sumamt) "
    "to {lines}",
    422,
)
R_CHRONIC = ErrorKind(
    "R_CHRONIC",
    "第{seq}次就诊：门慢病种（dise_codg）{disease}{problem_zh}",
    "visit {seq}: chronic disease (dise_codg) {disease} {problem_en}",
    422,
)
R_REQUEST_REUSED = ErrorKind(
    "R_REQUEST_REUSED",
    "请求号（request_id）{request_id}已用于另一内容不同的申请{claim_id}",
    "request_id {request_id} was already used for a different claim {claim_id}",
    409,
)
R_DIRECT_COUNTED = ErrorKind(
    "R_DIRECT_COUNTED",
    "直接结算{setl_id}已在报销申请{claim_id}中扣减，同一结算不能扣减两次",
    "direct settlement {setl_id} was already taken into claim {claim_id}; it is taken once",
    409,
)

# Chinese and English names of the input fields, for refusals (the last part of a field path is looked up).
# -- checks at submission -----------------------------------------------------------------------------------


def check_insurance_period(
    seq: int,
    begndate: dt.date,
    enddate: dt.date,
    insured_from: dt.date,
    insured_until: dt.date | None,
    status: str = "1",
) -> None:
    """The care lies in the person's insurance period (参保期间). What counts is the insurance at the dates of care,
    not on the day of the claim: care of the period may be claimed after the insurance ended (the person moved or
    retired elsewhere). The status flag (psn_insu_stas, 1 正常参保) is read only for a record with no end date,
    where it is the one sign that the insurance stopped."""
    where = f"visits[{seq}]."
    if begndate < insured_from:
        raise refuse(
            f"{where}begndate", f"早于参保开始日期{insured_from}", f"is before the insurance began ({insured_from})"
        )
    if insured_until is not None and enddate > insured_until:
        raise refuse(
            f"{where}enddate", f"晚于参保结束日期{insured_until}", f"is after the insurance ended ({insured_until})"
        )
    if insured_until is None and status != "1":
        raise refuse("insutype", "参保状态不正常，不能报销", "the insurance is not active: no reimbursement")


def claim_deadline(mr: ManualReimbursement, end_of_care: dt.date) -> dt.date:
    """The last day to claim: `deadline_months` after the end of care (discharge for a stay, the visit's day
    otherwise), or 31 December of the following year."""
    if mr.deadline_end_of_following_year:
        return dt.date(end_of_care.year + 1, 12, 31)
    assert mr.deadline_months is not None
    return add_months(end_of_care, mr.deadline_months)


def check_deadline(mr: ManualReimbursement, seq: int, institution: str, end: dt.date, submitted_on: dt.date) -> None:
    deadline = claim_deadline(mr, end)
    if submitted_on > deadline:
        raise YidiError(R_DEADLINE, seq=seq, institution=institution, end=end, deadline=deadline)


def engine_care(care: ClaimCare, med_type: str, disease: str | None, chronic_diseases: Iterable[str]) -> CareType:
    """How the engine computes the care: 门慢 by the disease's rules; a purchase at a pharmacy naming a 门慢 disease
    of the scheme by that disease's rules, else as ordinary outpatient (as a 2102 purchase is); an emergency
    observation as outpatient emergency care; maternity and work injury by their med_type (stay or visit)."""
    if care is ClaimCare.CHRONIC:
        return CareType.CHRONIC
    if care is ClaimCare.INPATIENT or med_type in INPATIENT_MED_TYPES:
        return CareType.INPATIENT
    if (care is ClaimCare.PHARMACY or med_type == "14") and disease and disease in set(chronic_diseases):
        return CareType.CHRONIC
    return CareType.OUTPATIENT


def filing_care(care: ClaimCare, computed: CareType) -> Care:
    """The care type the filing decision is taken for."""
    if care is ClaimCare.PHARMACY:
        return Care.PHARMACY
    return {CareType.INPATIENT: Care.INPATIENT, CareType.CHRONIC: Care.CHRONIC}.get(computed, Care.OUTPATIENT)


def service_date(computed: CareType, begndate: dt.date, enddate: dt.date) -> dt.date:
    """The date whose policy prices the care, as in direct settlement: a stay's discharge, else the visit's day."""
    return enddate if computed is CareType.INPATIENT else begndate


def catalogue_region(mr: ManualReimbursement, institution_region: str, insured_region: str) -> str:
    """Whose catalogue classes and prices the lines: the treatment place's (as in direct settlement) unless the
    insured region prices claims by its own."""
    return insured_region if mr.catalogue == "insured_place" else institution_region


def filing_category(decision: FilingDecision) -> FilingCategory:
    """The category that sets the claim's ratio: the filing's when the care was covered (a retroactive filing
    starting before the admission covers it), otherwise unfiled, whose mechanism applies even where the region
    does not settle unfiled care directly (settle_directly only forbids direct settlement)."""
    return decision.category if decision.covered else FilingCategory.UNFILED


def check_care(mr: ManualReimbursement, seq: int, care: ClaimCare, injury: bool, kinds: set[str]) -> None:
    """Excluded care is refused; an injury needs the undertaking where the region asks for one."""
    if care in mr.excluded_care:
        raise YidiError(R_EXCLUDED_CARE, seq=seq, care=care.value)
    if injury and mr.injury_requires_undertaking and MaterialKind.INJURY_UNDERTAKING.value not in kinds:
        raise YidiError(R_INJURY, seq=seq)


def missing_materials(mr: ManualReimbursement, stays: bool, visits: bool, kinds: set[str]) -> list[MaterialKind]:
    """The required kinds not uploaded: the inpatient list when the claim holds a stay, the outpatient list when it
    holds a visit (both for a claim with both)."""
    wanted: list[MaterialKind] = []
    for needed, key in ((stays, "inpatient"), (visits, "outpatient")):
        if needed:
            wanted += [k for k in mr.required_materials[key] if k not in wanted]  # type: ignore[index]
    return [k for k in wanted if k.value not in kinds]


def check_materials(missing: Sequence[MaterialKind | str]) -> None:
    if missing:
        raise YidiError(R_MATERIALS, kinds=", ".join(MaterialKind(k).value for k in missing))


def check_invoice_sum(seq: int, invoices: Sequence[Decimal], lines: Sequence[Decimal], limits: InputLimits) -> None:
    """A visit's invoices add up to its fee lines, to the fen; both at least one; the total within the limit."""
    where = f"visits[{seq}]."
    if not invoices:
        raise refuse(f"{where}invoices", "须至少一张发票", "needs at least one invoice")
    if not lines:
        raise refuse(f"{where}lines", "须有费用明细", "needs its fee lines")
    total = sum(lines, ZERO)
    if total > limits.max_visit_amount:
        raise refuse(
            f"{where}lines", f"合计超过上限{limits.max_visit_amount}", f"total above {limits.max_visit_amount}"
        )
    if sum(invoices, ZERO) != total:
        raise YidiError(R_INVOICE_SUM, seq=seq, invoices=sum(invoices, ZERO), lines=total)


# -- what was paid directly for the same care ----------------------------------------------------------------


@dataclass(frozen=True)
class DirectSettlement:
    """A direct settlement in force as a claim sees it: what it counts for now, in the accumulators
    (`increments`: its own and every later adjustment, 复核) and in fund terms (`fund_pay_sumamt`: its own share
    and the differences reviews decided), and its own fee lines (refunds folded in)."""

    setl_id: str
    fixmedins_code: str
    care: Care | None  # the care class of its med_type (outpatient, inpatient, chronic, pharmacy)
    service_date: dt.date
    admission: dt.date  # the day of its visit's begntime
    year: int
    fund_pay_sumamt: Decimal
    increments: dict[str, Decimal] = field(default_factory=dict)
    lines: tuple[FeeLine, ...] = ()


def same_care(
    settlements: Iterable[DirectSettlement],
    fixmedins_code: str | None,
    care: Care | None,
    begndate: dt.date,
    enddate: dt.date,
) -> list[DirectSettlement]:
    """The direct settlements in force of the same care: at the same institution, of the same care class (an
    outpatient visit during a claimed stay is another care), its service date or its visit's first day within
    the visit's days. An institution outside the network settles nothing directly."""
    if fixmedins_code is None or care is None:
        return []
    return [
        s
        for s in settlements
        if s.fixmedins_code == fixmedins_code
        and s.care is care
        and (begndate <= s.service_date <= enddate or begndate <= s.admission <= enddate)
    ]


def settled_lines(lines: Sequence[tuple[str, str, Decimal]], direct: Sequence[DirectSettlement]) -> dict[int, str]:
    """Index of a claim line → the setl_id of the settlement that already holds it (the same line number, code
    and amount): the whole care is the settlements' lines plus the claim's, so a settled line listed again (the
    hospital's full fee list imported) would be paid twice."""
    held = {(ln.feedetl_sn, ln.med_list_codg, ln.det_item_fee_sumamt): d.setl_id for d in direct for ln in d.lines}
    return {n: held[key] for n, key in enumerate(lines) if key in held}


def add(acc: Mapping[str, Decimal], increments: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """`acc` plus `increments`, key by key."""
    out = dict(acc)
    for key, value in increments.items():
        out[key] = out.get(key, Decimal(0)) + value
    return out


def net_change(
    year: int, claim_increments: Mapping[str, Decimal], direct: Sequence[DirectSettlement]
) -> dict[int, dict[str, Decimal]]:
    """How the accumulators change at approval, by year: the claim's increments in its year, less what every
    direct settlement it computes again counts for (each in its own year). Recomputing the whole care from the
    accumulators without those settlements and applying this difference leaves each total as if the care had
    been settled once, by the claim."""
    out: dict[int, dict[str, Decimal]] = {year: dict(claim_increments)}
    for s in direct:
        into = out.setdefault(s.year, {})
        for key, value in s.increments.items():
            into[key] = into.get(key, Decimal(0)) - value
    return {y: {k: v for k, v in inc.items() if v} for y, inc in out.items()}


@dataclass(frozen=True)
class Totals:
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    paid_directly: Decimal
    payable: Decimal


def visit_payable(fund: Decimal, paid_directly: Decimal) -> Decimal:
    """What a visit pays: the funds' share of the whole care less what was paid directly for it, never below
    zero (no refund to the fund through a claim: settlement.md §6)."""
    return max(ZERO, fund - paid_directly)


def totals(visits: Iterable[tuple[Decimal, Decimal, Decimal]]) -> Totals:
    """(medfee, fund, paid directly) of each visit → the claim's totals. The payable is each visit's, summed:
    a visit computed below what was paid for it directly does not take from another visit of the claim, which
    claimed on its own would be paid in full."""
    rows = list(visits)
    medfee = sum((r[0] for r in rows), ZERO)
    fund = sum((r[1] for r in rows), ZERO)
    paid = sum((r[2] for r in rows), ZERO)
    return Totals(medfee, fund, paid, sum((visit_payable(r[1], r[2]) for r in rows), ZERO))
