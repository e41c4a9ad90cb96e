"""Reading a lake through the one warehouse address (pipelines.warehouse): `itb-audit kpis` and
`itb-audit report` on a lake give what they give on the file, a process holds one lake
connection and sees each new snapshot, and a lake that cannot be read is one line that never
shows the password."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines import lake, warehouse
from pipelines.cli import app as cli
from pipelines.figures.queries import run_query
from pipelines.lake import LakeAddress

PERIOD = ("--start", "2025-11-02", "--end", "2026-11-01")

pytestmark = [pytest.mark.lake, pytest.mark.slow]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def words(output: str) -> str:
    """The output's words without rich's box around an error."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def test_kpis_json_on_the_lake_is_the_files_byte_for_byte(sample_db: Path, sample_lake: str):
    on_file = run("kpis", "--db", str(sample_db), *PERIOD, "--json")
    on_lake = run("kpis", "--db", sample_lake, *PERIOD, "--json")
    assert on_file.exit_code == 0 and on_lake.exit_code == 0, on_lake.output
    assert '"seen": ' in on_file.stdout  # figures, not an empty result
    assert on_lake.stdout == on_file.stdout


@pytest.mark.parametrize("role", ["clinician", "commissioner"])
def test_the_pack_from_the_lake_is_the_files(
    sample_db: Path, sample_lake: str, tmp_path: Path, role: str
):
    """The HTML pack, every figure, chart and action list, the same but for when it was made."""
    packs = {}
    for name, db in (("file", str(sample_db)), ("lake", sample_lake)):
        out = tmp_path / f"{name}.html"
        result = run("report", "--db", db, *PERIOD, "--role", role, "--out", str(out))
        assert result.exit_code == 0, result.output
        html = out.read_text(encoding="utf-8")
        packs[name] = re.sub(r"<dt>Generated</dt><dd>[^<]*</dd>", "", html)
    assert "Waiting" in packs["file"]
    assert packs["lake"] == packs["file"]


def test_one_connection_per_process_and_each_read_sees_the_latest_snapshot(sample_lake: str):
    with warehouse.reading(sample_lake) as con:
        assert con.execute("select count(*) from core.patients").fetchone()[0] > 0
    held = warehouse._lakes[LakeAddress.parse(sample_lake)]
    before = warehouse.snapshot_stamp(sample_lake)
    writer = lake.connect()
    lake.attach_lake(writer, LakeAddress.parse(sample_lake))
    writer.execute("create table lake.main.scratch as select 42 as answer")
    try:
        after = warehouse.snapshot_stamp(sample_lake)
        assert before is not None and after is not None and after > before
        with warehouse.reading(sample_lake) as con:
            assert con.execute("from main.scratch").fetchall() == [(42,)]
        assert warehouse._lakes[LakeAddress.parse(sample_lake)] is held  # not reopened
    finally:
        writer.execute("drop table lake.main.scratch")
        writer.close()


def catalog_statements(capfd, read) -> str:
    """The statements the lake's catalog (PostgreSQL) is sent while `read` runs: the postgres
    extension prints each (to stderr) when told to."""
    held = warehouse._lakes[next(iter(warehouse._lakes))]
    capfd.readouterr()
    held.execute("set global pg_debug_show_queries = true")
    try:
        read()
    finally:
        held.execute("reset global pg_debug_show_queries")
    return capfd.readouterr().err


def test_a_query_reads_the_lakes_catalog_once(sample_lake: str, capfd):
    """The shared macros and the query are one lake transaction: one read of the catalog's
    snapshot, not one for each of the macros' statements."""
    with warehouse.reading(sample_lake) as con:
        run_query(con, "load_history/loads", site=None)  # the lake opened, its schema read
        sent = catalog_statements(capfd, lambda: run_query(con, "load_history/loads", site=None))
    assert sent.count("BEGIN TRANSACTION") == 1


def test_the_snapshot_stamp_is_one_catalog_query(sample_lake: str, capfd):
    """The stamp reads the snapshot id and binds audit.loads: one statement to the catalog,
    not the statistics of every table (duckdb_tables())."""
    warehouse.snapshot_stamp(sample_lake)  # the lake opened, its schema read
    sent = catalog_statements(capfd, lambda: warehouse.snapshot_stamp(sample_lake))
    assert len(re.findall(r"^(?:COPY|SELECT) ", sent, re.MULTILINE)) == 1, sent


def test_a_lake_without_loads_is_no_warehouse(postgres, tmp_path: Path, monkeypatch):
    """A reader never creates a lake: a database without one is refused, and so is a lake
    that nothing was loaded into."""
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    empty = postgres.address(tmp_path / "empty").replace(f"/{postgres.dbname}?", "/postgres?")
    refused = run("kpis", "--db", empty, *PERIOD, "--json")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "cannot attach the lake at" in words(refused.output)
    created = lake.connect()
    lake.attach_lake(created, LakeAddress.parse(empty))  # an empty lake, as a writer makes one
    created.close()
    result = run("kpis", "--db", empty, *PERIOD, "--json")
    assert result.exit_code == 2
    assert "nothing loaded in the lake at" in words(result.output)
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            {"password": "not-the-password-4711", "dbname": "never_opened"},
            "password authentication failed",
        ),
        ({"dbname": "no_such_lake"}, 'database "no_such_lake" does not exist'),
        ({"port": 1}, "Connection refused"),
    ],
)
def test_a_lake_that_cannot_be_read_is_one_error_without_the_password(
    postgres, tmp_path: Path, monkeypatch, change: dict, said: str
):
    """Each catalog names a database this process never opened: DuckDB shares one open
    database between the connections of a process, so one opened already needs no password."""
    password = change.get("password", postgres.password)
    monkeypatch.setenv("PGPASSWORD", password)
    address = postgres.address(tmp_path / "data")
    if "dbname" in change:
        address = address.replace(f"/{postgres.dbname}?", f"/{change['dbname']}?")
    if "port" in change:
        address = address.replace(f":{postgres.port}/", f":{change['port']}/")
    for command in (("kpis", "--json"), ("report", "--out", str(tmp_path / "pack.html"))):
        result = run(command[0], "--db", address, *PERIOD, *command[1:])
        assert result.exit_code == 2, result.output
        said_words = words(result.output)
        assert said in said_words and "cannot attach the lake" in said_words
        unboxed = "".join(said_words.split())  # a password the box broke over two lines too
        assert password not in unboxed and postgres.password not in unboxed
        assert "Traceback" not in result.output
    assert not (tmp_path / "pack.html").exists()


@pytest.mark.parametrize("listing", [("audit", "list"), ("action", "list")])
def test_audits_and_actions_list_from_the_lake_as_from_the_file(
    sample_db: Path, sample_lake: str, listing: tuple[str, str]
):
    on_file = run(*listing, "--db", str(sample_db))
    on_lake = run(*listing, "--db", sample_lake)
    assert on_file.exit_code == 0 and on_lake.exit_code == 0, on_lake.output
    assert on_lake.output == on_file.output
