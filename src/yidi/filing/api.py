"""Filing endpoints: the insured person's (submit, view, change, cancel, renew, upload) and the staff's
(queue, decide, search, counter submissions, coverage check)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from yidi.core import clock
from yidi.core.principal import Audience, Principal, Role
from yidi.core.web import database
from yidi.filing import service
from yidi.filing.coverage import FilingDecision
from yidi.filing.models import Filing
from yidi.filing.rules import Basis, Channel, Subtype
from yidi.people.service import get_person
from yidi.security.access import CurrentPrincipal, SecureRouter, allow

router = SecureRouter(prefix="/api/v1", tags=["filing 备案"])
PERSON = allow(Audience.PERSON)
PERSON_OR_STAFF = allow(Audience.PERSON, Audience.STAFF)
REVIEWERS = allow(Audience.STAFF, roles=[Role.REVIEWER, Role.ADMINISTRATOR])
STAFF = allow(Audience.STAFF)
FilingId = Annotated[str, Path(pattern=r"^F[0-9]{29}$")]
Region = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


def _uow(request: Request):  # type: ignore[no-untyped-def]
    with database(request).unit_of_work() as session:
        yield session


Uow = Annotated[Session, Depends(_uow)]


class FilingIn(BaseModel):
    insutype: Annotated[str, Field(pattern=r"^3[0-9]{2}$")] = "310"
    subtype: Subtype
    target_region: Region
    begndate: dt.date
    basis: Basis
    channel: Channel = Channel.WEB_PORTAL
    opsp_dise_code: Annotated[str | None, Field(pattern=r"^M[0-9]{5}$")] = None
    institutions: Annotated[list[Annotated[str, Field(pattern=r"^H[0-9]{11}$")]], Field(max_length=10)] = []


class StaffFilingIn(FilingIn):
    psn_no: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,30}$")]
    channel: Channel = Channel.COUNTER


class ChangeIn(BaseModel):
    target_region: Region | None = None
    institutions: Annotated[list[Annotated[str, Field(pattern=r"^H[0-9]{11}$")]], Field(max_length=10)] | None = None
    begndate: dt.date
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    channel: Channel = Channel.WEB_PORTAL


class CancelIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject", "request_materials"]
    reason: Annotated[str | None, Field(max_length=500)] = None


class MaterialOut(BaseModel):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class FilingOut(BaseModel):
    trt_dcla_detl_sn: str
    psn_no: str
    insutype: str
    insured_region: str
    subtype: str
    target_region: str
    target_level: str
    opsp_dise_code: str | None
    institutions: list[str]
    begndate: dt.date
    enddate: dt.date | None
    basis: str
    proof_deadline: dt.date | None
    proof_received_on: dt.date | None
    retroactive: bool
    channel: str
    status: str
    due_date: dt.date | None
    # True while due_date was counted over a year without an official holiday notice (weekends only): it may
    # still move when the notice is added. The console shows it as 暂定 / provisional.
    due_date_provisional: bool
    materials_requested: str | None
    reject_reason: str | None
    approved_on: dt.date | None
    void_from: dt.date | None
    replaces: str | None
    materials: list[MaterialOut]


class DecisionOut(BaseModel):
    coverage: str
    covered: bool
    category: str
    classification: str
    filing_id: str | None
    materials_outstanding: bool
    reasons: list[str]


def out(f: Filing) -> FilingOut:
    return FilingOut(
        trt_dcla_detl_sn=f.id,
        psn_no=f.psn_no,
        insutype=f.insutype,
        insured_region=f.insured_region,
        subtype=f.subtype,
        target_region=f.target_region,
        target_level=f.target_level,
        opsp_dise_code=f.opsp_dise_code,
        institutions=[i.fixmedins_code for i in f.institutions],
        begndate=f.begndate,
        enddate=f.enddate,
        basis=f.basis,
        proof_deadline=f.proof_deadline,
        proof_received_on=f.proof_received_on,
        retroactive=f.retroactive,
        channel=f.channel,
        status=f.status,
        due_date=f.due_date,
        due_date_provisional=bool(f.due_date_provisional),
        materials_requested=f.materials_requested,
        reject_reason=f.reject_reason,
        approved_on=f.approved_on,
        void_from=f.void_from,
        replaces=f.replaces_id,
        materials=[MaterialOut.model_validate(m, from_attributes=True) for m in f.materials],
    )


def _visible(session: Session, principal: Principal, filing_id: str) -> Filing:
    filing = service.load(session, filing_id)
    service.authorize_person_scope(principal, get_person(session, filing.psn_no))
    return filing


def _request(psn_no: str, body: FilingIn) -> service.SubmitRequest:
    return service.SubmitRequest(
        psn_no=psn_no,
        insutype=body.insutype,
        subtype=body.subtype,
        target_region=body.target_region,
        begndate=body.begndate,
        basis=body.basis,
        channel=body.channel,
        opsp_dise_code=body.opsp_dise_code,
        institutions=list(body.institutions),
    )


# -- the insured person ---------------------------------------------------------------------------------


@router.post("/filings", access=PERSON, response_model=FilingOut, status_code=201, summary="Submit a filing")
def submit_filing(session: Uow, principal: CurrentPrincipal, body: FilingIn) -> FilingOut:
    return out(service.submit(session, principal, _request(principal.subject, body), clock.now()))


@router.get("/filings", access=PERSON, response_model=list[FilingOut], summary="My filings")
def my_filings(session: Uow, principal: CurrentPrincipal) -> list[FilingOut]:
    return [out(service.load(session, f.id)) for f in service.person_filings(session, principal.subject)]


@router.get("/filings/{filing_id}", access=PERSON_OR_STAFF, response_model=FilingOut, summary="One filing")
def show_filing(session: Uow, principal: CurrentPrincipal, filing_id: FilingId) -> FilingOut:
    return out(_visible(session, principal, filing_id))


@router.post("/filings/{filing_id}/change", access=PERSON_OR_STAFF, response_model=FilingOut, status_code=201)
def change_filing(session: Uow, principal: CurrentPrincipal, filing_id: FilingId, body: ChangeIn) -> FilingOut:
    _visible(session, principal, filing_id)
    return out(
        service.change(
            session,
            principal,
            filing_id,
            body.target_region,
            body.institutions,
            body.begndate,
            body.reason,
            body.channel,
            clock.now(),
        )
    )


@router.post("/filings/{filing_id}/cancel", access=PERSON_OR_STAFF, response_model=FilingOut)
def cancel_filing(session: Uow, principal: CurrentPrincipal, filing_id: FilingId, body: CancelIn) -> FilingOut:
    return out(service.cancel(session, principal, filing_id, body.reason, clock.now()))


@router.post("/filings/{filing_id}/renew", access=PERSON_OR_STAFF, response_model=FilingOut, status_code=201)
def renew_filing(session: Uow, principal: CurrentPrincipal, filing_id: FilingId) -> FilingOut:
    _visible(session, principal, filing_id)
    return out(service.renew(session, principal, filing_id, Channel.WEB_PORTAL, clock.now()))


@router.post(
    "/filings/{filing_id}/materials",
    access=PERSON_OR_STAFF,
    response_model=MaterialOut,
    status_code=201,
    summary="Upload a proof (PDF, PNG or JPEG)",
)
async def upload_material(
    request: Request,
    principal: CurrentPrincipal,
    filing_id: FilingId,
    kind: Annotated[str, Form(pattern=r"^[a-z_]{3,30}$")],
    file: Annotated[UploadFile, File()],
) -> MaterialOut:
    content = await file.read()
    db, now = database(request), clock.now()
    from starlette.concurrency import run_in_threadpool

    def run() -> MaterialOut:
        with db.unit_of_work() as session:
            material = service.add_material(
                session, principal, filing_id, kind, file.filename or "upload", content, now
            )
            session.flush()
            return MaterialOut.model_validate(material, from_attributes=True)

    return await run_in_threadpool(run)


# -- agency staff ---------------------------------------------------------------------------------------


@router.get("/staff/filings", access=STAFF, response_model=list[FilingOut], summary="Review queue and search")
def staff_filings(
    session: Uow,
    principal: CurrentPrincipal,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    status: Annotated[str | None, Query(max_length=14)] = "under_review",
    psn_no: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[FilingOut]:
    rows = service.review_queue(session, principal, region, status or None, psn_no, limit, offset)
    return [out(service.load(session, f.id)) for f in rows]


@router.post("/staff/filings", access=STAFF, response_model=FilingOut, status_code=201, summary="Counter submission")
def staff_submit(session: Uow, principal: CurrentPrincipal, body: StaffFilingIn) -> FilingOut:
    return out(service.submit(session, principal, _request(body.psn_no, body), clock.now()))


@router.post("/staff/filings/{filing_id}/decision", access=REVIEWERS, response_model=FilingOut)
def decide_filing(session: Uow, principal: CurrentPrincipal, filing_id: FilingId, body: DecisionIn) -> FilingOut:
    return out(service.decide_review(session, principal, filing_id, body.decision, body.reason, clock.now()))


@router.get("/staff/coverage", access=STAFF, response_model=DecisionOut, summary="Would this visit be covered?")
def staff_coverage(
    session: Uow,
    principal: CurrentPrincipal,
    psn_no: Annotated[str, Query(pattern=r"^[0-9A-Za-z]{1,30}$")],
    fixmedins_code: Annotated[str, Query(pattern=r"^[HP][0-9]{11}$")],
    med_type: Annotated[str, Query(pattern=r"^[0-9]{2}$")],
    admission_date: dt.date,
    disease: Annotated[str | None, Query(pattern=r"^M[0-9]{5}$")] = None,
    insutype: Annotated[str | None, Query(pattern=r"^3[0-9]{2}$")] = None,
) -> DecisionOut:
    service.authorize_person_scope(principal, get_person(session, psn_no))
    d: FilingDecision = service.coverage_for(
        session, psn_no, fixmedins_code, med_type, disease, admission_date, insutype
    )
    return DecisionOut(
        coverage=d.coverage.value,
        covered=d.covered,
        category=d.category.value,
        classification=d.classification.value,
        filing_id=d.filing_id,
        materials_outstanding=d.materials_outstanding,
        reasons=d.reasons,
    )
