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

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="ITB_AUDIT_DB",
        show_envvar=True,
        help="Warehouse: a DuckDB file, or a lake "
        "ducklake+postgresql://USER@HOST:PORT/DBNAME?data_path=PATH (password from PGPASSWORD "
        "or PGPASSFILE, docs/deploy.md). Default: the ITB_AUDIT_DB environment variable.",
    ),
]
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
AsLoadedOption = Annotated[
    str | None,
    typer.Option(
        "--as-loaded",
        help="Compute on the data as it stood after this load (a load id; other sites at "
        "their latest load before it) or on this day (YYYY-MM-DD: each site's last load that "
        "finished by its end). Default: the current data.",
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


def _period_on_warehouse(db: str, start: str, end: str, config: Path | None):
    """The checked period, warehouse and settings of a command that reads figures."""
    from pipelines import warehouse
    from pipelines.config import load_settings
    from pipelines.lake import LakeError

    start_date, end_date = _date(start), _date(end)
    if start_date > end_date:
        raise typer.BadParameter(f"--start {start_date} is after --end {end_date}")
    try:
        if warehouse.lake_address(db) is None:
            if not Path(db).is_file():
                raise typer.BadParameter(f"warehouse file not found: {db}", param_hint="--db")
        elif warehouse.snapshot_stamp(db) is None:
            raise typer.BadParameter(
                f"nothing loaded in {warehouse.describe(db)} yet", param_hint="--db"
            )
    except LakeError as e:  # one line naming host, port and database, never the password
        raise typer.BadParameter(str(e), param_hint="--db") from None
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
    as_loaded: AsLoadedOption = None,
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
    from pipelines.warehouse import AsLoadedError

    start_date, end_date, settings = _period_on_warehouse(db, start, end, config)
    try:
        figures = compute_kpis(
            db,
            start_date,
            end_date,
            site=site,
            settings=settings,
            condition=condition,
            as_loaded=as_loaded,
        )
    except AsLoadedError as e:
        typer.echo(f"kpis: {e}", err=True)
        raise typer.Exit(2) from None
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
            "(instead of --role; without it, the operator's pack of any site). Without --site: "
            "every site for a network or governance user, else all of the user's own sites.",
        ),
    ] = None,
    users_file: UsersFileOption = None,
    config: ConfigOption = None,
    as_loaded: AsLoadedOption = None,
) -> None:
    """Write the audit pack for a period as HTML, PDF or XLSX (from --out's extension).

    Every figure with its interval and definition, the standards, the dashboard's charts, and
    the action lists the role may see. Exit code 2 when the pack cannot be made (bad
    arguments, no chromium for a PDF, an unusable pseudonym key for a governance pack, or a
    site the --user may not see)."""
    from pipelines.access.roles import Forbidden, Role
    from pipelines.access.sites import NETWORK, own_figures
    from pipelines.load.pseudonym import KeyUnusable
    from pipelines.report import ChromiumMissing, Request, format_of, report_bytes, report_roles
    from pipelines.warehouse import AsLoadedError

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
    # no --site: the figures the user sees when naming none (every site, or all of theirs)
    scope = own_figures(Role(role), sites) if site is None else site
    request = Request(
        db, start_date, end_date, scope, condition, Role(role), settings, sites, as_loaded
    )
    try:
        content = report_bytes(request, fmt)
    except (ChromiumMissing, KeyUnusable, Forbidden, AsLoadedError) as e:
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
    from pipelines.lake import LakeError
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
    except (LoadRefused, KeyUnusable, LakeError) as refusal:
        # a LakeError names the catalog's host, port and database, never the password
        typer.echo(f"load refused: {refusal}", err=True)
        raise typer.Exit(2) from refusal
    if json_out:
        typer.echo(json.dumps(result.to_json()))
        return
    _print_load_summary(result)


@app.command()
def maintain(
    db: DbOption,
    keep_snapshots_days: Annotated[
        int,
        typer.Option(
            "--keep-snapshots-days",
            min=0,
            help="A lake's snapshots younger than this stay readable with AT (VERSION => n); "
            "--as-loaded needs none of them (it reads the kept history).",
        ),
    ] = 30,
) -> None:
    """Keep the warehouse compact (docs/deploy.md, Maintenance). A lake, under the lock loads
    take: inlined rows written out, small files merged, old snapshots expired, unused and orphan
    files deleted. A file: written afresh. Safe while the dashboard reads it."""
    from pipelines import warehouse
    from pipelines.lake import LakeError

    try:
        if warehouse.lake_address(db) is None and not Path(db).is_file():
            raise typer.BadParameter(f"warehouse file not found: {db}", param_hint="--db")
        done = warehouse.maintain(db, keep_snapshots_days)
    except LakeError as e:  # one line naming host, port and database, never the password
        typer.echo(f"not maintained: {e}", err=True)
        raise typer.Exit(2) from e
    summary = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in done.items())
    typer.echo(f"maintained {warehouse.describe(db)}: {summary}")


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


audit_app = typer.Typer(
    help="Audits recorded: what was presented, and from which loads (docs/audit-cycle.md).",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")
action_app = typer.Typer(
    help="The actions agreed at an audit (docs/audit-cycle.md).", no_args_is_help=True
)
app.add_typer(action_app, name="action")
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who records it, for the record and the access log (default: you)."),
]


def _editor(by: str | None, settings):
    """The command line's editor: trusted as a load is, by the right to write the warehouse."""
    import getpass

    from pipelines.governance.records import Editor

    return Editor(by or getpass.getuser(), None, settings.access.access_log, page="cli")


