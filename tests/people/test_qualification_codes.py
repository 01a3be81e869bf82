"""Unknown codes in a chronic-disease qualification or a registration are the caller's mistake: refused naming
the field (4xx at the staff API, infcode -1 at the national interface), never a database error (HTTP 500) nor
a "conflict, retry" that can never succeed (issue: robustness and production safety)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from yidi.core.certno import checksum_char
from yidi.core.db import Database
from yidi.people.models import ChronicQualification, Person

from ..gateway.test_gateway import BJ_HOSP, his, http  # noqa: F401  (http is a fixture)
from ..helpers import staff_headers

BJ_EMPLOYEE, BJ_EMPLOYEE_CERTNO = "11000000000000000003", "110102198803039276"  # demo: insured in 北京, 310
UNKNOWN_DISEASE = "M99999"  # the right shape, in no disease table
UNKNOWN_HOSPITAL = "H99999999999"


def _qualifications(db: Database) -> int:
    with db.read_only() as s:
        return s.scalar(select(func.count()).select_from(ChronicQualification)) or 0


def _qualification(**overrides: Any) -> dict[str, Any]:
    return {
        "insutype": "310",
        "opsp_dise_code": "M03900",
        "begndate": "2026-01-01",
        "enddate": "2026-12-31",
    } | overrides


def _refused_naming(response: Any, field: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert body["code"] == "E_INPUT" and body["details"]["field"] == field, body
    assert field in body["message_zh"] and field in body["message_en"]


@pytest.fixture
def client(http: TestClient) -> TestClient:  # noqa: F811
    return TestClient(http.app, raise_server_exceptions=False)  # an old 500 shows as a status, not a traceback


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"opsp_dise_code": UNKNOWN_DISEASE}, "opsp_dise_code"),
        ({"ide_fixmedins_no": UNKNOWN_HOSPITAL}, "ide_fixmedins_no"),
    ],
)
def test_staff_api_refuses_an_unknown_code_naming_the_field(
    client: TestClient, db: Database, overrides: dict[str, str], field: str
) -> None:
    headers = staff_headers(client, "reviewer.110000")
    before = _qualifications(db)
    r = client.post(
        f"/api/v1/staff/persons/{BJ_EMPLOYEE}/qualifications", json=_qualification(**overrides), headers=headers
    )
    _refused_naming(r, field)
    assert r.status_code == 422
    assert _qualifications(db) == before  # nothing written

    ok = client.post(f"/api/v1/staff/persons/{BJ_EMPLOYEE}/qualifications", json=_qualification(), headers=headers)
    assert ok.status_code == 201, ok.text  # the session is usable and a known code is stored


def test_gateway_2503_answers_minus_one_naming_the_field_not_retry(http: TestClient, db: Database) -> None:  # noqa: F811
    client = his(http, BJ_HOSP, "110000")
    # The person is at the hospital of their own pooling region, identified there first (1101).
    client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": BJ_EMPLOYEE_CERTNO, "psn_cert_type": "01"}})
    before = _qualifications(db)
    payload = {"data": {"psn_no": BJ_EMPLOYEE, **_qualification(opsp_dise_code=UNKNOWN_DISEASE)}}
    envelope, answer = client.send("2503", payload)
    assert answer["infcode"] == -1, answer
    assert "opsp_dise_code" in answer["err_msg"] and "E_INPUT" in answer["err_msg"], answer["err_msg"]
    assert "retry" not in answer["err_msg"] and "E_CONFLICT" not in answer["err_msg"]
    assert _qualifications(db) == before
    assert client.replay(envelope) == answer  # the refusal is the answer: a retry gets the same one

    _, ok = client.send("2503", {"data": {"psn_no": BJ_EMPLOYEE, **_qualification()}})
    assert ok["infcode"] == 0, ok
    assert _qualifications(db) == before + 1


def _certno(birth: str, sequence: str = "123") -> str:
    first17 = "110105" + birth + sequence
    return first17 + checksum_char(first17)


def _person(psn_no: str, region: str, qualifications: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "psn_no": psn_no,
        "psn_name": "测试",
        "certno": _certno("19700101"),
        "insurances": [{"insutype": "310", "insuplc_admdvs": region, "psn_type": "1101", "begndate": "2020-01-01"}],
        "qualifications": qualifications,
    }


@pytest.mark.parametrize(
    ("region", "qualifications", "field"),
    [
        ("110000", [_qualification(opsp_dise_code=UNKNOWN_DISEASE)], "qualifications.0.opsp_dise_code"),
        ("110000", [_qualification(ide_fixmedins_no=UNKNOWN_HOSPITAL)], "qualifications.0.ide_fixmedins_no"),
        ("999999", [], "insurances.0.insuplc_admdvs"),  # not a division at all
        ("110105", [], "insurances.0.insuplc_admdvs"),  # a county of 北京, not a pooling region
    ],
)
def test_registration_refuses_unknown_codes_naming_the_field(
    client: TestClient, db: Database, region: str, qualifications: list[dict[str, Any]], field: str
) -> None:
    r = client.post(
        "/api/v1/staff/persons", json=_person("T0001", region, qualifications), headers=staff_headers(client, "admin")
    )
    _refused_naming(r, field)
    with db.read_only() as s:
        assert s.get(Person, "T0001") is None


def test_registration_with_known_codes_is_stored(client: TestClient) -> None:
    r = client.post(
        "/api/v1/staff/persons",
        json=_person("T0002", "110000", [_qualification(ide_fixmedins_no=BJ_HOSP)]),
        headers=staff_headers(client, "admin"),
    )
    assert r.status_code == 201, r.text
    assert [q["opsp_dise_code"] for q in r.json()["qualifications"]] == ["M03900"]
    assert dt.date.fromisoformat(r.json()["brdy"]) == dt.date(1970, 1, 1)


@pytest.mark.parametrize("balc", [None, [], {}, True, 1.5, "1.234", "abc"])
def test_registration_refuses_a_bad_account_balance_naming_the_field(client: TestClient, balc: Any) -> None:
    body = _person("T0003", "110000", [])
    body["insurances"][0]["balc"] = balc
    r = client.post("/api/v1/staff/persons", json=body, headers=staff_headers(client, "admin"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "E_INPUT" and r.json()["details"][0]["field"] == "body.insurances.0.balc", r.json()
