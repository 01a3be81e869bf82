"""Production mode: weak or equal keys, demo data and every way of starting the server go through one check."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from yidi.core.config import Settings, reset_settings
from yidi.core.db import Database, set_database

from ..conftest import PgDatabases
from .server_process import free_port

runner = CliRunner()
STRONG = {"YIDI_SECRET_KEY": secrets.token_hex(32), "YIDI_DATA_ENCRYPTION_KEY": secrets.token_urlsafe(48)}


@pytest.fixture
def production(fresh_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """YIDI_ENVIRONMENT=production with strong keys; a test changes what it is about. Logging is restored after
    (the entry points configure the root logger, which holds the test run's log scan)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.setenv("YIDI_ENVIRONMENT", "production")
    for name, value in STRONG.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("YIDI_LOAD_DEMO_ON_EMPTY", raising=False)
    reset_settings()
    set_database(None)  # the process-wide database is built from these settings
    yield monkeypatch
    set_database(None)
    reset_settings()
    root.handlers, root.level = handlers, level


def _settings(**values: str) -> Settings:
    return Settings(environment="production", database_url="postgresql+psycopg://db/yidi", **values)


# -- the rule -----------------------------------------------------------------------------------------------


def test_weak_and_equal_keys_are_refused_in_production() -> None:
    problems = _settings(secret_key="a" * 32, data_encryption_key="a" * 32).startup_problems()
    text = "\n".join(problems)
    assert "YIDI_SECRET_KEY: " in text and "YIDI_DATA_ENCRYPTION_KEY: " in text
    assert "different characters" in text and "不同字符" in text  # bilingual
    assert "are equal" in text and "相同" in text


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("a" * 32, "different characters"),
        ("ab" * 40, "different characters"),
        ("abcdefgh" * 4, "one piece repeated"),
        ("0123456789abcdef" * 2, "one piece repeated"),
        ("short-but-random-Zq8#", "at least 32"),
        ("dev-only-change-me" * 2, "placeholder"),
        ("please-CHANGE-ME-before-going-live-0123", "placeholder"),
        (secrets.token_hex(16), None),  # `openssl rand -hex 16`: 32 characters
        (secrets.token_urlsafe(48), None),
    ],
)
def test_key_rule(key: str, problem: str | None) -> None:
    from yidi.core.config import key_problems

    found = key_problems(key)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found


def test_strong_distinct_keys_on_postgresql_pass() -> None:
    keys = {"secret_key": STRONG["YIDI_SECRET_KEY"], "data_encryption_key": STRONG["YIDI_DATA_ENCRYPTION_KEY"]}
    assert _settings(**keys).startup_problems() == []


def test_environment_is_normalised_and_an_unknown_one_refused() -> None:
    assert Settings(environment=" Production ").is_production
    problems = Settings(environment="prod").startup_problems()
    assert len(problems) == 1 and "YIDI_ENVIRONMENT='prod'" in problems[0]
    assert Settings(environment="development").startup_problems() == []  # dev keys are fine outside production


def test_asking_for_the_demo_in_production_is_refused() -> None:
    keys = {"secret_key": STRONG["YIDI_SECRET_KEY"], "data_encryption_key": STRONG["YIDI_DATA_ENCRYPTION_KEY"]}
    assert any("YIDI_LOAD_DEMO_ON_EMPTY" in p for p in _settings(**keys, load_demo_on_empty="true").startup_problems())
    assert _settings(**keys, load_demo_on_empty="false").startup_problems() == []


# -- every entry point --------------------------------------------------------------------------------------


