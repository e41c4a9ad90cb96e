"""The `itb-audit` command line. Each command is a thin shell over a module below it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="itb-audit",
    help="ITB Audit: load a clinic extract, check it, and report the service's figures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB warehouse file.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Settings TOML (default: itb-audit.toml).")
]
StartOption = Annotated[str, typer.Option("--start", help="First day of the period, YYYY-MM-DD.")]
EndOption = Annotated[str, typer.Option("--end", help="Last day of the period (and as-of date).")]
SiteOption = Annotated[str | None, typer.Option("--site", help="One site (default: all).")]
UsersFileOption = Annotated[
    Path | None,
    typer.Option(
        "--users-file",
        help="Users file (default: ITB_AUDIT_USERS, else the config's "
        "[access] users_file, else warehouse/users.json).",
    ),
]
ConditionOption = Annotated[
    str | None,
    typer.Option("--condition", help="Only patients with this primary_condition (default: all)."),
]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


def _period_on_warehouse(db: Path, start: str, end: str, config: Path | None):
    """The checked period, warehouse and settings of a command that reads figures."""
    from pipelines.config import load_settings

    start_date, end_date = _date(start), _date(end)
    if start_date > end_date:
        raise typer.BadParameter(f"--start {start_date} is after --end {end_date}")
    if not db.is_file():
        raise typer.BadParameter(f"warehouse file not found: {db}", param_hint="--db")
    try:
        return start_date, end_date, load_settings(config)
    except (FileNotFoundError, ValueError) as e:  # a missing file, or a setting it cannot take
        raise typer.BadParameter(str(e), param_hint="--config") from e


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="Output folder (csv/parquet) or .xlsx file.")],
    patients: Annotated[int, typer.Option(help="Number of patients.")] = 200,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same extract.")
    ] = 1,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of", help="Extract date, YYYY-MM-DD (with --evolve: the date FROM is as of)."
        ),
    ] = "2026-11-01",
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or xlsx.")] = "csv",
    evolve: Annotated[
        Path | None,
        typer.Option(
            "--evolve",
            metavar="FROM_EXTRACT",
            help="Write the extract a month after FROM_EXTRACT (a generated CSV or Parquet "
            "folder as of --as-of), in its format: the month's new rows, a few corrections and "
            "deletions; every other row unchanged. --patients and --format are not used.",
        ),
    ] = None,
) -> None:
    """Write a synthetic clinic extract that follows the data contract."""
    from pipelines.synthetic.generate import generate_extract

    if evolve is not None:
        _evolve(evolve, out, seed, _date(as_of))
        return
    if fmt not in ("csv", "parquet", "xlsx"):
        raise typer.BadParameter("--format must be csv, parquet or xlsx")
    counts = generate_extract(out, patients=patients, seed=seed, as_of=_date(as_of), fmt=fmt)
    for table, n in counts.items():
        typer.echo(f"{table}: {n} rows")


def _evolve(source: Path, out: Path, seed: int, as_of: dt.date) -> None:
    from pipelines.synthetic.evolve import evolve_extract

    try:
        evolution = evolve_extract(source, out, seed=seed, as_of=as_of)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--evolve") from None
    typer.echo(f"as of {evolution.as_of}")
    for table, before in evolution.rows_before.items():
        typer.echo(
            f"{table}: {before} rows before, {evolution.new[table]} new, "
            f"{evolution.changed[table]} changed, {evolution.deleted[table]} deleted"
        )
    typer.echo(f"new or changed: {evolution.share:.2%} of the earlier extract's rows")


@app.command()
def kpis(
    db: DbOption,
    start: StartOption,
    end: EndOption,
    site: SiteOption = None,
    condition: ConditionOption = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON object only.")] = False,
    suppressed: Annotated[
        bool,
        typer.Option(
            "--suppressed",
            help="Small numbers suppressed, as a commissioner sees them "
            "([disclosure] settings, docs/access.md).",
        ),
    ] = False,
) -> None:
    """Compute every figure of the KPI spec for a period (read-only on the warehouse)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from pipelines.figures.disclosure import Disclosure, suppress_kpis
    from pipelines.figures.kpis import compute_kpis

    start_date, end_date, settings = _period_on_warehouse(db, start, end, config)
    try:
        figures = compute_kpis(
            db, start_date, end_date, site=site, settings=settings, condition=condition
        )
    except ValueError as e:  # a standard of the config that names no figure
        raise typer.BadParameter(str(e), param_hint="--config") from None
    if suppressed:
        figures = suppress_kpis(figures, Disclosure.from_settings(settings))
    if as_json:
        typer.echo(json.dumps(figures))
        return

    def rows(prefix: str, value: object):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from rows(f"{prefix}.{key}" if prefix else key, item)
        else:
            yield prefix, "—" if value is None else str(value)

    table = Table(
        title=f"ITB Audit KPIs {start_date}..{end_date}, site: {site or 'all'}, "
        f"condition: {condition or 'all'}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows("", {k: v for k, v in figures.items() if k != "period"}):
        table.add_row(name, value)
    Console().print(table)


@app.command()
def report(
    db: DbOption,
    start: StartOption,
    end: EndOption,
    out: Annotated[Path, typer.Option("--out", help="Output file: .html, .pdf or .xlsx.")],
    site: SiteOption = None,
    condition: ConditionOption = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            help="Whose pack: clinician (local ids), governance (pseudonymous ids, the "
            "default) or commissioner (aggregates, small numbers suppressed).",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Whose pack: a user of the users file, with that user's role and sites "
            "(instead of --role; without it, the operator's pack of any site).",
        ),
    ] = None,
    users_file: UsersFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the audit pack for a period as HTML, PDF or XLSX (from --out's extension).

    Every figure with its interval and definition, the standards, the dashboard's charts, and
    the action lists the role may see. Exit code 2 when the pack cannot be made (bad
    arguments, no chromium for a PDF, an unusable pseudonym key for a governance pack, or a
    site the --user may not see)."""
    from pipelines.access.roles import Forbidden, Role
    from pipelines.access.sites import NETWORK
    from pipelines.load.pseudonym import KeyUnusable
    from pipelines.report import ChromiumMissing, Request, format_of, report_bytes, report_roles

    start_date, end_date, settings = _period_on_warehouse(db, start, end, config)
    sites = NETWORK
    if user is not None:
        if role is not None:
            raise typer.BadParameter("--user takes the user's own role: leave out --role")
        found = {u.username: u for u in _user_store(users_file, config).list()}.get(user)
        if found is None:
            raise typer.BadParameter(f"no user {user!r} in the users file", param_hint="--user")
        role, sites = found.role.value, found.sites
    role = role or Role.GOVERNANCE.value
    roles = [r.value for r in report_roles()]
    if role not in roles:
        raise typer.BadParameter(f"{role!r} is not one of {', '.join(roles)}", param_hint="--role")
    try:
        fmt = format_of(out)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--out") from e
    request = Request(db, start_date, end_date, site, condition, Role(role), settings, sites)
    try:
        content = report_bytes(request, fmt)
    except (ChromiumMissing, KeyUnusable, Forbidden) as e:
        typer.echo(f"report not written: {e}", err=True)
        raise typer.Exit(2) from e
    except ValueError as e:  # a standard of the config that names no figure
        raise typer.BadParameter(str(e), param_hint="--config") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    typer.echo(f"{out}: {role} pack, {start_date} to {end_date}, {len(content):,} bytes")


@app.command()
def load(
    extract: Annotated[
        Path,
        typer.Argument(help="Extract: a folder of CSV or Parquet files, or an .xlsx workbook."),
    ],
    db: DbOption,
    site: Annotated[str, typer.Option(help="Site whose snapshot the extract replaces.")] = "main",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Extract date, YYYY-MM-DD (default: today).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the load summary as JSON.")
    ] = False,
    full_validation: Annotated[
        bool,
        typer.Option(
            "--full-validation",
            help="Send every row through Great Expectations, not only new or changed ones.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Validate an extract and replace the site's data with it, all at once or not at all.

    Exit code 2 when the extract is refused, or the pseudonym key is unusable (nothing is
    changed)."""
    import json

    from rich.console import Console

    from pipelines.config import load_settings
    from pipelines.load.pseudonym import KeyUnusable
    from pipelines.load.read import LoadRefused
    from pipelines.load.snapshot import load_extract

    err = Console(stderr=True)
    try:
        settings = load_settings(config)
        as_of_date = _date(as_of) if as_of else None

        def run():
            return load_extract(
                extract,
                db,
                site=site,
                as_of=as_of_date,
                settings=settings,
                incremental=not full_validation,
            )

        if json_out:
            result = run()
        else:
            with err.status(f"Loading {extract} into site {site!r}: reading, validating, writing…"):
                result = run()
    except (LoadRefused, KeyUnusable) as refusal:
        typer.echo(f"load refused: {refusal}", err=True)
        raise typer.Exit(2) from refusal
    if json_out:
        typer.echo(json.dumps(result.to_json()))
        return
    _print_load_summary(result)


def _print_load_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Load {result.load_id}: site {result.site}, as of {result.as_of}")
    for heading in ("table", "read", "accepted", "quarantined"):
        table.add_column(heading, justify="left" if heading == "table" else "right")
    for name, c in result.tables.items():
        table.add_row(name, str(c.rows_read), str(c.rows_accepted), str(c.rows_quarantined))
    console = Console()
    console.print(table)
    for name, columns in result.ignored_columns.items():
        console.print(f"ignored columns in {name}: {', '.join(columns)}", markup=False)
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
    console.print(f"timings: {timings}")


users_app = typer.Typer(
    help="Who may sign in to the dashboard (the users file; docs/access.md).", no_args_is_help=True
)
app.add_typer(users_app, name="users")
GenerateOption = Annotated[
    bool,
    typer.Option(
        "--generate", help="Generate a password and print it once, instead of asking for one."
    ),
]


def _user_store(users_file: Path | None, config: Path | None):
    from pipelines.access.users import UserStore, store
    from pipelines.config import load_settings

    try:
        settings = load_settings(config)
    except FileNotFoundError as e:
        raise typer.BadParameter(str(e), param_hint="--config") from e
    found = store(settings)
    return UserStore(users_file, found.lockout) if users_file else found


def _new_password(username: str, generate: bool) -> str:
    from pipelines.access.users import generate_password

    if generate:
        password = generate_password()
        typer.echo(f"{username}: {password}  (shown once)")
        return password
    return typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


def _users_call(action) -> None:
    from pipelines.access.users import UserError

    try:
        action()
    except UserError as e:
        typer.echo(f"users: {e}", err=True)
        raise typer.Exit(2) from e


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="User name (a-z, 0-9, . _ - @).")],
    role: Annotated[
        str,
        typer.Option("--role", help="clinician, governance, commissioner, data_manager or admin."),
    ],
    generate: GenerateOption = False,
    sites: Annotated[
        str | None,
        typer.Option(
            "--sites",
            help="The user's sites, comma-separated (a network of Trusts); 'network' or no "
            "--sites: every site.",
        ),
    ] = None,
    users_file: UsersFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Add a user with a role and sites; the password is asked for (or generated) and only its
    hash kept."""
    from pipelines.access.roles import Role
    from pipelines.access.sites import NETWORK, describe, parse_sites

    if role not in {r.value for r in Role}:
        raise typer.BadParameter(f"{role!r} is not a role", param_hint="--role")
    try:
        scope = NETWORK if sites is None else parse_sites([sites])
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--sites") from None
    store = _user_store(users_file, config)
    _users_call(lambda: store.add(username, Role(role), _new_password(username, generate), scope))
    typer.echo(f"added {username} ({role}, sites: {describe(scope)}) to {store.path}")


@users_app.command("remove")
def users_remove(
    username: str, users_file: UsersFileOption = None, config: ConfigOption = None
) -> None:
    """Remove a user."""
    store = _user_store(users_file, config)
    _users_call(lambda: store.remove(username))
    typer.echo(f"removed {username} from {store.path}")


@users_app.command("set-password")
def users_set_password(
    username: str,
    generate: GenerateOption = False,
    users_file: UsersFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Set a new password for a user (this also lifts a lock)."""
    store = _user_store(users_file, config)
    _users_call(lambda: store.set_password(username, _new_password(username, generate)))
    typer.echo(f"new password set for {username}")


