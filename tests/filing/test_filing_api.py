"""The filing workflow over HTTP: a person files with proof, a reviewer decides, staff check coverage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from yidi.app import create_app
from yidi.cli import app as cli
from yidi.core import clock
from yidi.core.config import reset_settings
from yidi.core.db import Database
from yidi.demo.service import load_demo

from ..helpers import person_headers, staff_headers

LH = "41110000000000000001"


@pytest.fixture
def client(db: Database, tmp_path, monkeypatch, frozen_clock) -> Iterator[TestClient]:
    monkeypatch.setenv("YIDI_DATA_DIR", str(tmp_path))
    reset_settings()
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
    with TestClient(create_app(db)) as c:
        yield c
    reset_settings()


def test_person_files_with_proof_and_reviewer_approves(client: TestClient) -> None:
    me = person_headers(client, LH)
    today = clock.today().isoformat()
    r = client.post(
        "/api/v1/filings",
        headers=me,
        json={
            "subtype": "long_term_resident",
            "target_region": "110105",
            "begndate": today,
            "basis": "materials",
            "channel": "web_portal",
        },
    )
    assert r.status_code == 201, r.text
    filing = r.json()
    assert filing["status"] == "submitted" and filing["target_region"] == "110000"
    bad = client.post(
        f"/api/v1/filings/{filing['trt_dcla_detl_sn']}/materials",
        headers=me,
        data={"kind": "residence_proof"},
        files={"file": ("a.txt", b"hello", "text/plain")},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "F_UPLOAD"
    up = client.post(
        f"/api/v1/filings/{filing['trt_dcla_detl_sn']}/materials",
        headers=me,
        data={"kind": "residence_proof"},
        files={"file": ("居住证.pdf", b"%PDF-1.7 proof", "application/pdf")},
    )
    assert up.status_code == 201 and len(up.json()["sha256"]) == 64
    staff = staff_headers(client, "reviewer.411100")
    queue = client.get("/api/v1/staff/filings", headers=staff).json()
    assert [f["trt_dcla_detl_sn"] for f in queue] == [filing["trt_dcla_detl_sn"]]
    assert queue[0]["due_date"] is not None and queue[0]["materials"][0]["filename"] == "居住证.pdf"
    decided = client.post(
        f"/api/v1/staff/filings/{filing['trt_dcla_detl_sn']}/decision", headers=staff, json={"decision": "approve"}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    cover = client.get(
        "/api/v1/staff/coverage",
        headers=staff,
        params={"psn_no": LH, "fixmedins_code": "H11010500001", "med_type": "21", "admission_date": today},
    )
    assert cover.json()["coverage"] == "filed" and cover.json()["category"] == "long_term"
    mine = client.get("/api/v1/filings", headers=me).json()
    assert [f["status"] for f in mine] == ["approved"]


def test_refusals_come_back_in_both_languages(client: TestClient) -> None:
    me = person_headers(client, LH)
    r = client.post(
        "/api/v1/filings",
        headers=me,
        json={
            "subtype": "other_temporary",
            "target_region": "411122",
            "begndate": clock.today().isoformat(),
            "basis": "none",
        },
    )
    body = r.json()
    assert r.status_code == 422 and body["code"] == "F_LOCAL_TARGET"
    assert "无需异地备案" in body["message_zh"] and "no cross-region filing" in body["message_en"]
    r = client.post(
        "/api/v1/filings",
        headers=me,
        json={"subtype": "nonsense", "target_region": "110000", "begndate": "2025-01-01", "basis": "none"},
    )
    assert r.status_code == 422 and "subtype" in r.json()["message_en"]


def test_expire_command(db: Database, tmp_path) -> None:
    url = db.url
    r = CliRunner().invoke(cli, ["filing", "expire", "--date", "2030-01-01", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert '"expired": 0' in r.output
