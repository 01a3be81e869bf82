"""The typed shape of a region's policy on one date. Every field is required unless it says `None` means
"the region has no such rule": a missing value is an error in the tree, never a silent default.

Amounts are yuan `Decimal` (at most two decimals); ratios are `Decimal` in [0, 1]; percentage-point cuts
are `Decimal` points (10 = ten points).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from yidi.reference.models import SettlementLevel


def _two_places(v: Decimal) -> Decimal:
    if v != v.quantize(Decimal("0.01")):
        raise ValueError("an amount has at most two decimals")
    return v.quantize(Decimal("0.01"))  # 700 → 700.00, so every amount carries its fen


Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False), AfterValidator(_two_places)]
PositiveAmount = Annotated[Decimal, Field(gt=0, allow_inf_nan=False), AfterValidator(_two_places)]
Ratio = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
Points = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
DiseaseCode = Annotated[str, Field(pattern=r"^M[0-9]{5}$")]

T = TypeVar("T")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ByLevel(_Strict, Generic[T]):
    """One value per 医保结算等级 of the treating institution."""

    level_1: T
    level_2: T
    level_3: T
    unrated: T

    def for_level(self, level: SettlementLevel | str) -> T:
        return getattr(self, SettlementLevel(level).value)  # type: ignore[no-any-return]


class ByPerson(_Strict, Generic[T]):
    """A value for everyone (`default`) with an optional different value for retirees."""

    default: T
    retiree: T | None = None

    def for_person(self, retiree: bool) -> T:
        return self.retiree if retiree and self.retiree is not None else self.default


class Band(_Strict):
    above: Amount  # the band covers the part of the base above this amount (up to the next band)
    rate: Ratio


class Scale(_Strict):
    """Bands (分段) over a base amount; E6's 大病 bands are one."""

    bands: list[Band] = Field(min_length=1)

    @field_validator("bands")
    @classmethod
    def _ascending_from_zero(cls, bands: list[Band]) -> list[Band]:
        if bands[0].above != 0:
            raise ValueError("the first band must start at 0")
        if any(b.above <= a.above for a, b in itertools.pairwise(bands)):
            raise ValueError("band thresholds must increase")
        return bands

    def apply(self, base: Decimal) -> Decimal:
        """Σ rate × (part of `base` inside each band), unrounded."""
        total = Decimal(0)
        for i, band in enumerate(self.bands):
            upper = self.bands[i + 1].above if i + 1 < len(self.bands) else None
            if base <= band.above:
                break
            part = (min(base, upper) if upper is not None else base) - band.above
            total += part * band.rate
        return total


def _ratio_or_scale(value: object) -> str:
    return "<scale>" if isinstance(value, dict | Scale) else "<ratio>"


# A flat ratio or bands; the discriminator keeps error messages to the one shape the file meant.
RatioOrScale = Annotated[
    Annotated[Ratio, Tag("<ratio>")] | Annotated[Scale, Tag("<scale>")], Discriminator(_ratio_or_scale)
]


class Outpatient(_Strict):
    """普通门诊统筹: yearly deductible, ratio by level, yearly cap of its own."""

    deductible: ByPerson[Amount]
    ratio: ByPerson[ByLevel[RatioOrScale]]
    annual_cap: Amount | None  # None: counted only against the scheme's annual cap


class Inpatient(_Strict):
    """住院: deductible per stay (first stay of the year vs later stays), ratio by level."""

    deductible_first_stay: ByPerson[ByLevel[Amount]]
    deductible_later_stay: ByPerson[ByLevel[Amount]]
    ratio: ByPerson[ByLevel[RatioOrScale]]


class ChronicDisease(_Strict):
    """One 门诊慢特病 disease: deductible (per year or per month), ratio, monthly and yearly caps."""

    name: str
    deductible: Amount
    deductible_period: Literal["year", "month"]
    ratio: ByPerson[ByLevel[Ratio]]
    monthly_cap: PositiveAmount | None
    annual_cap: PositiveAmount | None


class Chronic(_Strict):
    diseases: dict[DiseaseCode, ChronicDisease]
    several_diseases_rule: Literal["highest_cap", "sum_of_caps"]  # 揭阳: highest single-disease cap


class TopUp(_Strict):
    """大额医疗费用补助 (employees, above the basic cap) or 大病保险 (residents, bands over its deductible)."""

    kind: Literal["large_amount", "critical_illness"]
    deductible: Amount
    scale: Scale
    annual_cap: PositiveAmount | None
    in_direct_settlement: bool  # settled in the same cross-region transaction (else claimed at home)


