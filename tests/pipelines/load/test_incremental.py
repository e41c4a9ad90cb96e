"""Incremental validation (pipelines/load/verdicts.py) gives exactly what a full validation gives.

Two loads of one site: a generated extract with a few bad rows, then the same extract after random
edits, insertions, deletions and a reordering, at a random as-of date. The second load, validated
incrementally (only new or changed rows through GX), must leave the same core rows, quarantine
rows and reasons, counts, expectation results, figures and row verdicts as the same second load
validated in full.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.contract import TABLES
from pipelines.figures.kpis import compute_kpis
from pipelines.load import snapshot
from pipelines.load.snapshot import load_extract
from tests.fixtures.extract_builder import AS_OF as BUILDER_AS_OF
from tests.fixtures.extract_builder import base_extract, write_csv_extract
from tests.pipelines.load.test_properties import AS_OF, JUNK, _write, generated

pytestmark = pytest.mark.slow

# Bad rows of the first load: an event after its as-of date (passes at a later as-of date), a
# duplicate key, a bad code.
BASE_BREAKS = (
    ("referrals", 0, "received_date", "2026-11-20"),
    ("refills", 3, "refill_id", None),  # None: the key of the row before it
    ("trials", 0, "method", "zz"),
)


def _base(generated_rows) -> dict[str, list[dict[str, str]]]:
    tables = {name: [dict(r) for r in rows] for name, rows in generated_rows.items()}
    for table, i, column, value in BASE_BREAKS:
        tables[table][i][column] = tables[table][i - 1][column] if value is None else value
    return tables


class FirstLoad:
    """The first load's extract and warehouse (a short repr: hypothesis prints the arguments)."""

    def __init__(self, tables, db: Path) -> None:
        self.tables, self.db = tables, db

    def __repr__(self) -> str:
        return "<first load>"


@pytest.fixture(scope="module")
def first_load(tmp_path_factory, gx_runner) -> FirstLoad:
    folder = tmp_path_factory.mktemp("first")
    tables = _base(generated(folder / "generated"))
    load_extract(_write(folder / "x", tables), folder / "w.duckdb", as_of=AS_OF, runner=gx_runner)
    return FirstLoad(tables, folder / "w.duckdb")


def _edited(tables, changes, reverse: str | None):
    tables = {name: [dict(r) for r in rows] for name, rows in tables.items()}
    for change in changes:
        kind, table, i = change[:3]
        rows = tables[table]
        if not rows:
            continue
        i %= len(rows)
        if kind == "edit":
            columns = TABLES[table].column_names
            column = columns[change[3] % len(columns)]
            value = change[4]
            if isinstance(value, int):  # a value the column holds on another row
                value = rows[value % len(rows)][column]
            rows[i][column] = value
        elif kind == "delete":
            del rows[i]
        else:  # insert a copy of a row, with a new key or (a duplicate) the same
            copy = dict(rows[i])
            if change[3]:
                key = TABLES[table].key[-1]
                copy[key] = f"{copy[key]}N{len(rows)}"
            rows.insert(i, copy)
    if reverse:  # every row of the table moves: its hash must still match
        tables[reverse].reverse()
    return tables


def _outcome(db: Path, as_of: dt.date) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        (load_id,) = con.execute("select max(load_id) from audit.loads").fetchone()

        def rows(sql: str, *params) -> list:
            return con.execute(sql, list(params)).fetchall()

        outcome = {f"core.{t}": rows(f"select * from core.{t} order by all") for t in TABLES} | {
            "quarantine": rows(
                "select * exclude (load_id) from audit.quarantine where load_id = ? order by all",
                load_id,
            ),
            "counts": rows(
                "select * exclude (load_id) from audit.load_tables where load_id = ? order by all",
                load_id,
            ),
            "expectations": rows(
                "select * exclude (load_id) from audit.expectation_results where load_id = ? "
                "order by all",
                load_id,
            ),
            "verdicts": rows("select * from audit.row_verdicts order by all"),
        }
    outcome["kpis"] = compute_kpis(db, dt.date(2016, 1, 1), as_of)
    return outcome


changes = st.lists(
    st.one_of(
        st.tuples(
            st.just("edit"),
            st.sampled_from(sorted(TABLES)),
            st.integers(min_value=0),
            st.integers(min_value=0),
            st.one_of(JUNK, st.integers(min_value=0)),
        ),
        st.tuples(st.just("delete"), st.sampled_from(sorted(TABLES)), st.integers(min_value=0)),
        st.tuples(
            st.just("insert"),
            st.sampled_from(sorted(TABLES)),
            st.integers(min_value=0),
            st.booleans(),
        ),
    ),
    max_size=10,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=changes,
    reverse=st.one_of(st.none(), st.sampled_from(sorted(TABLES))),
    days=st.sampled_from([0, 1, 45, -40]),
)
def test_incremental_equals_full(first_load, tmp_path, gx_runner, changes, reverse, days):
    tables = _edited(first_load.tables, changes, reverse)
    folder = _write(tmp_path / "x", tables)
    as_of = AS_OF + dt.timedelta(days=days)
    outcomes, through_gx = [], []
    for incremental in (True, False):
        db = tmp_path / f"{incremental}.duckdb"
        shutil.copyfile(first_load.db, db)
        result = load_extract(folder, db, as_of=as_of, runner=gx_runner, incremental=incremental)
        if result.unchanged_from is not None:  # the same bytes and as-of date: carried over
            return
        outcomes.append(_outcome(db, as_of))
        through_gx.append(sum(result.rows_through_gx.values()))
    incremental, full = outcomes
    assert incremental.keys() == full.keys()
    for part in full:
        assert incremental[part] == full[part], part
    assert through_gx[1] == sum(len(rows) for rows in tables.values())
    if days >= 0:  # unchanged rows, moved or not, bar the one after the first as-of date
        assert through_gx[0] <= 1 + len(changes)


