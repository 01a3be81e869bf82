"""Every endpoint × every audience → allowed or refused as designed.

The matrix must name every route of the application: an endpoint added without a row here fails
`test_matrix_covers_every_endpoint`, so access is decided deliberately for each new endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.app import create_app
from yidi.core import clock
from yidi.core.db import Database
from yidi.demo.service import demo_key_id, demo_secret, load_demo
from yidi.security.access import iter_routes
from yidi.security.client import signed_headers

from .helpers import person_headers, staff_headers

PSN = "41110000000000000001"  # 漯河 retiree
PSN_CERTNO = "411102195603129013"
AUDIENCES = ["anonymous", "person", "staff_411100", "clearing_411100", "staff_110000", "inst_a", "inst_b"]
ALL_OK = dict.fromkeys(AUDIENCES, 200)
SIGNED_IN = {"anonymous": "E_AUTH"} | {a: 200 for a in AUDIENCES[1:]}
STAFF_ONLY = {"anonymous": "E_AUTH", "person": "E_FORBIDDEN", "inst_a": "E_FORBIDDEN", "inst_b": "E_FORBIDDEN"} | {
    a: 200 for a in ("staff_411100", "clearing_411100", "staff_110000")
}
STAFF_OR_INSTITUTION = STAFF_ONLY | {"inst_a": 200, "inst_b": 200}
PERSON_ONLY = {a: "E_FORBIDDEN" for a in AUDIENCES} | {"anonymous": "E_AUTH", "person": 200}
SESSION_ONLY = {"anonymous": "E_AUTH", "inst_a": "E_FORBIDDEN", "inst_b": "E_FORBIDDEN"} | {
    a: 204 for a in ("person", "staff_411100", "clearing_411100", "staff_110000")
}
# Staff of another region get the same answer as for an unknown person.
OWN_REGION_STAFF = STAFF_ONLY | {"staff_110000": "E_NOT_FOUND"}
WRONG_LOGIN = dict.fromkeys(AUDIENCES, "E_LOGIN")

# (method, route template, concrete path, json body, expected outcome per audience)
MATRIX: list[tuple[str, str, str, dict[str, Any] | None, dict[str, int | str]]] = [
    ("GET", "/healthz", "/healthz", None, ALL_OK),
    ("POST", "/api/v1/auth/person/login", "/api/v1/auth/person/login", {"account": PSN, "password": "x"}, WRONG_LOGIN),
    (
        "POST",
        "/api/v1/auth/staff/login",
        "/api/v1/auth/staff/login",
        {"username": "nobody", "password": "x"},
        WRONG_LOGIN,
    ),
    ("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", None, SESSION_ONLY),
    ("GET", "/api/v1/auth/me", "/api/v1/auth/me", None, SIGNED_IN),
    ("GET", "/api/v1/persons/me", "/api/v1/persons/me", None, PERSON_ONLY),
    ("GET", "/api/v1/staff/persons/{psn_no}", f"/api/v1/staff/persons/{PSN}", None, OWN_REGION_STAFF),
    ("GET", "/api/v1/staff/persons", f"/api/v1/staff/persons?certno={PSN_CERTNO}", None, STAFF_ONLY),
    ("GET", "/api/v1/reference/divisions", "/api/v1/reference/divisions", None, ALL_OK),
    ("GET", "/api/v1/reference/divisions/{code}", "/api/v1/reference/divisions/411100", None, ALL_OK),
    ("GET", "/api/v1/reference/classify", "/api/v1/reference/classify?insured=411100&treatment=110000", None, ALL_OK),
    ("GET", "/api/v1/reference/chronic-diseases", "/api/v1/reference/chronic-diseases", None, ALL_OK),
    ("GET", "/api/v1/reference/institutions", "/api/v1/reference/institutions", None, ALL_OK),
    (
        "GET",
        "/api/v1/reference/institutions/{fixmedins_code}",
        "/api/v1/reference/institutions/H11010500001",
        None,
        ALL_OK,
    ),
    ("GET", "/api/v1/parameters", "/api/v1/parameters", None, STAFF_ONLY),
    ("GET", "/api/v1/parameters/national", "/api/v1/parameters/national?date=2025-06-01", None, STAFF_ONLY),
    ("GET", "/api/v1/parameters/{region}", "/api/v1/parameters/411100?date=2025-06-01", None, STAFF_ONLY),
    (
        "GET",
        "/api/v1/catalog/{region}/items",
        "/api/v1/catalog/110000/items?date=2025-06-01&limit=2",
        None,
        STAFF_OR_INSTITUTION,
    ),
    (
        "GET",
        "/api/v1/catalog/{region}/items/{code}",
        "/api/v1/catalog/110000/items/XA10BFA331A740537984000?date=2025-06-01",
        None,
        STAFF_OR_INSTITUTION,
    ),
]


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
    with TestClient(create_app(db)) as c:
        yield c


def _caller(client: TestClient, audience: str) -> Callable[[str, str, bytes], dict[str, str]]:
    """A function giving the headers for one request of `audience` (fresh sessions, fresh signatures)."""
    if audience == "anonymous":
        return lambda m, p, b: {}
    if audience in ("inst_a", "inst_b"):
        code = "H11010500001" if audience == "inst_a" else "H12010100001"
        return lambda m, p, b: signed_headers(demo_key_id(code), demo_secret(code), m, p, b)
    if audience == "person":
        return lambda m, p, b: person_headers(client, PSN)
    username = {
        "staff_411100": "reviewer.411100",
        "clearing_411100": "clearing.411100",
        "staff_110000": "reviewer.110000",
    }[audience]
    return lambda m, p, b: staff_headers(client, username)


def test_matrix_covers_every_endpoint(db: Database) -> None:
    app_routes = {(m, p) for p, methods, _ in iter_routes(create_app(db)) for m in methods - {"HEAD"}}
    app_routes -= {("GET", p) for p in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")}
    assert app_routes == {(m, template) for m, template, *_ in MATRIX}


@pytest.mark.parametrize("audience", AUDIENCES)
def test_authorization_matrix(client: TestClient, audience: str) -> None:
    headers_for = _caller(client, audience)
    failures = []
    for method, template, path, body, expected in MATRIX:
        content = b"" if body is None else __import__("json").dumps(body).encode()
        headers = headers_for(method, path, content) | ({"content-type": "application/json"} if body else {})
        r = client.request(method, path, content=content or None, headers=headers)
        want = expected[audience]
        got: int | str = r.status_code if isinstance(want, int) else (r.json().get("code") if r.content else "")
        if got != want:
            failures.append(f"{method} {template}: expected {want}, got {r.status_code} {r.text[:150]}")
    assert not failures, "\n".join(failures)
