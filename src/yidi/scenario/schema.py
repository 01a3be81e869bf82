"""The scenario file: its YAML reading and its validated shape (documented in docs/scenario.md).

Institutions and persons reuse the reference and people input schemas (`InstitutionIn`, `PersonIn`), with the
checks that need reference data added here so that a bad value is reported at its path before anything is
written. Every model forbids unknown keys.

The YAML is read with two deliberate changes to YAML 1.1: numbers and dates are **not** converted by the
YAML reader (a code such as `110000`, `01` or `0371` stays text, an amount such as `8800.00` becomes an exact
decimal, never a float, and a bad date is reported at its field) and a key repeated in one mapping is an error
instead of silently keeping the last value.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from yaml.constructor import ConstructorError

from yidi.core.certno import validate_certno
from yidi.core.clock import SHANGHAI, to_shanghai
from yidi.core.errors import YidiError
from yidi.core.money import parse_amount
from yidi.core.principal import Role
from yidi.filing.rules import Basis, Channel, Subtype
from yidi.parameters.policy import ClaimCare, MaterialKind
from yidi.people.schemas import InsuranceIn, PersonIn
from yidi.reference.models import SettlementLevel
from yidi.reference.rules import divisions
from yidi.reference.schemas import InstitutionIn
from yidi.reimbursement.inputs import MAX_DIAGNOSES, MAX_INVOICES, MAX_LINES, MAX_MATERIALS, MAX_VISITS
from yidi.scenario.errors import Bilingual, Problem
from yidi.security.service import check_password_rules
from yidi.security.signing import Scheme

DEFAULT_TIME = dt.time(9, 0)  # a date given where a moment is expected means 09:00 Beijing time that day
INSTITUTION_CODE = r"^[HP][0-9]{11}$"
PSN_NO = r"^[0-9A-Za-z]{1,30}$"
DISEASE = r"^M[0-9]{5}$"


# -- YAML ---------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML without int/float/timestamp conversion and with duplicate keys refused."""


# Numbers and timestamps stay text; the schema parses them and names the field when one is wrong.
_TEXT_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _TEXT_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key; the schema refuses it later
            continue
        if duplicate:
            raise ConstructorError(None, None, f"duplicate key '{key}' / 重复的键", key_node.start_mark)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(text: str) -> tuple[Any, Problem | None]:
    """The document, or the problem that stops it from being read (with its line and column)."""
    try:
        return yaml.load(text, Loader=_Loader), None  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        return None, Problem(where, f"YAML语法错误：{reason}", f"YAML syntax error: {reason}")
    except yaml.YAMLError as exc:
        return None, Problem("(document)", f"YAML语法错误：{exc}", f"YAML syntax error: {exc}")


# -- shared value checks --------------------------------------------------------------------------------


def _moment(value: object) -> object:
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            return value
    elif isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, DEFAULT_TIME, tzinfo=SHANGHAI)
    return value


# An aware moment: `2025-06-02T09:30:00+08:00`; without an offset it is Beijing time; a date alone is 09:00.
Moment = Annotated[dt.datetime, BeforeValidator(_moment), AfterValidator(to_shanghai)]


def pooling_region(code: str) -> str:
    division = divisions().get(code)
    if division is None or not division.is_pooling_region:
        raise Bilingual(f"{code}不是统筹区代码", f"{code} is not a pooling region code")
    return code


def _password(value: str | None) -> str | None:
    if value is not None:
        try:
            check_password_rules(value)
        except YidiError as exc:
            raise Bilingual.of(exc) from None
    return value


