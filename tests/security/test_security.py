"""Sign-in, sessions, signed institution requests, encryption at rest and input limits."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from yidi.app import create_app
from yidi.core import clock
from yidi.core.audit import AuditEvent
from yidi.core.db import Database
from yidi.core.errors import YidiError
from yidi.demo.service import demo_key_id, demo_secret, load_demo
from yidi.security import signing
from yidi.security.client import signed_headers
from yidi.security.crypto import FieldCipher, hmac_sm3, sm3_digest
from yidi.security.models import AuthSession, PersonAccount
from yidi.security.service import check_password_rules, verify_institution_request

from ..helpers import PERSON_PASSWORD, person_headers, staff_headers

PSN = "41110000000000000001"
CERTNO = "411102195603129013"
SM2_DEMO_PRIVATE_KEY = "5e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"


# -- pure building blocks -------------------------------------------------------------------------------


def test_sm3_standard_vector() -> None:
    # GB/T 32905-2016 appendix A.1: SM3("abc").
    assert sm3_digest(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hmac_sm3(b"key", b"msg") != hmac_sm3(b"key", b"msh")


@pytest.mark.parametrize("scheme", list(signing.Scheme))
def test_each_scheme_verifies_and_detects_tampering(scheme: signing.Scheme) -> None:
    key = SM2_DEMO_PRIVATE_KEY if scheme is signing.Scheme.SM2_SM3 else "secret"
    verify_key = signing.public_key_of(key) if scheme is signing.Scheme.SM2_SM3 else key
    message = signing.canonical("1700000000", "nonce-123", "post", "/x?a=1", b'{"a":1}')
    sig = signing.sign(scheme, key, message)
    assert signing.verify_signature(scheme, verify_key, message, sig)
    tampered = signing.canonical("1700000000", "nonce-123", "post", "/x?a=1", b'{"a":2}')
    assert not signing.verify_signature(scheme, verify_key, tampered, sig)
    assert not signing.verify_signature(scheme, verify_key, message, "00" * 32)


def test_field_cipher_round_trip_and_context_binding() -> None:
    cipher = FieldCipher("k1")
    token = cipher.encrypt(CERTNO, "person.certno")
    assert CERTNO not in token and cipher.decrypt(token, "person.certno") == CERTNO
    assert cipher.encrypt(CERTNO, "person.certno") != token  # fresh nonce each time
    with pytest.raises(Exception):  # noqa: B017 - any authentication failure
        cipher.decrypt(token, "credential:x")
    with pytest.raises(Exception):  # noqa: B017
        FieldCipher("k2").decrypt(token, "person.certno")
    assert cipher.blind_index(CERTNO, "c") == FieldCipher("k1").blind_index(CERTNO, "c")
    assert cipher.blind_index(CERTNO, "c") != FieldCipher("k2").blind_index(CERTNO, "c")


@pytest.mark.parametrize("password", ["short1A!", "alllowercaseletters", "ALLUPPER12345"])
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(YidiError) as err:
        check_password_rules(password)
    assert err.value.code == "E_PASSWORD"


# -- against the database (SQLite and PostgreSQL) ---------------------------------------------------------


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
    with TestClient(create_app(db)) as c:
        yield c


def test_id_numbers_are_encrypted_at_rest(client: TestClient, db: Database) -> None:
    with db.read_only() as s:
        rows = s.execute(text("SELECT * FROM person")).mappings().all()
    assert len(rows) == 40
    dump = json.dumps([dict(r) for r in rows], default=str)
    assert CERTNO not in dump and "411102********9013" in dump


def test_person_signs_in_sees_own_full_id_and_signs_out(client: TestClient) -> None:
    headers = person_headers(client, PSN)
    me = client.get("/api/v1/persons/me", headers=headers).json()
    assert me["certno"] == CERTNO and me["psn_no"] == PSN
    by_certno = client.post("/api/v1/auth/person/login", json={"account": CERTNO, "password": PERSON_PASSWORD})
    assert by_certno.status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = client.get("/api/v1/persons/me", headers=headers)
    assert after.status_code == 401 and after.json()["code"] == "E_AUTH"


def test_lockout_after_repeated_failures(client: TestClient, db: Database) -> None:
    for _ in range(5):
        r = client.post("/api/v1/auth/person/login", json={"account": PSN, "password": "Wrong-Pass-1"})
        assert r.status_code == 401 and r.json()["code"] == "E_LOGIN"
    locked = client.post("/api/v1/auth/person/login", json={"account": PSN, "password": PERSON_PASSWORD})
    assert locked.status_code == 423 and locked.json()["code"] == "E_LOCKED"
    with db.unit_of_work() as s:  # the lock passes with time
        s.execute(update(PersonAccount).values(locked_until=clock.now() - dt.timedelta(seconds=1)))
    assert (
        client.post("/api/v1/auth/person/login", json={"account": PSN, "password": PERSON_PASSWORD}).status_code == 200
    )


def test_rate_limit_per_client_address(client: TestClient) -> None:
    codes = [
        client.post("/api/v1/auth/staff/login", json={"username": f"nobody{i}", "password": "x"}).status_code
        for i in range(21)
    ]
    assert codes[:20] == [401] * 20 and codes[20] == 429
    blocked = client.post("/api/v1/auth/staff/login", json={"username": "admin", "password": "Demo-Admin-2026"})
    assert blocked.status_code == 429 and blocked.json()["code"] == "E_RATE_LIMIT"


def test_sessions_expire_when_idle(client: TestClient, db: Database) -> None:
    headers = staff_headers(client, "reviewer.411100")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with db.unit_of_work() as s:
        s.execute(update(AuthSession).values(last_seen_at=clock.now() - dt.timedelta(minutes=61)))
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and "expired" in r.json()["message_en"]


def test_staff_reads_are_scoped_and_audited(client: TestClient, db: Database) -> None:
    own = client.get(f"/api/v1/staff/persons/{PSN}", headers=staff_headers(client, "reviewer.411100"))
    assert own.status_code == 200 and own.json()["certno"] == CERTNO
    other = client.get(f"/api/v1/staff/persons/{PSN}", headers=staff_headers(client, "reviewer.110000"))
    assert other.status_code == 404
    found = client.get("/api/v1/staff/persons", params={"certno": CERTNO}, headers=staff_headers(client, "admin"))
    assert [p["psn_no"] for p in found.json()] == [PSN]
    hidden = client.get(
        "/api/v1/staff/persons", params={"certno": CERTNO}, headers=staff_headers(client, "reviewer.110000")
    )
    assert hidden.json() == []
    with db.read_only() as s:
        reads = s.execute(
            select(AuditEvent.actor_id, AuditEvent.entity_id)
            .where(AuditEvent.action == "person.certno.read")
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(r) for r in reads] == [("reviewer.411100", PSN), ("admin", PSN)]


def _signed_get(client: TestClient, path: str, **overrides: object):  # type: ignore[no-untyped-def]
    code = "H11010500001"
    headers = signed_headers(demo_key_id(code), demo_secret(code), "GET", path, **overrides)  # type: ignore[arg-type]
    return client.get(path, headers=headers), headers


def test_signed_request_accepted_once_and_replay_refused(client: TestClient) -> None:
    path = "/api/v1/auth/me"
    first, headers = _signed_get(client, path)
    assert first.status_code == 200 and first.json()["subject"] == "H11010500001"
    replay = client.get(path, headers=headers)
    assert replay.status_code == 401 and replay.json()["code"] == "E_SIGNATURE"
    assert "nonce" in replay.json()["message_en"]


def test_stale_or_future_signatures_are_refused(client: TestClient) -> None:
    for skew in (-301, 301):
        r, _ = _signed_get(client, "/api/v1/auth/me", timestamp=int(time.time()) + skew)
        assert r.status_code == 401 and "timestamp" in r.json()["message_en"]


def test_tampered_body_query_or_unknown_key_is_refused(client: TestClient) -> None:
    code = "H11010500001"
    body = json.dumps({"account": PSN, "password": "x"}).encode()
    headers = signed_headers(demo_key_id(code), demo_secret(code), "POST", "/api/v1/auth/person/login", body)
    tampered = body.replace(b'"x"', b'"y"')
    r = client.post(
        "/api/v1/auth/person/login", content=tampered, headers=headers | {"content-type": "application/json"}
    )
    assert r.status_code == 401 and r.json()["code"] == "E_SIGNATURE" and "does not match" in r.json()["message_en"]
    path = "/api/v1/catalog/110000/items?date=2025-06-01"
    h = signed_headers(demo_key_id(code), demo_secret(code), "GET", path)
    assert client.get(path.replace("2025", "2024"), headers=h).status_code == 401
    h = signed_headers("H99999999999-demo", "whatever", "GET", path)
    assert client.get(path, headers=h).json()["code"] == "E_SIGNATURE"
    partial = {
        k: v for k, v in signed_headers(demo_key_id(code), demo_secret(code), "GET", path).items() if k != "x-tif-nonce"
    }
    assert "required" in client.get(path, headers=partial).json()["message_en"]


def test_national_algorithm_credentials(client: TestClient) -> None:
    path = "/api/v1/auth/me"
    sm3 = signed_headers(
        "H11010500001-sm3", "demo-sm3-secret-H11010500001", "GET", path, scheme=signing.Scheme.HMAC_SM3
    )
    assert client.get(path, headers=sm3).json()["subject"] == "H11010500001"
    sm2 = signed_headers("H11010500001-sm2", SM2_DEMO_PRIVATE_KEY, "GET", path, scheme=signing.Scheme.SM2_SM3)
    assert client.get(path, headers=sm2).json()["subject"] == "H11010500001"
    wrong = signed_headers(
        "H11010500001-sm2", "demo-sm3-secret-H11010500001", "GET", path, scheme=signing.Scheme.HMAC_SM3
    )
    assert client.get(path, headers=wrong).status_code == 401


def test_a_reused_nonce_is_refused_naming_the_nonce(client: TestClient, db: Database) -> None:
    """The first request is good and claims its nonce; the same signed headers again are refused as a replay."""
    now = clock.now()
    timestamp, nonce = str(int(now.timestamp())), "n" * 16
    message = signing.canonical(timestamp, nonce, "GET", "/p", b"")
    good = signing.SignedHeaders(
        "H11010500001-demo",
        timestamp,
        nonce,
        signing.sign(signing.Scheme.HMAC_SHA256, demo_secret("H11010500001"), message),
    )
    with db.unit_of_work() as s:
        assert verify_institution_request(s, good, "GET", "/p", b"", now).subject == "H11010500001"
    with pytest.raises(YidiError) as refused, db.unit_of_work() as s:
        verify_institution_request(s, good, "GET", "/p", b"", now)
    assert refused.value.code == "E_SIGNATURE" and "already used" in refused.value.message_en


def test_replay_is_refused_even_when_the_first_request_failed(client: TestClient) -> None:
    """A signed request the endpoint refuses (an institution asking for the staff's person search) has claimed its
    nonce all the same: sent again with the same headers it is refused as a replay, not answered afresh."""
    code = "H11010500001"
    path = "/api/v1/staff/persons?certno=" + CERTNO
    headers = signed_headers(demo_key_id(code), demo_secret(code), "GET", path)
    first = client.get(path, headers=headers)
    assert first.status_code == 403 and first.json()["code"] == "E_FORBIDDEN", first.json()
    again = client.get(path, headers=headers)
    assert again.status_code == 401 and again.json()["code"] == "E_SIGNATURE", again.json()
    assert "already used" in again.json()["message_en"]


def test_request_body_limit(client: TestClient) -> None:
    big = b'{"account": "' + b"9" * 1_100_000 + b'", "password": "x"}'
    r = client.post("/api/v1/auth/person/login", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "E_TOO_LARGE"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/catalog/110000/items?date=2025-06-01&limit=201", "limit"),
        ("/api/v1/catalog/110000/items?date=2025-06-01&q=" + "x" * 51, "q"),
        ("/api/v1/reference/institutions?limit=0", "limit"),
        ("/api/v1/staff/persons?certno=123", "certno"),
    ],
)
def test_input_limits_have_clear_errors(client: TestClient, path: str, field: str) -> None:
    r = client.get(path, headers=staff_headers(client, "admin"))
    assert r.status_code == 422 and field in r.json()["message_en"]


def test_login_field_lengths(client: TestClient) -> None:
    r = client.post("/api/v1/auth/staff/login", json={"username": "u" * 51, "password": "x"})
    assert r.status_code == 422 and "username" in r.json()["message_en"]


def test_every_staff_and_institution_account_is_hashed_or_encrypted(client: TestClient, db: Database) -> None:
    with db.read_only() as s:
        creds = s.execute(text("SELECT key_material_enc FROM institution_credential")).scalars().all()
        staff = s.execute(text("SELECT password_hash FROM staff_user")).scalars().all()
        assert s.scalar(select(func.count()).select_from(PersonAccount)) == 40
    assert all(c.startswith("v1.") and "demo-secret" not in c for c in creds)
    assert all(h.startswith("$argon2id$") for h in staff)


def test_nonces_past_the_window_are_forgotten(client: TestClient, db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yidi.security.models import UsedNonce

    key = demo_key_id("H11010500001")
    with db.unit_of_work() as s:
        s.add(UsedNonce(key_id=key, nonce="old-nonce", seen_at=clock.now() - dt.timedelta(hours=1)))
    monkeypatch.setattr("yidi.security.service.random.random", lambda: 0.0)  # the 1 % housekeeping, every time
    first, _ = _signed_get(client, "/api/v1/auth/me")
    assert first.status_code == 200
    with db.read_only() as s:
        assert s.scalars(select(UsedNonce.nonce)).all() == [first.request.headers["x-tif-nonce"]]
