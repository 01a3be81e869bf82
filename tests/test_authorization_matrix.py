"""Every endpoint × every audience → allowed or refused as designed.

The matrix must name every route of the application: an endpoint added without a row here fails
`test_matrix_covers_every_endpoint`, so access is decided deliberately for each new endpoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.app import create_app
from yidi.core import clock
from yidi.core.db import Database
from yidi.core.principal import Audience, Principal
from yidi.demo.service import demo_key_id, demo_secret, load_demo
from yidi.filing.rules import Basis, Channel, Subtype
from yidi.filing.service import SubmitRequest, submit
from yidi.people.service import get_person
from yidi.reimbursement.drafts import create_claim
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
PERSON_STAFF = {"anonymous": "E_AUTH", "inst_a": "E_FORBIDDEN", "inst_b": "E_FORBIDDEN"}


def person_or_own_staff(outcome: int | str) -> dict[str, int | str]:
    """The person and staff of the person's region get `outcome`; staff elsewhere learn nothing (404)."""
    return PERSON_STAFF | {
        "person": outcome,
        "staff_411100": outcome,
        "clearing_411100": outcome,
        "staff_110000": "E_NOT_FOUND",
    }


OWN_STAFF = {"anonymous": "E_AUTH", "person": "E_FORBIDDEN", "inst_a": "E_FORBIDDEN", "inst_b": "E_FORBIDDEN"}
# Payment batches: clearing officers (and administrators) of the region only; reviewers do not pay.
PAYMENTS = "/api/v1/staff/payment-batches"
NO_BATCH = "B" + "411100" + "20260601100000" + "000000001"  # well formed, never made


def payers(outcome: int | str) -> dict[str, int | str]:
    return OWN_STAFF | {"staff_411100": "E_FORBIDDEN", "staff_110000": "E_FORBIDDEN", "clearing_411100": outcome}


GATEWAY_1901 = {
    "infno": "1901",
    "msgid": "H11010500001202506010900000001",
    "mdtrtarea_admvs": "110000",
    "insuplc_admdvs": "",
    "recer_sys_code": "YBXT",
    "infver": "V1.0",
    "opter_type": "1",
    "opter": "1",
    "opter_name": "t",
    "inf_time": "2025-06-01 09:00:00",
    "fixmedins_code": "H11010500001",
    "input": {"type": "med_type"},
}
NO_SETTLEMENT, NO_REVIEW = "S" + "1" * 29, "R" + "1" * 29
NEW_PERSON = {
    "psn_no": "41110000000000000099",
    "psn_name": "测试某新",
    "certno": "411102199001019982",
    "insurances": [{"insutype": "390", "insuplc_admdvs": "411100", "psn_type": "1501", "begndate": "2025-01-01"}],
}
NEW_FILING = {
    "subtype": "resettled_retiree",
    "target_region": "110000",
    "begndate": "2025-07-01",
    "basis": "commitment",
    "channel": "national_app",
}

