"""Read-only staff API: the policy parameters in force for an insured region on a date."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel

from yidi.core.principal import Audience
from yidi.parameters.policy import NationalPolicy, RegionPolicy
from yidi.parameters.store import default_store
from yidi.security.access import SecureRouter, allow

router = SecureRouter(prefix="/api/v1/parameters", tags=["parameters 参保地政策"])
STAFF = allow(Audience.STAFF)


class ParameterReference(BaseModel):
    key: str
    start: dt.date
    reference: str


class RegionParameters(BaseModel):
    policy: RegionPolicy
    references: list[ParameterReference]


@router.get("", access=STAFF, summary="Regions that have a parameter tree")
def list_regions() -> dict[str, Any]:
    return {"regions": default_store().regions()}


@router.get("/national", access=STAFF, response_model=NationalPolicy, summary="National rules in force on a date")
def national(date: Annotated[dt.date, Query()]) -> NationalPolicy:
    return default_store().national(date)


@router.get("/{region}", access=STAFF, response_model=RegionParameters, summary="A region's policy in force on a date")
def region_parameters(
    region: Annotated[str, Path(pattern=r"^[0-9]{6}$")], date: Annotated[dt.date, Query(description="service date")]
) -> RegionParameters:
    store = default_store()
    policy = store.at(region, date)
    refs = []
    for leaf in store.tree.under(("regions", region)):
        entry = leaf.entry_at(date)
        if entry is not None:
            refs.append(ParameterReference(key=".".join(leaf.path[2:]), start=entry.start, reference=entry.reference))
    return RegionParameters(policy=policy, references=refs)
