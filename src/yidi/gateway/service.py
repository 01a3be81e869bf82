"""Processing one gateway call: envelope checks, replay by msgid, the transaction in one unit of work, and
an answer that is always an envelope (infcode 0 or -1), never an HTTP error."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from yidi.core import clock, jsonsafe
from yidi.core.certno import mask_certnos_in_text, mask_id_runs
from yidi.core.db import Database, unavailable
from yidi.core.errors import YidiError
from yidi.core.principal import Principal
from yidi.gateway import envelope
from yidi.gateway.edge import RATE_LIMITED, TokenBuckets
from yidi.gateway.transactions import READ_ONLY, handler_for
from yidi.reference.models import Institution
from yidi.reference.rules import divisions
from yidi.security.access import SignedRequest
from yidi.security.service import spend_nonce, verify_institution_request
from yidi.settlement.inputs import Call
from yidi.settlement.models import MessageLog

log = logging.getLogger("yidi.gateway")


def error_text(exc: YidiError) -> str:
    return f"[{exc.code}] {exc.message_zh} / {exc.message_en}"


def _fingerprint(body: dict[str, Any]) -> str:
    """What makes a message the same message: its transaction and its input (not inf_time or sign_no)."""
    return hashlib.sha256(
        json.dumps([body.get("infno"), body.get("input")], sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _kept(body: dict[str, Any]) -> dict[str, Any]:
    """The request as kept in the message log: ID numbers masked (they are personal data at rest), with the
    fingerprint of the original so a replay is still recognised."""
    kept: dict[str, Any] = _masked_fields(
        json.loads(mask_certnos_in_text(json.dumps(body, ensure_ascii=False, default=str)))
    )
    kept["_fingerprint"] = _fingerprint(body)
    return kept


_CERTNO_FIELDS = frozenset({"certno", "mdtrt_cert_no"})


def _masked_fields(value: Any) -> Any:
    """The certificate-number fields masked, also where an ID number runs inside a longer number (a prefixed card
    number) that the free-text mask, bounded by non-alphanumerics, does not see. The answer is kept so: masked by
    field, not over the whole text, as a replay must give back every other identifier exactly as first answered
    (a full number is given back only to the institution that presented it, in 1101, which is not stored)."""
    if isinstance(value, dict):
        return {
            k: mask_id_runs(mask_certnos_in_text(v))
            if k in _CERTNO_FIELDS and isinstance(v, str)
            else _masked_fields(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked_fields(v) for v in value]
    return value


def _stored(
    session: Session, env: envelope.Envelope, body: dict[str, Any], received: dt.datetime
) -> dict[str, Any] | None:
    """The stored answer for a replay; a refusal when the msgid was used for a different message."""
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


def _log_row(env: envelope.Envelope, body: dict[str, Any], response: dict[str, Any], now: dt.datetime) -> MessageLog:
    return MessageLog(
        msgid=env.msgid,
        infno=env.infno,
        fixmedins_code=env.fixmedins_code,
        received_at=now,
        infcode=response["infcode"],
        request=_kept(body),
        response=_masked_fields(response),
        serial=secrets.randbelow(2**62),
    )


BUSY = "[E_BUSY] 数据繁忙，请重试 / busy; retry"  # never stored: a retry with the same msgid may succeed
NOT_JSON = object()  # the body was not UTF-8 JSON
TOO_DEEP = object()  # the body nested deeper than jsonsafe.MAX_DEPTH (refused before parsing)


@dataclass(frozen=True)
class BadText:
    """The body holds a NUL or an unpaired surrogate at `path`: neither answered nor stored (the log could not)."""

    path: str


_RETRYABLE = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available (PostgreSQL)


def parse_body(raw: bytes) -> Any:
    """The request body as JSON, or NOT_JSON / TOO_DEEP. Some clients send text/plain: parsed regardless of
    content-type. Decimal numbers are kept as their text (never float); NaN and Infinity are not JSON. The depth is
    measured before parsing, so that no parser recurses into a hostile body."""
    if jsonsafe.too_deep(raw):
        return TOO_DEEP
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=str, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return NOT_JSON
    bad = jsonsafe.bad_text_in(raw, body)
    return BadText(bad) if bad is not None else body


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def handle_raw(
    db: Database, signed: SignedRequest, path_infno: str | None = None, limiter: TokenBuckets | None = None
) -> dict[str, Any]:
    """One call from the HTTP edge, body still raw (runs in a worker thread). `path_infno`: the transaction the
    URL names (`…/callService/2207`), which must be the envelope's; `limiter`: calls per verified credential."""
    return handle_signed(db, signed, parse_body(signed.body), path_infno, limiter)


