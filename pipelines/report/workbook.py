"""The audit pack as an XLSX workbook (for commissioners above all): an About sheet, one sheet of
figures per section with their intervals, the standards, each table the pack shows, the
definitions and the abbreviations. Written by pipelines.show.exports (safe against formula
injection; dates as dates, columns as wide as their text).

Numeric columns hold only numbers: a figure's `value` (and its interval) is the number of
`kpis --json` in the format of its unit (a proportion in a percent format, whole days as
integers), and blank where the figure is suppressed, undefined or a note; `shown` beside it is
the figure as the pack prints it ("*", "—", "76.5%"), so a suppressed cell is never a "*" inside
a column of numbers. A table's column of counts with a "*" is split the same way (numeric)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from pipelines.figures.disclosure import SUPPRESSED
from pipelines.report.formatting import GLOSSARY, cell
from pipelines.report.model import (
    Definitions,
    FigureTable,
    GroupTable,
    Measure,
    Report,
    Standards,
    Table,
    Value,
)
from pipelines.show.definitions import NAME_UNITS
from pipelines.show.display import is_number
from pipelines.show.exports import xlsx_bytes

FIGURE_COLUMNS = ["figure", "label", "group", "value", "95% CI low", "95% CI high", "unit", "shown"]
STANDARD_COLUMNS = [
    "standard",
    "figure",
    "value",
    "95% CI low",
    "95% CI high",
    "unit",
    "shown",
    "target",
    "status",
    "judgement",
]
NUMBER_COLUMNS = ("value", "95% CI low", "95% CI high")
# Excel number formats by unit of pipelines/show/definitions.py (days: by value, below).
NUMBER_FORMATS = {
    "percent": "0.0%",
    "count": "#,##0",
    "per_100_pump_years": "#,##0.0",
    "pump_years": "#,##0.0",
    "change": "+0.00;-0.00;0.00",
    "mean": "0.00",
    "points": "+0.0%;-0.0%;0.0%",  # a difference of two proportions
    "ratio": "0.00",  # a ratio of two rates
}
SUPPRESSION = (
    "A figure that is suppressed (*), undefined (—) or a note has no number in the "
    "value column: the column `shown` gives it as the pack prints it."
)


def workbook_bytes(report: Report) -> bytes:
    sheets = {"About": about(report)}
    units: dict[str, list[str]] = {}  # the unit of each row of a figure or standards sheet
    row_units: dict[str, dict[str, list[str]]] = {}  # a table's columns whose unit is by row
    for section in report.sections:
        rows = figure_rows(section.blocks)
        if rows:
            name = section.title[:31]
            sheets[name] = pd.DataFrame([row for row, _ in rows], columns=FIGURE_COLUMNS)
            units[name] = [unit for _, unit in rows]
        for block in section.blocks:
            if isinstance(block, Standards):
                sheets["Standards"] = standards(block)
                units["Standards"] = [row.measure.value.unit for row in block.rows]
            elif isinstance(block, Table) and block.sheet:
                sheets[block.sheet] = (
                    numeric(block.frame) if block.workbook is None else block.workbook
                )
                if block.units:
                    row_units[block.sheet] = block.units
            elif isinstance(block, Definitions):
                sheets["Definitions"] = pd.DataFrame(
                    block.items, columns=["label", "figure", "definition"]
                )
    sheets["Abbreviations"] = pd.DataFrame(
        list(GLOSSARY.items()), columns=["abbreviation", "meaning"]
    )

    def number_format(sheet: str, column: str, row: int, value: Any) -> str | None:
        if sheet in units:
            unit = units[sheet][row] if column in NUMBER_COLUMNS else None
        elif column in row_units.get(sheet, {}):
            unit = row_units[sheet][column][row]
        else:  # a table: by the column's name, as the pack writes it
            unit = NAME_UNITS.get(re.sub(r"_ci_(low|high)$", "", column))
        if unit == "days" or (unit is None and sheet not in units):
            # whole numbers (days, doses, counts read as decimals) as integers, as the pack
            return "#,##0" if float(value).is_integer() else None
        return NUMBER_FORMATS.get(unit) if unit else None

    return xlsx_bytes(sheets, number_format)


def numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with each column of numbers and suppressed cells ("*") split in two: the numbers
    (blank where suppressed), and `<column> shown` beside it as the pack prints each cell."""
    out = frame.copy()
    for column in frame.columns:
        values = frame[column].astype(object)
        starred = values == SUPPRESSED
        if starred.any() and values[~starred].map(lambda v: v is None or is_number(v)).all():
            out[column] = values.where(~starred, None)
            at = out.columns.get_loc(column) + 1
            out.insert(at, f"{column} shown", [cell(v, column) for v in values])
    return out


def about(report: Report) -> pd.DataFrame:
    rows = [
        ("Pack", report.title),
        ("Period", f"{report.start} to {report.end}"),
        ("Scope", report.scope),
        ("Figures as at", report.end),
        ("Role", report.role),
        ("Computed from", report.loads),
        ("Generated", report.generated),
    ]
    rows += [("Note", line) for line in [*report.about, SUPPRESSION]]
    return pd.DataFrame(rows, columns=["item", "value"])


def figure_rows(blocks: list) -> list[tuple[list, str]]:
    """Every kpis figure of a section, one per row: its path, label, group, value, interval,
    unit and text; with its unit."""
    rows = []
    for block in blocks:
        if isinstance(block, FigureTable):
            rows += [_row(m, text, block.title or "") for text, m in block.rows]
        elif isinstance(block, GroupTable):
            rows += [
                _row(m, column, group)
                for group, measures in block.rows
                for column, m in zip(block.columns, measures, strict=True)
            ]
    return rows


def number(value: Value | None) -> float | int | None:
    """A figure as a number for a numeric column; None where it is not one ("*", a note)."""
    return value.raw if value is not None and is_number(value.raw) else None


def _row(m: Measure, text: str, group: str) -> tuple[list, str]:
    return (
        [
            m.value.key,
            text,
            group,
            number(m.value),
            number(m.low),
            number(m.high),
            m.value.unit_name,
            m.value.text,
        ],
        m.value.unit,
    )


def standards(block: Standards) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                row.label,
                row.figure.raw,
                number(row.measure.value),
                number(row.measure.low),
                number(row.measure.high),
                row.measure.value.unit_name,
                row.measure.value.text,
                f"{row.direction_words} {row.target.text}",
                row.status.raw,
                row.verdict,
            ]
            for row in block.rows
        ],
        columns=STANDARD_COLUMNS,
    )
