"""Manual reimbursement (手工报销) endpoints: the insured person's (draft, upload, submit, withdraw, see the state,
the due date, the reasons and the lines left out) and the agency staff's (counter filing, review queue, take,
approve with exclusions, return for materials, refuse). Amounts travel as text with two decimals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Body, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from yidi.core import clock
from yidi.core.inputs import time_text
from yidi.core.principal import Audience, Principal, Role
from yidi.core.web import database
from yidi.reimbursement import computation, drafts, feelist, service, splits
from yidi.reimbursement.inputs import MAX_DIAGNOSES, MAX_INVOICES, MAX_LINES, MAX_VISITS, refuse
from yidi.reimbursement.models import Claim, ClaimMaterial, ClaimVisit
from yidi.security.access import CurrentPrincipal, SecureRouter, allow
from yidi.settlement.service import MONEY_FIELDS

router = SecureRouter(prefix="/api/v1", tags=["reimbursement 手工报销"])
PERSON = allow(Audience.PERSON)
PERSON_OR_STAFF = allow(Audience.PERSON, Audience.STAFF)
STAFF = allow(Audience.STAFF)
REVIEWERS = allow(Audience.STAFF, roles=[Role.REVIEWER, Role.ADMINISTRATOR])
ClaimId = Annotated[str, Path(pattern=r"^R[0-9]{29}$")]
Seq = Annotated[int, Path(ge=1, le=MAX_VISITS, description="visit number within the claim")]
STATUSES = ("draft", "submitted", "under_review", "approved", "paid", "returned", "refused", "withdrawn")


def _uow(request: Request):  # type: ignore[no-untyped-def]
    with database(request).unit_of_work() as session:
        yield session


Uow = Annotated[Session, Depends(_uow)]


Text6 = Annotated[str, Field(max_length=6)]
Text10 = Annotated[str, Field(max_length=10, description="yyyy-MM-dd")]
Text20 = Annotated[str, Field(max_length=20)]
Text30 = Annotated[str, Field(max_length=30)]
Text40 = Annotated[str, Field(max_length=40)]
Text50 = Annotated[str, Field(max_length=50)]
Text100 = Annotated[str, Field(max_length=100)]
Text150 = Annotated[str, Field(max_length=150)]
Text300 = Annotated[str, Field(max_length=300)]
Number = Annotated[str, Field(max_length=30, description="a number as text: '2.5', '1234.50'")]


class DiagnosisIn(BaseModel):
    diag_code: Text20
    diag_name: Text300
    maindiag_flag: bool = False


class InvoiceIn(BaseModel):
    invono: Text40
    invoice_date: Text10
    amount: Annotated[str, Field(max_length=30, description="yuan as text, at most two decimals: '1234.50'")]


class LineIn(BaseModel):
    """A fee line as in 2204 feedetail: amounts, counts and prices as text."""

    feedetl_sn: Text30
    med_list_codg: Text50
    medins_list_codg: Text150
    medins_list_name: Annotated[str | None, Field(max_length=200)] = None
    fee_ocur_time: Annotated[str, Field(max_length=35, description="yyyy-MM-dd HH:mm:ss (Beijing time)")]
    cnt: Number
    pric: Number
    det_item_fee_sumamt: Number


class VisitIn(BaseModel):
    """A networked institution by `fixmedins_code`; one outside the network by name, pooling region and level.
    `invoices` and `lines` left out keep those the visit has."""

    fixmedins_code: Annotated[str | None, Field(max_length=12)] = None
    institution_name: Annotated[str | None, Field(max_length=100)] = None
    institution_region: Annotated[str | None, Field(max_length=6)] = None
    institution_level: Annotated[str | None, Field(max_length=8, description="level_1 … level_3, unrated")] = None
    care: Annotated[str, Field(max_length=24, description="outpatient, inpatient, chronic, pharmacy, …")]
    med_type: Text6
    begndate: Text10
    enddate: Text10
    dise_codg: Annotated[str | None, Field(max_length=6)] = None
    diagnoses: Annotated[list[DiagnosisIn], Field(max_length=MAX_DIAGNOSES)] = []
    injury: bool = False
    invoices: Annotated[list[InvoiceIn] | None, Field(max_length=MAX_INVOICES)] = None
    lines: Annotated[list[LineIn] | None, Field(max_length=MAX_LINES)] = None


class PayeeIn(BaseModel):
    payee_name: Annotated[str | None, Field(max_length=50, description="the person's name when left out")] = None
    bank_name: Text100
    bank_account: Text40


class ClaimIn(PayeeIn):
    request_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z._\-]{8,40}$", description="your retry key")]
    insutype: Annotated[str | None, Field(pattern=r"^3[0-9]{2}$")] = None
    visits: Annotated[list[VisitIn], Field(max_length=MAX_VISITS)] = []


class StaffClaimIn(ClaimIn):
    psn_no: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,30}$")]


class ExclusionIn(BaseModel):
    seq: Annotated[int, Field(ge=1, le=MAX_VISITS)]
    feedetl_sn: Text30
    reason: Annotated[str, Field(min_length=1, max_length=300, description="shown to the person")]


class ApproveIn(BaseModel):
    exclusions: Annotated[list[ExclusionIn], Field(max_length=MAX_LINES)] = []


class ReturnIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    materials: Annotated[list[Annotated[str, Field(max_length=30)]], Field(max_length=10)] = []


class ReasonIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class MaterialOut(BaseModel):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class InvoiceOut(BaseModel):
    invono: str
    invoice_date: dt.date
    amount: str


class LineOut(BaseModel):
    seq: int
    feedetl_sn: str
    med_list_codg: str
    medins_list_codg: str | None
    medins_list_name: str | None
    fee_ocur_time: str
    cnt: str
    pric: str
    det_item_fee_sumamt: str
    excluded: bool
    exclusion_reason: str | None  # why the reviewer left the line out
    result: dict[str, Any] | None  # the line's split at approval


class VisitOut(BaseModel):
    seq: int
    fixmedins_code: str | None
    institution_name: str
    institution_region: str
    institution_level: str
    care: str
    med_type: str
    begndate: dt.date
    enddate: dt.date
    dise_codg: str | None
    diagnoses: list[dict[str, Any]]
    injury: bool
    invoices: list[InvoiceOut]
    lines: list[LineOut]
    category: str | None
    service_date: dt.date | None
    split: dict[str, Any] | None
    increments: dict[str, str] | None
    paid_directly: str | None
    direct_setl_ids: list[str] | None


class ClaimSummary(BaseModel):
    id: str
    psn_no: str
    insutype: str
    insured_region: str
    status: str
    channel: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    due_date: dt.date | None
    # True while due_date was counted over a year without an official holiday notice (weekends only).
    due_date_provisional: bool
    reviewer: str | None
    reason: str | None  # why the claim was returned or refused
    materials_requested: list[str] | None
    visits: int
    medfee_sumamt: str | None
    fund_pay_sumamt: str | None
    paid_directly: str | None
    payable: str | None


class ClaimOut(ClaimSummary):
    visits: list[VisitOut]  # type: ignore[assignment]
    decided_at: dt.datetime | None
    paid_at: dt.datetime | None
    payee_name: str
    bank_name: str
    bank_account: str  # in full for the person and their agency, else masked
    materials: list[MaterialOut]


class VisitPreview(BaseModel):
    seq: int
    category: str
    service_date: dt.date
    split: dict[str, Any]
    increments: dict[str, str]
    paid_directly: str
    payable: str  # the funds' share of the whole care less what was paid directly for it, never below zero
    direct_setl_ids: list[str]
    settled_lines: dict[str, str]  # feedetl_sn → the direct settlement that holds the line (left out)
    lines: dict[str, dict[str, Any]]


class PreviewOut(BaseModel):
    visits: list[VisitPreview]
    medfee_sumamt: str
    fund_pay_sumamt: str
    paid_directly: str
    payable: str


def _plain(d: Decimal) -> str:
    """A count or price without trailing zeros (1600, 2.5), never in exponent form."""
    return format(d.normalize(), "f")


def _money(d: Decimal | None) -> str | None:
    return None if d is None else str(d)


def _summary_fields(c: Claim) -> dict[str, Any]:
    return {
        "id": c.id,
        "psn_no": c.psn_no,
        "insutype": c.insutype,
        "insured_region": c.insured_region,
        "status": c.status,
        "channel": c.channel,
        "created_at": c.created_at,
        "submitted_at": c.submitted_at,
        "due_date": c.due_date,
        "due_date_provisional": bool(c.due_date_provisional),
        "reviewer": c.reviewer,
        "reason": c.reason,
        "materials_requested": c.materials_requested,
        **{k: _money(getattr(c, k)) for k in ("medfee_sumamt", "fund_pay_sumamt", "paid_directly", "payable")},
    }


def summary(c: Claim) -> ClaimSummary:
    return ClaimSummary(**_summary_fields(c), visits=len(c.visits))


def _visit(v: ClaimVisit) -> VisitOut:
    return VisitOut(
        seq=v.seq,
        fixmedins_code=v.fixmedins_code,
        institution_name=v.institution_name,
        institution_region=v.institution_region,
        institution_level=v.institution_level,
        care=v.care,
        med_type=v.med_type,
        begndate=v.begndate,
        enddate=v.enddate,
        dise_codg=v.dise_codg,
        diagnoses=v.diagnoses,
        injury=v.injury,
        invoices=[InvoiceOut(invono=i.invono, invoice_date=i.invoice_date, amount=str(i.amount)) for i in v.invoices],
        lines=[
            LineOut(
                seq=ln.seq,
                feedetl_sn=ln.feedetl_sn,
                med_list_codg=ln.med_list_codg,
                medins_list_codg=ln.medins_list_codg,
                medins_list_name=ln.medins_list_name,
                fee_ocur_time=time_text(ln.fee_ocur_time) or "",
                cnt=_plain(ln.cnt),
                pric=_plain(ln.pric),
                det_item_fee_sumamt=str(ln.det_item_fee_sumamt),
                excluded=ln.excluded,
                exclusion_reason=ln.exclusion_reason,
                result=ln.result,
            )
            for ln in v.lines
        ],
        category=v.category,
        service_date=v.service_date,
        split=v.split,
        increments=v.increments,
        paid_directly=_money(v.paid_directly),
        direct_setl_ids=v.direct_setl_ids,
    )


def out(c: Claim, principal: Principal) -> ClaimOut:
    return ClaimOut(
        **_summary_fields(c),
        visits=[_visit(v) for v in c.visits],
        decided_at=c.decided_at,
        paid_at=c.paid_at,
        payee_name=c.payee_name,
        bank_name=c.bank_name,
        bank_account=service.account_shown(principal, c),
        materials=[MaterialOut.model_validate(m, from_attributes=True) for m in c.materials],
    )


def preview_out(p: computation.Computation) -> PreviewOut:
    t = p.totals
    return PreviewOut(
        visits=[
            VisitPreview(
                seq=v.visit.seq,
                category=v.category.value,
                service_date=v.service_date,
                split=splits.split_json(v.result, MONEY_FIELDS),
                increments={k: str(x) for k, x in (v.result.increments if v.result else {}).items()},
                paid_directly=str(v.paid_directly),
                payable=str(v.payable),
                direct_setl_ids=[d.setl_id for d in v.direct],
                settled_lines={line.feedetl_sn: setl_id for line, setl_id in v.settled},
                lines=computation.line_results(v),
            )
            for v in p.visits
        ],
        medfee_sumamt=str(t.medfee_sumamt),
        fund_pay_sumamt=str(t.fund_pay_sumamt),
        paid_directly=str(t.paid_directly),
        payable=str(t.payable),
    )


# -- the insured person (and staff at the counter for them) -----------------------------------------------


@router.post("/claims", access=PERSON, response_model=ClaimOut, status_code=201, summary="Draft a claim")
def create_claim(session: Uow, principal: CurrentPrincipal, body: ClaimIn) -> ClaimOut:
    claim = drafts.create_claim(session, principal, principal.subject, body.model_dump(), clock.now())
    return out(claim, principal)


@router.get("/claims", access=PERSON, response_model=list[ClaimSummary], summary="My claims")
def my_claims(session: Uow, principal: CurrentPrincipal) -> list[ClaimSummary]:
    return [summary(c) for c in service.my_claims(session, principal)]


@router.get("/claims/{claim_id}", access=PERSON_OR_STAFF, response_model=ClaimOut, summary="One claim")
def show_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId) -> ClaimOut:
    return out(service.get_claim(session, principal, claim_id), principal)


@router.put("/claims/{claim_id}/visits/{seq}", access=PERSON_OR_STAFF, response_model=ClaimOut, summary="Put a visit")
def put_visit(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId, seq: Seq, body: VisitIn) -> ClaimOut:
    return out(drafts.put_visit(session, principal, claim_id, seq, body.model_dump(), clock.now()), principal)


@router.delete("/claims/{claim_id}/visits/{seq}", access=PERSON_OR_STAFF, response_model=ClaimOut)
def remove_visit(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId, seq: Seq) -> ClaimOut:
    return out(drafts.remove_visit(session, principal, claim_id, seq, clock.now()), principal)


@router.put("/claims/{claim_id}/visits/{seq}/invoices", access=PERSON_OR_STAFF, response_model=ClaimOut)
def put_invoices(
    session: Uow,
    principal: CurrentPrincipal,
    claim_id: ClaimId,
    seq: Seq,
    body: Annotated[list[InvoiceIn], Body(max_length=MAX_INVOICES)],
) -> ClaimOut:
    items = [i.model_dump() for i in body]
    return out(drafts.put_invoices(session, principal, claim_id, seq, items, clock.now()), principal)


@router.put("/claims/{claim_id}/visits/{seq}/lines", access=PERSON_OR_STAFF, response_model=ClaimOut)
def put_lines(
    session: Uow,
    principal: CurrentPrincipal,
    claim_id: ClaimId,
    seq: Seq,
    body: Annotated[list[LineIn], Body(max_length=MAX_LINES)],
) -> ClaimOut:
    items = [ln.model_dump() for ln in body]
    return out(drafts.put_lines(session, principal, claim_id, seq, items, clock.now()), principal)


@router.post(
    "/claims/{claim_id}/visits/{seq}/fee-list",
    access=PERSON_OR_STAFF,
    response_model=ClaimOut,
    summary="Import the hospital's fee list (CSV or XLSX): replaces the visit's lines, all or none",
)
async def import_fee_list(
    request: Request,
    principal: CurrentPrincipal,
    claim_id: ClaimId,
    seq: Seq,
    file: Annotated[UploadFile, File()],
) -> ClaimOut:
    content = await file.read(feelist.MAX_FILE_BYTES + 1)
    db, now = database(request), clock.now()

    def run() -> ClaimOut:
        with db.unit_of_work() as session:
            claim = drafts.import_fee_list(session, principal, claim_id, seq, file.filename or "upload", content, now)
            return out(claim, principal)

    return await run_in_threadpool(run)


@router.put("/claims/{claim_id}/payee", access=PERSON_OR_STAFF, response_model=ClaimOut, summary="Where to pay")
def put_payee(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId, body: PayeeIn) -> ClaimOut:
    return out(drafts.put_payee(session, principal, claim_id, body.model_dump(), clock.now()), principal)


@router.post(
    "/claims/{claim_id}/materials",
    access=PERSON_OR_STAFF,
    response_model=MaterialOut,
    status_code=201,
    summary="Upload a paper (PDF, PNG or JPEG)",
)
async def upload_material(
    request: Request,
    principal: CurrentPrincipal,
    claim_id: ClaimId,
    kind: Annotated[str, Form(max_length=30)],
    file: Annotated[UploadFile, File()],
) -> MaterialOut:
    content = await file.read()
    db, now = database(request), clock.now()

    def run() -> MaterialOut:
        with db.unit_of_work() as session:
            material: ClaimMaterial = drafts.add_material(
                session, principal, claim_id, kind, file.filename or "upload", content, now
            )
            session.flush()
            return MaterialOut.model_validate(material, from_attributes=True)

    return await run_in_threadpool(run)


@router.delete("/claims/{claim_id}/materials/{material_id}", access=PERSON_OR_STAFF, response_model=ClaimOut)
def remove_material(
    session: Uow,
    principal: CurrentPrincipal,
    claim_id: ClaimId,
    material_id: Annotated[int, Path(ge=1, le=2**62)],
) -> ClaimOut:
    return out(drafts.remove_material(session, principal, claim_id, material_id, clock.now()), principal)


@router.post("/claims/{claim_id}/submit", access=PERSON_OR_STAFF, response_model=ClaimOut, summary="Submit")
def submit_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId) -> ClaimOut:
    return out(service.submit(session, principal, claim_id, clock.now()), principal)


@router.post("/claims/{claim_id}/withdraw", access=PERSON_OR_STAFF, response_model=ClaimOut, summary="Withdraw")
def withdraw_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId) -> ClaimOut:
    return out(service.withdraw(session, principal, claim_id, clock.now()), principal)


@router.get(
    "/claims/{claim_id}/preview",
    access=PERSON_OR_STAFF,
    response_model=PreviewOut,
    summary="What the claim would pay if approved now (nothing is kept)",
)
def preview_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId) -> PreviewOut:
    return preview_out(service.preview(session, principal, claim_id))


# -- agency staff -------------------------------------------------------------------------------------------


@router.get("/staff/claims", access=STAFF, response_model=list[ClaimSummary], summary="Review queue and search")
def staff_claims(
    session: Uow,
    principal: CurrentPrincipal,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    status: Annotated[str, Query(max_length=120, description="comma-separated statuses")] = "submitted,under_review",
    psn_no: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ClaimSummary]:
    statuses = [s.strip() for s in status.split(",") if s.strip()]
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise refuse("status", f"未知状态{unknown[0]}", f"unknown status {unknown[0]}")
    rows = service.review_queue(session, principal, region, statuses, psn_no, limit, offset)
    return [summary(c) for c in rows]


@router.post("/staff/claims", access=STAFF, response_model=ClaimOut, status_code=201, summary="Counter filing")
def staff_create_claim(session: Uow, principal: CurrentPrincipal, body: StaffClaimIn) -> ClaimOut:
    data = body.model_dump(exclude={"psn_no"})
    return out(drafts.create_claim(session, principal, body.psn_no, data, clock.now()), principal)


@router.get("/staff/claims/{claim_id}", access=STAFF, response_model=ClaimOut, summary="One claim")
def staff_show_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId) -> ClaimOut:
    return out(service.get_claim(session, principal, claim_id), principal)


@router.post("/staff/claims/{claim_id}/take", access=REVIEWERS, response_model=ClaimOut, summary="Take for review")
def take_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId) -> ClaimOut:
    return out(service.take(session, principal, claim_id, clock.now()), principal)


@router.post("/staff/claims/{claim_id}/preview", access=REVIEWERS, response_model=PreviewOut)
def staff_preview(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId, body: ApproveIn) -> PreviewOut:
    exclusions = [e.model_dump() for e in body.exclusions]
    return preview_out(service.preview(session, principal, claim_id, exclusions))


@router.post("/staff/claims/{claim_id}/approve", access=REVIEWERS, response_model=ClaimOut, summary="Approve")
def approve_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId, body: ApproveIn) -> ClaimOut:
    exclusions = [e.model_dump() for e in body.exclusions]
    return out(service.approve(session, principal, claim_id, exclusions, clock.now()), principal)


@router.post("/staff/claims/{claim_id}/return", access=REVIEWERS, response_model=ClaimOut, summary="Ask for materials")
def return_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId, body: ReturnIn) -> ClaimOut:
    claim = service.return_claim(session, principal, claim_id, body.reason, body.materials, clock.now())
    return out(claim, principal)


@router.post("/staff/claims/{claim_id}/refuse", access=REVIEWERS, response_model=ClaimOut, summary="Refuse")
def refuse_claim(session: Uow, principal: CurrentPrincipal, claim_id: ClaimId, body: ReasonIn) -> ClaimOut:
    return out(service.refuse(session, principal, claim_id, body.reason, clock.now()), principal)
