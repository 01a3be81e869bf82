"""The HTTP edge refuses, naming the field, what the database could not hold or a parser could not survive:
NUL characters and lone surrogates in JSON bodies and query strings, and bodies nested past the limit
(issue: robustness, item 3). PostgreSQL refuses NUL in text, so these run on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from yidi.app import create_app
from yidi.core.db import Database


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("bad", ["ad\u0000min", "ad\ud800min"])
def test_a_json_body_with_nul_or_a_lone_surrogate_is_refused_by_field(client: TestClient, bad: str) -> None:
    body = json.dumps({"username": bad, "password": "x"}, ensure_ascii=True)  # escapes: valid JSON text
    response = client.post("/api/v1/auth/staff/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == "body.username"


def test_a_nul_in_the_query_string_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/reference/institutions?name=a%00b")
    assert response.status_code == 422 and response.json()["code"] == "E_INPUT", response.text


def test_a_deeply_nested_body_is_refused_before_parsing(client: TestClient) -> None:
    body = '{"username": "admin", "password": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = client.post("/api/v1/auth/staff/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "nests deeper" in response.text, response.text


def test_ordinary_bodies_pass_through_unchanged(client: TestClient) -> None:
    response = client.post("/api/v1/auth/staff/login", json={"username": "nobody", "password": "wrong-password"})
    assert response.status_code in (401, 403) and response.json()["code"] != "E_INPUT", response.text


@pytest.mark.parametrize("content_type", ["Application/JSON", "application/json; charset=utf-8", "application/x+json"])
def test_any_spelling_of_json_is_guarded(client: TestClient, content_type: str) -> None:
    body = json.dumps({"username": "ad\u0000min", "password": "x"})
    response = client.post("/api/v1/auth/staff/login", content=body, headers={"content-type": content_type})
    assert response.status_code == 422 and response.json()["code"] == "E_INPUT", response.text