NEW_CLAIM = {"request_id": "matrix-0001", "bank_name": "中国工商银行", "bank_account": "6222020200112233445"}
CLAIM_VISIT = {
    "institution_name": "防城港演示县医院",
    "institution_region": "450600",
    "institution_level": "level_2",
    "care": "outpatient",
    "med_type": "11",
    "begndate": "2026-05-20",
    "enddate": "2026-05-20",
    "diagnoses": [{"diag_code": "I10.x00", "diag_name": "高血压", "maindiag_flag": True}],
}
CLAIM_LINE = {
    "feedetl_sn": "1",
    "med_list_codg": "XA10BFA331A740537984000",
    "medins_list_codg": "YP1",
    "fee_ocur_time": "2026-05-20 09:00:00",
    "cnt": "4",
    "pric": "2.5",
    "det_item_fee_sumamt": "10.00",
}
CLAIM_EDIT = person_or_own_staff(200)
REVIEWERS_OF_411100 = OWN_STAFF | {"clearing_411100": "E_FORBIDDEN", "staff_110000": "E_FORBIDDEN"}

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
    ("POST", "/api/v1/filings", "/api/v1/filings", NEW_FILING, PERSON_ONLY | {"person": 201}),
    ("GET", "/api/v1/filings", "/api/v1/filings", None, PERSON_ONLY),
    ("GET", "/api/v1/filings/{filing_id}", "/api/v1/filings/{filing}", None, person_or_own_staff(200)),
    (
        "POST",
        "/api/v1/filings/{filing_id}/change",
        "/api/v1/filings/{filing}/change",
        {"target_region": "120000", "begndate": "2025-08-01", "reason": "moved"},
        person_or_own_staff("F_LOCK"),
    ),
    (
        "POST",
        "/api/v1/filings/{filing_id}/cancel",
        "/api/v1/filings/{filing}/cancel",
        {"reason": "back home"},
        person_or_own_staff("F_LOCK"),
    ),
    (
        "POST",
        "/api/v1/filings/{filing_id}/renew",
        "/api/v1/filings/{filing}/renew",
        None,
        person_or_own_staff("F_RENEW"),
    ),
    (
        "POST",
        "/api/v1/filings/{filing_id}/materials",
        "/api/v1/filings/{filing}/materials",
        None,
        PERSON_STAFF | {a: "E_INPUT" for a in ("person", "staff_411100", "clearing_411100", "staff_110000")},
    ),
    ("GET", "/api/v1/staff/filings", "/api/v1/staff/filings?status=approved", None, STAFF_ONLY),
    (
        "POST",
        "/api/v1/staff/filings",
        "/api/v1/staff/filings",
        NEW_FILING | {"psn_no": PSN, "channel": "counter"},
        OWN_STAFF | {"staff_411100": 201, "clearing_411100": 201, "staff_110000": "E_NOT_FOUND"},
    ),
    (
        "POST",
        "/api/v1/staff/filings/{filing_id}/decision",
        "/api/v1/staff/filings/{filing}/decision",
        {"decision": "approve"},
        OWN_STAFF | {"staff_411100": "F_STATE", "clearing_411100": "E_FORBIDDEN", "staff_110000": "E_FORBIDDEN"},
    ),
    (
        "GET",
        "/api/v1/staff/coverage",
        f"/api/v1/staff/coverage?psn_no={PSN}&fixmedins_code=H11010500001&med_type=21&admission_date=2025-07-02",
        None,
        OWN_STAFF | {"staff_411100": 200, "clearing_411100": 200, "staff_110000": "E_NOT_FOUND"},
    ),
    (
        "POST",
        "/api/v1/staff/persons",
        "/api/v1/staff/persons",
        NEW_PERSON,
        OWN_STAFF | {"staff_411100": 201, "clearing_411100": 201, "staff_110000": "E_FORBIDDEN"},
    ),
    (
        "PUT",
        "/api/v1/staff/persons/{psn_no}/insurances/{insutype}/status",
        f"/api/v1/staff/persons/{PSN}/insurances/310/status",
        {"psn_insu_stas": "1"},
        OWN_STAFF | {"staff_411100": 200, "clearing_411100": 200, "staff_110000": "E_NOT_FOUND"},
    ),
    (
        "POST",
        "/api/v1/staff/persons/{psn_no}/qualifications",
        f"/api/v1/staff/persons/{PSN}/qualifications",
        {"insutype": "310", "opsp_dise_code": "M04600", "begndate": "2025-01-01", "enddate": "2026-12-31"},
        OWN_STAFF | {"staff_411100": 201, "clearing_411100": 201, "staff_110000": "E_NOT_FOUND"},
    ),
    (
        "POST",
        "/api/v1/staff/persons/{psn_no}/qualifications/{qualification_id}/end",
        f"/api/v1/staff/persons/{PSN}/qualifications/{{qual}}/end",
        {"enddate": "2027-06-30"},
        OWN_STAFF | {"staff_411100": 200, "clearing_411100": 200, "staff_110000": "E_NOT_FOUND"},
    ),
    # The national interface answers every refusal as an envelope (HTTP 200, infcode -1, "[CODE] …" in err_msg):
    # the code is read from there. inst_b gets infcode -1 for another reason (not its msgid): 200 here means
    # "past the access check".
    *(
        (
            "POST",
            template,
            template.replace("{infno}", "1901"),
            GATEWAY_1901,
            {
                "anonymous": "E_AUTH",
                "person": "E_FORBIDDEN",
                "staff_411100": "E_FORBIDDEN",
                "clearing_411100": "E_FORBIDDEN",
                "staff_110000": "E_FORBIDDEN",
                "inst_a": 200,
                "inst_b": 200,
            },
        )
        for template in ("/fsi/api/rsfComIfsService/callService", "/fsi/api/rsfComIfsService/callService/{infno}")
    ),
    ("GET", "/api/v1/parameters", "/api/v1/parameters", None, STAFF_ONLY),
    ("GET", "/api/v1/parameters/national", "/api/v1/parameters/national?date=2025-06-01", None, STAFF_ONLY),
    ("GET", "/api/v1/parameters/{region}", "/api/v1/parameters/411100?date=2025-06-01", None, STAFF_ONLY),
    # Printed forms: the person and staff of the person's region; staff elsewhere learn nothing (404); no institution.
    (
        "GET",
        "/api/v1/filings/{filing_id}/forms/registration.pdf",
        "/api/v1/filings/{filing}/forms/registration.pdf",
        None,
        person_or_own_staff(200),
    ),
    (
        "GET",
        "/api/v1/filings/{filing_id}/forms/undertaking.pdf",
        "/api/v1/filings/{filing}/forms/undertaking.pdf",
        None,
        person_or_own_staff(200),
    ),
    (
        "POST",
        "/api/v1/forms/injury-undertaking.pdf",
        "/api/v1/forms/injury-undertaking.pdf",
        {"psn_no": PSN, "institution": "漯河演示医院", "begndate": "2025-06-02", "description": "自行摔倒"},
        person_or_own_staff(200),
    ),
    (
        "POST",
        "/api/v1/forms/outside-care.pdf",
        "/api/v1/forms/outside-care.pdf",
        {
            "psn_no": PSN,
            "institution": "漯河演示医院",
            "admission": "2025-06-02",
            "diagnosis": "肺炎",
            "items": [{"day": "2025-06-03", "institution": "演示药房", "kind": "drug", "item": "药", "amount": "9.90"}],
        },
        person_or_own_staff(200),
    ),
    # No such settlement or claim: the same 404 for everyone who may ask at all.
    (
        "GET",
        "/api/v1/settlements/{setl_id}/forms/settlement-sheet.pdf",
        "/api/v1/settlements/S41110020250601090000000000001/forms/settlement-sheet.pdf",
        None,
        person_or_own_staff("E_NOT_FOUND"),
    ),
    (
        "GET",
        "/api/v1/claims/{claim_id}/forms/settlement-sheet.pdf",
        "/api/v1/claims/R41110020250601090000000000001/forms/settlement-sheet.pdf",
        None,
        person_or_own_staff("E_NOT_FOUND"),
    ),
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
    ("POST", PAYMENTS, PAYMENTS, {"region": "411100", "request_id": "matrix"}, payers("P_EMPTY")),
    ("GET", PAYMENTS, PAYMENTS, None, payers(200)),
    ("GET", f"{PAYMENTS}/{{batch_id}}", f"{PAYMENTS}/{NO_BATCH}", None, payers("E_NOT_FOUND")),
    ("GET", f"{PAYMENTS}/{{batch_id}}/export.csv", f"{PAYMENTS}/{NO_BATCH}/export.csv", None, payers("E_NOT_FOUND")),
    ("GET", f"{PAYMENTS}/{{batch_id}}/export.xlsx", f"{PAYMENTS}/{NO_BATCH}/export.xlsx", None, payers("E_NOT_FOUND")),
    ("POST", f"{PAYMENTS}/{{batch_id}}/results", f"{PAYMENTS}/{NO_BATCH}/results", None, payers("E_INPUT")),
    ("POST", f"{PAYMENTS}/{{batch_id}}/results-file", f"{PAYMENTS}/{NO_BATCH}/results-file", None, payers("E_INPUT")),
    # Reviews of settlements (复核): past the access check, an unknown settlement or review is not found.
    (
        "POST",
        "/api/v1/settlements/{setl_id}/reviews",
        f"/api/v1/settlements/{NO_SETTLEMENT}/reviews",
        {"reason": "x"},
        PERSON_ONLY | {"person": "E_NOT_FOUND"},
    ),
    ("GET", "/api/v1/reviews", "/api/v1/reviews", None, PERSON_ONLY),
    (
        "GET",
        "/api/v1/reviews/{review_id}",
        f"/api/v1/reviews/{NO_REVIEW}",
        None,
        PERSON_STAFF | dict.fromkeys(("person", "staff_411100", "clearing_411100", "staff_110000"), "E_NOT_FOUND"),
    ),
    (
        "POST",
        "/api/v1/staff/settlements/{setl_id}/reviews",
        f"/api/v1/staff/settlements/{NO_SETTLEMENT}/reviews",
        {"reason": "x"},
        OWN_STAFF | dict.fromkeys(("staff_411100", "clearing_411100", "staff_110000"), "E_NOT_FOUND"),
    ),
    ("GET", "/api/v1/staff/reviews", "/api/v1/staff/reviews", None, STAFF_ONLY),
    *(
        (
            "POST",
            f"/api/v1/staff/reviews/{{review_id}}/{action}",
            f"/api/v1/staff/reviews/{NO_REVIEW}/{action}",
            body,
            OWN_STAFF
            | {"staff_411100": "E_NOT_FOUND", "clearing_411100": "E_FORBIDDEN", "staff_110000": "E_NOT_FOUND"},
        )
        for action, body in (
            ("preview", {"corrections": {}}),
            ("decide", {"corrections": {}}),
            ("refuse", {"reason": "x"}),
        )
    ),
    # A difference not yet paid goes to another account: the person (their own) or staff of the insured region.
    (
        "POST",
        "/api/v1/reviews/{review_id}/payee",
        f"/api/v1/reviews/{NO_REVIEW}/payee",
        {"payee_name": "某", "bank_name": "银行", "bank_account": "62220200000000001"},
        PERSON_ONLY | {"person": "E_NOT_FOUND"},
    ),
    (
        "POST",
        "/api/v1/staff/reviews/{review_id}/payee",
        f"/api/v1/staff/reviews/{NO_REVIEW}/payee",
        {"payee_name": "某", "bank_name": "银行", "bank_account": "62220200000000001"},
        OWN_STAFF | dict.fromkeys(("staff_411100", "clearing_411100", "staff_110000"), "E_NOT_FOUND"),
    ),
    (
        "POST",
        "/api/v1/staff/reviews/{review_id}/recovered",
        f"/api/v1/staff/reviews/{NO_REVIEW}/recovered",
        {"serial": "ZH1"},
        OWN_STAFF | dict.fromkeys(("staff_411100", "clearing_411100", "staff_110000"), "E_NOT_FOUND"),
    ),
    # Manual claims, in an order that leaves each row a known state: a draft of the person, edited, withdrawn.
    ("POST", "/api/v1/claims", "/api/v1/claims", NEW_CLAIM, PERSON_ONLY | {"person": 201}),
    ("GET", "/api/v1/claims", "/api/v1/claims", None, PERSON_ONLY),
    ("GET", "/api/v1/claims/{claim_id}", "/api/v1/claims/{claim}", None, CLAIM_EDIT),
    ("PUT", "/api/v1/claims/{claim_id}/visits/{seq}", "/api/v1/claims/{claim}/visits/1", CLAIM_VISIT, CLAIM_EDIT),
    (
        "PUT",
        "/api/v1/claims/{claim_id}/visits/{seq}/invoices",
        "/api/v1/claims/{claim}/visits/1/invoices",
        [{"invono": "FP1", "invoice_date": "2026-05-20", "amount": "10.00"}],  # type: ignore[list-item]
        CLAIM_EDIT,
    ),
    (
        "PUT",
        "/api/v1/claims/{claim_id}/visits/{seq}/lines",
        "/api/v1/claims/{claim}/visits/1/lines",
        [CLAIM_LINE],  # type: ignore[list-item]
        CLAIM_EDIT,
    ),
    (
        "POST",
        "/api/v1/claims/{claim_id}/visits/{seq}/fee-list",
        "/api/v1/claims/{claim}/visits/1/fee-list",
        None,
        PERSON_STAFF | {a: "E_INPUT" for a in ("person", "staff_411100", "clearing_411100", "staff_110000")},
    ),
    (
        "PUT",
        "/api/v1/claims/{claim_id}/payee",
        "/api/v1/claims/{claim}/payee",
        {"bank_name": "中国银行", "bank_account": "6216610200016587010"},
        CLAIM_EDIT,
    ),
    (
        "POST",
        "/api/v1/claims/{claim_id}/materials",
        "/api/v1/claims/{claim}/materials",
        None,
        PERSON_STAFF | {a: "E_INPUT" for a in ("person", "staff_411100", "clearing_411100", "staff_110000")},
    ),
    (
        "DELETE",
        "/api/v1/claims/{claim_id}/materials/{material_id}",
        "/api/v1/claims/{claim}/materials/1",
        None,
        CLAIM_EDIT,
    ),
    ("GET", "/api/v1/claims/{claim_id}/preview", "/api/v1/claims/{claim}/preview", None, CLAIM_EDIT),
    (
        "POST",
        "/api/v1/claims/{claim_id}/submit",
        "/api/v1/claims/{claim}/submit",
        None,
        person_or_own_staff("R_MATERIALS"),
    ),
    ("DELETE", "/api/v1/claims/{claim_id}/visits/{seq}", "/api/v1/claims/{claim}/visits/1", None, CLAIM_EDIT),
    ("POST", "/api/v1/claims/{claim_id}/withdraw", "/api/v1/claims/{claim}/withdraw", None, CLAIM_EDIT),
    ("GET", "/api/v1/staff/claims", "/api/v1/staff/claims", None, STAFF_ONLY),
    (
        "POST",
        "/api/v1/staff/claims",
        "/api/v1/staff/claims",
        NEW_CLAIM | {"psn_no": PSN},
        OWN_STAFF | {"staff_411100": 201, "clearing_411100": 201, "staff_110000": "E_NOT_FOUND"},
    ),
    (
        "GET",
        "/api/v1/staff/claims/{claim_id}",
        "/api/v1/staff/claims/{claim}",
        None,
        OWN_STAFF | {"staff_411100": 200, "clearing_411100": 200, "staff_110000": "E_NOT_FOUND"},
    ),
    (
        "POST",
        "/api/v1/staff/claims/{claim_id}/take",
        "/api/v1/staff/claims/{claim}/take",
        None,
        REVIEWERS_OF_411100 | {"staff_411100": "R_STATE"},
    ),
    (
        "POST",
        "/api/v1/staff/claims/{claim_id}/preview",
        "/api/v1/staff/claims/{claim}/preview",
        {"exclusions": []},
        OWN_STAFF | {"staff_411100": 200, "clearing_411100": "E_FORBIDDEN", "staff_110000": "E_NOT_FOUND"},
    ),
    *(
        (
            "POST",
            f"/api/v1/staff/claims/{{claim_id}}/{action}",
            f"/api/v1/staff/claims/{{claim}}/{action}",
            {"reason": "matrix", "exclusions": []},
            REVIEWERS_OF_411100 | {"staff_411100": "R_STATE"},  # the row above withdrew the draft
        )
        for action in ("approve", "return", "refuse")
    ),
]