def test_serve_app_factory_runs_the_same_checks(
    production: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from yidi.app import serve_app

    production.setenv("YIDI_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")  # never reached
    production.setenv("YIDI_SECRET_KEY", "a" * 32)
    production.setenv("YIDI_DATA_ENCRYPTION_KEY", "a" * 32)
    reset_settings()
    with pytest.raises(SystemExit) as stopped:
        serve_app()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "refusing to start" in err and "different characters" in err and "are equal" in err


def test_uvicorn_factory_refuses_weak_keys(tmp_path: Path) -> None:
    """`uvicorn --factory yidi.app:serve_app` exits with status 2 instead of serving."""
    env = {
        **os.environ,
        "YIDI_ENVIRONMENT": "production",
        "YIDI_SECRET_KEY": "a" * 32,
        "YIDI_DATA_ENCRYPTION_KEY": "a" * 32,
        "YIDI_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    }
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    command = [uvicorn, "--factory", "yidi.app:serve_app", "--host", "127.0.0.1", "--port", str(free_port())]
    try:
        done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("uvicorn served with weak keys in production (still running after 30 s)") from exc
    assert done.returncode == 2, done.stderr[-2000:]
    assert "refusing to start" in done.stderr and "YIDI_SECRET_KEY" in done.stderr


def test_cli_serve_refuses_weak_keys(production: pytest.MonkeyPatch) -> None:
    from yidi.cli import app

    production.setenv("YIDI_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")  # never reached
    production.setenv("YIDI_SECRET_KEY", "x" * 40)
    production.setenv("YIDI_DATA_ENCRYPTION_KEY", "x" * 40)
    reset_settings()
    r = runner.invoke(app, ["serve"])
    assert r.exit_code == 2 and "different characters" in r.output and "are equal" in r.output


def test_demo_load_is_refused_in_production(production: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from yidi.cli import app

    r = runner.invoke(app, ["demo", "load", "--database-url", f"sqlite:///{tmp_path / 'd.sqlite3'}"])
    assert r.exit_code == 2 and "production never loads demo data" in r.output
    assert not (tmp_path / "d.sqlite3").exists()


@pytest.mark.pg
def test_serve_in_production_never_seeds_an_empty_database(
    production: pytest.MonkeyPatch, pg_databases: PgDatabases
) -> None:
    import uvicorn

    from yidi.cli import app
    from yidi.people.models import Person
    from yidi.reference.models import Institution
    from yidi.security.models import InstitutionCredential, StaffUser

    served = []
    production.setattr(uvicorn, "run", lambda application, **kw: served.append(kw))  # start-up only
    url = pg_databases.create()
    production.setenv("YIDI_DATABASE_URL", url)
    reset_settings()
    r = runner.invoke(app, ["serve", "--port", "8999"])  # --demo is the default
    assert r.exit_code == 0, r.output
    assert served and served[0]["port"] == 8999
    set_database(None)
    db = Database(url)
    try:
        with db.read_only() as s:
            for table in (Institution, Person, StaffUser, InstitutionCredential):
                assert s.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__
    finally:
        db.dispose()
    # Saying so explicitly is a configuration mistake, refused rather than ignored.
    production.setenv("YIDI_LOAD_DEMO_ON_EMPTY", "true")
    reset_settings()
    r = runner.invoke(app, ["serve", "--port", "8999"])
    assert r.exit_code == 2 and "YIDI_LOAD_DEMO_ON_EMPTY" in r.output


@pytest.mark.pg
def test_production_refuses_a_database_holding_demo_data(
    production: pytest.MonkeyPatch, pg_databases: PgDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    from yidi.app import serve_app
    from yidi.bootstrap import prepare
    from yidi.cli import app

    url = pg_databases.create()
    production.setenv("YIDI_ENVIRONMENT", "development")  # the database was once used for a demo
    reset_settings()
    db = Database(url)
    try:
        assert prepare(db, demo_if_empty=True) is not None
    finally:
        db.dispose()
    production.setenv("YIDI_ENVIRONMENT", "production")
    production.setenv("YIDI_DATABASE_URL", url)
    reset_settings()
    served = []
    production.setattr(uvicorn, "run", lambda application, **kw: served.append(kw))
    r = runner.invoke(app, ["serve", "--port", "8999"])
    assert r.exit_code == 2 and "demo data" in r.output and "演示数据" in r.output, r.output
    assert not served
    set_database(None)
    with pytest.raises(SystemExit) as stopped:
        serve_app()
    assert stopped.value.code == 2 and "demo data" in capsys.readouterr().err


@pytest.mark.pg
def test_serve_app_starts_in_production_on_a_clean_database(
    production: pytest.MonkeyPatch, pg_databases: PgDatabases
) -> None:
    from yidi.app import serve_app
    from yidi.bootstrap import prepare

    url = pg_databases.create()
    db = Database(url)
    try:
        prepare(db, demo_if_empty=True)  # production: the demo is not loaded whatever the caller asks
    finally:
        db.dispose()
    production.setenv("YIDI_DATABASE_URL", url)
    reset_settings()
    assert serve_app().title.startswith("yidi")
