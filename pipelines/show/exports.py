"""CSV and XLSX exports that are safe to open in a spreadsheet.

A cell that starts with =, +, -, @, a tab or a carriage return can run as a formula when the
file is opened (CSV/formula injection, OWASP). Text cells like that are prefixed with a single
quote, which spreadsheets show as text; numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import numbers
from collections.abc import Callable
from typing import Any

import pandas as pd
import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    # Every text field quoted: a bare carriage return inside one would otherwise end the row.
    return safe_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


# Excel number formats: dates without a time of midnight, and a time only where there is one.
DATE_FORMAT, DATETIME_FORMAT = "d mmm yyyy", "d mmm yyyy hh:mm"
MIN_WIDTH, MAX_WIDTH = 8, 60  # column widths, in characters
NumberFormat = Callable[[str, str, int, Any], str | None]


def xlsx_bytes(sheets: dict[str, pd.DataFrame], number_format: NumberFormat | None = None) -> bytes:
    """A workbook with one sheet per frame (sheet names cut to Excel's 31 characters), the
    header row frozen, each column as wide as its text, dates as dates, and every number as a
    number in the format `number_format(sheet, column, row, value)` gives (General if None)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    formats: dict[str | None, Any] = {None: None}

    def style(spec: str | None) -> Any:
        if spec not in formats:
            formats[spec] = book.add_format({"num_format": spec})
        return formats[spec]

    bold = book.add_format({"bold": True})
    for name, frame in sheets.items():
        sheet = book.add_worksheet(name[:31])
        safe = safe_frame(frame)
        sheet.write_row(0, 0, list(safe.columns), bold)
        sheet.freeze_panes(1, 0)
        for c, column in enumerate(safe.columns):
            width = len(str(column))
            for r, value in enumerate(safe[column].tolist()):
                shown = _excel_value(value)
                if shown is None:
                    continue
                spec: str | None
                if isinstance(shown, dt.datetime):  # a time only where there is one
                    spec = DATE_FORMAT if shown.time() == dt.time(0) else DATETIME_FORMAT
                else:
                    spec = (
                        number_format(name, column, r, shown)
                        if number_format and _is_number(shown)
                        else None
                    )
                sheet.write(r + 1, c, shown, style(spec))
                width = max(width, _width(shown, spec))
            sheet.set_column(c, c, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
    book.close()
    return buffer.getvalue()


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _excel_value(value: Any) -> Any:
    """A value as Excel takes it: missing values None (a blank cell), dates as datetimes."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return pd.Timestamp(value).tz_localize(None).to_pydatetime()  # Excel has no time zones
    return value


def _width(value: Any, spec: str | None) -> int:
    if isinstance(value, dt.datetime):
        return 17 if spec == DATETIME_FORMAT else 11
    if _is_number(value):
        return len(f"{value:,.2f}" if isinstance(value, float) else f"{value:,}")
    return max(map(len, str(value).splitlines() or [""]))
