"""Property-based tests (hypothesis) over generated extracts with random edits.

1. Rows always reconcile: read = accepted + quarantined, per table, whatever is edited.
2. A quarantined row contributes nothing: an extract with some rows broken gives the same KPI
   figures as the same extract with those rows deleted. (A deleted parent's dependants become
   unknown references, so they leave the figures as a quarantined parent's do.)
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.contract import TABLES
from pipelines.figures.kpis import compute_kpis
from pipelines.load.snapshot import load_extract
from pipelines.synthetic.generate import generate_extract

AS_OF = dt.date(2026, 11, 1)
# A value that is bad for the column whatever the row (the column is not part of a key).
BREAKERS = {
    "patients": ("sex", "zz"),
    "referrals": ("source", "zz"),
    "appointments": ("status", "zz"),
    "trials": ("outcome", "zz"),
    "implants": ("procedure", "zz"),
    "refills": ("fill_volume_ml", "abc"),
    "complications": ("category", "zz"),
    "outcomes": ("value", "abc"),
}
JUNK = st.sampled_from(
    ["", " ", "zz", "-1", "1,0", "31/02/2020", "2020-13-01", "yes", "99999", "P000001"]
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> dict[str, list[dict[str, str]]]:
    return generated(tmp_path_factory.mktemp("generated") / "extract")


def generated(folder: Path) -> dict[str, list[dict[str, str]]]:
    """A 40-patient generated extract, as rows of text per table."""
    generate_extract(folder, patients=40, seed=11, as_of=AS_OF, fmt="csv")
    tables = {}
    for name in TABLES:
        with open(folder / f"{name}.csv", newline="", encoding="utf-8") as f:
            tables[name] = list(csv.DictReader(f))
    return tables


def _write(folder: Path, tables) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, rows in tables.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(TABLES[name].column_names))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _kpis(extract_folder: Path, db: Path, runner) -> dict:
    db.unlink(missing_ok=True)
    load_extract(extract_folder, db, as_of=AS_OF, runner=runner)
    return compute_kpis(db, dt.date(2016, 1, 1), AS_OF)


edits = st.lists(
    st.tuples(
        st.sampled_from(sorted(TABLES)), st.integers(min_value=0), st.integers(min_value=0), JUNK
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=edits)
def test_rows_always_reconcile(extract, tmp_path, gx_runner, edits):
    tables = {name: [dict(r) for r in rows] for name, rows in extract.items()}
    for table, row, column, junk in edits:
        rows = tables[table]
        columns = TABLES[table].column_names
        rows[row % len(rows)][columns[column % len(columns)]] = junk
    db = tmp_path / "w.duckdb"
    db.unlink(missing_ok=True)
    result = load_extract(_write(tmp_path / "x", tables), db, as_of=AS_OF, runner=gx_runner)
    with duckdb.connect(str(db), read_only=True) as con:
        for table, counts in result.tables.items():
            assert counts.rows_read == len(tables[table])
            assert counts.rows_read == counts.rows_accepted + counts.rows_quarantined
            assert (
                con.execute(f"select count(*) from core.{table}").fetchone()[0]
                == counts.rows_accepted
            )
            assert (
                con.execute(
                    "select count(*) from audit.quarantine "
                    "where table_name = ? and len(reasons) = 0",
                    [table],
                ).fetchone()[0]
                == 0
            )


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(
        st.tuples(st.sampled_from(sorted(BREAKERS)), st.integers(min_value=0)),
        min_size=1,
        max_size=8,
    )
)
def test_quarantined_rows_contribute_nothing(extract, tmp_path, gx_runner, picks):
    chosen = {(table, index % len(extract[table])) for table, index in picks}
    broken = {name: [dict(r) for r in rows] for name, rows in extract.items()}
    for table, i in chosen:
        column, bad = BREAKERS[table]
        broken[table][i][column] = bad
    deleted = {
        name: [r for i, r in enumerate(rows) if (name, i) not in chosen]
        for name, rows in extract.items()
    }
    with_broken = _kpis(_write(tmp_path / "broken", broken), tmp_path / "broken.duckdb", gx_runner)
    with_deleted = _kpis(
        _write(tmp_path / "deleted", deleted), tmp_path / "deleted.duckdb", gx_runner
    )
    assert with_broken == with_deleted
