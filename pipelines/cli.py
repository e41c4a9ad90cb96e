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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
