"""The `itb-audit` command line. Each command is a thin shell over a module below it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

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
    Optional[Path], typer.Option("--config", help="Settings TOML (default: itb-audit.toml).")
]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form")


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="Output folder (csv/parquet) or .xlsx file.")],
    patients: Annotated[int, typer.Option(help="Number of patients.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same extract.")] = 1,
    as_of: Annotated[str, typer.Option("--as-of", help="Extract date, YYYY-MM-DD.")] = "2026-11-01",
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or xlsx.")] = "csv",
) -> None:
    """Write a synthetic clinic extract that follows the data contract."""
    from pipelines.generate import generate_extract

    if fmt not in ("csv", "parquet", "xlsx"):
        raise typer.BadParameter("--format must be csv, parquet or xlsx")
    counts = generate_extract(out, patients=patients, seed=seed, as_of=_date(as_of), fmt=fmt)
    for table, n in counts.items():
        typer.echo(f"{table}: {n} rows")


@app.command()
def kpis(
    db: DbOption,
    start: Annotated[str, typer.Option("--start", help="First day of the period, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last day of the period (and as-of date).")],
    site: Annotated[Optional[str], typer.Option("--site", help="One site (default: all).")] = None,
    condition: Annotated[
        Optional[str],
        typer.Option("--condition", help="Only patients with this primary_condition (default: all)."),
    ] = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON object only.")] = False,
) -> None:
    """Compute every figure of the KPI spec for a period (read-only on the warehouse)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from pipelines.config import load_settings
    from pipelines.kpis import compute_kpis

    start_date, end_date = _date(start), _date(end)
    if start_date > end_date:
        raise typer.BadParameter(f"--start {start_date} is after --end {end_date}")
    if not db.is_file():
        raise typer.BadParameter(f"warehouse file not found: {db}", param_hint="--db")
    try:
        settings = load_settings(config)
    except FileNotFoundError as e:
        raise typer.BadParameter(str(e), param_hint="--config")
    figures = compute_kpis(db, start_date, end_date, site=site, settings=settings,
                           condition=condition)
    if as_json:
        typer.echo(json.dumps(figures))
        return

    def rows(prefix: str, value: object):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from rows(f"{prefix}.{key}" if prefix else key, item)
        else:
            yield prefix, "—" if value is None else str(value)

    table = Table(title=f"ITB Audit KPIs {start_date}..{end_date}, site: {site or 'all'}, "
                        f"condition: {condition or 'all'}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows("", {k: v for k, v in figures.items() if k != "period"}):
        table.add_row(name, value)
    Console().print(table)


@app.command()
def load(
    extract: Annotated[Path, typer.Argument(help="Extract: a folder of CSV or Parquet files, or an .xlsx workbook.")],
    db: DbOption,
    site: Annotated[str, typer.Option(help="Site whose snapshot the extract replaces.")] = "main",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Extract date, YYYY-MM-DD (default: today).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the load summary as JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Validate an extract and replace the site's data with it, all at once or not at all.

    Exit code 2 when the extract is refused (nothing is changed)."""
    import json

    from rich.console import Console

    from pipelines.config import load_settings
    from pipelines.extract_reader import LoadRefused
    from pipelines.load import load_extract

    err = Console(stderr=True)
    try:
        settings = load_settings(config)
        as_of_date = _date(as_of) if as_of else None
        if json_out:
            result = load_extract(extract, db, site=site, as_of=as_of_date, settings=settings)
        else:
            with err.status(f"Loading {extract} into site {site!r}: reading, validating, writing…"):
                result = load_extract(extract, db, site=site, as_of=as_of_date, settings=settings)
    except LoadRefused as refusal:
        typer.echo(f"load refused: {refusal}", err=True)
        raise typer.Exit(2)
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
