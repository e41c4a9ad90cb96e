"""Kaplan–Meier against a 5-subject example worked by hand."""

import math

import pytest

from pipelines.figures.survival import kaplan_meier, median_survival

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
    for (t, _, _, s, greenwood_sum), (_, row) in zip(HAND, curve.iloc[1:4].iterrows()):
        low, high = loglog_interval(s, greenwood_sum)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-6), t
    # t = 2 worked through: se = sqrt(0.05)/0.223144 = 1.002076, so
    # 0.8^exp(1.964033) = 0.2038 and 0.8^exp(-1.964033) = 0.9692
    assert curve["ci_low"].iloc[1] == pytest.approx(0.2038, abs=1e-4)
    assert curve["ci_high"].iloc[1] == pytest.approx(0.9692, abs=1e-4)
    assert curve.iloc[-1][["ci_low", "ci_high"]].tolist() == curve.iloc[-2][["ci_low", "ci_high"]].tolist()
    assert curve["years"].tolist() == pytest.approx([d / 365.25 for d in [0, 2, 3, 5, 8]])
    assert set(curve["group"]) == {"all"}


def test_median_and_its_interval():
    # S first drops below 0.5 at day 5. The interval is the set of event times where
    # |log(-log S) - log(-log 0.5)| / se(log(-log S)) <= 1.96:
    #   day 2: |−1.49994 + 0.36651| / 1.00208 = 1.13;  day 3: 0.305 / 0.715 = 0.43;
    #   day 5: 0.552 / 0.661 = 0.84. All three pass, the last event included, so the upper
    #   bound is not reached.
    (median,) = median_survival(DAYS, EVENTS)
    assert (median.median_days, median.ci_low_days, median.ci_high_days) == (5, 2, None)
    assert median.median_years == pytest.approx(5 / 365.25)
    assert median.ci_high_years is None
    assert (median.n, median.events) == (5, 3)


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


def test_empty_input():
    assert kaplan_meier([], []).empty
    assert median_survival([], []) == []


def test_rejects_bad_event_codes():
    with pytest.raises(ValueError):
        kaplan_meier([1, 2], [1, 2])
