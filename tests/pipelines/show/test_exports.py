"""Exports are safe to open in a spreadsheet and hold exactly the table."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pandas as pd

from pipelines.show.exports import csv_bytes, neutralise, xlsx_bytes

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "a=b"]


def test_formula_starts_are_neutralised():
    assert [neutralise(v) for v in HOSTILE] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tcmd",
        "'\rcmd",
        "plain",
        "a=b",
    ]
    assert neutralise(-5) == -5 and neutralise(None) is None


def test_csv_and_xlsx_carry_no_formula_and_keep_numbers():
    frame = pd.DataFrame({"note": HOSTILE, "value": [-1.5, 2, 3, 4, 5, 6, 7, 8]})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode(), newline="")))
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        for row in rows[1:]
        for cell in row[:1]
    )
    assert rows[1][1] == "-1.5"
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"t": frame})))
    cells = [row for row in book["t"].iter_rows(min_row=2, values_only=True)]
    # openpyxl leaves the XML escape of a carriage return (_x000D_) as it is; Excel decodes it.
    assert [c[0].replace("_x000D_", "\r") for c in cells] == [neutralise(v) for v in HOSTILE]
    assert all(book["t"].cell(row=r, column=1).data_type == "s" for r in range(2, 10))
    assert cells[0][1] == -1.5


def test_xlsx_holds_exactly_the_table():
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "refill_date": pd.to_datetime(["2026-01-02", "2026-02-03"]),
            "rate": [0.5, None],
        }
    )
    book = pd.read_excel(io.BytesIO(xlsx_bytes({"a-long-table-name-" * 3: frame})))
    assert book["patient_id"].tolist() == ["P1", "P2"]
    assert book["refill_date"].dt.date.tolist() == [dt.date(2026, 1, 2), dt.date(2026, 2, 3)]
    assert book["rate"].iloc[0] == 0.5 and pd.isna(book["rate"].iloc[1])


def test_xlsx_dates_have_no_midnight_and_columns_fit_their_text():
    frame = pd.DataFrame(
        {
            "refill_date": pd.to_datetime(["2026-01-02"]),
            "loaded_at": pd.to_datetime(["2026-01-02 06:41"]),
            "a_long_column_of_notes": ["x" * 30],
        }
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"t": frame})))["t"]
    assert [sheet["A2"].number_format, sheet["B2"].number_format] == [
        "d mmm yyyy",
        "d mmm yyyy hh:mm",
    ]
    assert sheet["B2"].value == dt.datetime(2026, 1, 2, 6, 41)
    assert sheet.column_dimensions["C"].width >= 30
    assert sheet.freeze_panes == "A2"  # the header stays in view
