"""Audits and actions in the warehouse: what an audit records, which audit is "the last", the
actions' rules and overdue days, who may edit, and the access log of every edit."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import duckdb
import pytest

from pipelines.access import log as access_log
from pipelines.access.roles import Forbidden, Role
from pipelines.config import Settings, Standard
from pipelines.governance import records
from pipelines.governance.records import Action, Editor, GovernanceError
from pipelines.warehouse import connect_readonly
from tests.fixtures.kpi_fixtures import Warehouse

SETTINGS = Settings()
FIGURES = {"period": {"start": "2024-01-01", "end": "2024-03-31"}, "waits": {"seen": 3}}


@pytest.fixture
def db(tmp_path):
    """A warehouse with site main's load 1 current."""
    w = Warehouse(tmp_path / "w.duckdb")
    w.mark_loaded()
    w.close()
    return w.path


@pytest.fixture
def editor(tmp_path):
    return Editor("gail", Role.GOVERNANCE, tmp_path / "access.jsonl", page="audits")


def record(db, editor, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31), site=None, **kw):
    return records.record_audit(
        db,
        editor,
        start=start,
        end=end,
        site=site,
        note=kw.get("note"),
        loads=kw.get("loads", {"main": 1}),
        settings=kw.get("settings", SETTINGS),
        figures=FIGURES,
        pack_sha256="ab" * 32,
    )


def an_action(**changes) -> Action:
    fields = dict(
        against_kind="standard",
        against="seen_within_target",
        what="Add a Tuesday clinic",
        owner="Dr Ash",
        due_date=dt.date(2024, 6, 30),
    )
    return Action(**{**fields, **changes})


def test_an_audit_records_its_period_scope_loads_settings_figures_and_pack_hash(db, editor):
    audit_id = record(db, editor, note="  Q1 review  ", settings=Settings(wait_target_days=28))
    with connect_readonly(db) as con:
        found = records.audit(con, audit_id)
    assert audit_id == 1
    assert (found["period_start"], found["period_end"]) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 3, 31),
    )
    assert found["site"] is None and found["note"] == "Q1 review"
    assert found["loads"] == {"main": 1}
    assert found["figures"] == FIGURES and found["pack_sha256"] == "ab" * 32
    assert found["figure_settings"]["wait_target_days"] == 28
    # where files are is not part of the audit; how figures are computed is, standards included
    assert "access" not in found["figure_settings"]
    assert "pseudonym_key_file" not in found["figure_settings"]
    assert "extra_standards" in found["figure_settings"]
    assert found["recorded_by"] == "gail"
    logged = access_log.read(editor.access_log)
    assert list(logged["event"]) == ["audit_recorded"] and list(logged["user"]) == ["gail"]
    assert json.loads(logged.loc[0, "detail"])["loads"] == {"main": 1}


def test_the_recorded_settings_give_back_the_settings_the_figures_used(tmp_path):
    used = Settings(
        wait_target_days=28,
        battery_months={"synchromed ii": 90},
        extra_standards=(Standard("dna_low", "activity.dna_rate", "below", 0.1),),
    )
    recorded = json.loads(json.dumps(records.recorded_settings(used)))
    elsewhere = Settings(pseudonym_key_file=str(tmp_path / "key"))
    assert records.settings_of(recorded, elsewhere) == replace(
        used, pseudonym_key_file=elsewhere.pseudonym_key_file
    )


def test_governance_tables_of_an_attached_database_are_not_this_ones(db, editor):
    record(db, editor)
    con = duckdb.connect()
    con.execute(f"attach '{db}' as warehouse (read_only)")
    assert not records.has_records(con)
    assert records.last_audit(con, None, dt.date(2025, 1, 1)) is None


def test_an_audit_is_refused_when_a_load_replaced_its_snapshot_meanwhile(db, editor):
    before = db.read_bytes()
    with pytest.raises(GovernanceError, match="a load finished while the audit"):
        record(db, editor, loads={"main": 0})
    assert db.read_bytes() == before
    assert not editor.access_log.exists()


def test_the_last_audit_is_the_latest_recorded_of_the_same_scope_ending_before_the_period(
    db, editor
):
    q1 = record(db, editor)
    q2 = record(db, editor, start=dt.date(2024, 4, 1), end=dt.date(2024, 6, 30))
    site_q2 = record(db, editor, start=dt.date(2024, 4, 1), end=dt.date(2024, 6, 30), site="main")
    with connect_readonly(db) as con:
        last = lambda site, end: (records.last_audit(con, site, end) or {}).get("audit_id")  # noqa: E731
        assert last(None, dt.date(2024, 9, 30)) == q2
        assert last("main", dt.date(2024, 9, 30)) == site_q2
        # a period ending on the audit's own end is not "after" it: the one before is last
        assert last(None, dt.date(2024, 6, 30)) == q1
        assert last(None, dt.date(2024, 4, 1)) == q1
        assert last(None, dt.date(2024, 3, 31)) is None
        assert last("other", dt.date(2024, 9, 30)) is None