# --- which rows go through GX (hand-made extracts, tests/fixtures/extract_builder.py) ----------


def _through_gx(folder, db, as_of, runner, **kw) -> dict[str, int]:
    result = load_extract(folder, db, as_of=as_of, runner=runner, **kw)
    return {t: n for t, n in result.rows_through_gx.items() if n}


def test_only_new_or_changed_rows_go_through_gx(tmp_path, gx_runner, monkeypatch):
    as_of = dt.date.fromisoformat(BUILDER_AS_OF)
    tables = base_extract()
    tables["outcomes"].append({**tables["outcomes"][0], "measure": "pain_nrs", "value": "7"})
    db = tmp_path / "w.duckdb"
    assert _through_gx(write_csv_extract(tmp_path / "a", tables), db, as_of, gx_runner) == {
        t: 1 for t in TABLES
    } | {"outcomes": 2}
    tables["outcomes"][1]["value"] = "8"  # one row changed
    tables["outcomes"].reverse()  # and both moved: the unchanged one still matches
    assert _through_gx(write_csv_extract(tmp_path / "b", tables), db, as_of, gx_runner) == {
        "outcomes": 1
    }
    # the full validation switch, and a new pseudonymisation key (new rules), judge every row
    tables["outcomes"][0]["value"] = "9"
    every = {t: 1 for t in TABLES} | {"outcomes": 2}
    assert (
        _through_gx(
            write_csv_extract(tmp_path / "c", tables), db, as_of, gx_runner, incremental=False
        )
        == every
    )
    monkeypatch.setenv("ITB_AUDIT_PSEUDONYM_KEY", "another-key-0123456789abcdef")
    tables["outcomes"][0]["value"] = "6"
    assert _through_gx(write_csv_extract(tmp_path / "d", tables), db, as_of, gx_runner) == every


def test_rows_failing_an_as_of_rule_are_judged_again(tmp_path, gx_runner):
    as_of = dt.date.fromisoformat(BUILDER_AS_OF)
    tables = base_extract()
    tables["outcomes"][0]["assessment_date"] = "2024-07-01"  # after as_of, not after a day later
    folder = write_csv_extract(tmp_path / "x", tables)
    db = tmp_path / "w.duckdb"
    _through_gx(folder, db, as_of, gx_runner)
    later = as_of + dt.timedelta(days=1)
    assert _through_gx(folder, db, later, gx_runner) == {"outcomes": 1}
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from core.outcomes").fetchone() == (1,)
    # an earlier as-of date than the verdicts': any row may now be after it
    assert _through_gx(folder, db, as_of, gx_runner) == {t: 1 for t in TABLES}


# --- how the verdicts are kept ------------------------------------------------------------------


def _verdicts(db) -> set[tuple[str, int]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return set(con.execute("select suite, row_hash from audit.row_verdicts").fetchall())


def test_a_reload_writes_only_the_verdicts_of_new_or_changed_rows(tmp_path, gx_runner, monkeypatch):
    as_of = dt.date.fromisoformat(BUILDER_AS_OF)
    tables = base_extract()
    tables["outcomes"].append({**tables["outcomes"][0], "measure": "pain_nrs", "value": "7"})
    db = tmp_path / "w.duckdb"
    load_extract(write_csv_extract(tmp_path / "a", tables), db, as_of=as_of, runner=gx_runner)
    before = _verdicts(db)
    written: list[tuple[str, int]] = []
    insert = snapshot._insert

    def watched(con, target, frame):
        if target == "audit.row_verdicts":
            written.extend(frame.select("suite", "row_hash").iter_rows())
        insert(con, target, frame)

    monkeypatch.setattr(snapshot, "_insert", watched)
    tables["outcomes"][1]["value"] = "8"
    load_extract(write_csv_extract(tmp_path / "b", tables), db, as_of=as_of, runner=gx_runner)
    after = _verdicts(db)
    # the changed row's verdict goes and its new one is the only one written, in the row suite:
    # the cross-table rules do not read value, so its cross-table frame row is unchanged
    assert written == sorted(after - before)
    assert [suite for suite, _ in written] == ["outcomes"]
    assert len(before - after) == 1 and len(before & after) == len(before) - 1


def test_verdicts_in_their_first_form_are_dropped_and_every_row_judged_again(tmp_path, gx_runner):
    as_of = dt.date.fromisoformat(BUILDER_AS_OF)
    folder = write_csv_extract(tmp_path / "a", base_extract())
    db = tmp_path / "w.duckdb"
    load_extract(folder, db, as_of=as_of, runner=gx_runner)
    with duckdb.connect(str(db)) as con:  # the form the verdicts were first kept in
        con.execute(
            "drop table audit.row_verdicts; create table audit.row_verdicts (site varchar, "
            "suite varchar, rules_version varchar, as_of date, hash_1 ubigint, hash_2 ubigint, "
            "failed integer[], outside integer[])"
        )
    assert _through_gx(folder, db, as_of + dt.timedelta(days=1), gx_runner) == {
        t: 1 for t in TABLES
    }
    with duckdb.connect(str(db), read_only=True) as con:
        assert "row_hash" in con.table("audit.row_verdicts").columns
        # a row suite per table, a cross-table suite per table but patients, implants' siblings
        assert con.execute("select count(distinct suite) from audit.row_verdicts").fetchone() == (
            16,
        )
