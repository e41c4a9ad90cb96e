"""Writes to a lake (pipelines.warehouse.writing): loads of several sites from several processes
all succeed, one snapshot each named by its load id, validating at once while only their writes
queue (a load whose site another load changed meanwhile validates again); readers in another
process see whole
states only while loads commit; a load killed before its commit leaves the lake as it was and
`maintain` removes what it left; the past reads back (AT VERSION, --as-loaded); audits and
actions are recorded on a lake as on a file."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.cli import app as cli
from pipelines.contract import TABLES
from pipelines.figures.kpis import compute_kpis
from pipelines.load import snapshot, validate
from pipelines.load.read import LoadRefused
from pipelines.load.snapshot import load_extract
from tests.fixtures.extract_builder import AS_OF as BUILDER_AS_OF
from tests.fixtures.extract_builder import (
    SITE_AS_OF,
    base_extract,
    site_extract,
    write_csv_extract,
)

pytestmark = [pytest.mark.lake, pytest.mark.slow]

AS_OF = dt.date.fromisoformat(SITE_AS_OF)
START = dt.date(2024, 1, 1)
SAMPLE = Path(__file__).resolve().parents[2] / "data_samples" / "clean"


@pytest.fixture
def lake_db(postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new lake of its own (its own database: its own write lock), password in PGPASSWORD."""
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    return postgres.new_lake(tmp_path / "data")


def extract_of(tmp_path: Path, site: str, patients: int = 3) -> Path:
    serial = 100 * (ord(site[0]) - ord("A") + 1)
    return write_csv_extract(
        tmp_path / f"extract-{site}-{patients}", site_extract(site, serial, patients)
    )


def load_command(extract: Path, db: str, site: str) -> list[str]:
    return [
        sys.executable, "-m", "pipelines.cli", "load", str(extract), "--db", db,
        "--site", site, "--as-of", SITE_AS_OF, "--json",
    ]  # fmt: skip


def named_commits(db: str) -> list[tuple[str, dict]]:
    """(message, extra info) of every snapshot itb-audit committed, oldest first."""
    with warehouse.reading(db) as con:
        rows = con.execute(
            "select commit_message, commit_extra_info from ducklake_snapshots(current_database()) "
            "where author = 'itb-audit' order by snapshot_id"
        ).fetchall()
    return [(message, json.loads(extra)) for message, extra in rows]


def test_three_sites_loading_at_once_from_three_processes_all_succeed(lake_db, tmp_path):
    sites = ("A", "B", "C")
    loads = [
        subprocess.Popen(
            load_command(extract_of(tmp_path, site), lake_db, site),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for site in sites
    ]
    outcomes = [load.communicate(timeout=120) for load in loads]
    assert [load.returncode for load in loads] == [0, 0, 0], [err for _, err in outcomes]
    load_ids = {json.loads(out)["site"]: json.loads(out)["load_id"] for out, _ in outcomes}
    assert sorted(load_ids.values()) == [1, 2, 3]
    # Each load is one snapshot, named by its load id, committed once.
    commits = named_commits(lake_db)
    assert sorted(commits, key=lambda c: c[1]["load_id"]) == [
        (f"load {load_ids[site]}", {"load_id": load_ids[site], "site": site})
        for site in sorted(sites, key=load_ids.__getitem__)
    ]
    with warehouse.reading(lake_db) as con:
        current = dict(con.execute("select site, load_id from audit.site_snapshots").fetchall())
        patients = dict(
            con.execute("select site, count(*) from core.patients group by site").fetchall()
        )
    assert current == load_ids
    assert patients == {"A": 3, "B": 3, "C": 3}  # the quarantined fourth patient of each left out


HOLDS_THE_LOCK = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from pipelines.load.snapshot import load_extract
    extract, db, site, holding, other_validated = sys.argv[1:]

    def wait_for_the_other():  # called under the write lock, just before the commit
        Path(holding).touch()
        deadline = time.time() + 90
        while not Path(other_validated).exists():
            if time.time() > deadline:
                sys.exit("the other load did not validate while this one held the write lock")
            time.sleep(0.05)

    load_extract(extract, db, site=site, as_of=dt.date(2024, 12, 31),
                 before_commit=wait_for_the_other)
    """
)
NOTES_ITS_VALIDATION = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    from pipelines.load import snapshot
    extract, db, site, validated = sys.argv[1:]
    validate_extract = snapshot.validate_extract

    def noted(*args, **kwargs):
        done = validate_extract(*args, **kwargs)
        Path(validated).touch()
        return done

    snapshot.validate_extract = noted
    snapshot.load_extract(extract, db, site=site, as_of=dt.date(2024, 12, 31))
    """
)