def handle_signed(
    db: Database,
    signed: SignedRequest,
    body: Any,
    path_infno: str | None = None,
    limiter: TokenBuckets | None = None,
) -> dict[str, Any]:
    """One call from the HTTP edge in one transaction: signature and nonce, replay look-up, the transaction
    and the message log. A bad signature or a reused nonce raises the 401 `YidiError`; nothing is written."""
    received = clock.now()

    def verify(session: Session) -> Principal:
        return verify_institution_request(session, signed.headers, signed.method, signed.path, signed.body, received)

    try:
        return _in_transaction(db, verify, body, received, path_infno, limiter)
    except _Failed as failed:
        if signed.headers is not None:
            _spend_nonce(db, signed, received)
        return failed.answer


class _Failed(Exception):
    """The call's transaction was rolled back after its signature was verified: the answer, and the nonce to
    spend anyway (else the captured headers of the national scheme, which do not cover the body, would stay good
    for another body until the window closes)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer


def _spend_nonce(db: Database, signed: SignedRequest, received: dt.datetime) -> None:
    assert signed.headers is not None
    try:
        with db.unit_of_work() as session:
            spend_nonce(session, signed.headers.key_id, signed.headers.nonce, received)
    except Exception:  # the database is still unavailable, or the nonce is spent: nothing more to do
        log.warning("could not spend the nonce of a failed gateway call", extra={"key_id": signed.headers.key_id})


def handle(db: Database, principal: Principal, body: Any) -> dict[str, Any]:
    """One call for an institution already authenticated in this process (tests, tools)."""
    try:
        return _in_transaction(db, lambda _: principal, body, clock.now())
    except _Failed as failed:
        return failed.answer


def _in_transaction(
    db: Database,
    authenticate: Callable[[Session], Principal],
    body: Any,
    received: dt.datetime,
    path_infno: str | None = None,
    limiter: TokenBuckets | None = None,
) -> dict[str, Any]:
    """The transaction's own work runs under a savepoint: when it fails only that part is rolled back, and the
    nonce and the refusal (stored under the msgid, so that a retry gets the same answer) are committed."""
    verified = False
    try:
        with db.unit_of_work() as session:
            principal = authenticate(session)
            verified = True
            if limiter is not None and not limiter.allow(f"key:{principal.key_id or principal.subject}"):
                return envelope.answer("000000", received, clock.now(), None, RATE_LIMITED)  # the nonce is spent
            return _process(session, principal, body, received, path_infno)
    except YidiError:
        raise  # the signature or nonce refusal: nothing was written
    except Exception as exc:
        if unavailable(exc):  # nothing was committed: the HIS retries with the same msgid
            log.warning("database unavailable for a gateway call", extra={"error_type": type(exc).__name__})
            answer = envelope.answer("000000", received, clock.now(), None, BUSY)
        else:
            log.exception("gateway call failed")
            answer = envelope.answer(
                "000000", received, clock.now(), None, "[E_INTERNAL] 系统内部错误 / internal error"
            )
        if verified:
            raise _Failed(answer) from exc
        return answer


def _process(
    session: Session, principal: Principal, body: Any, received: dt.datetime, path_infno: str | None = None
) -> dict[str, Any]:
    if body is NOT_JSON:
        return envelope.answer(
            "000000", received, clock.now(), None, "[E_ENVELOPE] body: is not UTF-8 JSON / 请求不是JSON"
        )
    if body is TOO_DEEP:
        return envelope.answer(
            "000000",
            received,
            clock.now(),
            None,
            f"[E_ENVELOPE] body: nests deeper than {jsonsafe.MAX_DEPTH} levels / 嵌套层数超过{jsonsafe.MAX_DEPTH}",
        )
    if isinstance(body, BadText):
        return envelope.answer(
            "000000",
            received,
            clock.now(),
            None,
            f"[E_ENVELOPE] {body.path}: holds a NUL or an unpaired surrogate / 含有非法字符",
        )
    try:
        env = envelope.parse(body)
    except envelope.EnvelopeError as exc:
        return envelope.answer("000000", received, clock.now(), None, f"[E_ENVELOPE] {exc.field}: {exc.problem}")
    region = env.mdtrtarea_admvs
    if path_infno is not None and path_infno != env.infno:
        shown = path_infno if envelope.INFNO_RE.fullmatch(path_infno) else "?"
        return envelope.answer(
            region,
            received,
            clock.now(),
            None,
            f"[E_ENVELOPE] infno: 与地址中的交易编号{shown}不符 / does not match the transaction in the URL ({shown})",
        )
    if env.fixmedins_code != principal.subject:
        return envelope.answer(
            region,
            received,
            clock.now(),
            None,
            "[E_ENVELOPE] fixmedins_code: is not the signing institution / 与签名机构不符",
        )
    # A replay is answered from the log before any work (and any row lock: retries come when calls are slow).
    # A concurrent copy that is not committed yet is caught by the msgid key when its log row is written.
    stored = _stored(session, env, body, received)
    if stored is not None:
        return stored
    handler = handler_for(env.transaction)
    if handler is None:
        response = envelope.answer(
            region, received, clock.now(), None, f"[E_INFNO] infno: {env.infno} is not supported / 不支持的交易"
        )
        return _keep(session, env, body, response, received)
    call = Call(principal, env.msgid, env.transaction, received, env.insuplc_admdvs)
    try:
        with session.begin_nested():
            _check_region(session, env)
            output = handler(session, call, env.input)
            response = envelope.answer(region, received, clock.now(), output)
            if env.transaction not in READ_ONLY:
                session.add(_log_row(env, body, response, received))
        return response
    except IntegrityError:
        stored = _stored(session, env, body, received)  # a replay, or a concurrent copy that committed first
        if stored is not None:
            return stored
        log.exception("integrity error in gateway", extra={"infno": env.infno, "msgid": env.msgid})
        return envelope.answer(region, received, clock.now(), None, "[E_CONFLICT] 数据冲突，请重试 / conflict; retry")
    except YidiError as exc:
        response = envelope.answer(region, received, clock.now(), None, error_text(exc))
    except OperationalError as exc:
        if unavailable(exc):
            raise  # the connection is gone: answered busy outside the transaction, which is rolled back
        stored = _stored(session, env, body, received)
        if stored is not None:
            return stored
        if getattr(exc.orig, "sqlstate", None) in _RETRYABLE:  # not stored: the retry may succeed
            log.warning("gateway transaction must be retried", extra={"infno": env.infno, "msgid": env.msgid})
            return envelope.answer(region, received, clock.now(), None, BUSY)
        log.exception("gateway transaction failed", extra={"infno": env.infno, "msgid": env.msgid})
        return envelope.answer(region, received, clock.now(), None, "[E_INTERNAL] 系统内部错误 / internal error")
    except Exception:
        log.exception("gateway transaction failed", extra={"infno": env.infno, "msgid": env.msgid})
        return envelope.answer(region, received, clock.now(), None, "[E_INTERNAL] 系统内部错误 / internal error")
    return _keep(session, env, body, response, received)  # a refusal is an answer too: a retry gets the same


def _keep(
    session: Session, env: envelope.Envelope, body: dict[str, Any], response: dict[str, Any], received: dt.datetime
) -> dict[str, Any]:
    """Store a refusal under its msgid; when a concurrent copy of the message stored first, its answer stands."""
    try:
        with session.begin_nested():
            session.add(_log_row(env, body, response, received))
    except IntegrityError:
        return _stored(session, env, body, received) or response
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
