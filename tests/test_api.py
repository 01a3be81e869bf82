"""The HTTP API: health, docs, reference look-ups and error shapes."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from yidi.app import create_app
from yidi.core import clock
from yidi.core.db import Database
from yidi.demo.service import load_demo


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
    with TestClient(create_app(db)) as c:
        yield c


def test_healthz_checks_the_database(client: TestClient, db: Database) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["database"] == db.engine.dialect.name


def test_healthz_reports_a_dead_database(tmp_path) -> None:
    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    with TestClient(create_app(broken)) as c:
        r = c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["code"] == "E_DB_DOWN"
    broken.dispose()


def test_docs_and_openapi_list_the_api(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/healthz" in paths
    assert "/api/v1/reference/classify" in paths
    assert "/api/v1/reference/institutions/{fixmedins_code}" in paths


def test_classify_endpoint(client: TestClient) -> None:
    r = client.get("/api/v1/reference/classify", params={"insured": "411102", "treatment": "110105"})
    assert r.status_code == 200
    body = r.json()
    assert body["classification"] == "cross_province" and body["label_zh"] == "跨省异地"
    assert body["insured_pooling_region"] == "411100" and body["treatment_pooling_region"] == "110000"


def test_unknown_division_is_a_bilingual_error(client: TestClient) -> None:
    r = client.get("/api/v1/reference/classify", params={"insured": "999999", "treatment": "110000"})
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "E_DIVISION"
    assert "999999" in body["message_zh"] and "999999" in body["message_en"]


def test_bad_input_names_the_field(client: TestClient) -> None:
    r = client.get("/api/v1/reference/classify", params={"insured": "4111", "treatment": "110000"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "E_INPUT"
    assert "insured" in body["message_en"] and "请求参数有误" in body["message_zh"]


def test_divisions_list_and_filters(client: TestClient) -> None:
    pools = client.get("/api/v1/reference/divisions", params={"pooling_only": True}).json()
    codes = {d["code"] for d in pools}
    assert {"110000", "411100", "131000", "419001"} <= codes and "410000" not in codes
    henan = client.get("/api/v1/reference/divisions", params={"province": "410000"}).json()
    assert {d["code"] for d in henan} >= {"410000", "411100", "419001"}
    assert client.get("/api/v1/reference/divisions/131000").json()["name"] == "廊坊市"


def test_institution_lookup_with_services_on_a_date(client: TestClient) -> None:
    r = client.get("/api/v1/reference/institutions/H11010500001", params={"on": "2020-12-31"})
    assert r.status_code == 200
    assert r.json()["services"] == []  # nothing opened before 2021
    r = client.get("/api/v1/reference/institutions/H11010500001", params={"on": "2025-06-01"})
    assert any(s["opsp_dise_code"] == "M03900" for s in r.json()["services"])
    listed = client.get("/api/v1/reference/institutions", params={"pooling_region": "110000"}).json()
    assert len(listed) == 7
    assert client.get("/api/v1/reference/institutions", params={"limit": 501}).status_code == 422


def test_unknown_institution_and_path(client: TestClient) -> None:
    r = client.get("/api/v1/reference/institutions/H99999999999")
    assert r.status_code == 404 and r.json()["code"] == "E_NOT_FOUND"
    r = client.get("/no/such/path")
    assert r.status_code == 404 and r.json()["code"] == "E_HTTP_404"


def test_chronic_disease_codes(client: TestClient) -> None:
    rows = client.get("/api/v1/reference/chronic-diseases").json()
    groups = {r["national_group"] for r in rows if r["cross_province_from"]}
    assert len(groups) == 10  # the national cross-province list since 2024-12
