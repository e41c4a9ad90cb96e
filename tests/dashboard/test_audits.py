"""The governance page Audits & actions: record the audit of the sidebar's period (the pack it
hashed offered to keep), add an action and update it, each in the warehouse and the access log."""

from __future__ import annotations

import hashlib

import pytest

from pipelines.access import log as access_log
from pipelines.access.roles import Role
from pipelines.config import load_settings
from pipelines.governance import records
from pipelines.warehouse import connect_readonly

pytestmark = pytest.mark.slow


def labelled(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_governance_records_an_audit_and_keeps_its_actions(
    app, sample_db, tmp_path, accounts, downloads
):
    db = tmp_path / "w.duckdb"
    db.write_bytes(sample_db.read_bytes())
    at = app(db, "audits", Role.GOVERNANCE)
    assert not at.exception, [e.value for e in at.exception]
    assert any("No audit recorded yet" in i.value for i in at.info)

    labelled(at.text_input, "Note (optional)").input("Year review")
    labelled(at.button, "Record this audit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Audit 1 recorded."]
    with connect_readonly(db) as con:
        audit = records.audit(con, 1)
    user = accounts[Role.GOVERNANCE][0]
    assert audit["recorded_by"] == user and audit["note"] == "Year review"
    assert audit["loads"] == {"main": 1}
    pack = downloads["itb-audit-1-governance-pack.html"]()
    assert hashlib.sha256(pack).hexdigest() == audit["pack_sha256"]

    labelled(at.radio, "Against").set_value("finding").run()
    labelled(at.text_input, "Finding (when against a finding)").input("DNAs rising")
    labelled(at.text_input, "What will be done").input("Text reminders")
    labelled(at.text_input, "Owner").input("Clinic manager")
    labelled(at.button, "Add the action").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Action 1 added to audit 1."]

    labelled(at.selectbox, "Status").set_value("done")
    labelled(at.button, "Save").click().run()
    assert [s.value for s in at.success] == ["Action 1 saved."]
    with connect_readonly(db) as con:
        action = records.actions(con).iloc[0]
    assert (action["what"], action["status"], action["updated_by"]) == (
        "Text reminders",
        "done",
        user,
    )
    shown = next(f.value for f in at.dataframe if "overdue" in f.value)
    assert list(shown["status"]) == ["Done"]  # codes in words, as every table

    events = access_log.read(load_settings().access.access_log)
    edits = events[(events["user"] == user) & (events["page"] == "audits")]
    assert {"audit_recorded", "action_added", "action_updated"} <= set(edits["event"])