def _governance_call(action, refused: str = "not recorded"):
    """Run a governance change (or read); its refusal is one line and exit code 2."""
    from pipelines.governance.records import GovernanceError
    from pipelines.load.pseudonym import KeyUnusable

    try:
        return action()
    except (GovernanceError, KeyUnusable) as e:
        typer.echo(f"{refused}: {e}", err=True)
        raise typer.Exit(2) from e


@audit_app.command("record")
def audit_record(
    db: DbOption,
    start: StartOption,
    end: EndOption,
    site: SiteOption = None,
    note: Annotated[str | None, typer.Option("--note", help="What the audit was for.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the governance pack whose SHA-256 is recorded."),
    ] = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Record an audit of a period: its figures, the loads and settings they come from, and the
    SHA-256 of the governance pack (HTML) made now. The next pack compares against it."""
    import hashlib

    from pipelines.report import Request
    from pipelines.report.audits import record_audit

    start_date, end_date, settings = _period_on_warehouse(db, start, end, config)
    request = Request(db, start_date, end_date, site, None, settings=settings)
    audit_id, pack = _governance_call(lambda: record_audit(request, _editor(by, settings), note))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pack)
    typer.echo(
        f"audit {audit_id} recorded: {start_date} to {end_date}, site {site or 'all'}, "
        f"pack SHA-256 {hashlib.sha256(pack).hexdigest()}"
        + (f", pack written to {out}" if out else "")
    )


def _read_governance(db: str, read):
    from pipelines.governance.records import open_readonly

    def opened():
        with open_readonly(db) as con:
            return read(con)

    return _governance_call(opened, "not read")


@audit_app.command("list")
def audit_list(db: DbOption) -> None:
    """The audits recorded, newest first."""
    import json

    from pipelines.governance.records import audits

    for row in _read_governance(db, audits).itertuples():
        loads = ", ".join(f"{s}:{n}" for s, n in json.loads(row.loads).items())
        typer.echo(
            f"{row.audit_id}\t{row.period_start:%Y-%m-%d}..{row.period_end:%Y-%m-%d}\t"
            f"site {row.site if isinstance(row.site, str) else 'all'}\tloads {loads}\t"
            f"{row.recorded_at:%Y-%m-%d %H:%M} {row.recorded_by}\t{row.pack_sha256}"
        )


StatusOption = Annotated[
    str | None, typer.Option("--status", help="open, in progress, done or dropped.")
]
NotesOption = Annotated[str | None, typer.Option("--notes", help="Notes (no patient details).")]


@action_app.command("add")
def action_add(
    db: DbOption,
    what: Annotated[str, typer.Option("--what", help="What will be done.")],
    owner: Annotated[str, typer.Option("--owner", help="Who is responsible.")],
    due: Annotated[str, typer.Option("--due", help="Due date, YYYY-MM-DD.")],
    standard: Annotated[
        str | None, typer.Option("--standard", help="The standard it answers (its name).")
    ] = None,
    finding: Annotated[
        str | None, typer.Option("--finding", help="Or the finding it answers, in words.")
    ] = None,
    audit: Annotated[
        int | None, typer.Option("--audit", help="The audit it belongs to (default: the last).")
    ] = None,
    status: StatusOption = None,
    notes: NotesOption = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Add an action against a standard or a finding of an audit."""
    from pipelines.governance.records import Action, add_action

    if (standard is None) == (finding is None):
        raise typer.BadParameter("give one of --standard NAME or --finding TEXT")
    settings = _settings(config)
    action = Action(
        "standard" if standard is not None else "finding",
        standard if standard is not None else finding or "",
        what,
        owner,
        _date(due),
        status or "open",
        notes,
    )
    action_id = _governance_call(
        lambda: add_action(db, _editor(by, settings), action, settings, audit)
    )
    typer.echo(f"action {action_id} added")


@action_app.command("update")
def action_update(
    db: DbOption,
    action_id: Annotated[int, typer.Argument(help="The action's number (action list).")],
    status: StatusOption = None,
    due: Annotated[str | None, typer.Option("--due", help="New due date, YYYY-MM-DD.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="New owner.")] = None,
    what: Annotated[str | None, typer.Option("--what", help="New wording.")] = None,
    notes: NotesOption = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Change an action's status, due date, owner, wording or notes."""
    from pipelines.governance.records import update_action

    changes = {
        name: value
        for name, value in (
            ("status", status),
            ("due_date", _date(due) if due else None),
            ("owner", owner),
            ("what", what),
            ("notes", notes),
        )
        if value is not None
    }
    if not changes:
        raise typer.BadParameter(
            "nothing to change: give --status, --due, --owner, --what or --notes"
        )
    settings = _settings(config)
    after = _governance_call(
        lambda: update_action(db, _editor(by, settings), action_id, settings, **changes)
    )
    typer.echo(f"action {action_id}: {after.status}, due {after.due_date}, owner {after.owner}")


@action_app.command("list")
def action_list(
    db: DbOption,
    audit: Annotated[
        int | None, typer.Option("--audit", help="Only this audit's actions (default: all).")
    ] = None,
) -> None:
    """The actions as they stand, overdue ones marked OVERDUE."""
    from pipelines.governance.records import action_of, actions

    today = dt.date.today()
    for row in _read_governance(db, lambda con: actions(con, audit)).itertuples(index=False):
        action = action_of(row._asdict())
        overdue = "\tOVERDUE" if action.overdue(today) else ""
        typer.echo(
            f"{row.action_id}\taudit {row.audit_id}\t{action.against_kind}: {action.against}\t"
            f"{action.what}\t{action.owner}\tdue {action.due_date}\t{action.status}{overdue}"
        )


def _settings(config: Path | None):
    from pipelines.config import load_settings

    try:
        return load_settings(config)
    except (FileNotFoundError, ValueError) as e:
        raise typer.BadParameter(str(e), param_hint="--config") from e


def main() -> None:
    app()


if __name__ == "__main__":
    main()
