"""Kaplan–Meier against a 5-subject example worked by hand."""

import math

import numpy as np
import pytest
from scipy.stats import binom

from pipelines.figures.survival import (
    expected_count,
    kaplan_meier,
    median_survival,
    window_probabilities,
)

Z = 1.959964  # 97.5th centile of the standard normal

# Days to pump failure; event 1 = failed, 0 = censored (explanted for another reason or still in).
DAYS = [2, 3, 3, 5, 8]
EVENTS = [1, 0, 1, 1, 0]
# By hand (a subject censored at 3 is still at risk at 3):
#   t  at risk  events  S                    Greenwood Σ d/(n(n-d))
#   2  5        1       4/5 = 0.8            1/(5·4) = 0.05
#   3  4        1       0.8·3/4 = 0.6        0.05 + 1/(4·3) = 0.133333
#   5  2        1       0.6·1/2 = 0.3        0.133333 + 1/(2·1) = 0.633333
#   8  1        0       0.3 (censored: the curve runs on to the end of follow-up)
HAND = [(2, 5, 1, 0.8, 0.05), (3, 4, 1, 0.6, 0.05 + 1 / 12), (5, 2, 1, 0.3, 0.05 + 1 / 12 + 1 / 2)]


def loglog_interval(s, greenwood_sum):
    # se(log(-log S)) = sqrt(Σ) / |log S|; interval S^exp(±Z·se)
    se = math.sqrt(greenwood_sum) / abs(math.log(s))
    return s ** math.exp(Z * se), s ** math.exp(-Z * se)


def test_five_subjects_by_hand():
    curve = kaplan_meier(DAYS, EVENTS)
    assert curve["time"].tolist() == [0, 2, 3, 5, 8]
    assert curve["at_risk"].tolist() == [5, 5, 4, 2, 1]
    assert curve["events"].tolist() == [0, 1, 1, 1, 0]
    assert curve["survival"].tolist() == pytest.approx([1, 0.8, 0.6, 0.3, 0.3])
    for (t, _, _, s, greenwood_sum), (_, row) in zip(HAND, curve.iloc[1:4].iterrows(), strict=True):
        low, high = loglog_interval(s, greenwood_sum)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-6), t
    # t = 2 worked through: se = sqrt(0.05)/0.223144 = 1.002076, so
    # 0.8^exp(1.964033) = 0.2038 and 0.8^exp(-1.964033) = 0.9692
    assert curve["ci_low"].iloc[1] == pytest.approx(0.2038, abs=1e-4)
    assert curve["ci_high"].iloc[1] == pytest.approx(0.9692, abs=1e-4)
    assert (
        curve.iloc[-1][["ci_low", "ci_high"]].tolist()
        == curve.iloc[-2][["ci_low", "ci_high"]].tolist()
    )
    assert curve["years"].tolist() == pytest.approx([d / 365.25 for d in [0, 2, 3, 5, 8]])
    assert set(curve["group"]) == {"all"}


def test_median_and_its_interval():
    # R: survfit(Surv(DAYS, EVENTS) ~ 1, conf.type = "log-log"). The median is the first time
    # S <= 0.5 (day 5, S = 0.3); each bound is the first time that bound of the pointwise
    # interval is <= 0.5. Lower bound: 0.2038 at day 2 (test above). Upper bound at the event
    # times: 0.9692; day 3: se = sqrt(0.133333)/|log 0.6| = 0.71485, 0.6^exp(-1.96·0.71485)
    # = 0.8817; day 5: se = sqrt(0.633333)/|log 0.3| = 0.66101, 0.3^exp(-1.29557) = 0.7193;
    # it never reaches 0.5, so the upper bound is not reached.
    (median,) = median_survival(DAYS, EVENTS)
    assert (median.median_days, median.ci_low_days, median.ci_high_days) == (5, 2, None)
    assert median.median_years == pytest.approx(5 / 365.25)
    assert median.ci_high_years is None
    assert (median.n, median.events) == (5, 3)


@pytest.mark.parametrize(
    "days,events,expected",
    [
        # S = 0.75, 0.5, 0.25, 0: exactly 0.5 from day 2 until the drop at day 3 -> 2.5
        ([1, 2, 3, 4], [1, 1, 1, 1], 2.5),
        # S = 5/6, 4/6, 3/6 (day 30), censored at 40, 1/4 at 50: flat at 0.5 from 30 to the
        # next drop at 50 (the censoring at 40 is no drop) -> 40
        ([10, 20, 30, 40, 50, 60], [1, 1, 1, 0, 1, 0], 40),
        # S = 0.75, 0.5 (day 2), then censored at 3 and 4: flat at 0.5 to the end of follow-up
        # -> the midpoint of day 2 and the last time, 4 -> 3 (not "not reached")
        ([1, 2, 3, 4], [1, 1, 0, 0], 3),
        # S = 0.5 at day 1, 0 at day 2 (the last time): the next drop is day 2 -> 1.5
        ([1, 2], [1, 1], 1.5),
    ],
)
def test_median_where_the_curve_is_exactly_one_half(days, events, expected):
    # R's survfit (quantile.survfit's findq) takes the midpoint of a flat at exactly 0.5.
    (median,) = median_survival(days, events)
    assert median.median_days == expected


