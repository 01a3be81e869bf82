import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from yidi.cli import app

runner = CliRunner()


def test_classify_command() -> None:
    r = runner.invoke(app, ["reference", "classify", "411100", "110000"])
    assert r.exit_code == 0
    assert "cross_province" in r.output and "漯河市" in r.output


def test_classify_unknown_code_fails_with_bilingual_message() -> None:
    r = runner.invoke(app, ["reference", "classify", "999999", "110000"])
    assert r.exit_code == 2
    assert "E_DIVISION" in r.output


def test_calendar_commands() -> None:
    r = runner.invoke(app, ["calendar", "add", "2025-09-30", "3"])
    assert r.exit_code == 0 and r.output.strip() == "2025-10-11"
    r = runner.invoke(app, ["calendar", "is-working-day", "2026-02-17"])
    assert "rest day" in r.output and "春节" in r.output
    r = runner.invoke(app, ["calendar", "is-working-day", "2027-02-17"])
    assert r.exit_code == 2 and "E_CALENDAR_YEAR" in r.output


def test_certno_command_masks() -> None:
    r = runner.invoke(app, ["reference", "certno", "411102195603129013"])
    assert r.exit_code == 0 and "411102********9013" in r.output
    r = runner.invoke(app, ["reference", "certno", "411102195603129014"])
    assert r.exit_code == 2 and "校验码不符" in r.output


def test_db_upgrade_and_demo_load(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    r = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["demo", "load", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert '"persons_added": 40' in r.output
    r = runner.invoke(app, ["db", "downgrade", "base", "--database-url", url])
    assert r.exit_code == 0, r.output


def test_catalog_import_and_show(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.sqlite3'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    good = tmp_path / "good.csv"
    good.write_text(
        "med_list_codg,med_list_name,chrgitm_lv,med_chrgitm_type,selfpay_prop,begndate\n"
        "XA10BXA248A880381848000,瑞格列奈片,02,09,0.10,2022-01-01\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text(encoding="utf-8") + "XA10BFA331A740537984000,阿卡波糖片,甲,09,,2022-13-01\n", "utf-8")
    r = runner.invoke(app, ["catalog", "import", str(bad), "--region", "110000", "--database-url", url])
    assert r.exit_code == 2
    assert "row 3, begndate" in r.output and "nothing was imported" in r.output
    r = runner.invoke(app, ["catalog", "import", str(good), "--region", "110000", "--database-url", url])
    assert r.exit_code == 0 and '"added": 1' in r.output
    r = runner.invoke(
        app,
        [
            "catalog",
            "show",
            "XA10BXA248A880381848000",
            "--region",
            "110000",
            "--date",
            "2022-07-01",
            "--database-url",
            url,
        ],
    )
    assert r.exit_code == 0 and "瑞格列奈片" in r.output and "selfpay_prop=0.1" in r.output


def test_serve_with_workers_needs_postgresql(tmp_path) -> None:
    r = runner.invoke(app, ["serve", "--workers", "2", "--database-url", f"sqlite:///{tmp_path / 'w.sqlite3'}"])
    assert r.exit_code == 2 and "PostgreSQL" in r.output


@pytest.mark.pg
def test_serve_with_workers_answers_and_stops_cleanly(pg_url: str, tmp_path: Path) -> None:
    """Two worker processes, each with its own listening socket on the port; SIGTERM stops them all."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yidi = str(Path(sys.executable).parent / "yidi")  # the installed console script
    command = [yidi, "serve", "--workers", "2", "--port", str(port), "--no-demo"]
    env = {**os.environ, "YIDI_DATABASE_URL": pg_url}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline, answers = time.monotonic() + 60, 0
        while time.monotonic() < deadline and answers < 20:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    answers += 1
            except httpx.HTTPError:
                time.sleep(0.3)
        assert answers == 20, (tmp_path / "server.log").read_text()[-2000:]
        listeners = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=False)
        if listeners.returncode == 0:
            assert len(listeners.stdout.strip().splitlines()) == 2  # one socket per worker
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 2 and "cannot listen" in second.stderr  # never two instances on one port
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
        log.close()
