"""Small-number suppression (NHS secondary-care disclosure control) on the KPI figures."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pipelines.config import Settings
from pipelines.figures.disclosure import SUPPRESSED, Disclosure, suppress_kpis
from pipelines.figures.intervals import wilson_interval
from pipelines.figures.kpis import compute_kpis
from tests.fixtures.kpi_fixtures import Warehouse

D = Disclosure()


@pytest.mark.parametrize(
    "n, shown",
    [
        (None, None),
        (0, 0),
        (1, "*"),
        (7, "*"),
        (8, 10),
        (12, 10),
        (13, 15),
        (17, 15),
        (18, 20),
        (100, 100),
        (1003, 1005),
    ],
)
def test_counts(n, shown):
    assert D.count(n) == shown


def test_statistics_on_one_to_seven_people_are_suppressed():
    assert D.statistic(36.5, 7) == SUPPRESSED
    assert D.statistic(36.5, 8) == 36.5
    assert D.statistic(None, 0) is None


def test_a_rate_needs_twenty_people_and_no_small_part():
    assert D.proportion("rate", 8, 12) == {  # rounded counts would say 10 of 10 = 100%
        "rate": "*",
        "rate_ci_low": "*",
        "rate_ci_high": "*",
        "rate_note": "* : fewer than 20 people behind it",
    }
    small_part = "* : 1–7 people in it or outside it"
    assert D.proportion("rate", 5, 30)["rate_note"] == small_part  # 5 in it
    assert D.proportion("rate", 27, 30)["rate_note"] == small_part  # 3 outside it
    assert D.proportion("rate", 0, 0)["rate"] is None
    assert D.proportion("rate", 0, 30)["rate"] == 0.0  # 0 is not a small count
    assert D.proportion("rate", 30, 30)["rate"] == 1.0


@pytest.mark.parametrize(
    "k, n, shown, step",
    [
        (13, 22, 0.6, "5"),  # rounded counts: 15 of 20 = 75%, 16 points above the true 59.1%
        (12, 38, 0.3, "5"),  # 31.6%; rounded counts: 10 of 40 = 25%
        (30, 49, 0.6, "5"),  # 61.2%: under 50 people the step is 5 points
        (31, 50, 0.62, "2"),  # 62.0%: from 50 the step is 2 points (1/50 of the people)
        (61, 199, 0.31, "1"),  # 30.7%
        (1701, 2122, 0.802, None),  # from 1,000 people the step is 0.1 point: printed as is
    ],
)
def test_a_shown_rate_is_from_the_exact_counts_rounded_to_one_persons_worth(k, n, shown, step):
    figures = D.proportion("rate", k, n)
    low, high = wilson_interval(k, n)
    size = 0.05 if step == "5" else 0.02 if step == "2" else 0.01 if step == "1" else 0.001
    assert figures["rate"] == shown and abs(shown - k / n) <= size / 2
    assert figures["rate_ci_low"] == round(round(low / size) * size, 6)
    assert figures["rate_ci_high"] == round(round(high / size) * size, 6)
    note = figures.get("rate_note")
    unit = "point" if step == "1" else "points"
    assert note == (
        f"rounded to the nearest {step} {unit} (one person's worth or more)" if step else None
    )


def test_a_shown_rate_never_sits_on_a_hidden_count():
    # A rate is shown only on 20 or more people, with its numerator and the rest each 0 or
    # over 7, so no rate next to a "*" can give that count back.
    for n in range(1, 300):
        shown = [D.proportion("rate", k, n)["rate"] for k in range(n + 1)]
        for k, rate in enumerate(shown):
            if rate != SUPPRESSED:
                assert n >= 20 and (k in (0, n) or 8 <= k <= n - 8), (k, n)


def test_a_rate_per_100_pump_years_is_from_the_exact_events():
    # 9 events in 120 pump-years of 25 patients: 7.5 per 100; rounded counts would say 8.3.
    figures = D.rate_per_100("r", 9, 120.0, 25)
    assert figures["r"] == 8.0 and figures["r_note"] == (
        "rounded to the nearest 1 per 100 pump-years (one event's worth or more)"
    )
    assert D.rate_per_100("r", 9, 120.0, 19)["r"] == "*"  # 19 patients behind it
    assert D.rate_per_100("r", 3, 120.0, 25)["r_note"] == "* : 1–7 people in it or outside it"


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
    assert (
        infection["patient_incidence"] == infection["rate_per_100_pump_years_ci_high"] == SUPPRESSED
    )
    assert shown["complications"]["implanted_patients"] == 20
    # No weight gain: 0 of 20 is shown as is, and judged from that interval (0 to 16.1%).
    assert (
        shown["complications"]["weight_gain_standard_status"]
        == figures["complications"]["weight_gain_standard_status"]
        == "not_shown"
    )
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

    assert shown["loads"] == figures["loads"] == {"main": {"load_id": 1, "as_of": "2026-11-01"}}
    for path, value in walk({k: v for k, v in shown.items() if k != "loads"}):  # ids, not counts
        if isinstance(value, int) and not isinstance(value, bool):
            assert value == 0 or (value > 7 and value % 5 == 0), path
    # A large figure is rounded, not hidden, and its rate is from the exact counts.
    raw = figures["refills"]
    assert shown["refills"]["on_time"] == D.count(raw["on_time"]) > 7
    assert abs(shown["refills"]["rate"] - raw["rate"]) <= 0.0005


def test_the_weight_gain_judgement_is_suppressed_with_its_interval(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    w.small_site("weight_gain")
    figures = w.kpis()
    assert figures["complications"]["weight_gain_standard_status"] == "not_met"  # 3/20 = 15%
    assert suppress_kpis(figures, D)["complications"]["weight_gain_standard_status"] == SUPPRESSED


def test_kpis_suppressed_is_the_commissioner_json(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import app
    from tests.fixtures.kpi_fixtures import small_service

    db = small_service(tmp_path / "small.duckdb")
    args = ["kpis", "--db", str(db), "--start", "2024-01-01", "--end", "2024-12-31", "--json"]
    exact = json.loads(CliRunner().invoke(app, args).stdout)
    result = CliRunner().invoke(app, [*args, "--suppressed"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(json.dumps(suppress_kpis(exact, D)))
    # 21 of 34 within target: 61.8% exactly, 60% to the nearest 5 points (not 20/35 = 57.1%)
    assert json.loads(result.stdout)["waits"]["rate_within_target"] == 0.6
