"""Comparisons with an earlier period: which period, the intervals of the change, the verdicts."""

import datetime as dt
import math

import pytest
from scipy.stats import beta

from pipelines.figures.comparisons import (
    Period,
    compare,
    exact_rate_ratio,
    newcombe_difference,
    previous_period,
    year_earlier,
)
from pipelines.figures.disclosure import SUPPRESSED
from pipelines.figures.intervals import wilson_interval
from tests.fixtures.kpi_fixtures import Warehouse

D = dt.date


@pytest.mark.parametrize(
    "start, end, previous",
    [
        (D(2024, 1, 1), D(2024, 12, 31), Period(D(2023, 1, 1), D(2023, 12, 31))),  # a leap year
        (D(2024, 4, 1), D(2024, 6, 30), Period(D(2024, 1, 1), D(2024, 3, 31))),  # a quarter
        (D(2024, 3, 1), D(2024, 3, 31), Period(D(2024, 2, 1), D(2024, 2, 29))),  # a month
        # not whole months: the same number of days (366 days back from 2 Nov 2025 is 1 Nov 2024...)
        (D(2025, 11, 2), D(2026, 11, 1), Period(D(2024, 11, 2), D(2025, 11, 1))),  # 365 days
        (
            D(2024, 3, 5),
            D(2024, 3, 14),
            Period(D(2024, 2, 24), D(2024, 3, 4)),
        ),  # 10 days over 29 Feb
    ],
)
def test_previous_period_of_the_same_length(start, end, previous):
    assert previous_period(start, end) == previous


def test_a_year_earlier_only_for_a_period_shorter_than_a_year():
    assert year_earlier(D(2024, 2, 1), D(2024, 2, 29)) == Period(D(2023, 2, 1), D(2023, 2, 28))
    assert year_earlier(D(2024, 4, 1), D(2024, 6, 30)) == Period(D(2023, 4, 1), D(2023, 6, 30))
    assert year_earlier(D(2025, 11, 2), D(2026, 11, 1)) is None  # 365 days: a year


def test_newcombe_is_the_hybrid_score_interval():
    # Newcombe (1998) method 10, from the two Wilson intervals: 13/17 against 10/20
    (l1, u1), (l2, u2) = wilson_interval(13, 17), wilson_interval(10, 20)
    d = 13 / 17 - 10 / 20
    low = d - math.sqrt((13 / 17 - l1) ** 2 + (u2 - 10 / 20) ** 2)
    high = d + math.sqrt((u1 - 13 / 17) ** 2 + (10 / 20 - l2) ** 2)
    assert newcombe_difference(13, 17, 10, 20) == pytest.approx((low, high), abs=1e-6)
    assert newcombe_difference(13, 17, 10, 20) == pytest.approx((-0.046106, 0.509266), abs=1e-6)


def test_the_exact_conditional_rate_ratio():
    # 5 events in 2 pump-years against 10 in 4: ratio 1.0; given 15 events, 5 ~ Bin(15, p),
    # Clopper-Pearson p: Beta(0.025; 5, 11) .. Beta(0.975; 6, 10); R = p / (1 - p) x 4 / 2
    p_low, p_high = beta.ppf(0.025, 5, 11), beta.ppf(0.975, 6, 10)
    low, high = exact_rate_ratio(5, 2.0, 10, 4.0)
    assert low == pytest.approx(p_low / (1 - p_low) * 2, rel=1e-9)
    assert high == pytest.approx(p_high / (1 - p_high) * 2, rel=1e-9)
    assert low < 1 < high
    assert exact_rate_ratio(0, 1.0, 4, 1.0)[0] == 0.0


def figures(within, seen, events, pump_years, open_over):
    rate = SUPPRESSED if SUPPRESSED in (within, seen) else within / seen if seen else None
    return {
        "waits": {
            "within_target": within,
            "seen": seen,
            "rate_within_target": rate,
            "open_over_target": open_over,
        },
        "complications": {
            "pump_years": pump_years,
            "all": {"events": events, "rate_per_100_pump_years": events / pump_years * 100},
        },
    }


KEYS = [
    "waits.rate_within_target",
    "complications.all.rate_per_100_pump_years",
    "waits.open_over_target",
]


