"""The invoice register: an invoice (number + institution) pays once, by a direct settlement or by a manual claim.

An invoice number is kept in one normal form (`invoice_number`: NFKC, no surrounding white space, upper case), so
that "bj-1", "BJ-1" and "ＢＪ－１" are one invoice whoever typed it.

`take` is called in the transaction that uses the invoice (a 2207/2304/2102 settlement, the submission of a
claim); the primary key of `invoice_use` refuses a second owner even when two transactions take the same invoice
at once: the second insert waits for the first transaction, then fails, inside a savepoint of its own, and the
refusal names the first owner. `release` gives the rows back (a cancelled settlement, a withdrawn claim).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.core.errors import ErrorKind, YidiError
from yidi.settlement.models import InvoiceUse

SETTLEMENT, CLAIM = "settlement", "claim"  # owner_kind
_OWNER_ZH = {SETTLEMENT: "直接结算", CLAIM: "手工报销申请"}
_OWNER_EN = {SETTLEMENT: "direct settlement", CLAIM: "manual claim"}

INVOICE_USED = ErrorKind(
    "S_INVOICE_USED",
    "发票{invono}（{institution}）已由{owner_zh} {owner_id} 使用，同一张发票只能报销一次",
    "invoice {invono} of {institution} was already used by {owner_en} {owner_id}; an invoice is paid only once",
    409,
)


class InvoiceTaken(YidiError):
    """The invoice belongs to another settlement or claim (`owner_kind`, `owner_id`)."""

    def __init__(self, institution_key: str, invono: str, owner_kind: str, owner_id: str) -> None:
        self.owner_kind, self.owner_id = owner_kind, owner_id
        super().__init__(
            INVOICE_USED,
            invono=invono,
            institution=institution_key,
            owner_zh=_OWNER_ZH.get(owner_kind, owner_kind),
            owner_en=_OWNER_EN.get(owner_kind, owner_kind),
            owner_id=owner_id,
        )


_SPACES = re.compile(r"\s+")


def institution_key(fixmedins_code: str | None, region: str, name: str) -> str:
    """The fixmedins_code of a networked institution; for one outside the network `X<region>:<name>`, the name in
    one normal form (NFKC, so a full-width letter or space is the same as its half-width twin; runs of white space
    as one space), so that the same hospital typed twice is one institution."""
    if fixmedins_code:
        return fixmedins_code
    normal = _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip()
    return f"X{region}:{normal}"[:120]


def invoice_number(invono: str) -> str:
    """The number as the register keys it: NFKC (a full-width letter or digit is its half-width twin), without
    surrounding white space, in upper case. Hospitals print the same number in either case; typed in lower case
    it is the same invoice and must not pay twice."""
    return unicodedata.normalize("NFKC", invono).strip().upper()[:40]


def owner_of(session: Session, institution_key: str, invono: str) -> tuple[str, str] | None:
    """(owner_kind, owner_id) of the invoice, or None when it is free."""
    row = session.get(InvoiceUse, (institution_key, invoice_number(invono)), populate_existing=True)
    return None if row is None else (row.owner_kind, row.owner_id)


def take(session: Session, institution_key: str, invono: str, owner_kind: str, owner_id: str, now: dt.datetime) -> None:
    """Record that `owner_id` uses the invoice; taking it again for the same owner changes nothing. Raises
    `InvoiceTaken` naming the first owner when another has it (also when that owner is taking it right now, in a
    transaction not committed yet: the insert waits for it)."""
    invono = invoice_number(invono)
    owner = owner_of(session, institution_key, invono)
    if owner == (owner_kind, owner_id):
        return
    if owner is not None:
        raise InvoiceTaken(institution_key, invono, *owner)
    try:
        with session.begin_nested():
            session.add(
                InvoiceUse(
                    institution_key=institution_key,
                    invono=invono,
                    owner_kind=owner_kind,
                    owner_id=owner_id,
                    taken_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        # Another transaction took it between the read above and this insert, and has committed since.
        owner = owner_of(session, institution_key, invono)
        if owner is None:  # it was rolled back meanwhile: the caller may retry
            raise
        if owner == (owner_kind, owner_id):
            return
        raise InvoiceTaken(institution_key, invono, *owner) from None


def release(session: Session, owner_kind: str, owner_id: str) -> int:
    """Give back every invoice the owner took; returns how many."""
    result = session.execute(
        delete(InvoiceUse)
        .where(InvoiceUse.owner_kind == owner_kind, InvoiceUse.owner_id == owner_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def invoices_of(session: Session, owner_kind: str, owner_id: str) -> list[tuple[str, str]]:
    """(institution_key, invono) of every invoice the owner holds."""
    stmt = select(InvoiceUse.institution_key, InvoiceUse.invono).where(
        InvoiceUse.owner_kind == owner_kind, InvoiceUse.owner_id == owner_id
    )
    return [(k, n) for k, n in session.execute(stmt.order_by(InvoiceUse.institution_key, InvoiceUse.invono))]
