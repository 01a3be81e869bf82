import io
import json
import logging

from yidi.core.logging import configure_logging


def test_json_lines_with_masked_id_numbers() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    configure_logging("INFO", json_lines=True, stream=stream)
    try:
        log = logging.getLogger("yidi.test")
        log.info("person 411102195603129013 identified", extra={"certno": "11010519491231002X", "n": 3})
        try:
            raise ValueError("bad 411102195603129013")
        except ValueError:
            log.exception("failed")
    finally:
        root.handlers = saved
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["message"] == "person 411102********9013 identified"
    assert first["certno"] == "110105********002X" and first["n"] == 3
    assert first["level"] == "INFO" and first["time"].endswith("+08:00")
    assert "411102195603129013" not in stream.getvalue()
    assert "11010519491231002X" not in stream.getvalue()


def test_leak_detector_finds_unmasked_numbers_only() -> None:
    from yidi.core.certno import find_certnos

    text = (
        '{"a": "411102195603129013", "b": "411102********9013", "c": "411102195603129014", "d": "11010519491231002x"}'
    )
    assert find_certnos(text) == ["411102195603129013", "11010519491231002x"]


def test_every_request_is_logged_with_its_request_id(caplog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from yidi.app import create_app
    from yidi.core.db import Database

    db = Database(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    with TestClient(create_app(db)) as client, caplog.at_level(logging.INFO, logger="yidi.http"):
        given = client.get("/healthz", headers={"x-request-id": "his-terminal-7-0001"})
        fresh = client.get("/no-such-page")
    db.dispose()
    assert given.headers["x-request-id"] == "his-terminal-7-0001"
    assert len(fresh.headers["x-request-id"]) == 32
    records = [r for r in caplog.records if r.getMessage() == "request"]
    assert [(r.path, r.status) for r in records] == [("/healthz", 200), ("/no-such-page", 404)]  # type: ignore[attr-defined]
    assert records[0].request_id == "his-terminal-7-0001" and records[0].duration_ms >= 0  # type: ignore[attr-defined]
