"""The complication case review on the Complications page (issue 12 item 6): the breakdowns for
every role (suppressed for a commissioner), the case list with local ids for a clinician and
pseudonyms for governance, and no case row for a commissioner, on the page or in a download."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from pipelines.access.roles import Role
from pipelines.figures.breakdowns import CASE_BREAKDOWNS
from pipelines.figures.disclosure import SUPPRESSED
from tests.fixtures.kpi_fixtures import complication_cases

CASE_LIST = "complication-case-list"


@pytest.fixture
def cases(tmp_path) -> Path:
    return complication_cases(tmp_path / "cases.duckdb")


def case_review(at) -> tuple[pd.DataFrame | None, dict[str, pd.DataFrame]]:
    """The case list shown (None when there is none) and the breakdowns by their first column."""
    frames = [t.value for t in at.main.dataframe]
    listed = next((f for f in frames if "days_since_implant" in f), None)
    by = {f.columns[0]: f for f in frames if f.columns[0] in CASE_BREAKDOWNS}
    return listed, by


@pytest.mark.slow
def test_a_clinician_reviews_every_case_with_its_days_since_implant(app, cases, downloads):
    at = app(cases, "complications", Role.CLINICIAN)
    assert not at.exception
    listed, by = case_review(at)
    assert listed is not None and len(listed) == 8  # CB0 is before the period
    assert sorted(listed["days_since_implant"].dropna()) == [-12, 0, 30, 31, 365, 366]
    assert set(listed["patient_id"]) == {"A", "B", "C", "D"}
    assert set(listed["implant_id"].dropna()) == {"IA", "IB", "ID"}
    assert dict(zip(by["severity"]["severity"], by["severity"]["events"], strict=True)) == {
        "Mild": 3,
        "Moderate": 2,
        "Severe": 2,
        "Not recorded": 1,
    }
    assert by["surgery"]["events"].tolist() == [3, 4, 1]
    assert by["time_since_implant"]["events"].tolist() == [2, 2, 1, 1, 2]
    # Each table shows its definition (its note under "What this shows").
    notes = " ".join(m.value for m in at.main.markdown)
    assert "day 30 included" in notes and "Days since implant" in notes
    assert "the follow-up its source reports" in notes
    downloaded = pd.read_csv(io.BytesIO(downloads[f"{CASE_LIST}.csv"]()))
    assert len(downloaded) == 8


@pytest.mark.slow
def test_governance_reviews_the_cases_under_pseudonyms(app, cases):
    listed, _ = case_review(app(cases, "complications", Role.GOVERNANCE))
    assert listed is not None and len(listed) == 8
    assert listed["patient_id"].str.startswith("PSN-").all()
    assert listed["implant_id"].dropna().str.startswith("IMP-").all()


@pytest.mark.slow
def test_a_commissioner_sees_suppressed_breakdowns_and_no_case(app, cases, downloads):
    at = app(cases, "complications", Role.COMMISSIONER)
    assert not at.exception
    listed, by = case_review(at)
    assert listed is None
    assert set(by) == {"severity", "surgery", "time_since_implant"}
    for frame in by.values():
        assert set(frame["events"]) == {SUPPRESSED} and set(frame["patients"]) == {SUPPRESSED}
    assert any("the complication case list" in c.value for c in at.main.caption)
    assert not [name for name in downloads if name.startswith(CASE_LIST)]
    for name, make in downloads.items():
        if name.endswith(".csv"):
            text = make().decode()
            assert "days_since_implant" not in text and "patient_id" not in text, name
