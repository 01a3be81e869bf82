"""Printable forms 1–5 as PDF: one route per form for both the person and staff (the service checks that a
person prints their own and staff those of their regions); institutions print nothing here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Depends, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from yidi.core import clock
from yidi.core.errors import YidiError
from yidi.core.money import parse_amount
from yidi.core.principal import Audience
from yidi.core.web import read_session
from yidi.reimbursement import documents
from yidi.reimbursement.forms import injury, outside_care
from yidi.security.access import CurrentPrincipal, SecureRouter, allow

router = SecureRouter(prefix="/api/v1", tags=["forms 表单"])
PERSON_OR_STAFF = allow(Audience.PERSON, Audience.STAFF)
DbSession = Annotated[Session, Depends(read_session)]
FilingId = Annotated[str, Path(pattern=r"^F[0-9]{29}$")]
SettlementId = Annotated[str, Path(pattern=r"^S[0-9]{29}$")]
ClaimId = Annotated[str, Path(pattern=r"^R[0-9]{29}$")]
PsnNo = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,30}$")]
PDF = {200: {"content": {"application/pdf": {}}, "description": "The form as PDF (A4, Chinese font embedded)"}}


def _pdf(doc: documents.Pdf) -> Response:
    return Response(
        doc.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{doc.filename}"',
            "Cache-Control": "no-store",  # personal data: no shared cache keeps it
        },
    )


class ClaimVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    claim_id: Annotated[str, Field(pattern=r"^R[0-9]{29}$")]
    visit_seq: Annotated[int, Field(ge=1, le=99)]


class InjuryIn(BaseModel):
    """A claim visit recorded as an injury, or the visit's values; the account of the injury in either case."""

    model_config = ConfigDict(extra="forbid")
    description: Annotated[str, Field(min_length=1, max_length=injury.DESCRIPTION_MAX)]
    claim_visit: ClaimVisitIn | None = None
    psn_no: PsnNo | None = None
    insutype: Annotated[str | None, Field(pattern=r"^3[0-9]{2}$")] = None
    institution: Annotated[str | None, Field(min_length=1, max_length=injury.INSTITUTION_MAX)] = None
    begndate: dt.date | None = None
    enddate: dt.date | None = None
    injury_date: dt.date | None = None
    injury_place: Annotated[str | None, Field(max_length=injury.PLACE_MAX)] = None


class OutsideItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: dt.date
    institution: Annotated[str, Field(min_length=1, max_length=outside_care.TEXT_MAX)]
    kind: Literal["test", "treatment", "drug"]
    item: Annotated[str, Field(min_length=1, max_length=outside_care.TEXT_MAX)]
    amount: Decimal  # as text ("128.50") or an integer; never a float

    @field_validator("amount", mode="before")
    @classmethod
    def _money(cls, value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("must be an amount as text or an integer / 金额须为文本或整数")
        if len(str(value)) > 20:  # longer than any amount; Decimal's 28 digits would give way on some
            raise ValueError("is too long for an amount / 金额过长")
        try:
            return parse_amount(value)
        except YidiError as exc:
            raise ValueError(f"{exc.message_en} / {exc.message_zh}") from None
        except ArithmeticError:
            raise ValueError("not an amount / 金额无效") from None


class OutsideCareIn(BaseModel):
    """The stay (a claim visit, or its values) and the items bought or done elsewhere during it."""

    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[OutsideItemIn], Field(min_length=1, max_length=outside_care.MAX_ITEMS)]
    claim_visit: ClaimVisitIn | None = None
    psn_no: PsnNo | None = None
    insutype: Annotated[str | None, Field(pattern=r"^3[0-9]{2}$")] = None
    institution: Annotated[str | None, Field(min_length=1, max_length=outside_care.TEXT_MAX)] = None
    admission: dt.date | None = None
    discharge: dt.date | None = None
    diagnosis: Annotated[str | None, Field(min_length=1, max_length=outside_care.TEXT_MAX)] = None
    department: Annotated[str | None, Field(max_length=outside_care.TEXT_MAX)] = None
    admission_no: Annotated[str | None, Field(max_length=30)] = None