@users_app.command("list")
def users_list(users_file: UsersFileOption = None, config: ConfigOption = None) -> None:
    """List the users, their roles, sites and any lock."""
    import datetime as dt

    from pipelines.access.sites import describe

    for user in _user_store(users_file, config).list():
        lock = (
            f"  locked until {dt.datetime.fromtimestamp(user.locked_until):%Y-%m-%d %H:%M}"
            if user.locked_until
            else ""
        )
        typer.echo(f"{user.username}\t{user.role.value}\t{describe(user.sites)}{lock}")


@users_app.command("demo")
def users_demo(users_file: UsersFileOption = None, config: ConfigOption = None) -> None:
    """Create one demo user per role with generated passwords, printed once; when the users
    file already exists nothing changes (the passwords were printed when it was made)."""
    from pipelines.access.users import create_demo_users

    store = _user_store(users_file, config)
    created = create_demo_users(store)
    if created is None:
        typer.echo(
            f"Demo sign-in: the users in {store.path} (their passwords were printed when "
            "it was made; `itb-audit users set-password NAME --generate` sets a new one)."
        )
        return
    typer.echo(f"Demo users (in {store.path}); the passwords are shown this once:")
    for role, (username, password) in created.items():
        typer.echo(f"  {role.value}: {username} / {password}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
