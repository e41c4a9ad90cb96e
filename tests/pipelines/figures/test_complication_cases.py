"""The complication case review (issue 12 item 6): days since the event's own pump and their
bands on the edge days, and the breakdowns by severity, surgery and time since implant, from
the hand-computed warehouse of kpi_fixtures.complication_cases."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines.config import Settings
from pipelines.figures.breakdowns import complications_by
from pipelines.figures.disclosure import SUPPRESSED, Disclosure
from pipelines.figures.kpis import Scope
from tests.fixtures.kpi_fixtures import END, START, complication_cases


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> pd.DataFrame:
    path = complication_cases(tmp_path_factory.mktemp("cases") / "w.duckdb")
    with duckdb.connect(str(path), read_only=True) as con:
        return Scope(START, END, None, Settings()).run(con, "complication_events").to_pandas()


def test_days_since_the_events_own_pump_and_their_bands(events):
    got = {
        r.complication_id: (
            None if pd.isna(r.days_since_implant) else int(r.days_since_implant),
            r.time_since_implant,
            r.counted,
        )
        for r in events.itertuples()
    }
    assert got == {
        "CA0": (0, "up_to_30_days", True),  # the implant day
        "CA30": (30, "up_to_30_days", True),  # day 30 is "≤ 30 days"
        "CA31": (31, "up_to_1_year", True),
        "CA2": (None, "no_pump_recorded", True),  # no implant_id, though a pump is in situ
        "CB365": (365, "up_to_1_year", True),  # day 365 (over 29 Feb) is "≤ 1 year"
        "CB366": (366, "over_1_year", True),
        "CC": (None, "no_pump_recorded", False),  # trial-related, never implanted
        "CD": (-12, "before_implant", False),  # dated before the pump it names
    }  # CB0 (2023-12-31) is before the period
    assert events.set_index("complication_id").loc["CA30", "pump_model"] == "SynchroMed II"


def test_breakdowns_count_every_event_of_the_period(events):
    def counts(by: str, d: Disclosure | None = None) -> dict:
        frame = complications_by(events, by) if d is None else complications_by(events, by, d)
        return {r[by]: (r["events"], r["patients"]) for r in frame.to_dict("records")}

    assert counts("severity") == {
        "mild": (3, 2),  # CA0, CA2, CC: A and C
        "moderate": (2, 2),  # CA30, CB365
        "severe": (2, 2),  # CA31, CD
        "not_recorded": (1, 1),  # CB366
    }
    assert counts("surgery") == {
        "surgery_needed": (3, 2),  # CA30, CA31, CD: A and D
        "no_surgery": (4, 3),  # CA0, CA2, CB365, CC
        "not_recorded": (1, 1),
    }
    assert counts("time_since_implant") == {
        "up_to_30_days": (2, 1),
        "up_to_1_year": (2, 2),
        "over_1_year": (1, 1),
        "before_implant": (1, 1),
        "no_pump_recorded": (2, 2),
    }
    # Suppressed (commissioner): every count of 1-7 is *; a value with no event stays 0.
    shown = counts("severity", Disclosure())
    assert set(shown.values()) == {(SUPPRESSED, SUPPRESSED)}
    none = complications_by(events.iloc[0:0], "severity", Disclosure())
    assert none["events"].tolist() == [0, 0, 0]  # no "not recorded" row without such an event
