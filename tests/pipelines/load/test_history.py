"""History: every load's accepted and raw rows kept as versions, and the figures of any past load
recomputed through the same marts (`--as-loaded`)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.cli import app
from pipelines.contract import TABLE_ORDER, TABLES
from pipelines.load.snapshot import load_extract
from pipelines.report import Request, build
from pipelines.synthetic.generate import generate_extract
from pipelines.warehouse import (
    AsLoadedError,
    connect_as_loaded,
    connect_readonly,
    resolve_loads,
)
from tests.fixtures.extract_builder import AS_OF, base_extract, write_csv_extract
from tests.fixtures.kpi_fixtures import Warehouse

AS_OF_DATE = dt.date.fromisoformat(AS_OF)
PERIOD = ["--start", "2020-01-01", "--end", AS_OF]


def extract_a():
    """The base pathway and a second referral."""
    tables = base_extract()
    tables["referrals"].append(
        {
            **tables["referrals"][0],
            "referral_id": "R2",
            "received_date": "2020-07-01",
            "triage_date": "2020-07-03",
        }
    )
    return tables


def extract_a_corrected():
    """A with a changed row (the trial's outcome), a deleted row (R2) and a new row (R3)."""
    tables = extract_a()
    tables["trials"][0]["outcome"] = "negative"
    tables["referrals"] = [
        tables["referrals"][0],
        {
            **tables["referrals"][0],
            "referral_id": "R3",
            "received_date": "2020-09-01",
            "triage_date": "2020-09-02",
        },
    ]
    return tables


def _kpis(db, *extra):
    result = CliRunner().invoke(app, ["kpis", "--db", str(db), *PERIOD, "--json", *extra])
    return result


def _json(db, *extra) -> str:
    result = _kpis(db, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout


def _versions(db, layer: str) -> dict[str, tuple[int, int]]:
    """table -> (versions, closed versions) in history.* or staging.*."""
    with connect_readonly(db) as con:
        return {
            t: con.execute(f"select count(*), count(valid_to_load) from {layer}.{t}").fetchone()
            for t in TABLE_ORDER
        }


def _load(tmp_path, name, tables, db, runner, **kw):
    return load_extract(
        write_csv_extract(tmp_path / name, tables), db, as_of=AS_OF_DATE, runner=runner, **kw
    )


@pytest.fixture(scope="module")
def loaded_a(tmp_path_factory, gx_runner):
    """A loaded into a new warehouse: its file (a test changes a copy), the JSON printed after
    the load and its versions."""
    tmp = tmp_path_factory.mktemp("history_a")
    db = tmp / "w.duckdb"
    _load(tmp, "a", extract_a(), db, gx_runner)
    return db, _json(db), {layer: _versions(db, layer) for layer in ("history", "staging")}


def _copy(db, folder):
    return shutil.copyfile(db, folder / "w.duckdb")


@pytest.fixture(scope="module")
def corrected(tmp_path_factory, gx_runner, loaded_a):
    """Load A, then the corrected A': the warehouse and the JSON printed after each load."""
    a, after_a, versions_a = loaded_a
    tmp = tmp_path_factory.mktemp("history")
    db = _copy(a, tmp)
    _load(tmp, "a2", extract_a_corrected(), db, gx_runner)
    return db, after_a, _json(db), versions_a


@pytest.mark.slow
def test_as_loaded_reproduces_the_json_printed_after_that_load(corrected):
    db, after_a, after_a2, _ = corrected
    assert after_a2 != after_a  # the correction changed the current figures
    assert '"loads": {"main": {"load_id": 1, "as_of": "2024-06-30"}}' in after_a
    assert _json(db, "--as-loaded", "1") == after_a  # byte for byte
    assert _json(db, "--as-loaded", "2") == after_a2
    today = dt.date.today().isoformat()  # both loads finished today: the day's last is 2
    assert _json(db, "--as-loaded", today) == after_a2


@pytest.mark.slow
def test_history_grows_with_the_changed_rows_only(corrected):
    db, _, _, before = corrected
    for layer in ("history", "staging"):
        after = _versions(db, layer)
        # one version per row of A; A' added the changed trial and R3 and closed T1 and R2
        assert before[layer] == {t: (2 if t == "referrals" else 1, 0) for t in TABLE_ORDER}
        assert after == {
            **{t: (1, 0) for t in TABLE_ORDER},
            "referrals": (3, 1),
            "trials": (2, 1),
        }, layer
    with connect_readonly(db) as con:
        assert con.execute(
            "select referral_id, valid_from_load, valid_to_load from history.referrals "
            "order by referral_id"
        ).fetchall() == [("R1", 1, None), ("R2", 1, 2), ("R3", 2, None)]
        assert con.execute("select outcome from core.trials").fetchall() == [("negative",)]


@pytest.mark.slow
def test_a_reload_of_the_same_rows_adds_no_versions(tmp_path, gx_runner, loaded_a):
    a, after_a, once = loaded_a
    db = _copy(a, tmp_path)
    carried = _load(tmp_path, "b", extract_a(), db, gx_runner)  # same bytes: carried over
    revalidated = load_extract(  # a new as-of date: validated again, same rows
        tmp_path / "b", db, as_of=AS_OF_DATE + dt.timedelta(days=1), runner=gx_runner
    )
    assert carried.unchanged_from == 1 and revalidated.unchanged_from is None
    assert {layer: _versions(db, layer) for layer in ("history", "staging")} == once
    # the same data under load 1, 2 or 3 (only the load named in "loads" differs)
    for load_id in ("1", "2"):
        assert _json(db, "--as-loaded", load_id) == after_a.replace(
            '"load_id": 1', f'"load_id": {load_id}'
        )


@pytest.mark.slow
def test_a_row_that_only_moved_keeps_its_version_and_takes_its_new_row_number(tmp_path, gx_runner):
    """Deleting R1 moves R2 up a row; a patient row read three times is three raw rows."""
    db = tmp_path / "w.duckdb"
    tables = extract_a()
    tables["patients"] += [
        {**tables["patients"][0], "patient_id": "PX", "nhs_number": "", "sex": "?"}
    ] * 2
    _load(tmp_path, "a", tables, db, gx_runner)
    tables["referrals"] = tables["referrals"][1:]
    tables["patients"].append(tables["patients"][-1])
    _load(tmp_path, "b", tables, db, gx_runner)
    with connect_readonly(db) as con:
        for layer in ("history", "staging"):
            assert con.execute(
                f"select referral_id, source_row, valid_from_load, valid_to_load "
                f"from {layer}.referrals order by referral_id"
            ).fetchall() == [("R1", 2, 1, 2), ("R2", 2, 1, None)], layer
        assert con.execute(
            "select source_row, valid_from_load from staging.patients "
            "where patient_id = 'PX' and valid_to_load is null order by 1"
        ).fetchall() == [(3, 1), (4, 1), (5, 2)]


@pytest.mark.slow
def test_a_grown_file_is_rewritten_with_the_same_data(tmp_path, gx_runner, monkeypatch, corrected):
    """Every load after the first rewrites the file here (growth limit 0): the data, its
    versions and the figures of each load are those of the warehouse that was not rewritten."""
    monkeypatch.setattr(warehouse, "REWRITE_AT_GROWTH", 0)
    db, after_a, after_a2, _ = corrected
    rewritten = tmp_path / "w.duckdb"
    _load(tmp_path, "a", extract_a(), rewritten, gx_runner)
    _load(tmp_path, "a2", extract_a_corrected(), rewritten, gx_runner)
    assert _json(rewritten) == after_a2 and _json(rewritten, "--as-loaded", "1") == after_a
    for layer in ("history", "staging"):
        assert _versions(rewritten, layer) == _versions(db, layer)
    with connect_readonly(rewritten) as con:
        (size,) = con.execute("select rewritten_bytes from audit.file_size").fetchone()
    assert 0 < size <= rewritten.stat().st_size
    assert not list(tmp_path.glob(".w.duckdb.loading-*"))  # no copy left behind


@pytest.mark.slow
def test_the_pack_states_the_loads_it_was_computed_from(corrected):
    db = corrected[0]
    then = build(Request(db, dt.date(2020, 1, 1), AS_OF_DATE, as_loaded="1"))
    now = build(Request(db, dt.date(2020, 1, 1), AS_OF_DATE))
    assert then.loads == (
        "load 1 (site main, extract as of 30 Jun 2024), as it stood then (--as-loaded 1), "
        "not the current data"
    )
    assert now.loads == "load 2 (site main, extract as of 30 Jun 2024)"
    assert then.figures["trials"]["responders"] == 1 and now.figures["trials"]["responders"] == 0
    provenance = then.sections[0].blocks[0].frame  # the pack's table of the loads used
    assert list(provenance["load_id"]) == [1]


def _next_month(previous, folder, month: int):
    """The previous extract with a month's edits: an appointment's status changed, an outcome
    deleted near the top of its file (every row below it moves), and a new outcome appended."""
    shutil.copytree(previous, folder)
    for table, edit in (("appointments", "change"), ("outcomes", "delete and add")):
        with open(folder / f"{table}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if edit == "change":
            row = rows[7 * month]
            row["status"] = "dna" if row["status"] == "attended" else "attended"
        else:
            del rows[month]
            rows.append({**rows[-1], "assessment_date": f"2026-{month:02d}-15"})
        with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


@pytest.mark.slow
def test_twelve_monthly_loads_each_reproduced_byte_for_byte(tmp_path, gx_runner):
    """Twelve loads of a generated extract, each a month's edits on the one before: --as-loaded
    each load prints exactly the JSON printed right after it, and history holds one version per
    row plus one per change."""
    as_of = dt.date(2026, 11, 1)
    extract = tmp_path / "m0"
    generate_extract(extract, patients=150, seed=3, as_of=as_of, fmt="csv")
    db = tmp_path / "w.duckdb"
    printed = []
    for month in range(12):
        if month:
            extract = _next_month(extract, tmp_path / f"m{month}", month)
        load_extract(extract, db, as_of=as_of, runner=gx_runner)
        printed.append(_json(db))
    assert len(set(printed)) == 12  # every month changed a figure, or at least its load
    for load_id, after_load in enumerate(printed, start=1):
        assert _json(db, "--as-loaded", str(load_id)) == after_load, load_id
    first_rows = sum(1 for _ in open(tmp_path / "m0" / "outcomes.csv")) - 1
    with connect_readonly(db) as con:
        versions, closed = con.execute(
            "select count(*), count(valid_to_load) from staging.outcomes"
        ).fetchone()
    assert (versions, closed) == (first_rows + 11, 11)  # moved rows made no version


# --- resolving --as-loaded (hand-made audit rows: no load needed) ------------------------------


def _loads(tmp_path, loads):
    """A warehouse whose audit.loads holds (load_id, site, finished_at) and whose snapshots are
    each site's last load."""
    w = Warehouse(tmp_path / "w.duckdb")
    for load_id, site, finished in loads:
        w.con.execute(
            "insert into audit.loads values (?, ?, ?, ?, ?, 'x', 'csv', '0', ?, '{}', null)",
            [load_id, site, finished, finished, finished.date(), load_id],
        )
        w.con.execute(
            "insert or replace into audit.site_snapshots values (?, ?, ?)",
            [site, load_id, finished.date()],
        )
    return w


LOADS = [
    (1, "north", dt.datetime(2026, 3, 1, 23, 59, 59)),
    (2, "south", dt.datetime(2026, 3, 2, 0, 0, 0)),
    (3, "north", dt.datetime(2026, 4, 1, 9, 0)),
]


@pytest.mark.parametrize(
    "as_loaded, pins",
    [
        (None, {"north": 3, "south": 2}),
        ("1", {"north": 1}),  # south had not loaded yet
        ("2", {"north": 1, "south": 2}),  # the other site at its latest load before
        ("3", {"north": 3, "south": 2}),
        ("2026-03-01", {"north": 1}),  # a load finished at 23:59:59 counts for its day
        ("2026-03-02", {"north": 1, "south": 2}),  # ... one at midnight for the next
        ("2026-03-31", {"north": 1, "south": 2}),
        ("2026-04-01", {"north": 3, "south": 2}),
        ("2030-01-01", {"north": 3, "south": 2}),
    ],
)
def test_resolve_loads(tmp_path, as_loaded, pins):
    w = _loads(tmp_path, LOADS)
    assert resolve_loads(w.con, as_loaded) == pins


@pytest.mark.parametrize(
    "as_loaded, message",
    [
        ("4", "--as-loaded 4: no load 4 in this warehouse"),
        ("0", "--as-loaded 0: no load 0 in this warehouse"),
        (
            "2026-02-28",
            "--as-loaded 2026-02-28: no load had finished by then (the first finished on "
            "2026-03-01)",
        ),
        ("last week", "--as-loaded 'last week': give a load id or a date YYYY-MM-DD"),
        ("2026-02-30", "--as-loaded '2026-02-30': give a load id or a date YYYY-MM-DD"),
        ("-1", "--as-loaded '-1': give a load id or a date YYYY-MM-DD"),
    ],
)
def test_a_bad_as_loaded_is_one_line_and_exit_2(tmp_path, as_loaded, message):
    w = _loads(tmp_path, LOADS)
    with pytest.raises(AsLoadedError) as raised:
        resolve_loads(w.con, as_loaded)
    assert str(raised.value) == message
    w.con.close()
    result = _kpis(w.path, "--as-loaded", as_loaded)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"kpis: {message}"]
    assert result.stdout == ""


def test_pinned_views_hold_the_versions_valid_at_each_sites_load(tmp_path):
    w = _loads(tmp_path, LOADS)
    for site, patient, valid_from, valid_to in [
        ("north", "P1", 1, 3),  # replaced by north's load 3
        ("north", "P1b", 3, None),
        ("north", "P2", 1, None),
        ("south", "P3", 2, None),
    ]:
        w.add("patients", site=site, patient_id=patient)
        w.con.execute(
            "update history.patients set valid_from_load = ?, valid_to_load = ? "
            "where patient_id = ?",
            [valid_from, valid_to, patient],
        )
    w.con.close()

    def pinned(loads):
        with connect_as_loaded(w.path, loads) as con:
            patients = con.execute("select patient_id from core.patients order by 1").fetchall()
            snapshots = con.execute(
                "select site, load_id from audit.site_snapshots order by 1"
            ).fetchall()
            loads_then = con.execute("select load_id from audit.loads order by 1").fetchall()
            return [p for (p,) in patients], snapshots, [i for (i,) in loads_then]

    assert pinned({"north": 1}) == (["P1", "P2"], [("north", 1)], [1])
    assert pinned({"north": 1, "south": 2}) == (
        ["P1", "P2", "P3"],
        [("north", 1), ("south", 2)],
        [1, 2],
    )
    assert pinned({"north": 3, "south": 2}) == (
        ["P1b", "P2", "P3"],
        [("north", 3), ("south", 2)],
        [1, 2, 3],
    )


# --- a warehouse made before history was kept -------------------------------------------------


def _as_before_history(db) -> None:
    """Turn a warehouse into the form the code before history wrote: core.* tables of the
    current rows, staging.* with a load_id column, no history.* nor audit.history_since."""
    with duckdb.connect(str(db)) as con:
        for t in TABLE_ORDER:
            columns = ", ".join(f'"{c}"' for c in TABLES[t].column_names)
            con.execute(f"create table core_{t} as select * from core.{t}")
            con.execute(f"drop view core.{t}")
            con.execute(f"create table core.{t} as select * from core_{t}")
            con.execute(f"drop table core_{t}")
            con.execute(
                f"create table staging.{t}_legacy as select valid_from_load as load_id, "
                f"source_file, source_row, {columns} from staging.{t}"
            )
            con.execute(f"drop table staging.{t}")
            con.execute(f"alter table staging.{t}_legacy rename to {t}")
            con.execute(f"drop table history.{t}")
        con.execute("drop table audit.history_since")
        con.execute("drop schema history")


@pytest.mark.slow
def test_a_warehouse_made_before_history_opens_and_is_migrated_by_its_next_load(
    tmp_path, gx_runner, loaded_a
):
    a, after_a, _ = loaded_a
    db = _copy(a, tmp_path)
    _as_before_history(db)
    with connect_readonly(db) as con:
        assert "history" not in {
            s for (s,) in con.execute("select schema_name from duckdb_schemas()").fetchall()
        }
    assert _json(db) == after_a  # it opens, with the same figures
    refused = _kpis(db, "--as-loaded", "1")
    assert refused.exit_code == 2 and refused.stderr.splitlines() == [
        "kpis: --as-loaded 1: this warehouse was made before load history was kept (its next "
        "load adds it); only its current figures can be read"
    ]
    _load(tmp_path, "a2", extract_a_corrected(), db, gx_runner)
    # load 1's rows were current when migrated: history holds them from load 1
    assert _json(db, "--as-loaded", "1") == after_a
    assert _versions(db, "history")["referrals"] == (3, 1)
    assert _versions(db, "staging")["trials"] == (2, 1)
    with connect_readonly(db) as con:
        assert con.execute("select * from audit.history_since").fetchall() == [("main", 1)]


def test_a_load_from_before_history_was_kept_cannot_be_read_as_loaded(tmp_path):
    w = _loads(tmp_path, LOADS)
    w.con.execute("insert into audit.history_since values ('north', 3)")
    with pytest.raises(AsLoadedError, match="site north's load 1 was made before this warehouse"):
        resolve_loads(w.con, "2")
    assert resolve_loads(w.con, "3") == {"north": 3, "south": 2}


def test_a_copy_of_a_warehouse_pins_the_same_loads(tmp_path):
    """connect_as_loaded only reads: the file's bytes are unchanged."""
    w = _loads(tmp_path, LOADS)
    w.con.close()
    copy = shutil.copyfile(w.path, tmp_path / "copy.duckdb")
    before = copy.read_bytes()
    with connect_as_loaded(copy, {"north": 1}) as con:
        con.execute("select * from core.patients").fetchall()
    assert copy.read_bytes() == before
