"""The national-interface endpoint, at both URL forms (`…/callService` and `…/callService/{infno}`). Signed
institution requests only; always answers an envelope with HTTP 200 (see gateway.edge)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from yidi.core import clock
from yidi.core.errors import YidiError
from yidi.core.principal import Audience
from yidi.core.web import database
from yidi.gateway import edge, envelope, service, wire
from yidi.security.access import SecureRouter, allow, signed_request

router = SecureRouter(tags=["gateway 国家接口"])


PATH = "/fsi/api/rsfComIfsService/callService"


@router.post(
    PATH,
    access=allow(Audience.INSTITUTION),
    signature_in_endpoint=True,  # verified and its nonce claimed in the call's own transaction
    summary="National interface: one transaction per call (infno in the body)",
)
async def call_service(request: Request) -> Any:
    return await _call(request, None)


@router.post(
    PATH + "/{infno}",
    access=allow(Audience.INSTITUTION),
    signature_in_endpoint=True,
    summary="National interface, the transaction also named in the path (it must match the body's infno)",
)
async def call_service_infno(request: Request, infno: str) -> Any:
    return await _call(request, infno)


async def _call(request: Request, path_infno: str | None) -> Any:
    signed = await signed_request(request)
    # Parsed in the worker thread with the call: a body up to the size limit must not hold up the event loop.
    try:
        limiter = getattr(request.app.state, "gateway_limiter", None)
        answer = await run_in_threadpool(service.handle_raw, database(request), signed, path_infno, limiter)
    except YidiError as exc:  # the signature or its nonce: nothing was written; an envelope, as for every refusal
        answer = envelope.answer("000000", clock.now(), clock.now(), None, service.error_text(exc))
        return _envelope(answer, exc.http_status)
    download = (answer.get("output") or {}).get("__content__") if answer.get("infcode") == 0 else None
    if isinstance(download, bytes):  # 9102: the file itself, not an envelope
        name = answer["output"]["__file__"]["filename"]
        return Response(
            download,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return _envelope(answer, 429 if answer.get("err_msg") == edge.RATE_LIMITED else None)


def _envelope(answer: dict[str, Any], refused_status: int | None) -> Response:
    """The answer typed as the national platform types it (see gateway.wire); a refusal before the transaction
    says in x-yidi-status what HTTP status it would have had (see gateway.edge)."""
    headers = {"x-yidi-status": str(refused_status)} if refused_status else None
    return Response(wire.dumps(answer).encode("utf-8"), media_type="application/json", headers=headers)