def _ref(body: ClaimVisitIn | None) -> documents.ClaimVisitRef | None:
    return documents.ClaimVisitRef(body.claim_id, body.visit_seq) if body else None


@router.get(
    "/filings/{filing_id}/forms/registration.pdf",
    access=PERSON_OR_STAFF,
    response_class=Response,
    responses=PDF,
    summary="Form 1: 异地就医登记备案表",
)
def registration_pdf(session: DbSession, principal: CurrentPrincipal, filing_id: FilingId) -> Response:
    return _pdf(documents.registration_form(session, principal, filing_id, clock.now()))


@router.get(
    "/filings/{filing_id}/forms/undertaking.pdf",
    access=PERSON_OR_STAFF,
    response_class=Response,
    responses=PDF,
    summary="Form 2: 个人承诺书 (filings on 承诺制 only)",
)
def undertaking_pdf(session: DbSession, principal: CurrentPrincipal, filing_id: FilingId) -> Response:
    return _pdf(documents.undertaking_form(session, principal, filing_id, clock.now()))


@router.post(
    "/forms/injury-undertaking.pdf",
    access=PERSON_OR_STAFF,
    response_class=Response,
    responses=PDF,
    summary="Form 3: 外伤无第三方责任承诺书",
)
def injury_undertaking_pdf(session: DbSession, principal: CurrentPrincipal, body: InjuryIn) -> Response:
    req = documents.InjuryRequest(
        description=body.description,
        claim_visit=_ref(body.claim_visit),
        psn_no=body.psn_no,
        insutype=body.insutype,
        institution=body.institution,
        begndate=body.begndate,
        enddate=body.enddate,
        injury_date=body.injury_date,
        injury_place=body.injury_place,
    )
    return _pdf(documents.injury_form(session, principal, req, clock.now()))


@router.post(
    "/forms/outside-care.pdf",
    access=PERSON_OR_STAFF,
    response_class=Response,
    responses=PDF,
    summary="Form 4: 住院期间外院检查治疗或定点药店购药单",
)
def outside_care_pdf(session: DbSession, principal: CurrentPrincipal, body: OutsideCareIn) -> Response:
    req = documents.OutsideCareRequest(
        items=tuple(outside_care.OutsideItem(i.day, i.institution, i.kind, i.item, i.amount) for i in body.items),
        claim_visit=_ref(body.claim_visit),
        psn_no=body.psn_no,
        insutype=body.insutype,
        institution=body.institution,
        admission=body.admission,
        discharge=body.discharge,
        diagnosis=body.diagnosis,
        department=body.department,
        admission_no=body.admission_no,
    )
    return _pdf(documents.outside_care_form(session, principal, req, clock.now()))


@router.get(
    "/settlements/{setl_id}/forms/settlement-sheet.pdf",
    access=PERSON_OR_STAFF,
    response_class=Response,
    responses=PDF,
    summary="Form 5: 异地就医住院结算单 of a direct settlement",
)
def settlement_sheet_pdf(session: DbSession, principal: CurrentPrincipal, setl_id: SettlementId) -> Response:
    return _pdf(documents.settlement_sheet_form(session, principal, setl_id, clock.now()))


@router.get(
    "/claims/{claim_id}/forms/settlement-sheet.pdf",
    access=PERSON_OR_STAFF,
    response_class=Response,
    responses=PDF,
    summary="Form 5: 异地就医住院结算单 of an approved claim",
)
def claim_sheet_pdf(session: DbSession, principal: CurrentPrincipal, claim_id: ClaimId) -> Response:
    return _pdf(documents.claim_sheet_form(session, principal, claim_id, clock.now()))
