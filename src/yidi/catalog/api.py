"""Read-only staff API for catalogue look-ups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from yidi.catalog.service import item_at, search
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.principal import Audience
from yidi.core.web import read_session
from yidi.security.access import SecureRouter, allow

router = SecureRouter(prefix="/api/v1/catalog", tags=["catalogue 就医地目录"])
READERS = allow(Audience.STAFF, Audience.INSTITUTION)
DbSession = Annotated[Session, Depends(read_session)]
Region = Annotated[str, Path(pattern=r"^[0-9]{6}$", description="treatment pooling region")]


class CatalogItemOut(BaseModel):
    med_list_codg: str
    med_list_name: str
    item_kind: str
    chrgitm_lv: str
    med_chrgitm_type: str
    selfpay_prop: Decimal
    pric_uplmt_amt: Decimal | None
    spec: str | None
    lmt_used_scope: str | None
    begndate: dt.date
    enddate: dt.date | None
    reference: str


class CatalogPage(BaseModel):
    region: str
    date: dt.date
    total: int
    items: list[CatalogItemOut]


@router.get(
    "/{region}/items", access=READERS, response_model=CatalogPage, summary="Search the catalogue in force on a date"
)
def list_items(
    session: DbSession,
    region: Region,
    date: Annotated[dt.date, Query(description="fee date")],
    q: Annotated[str | None, Query(max_length=50, description="part of the name or code")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CatalogPage:
    total, items = search(session, region, date, q, limit, offset)
    return CatalogPage(
        region=region,
        date=date,
        total=total,
        items=[CatalogItemOut.model_validate(i, from_attributes=True) for i in items],
    )


@router.get(
    "/{region}/items/{code}", access=READERS, response_model=CatalogItemOut, summary="One item in force on a date"
)
def show_item(
    session: DbSession,
    region: Region,
    code: Annotated[str, Path(max_length=30)],
    date: Annotated[dt.date, Query(description="fee date")],
) -> CatalogItemOut:
    item = item_at(session, region, code, date)
    if item is None:
        raise YidiError(NOT_FOUND, what=f"{region} 目录在 {date} 的项目 / catalogue item on {date}", key=code)
    return CatalogItemOut.model_validate(item, from_attributes=True)
