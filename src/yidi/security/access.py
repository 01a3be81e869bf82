"""Who may call an endpoint: authentication at the HTTP edge and the closed-by-default route rule.

Every route is added through `SecureRouter`, whose verbs require `access=`; `check_routes` refuses to build
an application with any route that does not say who may use it. Handlers receive the `Principal` and pass it
to services, which enforce scope (own region, own institution, own records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from yidi.core import clock
from yidi.core.errors import YidiError
from yidi.core.principal import ANONYMOUS, FORBIDDEN, Audience, Principal, Role
from yidi.core.web import database
from yidi.security import service, signing

_SIGNED_HEADERS = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")
OPEN_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})


@dataclass(frozen=True)
class Access:
    """The audiences (and, for staff, roles) allowed to use an endpoint."""

    audiences: frozenset[Audience]
    staff_roles: frozenset[Role] = field(default_factory=frozenset)  # empty: any staff role

    @property
    def public(self) -> bool:
        return Audience.ANONYMOUS in self.audiences

    def describe(self) -> dict[str, Any]:
        return {"audiences": sorted(a.value for a in self.audiences), "staff_roles": sorted(self.staff_roles)}

    def check(self, principal: Principal) -> None:
        if self.public:
            return
        if principal.audience is Audience.ANONYMOUS:
            raise YidiError(service.UNAUTHENTICATED, reason="sign in or sign the request / 请先登录或对请求签名")
        if principal.audience not in self.audiences:
            raise YidiError(FORBIDDEN, reason=f"{principal.audience.value} may not use this endpoint / 无权访问")
        if principal.is_staff and self.staff_roles and not (principal.roles & self.staff_roles):
            roles = ", ".join(sorted(self.staff_roles))
            raise YidiError(FORBIDDEN, reason=f"needs one of the roles {roles} / 需要相应角色")


def allow(*audiences: Audience, roles: Sequence[Role] = ()) -> Access:
    return Access(frozenset(audiences), frozenset(roles))


PUBLIC = allow(Audience.ANONYMOUS, Audience.PERSON, Audience.STAFF, Audience.INSTITUTION)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def authenticated(request: Request) -> Principal:
    """The caller: a session (Bearer token), a signed institution request, or anonymous."""
    if hasattr(request.state, "principal"):
        return request.state.principal  # type: ignore[no-any-return]
    db = database(request)
    now = clock.now()
    token = _bearer(request)
    principal = ANONYMOUS
    if token is not None:

        def resolve() -> Principal:
            with db.unit_of_work() as session:
                return service.resolve_session(session, token, now)

        principal = await run_in_threadpool(resolve)
    elif has_signature(request):
        signed = await signed_request(request)

        def verify() -> Principal:
            with db.unit_of_work() as session:
                # The REST API: a signature must cover the path and the body (not the national scheme).
                return service.verify_institution_request(
                    session, signed.headers, signed.method, signed.path, signed.body, now, national_allowed=False
                )

        principal = await run_in_threadpool(verify)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]


def has_signature(request: Request) -> bool:
    return any(h in request.headers for h in _SIGNED_HEADERS)


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers, for endpoints that verify it inside their own transaction."""

    headers: signing.SignedHeaders | None
    method: str
    path: str  # with ?query
    body: bytes


async def signed_request(request: Request) -> SignedRequest:
    values = [request.headers.get(h) for h in _SIGNED_HEADERS]
    headers = signing.SignedHeaders(*values) if all(values) else None  # type: ignore[arg-type]
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return SignedRequest(headers, request.method, path, await request.body())


def _guard(access: Access) -> Callable[..., Any]:
    async def guard(principal: CurrentPrincipal) -> None:
        access.check(principal)

    return guard


def _guard_signed_in_endpoint(access: Access) -> Callable[..., Any]:
    """For institution-only endpoints that verify the signature (and claim the nonce) in their own transaction,
    so that a call costs one transaction: unsigned callers are refused here as by `_guard`."""
    if access.audiences != {Audience.INSTITUTION}:
        raise TypeError("signature_in_endpoint is for endpoints that only institutions may use")

    async def guard(request: Request) -> None:
        if not has_signature(request):
            access.check(await authenticated(request))  # always refuses: 401 anonymous, 403 sessions

    return guard


class SecureRouter(APIRouter):
    """An APIRouter whose every route must state who may use it."""

    def _secure(self, methods: list[str], path: str, access: Access, kwargs: dict[str, Any]) -> Callable[..., Any]:
        if not isinstance(access, Access):
            raise TypeError(f"{methods} {path}: access= must say who may use this endpoint")
        in_endpoint = kwargs.pop("signature_in_endpoint", False)
        guard = _guard_signed_in_endpoint(access) if in_endpoint else _guard(access)
        dependencies = [*(kwargs.pop("dependencies", None) or []), Depends(guard)]
        described = access.describe() | ({"signature": "verified in the endpoint's transaction"} if in_endpoint else {})
        extra = {**(kwargs.pop("openapi_extra", None) or {}), "x-access": described}
        return self.api_route(path, methods=methods, dependencies=dependencies, openapi_extra=extra, **kwargs)

    def get(self, path: str, *, access: Access, **kwargs: Any) -> Callable[..., Any]:  # type: ignore[override]
        return self._secure(["GET"], path, access, kwargs)

    def post(self, path: str, *, access: Access, **kwargs: Any) -> Callable[..., Any]:  # type: ignore[override]
        return self._secure(["POST"], path, access, kwargs)

    def put(self, path: str, *, access: Access, **kwargs: Any) -> Callable[..., Any]:  # type: ignore[override]
        return self._secure(["PUT"], path, access, kwargs)

    def patch(self, path: str, *, access: Access, **kwargs: Any) -> Callable[..., Any]:  # type: ignore[override]
        return self._secure(["PATCH"], path, access, kwargs)

    def delete(self, path: str, *, access: Access, **kwargs: Any) -> Callable[..., Any]:  # type: ignore[override]
        return self._secure(["DELETE"], path, access, kwargs)


def route_access(route: APIRoute) -> dict[str, Any] | None:
    extra = route.openapi_extra or {}
    return extra.get("x-access")


def iter_routes(app: FastAPI) -> Iterator[tuple[str, set[str], BaseRoute]]:
    """(path, methods, original route) for every endpoint, including those of included routers."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.160 keeps included routers lazily
    except ImportError:  # pragma: no cover - older FastAPI flattens routes on include
        for route in app.routes:
            yield getattr(route, "path", ""), set(getattr(route, "methods", None) or ()), route
        return
    for context in iter_route_contexts(app.routes):
        yield context.path or "", set(context.methods or ()), context.original_route


def check_routes(app: FastAPI) -> None:
    """Refuse an application with an endpoint that does not declare its access (closed by default)."""
    undeclared = []
    for path, methods, route in iter_routes(app):
        if isinstance(route, APIRoute):
            if route_access(route) is None:
                undeclared.append(f"{sorted(methods)} {path}")
        elif path not in OPEN_PATHS:
            undeclared.append(path)
    if undeclared:
        raise RuntimeError(f"endpoints without an access declaration: {undeclared}")