def test_verdicts():
    now, then = figures(19, 20, 30, 10.0, 4), figures(8, 20, 10, 10.0, 6)
    result = compare(now, then, KEYS, 366, 365)
    waits = result["waits.rate_within_target"]
    assert (waits.kind, waits.change) == ("difference", pytest.approx(0.55))  # 95% - 40%
    assert waits.low > 0 and waits.verdict == "higher than last period"
    rate = result["complications.all.rate_per_100_pump_years"]
    assert (rate.kind, rate.change) == ("ratio", pytest.approx(3.0))  # 300 / 100
    assert rate.low > 1 and rate.verdict == "higher than last period"
    assert result["waits.open_over_target"].change == -2
    assert result["waits.open_over_target"].verdict.startswith("not tested")
    # 10 of 20 against 8 of 20: the interval spans 0
    same = compare(figures(10, 20, 11, 10.0, 0), then, KEYS, 366, 365, "year_earlier")
    assert same["waits.rate_within_target"].verdict == "no evidence of a change"
    lower = compare(then, now, KEYS, 365, 366, "year_earlier")
    assert lower["complications.all.rate_per_100_pump_years"].verdict == "lower than a year earlier"


def test_a_suppressed_or_missing_figure_is_not_compared():
    hidden = compare(
        figures(SUPPRESSED, 20, 30, 10.0, 4), figures(8, 20, 10, 10.0, 6), KEYS, 366, 365
    )
    assert hidden["waits.rate_within_target"].verdict == "not compared: a figure is suppressed"
    assert hidden["waits.rate_within_target"].low is None
    empty = compare(figures(0, 0, 0, 10.0, 0), figures(8, 20, 0, 10.0, 6), KEYS, 366, 365)
    assert empty["waits.rate_within_target"].verdict == (
        "not compared: no figure in one of the periods"
    )
    # no events before: a ratio has no finite value
    assert empty["complications.all.rate_per_100_pump_years"].change is None


def test_on_a_warehouse(tmp_path):
    """2024 against 2023: 4 of 4 seen within 42 days now, 0 of 4 before."""
    w = Warehouse(tmp_path / "w.duckdb")
    for year, wait in ((2023, 60), (2024, 10)):
        for i in range(4):
            received = D(year, 2, 1 + i)
            w.add(
                "referrals",
                referral_id=f"R{year}{i}",
                patient_id=f"W{year}{i}",
                received_date=received,
            )
            w.add(
                "appointments",
                appointment_id=f"A{year}{i}",
                patient_id=f"W{year}{i}",
                referral_id=f"R{year}{i}",
                appointment_date=received + dt.timedelta(days=wait),
            )
    now = w.kpis(D(2024, 1, 1), D(2024, 12, 31))
    before = previous_period(D(2024, 1, 1), D(2024, 12, 31))
    then = w.kpis(before.start, before.end)
    result = compare(
        now, then, ["waits.rate_within_target", "activity.referrals_received"], 366, before.days
    )
    waits = result["waits.rate_within_target"]
    # 4/4 (Wilson 0.510 .. 1) against 0/4 (0 .. 0.490): Newcombe's low bound is above 0
    assert (waits.current, waits.earlier, waits.change) == (1.0, 0.0, 1.0)
    assert waits.verdict == "higher than last period"
    referrals = result["activity.referrals_received"]
    # 4 in 366 days against 4 in 365 days
    assert referrals.change == pytest.approx(365 / 366)
    assert referrals.verdict == "no evidence of a change"
    w.close()


def test_a_suppressed_view_compares_its_shown_figures_with_the_exact_verdict():
    """The exact counts 13/17 then 24/40 (a rounded view would make them 15/15 and 25/40):
    the verdict comes from the exact counts, the change from the two figures shown, and no
    interval is given; a figure the view stars is not compared at all."""
    now, then = figures(13, 17, 30, 10.0, 4), figures(24, 40, 10, 10.0, 6)
    exact = compare(now, then, KEYS, 366, 365)["waits.rate_within_target"]
    shown_now = figures(15, 15, 30, 10.0, 5)
    shown_now["waits"]["rate_within_target"] = 0.75  # as the view rounds 13/17
    shown_then = figures(25, 40, 10, 10.0, 5)
    shown_then["waits"]["rate_within_target"] = 0.6
    c = compare(now, then, KEYS, 366, 365, shown=(shown_now, shown_then))
    waits = c["waits.rate_within_target"]
    assert (waits.current, waits.earlier) == (0.75, 0.6)
    assert waits.change == pytest.approx(0.15)
    assert (waits.low, waits.high) == (None, None)
    assert waits.verdict == exact.verdict == "no evidence of a change"
    shown_now["waits"]["rate_within_target"] = SUPPRESSED
    hidden = compare(now, then, KEYS, 366, 365, shown=(shown_now, shown_then))
    assert hidden["waits.rate_within_target"].verdict == "not compared: a figure is suppressed"
