"""Sign-in and sign-out for insured persons and staff; who am I."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from yidi.core import clock
from yidi.core.errors import YidiError
from yidi.core.principal import Audience
from yidi.core.web import database
from yidi.security import service
from yidi.security.access import PUBLIC, CurrentPrincipal, SecureRouter, allow

router = SecureRouter(prefix="/api/v1/auth", tags=["auth 登录"])
log = logging.getLogger("yidi.auth")


class PersonLoginIn(BaseModel):
    account: Annotated[str, Field(min_length=1, max_length=30, description="psn_no or ID number")]
    password: Annotated[str, Field(min_length=1, max_length=128)]


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


async def _login(request: Request, audience: Audience, account: str, password: str) -> LoginOut:
    db, now, client = database(request), clock.now(), _client(request)

    def run() -> service.Login | None:
        with db.unit_of_work() as session:
            if audience is Audience.PERSON:
                return service.login_person(session, account, password, now, client)
            return service.login_staff(session, account, password, now, client)

    login = await run_in_threadpool(run)  # failure counters are committed before we refuse
    if login is None:
        # The account may be an ID number; the log formatter masks it like any other.
        log.info("sign-in refused", extra={"audience": audience.value, "account": account, "client": client})
        raise YidiError(service.BAD_LOGIN)
    log.info("signed in", extra={"audience": audience.value, "account": account, "client": client})
    return LoginOut(token=login.token, expires_at=login.expires_at, audience=audience, subject=login.principal.subject)


@router.post("/person/login", access=PUBLIC, response_model=LoginOut, summary="Insured person signs in")
async def person_login(request: Request, body: PersonLoginIn) -> LoginOut:
    return await _login(request, Audience.PERSON, body.account.strip(), body.password)


@router.post("/staff/login", access=PUBLIC, response_model=LoginOut, summary="Agency staff signs in")
async def staff_login(request: Request, body: StaffLoginIn) -> LoginOut:
    return await _login(request, Audience.STAFF, body.username.strip(), body.password)


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
