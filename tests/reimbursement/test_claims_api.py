"""Manual claims over HTTP with real sign-in: the person files, uploads and submits, staff review, the national
gateway settles directly beside them. The clock is conftest.FROZEN_NOW (Monday 2026-06-01 10:00).

Amounts are worked by hand from the shipped 漯河 (411100) parameters in force in 2026 (dated 2025-01-01), employee
not retired: inpatient deductible of a first stay at level 3: 800; ratio level 3 in its first band (to 50,000)
0.80; outpatient deductible 150 a year, ratio level 2 0.60, level 3 0.50; cross-province other temporary
−20 points; unfiled cross-province care (not settled directly in 漯河) no cut. 大额 pays only above the basic cap.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yidi.app import create_app
from yidi.core import clock
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.demo.service import load_demo
from yidi.reimbursement.models import Claim

from ..helpers import person_headers, staff_headers
from .claims_support import (
    ACARBOSE,
    LH_EMPLOYEE,
    LH_EMPLOYEE_2,
    NOT_IN_CATALOGUE,
    PDF,
    REPAGLINIDE,
    Hospital,
    claim_body,
    filed_to_beijing,
    line,
    outside,
    visit,
)

CERTNO = "411102198505059094"  # LH_EMPLOYEE's
FANGCHENGGANG = outside("防城港演示县医院（未联网）", "450602", "level_2")  # a county of 防城港 (450600)


@pytest.fixture
def client(db: Database, tmp_path, monkeypatch, frozen_clock) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    reset_settings()
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
    with TestClient(create_app(db)) as c:
        yield c
    reset_settings()


def upload(client: TestClient, headers: dict[str, str], claim_id: str, *kinds: str) -> None:
    for kind in kinds:
        r = client.post(
            f"/api/v1/claims/{claim_id}/materials",
            headers=headers,
            data={"kind": kind},
            files={"file": (f"{kind}.pdf", PDF + kind.encode(), "application/pdf")},
        )
        assert r.status_code == 201, r.text


def create(
    client: TestClient, headers: dict[str, str], visits: list[dict[str, Any]], request_id: str
) -> dict[str, Any]:
    r = client.post("/api/v1/claims", headers=headers, json=claim_body(visits, request_id=request_id))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_unfiled_stay_paid_in_full_filed_retroactively_then_claimed_and_approved(client: TestClient) -> None:
    """陈某戊 stayed at a 北京 level-3 hospital 4–8 May 2026 without a filing: cross-province unfiled care is not
    settled directly in 漯河, so he paid the 10,000.00 in full. 漯河 allows 补办 for admissions from 2025-05-01: he
    files (other temporary) from 1 May, before the admission, and claims. The hospital's fee list:
    阿卡波糖 1600 × 2.50 = 4,000.00 (甲类); 瑞格列奈 2000 × 2.50 = 5,000.00 (乙类, 500.00 first self-paid); a service
    not in 北京's catalogue 1,000.00 (wholly self-paid). Eligible 10,000 − 1,000 − 500 = 8,500.00; first-stay
    deductible 800; ratio 0.80 − 20 points = 0.60: (8,500 − 800) × 0.60 = 4,620.00 from the fund, all payable."""
    me = person_headers(client, LH_EMPLOYEE)
    filed = client.post(
        "/api/v1/filings",
        headers=me,
        json={"subtype": "other_temporary", "target_region": "110000", "begndate": "2026-05-01", "basis": "none"},
    )
    assert filed.status_code == 201 and filed.json()["status"] == "approved" and filed.json()["retroactive"]
    stay = visit(
        "2026-05-04",
        "2026-05-08",
        care="inpatient",
        lines=[],
        invoices=[{"invono": "BJZY20260508001", "invoice_date": "2026-05-08", "amount": "10000.00"}],
    )
    claim = create(client, me, [stay], "stay-2026-05-04")
    claim_id = claim["id"]
    assert (claim["status"], claim["channel"], claim["bank_account"]) == ("draft", "online", "6222020200112233445")
    fee_list = "\n".join(
        [
            "费用明细流水号,医疗目录编码,医药机构目录编码,医药机构目录名称,费用发生时间,数量,单价,明细项目费用总额",
            f"1,{ACARBOSE},YP0001,阿卡波糖片,2026-05-04 10:00:00,1600,2.5,4000.00",
            f"2,{REPAGLINIDE},YP0002,瑞格列奈片,2026-05-05 10:00:00,2000,2.50,5000.00",
            f"3,{NOT_IN_CATALOGUE},ZL0003,特需治疗,2026-05-06 10:00:00,1,1000,1000.00",
        ]
    ).encode()
    r = client.post(
        f"/api/v1/claims/{claim_id}/visits/1/fee-list",
        headers=me,
        files={"file": ("费用清单.csv", fee_list, "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert [(ln["feedetl_sn"], ln["cnt"], ln["det_item_fee_sumamt"]) for ln in r.json()["visits"][0]["lines"]] == [
        ("1", "1600", "4000.00"),
        ("2", "2000", "5000.00"),
        ("3", "1", "1000.00"),
    ]
    upload(client, me, claim_id, "invoice", "fee_list", "discharge_summary")
    preview = client.get(f"/api/v1/claims/{claim_id}/preview", headers=me).json()
    assert (preview["fund_pay_sumamt"], preview["payable"]) == ("4620.00", "4620.00")
    r = client.post(f"/api/v1/claims/{claim_id}/submit", headers=me)
    assert r.status_code == 200, r.text
    # 20 working days after Monday 1 June, 端午 (19 June) off: 30 June
    assert (r.json()["status"], r.json()["due_date"], r.json()["due_date_provisional"]) == (
        "submitted",
        "2026-06-30",
        False,
    )

    staff = staff_headers(client, "reviewer.411100")
    queue = client.get("/api/v1/staff/claims", headers=staff).json()
    assert [c["id"] for c in queue] == [claim_id] and queue[0]["visits"] == 1
    assert client.post(f"/api/v1/staff/claims/{claim_id}/take", headers=staff).json()["status"] == "under_review"
    r = client.post(f"/api/v1/staff/claims/{claim_id}/approve", headers=staff, json={"exclusions": []})
    assert r.status_code == 200, r.text

    mine = client.get(f"/api/v1/claims/{claim_id}", headers=me).json()
    assert (mine["status"], mine["medfee_sumamt"], mine["fund_pay_sumamt"], mine["paid_directly"], mine["payable"]) == (
        "approved",
        "10000.00",
        "4620.00",
        "0.00",
        "4620.00",
    )
    v = mine["visits"][0]
    assert (v["category"], v["service_date"], v["paid_directly"]) == ("other_temporary", "2026-05-08", "0.00")
    split = v["split"]
    assert {k: split[k] for k in ("fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc")} == {
        "fulamt_ownpay_amt": "1000.00",
        "preselfpay_amt": "500.00",
        "inscp_scp_amt": "8500.00",
        "act_pay_dedc": "800.00",
    }
    assert (split["hifp_pay"], split["hifob_pay"], split["psn_part_amt"], split["pool_prop_selfpay"]) == (
        "4620.00",
        "0.00",
        "5380.00",
        "0.6000",
    )
    assert v["lines"][1]["result"] == {
        "fulamt_ownpay_amt": "0.00",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "500.00",
        "inscp_scp_amt": "4500.00",
        "chrgitm_lv": "02",
    }
    assert [c["status"] for c in client.get("/api/v1/claims", headers=me).json()] == ["approved"]


def test_a_hospital_outside_the_network(client: TestClient) -> None:
    """A level-2 hospital of 防城港 that is not networked, typed in by name and a county code of its pooling region:
    unfiled there (the filing, if any, names 北京), no cut: (300.00 − 150) × 0.60 = 90.00."""
    me = person_headers(client, LH_EMPLOYEE_2)
    claim = create(
        client,
        me,
        [visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], **FANGCHENGGANG)],
        "fcg-2026-05-20",
    )
    v = claim["visits"][0]
    assert (v["fixmedins_code"], v["institution_name"], v["institution_region"], v["institution_level"]) == (
        None,
        "防城港演示县医院（未联网）",
        "450600",
        "level_2",
    )
    upload(client, me, claim["id"], "invoice", "fee_list")
    assert client.post(f"/api/v1/claims/{claim['id']}/submit", headers=me).json()["status"] == "submitted"
    staff = staff_headers(client, "reviewer.411100")
    client.post(f"/api/v1/staff/claims/{claim['id']}/take", headers=staff)
    done = client.post(f"/api/v1/staff/claims/{claim['id']}/approve", headers=staff, json={}).json()
    assert (done["visits"][0]["category"], done["fund_pay_sumamt"], done["payable"]) == ("unfiled", "90.00", "90.00")


def test_an_invoice_is_paid_once_by_a_claim_or_a_direct_settlement(client: TestClient, db: Database) -> None:
    me = person_headers(client, LH_EMPLOYEE)
    filed_to_beijing(db, LH_EMPLOYEE, dt.date(2026, 5, 1), dt.datetime(2026, 5, 1, 9, tzinfo=clock.now().tzinfo))
    day = [line("1", ACARBOSE, "2026-05-12", "40", "2.5")]
    first = create(client, me, [visit("2026-05-12", lines=day, invono="BJMZ-1")], "inv-first")
    upload(client, me, first["id"], "invoice", "fee_list")
    assert client.post(f"/api/v1/claims/{first['id']}/submit", headers=me).json()["status"] == "submitted"

    # (1) a second claim of the same invoice
    second = create(client, me, [visit("2026-05-12", lines=day, invono="BJMZ-1")], "inv-second")
    upload(client, me, second["id"], "invoice", "fee_list")
    r = client.post(f"/api/v1/claims/{second['id']}/submit", headers=me)
    assert r.status_code == 409 and r.json()["code"] == "S_INVOICE_USED"
    assert first["id"] in r.json()["message_zh"] and f"manual claim {first['id']}" in r.json()["message_en"]

    # (2) a direct settlement (2207) with the claimed invoice
    hospital = Hospital(db)
    mdtrt_id = hospital.outpatient_visit(
        LH_EMPLOYEE, CERTNO, "2026-05-13", [line("1", ACARBOSE, "2026-05-13", "40", "2.5")]
    )
    refused = hospital.settle(LH_EMPLOYEE, mdtrt_id, invono="BJMZ-1")
    assert refused["infcode"] == -1 and refused["err_msg"].startswith("[S_REFUSED]")
    assert first["id"] in refused["err_msg"]

    # (3) a claim of an invoice a direct settlement used; once that settlement is cancelled, the claim may go
    settled = hospital.settle(LH_EMPLOYEE, mdtrt_id, invono="BJMZ-2")
    assert settled["infcode"] == 0, settled["err_msg"]
    setl_id = settled["output"]["setlinfo"]["setl_id"]
    third = create(
        client,
        me,
        [visit("2026-05-14", lines=[line("1", ACARBOSE, "2026-05-14", "4", "2.5")], invono="BJMZ-2")],
        "inv-third",
    )
    upload(client, me, third["id"], "invoice", "fee_list")
    r = client.post(f"/api/v1/claims/{third['id']}/submit", headers=me)
    assert (
        r.status_code == 409
        and setl_id in r.json()["message_zh"]
        and f"direct settlement {setl_id}" in r.json()["message_en"]
    )
    hospital.ok("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": LH_EMPLOYEE}})
    assert client.post(f"/api/v1/claims/{third['id']}/submit", headers=me).json()["status"] == "submitted"


def test_an_injury_needs_the_undertaking(client: TestClient) -> None:
    me = person_headers(client, LH_EMPLOYEE)
    claim = create(
        client,
        me,
        [visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], injury=True, **FANGCHENGGANG)],
        "injury-1",
    )
    upload(client, me, claim["id"], "invoice", "fee_list")
    r = client.post(f"/api/v1/claims/{claim['id']}/submit", headers=me)
    assert r.status_code == 422 and r.json()["code"] == "R_INJURY_UNDERTAKING"
    assert "外伤无第三方责任承诺书" in r.json()["message_zh"] and "visit 1 is an injury" in r.json()["message_en"]
    upload(client, me, claim["id"], "injury_undertaking")
    assert client.post(f"/api/v1/claims/{claim['id']}/submit", headers=me).json()["status"] == "submitted"


BASE = visit("2026-05-20", lines=[line("1", ACARBOSE, "2026-05-20", "120", "2.5")], **FANGCHENGGANG)


def _line(**changes: str) -> dict[str, Any]:
    return {"lines": [BASE["lines"][0] | changes]}


@pytest.mark.parametrize(
    ("changes", "field", "label"),
    [
        ({"invoices": [BASE["invoices"][0] | {"amount": "300.005"}]}, "visits[1].invoices[1].amount", "发票金额"),
        ({"invoices": [BASE["invoices"][0] | {"amount": "-300.00"}]}, "visits[1].invoices[1].amount", "发票金额"),
        (_line(cnt="-120", det_item_fee_sumamt="-300.00"), "visits[1].lines[1].cnt", "数量"),
        (_line(det_item_fee_sumamt="300.01"), "visits[1].lines[1].det_item_fee_sumamt", "明细项目费用总额"),
        (_line(fee_ocur_time="2026-05-21 09:00:00"), "visits[1].lines[1].fee_ocur_time", "费用发生时间"),
        (_line(pric="5000000.01", cnt="1", det_item_fee_sumamt="5000000.01"), "visits[1].lines[1].pric", "单价"),
        ({"begndate": "2026-06-02", "enddate": "2026-06-02"}, "visits[1].enddate", "结束日期"),
        ({"care": "inpatient", "med_type": "21", "enddate": "2026-05-19"}, "visits[1].enddate", "结束日期"),
        ({"begndate": "2014-12-31", "enddate": "2014-12-31"}, "visits[1].begndate", "开始日期"),  # before the insurance
        ({"fixmedins_code": "H41000000000"}, "visits[1].fixmedins_code", "定点医药机构编号"),
        ({"institution_region": "990000"}, "visits[1].institution_region", "机构所在统筹区"),
        ({"institution_level": "level_9"}, "visits[1].institution_level", "医保结算等级"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    client: TestClient, changes: dict[str, Any], field: str, label: str
) -> None:
    me = person_headers(client, LH_EMPLOYEE)
    r = client.post("/api/v1/claims", headers=me, json=claim_body([BASE | changes], request_id="bad-input-1"))
    body = r.json()
    assert r.status_code == 422 and body["code"] == "R_INPUT", body
    assert body["details"]["field"] == field and f"{field}（{label}）" in body["message_zh"]
    assert field in body["message_en"]
    assert client.get("/api/v1/claims", headers=me).json() == []  # nothing written


def test_bounds_and_sums(client: TestClient, db: Database) -> None:
    me = person_headers(client, LH_EMPLOYEE)
    r = client.post("/api/v1/claims", headers=me, json=claim_body([BASE] * 21, request_id="too-many-visits"))
    assert r.status_code == 422 and "visits" in r.json()["message_en"]
    r = client.post("/api/v1/claims", headers=me, json=claim_body([BASE], request_id="bad-bank", bank_account="12-34"))
    assert r.status_code == 422 and r.json()["details"]["field"] == "bank_account"
    short = BASE | {"invoices": [BASE["invoices"][0] | {"amount": "299.99"}]}
    claim = create(client, me, [short], "sum-00001")
    upload(client, me, claim["id"], "invoice", "fee_list")
    r = client.post(f"/api/v1/claims/{claim['id']}/submit", headers=me)
    assert r.status_code == 422 and r.json()["code"] == "R_INVOICE_SUM" and "第1次就诊" in r.json()["message_zh"]
    r = client.post(
        f"/api/v1/claims/{claim['id']}/visits/1/fee-list",
        headers=me,
        files={"file": ("清单.csv", b"%PDF-1.7", "text/csv")},
    )
    assert r.status_code == 422 and r.json()["code"] == "R_FEE_LIST" and "不是CSV" in r.json()["message_zh"]
    r = client.put(f"/api/v1/claims/{claim['id']}/visits/1/invoices", headers=me, json=[BASE["invoices"][0]])
    assert r.status_code == 200 and r.json()["visits"][0]["invoices"][0]["amount"] == "300.00"
    assert client.post(f"/api/v1/claims/{claim['id']}/submit", headers=me).json()["status"] == "submitted"
    r = client.put(f"/api/v1/claims/{claim['id']}/visits/1/lines", headers=me, json=BASE["lines"])
    assert r.status_code == 409 and r.json()["code"] == "R_STATE"  # submitted: no more changes to the visits


def test_retrying_a_creation_returns_the_same_claim(client: TestClient, db: Database) -> None:
    me = person_headers(client, LH_EMPLOYEE)
    body = claim_body([BASE], request_id="retry-0001")
    a = client.post("/api/v1/claims", headers=me, json=body)
    b = client.post("/api/v1/claims", headers=me, json=body)
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    c = client.post("/api/v1/claims", headers=me, json=body | {"bank_name": "另一家银行"})
    assert c.status_code == 409 and c.json()["code"] == "R_REQUEST_REUSED"
    with db.read_only() as s:
        assert len(s.scalars(select(Claim)).all()) == 1


def test_counter_filing_queue_return_and_what_the_person_reads(client: TestClient, db: Database) -> None:
    staff = staff_headers(client, "reviewer.411100")
    elsewhere = staff_headers(client, "reviewer.110000")
    body = claim_body([BASE], request_id="counter-0001") | {"psn_no": LH_EMPLOYEE}
    assert client.post("/api/v1/staff/claims", headers=elsewhere, json=body).status_code == 404
    r = client.post("/api/v1/staff/claims", headers=staff, json=body)
    assert r.status_code == 201 and r.json()["channel"] == "counter"
    claim_id = r.json()["id"]
    upload(client, staff, claim_id, "invoice", "fee_list")
    assert client.post(f"/api/v1/claims/{claim_id}/submit", headers=staff).json()["status"] == "submitted"
    assert client.get(f"/api/v1/staff/claims/{claim_id}", headers=elsewhere).status_code == 404

    me = person_headers(client, LH_EMPLOYEE)
    other = create(
        client,
        me,
        [
            BASE
            | {
                "begndate": "2026-05-21",
                "enddate": "2026-05-21",
                "lines": [line("1", ACARBOSE, "2026-05-21", "4", "2.5")],
                "invoices": [{"invono": "X2", "invoice_date": "2026-05-21", "amount": "10.00"}],
            }
        ],
        "mine-0001",
    )
    upload(client, me, other["id"], "invoice", "fee_list")
    client.post(f"/api/v1/claims/{other['id']}/submit", headers=me)
    with db.unit_of_work() as s:  # the counter claim's decision was due before today: overdue, first in the queue
        s.get(Claim, claim_id).due_date = dt.date(2026, 5, 29)  # type: ignore[union-attr]
    assert [c["id"] for c in client.get("/api/v1/staff/claims", headers=staff).json()] == [claim_id, other["id"]]
    client.post(f"/api/v1/staff/claims/{other['id']}/take", headers=staff)
    taken = client.get("/api/v1/staff/claims", headers=staff, params={"status": "under_review"}).json()
    assert [(c["id"], c["reviewer"]) for c in taken] == [(other["id"], "reviewer.411100")]
    assert client.get("/api/v1/staff/claims", headers=staff, params={"status": "nonsense"}).status_code == 422

    r = client.post(
        f"/api/v1/staff/claims/{other['id']}/return",
        headers=staff,
        json={"reason": "请补充诊断证明", "materials": ["diagnosis"]},
    )
    assert r.status_code == 200
    seen = client.get(f"/api/v1/claims/{other['id']}", headers=me).json()
    assert (seen["status"], seen["reason"], seen["materials_requested"], seen["due_date"]) == (
        "returned",
        "请补充诊断证明",
        ["diagnosis"],
        None,
    )
    upload(client, me, other["id"], "diagnosis")
    assert client.post(f"/api/v1/claims/{other['id']}/submit", headers=me).json()["status"] == "submitted"
    client.post(f"/api/v1/staff/claims/{other['id']}/take", headers=staff)
    exclusions = {"exclusions": [{"seq": 1, "feedetl_sn": "1", "reason": "超出诊疗范围"}]}
    done = client.post(f"/api/v1/staff/claims/{other['id']}/approve", headers=staff, json=exclusions).json()
    line_seen = client.get(f"/api/v1/claims/{other['id']}", headers=me).json()["visits"][0]["lines"][0]
    assert (done["status"], done["payable"], line_seen["excluded"], line_seen["exclusion_reason"]) == (
        "approved",
        "0.00",
        True,
        "超出诊疗范围",
    )
    r = client.post(f"/api/v1/staff/claims/{claim_id}/refuse", headers=staff, json={"reason": "非医保支付范围"})
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert client.get(f"/api/v1/claims/{claim_id}", headers=me).json()["reason"] == "非医保支付范围"
    withdrawn = client.post(f"/api/v1/claims/{claim_id}/withdraw", headers=me)
    assert withdrawn.status_code == 409 and withdrawn.json()["code"] == "R_STATE"


def test_another_person_cannot_see_a_claim(client: TestClient) -> None:
    me = person_headers(client, LH_EMPLOYEE)
    claim = create(client, me, [BASE], "private-0001")
    them = person_headers(client, LH_EMPLOYEE_2)
    assert client.get(f"/api/v1/claims/{claim['id']}", headers=them).status_code == 403
    assert client.get("/api/v1/claims", headers=them).json() == []
    assert json.dumps(client.get(f"/api/v1/claims/{claim['id']}", headers=me).json()).count("6222020200112233445") == 1
