"""Validated input shapes for insured persons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yidi.core.certno import birth_date, gender, validate_certno
from yidi.core.errors import YidiError
from yidi.core.money import parse_amount


class InsuranceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    insutype: str = Field(pattern=r"^3[0-9]{2}$")
    insuplc_admdvs: str = Field(pattern=r"^[0-9]{6}$")
    psn_type: str = Field(pattern=r"^[0-9]{4,10}$")
    psn_insu_stas: str = Field("1", pattern=r"^[0-4]$")
    retiree: bool = False
    civil_servant: bool = False
    emp_name: str | None = Field(None, max_length=200)
    begndate: dt.date
    enddate: dt.date | None = None
    balc: Decimal = Decimal("0.00")

    @field_validator("balc", mode="before")
    @classmethod
    def _money(cls, value: object) -> Decimal:
        # A refusal here must be a ValueError: the request's answer then names the field (body.insurances.0.balc);
        # anything else (a list's missing .strip, the amount's own error) would escape the validation.
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError("must be an amount as text or an integer / 金额须为文本或整数")
        try:
            return parse_amount(value)
        except YidiError as exc:
            raise ValueError(f"{exc.message_en} / {exc.message_zh}") from None


class QualificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    insutype: str = Field(pattern=r"^3[0-9]{2}$")
    opsp_dise_code: str = Field(pattern=r"^M[0-9]{5}$")
    begndate: dt.date
    enddate: dt.date
    ide_fixmedins_no: str | None = Field(None, pattern=r"^[HP][0-9]{11}$")

    @model_validator(mode="after")
    def _dates(self) -> QualificationIn:
        if self.enddate < self.begndate:
            raise ValueError("enddate is before begndate")
        return self


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    psn_no: str = Field(min_length=1, max_length=30, pattern=r"^[0-9A-Za-z]+$")
    psn_name: str = Field(min_length=1, max_length=50)
    certno: str
    psn_cert_type: str = "01"
    gend: str | None = Field(None, pattern=r"^[129]$")
    naty: str | None = Field(None, pattern=r"^[0-9]{2}$")  # 民族, GB 3304 (01 汉族 … 56, 97 其他, 98 外国血统)
    brdy: dt.date | None = None
    tel: str | None = Field(None, max_length=20)
    addr: str | None = Field(None, max_length=200)
    insurances: list[InsuranceIn] = Field(min_length=1)
    qualifications: list[QualificationIn] = Field(default_factory=list)

    @field_validator("certno")
    @classmethod
    def _certno(cls, value: str) -> str:
        return validate_certno(value)

    @model_validator(mode="after")
    def _derive_from_certno(self) -> PersonIn:
        # Birth date and sex are encoded in the ID number; stated values must agree with it.
        derived_brdy, derived_gend = birth_date(self.certno), gender(self.certno)
        if self.brdy is not None and self.brdy != derived_brdy:
            raise ValueError("brdy does not match the birth date in certno")
        if self.gend is not None and self.gend != derived_gend:
            raise ValueError("gend does not match the sex digit in certno")
        self.brdy, self.gend = derived_brdy, derived_gend
        return self
