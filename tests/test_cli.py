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