def test_median_interval_from_the_pointwise_bounds_by_hand():
    # Times 1..4, all events (R: median 2.5, 0.95LCL 1, UCL NA with conf.type = "log-log").
    # Day 1: S = 0.75, Greenwood sum 1/12, se(log(-log S)) = sqrt(1/12)/|log 0.75| = 1.003451,
    #   lower bound 0.75^exp(1.96·1.003451) = 0.75^7.1466 = 0.1279 <= 0.5 -> lower limit day 1.
    # Upper bound: day 1 0.75^(1/7.1466) = 0.9605; day 2: se = sqrt(0.25)/log 2 = 0.721348,
    #   0.5^exp(-1.413816) = 0.5^0.243214 = 0.8449; day 3: se = sqrt(0.75)/log 4 = 0.624704,
    #   0.25^exp(-1.224398) = 0.25^0.293929 = 0.6653; day 4: S = 0, no bound. Never <= 0.5
    #   -> no upper limit.
    (median,) = median_survival([1, 2, 3, 4], [1, 1, 1, 1])
    assert (median.median_days, median.ci_low_days, median.ci_high_days) == (2.5, 1, None)
    curve = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert curve["ci_low"].iloc[1] == pytest.approx(0.1279, abs=1e-4)
    assert curve["ci_high"].iloc[1:4].tolist() == pytest.approx([0.9605, 0.8449, 0.6653], abs=1e-4)


def test_group_with_no_events_stays_at_one():
    days, events, groups = DAYS + [4, 6], EVENTS + [0, 0], ["a"] * 5 + ["b"] * 2
    curve = kaplan_meier(days, events, groups=groups)
    b = curve[curve["group"] == "b"]
    assert b["time"].tolist() == [0, 6]
    assert b["at_risk"].tolist() == [2, 1]
    assert (b[["survival", "ci_low", "ci_high"]] == 1).all().all()
    a = curve[curve["group"] == "a"]
    assert a["survival"].tolist() == pytest.approx([1, 0.8, 0.6, 0.3, 0.3])
    medians = {m.group: m for m in median_survival(days, events, groups=groups)}
    assert medians["b"].median_days is None and medians["b"].ci_low_days is None
    assert medians["a"].median_days == 5


def test_all_events_reaches_zero_with_no_interval_there():
    # 3 subjects, all fail: S = 2/3, 1/3, 0; at S = 0 the log-log interval is undefined
    curve = kaplan_meier([1, 2, 3], [1, 1, 1])
    assert curve["survival"].tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])
    assert math.isnan(curve["ci_low"].iloc[-1]) and math.isnan(curve["ci_high"].iloc[-1])


def test_median_upper_limit_open_when_the_band_ends_undefined():
    # 3 subjects, all fail: the upper bound is 0.9452 (day 1), 0.7741 (day 2), undefined at
    # S = 0 (day 3). It never reaches 0.5, so the upper limit is open, as R prints it (NA);
    # the inverted test used before put it at day 3. Lower bound 0.0541 at day 1 -> day 1.
    (median,) = median_survival([1, 2, 3], [1, 1, 1])
    assert (median.median_days, median.ci_low_days, median.ci_high_days) == (2, 1, None)


def test_empty_input():
    assert kaplan_meier([], []).empty
    assert median_survival([], []) == []


def test_rejects_bad_event_codes():
    with pytest.raises(ValueError):
        kaplan_meier([1, 2], [1, 2])


# --- forecasts from a curve -----------------------------------------------------------------


def test_window_probabilities_are_conditional_on_the_age_now():
    # S = 1 to day 10, 0.75 from 10, 0.5 from 20, 0 from 40 (30 censored); follow-up ends at 40.
    curve = kaplan_meier([10, 20, 30, 40], [1, 1, 0, 1])
    p = window_probabilities(curve, [5, 15, 35], 1, 10)
    assert p[0] == pytest.approx(0.25)  # (S(5) - S(15)) / S(5)
    assert p[1] == pytest.approx(1 / 3)  # (S(15) - S(25)) / S(15) = 0.25 / 0.75
    assert np.isnan(p[2])  # age 45 is past the follow-up: unknown
    # a window ending on an event day includes it; starting on it, excludes the day before
    assert window_probabilities(curve, [0], 1, 10)[0] == pytest.approx(0.25)
    assert window_probabilities(curve, [0], 11, 20)[0] == pytest.approx(0.25)


def test_expected_count_is_the_poisson_binomial():
    counts = expected_count(np.array([0.25, 1 / 3]))
    # P(0) = 0.5, P(1) = 5/12, P(2) = 1/12: the 2.5% quantile is 0, the 97.5% is 2
    assert counts == {"expected": pytest.approx(7 / 12), "low": 0, "high": 2}
    equal = expected_count(np.full(200, 0.1))  # a binomial
    quantiles = binom.ppf([0.025, 0.975], 200, 0.1)
    assert (equal["low"], equal["high"]) == tuple(int(q) for q in quantiles)
    assert expected_count(np.empty(0)) == {"expected": 0.0, "low": 0, "high": 0}
