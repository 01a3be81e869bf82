"""Shared helpers for API tests: demo sign-in and signed institution requests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from yidi.demo.service import demo_key_id, demo_secret
from yidi.security.client import signed_headers

PERSON_PASSWORD = "Demo-Person-2026"
STAFF_PASSWORD = "Demo-Staff-2026"
ADMIN_PASSWORD = "Demo-Admin-2026"


def person_headers(client: TestClient, psn_no: str, password: str = PERSON_PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/person/login", json={"account": psn_no, "password": password})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def staff_headers(client: TestClient, username: str, password: str | None = None) -> dict[str, str]:
    pw = password or (ADMIN_PASSWORD if username == "admin" else STAFF_PASSWORD)
    r = client.post("/api/v1/auth/staff/login", json={"username": username, "password": pw})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def institution_get(client: TestClient, code: str, path: str, params: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    target = path + (f"?{urlencode(params)}" if params else "")
    return client.get(target, headers=signed_headers(demo_key_id(code), demo_secret(code), "GET", target))


def amounts_as_text(client: Any) -> Any:
    """A GatewayClient whose answers give numbers back as their decimal text ('405.00'), for tests that compare
    amounts to the fen as written. The answer on the wire is typed (JSON numbers; tests/gateway/test_wire.py)."""
    from decimal import Decimal

    def text(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [text(v) for v in value]
        return str(value) if isinstance(value, Decimal) else value

    post = client.post
    client.post = lambda envelope: text(post(envelope))
    return client
