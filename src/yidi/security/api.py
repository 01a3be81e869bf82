"""Sign-in and sign-out for insured persons and staff; who am I."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from yidi.core import clock
from yidi.core.errors import YidiError
from yidi.core.principal import Audience
from yidi.core.web import database
from yidi.security import service
from yidi.security.access import PUBLIC, CurrentPrincipal, SecureRouter, allow

router = SecureRouter(prefix="/api/v1/auth", tags=["auth 登录"])
log = logging.getLogger("yidi.auth")


class StaffLoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=50)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class LoginOut(BaseModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: dt.datetime
    audience: Audience
    subject: str


class MeOut(BaseModel):
    audience: Audience
    subject: str
    roles: list[str]
    regions: list[str]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Attempt = Callable[[Session, dt.datetime, str], service.Login | None]  # (session, now, client address)


async def sign_in(request: Request, audience: Audience, account: str, attempt: Attempt) -> LoginOut:
    """The sign-in endpoints' common part: run the attempt in one unit of work (failure counters are committed
    before we refuse), log it with the account masked, answer the token or refuse with E_LOGIN."""
    db, now, client = database(request), clock.now(), _client(request)

    def run() -> service.Login | None:
        with db.unit_of_work() as session:
            return attempt(session, now, client)

    login = await run_in_threadpool(run)  # failure counters are committed before we refuse
    if login is None:
        # The account may be an ID number; the log formatter masks it like any other.
        log.info("sign-in refused", extra={"audience": audience.value, "account": account, "client": client})
        raise YidiError(service.BAD_LOGIN)
    log.info("signed in", extra={"audience": audience.value, "account": account, "client": client})
    return LoginOut(token=login.token, expires_at=login.expires_at, audience=audience, subject=login.principal.subject)


# The insured person's sign-in (POST /api/v1/auth/person/login) is yidi.people.api's: it knows how a person is named.


@router.post("/staff/login", access=PUBLIC, response_model=LoginOut, summary="Agency staff signs in")
async def staff_login(request: Request, body: StaffLoginIn) -> LoginOut:
    username = body.username.strip()
    return await sign_in(
        request,
        Audience.STAFF,
        username,
        lambda session, now, client: service.login_staff(session, username, body.password, now, client),
    )


@router.post("/logout", access=allow(Audience.PERSON, Audience.STAFF), status_code=204, summary="Sign out")
async def logout(request: Request) -> None:
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    db, now = database(request), clock.now()

    def run() -> None:
        with db.unit_of_work() as session:
            service.logout(session, token, now)

    await run_in_threadpool(run)


@router.get(
    "/me",
    access=allow(Audience.PERSON, Audience.STAFF, Audience.INSTITUTION),
    response_model=MeOut,
    summary="Who is calling",
)
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        audience=principal.audience,
        subject=principal.subject,
        roles=sorted(principal.roles),
        regions=sorted(principal.regions),
    )
