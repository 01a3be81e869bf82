"""Payment batch endpoints for the agency's financial staff: make a batch, list and show batches, download the
transfer file (CSV or XLSX: the transfers still awaiting the bank), record the bank's results (JSON or a results
CSV: paid, failed, or returned after paid 退票). The person's view of a payment is
`payments.payments_of`, which the claims API answers with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import Body, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from yidi.core import clock
from yidi.core.errors import YidiError
from yidi.core.principal import Audience, Principal, Role
from yidi.core.web import database
from yidi.reimbursement import payment_files, payments
from yidi.reimbursement.models import PaymentBatch
from yidi.reimbursement.payment_rules import P_RESULTS_FILE, ResultRow
from yidi.security.access import CurrentPrincipal, SecureRouter, allow

router = SecureRouter(prefix="/api/v1/staff/payment-batches", tags=["payments 支付"])
PAYERS = allow(Audience.STAFF, roles=[Role.CLEARING_OFFICER, Role.ADMINISTRATOR])
BatchId = Annotated[str, Path(pattern=r"^B[0-9]{29}$")]
MAX_FILE_BYTES = 1_000_000  # a results CSV of the largest batch is far smaller


def _uow(request: Request):  # type: ignore[no-untyped-def]
    with database(request).unit_of_work() as session:
        yield session


Uow = Annotated[Session, Depends(_uow)]


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    request_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,40}$")]


class ResultIn(BaseModel):
    """One result; the item by its id or by the claim / review id it pays."""

    model_config = ConfigDict(extra="forbid")
    item_id: Annotated[int | None, Field(ge=1, le=10**15)] = None
    source_id: Annotated[str | None, Field(max_length=30)] = None
    result: Annotated[str, Field(max_length=10)]
    bank_serial: Annotated[str | None, Field(max_length=60)] = None
    paid_on: dt.date | None = None
    reason: Annotated[str | None, Field(max_length=300)] = None
    amount: str | None = None  # when given, it must be the item's amount to the fen

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_text(cls, value: object) -> str | None:
        # Checked against the item by the service (a mismatch is a row of the report); here only: never a float.
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("must be an amount as text or an integer / 金额须为文本或整数")
        text = str(value)
        if len(text) > 20:
            raise ValueError("longer than 20 characters / 超长")
        return text


class LeftOutOut(BaseModel):
    source_kind: str
    source_id: str
    reason: str


class ItemOut(BaseModel):
    item_id: int
    source_kind: str
    source_id: str
    payee_name: str
    bank_name: str
    bank_account: str
    amount: Decimal
    result: str
    bank_serial: str | None
    paid_on: dt.date | None
    reason: str | None
    recorded_at: dt.datetime | None


class BatchSummaryOut(BaseModel):
    batch_id: str
    insured_region: str
    status: str
    created_at: dt.datetime
    created_by: str
    item_count: int
    total: Decimal
    closed_at: dt.datetime | None


class BatchOut(BatchSummaryOut):
    items: list[ItemOut]


class CreatedOut(BatchOut):
    replayed: bool
    left_out: list[LeftOutOut]


class RowOutcomeOut(BaseModel):
    row: int
    item_id: int
    source_kind: str
    source_id: str
    result: str
    outcome: str


class ResultsOut(BaseModel):
    batch_id: str
    batch_status: str
    recorded: int
    unchanged: int
    rows: list[RowOutcomeOut]


def _summary(b: PaymentBatch) -> BatchSummaryOut:
    return BatchSummaryOut(
        batch_id=b.id,
        insured_region=b.insured_region,
        status=b.status,
        created_at=b.created_at,
        created_by=b.created_by,
        item_count=b.item_count,
        total=b.total,
        closed_at=b.closed_at,
    )


def _items(b: PaymentBatch, principal: Principal) -> list[ItemOut]:
    out = []
    for item in b.items:
        v = payments.view_item(item, b, principal, None)
        out.append(
            ItemOut(
                item_id=v.item_id,
                source_kind=v.source_kind.value,
                source_id=v.source_id,
                payee_name=v.payee_name,
                bank_name=v.bank_name,
                bank_account=v.bank_account,
                amount=v.amount,
                result=v.result.value,
                bank_serial=v.bank_serial,
                paid_on=v.paid_on,
                reason=v.reason,
                recorded_at=v.recorded_at,
            )
        )
    return out


def _batch(b: PaymentBatch, principal: Principal) -> BatchOut:
    return BatchOut(**_summary(b).model_dump(), items=_items(b, principal))


def _results(report: payments.ResultsReport) -> ResultsOut:
    return ResultsOut(
        batch_id=report.batch_id,
        batch_status=report.batch_status.value,
        recorded=report.recorded,
        unchanged=report.unchanged,
        rows=[
            RowOutcomeOut(
                row=o.row,
                item_id=o.item_id,
                source_kind=o.source_kind.value,
                source_id=o.source_id,
                result=o.result.value,
                outcome=o.outcome,
            )
            for o in report.rows
        ],
    )


@router.post("", access=PAYERS, response_model=CreatedOut, status_code=201, summary="Make a payment batch")
def create_batch(session: Uow, principal: CurrentPrincipal, body: BatchIn) -> CreatedOut:
    made = payments.create_batch(session, principal, body.region, clock.now(), body.request_id)
    return CreatedOut(
        **_batch(made.batch, principal).model_dump(),
        replayed=made.replayed,
        left_out=[
            LeftOutOut(source_kind=x.source_kind.value, source_id=x.source_id, reason=x.reason) for x in made.left_out
        ],
    )


@router.get("", access=PAYERS, response_model=list[BatchSummaryOut], summary="Payment batches of my regions")
def list_batches(
    session: Uow,
    principal: CurrentPrincipal,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(exported|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[BatchSummaryOut]:
    return [_summary(b) for b in payment_files.list_batches(session, principal, region, status, limit, offset)]


@router.get("/{batch_id}", access=PAYERS, response_model=BatchOut, summary="A payment batch with its items")
def show_batch(session: Uow, principal: CurrentPrincipal, batch_id: BatchId) -> BatchOut:
    return _batch(payment_files.show_batch(session, principal, batch_id), principal)


def _download(name: str, content: bytes, media_type: str) -> Response:
    return Response(content, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get(
    "/{batch_id}/export.csv",
    access=PAYERS,
    response_class=Response,
    summary="The bank transfer file as CSV (UTF-8 with BOM)",
)
def export_csv(session: Uow, principal: CurrentPrincipal, batch_id: BatchId) -> Response:
    name, content = payment_files.export_file(session, principal, batch_id, "csv", clock.now())
    return _download(name, content, "text/csv; charset=utf-8")


@router.get("/{batch_id}/export.xlsx", access=PAYERS, response_class=Response, summary="The bank transfer file as XLSX")
def export_xlsx(session: Uow, principal: CurrentPrincipal, batch_id: BatchId) -> Response:
    name, content = payment_files.export_file(session, principal, batch_id, "xlsx", clock.now())
    return _download(name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.post("/{batch_id}/results", access=PAYERS, response_model=ResultsOut, summary="Record the bank's results")
def record_results(
    session: Uow,
    principal: CurrentPrincipal,
    batch_id: BatchId,
    body: Annotated[list[ResultIn], Body(min_length=1, max_length=10_000)],
) -> ResultsOut:
    rows = [
        ResultRow(
            row=n,
            item_id=None if r.item_id is None else str(r.item_id),
            source_id=r.source_id,
            result=r.result,
            bank_serial=r.bank_serial,
            paid_on=None if r.paid_on is None else r.paid_on.isoformat(),
            reason=r.reason,
            amount=r.amount,
        )
        for n, r in enumerate(body, start=1)
    ]
    return _results(payments.record_results(session, principal, batch_id, rows, clock.now()))


@router.post(
    "/{batch_id}/results-file", access=PAYERS, response_model=ResultsOut, summary="Record the results from a CSV"
)
def record_results_file(
    session: Uow, principal: CurrentPrincipal, batch_id: BatchId, file: Annotated[UploadFile, File()]
) -> ResultsOut:
    content = file.file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise YidiError(P_RESULTS_FILE, reason=f"larger than {MAX_FILE_BYTES} bytes / 文件过大")
    return _results(payments.import_results_file(session, principal, batch_id, content, clock.now()))
