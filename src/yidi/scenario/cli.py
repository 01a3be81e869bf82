"""`yidi scenario load FILE.yaml`: the command-line edge of the scenario loader (translation only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from yidi.cli_support import DbUrl, database, fail

MAX_LISTED = 200


def register_cli(app: typer.Typer) -> None:
    """Add the `scenario` command group to the `yidi` application."""
    scenario_app = typer.Typer(help="Test scenarios from a YAML file (docs/scenario.md)", no_args_is_help=True)
    scenario_app.command("load")(scenario_load)
    app.add_typer(scenario_app, name="scenario")


def scenario_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The scenario (.yaml)")],
    database_url: DbUrl = None,
) -> None:
    """Load a scenario: institutions, persons, sign-in, catalogues, filings. Any error → nothing is written."""
    from yidi.bootstrap import prepare
    from yidi.core import clock
    from yidi.core.errors import YidiError
    from yidi.scenario.errors import ScenarioError
    from yidi.scenario.service import load_scenario

    db = database(database_url)
    prepare(db)
    try:
        with db.unit_of_work() as session:
            report = load_scenario(session, file, clock.now())
    except ScenarioError as exc:
        for problem in exc.problems[:MAX_LISTED]:
            typer.echo(str(problem), err=True)
        if len(exc.problems) > MAX_LISTED:
            typer.echo(f"… and {len(exc.problems) - MAX_LISTED} more", err=True)
        fail(exc)
        return
    except YidiError as exc:
        fail(exc)
        return
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
