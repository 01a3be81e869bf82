"""Which institution may act on a person by psn_no: the one where the person is, or just was.

The national interface lets an HIS name any psn_no. An institution learns a psn_no by identifying the person
(1101, with the card, ID or e-voucher the person presents); reading the person's year-to-date accumulators
(5206), qualifications and filings (5301, 5302, 5304), their benefit check (2001), or recording a referral
(2501) or chronic qualification (2503) for them is allowed only to an institution where the person is present:

- identified there (1101) today or yesterday (a night at the emergency department crosses midnight) — which is
  also what registering a visit or stay (2201/2401) needs, or
- with an open visit there (registered or discharged, not yet settled or cancelled), or
- settled there within the last `institution_read_days` (the receipt printed after the settlement).

Anything else is answered as if the person did not exist for that institution, so that a probe learns nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yidi.core.errors import NOT_FOUND, YidiError
from yidi.parameters.store import default_store
from yidi.settlement.models import Identification, Settlement, Visit

OPEN_STATUSES = ("registered", "discharged")


def record_identification(session: Session, fixmedins_code: str, psn_no: str, now: dt.datetime) -> None:
    """Note that `fixmedins_code` identified `psn_no` today (once a day; concurrent calls do not conflict)."""
    values = {"fixmedins_code": fixmedins_code, "psn_no": psn_no, "day": now.date(), "first_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Identification).values(**values).on_conflict_do_nothing())


def _identified(fixmedins_code: str, psn_no: str, now: dt.datetime) -> Any:
    return exists().where(
        Identification.fixmedins_code == fixmedins_code,
        Identification.psn_no == psn_no,
        Identification.day >= now.date() - dt.timedelta(days=1),
    )


def require_identified(session: Session, fixmedins_code: str, psn_no: str, now: dt.datetime) -> None:
    """Registering a visit or stay (2201/2401) needs the person identified there (1101) today or yesterday: an
    open visit is itself a ground for presence, so it cannot be opened on a bare psn_no. The refusal is the one
    of an unknown person, so that it does not tell whether the psn_no exists."""
    if not session.scalar(select(_identified(fixmedins_code, psn_no, now))):
        raise _absent(psn_no)


def _absent(psn_no: str) -> YidiError:
    return YidiError(NOT_FOUND, what="本机构就诊的参保人员 / insured person present at this institution", key=psn_no)


def is_present(session: Session, fixmedins_code: str, psn_no: str, now: dt.datetime) -> bool:
    days = default_store().input_limits(now.date()).institution_read_days
    identified = _identified(fixmedins_code, psn_no, now)
    open_visit = exists().where(
        Visit.fixmedins_code == fixmedins_code, Visit.psn_no == psn_no, Visit.status.in_(OPEN_STATUSES)
    )
    settled = exists().where(
        Settlement.fixmedins_code == fixmedins_code,
        Settlement.psn_no == psn_no,
        Settlement.setl_time >= now - dt.timedelta(days=days),
    )
    return bool(session.scalar(select(identified | open_visit | settled)))


def require_presence(session: Session, fixmedins_code: str, psn_no: str, now: dt.datetime) -> None:
    if not is_present(session, fixmedins_code, psn_no, now):
        raise _absent(psn_no)
