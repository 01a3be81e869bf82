"""Pure filing rules: what may be filed, for how long, and whether a visit is covered.

Functions take facts and policy values and return decisions; no database, clock or HTTP. Each refusal is a
`FilingRefused` carrying a stable code per rule and a message in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from yidi.core.calendar import WorkingDayCalendar
from yidi.core.errors import ErrorKind, YidiError
from yidi.parameters.policy import FilingCategory, LongTermSubtype, RegionPolicy
from yidi.reference.rules import DivisionIndex, has_department_for


class Kind(StrEnum):
    LONG_TERM = "long_term"  # 异地长期居住人员
    TEMPORARY = "temporary"  # 临时外出就医人员
    DESIGNATED_CHRONIC = "designated_chronic"  # 门诊特殊病种异地定点机构备案
    MATERNITY = "maternity"  # 生育备案


class Subtype(StrEnum):
    RESETTLED_RETIREE = "resettled_retiree"  # 异地安置退休人员
    LONG_TERM_RESIDENT = "long_term_resident"  # 异地长期居住人员
    POSTED_WORKER = "posted_worker"  # 常驻异地工作人员
    REFERRAL = "referral"  # 异地转诊就医人员
    EMERGENCY = "emergency"  # 异地急诊抢救人员
    OTHER_TEMPORARY = "other_temporary"  # 其他临时外出就医人员
    DESIGNATED_CHRONIC = "designated_chronic"
    MATERNITY = "maternity"

    @property
    def kind(self) -> Kind:
        if self in (Subtype.RESETTLED_RETIREE, Subtype.LONG_TERM_RESIDENT, Subtype.POSTED_WORKER):
            return Kind.LONG_TERM
        if self in (Subtype.REFERRAL, Subtype.EMERGENCY, Subtype.OTHER_TEMPORARY):
            return Kind.TEMPORARY
        return Kind(self.value)

    @property
    def ratio_category(self) -> FilingCategory:
        return {
            Kind.LONG_TERM: FilingCategory.LONG_TERM,
            Kind.DESIGNATED_CHRONIC: FilingCategory.LONG_TERM,
            Kind.MATERNITY: FilingCategory.LONG_TERM,
        }.get(self.kind) or FilingCategory(self.value)


class Basis(StrEnum):
    MATERIALS = "materials"  # 材料制
    COMMITMENT = "commitment"  # 承诺制
    NONE = "none"  # emergency and other temporary need no proof


class Channel(StrEnum):
    NATIONAL_APP = "national_app"  # 国家医保服务平台 APP / 网站
    MINI_PROGRAM = "mini_program"  # 国家异地就医备案小程序
    PROVINCIAL_APP = "provincial_app"  # 省级 APP / 网厅
    WEB_PORTAL = "web_portal"  # this platform's portal
    COUNTER = "counter"  # 经办窗口
    HOSPITAL = "hospital"  # institution (emergency, 2501/2505)
    PHONE = "phone"  # 12393

    @property
    def online(self) -> bool:
        return self in (Channel.NATIONAL_APP, Channel.MINI_PROGRAM, Channel.PROVINCIAL_APP, Channel.WEB_PORTAL)


class Status(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGED = "changed"  # replaced by an approved change
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"  # replaced by a renewal


def _kind(code: str, zh: str, en: str, status: int = 422) -> ErrorKind:
    return ErrorKind(code, zh, en, status)


# One error kind per rule, so clients and tests can tell them apart.
R_INSURANCE = _kind(
    "F_INSURANCE", "参保状态不正常，不能备案", "insurance is not active; a filing needs normal enrolment"
)
R_LOCAL = _kind(
    "F_LOCAL_TARGET",
    "就医地{target}属于参保地统筹区，无需异地备案",
    "{target} is in the insured pooling region; no cross-region filing is needed",
)
R_TARGET = _kind("F_TARGET", "备案地{target}无效：{reason}", "invalid filing area {target}: {reason}")
R_COMMITMENT = _kind(
    "F_COMMITMENT",
    "{subtype}不接受承诺制备案，请上传证明材料",
    "{subtype} filings are not accepted on an undertaking; upload proof",
)
R_BASIS = _kind("F_BASIS", "{subtype}须以{basis}方式备案", "{subtype} filings need basis {basis}")
R_RETROACTIVE = _kind(
    "F_RETROACTIVE", "参保地不支持{begndate}起的补办备案", "retroactive filing from {begndate} is not supported"
)
R_ONE_AREA = _kind(
    "F_ONE_AREA",
    "已有有效的异地备案（{other}），请先取消再备案其他地区",
    "an active filing ({other}) exists; cancel it before filing another area",
)
R_LOCK = _kind(
    "F_LOCK",
    "长期备案自{approved}起{months}个月内不能变更或取消，最早可于{until}办理",
    "a long-term filing cannot be changed or cancelled within {months} months of {approved}; earliest {until}",
)
R_INSTITUTION_COUNT = _kind(
    "F_INSTITUTION_COUNT",
    "定点医疗机构须为1至{max}家，申请了{count}家",
    "choose 1 to {max} designated institutions; {count} were given",
)
R_INSTITUTION = _kind(
    "F_INSTITUTION", "机构{code}不能选为定点：{reason}", "institution {code} cannot be designated: {reason}"
)
R_QUALIFICATION = _kind(
    "F_QUALIFICATION", "没有{disease}的有效门诊慢特病资格", "no valid chronic-disease qualification for {disease}"
)
R_MATERNITY = _kind("F_MATERNITY", "参保地未开通生育备案", "the insured region does not offer maternity filing")
R_RENEW = _kind(
    "F_RENEW",
    "只能在到期前续期仍有效的定点机构备案",
    "only an approved designated-institution filing can be renewed before it ends",
)
R_STATE = _kind("F_STATE", "备案当前状态为{status}，不能{action}", "the filing is {status}; cannot {action}", 409)
R_DATES = _kind("F_DATES", "备案日期无效：{reason}", "invalid filing dates: {reason}")


class FilingRefused(YidiError):
    pass


def refuse(kind: ErrorKind, **details: object) -> FilingRefused:
    return FilingRefused(kind, **details)


@dataclass(frozen=True)
class InstitutionFacts:
    fixmedins_code: str
    pooling_region: str
    networked: bool
    caty_codes: list[str]
    chronic_opened: set[str]  # diseases opened for cross-region settlement on the start date
    is_hospital: bool = True


@dataclass(frozen=True)
class Qualification:
    opsp_dise_code: str
    begndate: dt.date
    enddate: dt.date
    national_group: str | None = None


@dataclass(frozen=True)
class FilingView:
    """A filing as the rules see it."""

    id: str
    subtype: Subtype
    target_region: str
    begndate: dt.date
    enddate: dt.date | None
    basis: Basis
    status: Status
    approved_on: dt.date | None = None
    void_from: dt.date | None = None  # changed/cancelled/superseded: no cover from this date
    proof_deadline: dt.date | None = None
    proof_received_on: dt.date | None = None
    opsp_dise_code: str | None = None
    institutions: tuple[str, ...] = ()
    channel: Channel = Channel.WEB_PORTAL

    def in_force(self, day: dt.date) -> bool:
        """Approved once, started on or before `day`, not ended or voided before it."""
        if self.approved_on is None or self.status in (Status.SUBMITTED, Status.UNDER_REVIEW, Status.REJECTED):
            return False
        if day < self.begndate or (self.enddate is not None and day > self.enddate):
            return False
        return self.void_from is None or day < self.void_from


@dataclass(frozen=True)
class SubmissionFacts:
    insured_region: str
    insurance_active: bool
    subtype: Subtype
    target_region: str
    begndate: dt.date
    basis: Basis
    channel: Channel
    submitted_on: dt.date
    opsp_dise_code: str | None = None
    qualification: Qualification | None = None
    institutions: list[InstitutionFacts] = field(default_factory=list)
    active_filings: list[FilingView] = field(default_factory=list)  # of the same person, in force or pending
    replaces: FilingView | None = None


@dataclass(frozen=True)
class Plan:
    target_region: str
    target_level: str
    begndate: dt.date
    enddate: dt.date | None
    proof_deadline: dt.date | None
    auto_approve: bool
    due_date: dt.date | None  # review deadline (working days) when not auto-approved
    retroactive: bool
    due_date_provisional: bool = False  # counted over a year without an official holiday notice


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def normalise_target(
    divisions: DivisionIndex, policy: RegionPolicy, insured_region: str, target: str
) -> tuple[str, str]:
    """The filed area: a city (pooling region) or a whole province, as the insured region's rule says."""
    try:  # a county code stands for its pooling region
        division = divisions.get(target) or divisions.pooling_region_of(target)
    except YidiError:
        raise refuse(R_TARGET, target=target, reason="unknown division code / 未知区划") from None
    insured = divisions.pooling_region_of(insured_region)
    whole_province = division.level.value == "province" and not division.is_pooling_region
    if whole_province and (policy.filing.target != "province" or division.code == insured.province_code):
        raise refuse(R_TARGET, target=target, reason="name a city; this region files by city / 请选择具体城市")
    pool = None if whole_province else divisions.pooling_region_of(target)
    if pool is not None and pool.code == insured.code:
        raise refuse(R_LOCAL, target=target)
    if policy.filing.target == "province" and division.province_code != insured.province_code:
        return division.province_code, "province"
    assert pool is not None
    return pool.code, "city"


