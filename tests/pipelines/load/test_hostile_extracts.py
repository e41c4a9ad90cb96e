"""Hostile extracts: each is refused with a clear message or loaded with exactly the expected rows
quarantined. Never a traceback, never a lost row. (Empty files, a wrong delimiter, Latin-1
bytes, duplicate columns and impossible dates are in test_load_semantics / test_load_contract.)
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time

import duckdb
import openpyxl
import pytest

from pipelines.load.read import LoadRefused
from pipelines.load.snapshot import load_extract
from tests.conftest import TEST_KEY
from tests.fixtures.extract_builder import AS_OF, base_extract, write_csv_extract
from tests.pipelines.load.test_load_semantics import _write_parquet, _write_xlsx

AS_OF_DATE = dt.date.fromisoformat(AS_OF)


def _load(extract, tmp_path, runner):
    return load_extract(extract, tmp_path / "w.duckdb", as_of=AS_OF_DATE, runner=runner)


def _quarantine(tmp_path) -> dict[tuple[str, int], list[str]]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        return {(t, r): codes for t, r, codes in
                con.execute("select table_name, source_row, reason_codes from audit.quarantine").fetchall()}


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
        assert con.execute("select length(description) from core.complications").fetchone()[0] == 10 * 1024 * 1024 - 1


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
        assert con.execute("select description from core.complications").fetchone()[0] == 'line one\nline "two",\r\nthree'


def test_a_missing_sheet_refuses_the_workbook(tmp_path, gx_runner):
    book = _write_xlsx(tmp_path / "extract.xlsx", base_extract())
    wb = openpyxl.load_workbook(book)
    del wb["implants"]
    wb.save(book)
    with pytest.raises(LoadRefused, match=r"extract\.xlsx\[implants\]: required sheet 'implants' is missing"):
        _load(book, tmp_path, gx_runner)


@pytest.mark.slow
def test_serial_numbers_text_dates_and_formulas_in_a_workbook(tmp_path, gx_runner):
    tables = base_extract()
    tables["outcomes"] += [
        {**tables["outcomes"][0], "assessment_date": "2020-04-21", "measure": "penn_spasm_frequency"},
        {**tables["outcomes"][0], "assessment_date": "2020-04-22", "measure": "pain_nrs"},
        {**tables["outcomes"][0], "assessment_date": "2020-04-23", "measure": "weight_kg", "value": "70"},
    ]
    book = _write_xlsx(tmp_path / "extract.xlsx", tables)
    wb = openpyxl.load_workbook(book)
    sheet = wb["outcomes"]
    sheet["B3"] = "21/04/2020"      # a UK date typed as text: a date
    sheet["B4"] = 43943             # an Excel serial number in a General cell: not a date cell,
    sheet["B4"].number_format = "General"  # so a bad value (in a date-formatted cell it is a date)
    sheet["D5"] = "=35*2"           # a formula: its calculated value (openpyxl keeps no cache,
    wb.save(book)                   # so the cell reads as empty: the value is missing)
    result = _load(book, tmp_path, gx_runner)
    assert _quarantine(tmp_path) == {("outcomes", 4): ["bad_date"], ("outcomes", 5): ["missing_required"]}
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
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "load", str(folder), "--db",
                           str(tmp_path / "w.duckdb")], capture_output=True, text=True)
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
        proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "load", str(new), "--db", str(db),
                                 "--as-of", AS_OF, "--json"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 4.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with duckdb.connect(str(db), read_only=True) as con:
            state = (con.execute("select outcome from core.trials").fetchone(),
                     con.execute("select value from core.outcomes").fetchone())
        assert state in snapshots
        seen.add(snapshots[state])
        load_extract(old, db, as_of=AS_OF_DATE, runner=gx_runner)  # back to the old snapshot
    assert not list(tmp_path.glob(".w.duckdb.loading-*.wal"))
