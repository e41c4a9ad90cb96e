"""A recorded audit recomputes identically from the warehouse's history (the loads it names, the
settings it records) after a corrected extract has changed the current figures."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from pipelines.access.roles import Role
from pipelines.config import Settings
from pipelines.figures.kpis import compute_kpis
from pipelines.governance import records
from pipelines.load.snapshot import load_extract
from pipelines.warehouse import connect_as_loaded, connect_readonly
from tests.conftest import SAMPLE_AS_OF

pytestmark = pytest.mark.slow
SAMPLE = Path(__file__).resolve().parents[3] / "data_samples" / "clean"
AS_OF = dt.date.fromisoformat(SAMPLE_AS_OF)
PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))


def test_a_recorded_audit_recomputes_identically_from_history_while_current_figures_change(
    tmp_path, gx_runner
):
    db = tmp_path / "w.duckdb"
    load_extract(SAMPLE, db, as_of=AS_OF, runner=gx_runner)
    settings = Settings(wait_target_days=28)  # recorded with the audit, not today's
    with connect_readonly(db) as con:
        loads = records.current_loads(con, None)
        figures = compute_kpis(con, *PERIOD, settings=settings)
    editor = records.Editor("gail", Role.GOVERNANCE, tmp_path / "access.jsonl")
    audit_id = records.record_audit(
        db, editor, start=PERIOD[0], end=PERIOD[1], site=None, note=None, loads=loads,
        settings=settings, figures=figures, pack_sha256="0" * 64,
    )  # fmt: skip
    # The correction: the refills after 1 January 2026 were entered against the wrong clinic.
    corrected = tmp_path / "corrected"
    shutil.copytree(SAMPLE, corrected)
    refills = corrected / "refills.csv"
    header, *lines = refills.read_text(encoding="utf-8").splitlines(keepends=True)
    refills.write_text(
        "".join([header, *(line for line in lines if line.split(",")[3] < "2026-01-01")]),
        encoding="utf-8",
    )
    load_extract(corrected, db, as_of=AS_OF, runner=gx_runner)

    with connect_readonly(db) as con:
        audit = records.audit(con, audit_id)
    assert compute_kpis(db, *PERIOD, settings=settings)["refills"] != audit["figures"]["refills"]
    again_settings = records.settings_of(audit["figure_settings"], Settings())
    with connect_as_loaded(db, audit["loads"]) as con:
        again = compute_kpis(con, *PERIOD, settings=again_settings)
    assert again == audit["figures"]
