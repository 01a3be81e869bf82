"""The payment batch endpoints over HTTP: a clearing officer makes a batch, downloads both files and records the
bank's results (JSON and a CSV file); reviewers, persons and staff of another region are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from yidi.app import create_app
from yidi.core import clock
from yidi.core.db import Database
from yidi.core.principal import Role
from yidi.demo.service import load_demo
from yidi.security.service import add_staff

from ..helpers import STAFF_PASSWORD, person_headers, staff_headers
from .payments_support import ACCOUNT, claim, fen, lh, read_csv, read_xlsx

URL = "/api/v1/staff/payment-batches"


@pytest.fixture
def client(db: Database, frozen_clock: dt.datetime) -> Iterator[TestClient]:
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
        add_staff(s, "clearing.110000", "北京清算", STAFF_PASSWORD, {Role.CLEARING_OFFICER}, {"110000"}, clock.now())
    with TestClient(create_app(db)) as c:
        yield c


def test_a_clearing_officer_pays_a_batch_over_http(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        a, b = claim(s, lh(1), "1234.56").id, claim(s, lh(2), "0.07", payee="李某乙").id
    me = staff_headers(client, "clearing.411100")
    r = client.post(URL, headers=me, json={"region": "411100", "request_id": "api-1"})
    assert r.status_code == 201, r.text
    made = r.json()
    batch_id = made["batch_id"]
    assert (made["total"], made["item_count"], made["status"], made["replayed"]) == ("1234.63", 2, "exported", False)
    assert {i["source_id"]: (i["amount"], i["bank_account"]) for i in made["items"]} == {
        a: ("1234.56", ACCOUNT),  # the agency's own staff see the account in full
        b: ("0.07", ACCOUNT),
    }
    again = client.post(URL, headers=me, json={"region": "411100", "request_id": "api-1"}).json()
    assert again["batch_id"] == batch_id and again["replayed"] is True
    assert [x["batch_id"] for x in client.get(URL, headers=me).json()] == [batch_id]
    assert client.get(f"{URL}/{batch_id}", headers=me).json()["items"][0]["result"] == "pending"
    csv_answer = client.get(f"{URL}/{batch_id}/export.csv", headers=me)
    assert csv_answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="payment-batch-{batch_id}.csv"' in csv_answer.headers["content-disposition"]
    lines = read_csv(csv_answer.content)
    assert sorted(line[3] for line in lines[1:]) == ["0.07", "1234.56"]
    sheet = read_xlsx(client.get(f"{URL}/{batch_id}/export.xlsx", headers=me).content)
    assert sheet["A5"].value == "合计（2笔）" and fen(sheet["D5"].value) == Decimal("1234.63")

    bad = [
        {"source_id": a, "result": "paid", "bank_serial": "S1", "paid_on": "2026-06-01", "amount": "1234.56"},
        {"item_id": 999999, "result": "paid", "bank_serial": "S2", "paid_on": "2026-06-01"},
    ]
    refused = client.post(f"{URL}/{batch_id}/results", headers=me, json=bad)
    assert refused.status_code == 422 and refused.json()["code"] == "P_RESULTS"
    assert [(x["row"], x["field"]) for x in refused.json()["rows"]] == [(2, "item")]
    floats = client.post(f"{URL}/{batch_id}/results", headers=me, json=[{**bad[0], "amount": 1234.56}])
    assert floats.status_code == 422 and floats.json()["code"] == "E_INPUT"
    assert client.get(f"{URL}/{batch_id}", headers=me).json()["status"] == "exported"  # nothing recorded

    ok = client.post(f"{URL}/{batch_id}/results", headers=me, json=bad[:1])
    assert ok.status_code == 200 and ok.json()["recorded"] == 1
    header = "单据号,批次,结果,银行流水号,支付日期,原因,金额\r\n"
    wrong = f"{b},{batch_id},成功,S3,2026-06-01,,0.08\r\n"
    file_refused = client.post(
        f"{URL}/{batch_id}/results-file", headers=me, files={"file": ("results.csv", (header + wrong).encode())}
    )
    assert file_refused.status_code == 422
    assert [(x["row"], x["item"], x["field"]) for x in file_refused.json()["rows"]] == [(2, b, "amount")]
    right = f"{b},{batch_id},失败,,,户名不符 / name does not match,0.07\r\n"
    done = client.post(
        f"{URL}/{batch_id}/results-file", headers=me, files={"file": ("results.csv", (header + right).encode())}
    )
    assert done.status_code == 200, done.text
    assert (done.json()["batch_status"], done.json()["rows"][0]["result"]) == ("closed", "failed")
    shown = client.get(f"{URL}/{batch_id}", headers=me).json()
    assert {i["source_id"]: (i["result"], i["reason"]) for i in shown["items"]} == {
        a: ("paid", None),
        b: ("failed", "户名不符 / name does not match"),
    }


def test_reviewers_persons_and_other_regions_are_refused(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        claim(s, lh(1), "10.00")
    body = {"region": "411100", "request_id": "no"}
    assert client.post(URL, json=body).json()["code"] == "E_AUTH"
    for headers in (
        staff_headers(client, "reviewer.411100"),
        person_headers(client, lh(1)),
        staff_headers(client, "clearing.110000"),
    ):
        r = client.post(URL, headers=headers, json=body)
        assert (r.status_code, r.json()["code"]) == (403, "E_FORBIDDEN")
    batch_id = client.post(URL, headers=staff_headers(client, "admin"), json=body).json()["batch_id"]
    elsewhere = staff_headers(client, "clearing.110000")
    for path in (f"{URL}/{batch_id}", f"{URL}/{batch_id}/export.csv", f"{URL}?region=411100"):
        r = client.get(path, headers=elsewhere)
        assert (r.status_code, r.json()["code"]) == (403, "E_FORBIDDEN"), path
    r = client.get(f"{URL}/{batch_id}", headers=staff_headers(client, "reviewer.411100"))
    assert (r.status_code, r.json()["code"]) == (403, "E_FORBIDDEN")