def test_a_warehouse_made_before_governance_records_reads_as_having_none(tmp_path):
    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()
    with connect_readonly(path) as con:
        assert records.audits(con).empty and records.actions(con).empty
        assert records.last_audit(con, None, dt.date(2024, 1, 1)) is None


def test_actions_belong_to_the_last_audit_by_default_and_every_edit_is_logged(db, editor):
    with pytest.raises(GovernanceError, match="no audit recorded yet"):
        records.add_action(db, editor, an_action(), SETTINGS)
    record(db, editor)
    second = record(db, editor, start=dt.date(2024, 4, 1), end=dt.date(2024, 6, 30))
    first_action = records.add_action(db, editor, an_action(), SETTINGS)
    finding = an_action(against_kind="finding", against=" DNAs rising ", notes=" pilot ")
    other = records.add_action(db, editor, finding, SETTINGS, audit_id=1)
    with pytest.raises(GovernanceError, match="no audit 9"):
        records.add_action(db, editor, an_action(), SETTINGS, audit_id=9)
    after = records.update_action(
        db, editor, other, SETTINGS, status="in progress", due_date=dt.date(2024, 7, 1)
    )
    assert after.status == "in progress" and after.against == "DNAs rising"
    with connect_readonly(db) as con:
        rows = records.actions(con).set_index("action_id")
    assert rows.loc[first_action, "audit_id"] == second and rows.loc[other, "audit_id"] == 1
    assert rows.loc[other, "notes"] == "pilot" and rows.loc[other, "due_date"] == dt.date(
        2024, 7, 1
    )
    logged = access_log.read(editor.access_log)
    assert list(logged["event"]) == [
        "action_updated",
        "action_added",
        "action_added",
        "audit_recorded",
        "audit_recorded",
    ]
    assert json.loads(logged.loc[0, "detail"]) == {
        "action_id": other,
        "changed": {
            "due_date": ["2024-06-30", "2024-07-01"],
            "status": ["open", "in progress"],
        },
    }
    records.update_action(db, editor, other, SETTINGS, status="in progress")  # no change
    assert len(access_log.read(editor.access_log)) == len(logged)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(against="no_such_standard"), "no standard 'no_such_standard'"),
        (dict(against_kind="hunch"), "against a standard or a finding"),
        (dict(against_kind="finding", against="  "), "needs a finding"),
        (dict(what=" "), "needs what"),
        (dict(owner=""), "needs owner"),
        (dict(status="closed"), "status 'closed' is not one of"),
        (dict(notes="ring 943 476 5919 first"), "notes holds a 10-digit number"),
        (dict(what="see 9434765919"), "what holds a 10-digit number"),
    ],
)
def test_an_action_that_cannot_be_taken_is_refused_and_nothing_changes(
    db, editor, changes, message
):
    record(db, editor)
    before = db.read_bytes()
    with pytest.raises(GovernanceError, match=message):
        records.add_action(db, editor, an_action(**changes), SETTINGS)
    assert db.read_bytes() == before
    with pytest.raises(GovernanceError, match="no action 5"):
        records.update_action(db, editor, 5, SETTINGS, status="done")
    assert db.read_bytes() == before


def test_an_action_is_overdue_only_while_open_and_after_its_due_day():
    due = dt.date(2024, 6, 30)
    action = an_action(due_date=due)
    assert not action.overdue(due)  # due today: not yet overdue
    assert action.overdue(due + dt.timedelta(days=1))
    assert an_action(due_date=due, status="in progress").overdue(dt.date(2024, 7, 1))
    for closed in ("done", "dropped"):
        assert not an_action(due_date=due, status=closed).overdue(dt.date(2025, 1, 1))


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.GOVERNANCE])
def test_only_governance_records_audits_and_edits_actions(db, tmp_path, role):
    other = Editor("olly", role, tmp_path / "access.jsonl")
    governance = Editor("gail", Role.GOVERNANCE, tmp_path / "access.jsonl")
    record(db, governance)
    action_id = records.add_action(db, governance, an_action(), SETTINGS)
    before = db.read_bytes()
    with pytest.raises(Forbidden):
        record(db, other)
    with pytest.raises(Forbidden):
        records.add_action(db, other, an_action(), SETTINGS)
    with pytest.raises(Forbidden):
        records.update_action(db, other, action_id, SETTINGS, status="done")
    assert db.read_bytes() == before


def test_no_warehouse_file_is_refused_not_created(tmp_path, editor):
    missing = tmp_path / "none.duckdb"
    with pytest.raises(GovernanceError, match="warehouse file not found"):
        record(missing, editor)
    assert not missing.exists()
