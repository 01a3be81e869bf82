"""The `yidi` command line. It only translates arguments into service calls and prints the answers."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from yidi.cli_support import DbUrl, database, fail
from yidi.core import clock, migrate
from yidi.core.calendar import default_calendar, notice_calendar
from yidi.core.certno import mask_certno, validate_certno
from yidi.core.config import get_settings
from yidi.core.errors import YidiError
from yidi.core.logging import configure_logging
from yidi.scenario import register_cli as register_scenario_cli

app = typer.Typer(
    help="yidi 异地就医平台 — cross-region medical insurance platform",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations)", no_args_is_help=True)
demo_app = typer.Typer(help="Synthetic demo data", no_args_is_help=True)
ref_app = typer.Typer(help="Reference data: divisions, pooling regions, chronic diseases", no_args_is_help=True)
cal_app = typer.Typer(help="China working-day calendar", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(ref_app, name="reference")
app.add_typer(cal_app, name="calendar")
catalog_app = typer.Typer(help="Treatment-place catalogues (就医地目录)", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
filing_app = typer.Typer(help="Filings (备案)", no_args_is_help=True)
app.add_typer(filing_app, name="filing")
cred_app = typer.Typer(
    help="Institution signing credentials (机构密钥) for the national interface", no_args_is_help=True
)
app.add_typer(cred_app, name="credential")
params_app = typer.Typer(help="Insured-place policy parameters (dated YAML tree)", no_args_is_help=True)
app.add_typer(params_app, name="params")
register_scenario_cli(app)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load demo data into an empty database")] = True,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes (PostgreSQL only when > 1)")] = 1,
    database_url: DbUrl = None,
) -> None:
    """Apply migrations, load demo data into an empty database (never in production), and serve the API."""
    import uvicorn

    from yidi.app import create_app
    from yidi.bootstrap import StartupRefused, check_startup, prepare

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    db = database(database_url)
    effective = settings.model_copy(update={"database_url": db.url})  # --database-url is what will be served
    try:
        check_startup(effective)  # the settings, before the database is touched
        if workers > 1 and db.engine.dialect.name == "sqlite":
            typer.echo("--workers > 1 needs PostgreSQL (SQLite allows one writer) / 多进程须使用 PostgreSQL", err=True)
            raise typer.Exit(2)
        prepare(db, demo_if_empty=demo and settings.load_demo_on_empty)  # prepare never seeds in production
        check_startup(effective, db)  # then the database (production: no demo data)
    except StartupRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"yidi serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", err=True)
    if workers == 1:
        uvicorn.run(create_app(db), host=host, port=port, log_config=None, access_log=False)
        return
    from yidi.core.server import serve as serve_workers

    os.environ["YIDI_DATABASE_URL"] = db.url  # each worker process builds its own app from settings
    db.dispose()
    raise typer.Exit(serve_workers(host, port, workers))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head", database_url: DbUrl = None) -> None:
    """Migrate the schema up (to head by default) and bring reference data in step."""
    from yidi.bootstrap import prepare

    db = database(database_url)
    if revision == "head":
        prepare(db)
    else:
        migrate.upgrade(db.url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str, database_url: DbUrl = None) -> None:
    """Migrate the schema down to REVISION (`base` removes every table)."""
    migrate.downgrade(database(database_url).url, revision)
    typer.echo(f"database at {revision}")


@demo_app.command("load")
def demo_load(database_url: DbUrl = None) -> None:
    """Load the synthetic demo institutions and persons (rows already present are kept)."""
    from yidi.bootstrap import prepare
    from yidi.demo.service import load_demo

    if get_settings().is_production:  # the demo's passwords and institution keys are published
        typer.echo(
            "拒绝执行：生产环境不加载演示数据 / refused: production never loads demo data (YIDI_ENVIRONMENT)",
            err=True,
        )
        raise typer.Exit(2)
    db = database(database_url)
    prepare(db)
    with db.unit_of_work() as session:
        result = load_demo(session, clock.now(), actor="cli")
    typer.echo(json.dumps(result.__dict__, ensure_ascii=False))


@ref_app.command("sync")
def reference_sync(database_url: DbUrl = None) -> None:
    """Upsert divisions and chronic-disease codes from the shipped files."""
    from yidi.reference.service import sync_reference_data

    db = database(database_url)
    with db.unit_of_work() as session:
        typer.echo(json.dumps(sync_reference_data(session)))


@ref_app.command("classify")
def reference_classify(insured: str, treatment: str) -> None:
    """Classify a pair of division codes: local / in_province / cross_province."""
    from yidi.reference.rules import classify, divisions

    try:
        result = classify(insured, treatment)
        a, b = divisions().pooling_region_of(insured), divisions().pooling_region_of(treatment)
    except YidiError as exc:
        fail(exc)
        return
    typer.echo(f"{result.value} ({result.label_zh}): {a.code} {a.name} → {b.code} {b.name}")


@ref_app.command("certno")
def reference_certno(certno: str) -> None:
    """Check a resident ID number (GB 11643) and print its mask."""
    try:
        validate_certno(certno)
    except YidiError as exc:
        fail(exc)
    typer.echo(f"valid: {mask_certno(certno)}")


@cal_app.command("is-working-day")
def calendar_is_working_day(day: dt.datetime) -> None:
    """Whether DAY (YYYY-MM-DD) is a working day, from the holiday notices only (none yet for its year: error)."""
    try:
        cal = notice_calendar()  # a fact about one day: no provisional guess, unlike the counts below
        working = cal.is_working_day(day.date())
        name = cal.holiday_name(day.date())
    except YidiError as exc:
        fail(exc)
        return
    typer.echo(f"{day.date()}: {'working day 工作日' if working else 'rest day 休息日'}{f' ({name})' if name else ''}")


@cal_app.command("add")
def calendar_add(day: dt.datetime, days: int) -> None:
    """The date DAYS working days after DAY, counted as the platform does (marked provisional when it counted over a
    year without a holiday notice)."""
    try:
        counted = default_calendar().count_working_days(day.date(), days)
    except YidiError as exc:
        fail(exc)
        return
    years = ", ".join(str(y) for y in counted.provisional_years)
    typer.echo(counted.date.isoformat() + (f" [provisional 暂定: no holiday notice for {years} yet]" if years else ""))


@cal_app.command("add-year")
def calendar_add_year(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="One year's notice, holidays.yaml layout")],
    database_url: DbUrl = None,
) -> None:
    """Add a year's official holiday notice: check FILE, install it, recompute provisional due dates.

    FILE has the layout of the shipped holidays.yaml for one year. It is copied to
    <YIDI_DATA_DIR>/calendar/holidays-<year>.yaml, read after the shipped data and YIDI_HOLIDAY_FILES (running
    servers see it at their next count), then every open due date of filings, claims and reviews of settlements
    that was counted provisionally is recomputed, each change with an audit row. Running it again is harmless
    and recomputes any left over.
    """
    from yidi.core.calendar import INVALID_NOTICE, install_notice
    from yidi.core.principal import SYSTEM
    from yidi.filing.service import recompute_provisional_due_dates as filings
    from yidi.reimbursement.reviews import recompute_provisional_due_dates as reviews
    from yidi.reimbursement.service import recompute_provisional_due_dates as claims

    try:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise YidiError(INVALID_NOTICE, path=str(file), reason="not UTF-8 text / 不是UTF-8文本") from None
        year, target = install_notice(text, str(file))
        with database(database_url).unit_of_work() as session:
            now = clock.now()
            jobs = (("filings", filings), ("claims", claims), ("reviews", reviews))
            counts = {name: job(session, SYSTEM, now) for name, job in jobs}
    except YidiError as exc:
        fail(exc)
        return
    typer.echo(json.dumps({"year": year.year, "reference": year.reference, "installed": str(target), **counts}))


@params_app.command("check")
def params_check(
    directory: Annotated[
        list[Path] | None, typer.Option("--dir", help="Check these trees instead of the configured ones")
    ] = None,
) -> None:
    """Validate the whole parameter tree: schema, date order, ranges, each region complete at every date."""
    from yidi.parameters.store import ParameterStore, default_store

    store = ParameterStore(list(directory)) if directory else default_store()
    problems = store.check()
    for p in problems:
        typer.echo(str(p), err=p.severity == "error")
    errors = [p for p in problems if p.severity == "error"]
    regions = store.regions()
    if errors:
        typer.echo(f"{len(errors)} error(s) in {', '.join(str(d) for d in store.directories)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"parameters OK: {len(regions)} regions ({', '.join(regions)}), {len(store.tree.leaves)} values")


@params_app.command("show")
def params_show(
    region: str,
    date: Annotated[dt.datetime, typer.Option("--date", help="Service date (YYYY-MM-DD)")],
    references: Annotated[bool, typer.Option(help="List the document behind each value")] = True,
) -> None:
    """Print the parameters of REGION in force on --date."""
    import yaml

    from yidi.parameters.store import default_store

    store = default_store()
    try:
        policy = store.at(region, date.date())
    except YidiError as exc:
        fail(exc)
        return
    typer.echo(yaml.safe_dump(policy.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=120))
    if references:
        typer.echo("# references (value start date: document)")
        for leaf in store.tree.under(("regions", region)):
            entry = leaf.entry_at(date.date())
            if entry is not None:
                typer.echo(f"#   {'.'.join(leaf.path[2:])}  {entry.start}: {entry.reference}")


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .xlsx")],
    region: Annotated[str, typer.Option("--region", help="Treatment pooling region, e.g. 110000")],
    actor: Annotated[str, typer.Option(help="Who imports (kept in the audit trail)")] = "cli",
    database_url: DbUrl = None,
) -> None:
    """Import a catalogue file. Any bad row → nothing is imported and every problem is listed by row."""
    from yidi.catalog.service import CatalogImportRefused, import_catalog

    db = database(database_url)
    try:
        with db.unit_of_work() as session:
            report = import_catalog(session, region, file.name, file.read_bytes(), actor=actor, now=clock.now())
    except CatalogImportRefused as exc:
        for e in exc.errors[:200]:
            typer.echo(str(e), err=True)
        if len(exc.errors) > 200:
            typer.echo(f"… and {len(exc.errors) - 200} more", err=True)
        fail(exc)
        return
    except YidiError as exc:
        fail(exc)
        return
    typer.echo(json.dumps(report.__dict__))


@catalog_app.command("show")
def catalog_show(
    code: str,
    region: Annotated[str, typer.Option("--region")],
    date: Annotated[dt.datetime, typer.Option("--date", help="Fee date (YYYY-MM-DD)")],
    database_url: DbUrl = None,
) -> None:
    """Print the catalogue entry for CODE in force on --date."""
    from yidi.catalog.service import item_at

    with database(database_url).read_only() as session:
        item = item_at(session, region, code, date.date())
        if item is None:
            typer.echo(f"{code}: not in the {region} catalogue on {date.date()} (fully self-paid) / 不在目录内")
            raise typer.Exit(1)
        typer.echo(
            f"{item.med_list_codg} {item.med_list_name} chrgitm_lv={item.chrgitm_lv} "
            f"selfpay_prop={item.selfpay_prop} pric_uplmt_amt={item.pric_uplmt_amt} "
            f"valid {item.begndate}–{item.enddate or '…'} ({item.reference})"
        )


@filing_app.command("expire")
def filing_expire(
    date: Annotated[dt.datetime | None, typer.Option("--date", help="As of this day (default: today)")] = None,
    database_url: DbUrl = None,
) -> None:
    """Mark ended filings expired and cancel undertakings whose proof is overdue where the region says so.

    Run it daily (cron or a scheduler); coverage decisions are correct without it, it keeps statuses current.
    """
    from yidi.core.principal import SYSTEM
    from yidi.filing.service import expire

    now = clock.now()
    with database(database_url).unit_of_work() as session:
        counts = expire(session, SYSTEM, date.date() if date else now.date(), now)
    typer.echo(json.dumps(counts))


def _refuse(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


@cred_app.command("add")
def credential_add(
    fixmedins_code: Annotated[str, typer.Argument(help="The institution (H… hospital, P… pharmacy)")],
    scheme: Annotated[
        str, typer.Option(help="national (x-tif SHA-256, as the national gateway), HMAC-SHA256, HMAC-SM3 or SM2-SM3")
    ] = "national",
    key_id: Annotated[str | None, typer.Option(help="The paasid / key id (default: <code>-<random>)")] = None,
    key_material_stdin: Annotated[
        bool, typer.Option("--key-material-stdin", help="Read the token or key (SM2: the public key) from stdin")
    ] = False,
    database_url: DbUrl = None,
) -> None:
    """Issue a credential. Without --key-material-stdin a random token is generated and printed once: give it
    to the institution over a secure channel; the platform keeps it encrypted."""
    import secrets

    from yidi.reference.models import Institution
    from yidi.security.service import add_credential
    from yidi.security.signing import Scheme

    try:
        chosen = Scheme(scheme)
    except ValueError:
        _refuse(f"--scheme must be one of {', '.join(s.value for s in Scheme)} / 签名方式无效")
    if chosen is Scheme.SM2_SM3 and not key_material_stdin:
        _refuse("SM2-SM3 needs the institution's public key on stdin (--key-material-stdin) / 须提供SM2公钥")
    material = sys.stdin.readline().strip() if key_material_stdin else secrets.token_hex(24)
    key_id = key_id or f"{fixmedins_code}-{secrets.token_hex(4)}"
    now = clock.now()
    with database(database_url).unit_of_work() as session:
        if session.get(Institution, fixmedins_code) is None:
            _refuse(f"unknown institution {fixmedins_code} / 机构不存在")
        try:
            add_credential(session, fixmedins_code, key_id, chosen, material, now)
        except YidiError as exc:
            fail(exc)
    answer = {"key_id": key_id, "fixmedins_code": fixmedins_code, "scheme": chosen.value}
    typer.echo(json.dumps(answer | ({} if key_material_stdin else {"token": material}), ensure_ascii=False))


@cred_app.command("list")
def credential_list(
    fixmedins_code: Annotated[str | None, typer.Argument(help="Only this institution's")] = None,
    database_url: DbUrl = None,
) -> None:
    """Key ids, schemes and states (never the secrets)."""
    from sqlalchemy import select

    from yidi.reference.models import Institution
    from yidi.security.models import InstitutionCredential as Credential

    stmt = select(Credential).order_by(Credential.fixmedins_code, Credential.key_id)
    if fixmedins_code:
        stmt = stmt.where(Credential.fixmedins_code == fixmedins_code)
    with database(database_url).read_only() as session:
        if fixmedins_code and session.get(Institution, fixmedins_code) is None:
            _refuse(f"unknown institution {fixmedins_code} / 机构不存在")
        for c in session.scalars(stmt):
            row = {"key_id": c.key_id, "fixmedins_code": c.fixmedins_code, "scheme": c.scheme, "active": c.active}
            typer.echo(json.dumps(row, ensure_ascii=False))


@cred_app.command("revoke")
def credential_revoke(key_id: Annotated[str, typer.Argument()], database_url: DbUrl = None) -> None:
    """Refuse the credential's signatures from the next call on (kept, inactive, for the audit trail)."""
    from yidi.security.service import revoke_credential

    with database(database_url).unit_of_work() as session:
        try:
            revoke_credential(session, key_id, clock.now())
        except YidiError as exc:
            fail(exc)
    typer.echo(json.dumps({"key_id": key_id, "active": False}))


@app.command("his-demo")
def his_demo(url: Annotated[str, typer.Option(help="Platform base URL")] = "http://127.0.0.1:8000") -> None:
    """Play a hospital's HIS against a running platform (demo data), printing each request and answer."""
    from yidi.gateway.client import GatewayError
    from yidi.gateway.his_demo import run

    try:
        run(url, typer.echo)
    except GatewayError as exc:
        typer.echo(f"HIS demo stopped: {exc}", err=True)
        raise typer.Exit(1) from exc


def main() -> None:
    try:
        app()
    except YidiError as exc:  # a last resort so no traceback reaches the user for an expected error
        typer.echo(f"错误 {exc.code}: {exc.message_zh}\nerror {exc.code}: {exc.message_en}", err=True)
        sys.exit(2)
