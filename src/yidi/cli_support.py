"""What every command of the `yidi` command line shares: the database option and the way an error is printed.

Below `yidi.cli` and the command groups it registers (`yidi.scenario.cli`), so that none imports another.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from yidi.core.config import get_settings
from yidi.core.db import Database, get_database, set_database
from yidi.core.errors import YidiError

DbUrl = Annotated[str | None, typer.Option("--database-url", envvar="YIDI_DATABASE_URL", help="SQLAlchemy URL")]


def database(url: str | None) -> Database:
    """The database of `--database-url` (made the process's database), else the configured one."""
    if url and url != get_settings().database_url:
        set_database(Database(url))
    return get_database()


def fail(exc: YidiError) -> NoReturn:
    """Print the error in both languages and exit with status 2."""
    typer.echo(f"错误 {exc.code}: {exc.message_zh}\nerror {exc.code}: {exc.message_en}", err=True)
    raise typer.Exit(2)