PoolingRegion = Annotated[str, Field(pattern=r"^[0-9]{6}$"), AfterValidator(pooling_region)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- institutions and persons (the shared input schemas, with reference checks) -------------------------


class ScenarioInstitution(InstitutionIn):
    @field_validator("pooling_region")
    @classmethod
    def _pooling_region(cls, value: str) -> str:
        return pooling_region(value)

    @field_validator("admdvs")
    @classmethod
    def _admdvs(cls, value: str, info: ValidationInfo) -> str:
        try:
            region = divisions().pooling_region_of(value)
        except YidiError as exc:
            raise Bilingual.of(exc) from None
        stated = info.data.get("pooling_region")
        if stated is not None and region.code != stated:
            raise Bilingual(
                f"所在地{value}属于统筹区{region.code}，不属于pooling_region {stated}",
                f"{value} lies in pooling region {region.code}, not in pooling_region {stated}",
            )
        return value

    def institution_in(self) -> InstitutionIn:
        return InstitutionIn.model_validate(self.model_dump())


class ScenarioInsurance(InsuranceIn):
    @field_validator("insuplc_admdvs")
    @classmethod
    def _insured_region(cls, value: str) -> str:
        return pooling_region(value)

    @field_validator("balc", mode="before")
    @classmethod
    def _money(cls, value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):  # null, a list: named, not a crash
            raise Bilingual("金额须为文本或整数", "must be an amount as text or an integer")
        try:
            return parse_amount(value)
        except YidiError as exc:
            raise Bilingual.of(exc) from None


class ScenarioPerson(PersonIn):
    insurances: list[ScenarioInsurance] = Field(min_length=1)  # type: ignore[assignment]
    password: str | None = None  # portal password of this person (overrides accounts.person_password)

    @field_validator("certno")
    @classmethod
    def _certno(cls, value: str) -> str:
        try:
            return validate_certno(value)
        except YidiError as exc:
            raise Bilingual.of(exc) from None

    @field_validator("password")
    @classmethod
    def _password_rules(cls, value: str | None) -> str | None:
        return _password(value)

    def person_in(self) -> PersonIn:
        return PersonIn.model_validate(self.model_dump(exclude={"password"}))


# -- accounts -------------------------------------------------------------------------------------------


class ScenarioStaff(_Strict):
    username: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9._@-]+$")
    display_name: str = Field(min_length=1, max_length=50)
    roles: list[Role] = Field(min_length=1)
    regions: list[PoolingRegion] = Field(min_length=1)  # pooling regions they act for
    password: str

    @field_validator("password")
    @classmethod
    def _password_rules(cls, value: str) -> str:
        _password(value)
        return value


class ScenarioCredential(_Strict):
    fixmedins_code: str = Field(pattern=INSTITUTION_CODE)
    key_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")  # x-tif-paasid
    scheme: Scheme
    key_material: str = Field(min_length=1, max_length=200)

    @field_validator("key_material")
    @classmethod
    def _key(cls, value: str, info: ValidationInfo) -> str:
        scheme = info.data.get("scheme")
        if scheme is Scheme.SM2_SM3 and not (len(value) == 128 and all(c in "0123456789abcdefABCDEF" for c in value)):
            raise Bilingual("SM2公钥应为128位十六进制（x‖y）", "an SM2 public key is 128 hex digits (x‖y)")
        if scheme in (Scheme.HMAC_SHA256, Scheme.HMAC_SM3) and len(value) < 16:
            raise Bilingual("HMAC密钥至少16个字符", "an HMAC secret has at least 16 characters")
        return value


class ScenarioAccounts(_Strict):
    person_password: str | None = None  # for every person of the scenario without a password of their own
    staff: list[ScenarioStaff] = Field(default_factory=list)
    institution_credentials: list[ScenarioCredential] = Field(default_factory=list)

    @field_validator("person_password")
    @classmethod
    def _password_rules(cls, value: str | None) -> str | None:
        return _password(value)


# -- catalogues and filings -----------------------------------------------------------------------------


class ScenarioCatalogue(_Strict):
    region: PoolingRegion  # the treatment pooling region the catalogue belongs to
    file: str = Field(min_length=1, max_length=500)  # .csv or .xlsx, relative to the scenario file

    @field_validator("file")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if not value.lower().endswith((".csv", ".xlsx")):
            raise Bilingual("目录文件须为 .csv 或 .xlsx", "a catalogue file is .csv or .xlsx")
        return value


class ScenarioMaterial(_Strict):
    kind: str = Field(min_length=1, max_length=30)  # residence_proof, referral_proof, diagnosis, undertaking, …
    file: str = Field(min_length=1, max_length=500)  # PDF, PNG or JPEG, relative to the scenario file
    uploaded_at: Moment | None = None  # default: the filing's submitted_at


class DecisionAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_MATERIALS = "request_materials"


class ScenarioDecision(_Strict):
    action: DecisionAction
    reason: str | None = Field(None, min_length=1, max_length=500, validate_default=True)
    decided_at: Moment | None = None  # default: the last upload, else submitted_at
    decided_by: str | None = Field(None, min_length=1, max_length=50)  # a staff username; default: the loader

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("action") in (DecisionAction.REJECT, DecisionAction.REQUEST_MATERIALS):
            raise Bilingual("驳回或要求补充材料须填写原因", "a reason is required to reject or request materials")
        return value


