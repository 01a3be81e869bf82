"""The FastAPI application: every context's router, health check and shared error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import yidi
from yidi.catalog.api import router as catalog_router
from yidi.core import clock
from yidi.core.calendar import calendar_health
from yidi.core.config import get_settings
from yidi.core.db import Database, get_database
from yidi.core.pdf import font_problem
from yidi.core.web import (
    BodyLimitMiddleware,
    JsonGuardMiddleware,
    RequestLogMiddleware,
    error_body,
    install_error_handlers,
)
from yidi.filing.api import router as filing_router
from yidi.gateway.api import router as gateway_router
from yidi.gateway.edge import GatewayEdgeMiddleware, TokenBuckets
from yidi.parameters.api import router as parameters_router
from yidi.people.api import router as people_router
from yidi.reference.api import router as reference_router
from yidi.reimbursement.api import router as reimbursement_router
from yidi.reimbursement.documents_api import router as documents_router
from yidi.reimbursement.payments_api import router as payments_router
from yidi.reimbursement.reviews_api import router as reviews_router
from yidi.security.access import PUBLIC, SecureRouter, check_routes
from yidi.security.api import router as auth_router


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Database work runs in worker threads. Past a few per process they only contend for the interpreter lock,
    # so the thread count is a setting rather than anyio's default of 40.
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().worker_threads
    _app.state.health_limiter = anyio.CapacityLimiter(2)  # own threads: busy workers must not fail /healthz
    yield


def create_app(db: Database | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="yidi 异地就医平台",
        version=yidi.__version__,
        description=(
            "Open platform for China's cross-region medical insurance: filing (备案), direct settlement "
            "(直接结算), manual reimbursement (手工报销) and clearing (清算). Errors carry a stable `code` "
            "and messages in Chinese and English."
        ),
    )
    app.state.db = db or get_database()
    settings = get_settings()
    install_error_handlers(app)
    app.add_middleware(JsonGuardMiddleware, skip_prefixes=("/fsi/",))  # inside the body limit
    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
        upload_suffixes=("/materials", "/fee-list"),
    )
    # Outside the body limit: on the national interface its 413, like every refusal, is an envelope (HTTP 200).
    app.add_middleware(
        GatewayEdgeMiddleware,
        address_calls_per_second=settings.gateway_address_calls_per_second,
        address_burst=settings.gateway_address_burst,
    )
    # Per verified credential, applied by the gateway once the signature holds (see gateway.edge).
    app.state.gateway_limiter = (
        TokenBuckets(settings.gateway_calls_per_second, settings.gateway_burst)
        if settings.gateway_calls_per_second > 0
        else None
    )
    app.add_middleware(RequestLogMiddleware)  # outermost: also logs the refusals
    ops = SecureRouter(tags=["operations"])

    @ops.get("/healthz", access=PUBLIC, summary="Liveness and database check")
    async def healthz(request: Request) -> JSONResponse:
        database: Database = request.app.state.db
        try:  # the lifespan's limiter (per event loop); without a lifespan (bare test clients) the default one
            await anyio.to_thread.run_sync(database.ping, limiter=getattr(request.app.state, "health_limiter", None))
        except Exception as exc:  # the answer must say what is wrong, not raise
            return JSONResponse(
                {
                    "status": "fail",
                    **error_body("E_DB_DOWN", "数据库不可用", f"database unavailable: {type(exc).__name__}"),
                },
                status_code=503,
            )
        # Which years deadlines are counted provisionally in (no holiday notice yet), with the daily warning.
        calendar = await anyio.to_thread.run_sync(
            calendar_health, clock.today(), limiter=getattr(request.app.state, "health_limiter", None)
        )
        return JSONResponse(
            {
                "status": "ok",
                "database": database.engine.dialect.name,
                "version": yidi.__version__,
                "calendar": calendar,
                # Printed forms need an embedded CJK TrueType font: say so here rather than at the first print.
                "forms": {"status": "fail", "message": problem} if (problem := font_problem()) else {"status": "ok"},
            }
        )

    app.include_router(ops)
    app.include_router(gateway_router)  # first: routes are matched in order, and the gateway is the busiest
    app.include_router(auth_router)
    app.include_router(people_router)
    app.include_router(filing_router)
    app.include_router(reference_router)
    app.include_router(parameters_router)
    app.include_router(catalog_router)
    app.include_router(payments_router)
    app.include_router(reviews_router)
    app.include_router(documents_router)
    app.include_router(reimbursement_router)
    check_routes(app)  # closed by default: every endpoint must say who may use it
    return app


def serve_app() -> FastAPI:
    """The factory each server process runs (`yidi serve --workers N`, `uvicorn --factory yidi.app:serve_app`):
    logging as configured, the start-up checks `yidi serve` runs (a refusal prints why and exits with status 2,
    which the supervisor of `yidi serve --workers` does not restart), then the application on the database from
    settings."""
    import sys

    from yidi.bootstrap import StartupRefused, check_startup
    from yidi.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    db = get_database()
    try:
        check_startup(settings, db)
    except StartupRefused as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from exc
    return create_app(db)
