import io
import json
import logging

from yidi.core.logging import configure_logging


def test_json_lines_with_masked_id_numbers() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_lines=True, stream=stream)
    try:
        log = logging.getLogger("yidi.test")
        log.info("person 411102195603129013 identified", extra={"certno": "11010519491231002X", "n": 3})
        try:
            raise ValueError("bad 411102195603129013")
        except ValueError:
            log.exception("failed")
    finally:
        logging.getLogger().handlers = []
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["message"] == "person 411102********9013 identified"
    assert first["certno"] == "110105********002X" and first["n"] == 3
    assert first["level"] == "INFO" and first["time"].endswith("+08:00")
    assert "411102195603129013" not in stream.getvalue()
    assert "11010519491231002X" not in stream.getvalue()