def plan_submission(
    policy: RegionPolicy, divisions: DivisionIndex, calendar: WorkingDayCalendar, f: SubmissionFacts
) -> Plan:
    """Check a new filing (or a change) against the insured region's rules; raise on the first broken rule."""
    if not f.insurance_active:
        raise refuse(R_INSURANCE)
    rules = policy.filing
    kind = f.subtype.kind
    if kind is Kind.MATERNITY and not rules.maternity_filing:
        raise refuse(R_MATERNITY)
    target, level = normalise_target(divisions, policy, f.insured_region, f.target_region)
    _check_basis(policy, f)
    retroactive = f.begndate < f.submitted_on
    if retroactive and f.subtype is not Subtype.EMERGENCY:
        allowed_from = rules.retroactive_filing_from
        if allowed_from is None or f.begndate < allowed_from:
            raise refuse(R_RETROACTIVE, begndate=f.begndate)
    enddate: dt.date | None = None
    if kind is Kind.TEMPORARY:
        enddate = add_months(f.begndate, rules.temporary_validity_months) - dt.timedelta(days=1)
    elif kind is Kind.DESIGNATED_CHRONIC:
        enddate = _check_designated(policy, target, level, f)
    if f.replaces is None:
        _check_one_area(rules.one_area_at_a_time, target, f)
    proof_deadline = None
    if f.basis is Basis.COMMITMENT and policy.commitment.proof_deadline_days:
        proof_deadline = f.submitted_on + dt.timedelta(days=policy.commitment.proof_deadline_days)
    auto = f.subtype is Subtype.EMERGENCY and f.channel is Channel.HOSPITAL
    auto = auto or (f.basis is Basis.COMMITMENT and f.channel.online and policy.commitment.accepted_online_auto_approve)
    auto = auto or f.subtype is Subtype.OTHER_TEMPORARY  # no proof to review
    due = None if auto else calendar.count_working_days(f.submitted_on, rules.review_working_days)
    return Plan(
        target,
        level,
        f.begndate,
        enddate,
        proof_deadline,
        auto,
        due.date if due else None,
        retroactive,
        due.provisional if due else False,
    )


