"""The national-interface endpoint. Signed institution requests only; always answers an envelope."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from yidi.core.principal import Audience
from yidi.core.web import database
from yidi.gateway import service, wire
from yidi.security.access import SecureRouter, allow, signed_request

router = SecureRouter(tags=["gateway 国家接口"])


@router.post(
    "/fsi/api/rsfComIfsService/callService",
    access=allow(Audience.INSTITUTION),
    signature_in_endpoint=True,  # verified and its nonce claimed in the call's own transaction
    summary="National interface: one transaction per call (infno in the body)",
)
async def call_service(request: Request) -> Any:
    signed = await signed_request(request)
    # Parsed in the worker thread with the call: a body up to the size limit must not hold up the event loop.
    answer = await run_in_threadpool(service.handle_raw, database(request), signed)
    download = (answer.get("output") or {}).get("__content__") if answer.get("infcode") == 0 else None
    if isinstance(download, bytes):  # 9102: the file itself, not an envelope
        name = answer["output"]["__file__"]["filename"]
        return Response(
            download,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    # Typed as the national platform types it (amounts as JSON numbers, unknown values null): see gateway.wire.
    text = wire.dumps(answer)
    return Response(text.encode("utf-8"), media_type="application/json")