class ScenarioFiling(_Strict):
    psn_no: str = Field(pattern=PSN_NO)
    insutype: str = Field(pattern=r"^3[0-9]{2}$")
    subtype: Subtype
    target_region: str = Field(pattern=r"^[0-9]{6}$")  # mdtrtarea_admdvs
    begndate: dt.date
    basis: Basis
    channel: Channel
    opsp_dise_code: str | None = Field(None, pattern=DISEASE)
    institutions: list[Annotated[str, Field(pattern=INSTITUTION_CODE)]] = Field(default_factory=list)
    reason: str | None = Field(None, max_length=500)
    submitted_at: Moment | None = None  # default: the `now` of the load
    submitted_by: str | None = Field(None, min_length=1, max_length=50)  # a staff username; default: the loader
    materials: list[ScenarioMaterial] = Field(default_factory=list)
    decision: ScenarioDecision | None = None


# -- claims (手工报销) ----------------------------------------------------------------------------------------
# The shapes only: every value is then read by the claims module's own readers (reimbursement.inputs and
# .feelist) in step 2, at the claim's time, so a scenario claim obeys exactly the rules of the API.


class ClaimChannel(StrEnum):
    ONLINE = "online"  # the person themself
    COUNTER = "counter"  # agency staff for them


class ClaimAction(StrEnum):
    APPROVE = "approve"
    RETURN = "return"  # for materials
    REFUSE = "refuse"


def _division(code: str | None) -> str | None:
    if code is not None and divisions().get(code) is None:
        raise Bilingual(f"{code}不是区划代码", f"{code} is not a division code")
    return code


class ScenarioPayee(_Strict):
    payee_name: str | None = Field(None, max_length=50)  # default: the person's name
    bank_name: str = Field(max_length=100)
    bank_account: str = Field(max_length=40)  # 10–30 digits; spaces and dashes are dropped


class ScenarioDiagnosis(_Strict):
    diag_code: str = Field(max_length=20)
    diag_name: str = Field(max_length=300)
    maindiag_flag: bool = False


class ScenarioInvoice(_Strict):
    invono: str = Field(max_length=40)
    invoice_date: dt.date
    amount: str = Field(max_length=40)  # yuan, exact (text: numbers are never floats here)


class ScenarioLine(_Strict):
    feedetl_sn: str = Field(max_length=30)
    med_list_codg: str = Field(max_length=50)
    medins_list_codg: str = Field(max_length=150)
    medins_list_name: str | None = Field(None, max_length=200)
    fee_ocur_time: str = Field(max_length=35)  # yyyy-MM-dd HH:mm:ss, Beijing time unless an offset is given
    cnt: str = Field(max_length=40)
    pric: str = Field(max_length=40)
    det_item_fee_sumamt: str = Field(max_length=40)


