"""The dashboard's own figures (pipelines.figures.breakdowns): breakdowns of a mart's rows and the
statistics behind its charts, each against a hand-computed fixture."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from pipelines.contract import MEASURES
from pipelines.figures import breakdowns
from pipelines.figures.breakdowns import forecast_coverage, observed_life_forecast
from pipelines.figures.kpis import outcomes_figures, waits_figures


def test_response_by_dose():
    trials = pd.DataFrame(
        {
            "dose_mcg": [50.0, 50, 50, 75, 75, np.nan],
            "outcome": ["positive", "negative", "inconclusive", "positive", "positive", "negative"],
        }
    )
    by_dose = breakdowns.response_by_dose(trials).set_index("dose_mcg", drop=False)
    counts = ["trials", "positive", "negative", "inconclusive"]
    assert by_dose.loc[50.0, counts].tolist() == [3, 1, 1, 1]
    assert by_dose.loc[50.0, "rate"] == 0.5
    assert by_dose.loc[75.0, "rate"] == 1.0 and by_dose.loc[75.0, "rate_ci_high"] == 1.0
    assert by_dose["dose_mcg"].isna().sum() == 1  # dose not recorded: its own row


def test_waits_by_column_is_waits_figures_per_group():
    waits = pd.DataFrame(
        {
            "source": ["gp_ers", "gp_ers", "consultant"],
            "seen": [True, True, True],
            "wait_days": [10, 50, 20],
            "within_target": [True, False, True],
            "is_open": [False, False, False],
            "over_target": [False, False, False],
        }
    )
    by_source = breakdowns.waits_by(waits, "source").set_index("source")
    expected = waits_figures(pl.from_pandas(waits[waits["source"] == "gp_ers"]))
    assert by_source.loc["gp_ers", "rate_within_target"] == expected["rate_within_target"] == 0.5
    assert by_source.loc["consultant", "median_wait_days"] == 20


def test_pathway_funnel():
    pathway = pd.DataFrame(
        {
            "referral_date": pd.to_datetime(["2026-01-01", "2026-01-05", "2026-02-01"]),
            "assessment_date": pd.to_datetime(["2026-01-20", "2026-02-05", None]),
            "trial_date": pd.to_datetime(["2026-03-01", None, None]),
            "implant_date": pd.to_datetime([None, None, None]),
            "days_to_assessment": [19, 31, None],
            "days_to_trial": [40, None, None],
            "days_to_implant": [None, None, None],
        }
    )
    funnel = breakdowns.pathway_funnel(pathway).set_index("step")
    assert funnel["patients"].tolist() == [3, 2, 1, 0]
    assert funnel.loc["Assessed", "median_days"] == 25.0
    assert funnel.loc["Trialled", "share_of_referred"] == pytest.approx(1 / 3)
    assert pd.isna(funnel.loc["Implanted", "median_days"])


def test_paired_changes_are_the_outcomes_figures_with_a_t_interval():
    rows = pd.DataFrame(
        {
            "measure": ["mas", "mas", "mas", "pain_nrs"],
            "paired": [True, True, False, True],
            "baseline_value": [3.0, 4.0, 2.0, 6.0],
            "followup_value": [2.0, 2.0, None, 5.0],
            "change": [-1.0, -2.0, None, -1.0],
        }
    )
    changes = breakdowns.paired_changes(rows, MEASURES).set_index("measure")
    expected = outcomes_figures(pl.from_pandas(rows))
    assert changes.loc["mas", "mean_change"] == expected["mas"]["mean_change"] == -1.5
    # t(0.975, 1) = 12.706; sd of (-1, -2) = 0.7071; half width = 12.706 * 0.7071 / sqrt(2)
    assert changes.loc["mas", "mean_change_ci_low"] == pytest.approx(-1.5 - 6.353, abs=1e-3)
    assert pd.isna(changes.loc["pain_nrs", "mean_change_ci_low"])  # one patient: no interval
    assert changes.loc["weight_kg", "patients_paired"] == 0


def test_age_bands():
    assert [breakdowns.age_band(a) for a in (5, 17, 18, 39, 40, 64, 65, 90, np.nan)] == [
        "Under 18",
        "Under 18",
        "18–39",
        "18–39",
        "40–64",
        "40–64",
        "65 and over",
        "65 and over",
        "Not recorded",
    ]


def test_funnel_limits_surround_the_rate_and_narrow_with_exposure():
    limits = breakdowns.funnel_limits(10.0, pd.Series([20.0, 200.0]))
    assert (limits["lower_99.8"] < limits["lower_95"]).all()
    assert (limits["lower_95"] < 10).all() and (limits["upper_95"] > 10).all()
    assert (limits["upper_95"] < limits["upper_99.8"]).all()
    width = limits["upper_95"] - limits["lower_95"]
    assert width.iloc[-1] < width.iloc[0]


def test_survival_at_takes_the_step_in_force():
    curves = pd.DataFrame(
        {
            "group": "all",
            "years": [0.0, 0.5, 1.5, 3.0],
            "survival": [1.0, 0.9, 0.8, 0.8],
            "ci_low": [1.0, 0.8, 0.7, 0.7],
            "ci_high": [1.0, 0.95, 0.9, 0.9],
        }
    )
    assert breakdowns.survival_at(curves, 1.0).iloc[0]["survival"] == 0.9
    assert breakdowns.survival_at(curves, 4.0).empty  # follow-up ends before 4 years


def test_observed_life_forecast_by_quarter_from_each_model_s_curve():
    as_of = dt.date(2024, 12, 31)  # quarters 2025-Q1 (days 1..90 after as_of), Q2 (91..181), ...
    survival = pd.DataFrame(
        {
            # "Model A" in three spellings: one model. Its 4 battery explants at 100..400 days give
            # S = 1, 0.75 from day 100, 0.5 from 200, 0.25 from 300, 0 at 400 (the follow-up's end).
            "pump_model": ["Model A", "model  a", " MODEL A", "Model A", "Model B"],
            "endpoint": "battery_end_of_life",
            "has_battery": True,
            "days": [100, 200, 300, 400, 50],
            "event": [True, True, True, True, True],
            "implant_date": pd.Timestamp("2010-01-01"),
        }
    )
    pumps = pd.DataFrame(
        {
            "pump_model": ["model a", "Model B", "Model A"],
            "has_battery": [True, True, False],
            "implant_date": pd.to_datetime(
                ["2024-11-11", "2024-01-01", "2024-11-11"]
            ),  # age 50 days
        }
    )
    forecast = observed_life_forecast(survival, pumps, as_of, min_explants=4)
    q = forecast.by_quarter
    assert list(q["quarter"][:4]) == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    # (S(50) - S(140)) / S(50), then S(140) - S(231), S(231) - S(323); Q4 reaches day 415 > 400
    assert list(q["expected"][:3]) == pytest.approx([0.25, 0.25, 0.25])
    assert list(q["pumps"][:4]) == [1, 1, 1, 0] and list(q["beyond_follow_up"][:4]) == [0, 0, 0, 1]
    assert (q["low"][:3] == 0).all() and (q["high"][:3] == 1).all()
    models = forecast.models.set_index("model")
    assert models.loc["Model A"].tolist() == [4, 1, True]  # the most common spelling names it
    assert models.loc["Model B"].tolist() == [1, 1, False]  # 1 explant < 4: not forecast
    text = forecast_coverage(forecast, 4)
    assert "Model A (4 explants)" in text and "Model B (1 active pumps)" in text


def test_observed_life_forecast_needs_enough_explants():
    survival = pd.DataFrame(
        {
            "pump_model": ["A"],
            "endpoint": "battery_end_of_life",
            "has_battery": True,
            "days": [100],
            "event": [True],
            "implant_date": pd.Timestamp("2010-01-01"),
        }
    )
    pumps = pd.DataFrame(
        {"pump_model": ["A"], "has_battery": [True], "implant_date": pd.to_datetime(["2024-01-01"])}
    )
    forecast = observed_life_forecast(survival, pumps, dt.date(2024, 12, 31), min_explants=2)
    assert forecast.by_quarter["pumps"].sum() == 0
    assert forecast_coverage(forecast, 2).startswith("No pump model has 2 or more explants")