class CivilServantSubsidy(_Strict):
    """公务员医疗补助: a share of the eligible personal part, up to a yearly cap."""

    ratio: Ratio
    annual_cap: PositiveAmount


class Scheme(_Strict):
    insutype: Literal["310", "390"]
    annual_cap: PositiveAmount  # 统筹基金年度最高支付限额
    personal_account: bool  # an account may pay the personal share (acct_used_flag)
    outpatient: Outpatient
    inpatient: Inpatient
    chronic: Chronic
    top_up: TopUp
    civil_servant: CivilServantSubsidy | None


class FilingCategory(StrEnum):
    """The categories that set the cross-region ratio."""

    LONG_TERM = "long_term"  # 异地长期居住 (安置退休, 长期居住, 常驻工作)
    REFERRAL = "referral"  # 异地转诊
    EMERGENCY = "emergency"  # 异地急诊抢救
    OTHER_TEMPORARY = "other_temporary"  # 其他临时外出就医
    UNFILED = "unfiled"  # 未备案
    COMMITMENT_PENDING = "commitment_pending"  # 承诺制, materials still outstanding


class Mechanism(_Strict):
    """How a filing category reduces benefits (all zero / None = local same-level benefits)."""

    settle_directly: bool  # False: no direct settlement, manual reimbursement only
    point_cut: Points  # ratio reduced by this many percentage points
    first_selfpay: Ratio  # share of the eligible amount the person pays first
    separate_deductible: Amount | None  # replaces the normal deductible
    ratio_floor: Ratio | None  # the reduced ratio never falls below this


class CrossRegion(_Strict):
    in_province: dict[FilingCategory, Mechanism]
    cross_province: dict[FilingCategory, Mechanism]

    @model_validator(mode="after")
    def _every_category(self) -> CrossRegion:
        for name, table in (("in_province", self.in_province), ("cross_province", self.cross_province)):
            missing = set(FilingCategory) - set(table)
            if missing:
                raise ValueError(f"{name} lacks categories {sorted(m.value for m in missing)}")
        return self


class LongTermSubtype(StrEnum):
    RESETTLED_RETIREE = "resettled_retiree"  # 异地安置退休
    LONG_TERM_RESIDENT = "long_term_resident"  # 异地长期居住
    POSTED_WORKER = "posted_worker"  # 常驻异地工作


class Commitment(_Strict):
    """承诺制: whether an undertaking may replace proof, and what happens when proof never comes."""

    accepted: dict[LongTermSubtype, bool]
    accepted_online_auto_approve: bool
    proof_deadline_days: int | None = Field(ge=1)
    consequence: Literal["none", "lower_ratio", "cancel", "downgrade_to_temporary", "fixed_term"]
    ban_months: int = Field(ge=0)

    @model_validator(mode="after")
    def _every_subtype(self) -> Commitment:
        missing = set(LongTermSubtype) - set(self.accepted)
        if missing:
            raise ValueError(f"accepted lacks sub-types {sorted(m.value for m in missing)}")
        if any(self.accepted.values()) and self.proof_deadline_days is None and self.consequence != "none":
            raise ValueError("a consequence needs proof_deadline_days")
        return self


class FilingRules(_Strict):
    target: Literal["city", "province"]  # a filing names a city, or the whole province
    temporary_validity_months: int = Field(ge=1, le=36)
    long_term_min_months_before_change: int = Field(ge=0, le=6)  # national ceiling: 6 months
    review_working_days: int = Field(ge=0, le=30)
    one_area_at_a_time: bool
    designated_chronic_institutions_max: int = Field(ge=1, le=10)
    chronic_requires_designated_institution: bool  # 北京 门特: only at the filed 1–2 institutions
    retroactive_filing_from: dt.date | None  # 补办 allowed for admissions from this date; None: not allowed
    maternity_filing: bool


class Exclusions(_Strict):
    """Care that is not settled directly and goes to manual reimbursement."""

    psychiatric_specialist_inpatient: bool
    emergency_observation: bool  # 急诊留观
    pharmacy_purchase: bool
    third_party_injury: bool


class ClaimCare(StrEnum):
    """What a manual claim is for: the care types of direct settlement plus the exclusions (settlement.md §9)."""

    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    CHRONIC = "chronic"  # 门慢特病
    PHARMACY = "pharmacy"  # 定点药店购药
    EMERGENCY_OBSERVATION = "emergency_observation"  # 急诊留观
    MATERNITY = "maternity"  # 生育
    WORK_INJURY = "work_injury"  # 工伤: a separate system (national)


