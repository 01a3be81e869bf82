"""Validated input shapes for reference data (demo files, scenario files, staff APIs)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yidi.reference.models import ServiceKind, SettlementLevel


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dept_code: str = Field(min_length=1, max_length=30)
    dept_name: str = Field(min_length=1, max_length=100)
    caty: str = Field(min_length=1, max_length=10)


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: ServiceKind
    opsp_dise_code: str | None = Field(None, pattern=r"^M[0-9]{5}$")
    begndate: dt.date
    enddate: dt.date | None = None

    @model_validator(mode="after")
    def _disease_only_for_chronic(self) -> ServiceIn:
        if (self.service is ServiceKind.CHRONIC) != (self.opsp_dise_code is not None):
            raise ValueError("opsp_dise_code is required for chronic services and only for them")
        if self.enddate is not None and self.enddate < self.begndate:
            raise ValueError("enddate is before begndate")
        return self


class InstitutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fixmedins_code: str = Field(pattern=r"^[HP][0-9]{11}$")
    fixmedins_name: str = Field(min_length=1, max_length=200)
    fixmedins_type: str = Field(pattern=r"^[1-4]$")
    pooling_region: str = Field(pattern=r"^[0-9]{6}$")
    admdvs: str = Field(pattern=r"^[0-9]{6}$")
    hosp_lv: str | None = Field(None, max_length=20)
    settlement_level: SettlementLevel
    networked: bool = True
    psychiatric_specialist: bool = False
    uscc: str | None = Field(None, max_length=18)
    departments: list[DepartmentIn] = Field(default_factory=list)
    services: list[ServiceIn] = Field(default_factory=list)