def test_a_load_validates_while_another_holds_the_write_lock(lake_db, tmp_path):
    """Site B's load validates while site A's holds the lake's write lock (A waits, just before
    its commit, until B has validated): only the writes queue. Were B to validate under the
    lock, A would wait for it in vain."""
    holding, validated = tmp_path / "a-holds-the-lock", tmp_path / "b-validated"
    a = subprocess.Popen(
        [sys.executable, "-c", HOLDS_THE_LOCK, str(extract_of(tmp_path, "A")), lake_db, "A",
         str(holding), str(validated)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.time() + 120
    while not holding.exists():
        assert a.poll() is None and time.time() < deadline, a.communicate()[1]
        time.sleep(0.1)
    b = subprocess.Popen(
        [sys.executable, "-c", NOTES_ITS_VALIDATION, str(extract_of(tmp_path, "B")), lake_db,
         "B", str(validated)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    errors = [load.communicate(timeout=240)[1] for load in (a, b)]
    assert [a.returncode, b.returncode] == [0, 0], errors
    # A committed first (it held the lock), then B wrote what it had validated meanwhile.
    assert [message for message, _ in named_commits(lake_db)] == ["load 1", "load 2"]
    with warehouse.reading(lake_db) as con:
        current = con.execute("select site, load_id from audit.site_snapshots order by site")
        assert current.fetchall() == [("A", 1), ("B", 2)]
        patients = con.execute("select site, count(*) from core.patients group by site")
        assert sorted(patients.fetchall()) == [("A", 3), ("B", 3)]


def _outcome(db: str | Path) -> dict[str, list]:
    """What a load of site A leaves that a file and a lake must agree on."""
    with warehouse.reading(db) as con:
        return {
            name: con.execute(f"select * from {name} order by all").fetchall()
            for name in (
                *(f"core.{table}" for table in TABLES),
                "audit.quarantine",
                "audit.load_tables",
                "audit.expectation_results",
                "audit.row_verdicts",
                "audit.verdicts_reached",
                "audit.site_snapshots",
            )
        }


def test_a_load_whose_site_was_loaded_while_it_validated_validates_again(
    lake_db, tmp_path, gx_runner
):
    """A load of site A reads A's verdicts and validates against them before the write lock;
    another load of site A commits in between (before_write). Its verdicts to forget and to add
    are a change to verdicts A no longer has, so it validates again under the lock: the lake
    ends as a file does after the same three loads one after another, the last validated in
    full, with no verdict lost or kept twice."""
    as_of = dt.date.fromisoformat(BUILDER_AS_OF)
    tables = base_extract()
    tables["outcomes"].append({**tables["outcomes"][0], "measure": "pain_nrs", "value": "7"})
    first = write_csv_extract(tmp_path / "first", tables)
    tables["outcomes"][1]["value"] = "8"
    meanwhile = write_csv_extract(tmp_path / "meanwhile", tables)
    tables["outcomes"][1]["value"] = "7"
    tables["outcomes"][0]["value"] = "2"
    last = write_csv_extract(tmp_path / "last", tables)

    def load(extract: Path, db: str | Path, **kw) -> snapshot.LoadResult:
        return load_extract(extract, db, site="A", as_of=as_of, runner=gx_runner, **kw)

    load(first, lake_db)
    result = load(last, lake_db, before_write=lambda: load(meanwhile, lake_db))
    # Against the first load's verdicts one outcome row is new (value 2); against those of the
    # load in between, both are (value 2, and 7 where it had 8).
    assert {t: n for t, n in result.rows_through_gx.items() if n} == {"outcomes": 2}
    assert result.load_id == 3
    file = tmp_path / "w.duckdb"
    load(first, file)
    load(meanwhile, file)
    load(last, file, incremental=False)
    lake, full = _outcome(lake_db), _outcome(file)
    for part in full:
        assert lake[part] == full[part], part
    hashes = [(suite, h) for _, suite, h, *_ in lake["audit.row_verdicts"]]
    assert len(hashes) == len(set(hashes))


def test_a_load_refused_at_its_write_leaves_the_lake_as_it_was(
    lake_db, tmp_path, gx_runner, monkeypatch
):
    """A key validation let through twice (validation made to miss it) is caught in the write,
    under the lock: the load is refused, the lake keeps its snapshot, the lock is let go."""
    first = load_extract(
        extract_of(tmp_path, "A"), lake_db, site="A", as_of=AS_OF, runner=gx_runner
    )
    stamp = warehouse.snapshot_stamp(lake_db)
    all_issues = validate._issues

    def without_duplicate_keys(*args):
        found = {
            row: [i for i in issues if i.reason_code != "duplicate_key"]
            for row, issues in all_issues(*args).items()
        }
        return {row: issues for row, issues in found.items() if issues}

    tables = site_extract("B", 200)
    tables["trials"].append({**tables["trials"][0], "outcome": "negative"})
    with monkeypatch.context() as patched:
        patched.setattr(validate, "_issues", without_duplicate_keys)
        with pytest.raises(LoadRefused, match=r"trials\.csv: accepted rows share a key"):
            load_extract(
                write_csv_extract(tmp_path / "twin", tables),
                lake_db,
                site="B",
                as_of=AS_OF,
                runner=gx_runner,
            )
    assert warehouse.snapshot_stamp(lake_db) == stamp
    second = load_extract(
        extract_of(tmp_path, "B"), lake_db, site="B", as_of=AS_OF, runner=gx_runner
    )
    assert second.load_id == first.load_id + 1


READER = textwrap.dedent(
    """
    import datetime as dt, json, sys
    from pathlib import Path
    from pipelines.figures.kpis import compute_kpis
    db, out, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    with out.open("a") as reads:
        while not stop.exists():
            try:
                read = json.dumps(compute_kpis(db, dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
            except Exception as e:
                read = "failed: " + repr(e)
            print(read, file=reads, flush=True)
    """
)


def test_a_reader_in_another_process_sees_whole_states_while_loads_commit(
    lake_db, tmp_path, gx_runner
):
    """Every KPI JSON a reader computes, in a loop, while two loads commit is the lake's state
    before the loads, between them or after them: never a failure, never a mix of two."""
    load_extract(extract_of(tmp_path, "A"), lake_db, site="A", as_of=AS_OF, runner=gx_runner)
    states = [json.dumps(compute_kpis(lake_db, START, AS_OF))]
    out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    out.touch()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, lake_db, str(out), str(stop)],
        stderr=subprocess.PIPE,
        text=True,
    )

    def reads_after(count: int) -> None:
        """Wait for the reader to finish a read begun after it had made `count`."""
        deadline = time.time() + 120
        while len(out.read_text().splitlines()) < count + 2:
            assert reader.poll() is None and time.time() < deadline, "the reader stopped"
            time.sleep(0.05)

    reads_after(0)
    for site, patients in (("B", 3), ("A", 5)):
        load_extract(
            extract_of(tmp_path, site, patients), lake_db, site=site, as_of=AS_OF, runner=gx_runner
        )
        states.append(json.dumps(compute_kpis(lake_db, START, AS_OF)))
        reads_after(len(out.read_text().splitlines()))
    stop.touch()
    _, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    reads = out.read_text().splitlines()
    assert [read for read in reads if read.startswith("failed")] == []
    assert len(set(states)) == 3  # three different states to tell apart
    assert set(reads) <= set(states)  # no mixed read
    assert states[0] in reads and states[-1] in reads


KILLED_AT_COMMIT = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from pipelines.load.snapshot import load_extract

    def wait_to_be_killed():
        Path(sys.argv[3]).touch()
        time.sleep(120)

    load_extract(sys.argv[1], sys.argv[2], site="main", as_of=dt.date(2026, 11, 1),
                 before_commit=wait_to_be_killed)
    """
)


def test_a_load_killed_before_its_commit_leaves_the_lake_as_it_was(lake_db, tmp_path, gx_runner):
    first = load_extract(
        extract_of(tmp_path, "A"), lake_db, site="A", as_of=AS_OF, runner=gx_runner
    )
    data = Path(warehouse.lake_address(lake_db).data_path)
    files_before = set(data.rglob("*.parquet"))
    stamp = warehouse.snapshot_stamp(lake_db)
    ready = tmp_path / "about-to-commit"
    load = subprocess.Popen(
        [sys.executable, "-c", KILLED_AT_COMMIT, str(SAMPLE), lake_db, str(ready)],
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while not ready.exists():
        assert load.poll() is None and time.time() < deadline, "the load ended before its commit"
        time.sleep(0.1)
    os.kill(load.pid, signal.SIGKILL)
    load.wait()
    orphans = set(data.rglob("*.parquet")) - files_before
    assert orphans  # the killed load had written its rows' files

    # The lake is readable and as it was: the same snapshot, the same load, no site "main".
    assert warehouse.snapshot_stamp(lake_db) == stamp
    with warehouse.reading(lake_db) as con:
        assert con.execute("select site, load_id from audit.site_snapshots").fetchall() == [
            ("A", first.load_id)
        ]
        assert con.execute("select count(*) from core.patients").fetchone() == (3,)
    # The next load takes the lock the killed one held (PostgreSQL ended it with its session).
    second = load_extract(SAMPLE, lake_db, site="main", as_of=AS_OF, runner=gx_runner)
    assert second.load_id == first.load_id + 1
    result = CliRunner().invoke(cli, ["maintain", "--db", lake_db])
    assert result.exit_code == 0, result.output
    assert "orphan files deleted" in result.output
    assert not any(path.exists() for path in orphans)
    with warehouse.reading(lake_db) as con:  # what maintain merged and kept still reads
        rows = con.execute("select site, count(*) from core.patients group by site order by site")
        assert rows.fetchall() == [("A", 3), ("main", second.tables["patients"].rows_accepted)]


def test_the_past_reads_back_by_snapshot_and_by_load(lake_db, tmp_path, gx_runner):
    """After site A's second load, its first reads back: the lake's own snapshot (AT VERSION)
    and --as-loaded (history.*, which maintain never expires) give the earlier figures."""
    load_extract(extract_of(tmp_path, "A", 3), lake_db, site="A", as_of=AS_OF, runner=gx_runner)
    earlier = compute_kpis(lake_db, START, AS_OF)
    stamp = warehouse.snapshot_stamp(lake_db)
    assert stamp is not None
    version = stamp[0]
    load_extract(extract_of(tmp_path, "A", 5), lake_db, site="A", as_of=AS_OF, runner=gx_runner)
    later = compute_kpis(lake_db, START, AS_OF)
    assert later != earlier
    with warehouse.reading(lake_db) as con:
        current = "select count(*) from history.patients{} where valid_to_load is null"
        assert con.execute(current.format(f" at (version => {version})")).fetchone() == (3,)
        assert con.execute(current.format("")).fetchone() == (5,)
    assert CliRunner().invoke(cli, ["maintain", "--db", lake_db]).exit_code == 0
    assert compute_kpis(lake_db, START, AS_OF, as_loaded="1") == earlier
    result = CliRunner().invoke(
        cli,
        ["kpis", "--db", lake_db, "--start", str(START), "--end", str(AS_OF), "--json",
         "--as-loaded", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == earlier


def test_audits_and_actions_are_written_to_a_lake_each_in_a_named_commit(
    lake_db, tmp_path, gx_runner
):
    from pipelines.config import Settings
    from pipelines.governance import records
    from pipelines.governance.records import Action, Editor

    load_extract(extract_of(tmp_path, "A"), lake_db, site="A", as_of=AS_OF, runner=gx_runner)
    editor = Editor("gail", None, tmp_path / "access.jsonl", page="cli")
    settings = Settings()
    audit_id = records.record_audit(
        lake_db,
        editor,
        start=START,
        end=AS_OF,
        site=None,
        note="first",
        loads={"A": 1},
        settings=settings,
        figures={"waits": {"seen": 3}},
        pack_sha256="ab" * 32,
    )
    action = Action("standard", settings.standards[0].name, "Add a clinic", "Dr Ash", AS_OF)
    action_id = records.add_action(lake_db, editor, action, settings)
    records.update_action(lake_db, editor, action_id, settings, status="done")
    with warehouse.reading(lake_db) as con:
        assert records.audit(con, audit_id)["note"] == "first"
        assert records.actions(con)["status"].tolist() == ["done"]
    assert [message for message, _ in named_commits(lake_db)] == [
        "load 1",
        f"audit {audit_id} recorded",
        f"action {action_id} added",
        f"action {action_id} updated",
    ]


def test_a_load_into_a_lake_it_cannot_open_is_one_line_without_the_password(
    postgres, tmp_path, monkeypatch
):
    monkeypatch.setenv("PGPASSWORD", "not-the-password-4711")
    address = postgres.address(tmp_path / "data", dbname="never_opened_for_a_load")
    result = CliRunner().invoke(
        cli, ["load", str(extract_of(tmp_path, "A")), "--db", address, "--as-of", SITE_AS_OF]
    )
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith("load refused: cannot ") and "\n" not in line
    assert f"the lake at {postgres.host}:{postgres.port}/never_opened_for_a_load: " in line
    assert "password authentication failed" in line and "not-the-password-4711" not in line


def test_maintain_writes_a_file_afresh_with_the_same_figures(sample_db, tmp_path):
    db = tmp_path / "w.duckdb"
    db.write_bytes(sample_db.read_bytes())
    end = dt.date(2026, 11, 1)
    before = compute_kpis(db, dt.date(2025, 11, 2), end)
    result = CliRunner().invoke(cli, ["maintain", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"maintained {db}: bytes before ")
    assert compute_kpis(db, dt.date(2025, 11, 2), end) == before
    missing = CliRunner().invoke(cli, ["maintain", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "warehouse file not found" in missing.output
