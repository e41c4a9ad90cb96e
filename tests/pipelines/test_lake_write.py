"""Writes to a lake (pipelines.warehouse.writing): loads of several sites from several processes
all succeed, one snapshot each named by its load id; readers in another process see whole
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
from pipelines.figures.kpis import compute_kpis
from pipelines.load.snapshot import load_extract
from tests.fixtures.extract_builder import SITE_AS_OF, site_extract, write_csv_extract

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
