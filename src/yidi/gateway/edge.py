"""The national interface's HTTP edge: every refusal an envelope, and the rate limits.

HIS software commonly throws on a non-2xx status and never shows the body, so a hospital would see only
"(401) Unauthorized". On the gateway's paths every answer is therefore HTTP 200 with the national response
envelope (`infcode` -1, `err_msg` "[CODE] 中文 / English"), whatever refused the call before the gateway's own
handling: the signature, the body size limit, an unknown path, a redirect, the rate limit or an unexpected error.
The status the refusal would have had travels in the `x-yidi-status` header (and the request log) for operators.
The REST API keeps its HTTP status codes.

Two rate limits: per client address here, before anything is read (so that a flood of made-up keys never reaches
the database), and per credential once its signature is verified (`TokenBuckets.allow` from the gateway service),
so that nobody can spend another hospital's allowance by naming its paasid.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from yidi.core import clock
from yidi.gateway import envelope, wire

log = logging.getLogger("yidi.gateway")

PREFIX = "/fsi/api/rsfComIfsService/"
RATE_LIMITED = "[E_RATE_LIMIT] 调用过于频繁，请稍后重试 / too many calls; retry later"
_MAX_ERROR_BODY = 64 * 1024  # an error answer larger than this is not an error answer worth reading


def refusal_bytes(err_msg: str) -> bytes:
    answer = envelope.answer("000000", clock.now(), clock.now(), None, err_msg)
    return wire.dumps(answer).encode("utf-8")  # serialised as every gateway answer is


def err_msg_of(status: int, body: bytes) -> str:
    """The envelope's err_msg for an HTTP error answer: its stable code and messages when it is yidi's error
    body, else the status."""
    try:
        error = json.loads(body)
        code, zh, en = error["code"], error["message_zh"], error["message_en"]
        if all(isinstance(v, str) for v in (code, zh, en)):
            return f"[{code}] {zh} / {en}"
    except (ValueError, KeyError, TypeError):
        pass
    return f"[E_HTTP_{status}] 请求被拒绝 / request refused"


class TokenBuckets:
    """Calls per second per key (a client address, or a verified credential). In-process: with N server processes
    the platform allows up to N times the rate, which the README states. Bounded: the least recently used keys are
    forgotten (keys are addresses or verified key ids, so a flood cannot push a real one out cheaply). Used from
    the event loop and from worker threads, hence the lock."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        with self._lock:
            return self._allow(key, time.monotonic() if now is None else now)

    def _allow(self, key: str, now: float) -> bool:
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)  # seconds × calls/s: a count, not money
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


def route_path(scope: dict[str, Any]) -> str:
    """The path the router matches: without the root path a proxy mounts the application under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class GatewayEdgeMiddleware:
    """Outside the body limit: sees its 413 too."""

    def __init__(self, app: Any, address_calls_per_second: float, address_burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(address_calls_per_second, address_burst) if address_calls_per_second > 0 else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not route_path(scope).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if self.buckets is not None:
            client = (scope.get("client") or ("",))[0]
            if not self.buckets.allow(f"address:{client}"):
                await _send_envelope(send, refusal_bytes(RATE_LIMITED), 429)
                return
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def enveloping_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and not 200 <= message["status"] < 300:
                held["status"] = message["status"]  # a refusal or a redirect: the HIS gets an envelope instead
                return
            if message["type"] == "http.response.start":
                held["started"] = True
            if message["type"] == "http.response.body" and "status" in held:
                if sum(map(len, chunks)) < _MAX_ERROR_BODY:
                    chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    status = held.pop("status")
                    held["started"] = True
                    await _send_envelope(send, refusal_bytes(err_msg_of(status, b"".join(chunks))), status)
                return
            await send(message)

        try:
            await self.app(scope, receive, enveloping_send)
        except Exception:
            # Past the gateway's own handling (which answers every error itself): still an envelope, never the
            # server's plain-text 500 the HIS cannot read, unless an answer has already begun.
            log.exception("gateway edge: unhandled error")
            if not held.get("started"):
                await _send_envelope(send, refusal_bytes("[E_INTERNAL] 系统内部错误 / internal error"), 500)


async def _send_envelope(send: Any, body: bytes, status: int) -> None:
    # Logged once, by the request log, with x-yidi-status as the refused status.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-yidi-status", str(status).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
