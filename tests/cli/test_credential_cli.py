"""`yidi credential`: an agency issues, lists and revokes the institutions' signing credentials."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from typer.testing import CliRunner

from yidi.cli import app
from yidi.core import clock
from yidi.core.db import Database
from yidi.demo.service import load_demo
from yidi.security.service import verify_institution_request
from yidi.security.signing import SignedHeaders


def test_issue_list_and_revoke_a_national_credential(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    db = Database(url)
    with db.unit_of_work() as s:
        load_demo(s, clock.now())
    r = runner.invoke(app, ["credential", "add", "H11010500001", "--key-id", "his-vendor-1", "--database-url", url])
    assert r.exit_code == 0, r.output
    issued = json.loads(r.output)
    assert issued["scheme"] == "national" and len(issued["token"]) == 48
    ts, nonce = str(int(time.time())), "n0nce-1"
    signature = hashlib.sha256((ts + issued["token"] + nonce + ts).encode()).hexdigest()
    with db.unit_of_work() as s:
        who = verify_institution_request(
            s, SignedHeaders("his-vendor-1", ts, nonce, signature), "POST", "/x", b"{}", clock.now()
        )
    assert who.subject == "H11010500001"
    listed = runner.invoke(app, ["credential", "list", "H11010500001", "--database-url", url]).output
    assert '"key_id": "his-vendor-1"' in listed and issued["token"] not in listed
    again = runner.invoke(app, ["credential", "add", "H11010500001", "--key-id", "his-vendor-1", "--database-url", url])
    assert again.exit_code == 2 and "key_id" in again.output
    unknown = runner.invoke(app, ["credential", "add", "H99999999999", "--database-url", url])
    assert unknown.exit_code == 2 and "unknown institution" in unknown.output
    short = runner.invoke(
        app, ["credential", "add", "H11010500001", "--key-material-stdin", "--database-url", url], input="short\n"
    )
    assert short.exit_code == 2 and "key_material" in short.output
    assert runner.invoke(app, ["credential", "revoke", "his-vendor-1", "--database-url", url]).exit_code == 0
    listed = runner.invoke(app, ["credential", "list", "H11010500001", "--database-url", url]).output
    assert '"key_id": "his-vendor-1", "fixmedins_code": "H11010500001", "scheme": "national", "active": false' in listed
    db.dispose()