class MaterialKind(StrEnum):
    """The papers of a manual claim (settlement.md §10, 东莞's list)."""

    INVOICE = "invoice"  # 发票
    FEE_LIST = "fee_list"  # 费用明细清单
    DISCHARGE_SUMMARY = "discharge_summary"  # 出院小结
    DIAGNOSIS = "diagnosis"  # 诊断证明
    CASE_FIRST_PAGE = "case_first_page"  # 病案首页
    OUTPATIENT_RECORD = "outpatient_record"  # 门诊病历
    ID_COPY = "id_copy"  # 身份证件复印件
    BANK_ACCOUNT = "bank_account"  # 银行账户
    INJURY_UNDERTAKING = "injury_undertaking"  # 外伤无第三方责任承诺书
    OTHER = "other"


class ManualReimbursement(_Strict):
    """手工报销 of the insured region: when a claim is late, what it needs, which catalogue prices it."""

    deadline_months: int | None = Field(ge=1, le=60)  # from discharge (a stay) or the visit; None: see below
    deadline_end_of_following_year: bool  # 常州: until 31 December of the year after the care ended
    review_working_days: int = Field(ge=1, le=60)  # a decision is due within these working days of submission
    catalogue: Literal["treatment_place", "insured_place"]  # whose catalogue classes and prices the lines
    excluded_care: list[ClaimCare]  # not reimbursed at all, even manually
    injury_requires_undertaking: bool  # an injury is reimbursed only with the 外伤无第三方责任承诺书
    required_materials: dict[Literal["inpatient", "outpatient"], list[MaterialKind]]  # before review starts

    @model_validator(mode="after")
    def _one_deadline(self) -> ManualReimbursement:
        if (self.deadline_months is None) == (not self.deadline_end_of_following_year):
            raise ValueError("give deadline_months or deadline_end_of_following_year: true, not both or neither")
        missing = {"inpatient", "outpatient"} - set(self.required_materials)
        if missing:
            raise ValueError(f"required_materials lacks {sorted(missing)}")
        return self


class InProvinceNoFiling(_Strict):
    """Province-internal exemptions: care that needs no filing inside the province."""

    inpatient: bool
    outpatient: bool
    pharmacy: bool


class RegionPolicy(_Strict):
    region: str
    name: str
    on: dt.date
    employee: Scheme
    resident: Scheme
    cross_region: CrossRegion
    commitment: Commitment
    filing: FilingRules
    exclusions: Exclusions
    manual_reimbursement: ManualReimbursement
    chronic_cross_province: list[DiseaseCode]  # diseases this region settles across provinces
    in_province_no_filing: InProvinceNoFiling

    @model_validator(mode="after")
    def _schemes_match(self) -> RegionPolicy:
        if self.employee.insutype != "310" or self.resident.insutype != "390":
            raise ValueError("employee must be insutype 310 and resident 390")
        if self.employee.top_up.kind != "large_amount" or self.resident.top_up.kind != "critical_illness":
            raise ValueError("employee top_up is large_amount (大额), resident top_up is critical_illness (大病)")
        for scheme in (self.employee, self.resident):
            unknown = set(self.chronic_cross_province) - set(scheme.chronic.diseases)
            if unknown:
                raise ValueError(
                    f"chronic_cross_province lists {sorted(unknown)} without benefits in {scheme.insutype}"
                )
        return self

    def scheme(self, insutype: str) -> Scheme:
        if insutype == "310":
            return self.employee
        if insutype == "390":
            return self.resident
        raise KeyError(insutype)


class NoFilingZone(_Strict):
    """A rule-based zone where insured persons of member provinces need no filing (京津冀)."""

    name: str
    members: list[Annotated[str, Field(pattern=r"^[0-9]{2}$")]]  # province prefixes
    care: list[Literal["inpatient", "outpatient", "pharmacy", "chronic"]]


class InputLimits(_Strict):
    """The platform's bounds on interface input (operating limits, dated like policy so a change is traceable)."""

    max_line_amount: PositiveAmount
    max_unit_price: PositiveAmount
    max_line_count: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
    max_visit_amount: PositiveAmount
    clock_skew_seconds: Annotated[int, Field(ge=0, le=86_400)]
    institution_read_days: Annotated[int, Field(ge=0, le=366)]  # see yidi.settlement.presence


class NationalPolicy(_Strict):
    on: dt.date
    input_limits: InputLimits
    ceiling_points: dict[Literal["referral_or_emergency", "other_temporary"], Points]
    no_filing_zones: dict[str, NoFilingZone] = Field(default_factory=dict)  # a zone exists from its start date
    chronic_cross_province: list[DiseaseCode]  # national cross-province 门慢 list