@pytest.fixture
def client(db: Database, frozen_clock: dt.datetime) -> Iterator[TestClient]:
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
        filing = submit(
            s,
            Principal(Audience.PERSON, PSN),
            SubmitRequest(
                PSN,
                "310",
                Subtype.RESETTLED_RETIREE,
                "110000",
                dt.date(2025, 6, 1),
                Basis.COMMITMENT,
                Channel.NATIONAL_APP,
            ),
            clock.now(),
        )
        claim = create_claim(s, Principal(Audience.PERSON, PSN), PSN, NEW_CLAIM | {"request_id": None}, clock.now())
    with TestClient(create_app(db)) as c:
        c.filing_id = filing.id  # type: ignore[attr-defined]
        c.claim_id = claim.id  # type: ignore[attr-defined]
        with db.read_only() as s:
            c.qualification_id = str(get_person(s, PSN).qualifications[0].id)  # type: ignore[attr-defined]
        yield c


def _caller(client: TestClient, audience: str) -> Callable[[str, str, bytes], dict[str, str]]:
    """A function giving the headers for one request of `audience` (fresh sessions, fresh signatures)."""
    if audience == "anonymous":
        return lambda m, p, b: {}
    if audience in ("inst_a", "inst_b"):
        code = "H11010500001" if audience == "inst_a" else "H12010100001"
        return lambda m, p, b: signed_headers(
            demo_key_id(code), demo_secret(code), m, p, b, timestamp=int(clock.now().timestamp())
        )
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
    for method, template, raw_path, body, expected in MATRIX:
        path = raw_path.replace("{filing}", client.filing_id).replace("{qual}", client.qualification_id)  # type: ignore[attr-defined]
        path = path.replace("{claim}", client.claim_id)  # type: ignore[attr-defined]
        content = b"" if body is None else __import__("json").dumps(body).encode()
        headers = headers_for(method, path, content) | ({"content-type": "application/json"} if body else {})
        r = client.request(method, path, content=content or None, headers=headers)
        want = expected[audience]
        got: int | str = r.status_code if isinstance(want, int) else (r.json().get("code") if r.content else "")
        if template.startswith("/fsi/") and r.status_code == 200:
            err_msg = r.json()["err_msg"]
            refused = err_msg.startswith("[E_AUTH]") or err_msg.startswith("[E_FORBIDDEN]")
            got = err_msg[1 : err_msg.index("]")] if refused else 200
        if got != want:
            failures.append(f"{method} {template}: expected {want}, got {r.status_code} {r.text[:150]}")
    assert not failures, "\n".join(failures)
