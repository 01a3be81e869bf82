"""Processing one gateway call: envelope checks, replay by msgid, the transaction in one unit of work, and
an answer that is always an envelope (infcode 0 or -1), never an HTTP error."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.core import clock
from yidi.core.certno import mask_certnos_in_text
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.core.principal import Principal
from yidi.gateway import envelope
from yidi.gateway.transactions import READ_ONLY, TRANSACTIONS
from yidi.reference.models import Institution
from yidi.reference.rules import divisions
from yidi.settlement.inputs import Call
from yidi.settlement.models import MessageLog

log = logging.getLogger("yidi.gateway")


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


def _error_text(exc: YidiError) -> str:
    return f"[{exc.code}] {exc.message_zh} / {exc.message_en}"


def _fingerprint(body: dict[str, Any]) -> str:
    """What makes a message the same message: its transaction and its input (not inf_time or sign_no)."""
    return hashlib.sha256(
        json.dumps([body.get("infno"), body.get("input")], sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _kept(body: dict[str, Any]) -> dict[str, Any]:
    """The request as kept in the message log: ID numbers masked (they are personal data at rest), with the
    fingerprint of the original so a replay is still recognised."""
    kept: dict[str, Any] = json.loads(mask_certnos_in_text(json.dumps(body, ensure_ascii=False, default=str)))
    kept["_fingerprint"] = _fingerprint(body)
    return kept


def _stored(db: Database, env: envelope.Envelope, body: dict[str, Any], received: dt.datetime) -> dict[str, Any] | None:
    """The stored answer for a replay; a refusal when the msgid was used for a different message."""
    with db.read_only() as session:
        row = session.get(MessageLog, env.msgid)
        if row is None:
            return None
        stored_print = row.request.get("_fingerprint") or _fingerprint(row.request)
        if "reversed_by" in row.request or stored_print == _fingerprint(body):
            return dict(row.response)
    return envelope.answer(
        env.mdtrtarea_admvs,
        received,
        clock.now(),
        None,
        "[E_MSGID_REUSED] msgid: 已用于另一笔不同的报文 / already used for a different message",
    )


def _remember(
    db: Database, env: envelope.Envelope, body: dict[str, Any], response: dict[str, Any], now: dt.datetime
) -> None:
    try:
        with db.unit_of_work() as session:
            session.add(
                MessageLog(
                    msgid=env.msgid,
                    infno=env.infno,
                    fixmedins_code=env.fixmedins_code,
                    received_at=now,
                    infcode=response["infcode"],
                    request=_kept(body),
                    response=response,
                    serial=secrets.randbelow(2**62),
                )
            )
    except IntegrityError:
        pass  # a concurrent copy of the same message got there first; its answer stands
    except Exception:  # the answer still goes out; only its record is missing
        log.exception("could not store a gateway answer", extra={"msgid": env.msgid})


def handle(db: Database, principal: Principal, body: Any) -> dict[str, Any]:
    received = clock.now()
    try:
        env = envelope.parse(body)
    except envelope.EnvelopeError as exc:
        return envelope.answer("000000", received, clock.now(), None, f"[E_ENVELOPE] {exc.field}: {exc.problem}")
    region = env.mdtrtarea_admvs
    if env.fixmedins_code != principal.subject:
        return envelope.answer(
            region,
            received,
            clock.now(),
            None,
            "[E_ENVELOPE] fixmedins_code: is not the signing institution / 与签名机构不符",
        )
    stored = _stored(db, env, body, received)
    if stored is not None:
        return stored  # a replay: the identical answer, nothing done twice
    handler = TRANSACTIONS.get(env.transaction)
    if handler is None:
        response = envelope.answer(
            region, received, clock.now(), None, f"[E_INFNO] infno: {env.infno} is not supported / 不支持的交易"
        )
        _remember(db, env, body, response, received)
        return response
    call = Call(principal, env.msgid, env.transaction, received, env.insuplc_admdvs)
    try:
        with db.unit_of_work() as session:
            _check_region(session, env)
            output = handler(session, call, env.input)
            response = envelope.answer(region, received, clock.now(), output)
            if env.transaction not in READ_ONLY:
                session.add(
                    MessageLog(
                        msgid=env.msgid,
                        infno=env.infno,
                        fixmedins_code=env.fixmedins_code,
                        received_at=received,
                        infcode=0,
                        request=_kept(body),
                        response=response,
                        serial=secrets.randbelow(2**62),
                    )
                )
        return response
    except IntegrityError:
        stored = _stored(db, env, body, received)
        if stored is not None:
            return stored
        log.exception("integrity error in gateway", extra={"infno": env.infno, "msgid": env.msgid})
        response = envelope.answer(
            region, received, clock.now(), None, "[E_CONFLICT] 数据冲突，请重试 / conflict; retry"
        )
        return response
    except YidiError as exc:
        response = envelope.answer(region, received, clock.now(), None, _error_text(exc))
    except Exception:
        log.exception("gateway transaction failed", extra={"infno": env.infno, "msgid": env.msgid})
        return envelope.answer(region, received, clock.now(), None, "[E_INTERNAL] 系统内部错误 / internal error")
    _remember(db, env, body, response, received)
    return response


def _check_region(session: Session, env: envelope.Envelope) -> None:
    from yidi.reference.service import get_institution

    institution: Institution = get_institution(session, env.fixmedins_code)
    try:
        pool = divisions().pooling_region_of(env.mdtrtarea_admvs).code
    except YidiError:
        pool = None
    if pool != institution.pooling_region:
        raise envelope_error(
            "mdtrtarea_admvs", f"is not the institution's region {institution.pooling_region} / 与机构所在地不符"
        )


def envelope_error(field: str, problem: str) -> YidiError:
    from yidi.settlement.inputs import BAD_INPUT

    return YidiError(BAD_INPUT, field=field, problem=problem)
