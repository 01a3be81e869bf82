"""The message log's tombstone: a message reversed (2601) before it arrived is refused when it does arrive.

Below both the gateway service (which answers a late arrival from the log) and the transactions (2601 writes the
tombstone), so that neither imports the other.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from yidi.gateway import envelope
from yidi.settlement.inputs import Call
from yidi.settlement.models import MessageLog


def tombstone(session: Session, call: Call, omsgid: str, oinfno: str) -> None:
    """Record that `omsgid` was reversed before it arrived: a late arrival replays this refusal."""
    if session.get(MessageLog, omsgid) is not None:
        return
    refusal = envelope.answer(
        call.insuplc_admdvs or "000000",
        call.now,
        call.now,
        None,
        f"[S_REVERSED] 该交易已被2601冲正 / this message was reversed by 2601 ({call.msgid})",
    )
    session.add(
        MessageLog(
            msgid=omsgid,
            infno=oinfno,
            fixmedins_code=call.fixmedins_code,
            received_at=call.now,
            infcode=-1,
            request={"reversed_by": call.msgid},
            response=refusal,
            serial=secrets.randbelow(2**62),
        )
    )
