"""`itb-audit audit record/list` and `itb-audit action add/update/list`: the recorded pack's
hash is the hash of the pack written, the next pack compares against the audit and lists its
actions, and a refusal is one line with exit code 2."""

from __future__ import annotations

import hashlib

import pytest
from typer.testing import CliRunner

from pipelines.access import log as access_log
from pipelines.cli import app as cli
from pipelines.config import load_settings
from pipelines.governance import records
from pipelines.warehouse import connect_readonly


@pytest.fixture
def db(tmp_path, sample_db):
    path = tmp_path / "w.duckdb"
    path.write_bytes(sample_db.read_bytes())
    return path


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.slow
def test_an_audit_recorded_by_the_cli_is_compared_in_the_next_pack(db, tmp_path):
    pack = tmp_path / "q3.html"
    recorded = run(
        "audit", "record", "--db", db, "--start", "2025-07-01", "--end", "2025-09-30",
        "--note", "Q3", "--out", pack, "--by", "gail",
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    sha = hashlib.sha256(pack.read_bytes()).hexdigest()
    assert "audit 1 recorded" in recorded.stdout and sha in recorded.stdout
    listed = run("audit", "list", "--db", db).stdout.split("\t")
    assert listed[:4] == ["1", "2025-07-01..2025-09-30", "site all", "loads main:1"]
    assert listed[-1].strip() == sha
    with connect_readonly(db) as con:
        audit = records.audit(con, 1)
    assert audit["recorded_by"] == "gail" and audit["note"] == "Q3"
    assert audit["figures"]["period"] == {
        "start": "2025-07-01", "end": "2025-09-30", "as_of": "2025-09-30", "site": None,
    }  # fmt: skip
    added = run(
        "action", "add", "--db", db, "--standard", "refills_on_time", "--what", "Book ahead",
        "--owner", "Nurse B", "--due", "2025-12-01", "--notes", "weekly list", "--by", "gail",
    )  # fmt: skip
    assert added.exit_code == 0 and added.stdout.strip() == "action 1 added", added.output
    updated = run("action", "update", "--db", db, "1", "--status", "in progress")
    assert updated.exit_code == 0, updated.output
    listed = run("action", "list", "--db", db).stdout.strip().split("\t")
    assert listed[1:] == [
        "audit 1", "standard: refills_on_time", "Book ahead", "Nurse B", "due 2025-12-01",
        "in progress", "OVERDUE",
    ]  # fmt: skip
    events = access_log.read(load_settings().access.access_log)
    mine = events[events["role"] == records.COMMAND_LINE]
    assert list(mine["event"]) == ["action_updated", "action_added", "audit_recorded"]

    out = tmp_path / "q4.html"
    report = run("report", "--db", db, "--start", "2025-10-01", "--end", "2025-12-31", "--out", out)
    assert report.exit_code == 0, report.output
    html = out.read_text()
    assert "Headline figures since the last audit (audit 1, 1 Jul 2025 to 30 Sep 2025)" in html
    assert "Actions from the last audit" in html and "Book ahead" in html
    assert "weekly list" in html and "OVERDUE by" in html
    commissioner = tmp_path / "q4-commissioner.html"
    run(
        "report", "--db", db, "--start", "2025-10-01", "--end", "2025-12-31",
        "--out", commissioner, "--role", "commissioner",
    )  # fmt: skip
    shown = commissioner.read_text()
    assert "Book ahead" in shown and "weekly list" not in shown  # no free-text notes

    # The next audit's pack is made before it is recorded: it compares with audit 1, not itself.
    q4 = tmp_path / "q4-recorded.html"
    run(
        "audit", "record", "--db", db, "--start", "2025-10-01", "--end", "2025-12-31",
        "--out", q4,
    )  # fmt: skip
    assert "Headline figures since the last audit (audit 1," in q4.read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["action", "add", "--what", "x", "--owner", "y", "--due", "2025-01-01",
             "--finding", "f"],
            "not recorded: no audit recorded yet",
        ),
        (
            ["action", "add", "--what", "x", "--owner", "y", "--due", "2025-01-01"],
            "give one of --standard NAME or --finding TEXT",
        ),
        (["action", "update", "3", "--status", "done"], "not recorded: no action 3"),
        (["action", "update", "3"], "nothing to change"),
        (
            ["audit", "record", "--start", "2025-01-01", "--end", "2025-03-31",
             "--site", "nowhere"],
            "not recorded: no load for site nowhere",
        ),
    ],
)  # fmt: skip
def test_a_refused_change_is_one_line_and_exit_code_2(db, args, message):
    before = db.read_bytes()
    result = run(*args[:2], "--db", db, *args[2:])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert db.read_bytes() == before


def test_a_missing_warehouse_is_one_line_and_not_created(tmp_path):
    missing = tmp_path / "none.duckdb"
    for args in (
        ["action", "add", "--what", "x", "--owner", "y", "--due", "2025-01-01", "--finding", "f"],
        ["action", "list"],
        ["audit", "list"],
    ):
        result = run(*args[:2], "--db", missing, *args[2:])
        assert result.exit_code == 2 and "warehouse file not found" in result.stderr, args
    assert not missing.exists()
