"""The dashboard renders from the warehouse, says what to do when it is empty, and never imports
Great Expectations (5 s and 260 MB the dashboard process does not need)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture
def app(monkeypatch):
    def run(db: Path) -> AppTest:
        monkeypatch.setenv("ITB_AUDIT_DB", str(db))
        return AppTest.from_file(APP, default_timeout=60).run()
    return run


def test_data_quality_page_shows_the_sample_load(app, sample_db):
    at = app(sample_db)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sites loaded"] == "1"
    assert metrics["Rows quarantined (current loads)"] == "0"
    assert int(metrics["Rows accepted (current loads)"]) > 1000


def test_empty_warehouse_asks_for_a_load(app, tmp_path):
    at = app(tmp_path / "missing.duckdb")
    assert not at.exception
    assert "Load an extract" in at.info[0].value


def test_dashboard_process_does_not_import_great_expectations(sample_db):
    code = (
        "import os, sys; from streamlit.testing.v1 import AppTest; "
        f"os.environ['ITB_AUDIT_DB'] = {str(sample_db)!r}; "
        f"AppTest.from_file({APP!r}, default_timeout=60).run(); "
        "print(any(m.startswith('great_expectations') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
