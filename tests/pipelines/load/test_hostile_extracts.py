"""Hostile extracts: each is refused with a clear message or loaded with exactly the expected rows
quarantined. Never a traceback, never a lost row. (Empty files, a wrong delimiter, Latin-1
bytes, duplicate columns and impossible dates are in test_load_semantics / test_load_contract.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time

import duckdb
import openpyxl
import pytest

from pipelines.load.read import LoadRefused, open_extract, parse_extract
from pipelines.load.snapshot import load_extract
from tests.conftest import TEST_KEY
from tests.fixtures.extract_builder import AS_OF, base_extract, write_csv_extract
from tests.pipelines.load.test_load_semantics import _write_parquet, _write_xlsx

AS_OF_DATE = dt.date.fromisoformat(AS_OF)


def _load(extract, tmp_path, runner):
    return load_extract(extract, tmp_path / "w.duckdb", as_of=AS_OF_DATE, runner=runner)


def _quarantine(tmp_path) -> dict[tuple[str, int], list[str]]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        return {
            (t, r): codes
            for t, r, codes in con.execute(
                "select table_name, source_row, reason_codes from audit.quarantine"
            ).fetchall()
        }


@pytest.mark.slow
def test_one_table_with_a_header_only_loads(tmp_path, gx_runner):
    tables = base_extract()
    tables["complications"] = []
    result = _load(write_csv_extract(tmp_path / "x", tables), tmp_path, gx_runner)
    assert result.tables["complications"].rows_read == 0
    assert result.tables["refills"].rows_accepted == 1


@pytest.mark.slow
def test_a_ten_megabyte_field_is_kept_whole(tmp_path, gx_runner):
    tables = base_extract()
    tables["complications"][0]["description"] = "kinked, " * (10 * 1024 * 1024 // 8)
    result = _load(write_csv_extract(tmp_path / "x", tables), tmp_path, gx_runner)
    assert result.tables["complications"].rows_accepted == 1
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert (
            con.execute("select length(description) from core.complications").fetchone()[0]
            == 10 * 1024 * 1024 - 1
        )


@pytest.mark.slow
def test_quoted_fields_with_line_breaks_keep_row_numbers(tmp_path, gx_runner):
    tables = base_extract()
    first = tables["complications"][0]
    first["description"] = 'line one\nline "two",\r\nthree'
    tables["complications"].append({**first, "complication_id": "C2", "category": "bleeding"})
    result = _load(write_csv_extract(tmp_path / "x", tables), tmp_path, gx_runner)
    # The second record is spreadsheet row 3 although it starts on the file's fifth line.
    assert _quarantine(tmp_path) == {("complications", 3): ["bad_code"]}
    assert result.tables["complications"].rows_accepted == 1
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert (
            con.execute("select description from core.complications").fetchone()[0]
            == 'line one\nline "two",\r\nthree'
        )


def test_a_missing_sheet_refuses_the_workbook(tmp_path, gx_runner):
    book = _write_xlsx(tmp_path / "extract.xlsx", base_extract())
    wb = openpyxl.load_workbook(book)
    del wb["implants"]
    wb.save(book)
    with pytest.raises(
        LoadRefused, match=r"extract\.xlsx\[implants\]: required sheet 'implants' is missing"
    ):
        _load(book, tmp_path, gx_runner)


@pytest.mark.slow
def test_serial_numbers_text_dates_and_formulas_in_a_workbook(tmp_path, gx_runner):
    tables = base_extract()
    tables["outcomes"] += [
        {
            **tables["outcomes"][0],
            "assessment_date": "2020-04-21",
            "measure": "penn_spasm_frequency",
        },
        {**tables["outcomes"][0], "assessment_date": "2020-04-22", "measure": "pain_nrs"},
        {
            **tables["outcomes"][0],
            "assessment_date": "2020-04-23",
            "measure": "weight_kg",
            "value": "70",
        },
    ]
    book = _write_xlsx(tmp_path / "extract.xlsx", tables)
    wb = openpyxl.load_workbook(book)
    sheet = wb["outcomes"]
    sheet["B3"] = "21/04/2020"  # a UK date typed as text: a date
    sheet["B4"] = 43943  # an Excel serial number in a General cell: not a date cell,
    sheet["B4"].number_format = "General"  # so a bad value (in a date-formatted cell it is a date)
    sheet["D5"] = "=35*2"  # a formula: its calculated value (openpyxl keeps no cache,
    wb.save(book)  # so the cell reads as empty: the value is missing)
    result = _load(book, tmp_path, gx_runner)
    assert _quarantine(tmp_path) == {
        ("outcomes", 4): ["bad_date"],
        ("outcomes", 5): ["missing_required"],
    }
    assert result.tables["outcomes"].rows_accepted == 2


@pytest.mark.slow
def test_a_formula_with_a_cached_value_reads_as_that_value(tmp_path, gx_runner):
    import xlsxwriter

    tables = base_extract()
    path = _write_xlsx(tmp_path / "extract.xlsx", tables)
    # xlsxwriter stores a formula with the result Excel would cache.
    book = xlsxwriter.Workbook(str(tmp_path / "formula.xlsx"))
    source = openpyxl.load_workbook(path)
    for name in source.sheetnames:
        sheet = book.add_worksheet(name)
        for i, row in enumerate(source[name].iter_rows(values_only=True)):
            for j, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(i, j, value, book.add_format({"num_format": "yyyy-mm-dd"}))
                else:
                    sheet.write(i, j, value)
    book.get_worksheet_by_name("outcomes").write_formula(1, 3, "=1+2", None, 3)
    book.close()
    _load(tmp_path / "formula.xlsx", tmp_path, gx_runner)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select value from core.outcomes").fetchall() == [(3.0,)]


def test_a_truncated_parquet_file_is_refused(tmp_path, gx_runner):
    folder = _write_parquet(tmp_path / "parquet", base_extract())
    data = (folder / "refills.parquet").read_bytes()
    (folder / "refills.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadRefused, match=r"refills\.parquet: cannot be read as Parquet"):
        _load(folder, tmp_path, gx_runner)


def test_cli_never_shows_a_traceback_for_a_hostile_extract(tmp_path):
    folder = _write_parquet(tmp_path / "parquet", base_extract())
    (folder / "trials.parquet").write_bytes(b"PAR1 not really parquet")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "load",
            str(folder),
            "--db",
            str(tmp_path / "w.duckdb"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("load refused: trials.parquet: cannot be read as Parquet")


@pytest.mark.slow
def test_killing_a_load_at_random_moments_never_damages_the_warehouse(tmp_path, gx_runner):
    """SIGKILL a load again and again: the warehouse always opens and holds the old snapshot or
    the new one, never a mixture."""
    db = tmp_path / "w.duckdb"
    old = write_csv_extract(tmp_path / "old", base_extract())
    load_extract(old, db, as_of=AS_OF_DATE, runner=gx_runner)
    new_tables = base_extract()
    new_tables["trials"][0]["outcome"] = "negative"
    new_tables["outcomes"][0]["value"] = "2"
    new = write_csv_extract(tmp_path / "new", new_tables)
    snapshots = {(("positive",), (3.0,)): "old", (("negative",), (2.0,)): "new"}
    env = {**os.environ, "ITB_AUDIT_PSEUDONYM_KEY": TEST_KEY}
    seen = set()
    rng = random.Random(7)
    for _ in range(8):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "load",
                str(new),
                "--db",
                str(db),
                "--as-of",
                AS_OF,
                "--json",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.5, 4.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with duckdb.connect(str(db), read_only=True) as con:
            state = (
                con.execute("select outcome from core.trials").fetchone(),
                con.execute("select value from core.outcomes").fetchone(),
            )
        assert state in snapshots
        seen.add(snapshots[state])
        load_extract(old, db, as_of=AS_OF_DATE, runner=gx_runner)  # back to the old snapshot
    assert not list(tmp_path.glob(".w.duckdb.loading-*.wal"))


# --- issue 11: headers, typed columns, error cells, row numbers, rows with values only in extras

TWICE = "column 'refill_date' appears more than once"


def test_a_csv_header_naming_a_column_twice_is_refused(tmp_path, gx_runner):
    extract = write_csv_extract(tmp_path / "x", base_extract())
    text = (extract / "refills.csv").read_text()
    header, rest = text.split("\n", 1)
    # polars would rename the second copy refill_date_duplicated_0 and read on.
    rest = rest.replace("\n", ",2020-08-02\n", 1)
    (extract / "refills.csv").write_text(header + ",refill_date\n" + rest)
    with pytest.raises(LoadRefused, match=rf"^refills\.csv: {TWICE}$"):
        _load(extract, tmp_path, gx_runner)


def test_a_sheet_header_naming_a_column_twice_is_refused(tmp_path, gx_runner):
    book = _write_xlsx(tmp_path / "extract.xlsx", base_extract())
    wb = openpyxl.load_workbook(book)
    sheet = wb["refills"]
    sheet.cell(1, sheet.max_column + 1, "refill_date")
    wb.save(book)
    with pytest.raises(LoadRefused, match=rf"^extract\.xlsx\[refills\]: {TWICE}$"):
        _load(book, tmp_path, gx_runner)


def test_a_parquet_file_naming_a_column_twice_is_refused(tmp_path, gx_runner):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = _write_parquet(tmp_path / "parquet", base_extract())
    table = pq.read_table(folder / "refills.parquet")
    table = table.append_column("refill_date", table.column("refill_date"))
    pq.write_table(table, folder / "refills.parquet")
    assert isinstance(table, pa.Table) and table.column_names.count("refill_date") == 2
    with pytest.raises(LoadRefused, match=rf"^refills\.parquet: {TWICE}$"):
        _load(folder, tmp_path, gx_runner)


@pytest.mark.slow
def test_parquet_extra_list_struct_and_binary_columns_are_ignored(tmp_path, gx_runner):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = _write_parquet(tmp_path / "parquet", base_extract())
    table = pq.read_table(folder / "refills.parquet")
    table = (
        table.append_column("tags", pa.array([["a", "b"]]))
        .append_column("meta", pa.array([{"x": 1}]))
        .append_column("blob", pa.array([b"\x00\xff"], pa.binary()))
    )
    pq.write_table(table, folder / "refills.parquet")
    result = _load(folder, tmp_path, gx_runner)
    assert result.tables["refills"].rows_accepted == 1
    assert result.ignored_columns == {"refills": ["tags", "meta", "blob"]}


def test_a_parquet_contract_column_of_lists_is_refused_naming_it(tmp_path, gx_runner):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = _write_parquet(tmp_path / "parquet", base_extract())
    table = pq.read_table(folder / "refills.parquet")
    at = table.column_names.index("fill_volume_ml")
    table = table.set_column(at, "fill_volume_ml", pa.array([[20.0]]))
    pq.write_table(table, folder / "refills.parquet")
    lists = r"^refills\.parquet: column 'fill_volume_ml' holds lists, not text, numbers or dates$"
    with pytest.raises(LoadRefused, match=lists):
        _load(folder, tmp_path, gx_runner)


def _reasons(tmp_path) -> dict[tuple[str, int], tuple[list[str], list[str], dict]]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select table_name, source_row, reason_codes, reasons, record from audit.quarantine"
        ).fetchall()
    return {(t, r): (codes, reasons, json.loads(record)) for t, r, codes, reasons, record in rows}


@pytest.mark.slow
def test_workbook_error_cells_quarantine_their_row_naming_the_error(tmp_path, gx_runner):
    tables = base_extract()
    first = tables["complications"][0]
    tables["complications"] += [{**first, "complication_id": f"C{n}"} for n in (2, 3, 4, 5)]
    book = _write_xlsx(tmp_path / "extract.xlsx", tables)
    wb = openpyxl.load_workbook(book)
    sheet = wb["complications"]
    columns = {c.value: c.column for c in sheet[1]}
    # openpyxl stores these strings as error cells (t="e"), as Excel saves a failed formula.
    sheet.cell(2, columns["description"], "#N/A")  # optional text
    sheet.cell(3, columns["event_date"], "#DIV/0!")  # required date
    sheet.cell(4, columns["required_surgery"], "#REF!")  # boolean
    sheet.cell(5, columns["subtype"], "#NAME?")  # optional text
    sheet.cell(5, columns["severity"], "#VALUE!")  # code
    assert sheet.cell(3, columns["event_date"]).data_type == "e"
    wb.save(book)
    result = _load(book, tmp_path, gx_runner)
    got = _reasons(tmp_path)
    assert {k: set(v[0]) for k, v in got.items()} == {
        ("complications", 2): {"error_cell"},
        ("complications", 3): {"error_cell", "bad_date"},
        ("complications", 4): {"error_cell", "bad_boolean"},
        ("complications", 5): {"error_cell", "bad_code"},
    }
    assert "spreadsheet error cells, not values: description #N/A" in got[("complications", 2)][1]
    assert (
        "spreadsheet error cells, not values: subtype #NAME?, severity #VALUE!"
        in got[("complications", 5)][1]
    )
    assert got[("complications", 3)][2]["event_date"] == "#DIV/0!"
    assert result.tables["complications"].rows_accepted == 1


@pytest.mark.slow
def test_blank_lines_above_a_csv_header_keep_the_editors_row_numbers(tmp_path, gx_runner):
    tables = base_extract()
    tables["complications"].append(
        {**tables["complications"][0], "complication_id": "C2", "category": "x"}
    )
    extract = write_csv_extract(tmp_path / "x", tables)
    path = extract / "complications.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n\n" + path.read_bytes())
    _load(extract, tmp_path, gx_runner)
    # Lines 1-2 blank, the header on line 3, the first record line 4, the bad one line 5.
    assert _quarantine(tmp_path) == {("complications", 5): ["bad_code"]}


@pytest.mark.slow
def test_blank_rows_above_a_sheet_header_keep_the_spreadsheet_row_numbers(tmp_path, gx_runner):
    tables = base_extract()
    tables["complications"].append(
        {**tables["complications"][0], "complication_id": "C2", "category": "x"}
    )
    book = _write_xlsx(tmp_path / "extract.xlsx", tables)
    wb = openpyxl.load_workbook(book)
    wb["complications"].insert_rows(1, 2)
    wb.save(book)
    _load(book, tmp_path, gx_runner)
    assert _quarantine(tmp_path) == {("complications", 5): ["bad_code"]}


@pytest.mark.slow
def test_a_row_with_values_only_in_extra_columns_is_counted_and_quarantined(tmp_path, gx_runner):
    extract = write_csv_extract(tmp_path / "x", base_extract())
    path = extract / "complications.csv"
    header, row = path.read_text().splitlines()
    blank = "," * header.count(",")
    # Row 3 has text only in the extra column; row 4 is commas only (not a record: skipped).
    path.write_text(f"{header},note\n{row},\n{blank},see the paper notes\n{blank},\n")
    result = _load(extract, tmp_path, gx_runner)
    assert result.tables["complications"].rows_read == 2
    assert result.tables["complications"].rows_quarantined == 1
    codes, reasons, _ = _reasons(tmp_path)[("complications", 3)]
    assert "no_values" in codes and "no values in any contract column" in reasons


def test_extra_columns_named_like_the_lineage_columns_are_ignored(tmp_path):
    extract = write_csv_extract(tmp_path / "x", base_extract())
    path = extract / "patients.csv"
    header, *rows = path.read_text().splitlines()
    path.write_text(
        "\n".join([f"{header},source_row,CELL_ERRORS", *(f"{r},x,y" for r in rows)]) + "\n"
    )
    read = parse_extract(open_extract(extract)).tables["patients"]
    assert read.ignored_columns == ["source_row", "CELL_ERRORS"]
    assert read.frame["source_row"].to_list() == list(range(2, len(rows) + 2))
    assert read.frame["cell_errors"].null_count() == len(rows)
