"""The pack's "Since the last audit": this period's headline figures beside those recorded at
the last audit (never recomputed from today's data), and the audit's actions with overdue ones
in words. Both are made by the functions the Audits page calls."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.access.roles import Role
from pipelines.config import Settings
from pipelines.figures.comparisons import newcombe_difference
from pipelines.figures.disclosure import Disclosure
from pipelines.figures.kpis import compute_kpis
from pipelines.governance import records
from pipelines.report.content import action_rows, settings_changed, since_audit_rows
from pipelines.sections.audit import AUDITS
from pipelines.warehouse import connect_readonly
from tests.fixtures.kpi_fixtures import Warehouse

Q1 = (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
Q2 = (dt.date(2024, 4, 1), dt.date(2024, 6, 30))
SEEN = "Seen within the wait target"


def seen(w: Warehouse, rid: str, received: str, attended: str) -> None:
    w.add("referrals", referral_id=rid, patient_id=f"P{rid}", received_date=received)
    w.add(
        "appointments",
        appointment_id=f"A{rid}",
        patient_id=f"P{rid}",
        referral_id=rid,
        appointment_date=attended,
    )


@pytest.fixture
def audited(tmp_path):
    """Q1 2024 audited with 1 of 2 referrals seen within 42 days; then a correction adds a third
    (seen in 18 days: Q1 is now 2 of 3), and Q2 has 1 of 1."""
    w = Warehouse(tmp_path / "w.duckdb")
    seen(w, "R1", "2024-01-02", "2024-01-10")  # 8 days
    seen(w, "R2", "2024-01-02", "2024-03-30")  # 88 days
    w.mark_loaded()
    q1 = w.kpis(*Q1)
    w.close()
    editor = records.Editor("gail", Role.GOVERNANCE, tmp_path / "log.jsonl")
    records.record_audit(
        w.path,
        editor,
        start=Q1[0],
        end=Q1[1],
        site=None,
        note=None,
        loads={"main": 1},
        settings=Settings(),
        figures=q1,
        pack_sha256="0" * 64,
    )
    w = Warehouse(w.path)
    seen(w, "R3", "2024-01-02", "2024-01-20")  # the correction: 18 days
    seen(w, "R5", "2024-04-01", "2024-04-10")  # Q2
    w.close()
    return w.path, editor


def kpis(db, period):
    return compute_kpis(db, *period, settings=Settings())


def test_since_the_last_audit_compares_with_the_figures_recorded_not_recomputed(audited):
    db, _ = audited
    assert kpis(db, Q1)["waits"]["rate_within_target"] == pytest.approx(2 / 3, abs=1e-3)
    with connect_readonly(db) as con:
        last = records.last_audit(con, None, Q2[1])
    rows = since_audit_rows(kpis(db, Q2), last, None).set_index("figure")
    row = rows.loc[SEEN]
    assert (row["this period"], row["then"], row["change"]) == ("100.0%", "50.0%", "+50.0 pts")
    low, high = newcombe_difference(1, 1, 1, 2)
    assert row["change 95% CI"] == f"{low * 100:+.1f} to {high * 100:+.1f} pts"
    assert row["compared with"] == "audit 1, 1 Jan 2024 to 31 Mar 2024"
    assert "compared with" not in AUDITS.tables["since"].rows(rows.reset_index())  # in the title
    assert row["verdict"] == "no evidence of a change"
    # a view that suppresses small numbers compares only what it shows: 1 and 2 people are *
    shown = since_audit_rows(kpis(db, Q2), last, Disclosure()).set_index("figure")
    assert shown.loc[SEEN, "then"] == "*" and shown.loc[SEEN, "verdict"].startswith(
        "not compared: a figure is suppressed"
    )


def test_a_pack_with_other_settings_than_the_audit_says_so(audited):
    db, _ = audited
    with connect_readonly(db) as con:
        last = records.last_audit(con, None, Q2[1])
    assert settings_changed(last, Settings()) is None
    changed = settings_changed(last, Settings(wait_target_days=28))
    assert changed is not None and "(wait_target_days)" in changed


def test_actions_are_shown_with_status_and_overdue_in_words_and_notes_only_inside(audited):
    db, editor = audited
    action = records.Action(
        "finding", "Long waits", "Add a clinic", "Dr Ash", dt.date(2024, 6, 30), notes="Tuesdays"
    )
    records.add_action(db, editor, action, Settings())
    done = records.Action(
        "standard", "seen_within_target", "Triage", "Nurse B", dt.date(2024, 5, 1)
    )
    records.add_action(db, editor, done, Settings())
    records.update_action(db, editor, 2, Settings(), status="done")
    with connect_readonly(db) as con:
        agreed = records.actions(con, 1)
    on_due_day = action_rows(agreed, dt.date(2024, 6, 30), Role.GOVERNANCE)
    assert list(on_due_day["overdue"]) == ["no", "no"]
    day_after = action_rows(agreed, dt.date(2024, 7, 1), Role.GOVERNANCE)
    assert day_after.to_dict("records") == [
        {
            "audit": "1",
            "action": "1",
            "against": "Long waits",
            "what": "Add a clinic",
            "owner": "Dr Ash",
            "due": "30 Jun 2024",
            "status": "open",
            "overdue": "OVERDUE by 1 day",
            "notes": "Tuesdays",
        },
        {
            "audit": "1",
            "action": "2",
            "against": SEEN,
            "what": "Triage",
            "owner": "Nurse B",
            "due": "1 May 2024",
            "status": "done",
            "overdue": "no",
            "notes": "",
        },
    ]
    commissioner = action_rows(agreed, dt.date(2024, 7, 3), Role.COMMISSIONER)
    assert "notes" not in commissioner and commissioner.loc[0, "overdue"] == "OVERDUE by 3 days"
