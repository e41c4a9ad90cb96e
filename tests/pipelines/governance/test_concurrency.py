"""An action edited while a load of a 2,000-patient extract runs: the edit waits for the load's
lock, then is written on top of the load's result, so both persist; and the audit and actions
recorded before the load survive it."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from pipelines.access.roles import Role
from pipelines.config import Settings
from pipelines.governance import records
from pipelines.load.snapshot import load_extract
from pipelines.synthetic.generate import generate_extract
from pipelines.warehouse import connect_readonly

pytestmark = pytest.mark.slow
AS_OF = dt.date(2026, 11, 1)


def test_an_action_edited_during_a_load_and_the_load_both_persist(tmp_path, gx_runner):
    extract, db = tmp_path / "extract", tmp_path / "w.duckdb"
    generate_extract(extract, patients=2000, seed=13, as_of=AS_OF, fmt="csv")
    load_extract(extract, db, as_of=AS_OF, runner=gx_runner)
    editor = records.Editor("gail", Role.GOVERNANCE, tmp_path / "access.jsonl")
    with connect_readonly(db) as con:
        loads = records.current_loads(con, None)
    records.record_audit(
        db,
        editor,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 3, 31),
        site=None,
        note=None,
        loads=loads,
        settings=Settings(),
        figures={"period": {}},
        pack_sha256="0" * 64,
    )
    action = records.Action("finding", "Long waits", "Add a clinic", "Dr Ash", dt.date(2026, 6, 1))
    action_id = records.add_action(db, editor, action, Settings())

    inside, edit_started = threading.Event(), threading.Event()
    finished: dict[str, float] = {}

    def before_commit() -> None:
        # The load has copied the warehouse and written its snapshot into the copy: the window
        # in which an edit written to the live file would be lost at the swap.
        inside.set()
        assert edit_started.wait(60)
        time.sleep(0.5)  # the edit is now waiting for the lock

    def load() -> None:
        # a new as-of date: validated and written in full, not repeated from the last load
        load_extract(
            extract,
            db,
            as_of=AS_OF + dt.timedelta(days=1),
            runner=gx_runner,
            before_commit=before_commit,
        )
        finished["load"] = time.monotonic()

    def edit() -> None:
        edit_started.set()
        records.update_action(db, editor, action_id, Settings(), status="done")
        finished["edit"] = time.monotonic()

    loader = threading.Thread(target=load)
    loader.start()
    assert inside.wait(300), "the load never reached its commit"
    editing = threading.Thread(target=edit)
    editing.start()
    loader.join(300)
    editing.join(300)

    assert finished.keys() == {"load", "edit"}
    with connect_readonly(db) as con:
        assert records.current_loads(con, None) == {"main": 2}  # the load persisted
        assert records.actions(con).set_index("action_id").loc[action_id, "status"] == "done"
        assert records.audit(con, 1)["loads"] == loads  # recorded before the load: kept
    assert finished["edit"] > finished["load"]  # the edit waited for the load's lock