class ScenarioVisit(_Strict):
    fixmedins_code: str | None = Field(None, pattern=INSTITUTION_CODE)  # a designated institution
    institution_name: str | None = Field(None, max_length=100)  # or one outside the network: name, region, level
    institution_region: Annotated[str | None, AfterValidator(_division)] = Field(None, pattern=r"^[0-9]{6}$")
    institution_level: SettlementLevel | None = None
    care: ClaimCare
    med_type: str = Field(max_length=6)
    begndate: dt.date
    enddate: dt.date
    dise_codg: str | None = Field(None, pattern=DISEASE)
    diagnoses: list[ScenarioDiagnosis] = Field(min_length=1, max_length=MAX_DIAGNOSES)
    injury: bool = False
    invoices: list[ScenarioInvoice] = Field(default_factory=list, max_length=MAX_INVOICES)
    lines: list[ScenarioLine] | None = Field(None, max_length=MAX_LINES)  # typed in, or:
    fee_list: str | None = Field(None, min_length=1, max_length=500)  # .csv or .xlsx, relative to the scenario

    @field_validator("fee_list")
    @classmethod
    def _suffix(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().endswith((".csv", ".xlsx")):
            raise Bilingual("费用明细文件须为 .csv 或 .xlsx", "a fee list is .csv or .xlsx")
        return value

    @model_validator(mode="after")
    def _one_place_one_source(self) -> ScenarioVisit:
        outside = (self.institution_name, self.institution_region, self.institution_level)
        if self.fixmedins_code is not None and any(x is not None for x in outside):
            raise Bilingual(
                "fixmedins_code 与 institution_name/institution_region/institution_level 只能填其一",
                "give fixmedins_code or institution_name, institution_region and institution_level, not both",
            )
        if self.fixmedins_code is None and any(x is None for x in outside):
            raise Bilingual(
                "网外机构须填写 institution_name、institution_region 和 institution_level（或填写 fixmedins_code）",
                "an institution outside the network needs institution_name, institution_region and "
                "institution_level (or give fixmedins_code)",
            )
        if self.lines is not None and self.fee_list is not None:
            raise Bilingual("lines 与 fee_list 只能填其一", "give lines or fee_list, not both")
        return self


class ScenarioClaimMaterial(_Strict):
    kind: MaterialKind
    file: str = Field(min_length=1, max_length=500)  # PDF, PNG or JPEG, relative to the scenario file


class ScenarioExclusion(_Strict):
    visit: int = Field(ge=0, lt=MAX_VISITS)  # the visit's index in the claim's `visits` (0: the first)
    feedetl_sn: str = Field(min_length=1, max_length=30)
    reason: str = Field(min_length=1, max_length=300)  # the person reads it


class ScenarioClaimDecision(_Strict):
    action: ClaimAction
    by: str | None = Field(None, min_length=1, max_length=50)  # a staff username; default: the loader
    at: Moment | None = None  # default: the claim's submitted_at
    reason: str | None = Field(None, min_length=1, max_length=500)
    exclusions: list[ScenarioExclusion] = Field(default_factory=list)  # approve only
    materials_requested: list[MaterialKind] = Field(default_factory=list)  # return only

    @model_validator(mode="after")
    def _fits_the_action(self) -> ScenarioClaimDecision:
        if self.action is not ClaimAction.APPROVE and self.reason is None:
            raise Bilingual("退回或不予报销须填写原因（reason）", "a reason is required to return or refuse")
        if self.exclusions and self.action is not ClaimAction.APPROVE:
            raise Bilingual("只有审核通过时才能剔除明细（exclusions）", "exclusions go with approve only")
        if self.materials_requested and self.action is not ClaimAction.RETURN:
            raise Bilingual(
                "只有退回时才能要求补充材料（materials_requested）", "materials_requested goes with return only"
            )
        return self


class ScenarioClaim(_Strict):
    psn_no: str = Field(pattern=PSN_NO)
    insutype: str = Field(pattern=r"^3[0-9]{2}$")
    channel: ClaimChannel
    submitted_by: str | None = Field(None, min_length=1, max_length=50)  # counter: a staff username
    request_id: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z._\-/]*$")
    payee: ScenarioPayee
    visits: list[ScenarioVisit] = Field(min_length=1, max_length=MAX_VISITS)
    materials: list[ScenarioClaimMaterial] = Field(default_factory=list, max_length=MAX_MATERIALS)
    submitted_at: Moment | None = None  # drafted, papers uploaded and submitted then; default: the `now` of the load
    submit: bool = True  # false: left a draft
    decision: ScenarioClaimDecision | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioClaim:
        if self.channel is ClaimChannel.ONLINE and self.submitted_by is not None:
            raise Bilingual(
                "网上申请由本人提交，不填 submitted_by（柜台申请请写 channel: counter）",
                "an online claim is the person's own: no submitted_by (write channel: counter for the counter)",
            )
        if self.decision is not None and not self.submit:
            raise Bilingual(
                "未提交（submit: false）的申请不能有审核决定", "a claim left a draft (submit: false) has no decision"
            )
        return self


class OnConflict(StrEnum):
    ERROR = "error"
    SKIP = "skip"


class Scenario(_Strict):
    name: str | None = Field(None, max_length=200)
    description: str | None = None
    on_conflict: OnConflict = OnConflict.ERROR
    institutions: list[ScenarioInstitution] = Field(default_factory=list)
    persons: list[ScenarioPerson] = Field(default_factory=list)
    accounts: ScenarioAccounts = Field(default_factory=ScenarioAccounts)
    catalogues: list[ScenarioCatalogue] = Field(default_factory=list)
    filings: list[ScenarioFiling] = Field(default_factory=list)
    claims: list[ScenarioClaim] = Field(default_factory=list)
