"""The bundled messy sample: the loader quarantines exactly the rows listed beside it, with
exactly the listed reasons, and accepts every other row."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
from pathlib import Path

import duckdb
import pytest

from pipelines.load.snapshot import load_extract
from pipelines.synthetic.messy import make_messy
from tests.conftest import SAMPLE_AS_OF

SAMPLES = Path(__file__).resolve().parents[3] / "data_samples"


def test_messy_sample_is_what_the_script_makes(tmp_path):
    make_messy(SAMPLES / "clean", tmp_path / "messy")
    for name in sorted(p.name for p in (SAMPLES / "messy").iterdir()):
        assert filecmp.cmp(SAMPLES / "messy" / name, tmp_path / "messy" / name, shallow=False), name
    assert filecmp.cmp(
        SAMPLES / "messy.expected.csv", tmp_path / "messy.expected.csv", shallow=False
    )


@pytest.mark.slow
def test_loader_quarantines_exactly_the_listed_rows(tmp_path, gx_runner):
    with open(SAMPLES / "messy.expected.csv", newline="", encoding="utf-8") as f:
        expected = {
            (r["table"], int(r["source_row"])): set(r["reason_codes"].split(";"))
            for r in csv.DictReader(f)
        }
    db = tmp_path / "w.duckdb"
    result = load_extract(
        SAMPLES / "messy", db, as_of=dt.date.fromisoformat(SAMPLE_AS_OF), runner=gx_runner
    )
    with duckdb.connect(str(db), read_only=True) as con:
        got = {
            (t, r): set(codes)
            for t, r, codes in con.execute(
                "select table_name, source_row, reason_codes from audit.quarantine"
            ).fetchall()
        }
    assert got == expected
    # Every direct breakage kind of the sample is present (the list is not trivially small).
    assert {code for codes in expected.values() for code in codes} >= {
        "bad_date",
        "bad_code",
        "bad_nhs_number",
        "duplicate_key",
        "date_order",
        "unknown_reference",
        "reference_mismatch",
        "bad_number",
        "missing_required",
        "out_of_range",
        "exceeds_reservoir",
        "outside_pump_dates",
        "bad_boolean",
        "before_birth",
        "quarantined_parent",
    }
    assert result.ignored_columns == {"patients": ["notes"]}
    for counts in result.tables.values():
        assert counts.rows_read == counts.rows_accepted + counts.rows_quarantined
    assert sum(c.rows_quarantined for c in result.tables.values()) == len(expected)
