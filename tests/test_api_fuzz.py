"""Property-based run of the whole OpenAPI schema (schemathesis): no answer may be a 5xx.

Runs against the ASGI app on its own SQLite database with the demo loaded, once as an administrator and
once anonymously. To fuzz a running server instead, see the README (section Security).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from yidi.app import create_app
from yidi.bootstrap import prepare
from yidi.core import clock
from yidi.core.db import Database

from .conftest import FROZEN_NOW

# Requests run at a fixed "now" (see conftest.FROZEN_NOW): random filings must not reach a calendar year
# that is not in the holiday data yet. Started here because the app and its admin session are built at import.
_clock = mock.patch.object(clock, "now", lambda: FROZEN_NOW)
_clock.start()
_dir = Path(tempfile.mkdtemp(prefix="yidi-fuzz-"))
_db = Database(f"sqlite:///{_dir / 'fuzz.sqlite3'}")
prepare(_db, demo_if_empty=True)
app = create_app(_db)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

with TestClient(app) as _c:
    _r = _c.post("/api/v1/auth/staff/login", json={"username": "admin", "password": "Demo-Admin-2026"})
    ADMIN = {"authorization": f"Bearer {_r.json()['token']}"}
_clock.stop()


@pytest.fixture(autouse=True)
def _frozen(frozen_clock: object) -> None:
    """Every fuzzed request sees the same fixed "now" as the session above."""


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_as_administrator(case: schemathesis.Case) -> None:
    if case.path in ("/api/v1/auth/logout",):
        return  # would end the shared administrator session for the other cases
    response = case.call(headers=ADMIN)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_anonymously(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
