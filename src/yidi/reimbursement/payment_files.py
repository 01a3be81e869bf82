"""The transfer files of a payment batch (CSV and XLSX from the same lines) and the staff's lists of batches.

A file lists the transfers still awaiting the bank: the first export lists every item with money to move; a
re-export (any later file of the batch) lists only the items still pending, never one the bank has answered (paid,
failed or returned: a failed or returned claim is paid by the next batch, not by this file again). A batch with
nothing pending (closed) makes no file. Each export is audited with its number; a re-export is marked as such in the
audit row and in the XLSX title row (a CSV has no title row: a bank import takes every line as a transfer).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core.clock import SHANGHAI
from yidi.core.errors import YidiError
from yidi.core.principal import Principal
from yidi.reimbursement.bank_files import BankLine, csv_file, total_of, xlsx_file
from yidi.reimbursement.models import PaymentBatch
from yidi.reimbursement.payment_audit import Act
from yidi.reimbursement.payment_rules import P_EXPORT, ItemResult, SourceKind
from yidi.reimbursement.payments import load_batch, require_payer


def bank_lines(batch: PaymentBatch) -> list[BankLine]:
    """The transfer lines of a batch: every item still pending with money to move (a 0.00 item moves none)."""
    return [
        BankLine(i.payee_name, i.bank_name, i.bank_account, i.amount, i.source_id, SourceKind(i.source_kind), batch.id)
        for i in sorted(batch.items, key=lambda i: i.id)
        if i.amount > 0 and i.result == ItemResult.PENDING.value
    ]


def export_file(
    session: Session, principal: Principal, batch_id: str, fmt: Literal["csv", "xlsx"], now: dt.datetime
) -> tuple[str, bytes]:
    """(file name, content) of the transfer file. The accounts leave the platform in full: each export is
    audited, as a staff read of an ID number is."""
    batch = load_batch(session, batch_id, lock=True)  # its files are counted one at a time
    require_payer(principal, batch.insured_region)
    lines = bank_lines(batch)
    answered = sum(1 for i in batch.items if i.amount > 0 and i.result != ItemResult.PENDING.value)
    if not lines:
        reason = f"{answered} transfer(s) answered by the bank, batch {batch.status} / 银行已回复全部转账"
        raise YidiError(P_EXPORT, batch_id=batch.id, reason=reason)
    batch.export_count += 1
    number = batch.export_count
    if fmt == "csv":
        content = csv_file(lines)
    else:
        made = batch.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        title = f"支付批次 {batch.id}（参保地 {batch.insured_region}，{made}）"
        if number > 1:
            title += f" 第{number}次导出（重新导出），仅列待银行结果的{len(lines)}笔 / re-export {number}: pending only"
        content = xlsx_file(lines, title)
    exported: dict[str, object] = {
        "format": fmt,
        "lines": len(lines),
        "total": str(total_of(lines)),
        "export_no": number,
        "reexport": number > 1,
        "answered_left_out": answered,
    }
    Act(session, principal, "api", now).audit("payment_batch.export", ("payment_batch", batch.id), None, exported)
    return f"payment-batch-{batch.id}.{fmt}", content


def show_batch(session: Session, principal: Principal, batch_id: str) -> PaymentBatch:
    batch = load_batch(session, batch_id)
    require_payer(principal, batch.insured_region)
    return batch


def list_batches(
    session: Session, principal: Principal, region: str | None, status: str | None, limit: int, offset: int
) -> list[PaymentBatch]:
    """Batches of the given region or of all the caller's regions, newest first."""
    regions = [region] if region else sorted(principal.regions)
    for r in regions:
        require_payer(principal, r)
    if not regions:
        require_payer(principal, "")  # a person or a staff member without regions is refused, not answered []
    stmt = select(PaymentBatch).where(PaymentBatch.insured_region.in_(regions))
    if status:
        stmt = stmt.where(PaymentBatch.status == status)
    stmt = stmt.order_by(PaymentBatch.created_at.desc(), PaymentBatch.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))
