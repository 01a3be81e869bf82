"""Property-based run of the whole OpenAPI schema (schemathesis): no answer may be a 5xx.

Runs against the ASGI app on its own database with the demo loaded (and three filings added): as an administrator
with generated values (all of schemathesis's phases), as an administrator with demo values mixed in (persons,
filings, qualifications, institutions, regions, disease and catalogue codes, dates: random strings stop at 404
before the code that writes), and anonymously. The clock is frozen at conftest.FROZEN_NOW. The national
interface is signed, so unsigned cases here only get its refusal. To fuzz a
running server instead, see the README (section Security).

In the suite each operation gets 30 examples as administrator (twice) and 10 anonymously. The big run, before a
release or after changing an input schema or a table:

    YIDI_FUZZ_EXAMPLES=250 YIDI_FUZZ_LOG=/tmp/yidi-fuzz.jsonl .venv/bin/pytest tests/test_api_fuzz.py
    YIDI_FUZZ_PG=1 YIDI_FUZZ_EXAMPLES=250 YIDI_FUZZ_LOG=/tmp/yidi-fuzz-pg.jsonl .venv/bin/pytest tests/test_api_fuzz.py
    jq -s '{cases: length, server_errors: map(select(.status >= 500)) | length}' /tmp/yidi-fuzz.jsonl

- `YIDI_FUZZ_EXAMPLES=N`: at most N examples per operation in each administrator run and N // 3 anonymously
  (hypothesis stops early on operations with few distinct inputs; schemathesis's coverage phase adds its own).
- `YIDI_FUZZ_PG=1`: on a PostgreSQL database of its own (created at 127.0.0.1:5432 as in conftest, dropped at
  exit) instead of SQLite: PostgreSQL enforces column lengths and integer ranges that SQLite lets through.
- `YIDI_FUZZ_LOG=path`: one JSON line per case sent (who, method, path, status; for a 5xx also the request as
  a curl command, the answer and the server's traceback), and the run goes on past a 5xx so that one run
  finds them all; an operation that had any fails at its end, listing them. Without it the first 5xx fails
  the operation and hypothesis shrinks it to a minimal example.
- `--hypothesis-seed=S` repeats a run's random choices.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import tempfile
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text

from yidi.app import create_app
from yidi.bootstrap import prepare
from yidi.catalog.models import CatalogItem
from yidi.core import clock
from yidi.core.certno import checksum_char
from yidi.core.db import Database
from yidi.filing.models import Filing
from yidi.people.models import ChronicQualification, Person
from yidi.reference.models import ChronicDisease, Institution

from .conftest import FROZEN_NOW, PG_ADMIN_URL

EXAMPLES = int(os.environ.get("YIDI_FUZZ_EXAMPLES") or 30)
ANONYMOUS_EXAMPLES = max(EXAMPLES // 3, 1)
LOG = os.environ.get("YIDI_FUZZ_LOG")


def _database_url() -> str:
    """SQLite in a temporary directory; with YIDI_FUZZ_PG=1 a PostgreSQL database of its own, dropped at exit."""
    if os.environ.get("YIDI_FUZZ_PG") != "1":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='yidi-fuzz-')) / 'fuzz.sqlite3'}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"yidi_fuzz_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        _db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


# Requests run at a fixed "now" (see conftest.FROZEN_NOW): random filings must not reach a calendar year
# that is not in the holiday data yet. Started here because the app and its admin session are built at import.
_clock = mock.patch.object(clock, "now", lambda: FROZEN_NOW)
_clock.start()
_db = Database(_database_url())
prepare(_db, demo_if_empty=True)
app = create_app(_db)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

with TestClient(app) as _c:
    _r = _c.post("/api/v1/auth/staff/login", json={"username": "admin", "password": "Demo-Admin-2026"})
    ADMIN = {"authorization": f"Bearer {_r.json()['token']}"}
    # A few filings in different states for the operations that take a filing id (the demo has none).
    for _psn, _subtype, _target, _basis in [
        ("41110000000000000001", "long_term_resident", "110105", "materials"),
        ("11000000000000000003", "posted_worker", "310000", "commitment"),
        ("13010000000000000001", "other_temporary", "110000", "materials"),
    ]:
        _f = _c.post(
            "/api/v1/staff/filings",
            headers=ADMIN,
            json={
                "psn_no": _psn,
                "subtype": _subtype,
                "target_region": _target,
                "begndate": FROZEN_NOW.date().isoformat(),
                "basis": _basis,
                "channel": "counter",
            },
        )
        assert _f.status_code == 201, _f.text
_clock.stop()


def _known_values() -> dict[str, list[Any]]:
    """Values that exist in the demo, by parameter or field name: random strings almost never name a real
    person, filing or region, so without these the cases stop at 404 before the code that writes anything."""
    with _db.read_only() as s:
        persons = list(s.scalars(select(Person.psn_no).order_by(Person.psn_no).limit(40)))
        filings = list(s.scalars(select(Filing.id).order_by(Filing.id).limit(40)))
        qualifications = list(s.scalars(select(ChronicQualification.id).order_by(ChronicQualification.id)))
        institutions = list(s.scalars(select(Institution.fixmedins_code).order_by(Institution.fixmedins_code)))
        items = list(s.scalars(select(CatalogItem.med_list_codg).distinct().order_by(CatalogItem.med_list_codg)))
        diseases = list(s.scalars(select(ChronicDisease.code).order_by(ChronicDisease.code)))
    regions = ["411100", "110000", "220100", "530100", "120000", "130100", "131000", "460200", "420100", "450600"]
    other = ["310000", "440300", "110105", "410000", "999999", "000000"]  # real but elsewhere, a county, unknown
    dates = ["2026-06-01", "2026-05-20", "2026-07-01", "2025-01-01", "2027-01-04", "2030-02-30"]
    first17 = [f"11010519{y}0101{n:03d}" for y, n in ((70, 11), (85, 22), (99, 33))]
    return {
        "psn_no": [*persons, "T0000001"],
        "filing_id": filings,
        "qualification_id": qualifications,
        "fixmedins_code": institutions,
        "ide_fixmedins_no": [*institutions, "H99999999999"],
        "institutions": [[c] for c in institutions[:8]] + [institutions[:3], ["H99999999999"]],
        "code": items[::10] + regions + other,
        "region": regions + other,
        "pooling_region": regions + other,
        "target_region": regions + other,
        "insuplc_admdvs": regions + other,
        "insured": regions + other,
        "treatment": regions + other,
        "opsp_dise_code": [*diseases, "M99999"],
        "disease": [*diseases, "M99999"],
        "insutype": ["310", "390", "399"],
        "certno": [f + checksum_char(f) for f in first17],
        "date": dates,
        "on": dates,
        "begndate": dates,
        "enddate": dates,
        "admission_date": dates,
    }


KNOWN = _known_values()
# Each name independently: the generated value (None) or one that exists.
_KNOWN = st.fixed_dictionaries({name: st.none() | st.sampled_from(values) for name, values in KNOWN.items() if values})


def _with_known(case: schemathesis.Case, known: dict[str, Any]) -> None:
    """Put the drawn demo values into the case: path and query parameters, and body fields at any depth."""

    def put(container: Any) -> None:
        if isinstance(container, dict):
            for key in list(container):
                if known.get(key) is not None and not isinstance(container[key], dict):
                    container[key] = known[key]
                else:
                    put(container[key])
        elif isinstance(container, list):
            for item in container:
                put(item)

    for params in (case.path_parameters, case.query):
        if params:
            put(params)
    put(case.body)


class _LastTraceback(logging.Handler):
    """Keeps the traceback of the last unhandled error the HTTP edge logged (the 5xx's cause)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[0] is not None:
            self.text = "".join(traceback.format_exception(*record.exc_info))


@pytest.fixture(autouse=True)
def _frozen(frozen_clock: object) -> None:
    """Every fuzzed request sees the same fixed "now" as the session above."""


@pytest.fixture
def server_errors() -> Iterator[list[str]]:
    """With YIDI_FUZZ_LOG, the 5xx of one operation: the run goes on, the operation fails at its end."""
    found: list[str] = []
    handler = _LastTraceback()
    logging.getLogger().addHandler(handler)
    _tracebacks.append(handler)
    try:
        yield found
    finally:
        _tracebacks.remove(handler)
        logging.getLogger().removeHandler(handler)
    if found:
        pytest.fail(f"{len(found)} server error(s):\n" + "\n".join(found[:5]))


_tracebacks: list[_LastTraceback] = []


def _send(case: schemathesis.Case, who: str, server_errors: list[str], headers: dict[str, str] | None = None) -> None:
    """Send the case; no 5xx allowed. The ASGI test client re-raises an unhandled error (the 500 the app answered)."""
    if LOG is None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
        )
        return
    last = _tracebacks[-1]
    last.text = ""
    try:
        response = case.call(headers=headers)
        # Not .text: a PDF (the printed forms) is not UTF-8.
        status, answer, cause = response.status_code, response.content.decode("utf-8", "replace"), last.text
    except Exception as exc:
        status, answer, cause = 500, f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc))
    line: dict[str, Any] = {"who": who, "method": case.method, "path": case.path, "status": status}
    if status >= 500:
        line |= {
            "request": case.as_curl_command(headers={"authorization": "Bearer …"} if headers else None),
            "answer": answer[:2000],
            "traceback": cause[-6000:],
        }
        server_errors.append(f"{case.method} {case.formatted_path}: {status} {answer[:300]}")
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_as_administrator(case: schemathesis.Case, server_errors: list[str]) -> None:
    if case.path in ("/api/v1/auth/logout",):
        return  # would end the shared administrator session for the other cases
    _send(case, "admin", server_errors, ADMIN)


@schema.parametrize()
@schema.given(known=_KNOWN)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_as_administrator_on_demo_data(
    case: schemathesis.Case, known: dict[str, Any], server_errors: list[str]
) -> None:
    """The same with some parameters and fields set to demo persons, filings, regions, codes and dates (only
    schemathesis's fuzzing phase runs with extra strategies; the test above keeps its boundary-value phases)."""
    if case.path in ("/api/v1/auth/logout",):
        return
    _with_known(case, known)
    _send(case, "admin-demo", server_errors, ADMIN)


@schema.parametrize()
@settings(max_examples=ANONYMOUS_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_anonymously(case: schemathesis.Case, server_errors: list[str]) -> None:
    _send(case, "anonymous", server_errors)