def _check_basis(policy: RegionPolicy, f: SubmissionFacts) -> None:
    kind = f.subtype.kind
    if f.basis is Basis.COMMITMENT:
        if kind is not Kind.LONG_TERM or not policy.commitment.accepted[LongTermSubtype(f.subtype.value)]:
            raise refuse(R_COMMITMENT, subtype=f.subtype.value)
    elif f.subtype in (Subtype.REFERRAL, Subtype.DESIGNATED_CHRONIC) and f.basis is not Basis.MATERIALS:
        raise refuse(R_BASIS, subtype=f.subtype.value, basis=Basis.MATERIALS.value)
    elif kind is Kind.LONG_TERM and f.basis is Basis.NONE:
        raise refuse(R_BASIS, subtype=f.subtype.value, basis="materials/commitment")


def _check_designated(policy: RegionPolicy, target: str, level: str, f: SubmissionFacts) -> dt.date:
    q = f.qualification
    if (
        f.opsp_dise_code is None
        or q is None
        or q.opsp_dise_code != f.opsp_dise_code
        or not (q.begndate <= f.begndate <= q.enddate)
    ):
        raise refuse(R_QUALIFICATION, disease=f.opsp_dise_code or "?")
    limit = policy.filing.designated_chronic_institutions_max
    if not 1 <= len(f.institutions) <= limit:
        raise refuse(R_INSTITUTION_COUNT, max=limit, count=len(f.institutions))
    for inst in f.institutions:
        where = inst.pooling_region if level == "city" else inst.pooling_region[:2] + "0000"
        if where != target:
            raise refuse(R_INSTITUTION, code=inst.fixmedins_code, reason="not in the filed area / 不在备案地")
        if not inst.is_hospital or not inst.networked:
            raise refuse(
                R_INSTITUTION,
                code=inst.fixmedins_code,
                reason="not a networked designated hospital / 非联网定点医疗机构",
            )
        if not has_department_for(inst.caty_codes, q.national_group):
            raise refuse(
                R_INSTITUTION, code=inst.fixmedins_code, reason=f"no department for {f.opsp_dise_code} / 无相应诊疗科目"
            )
        if f.opsp_dise_code not in inst.chronic_opened:
            raise refuse(
                R_INSTITUTION,
                code=inst.fixmedins_code,
                reason=f"not connected for cross-region settlement of {f.opsp_dise_code} / 未开通该病种异地结算",
            )
    return q.enddate  # the filing follows the qualification's validity


def _check_one_area(one_area: bool, target: str, f: SubmissionFacts) -> None:
    if not one_area or f.subtype.kind not in (Kind.LONG_TERM, Kind.TEMPORARY):
        return
    for other in f.active_filings:
        if (
            other.subtype.kind in (Kind.LONG_TERM, Kind.TEMPORARY)
            and other.target_region != target
            and (
                other.status in (Status.SUBMITTED, Status.UNDER_REVIEW)
                or (other.status is Status.APPROVED and (other.enddate is None or other.enddate >= f.begndate))
            )
        ):
            raise refuse(R_ONE_AREA, other=f"{other.id} {other.target_region}")


def check_change_allowed(policy: RegionPolicy, filing: FilingView, on: dt.date, action: str) -> None:
    """A long-term filing is locked for the region's minimum period after approval (at most 6 months)."""
    if filing.status is not Status.APPROVED:
        raise refuse(R_STATE, status=filing.status.value, action=action)
    if filing.subtype.kind is not Kind.LONG_TERM or filing.approved_on is None:
        return
    months = policy.filing.long_term_min_months_before_change
    until = add_months(filing.approved_on, months)
    if on < until:
        raise refuse(R_LOCK, approved=filing.approved_on, months=months, until=until)
