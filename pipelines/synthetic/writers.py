"""Writing a simulated service as a clinic system would: all text, some UK dates, other
spellings of codes, mixed booleans (every one valid by the contract), as CSV, Parquet or an
.xlsx workbook with date and number cells."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from pipelines.contract import TABLES, Column, Table

UK_DATE_SHARE = 0.05
RESPELT_CODE_SHARE = 0.03
EXCEL_MAX_ROWS = 1_048_576


# --- Writing -------------------------------------------------------------------------------------


def _title_words(code: str) -> str:
    return " ".join(w.capitalize() for w in code.split("_"))  # Multiple Sclerosis


def _hyphen_words(code: str) -> str:
    return "-".join(w.capitalize() for w in code.split("_"))  # Spinal-Cord-Injury


def _padded(code: str) -> str:
    return f" {code} "


RESPELLINGS: tuple[Callable[[str], str], ...] = (_title_words, _hyphen_words, str.upper, _padded)
BOOLEAN_SPELLINGS = (
    ("yes", "no"),
    ("Y", "N"),
    ("true", "false"),
    ("1", "0"),
    ("Yes", "No"),
    ("TRUE", "FALSE"),
)


def as_text(frame: pl.DataFrame, table: Table, rng: np.random.Generator) -> pl.DataFrame:
    """The frame as a clinic system writes it: all text, in the spellings the contract allows."""
    return pl.DataFrame([_column_text(frame[c.name], c, rng) for c in table.columns])


def _column_text(values: pl.Series, column: Column, rng: np.random.Generator) -> pl.Series:
    if column.kind == "date":
        uk = pl.Series(rng.random(len(values)) < UK_DATE_SHARE)
        return values.dt.strftime("%Y-%m-%d").zip_with(~uk, values.dt.strftime("%d/%m/%Y"))
    if column.kind == "number":
        return values.cast(pl.String).str.replace(r"\.0$", "")
    if column.kind == "code":
        return _code_text(values, column, rng)
    if column.kind == "boolean":
        styles = rng.integers(len(BOOLEAN_SPELLINGS), size=len(values))
        texts = [
            None if v is None else BOOLEAN_SPELLINGS[s][0 if v else 1]
            for v, s in zip(values.to_list(), styles, strict=True)
        ]
        return pl.Series(column.name, texts, dtype=pl.String)
    return values


def _code_text(values: pl.Series, column: Column, rng: np.random.Generator) -> pl.Series:
    styles = list(RESPELLINGS)
    if column.aliases:  # sex: M, F, O, U
        short = {code: alias.upper() for alias, code in column.aliases.items()}
        styles.append(short.__getitem__)
    texts = values.to_list()
    chosen = rng.random(len(texts)) < RESPELT_CODE_SHARE
    style = rng.integers(len(styles), size=len(texts))
    for i in np.flatnonzero(chosen):
        if texts[i] is not None:
            texts[i] = styles[style[i]](texts[i])
    return pl.Series(column.name, texts, dtype=pl.String)


def _cell_values(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Text back to cell types for a workbook: dates as dates, numbers as numbers."""
    columns = []
    for c in table.columns:
        col = pl.col(c.name)
        if c.kind == "date":
            col = pl.coalesce(
                col.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
                col.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
            )
        elif c.kind == "number":
            col = col.cast(pl.Float64)
        columns.append(col.alias(c.name))
    return frame.select(columns)


def _write_csv(out: Path, frames: dict[str, pl.DataFrame], as_of: dt.date) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_csv(out / f"{name}.csv")


def _write_parquet(out: Path, frames: dict[str, pl.DataFrame], as_of: dt.date) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_parquet(out / f"{name}.parquet")


def _write_xlsx(out: Path, frames: dict[str, pl.DataFrame], as_of: dt.date) -> None:
    path = out if out.suffix.lower() == ".xlsx" else out / "extract.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if frame.height >= EXCEL_MAX_ROWS:
            raise ValueError(f"{name} has {frame.height} rows, more than an Excel sheet holds")
    options = {
        "constant_memory": True,
        "default_date_format": "yyyy-mm-dd",
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        # A fixed creation time keeps the workbook the same for the same arguments.
        book.set_properties({"created": dt.datetime.combine(as_of, dt.time())})
        for name, frame in frames.items():
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, frame.columns)
            for i, row in enumerate(_cell_values(frame, TABLES[name]).iter_rows(), start=1):
                sheet.write_row(i, 0, row)


WRITERS = {"csv": _write_csv, "parquet": _write_parquet, "xlsx": _write_xlsx}
