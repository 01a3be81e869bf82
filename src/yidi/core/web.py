"""What every HTTP edge shares: error translation, request logging, the database dependency."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from yidi.core import jsonsafe
from yidi.core.db import Database, unavailable
from yidi.core.errors import YidiError

log = logging.getLogger("yidi.http")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def read_session(request: Request) -> Iterator[Session]:
    with database(request).read_only() as session:
        yield session


def error_body(code: str, zh: str, en: str, details: object = None) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message_zh": zh, "message_en": en}
    if details is not None:
        body["details"] = details
    return body


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(YidiError)
    async def _yidi_error(_: Request, exc: YidiError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()
        ]
        names = ", ".join(p["field"] for p in problems)
        return JSONResponse(
            error_body("E_INPUT", f"请求参数有误：{names}", f"invalid request fields: {names}", problems),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = {404: "未找到该地址", 405: "不支持该请求方法"}.get(exc.status_code, "请求失败")
        return JSONResponse(error_body(f"E_HTTP_{exc.status_code}", zh, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if unavailable(exc):  # an outage is not a bug: the client may retry the same request later
            log.warning("database unavailable", extra={"error_type": type(exc).__name__})
            return JSONResponse(
                error_body(
                    "E_BUSY", "系统繁忙（数据库暂不可用），请稍后重试", "busy (database unavailable); retry later"
                ),
                status_code=503,
                headers={"retry-after": "5"},
            )
        log.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return JSONResponse(
            error_body("E_INTERNAL", "系统内部错误，请稍后重试", "internal error; please retry later"),
            status_code=500,
        )


class RequestLogMiddleware:
    """One log line per request (method, path, status, duration) and an `x-request-id` on every answer.

    Plain ASGI rather than `@app.middleware("http")`: that wrapper costs a task and a stream per request on the
    gateway's hot path.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers") or () if k == b"x-request-id"), None)
        request_id = given.decode("latin-1")[:64] if given else uuid.uuid4().hex
        started = time.perf_counter()
        status, refused = 500, None

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, refused
            if message["type"] == "http.response.start":
                status = message["status"]
                # The national interface answers refusals with HTTP 200 and says what it refused in this header.
                refused = next((v for k, v in message.get("headers", ()) if k == b"x-yidi-status"), None)
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode("latin-1"))]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    **({"refused_status": int(refused)} if refused and refused.isdigit() else {}),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),  # a duration, not money
                },
            )


class BodyLimitMiddleware:
    """Refuse request bodies above a limit with 413 and a bilingual error, before any handler reads them.

    Upload paths (those ending in one of `upload_suffixes`) get the larger upload limit.
    """

    def __init__(self, app: Any, max_body: int, max_upload: int, upload_suffixes: tuple[str, ...] = ()) -> None:
        self.app, self.max_body, self.max_upload, self.upload_suffixes = app, max_body, max_upload, upload_suffixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith(self.upload_suffixes) else self.max_body
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Any, limit: int) -> None:
        body = json.dumps(
            error_body("E_TOO_LARGE", f"请求内容超过 {limit} 字节上限", f"request body larger than {limit} bytes"),
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


class JsonGuardMiddleware:
    """Refuse, naming the field, what would otherwise fail deep inside: JSON nested past `jsonsafe.MAX_DEPTH`
    (measured before any parser recurses), and NUL characters or lone surrogates in a JSON body or the query
    string, which PostgreSQL cannot store. Paths under `skip_prefixes` (the gateway, which answers envelopes)
    do their own checks."""

    def __init__(self, app: Any, skip_prefixes: tuple[str, ...] = ()) -> None:
        self.app, self.skip_prefixes = app, skip_prefixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefixes):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:  # a percent-encoded or raw NUL (invalid UTF-8 decodes as U+FFFD)
            await _refuse(send, 422, "query", "holds a NUL character / 含有非法字符")
            return
        headers = dict(scope.get("headers") or [])
        if not _is_json(headers.get(b"content-type")):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        problem = await anyio.to_thread.run_sync(_inspect, raw)  # up to the body limit: off the event loop
        if problem == "deep":
            await _refuse(send, 400, "body", f"nests deeper than {jsonsafe.MAX_DEPTH} levels / 嵌套层数过多")
            return
        if problem is not None:
            await _refuse(send, 422, f"body.{problem}", "holds a NUL or an unpaired surrogate / 含有非法字符")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": raw, "more_body": False}], receive), send)


def _is_json(content_type: bytes | None) -> bool:
    """What FastAPI parses as JSON: application/json, any +json type, or a body with no content-type at all."""
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def _inspect(raw: bytes) -> str | None:
    """ "deep" for a body nested past the limit, the path of a string the database cannot hold, else None."""
    if jsonsafe.too_deep(raw):
        return "deep"
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return None  # not JSON: the endpoint's own validation answers 422
    return jsonsafe.bad_text_in(raw, parsed)


def _replay(messages: list[dict[str, Any]], then: Any) -> Any:
    """A receive that gives the body already read, then waits on the real one (for the client's disconnect)."""
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        message: dict[str, Any] = await then()
        return message

    return receive


async def _refuse(send: Any, status: int, field: str, problem: str) -> None:
    body = json.dumps(
        error_body(
            "E_INPUT",
            f"请求参数有误：{field} {problem}",
            f"invalid request field {field}: {problem}",
            [{"field": field, "problem": problem}],
        ),
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
