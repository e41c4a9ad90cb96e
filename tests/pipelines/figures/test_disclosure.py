"""Small-number suppression (NHS secondary-care disclosure control) on the KPI figures."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.config import Settings
from pipelines.figures.disclosure import SUPPRESSED, Disclosure, suppress_kpis
from pipelines.figures.intervals import wilson_interval
from pipelines.figures.kpis import compute_kpis
from tests.fixtures.kpi_fixtures import Warehouse

D = Disclosure()


@pytest.mark.parametrize("n, shown", [(None, None), (0, 0), (1, "*"), (7, "*"), (8, 10), (12, 10), (13, 15),
                                      (17, 15), (18, 20), (100, 100), (1003, 1005)])
def test_counts(n, shown):
    assert D.count(n) == shown


def test_statistics_on_one_to_seven_people_are_suppressed():
    assert D.statistic(36.5, 7) == SUPPRESSED
    assert D.statistic(36.5, 8) == 36.5
    assert D.statistic(None, 0) is None


def test_percentages_come_from_the_rounded_counts():
    # 12 of 38 -> 10 of 40 = 0.25, and the interval is Wilson's for 10 of 40.
    assert D.proportion("rate", 12, 38) == {"rate": 0.25, "rate_ci_low": wilson_interval(10, 40)[0],
                                           "rate_ci_high": wilson_interval(10, 40)[1]}
    assert D.proportion("rate", 3, 38)["rate"] == SUPPRESSED
    assert D.proportion("rate", 0, 0)["rate"] is None


def test_thresholds_are_settings():
    d = Disclosure.from_settings(Settings(disclosure_max_suppressed=5, disclosure_rounding_base=10))
    assert (d.count(5), d.count(6), d.count(14), d.count(16)) == ("*", 10, 10, 20)
    assert "1–5" in d.statement and "nearest 10" in d.statement


def test_a_site_with_three_infections_shows_a_star(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    w.small_site("infection")
    figures = w.kpis()
    shown = suppress_kpis(figures, D)
    infection = shown["complications"]["by_category"]["infection"]
    assert figures["complications"]["by_category"]["infection"]["events"] == 3
    assert infection["events"] == infection["patients"] == SUPPRESSED
    assert infection["patient_incidence"] == infection["rate_per_100_pump_years_ci_high"] == SUPPRESSED
    assert shown["complications"]["implanted_patients"] == 20
    # No weight gain: 0 of 20 is shown as is, and judged from that interval (0 to 16.1%).
    assert shown["complications"]["weight_gain_standard_status"] == figures["complications"][
        "weight_gain_standard_status"] == "not_shown"
    assert shown["complications"]["by_category"]["catheter"]["events"] == 0


def test_no_count_from_one_to_seven_survives_on_the_sample(sample_db):
    figures = compute_kpis(sample_db, dt.date(2016, 1, 1), dt.date(2026, 11, 1))
    shown = suppress_kpis(figures, D)

    def walk(value, path=""):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{path}.{key}")
        else:
            yield path, value

    for path, value in walk(shown):
        if isinstance(value, int) and not isinstance(value, bool):
            assert value == 0 or (value > 7 and value % 5 == 0), path
    # A large figure is rounded, not hidden, and its rate is from the rounded counts.
    raw = figures["refills"]
    assert shown["refills"]["on_time"] == D.count(raw["on_time"]) > 7
    assert shown["refills"]["rate"] == round(D.count(raw["on_time"]) / D.count(raw["on_time"] + raw["late"]), 6)


def test_the_weight_gain_judgement_is_suppressed_with_its_interval(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    w.small_site("weight_gain")
    figures = w.kpis()
    assert figures["complications"]["weight_gain_standard_status"] == "not_met"   # 3/20 = 15%
    assert suppress_kpis(figures, D)["complications"]["weight_gain_standard_status"] == SUPPRESSED
