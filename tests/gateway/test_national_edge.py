"""The national interface as a vendor's HIS meets it: the national signing scheme (hashlib only on the client
side), both URL forms, and every refusal an envelope with HTTP 200."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.app import create_app
from yidi.core.clock import SHANGHAI
from yidi.core.config import get_settings
from yidi.core.db import Database
from yidi.demo.service import demo_paasid, demo_token, load_demo
from yidi.gateway.edge import TokenBuckets

HOSP = "H11010500001"
PATH = "/fsi/api/rsfComIfsService/callService"
_seq = iter(range(1, 10_000))


@pytest.fixture
def http(db: Database) -> Iterator[TestClient]:
    with db.unit_of_work() as s:
        load_demo(s, dt.datetime(2021, 1, 1, tzinfo=SHANGHAI))
    with TestClient(create_app(db)) as c:
        yield c


def national_headers(paasid: str, token: str, *, ts: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """What a vendor's HIS computes: hex SHA-256 of timestamp + token + nonce + timestamp; nothing else signed."""
    timestamp = str(ts if ts is not None else int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    signature = hashlib.sha256((timestamp + token + nonce + timestamp).encode("utf-8")).hexdigest()
    return {
        "x-tif-paasid": paasid,
        "x-tif-timestamp": timestamp,
        "x-tif-nonce": nonce,
        "x-tif-signature": signature,
        "content-type": "application/json",
    }


def envelope(infno: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    now = dt.datetime.now(SHANGHAI)
    return {
        "infno": infno,
        "msgid": f"{HOSP}{now:%Y%m%d%H%M%S}{next(_seq):04d}",
        "mdtrtarea_admvs": "110105",
        "insuplc_admdvs": "",
        "recer_sys_code": "YBXT",
        "dev_no": "",
        "dev_safe_info": "",
        "cainfo": "",
        "signtype": "",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "001",
        "opter_name": "收费员",
        "inf_time": now.strftime("%Y-%m-%d %H:%M:%S"),
        "fixmedins_code": HOSP,
        "fixmedins_name": "北京演示医院",
        "sign_no": "",
        "input": data if data is not None else {"signIn": {"opter_no": "001", "mac": "", "ip": ""}},
    }


def post(http: TestClient, body: bytes | dict[str, Any], headers: dict[str, str], path: str = PATH) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return http.post(path, content=content, headers=headers)


def refused(r: Any, code: str) -> str:
    """An envelope the HIS can read: HTTP 200, infcode -1, the stable code first in err_msg, the times and a
    reference message id."""
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["infcode"] == -1 and answer["err_msg"].startswith(f"[{code}]"), answer
    assert len(answer["inf_refmsgid"]) == 30 and answer["refmsg_time"] and answer["respond_time"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer["err_msg"])  # in Chinese (and English)
    return str(answer["err_msg"])


def test_a_call_signed_as_the_national_gateway_signs_is_answered(http: TestClient) -> None:
    headers = national_headers(demo_paasid(HOSP), demo_token(HOSP))
    r = post(http, envelope("9001"), headers)
    assert r.status_code == 200 and r.json()["infcode"] == 0, r.text
    assert r.json()["output"]["signinoutb"]["sign_no"]


def test_the_signature_is_compared_without_regard_to_case(http: TestClient) -> None:
    headers = national_headers(demo_paasid(HOSP), demo_token(HOSP))
    headers["x-tif-signature"] = headers["x-tif-signature"].upper()
    assert post(http, envelope("9001"), headers).json()["infcode"] == 0


def test_the_national_scheme_does_not_cover_the_body(http: TestClient) -> None:
    """What the README says: the signature proves the token, the time and the nonce, not the body (hence TLS)."""
    headers = national_headers(demo_paasid(HOSP), demo_token(HOSP))
    first = envelope("9001")
    assert post(http, first, headers).json()["infcode"] == 0
    other = national_headers(demo_paasid(HOSP), demo_token(HOSP), nonce=headers["x-tif-nonce"])
    # The same signature headers with any other body are only refused because the nonce is spent.
    refused(post(http, envelope("1901", {"type": "gend"}), other), "E_SIGNATURE")


def test_wrong_token_stale_time_short_or_reused_nonce_are_refused_as_envelopes(http: TestClient) -> None:
    paasid, token = demo_paasid(HOSP), demo_token(HOSP)
    assert "签名不符" in refused(post(http, envelope("9001"), national_headers(paasid, "not-the-token")), "E_SIGNATURE")
    stale = national_headers(paasid, token, ts=int(time.time()) - get_settings().signature_window_seconds - 5)
    assert "时间戳" in refused(post(http, envelope("9001"), stale), "E_SIGNATURE")
    assert "随机串" in refused(
        post(http, envelope("9001"), national_headers(paasid, token, nonce="a1b2c")), "E_SIGNATURE"
    )
    six = national_headers(paasid, token, nonce=secrets.token_hex(3))  # six characters: the shortest allowed
    assert post(http, envelope("9001"), six).json()["infcode"] == 0
    again = post(http, envelope("9001"), six)  # the same nonce again, even for another message
    assert "随机串" in refused(again, "E_SIGNATURE") and again.headers["x-yidi-status"] == "401"
    unknown = national_headers("no-such-paasid", token)
    assert "密钥" in refused(post(http, envelope("9001"), unknown), "E_SIGNATURE")
    unsigned = post(http, envelope("9001"), {"content-type": "application/json"})
    refused(unsigned, "E_AUTH")


def test_both_url_forms_and_a_path_infno_that_disagrees(http: TestClient) -> None:
    paasid, token = demo_paasid(HOSP), demo_token(HOSP)
    r = post(http, envelope("9001"), national_headers(paasid, token), PATH + "/9001")
    assert r.status_code == 200 and r.json()["infcode"] == 0
    mismatch = post(http, envelope("9001"), national_headers(paasid, token), PATH + "/2207")
    assert "2207" in refused(mismatch, "E_ENVELOPE")


def test_bad_json_unknown_infno_unknown_path_and_get_are_envelopes(http: TestClient) -> None:
    paasid, token = demo_paasid(HOSP), demo_token(HOSP)
    refused(post(http, b'{"infno": "9001", ', national_headers(paasid, token)), "E_ENVELOPE")
    assert "9999" in refused(post(http, envelope("9999"), national_headers(paasid, token)), "E_INFNO")
    refused(
        post(http, envelope("9001"), national_headers(paasid, token), "/fsi/api/rsfComIfsService/other"), "E_HTTP_404"
    )
    refused(http.get(PATH, headers=national_headers(paasid, token)), "E_HTTP_405")


def test_a_body_over_the_limit_is_an_envelope_on_the_gateway_and_a_413_on_the_rest_api(http: TestClient) -> None:
    limit = get_settings().max_body_bytes
    big = envelope("9001")
    big["dev_safe_info"] = "x" * (limit + 1)
    r = post(http, big, national_headers(demo_paasid(HOSP), demo_token(HOSP)))
    assert str(limit) in refused(r, "E_TOO_LARGE") and r.headers["x-yidi-status"] == "413"
    rest = http.post("/api/v1/auth/person/login", content=b"{" + b" " * (limit + 1) + b"}",
                     headers={"content-type": "application/json"})  # fmt: skip
    assert rest.status_code == 413 and rest.json()["code"] == "E_TOO_LARGE"
    assert http.get("/api/v1/parameters").status_code == 401  # the REST API keeps its HTTP statuses


def test_the_rate_limits_answer_envelopes(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per verified credential (a made-up or borrowed paasid neither spends nor escapes a hospital's allowance)
    and per client address (before the signature is read)."""
    monkeypatch.setenv("YIDI_GATEWAY_CALLS_PER_SECOND", "0.001")
    monkeypatch.setenv("YIDI_GATEWAY_BURST", "2")
    monkeypatch.setenv("YIDI_GATEWAY_ADDRESS_BURST", "12")
    monkeypatch.setenv("YIDI_GATEWAY_ADDRESS_CALLS_PER_SECOND", "0.001")
    from yidi.core.config import reset_settings

    reset_settings()
    try:
        with db.unit_of_work() as s:
            load_demo(s, dt.datetime(2021, 1, 1, tzinfo=SHANGHAI))
        with TestClient(create_app(db)) as http:
            paasid, token = demo_paasid(HOSP), demo_token(HOSP)
            for _ in range(3):  # unsigned calls naming the hospital's paasid do not spend its allowance
                refused(post(http, envelope("9001"), {"x-tif-paasid": paasid}), "E_SIGNATURE")
            answers = [post(http, envelope("9001"), national_headers(paasid, token)) for _ in range(2)]
            assert [a.json()["infcode"] for a in answers] == [0, 0]
            # A second, decoy x-tif-paasid does not give a signed caller a fresh allowance.
            decoy = [*national_headers(paasid, token).items(), ("x-tif-paasid", "decoy")]
            third = http.post(PATH, content=json.dumps(envelope("9001")).encode(), headers=decoy)
            assert refused(third, "E_RATE_LIMIT") and third.headers["x-yidi-status"] == "429"
            # Another credential keeps its own allowance.
            other = national_headers(demo_paasid("H11010200002"), demo_token("H11010200002"))
            body = envelope("9001") | {"fixmedins_code": "H11010200002", "mdtrtarea_admvs": "110102"}
            body["msgid"] = "H11010200002" + body["msgid"][12:]
            assert post(http, body, other).json()["infcode"] == 0
            # The address's own limit (12 calls at once, then 0.001/s) stops even made-up paasids before the
            # database is asked about them.
            flood = [post(http, envelope("9001"), national_headers(f"made-up-{n}", token)) for n in range(8)]
            codes = [a.json()["err_msg"][:14] for a in flood]
            assert codes.count("[E_SIGNATURE] ") == 5 and codes.count("[E_RATE_LIMIT]") == 3, codes
    finally:
        reset_settings()


def test_a_redirect_and_a_root_path_still_answer_envelopes(http: TestClient, db: Database) -> None:
    slash = post(http, envelope("9001"), {"content-type": "application/json"}, PATH + "/")
    assert refused(slash, "E_HTTP_307") and slash.headers["x-yidi-status"] == "307"
    with TestClient(create_app(db), root_path="/yidi") as mounted:
        r = post(mounted, envelope("9001"), {"content-type": "application/json"}, "/yidi" + PATH)
        refused(r, "E_AUTH")


def test_a_failure_after_the_signature_still_spends_the_nonce(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The national signature does not cover the body: a nonce left unspent after a rolled-back call would let its
    captured headers carry another body for the rest of the window."""
    from yidi.gateway import service

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    headers = national_headers(demo_paasid(HOSP), demo_token(HOSP))
    monkeypatch.setattr(service, "_stored", broken)
    assert refused(post(http, envelope("1901", {"type": "gend"}), headers), "E_INTERNAL")
    monkeypatch.undo()
    assert "随机串" in refused(post(http, envelope("9001"), headers), "E_SIGNATURE")


def test_token_buckets_refill_at_the_rate_and_forget_old_keys() -> None:
    buckets = TokenBuckets(rate=2, burst=2, max_keys=2)
    assert [buckets.allow("k", 0.0) for _ in range(3)] == [True, True, False]
    assert buckets.allow("k", 0.5) and not buckets.allow("k", 0.5)  # half a second at 2/s: one more call
    buckets.allow("q", 1.0)
    buckets.allow("r", 1.0)
    assert buckets.allow("k", 1.0)  # forgotten: full again (only verified keys and addresses get buckets)


def test_the_national_scheme_signs_only_the_national_interface(http: TestClient) -> None:
    """Its signature covers neither path nor body: the REST API asks for a body-covering credential."""
    from yidi.demo.service import demo_key_id, demo_secret
    from yidi.security.client import signed_headers

    path = "/api/v1/catalog/110000/items?date=2025-06-01"
    national = national_headers(demo_paasid(HOSP), demo_token(HOSP))
    refused_rest = http.get(path, headers=national)
    assert refused_rest.status_code == 401 and refused_rest.json()["code"] == "E_SIGNATURE"
    assert "national" in refused_rest.json()["message_en"]
    body_covering = signed_headers(demo_key_id(HOSP), demo_secret(HOSP), "GET", path)
    assert http.get(path, headers=body_covering).status_code == 200
