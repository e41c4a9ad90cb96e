"""SPC charts against hand-worked examples and NHSRplotthedots' published expectations."""

import math

import pandas as pd
import pytest

from pipelines.figures.spc import p_chart, summarise, xmr

# A baseline used throughout: 12, 10, 12, 10, ... (12 points, ending on 10 so that a run of
# later points above the mean does not join the last baseline point).
#   mean = (6·12 + 6·10) / 12 = 11;   every moving range is 2, so mR̄ = 2
#   limits = 11 ± 2.66·2 = 11 ± 5.32      -> 5.68 .. 16.32
#   near   = 11 ± (2/3)·2.66·2 = 11 ± 3.5467 -> 7.4533 .. 14.5467
BASE = [12, 10] * 6


def flagged(df, column):
    return [i for i, v in enumerate(df[column]) if v]


# --- limits -------------------------------------------------------------------------------------


def test_limits_from_twelve_points_by_hand():
    # values 5 7 6 8 6 5 7 9 8 6 9 8: sum 84, mean 7
    # moving ranges 2 1 2 2 1 2 2 1 2 3 1: sum 19, mR̄ = 19/11 = 1.727273
    # limits 7 ± 2.66·19/11 = 7 ± 4.594545; near 7 ± 3.063030
    df = xmr([5, 7, 6, 8, 6, 5, 7, 9, 8, 6, 9, 8])
    row = df.iloc[0]
    assert row["mean"] == pytest.approx(7)
    assert row["upper_limit"] == pytest.approx(11.594545, abs=1e-6)
    assert row["lower_limit"] == pytest.approx(2.405455, abs=1e-6)
    assert row["upper_near"] == pytest.approx(10.063030, abs=1e-6)
    assert row["lower_near"] == pytest.approx(3.936970, abs=1e-6)
    assert math.isnan(df["moving_range"].iloc[0])
    assert df["moving_range"].tolist()[1:4] == [2, 1, 2]
    assert not df["special_cause"].any()
    assert set(df["point_type"]) == {"common_cause"}


# NHSRplotthedots (R/ptd_spc_standard.R) on a series with a missing point: fix_y is y for
# row_number() <= fix_after_n_points (the rows count, missing or not); mean_col is
# mean(fix_y, na.rm = TRUE); mr = c(NA, abs(diff(fix_y))) is NA on both sides of a missing
# point; amr = mean(mr, na.rm = TRUE).


def test_no_moving_range_across_a_gap_nhsrplotthedots():
    # y = 1, NA, 3, 2: mean (1+3+2)/3 = 2; mr = NA, NA, NA, |2-3| = 1, so amr = 1;
    # limits 2 ± 2.66 = -0.66 .. 4.66; near 2 ± 1.773333 (taking |3-1| = 2 gave 2 ± 3.99)
    df = xmr([1, math.nan, 3, 2])
    row = df.iloc[0]
    assert (row["mean"], row["lower_limit"], row["upper_limit"]) == pytest.approx((2, -0.66, 4.66))
    assert (row["lower_near"], row["upper_near"]) == pytest.approx((0.226667, 3.773333), abs=1e-6)
    assert df["moving_range"].isna().tolist() == [True, True, True, False]
    assert df["moving_range"].iloc[3] == 1
    gap = df.iloc[1]
    assert not gap["special_cause"] and gap["point_type"] is None


def test_baseline_of_twelve_counts_a_gap_nhsrplotthedots():
    # 14 months, month 3 empty. The baseline is months 1-12 (11 values), so month 13 (30) is
    # judged against it rather than raising it:
    #   values 10 12 . 11 13 12 10 11 12 14 13 12: sum 130, mean 130/11 = 11.818182
    #   moving ranges 2 . . 2 1 2 1 1 2 1 1: sum 13 over 9, amR = 1.444444
    #   limits 11.818182 ± 2.66·1.444444 = ± 3.842222 -> 7.975960 .. 15.660404
    values = [10, 12, math.nan, 11, 13, 12, 10, 11, 12, 14, 13, 12, 30, 11]
    df = xmr(values)
    row = df.iloc[0]
    assert row["mean"] == pytest.approx(130 / 11)
    assert row["lower_limit"] == pytest.approx(7.975960, abs=1e-6)
    assert row["upper_limit"] == pytest.approx(15.660404, abs=1e-6)
    assert df["baseline"].tolist() == [True] * 12 + [False] * 2
    assert flagged(df, "outside_limits") == [12]
    assert not df["trial_limits"].any()  # 13 months with a value


def test_baseline_is_fixed_so_later_points_do_not_move_the_limits():
    df = xmr(BASE + [30, 40, 50])
    assert set(df["mean"]) == {11}
    assert set(df["upper_limit"].round(6)) == {16.32}
    assert df["baseline"].tolist() == [True] * 12 + [False] * 3
    assert flagged(df, "outside_limits") == [12, 13, 14]


def test_baseline_points_none_uses_every_point():
    # mean of 12 10 12 10 ... 12 10 18 (13 points) = 150/13
    assert xmr(BASE + [18], baseline_points=None)["mean"].iloc[0] == pytest.approx(150 / 13)


def test_short_series_uses_all_points_and_gives_trial_limits():
    # 8 points: mean 11, mR̄ 2, so the same limits as the 12-point baseline
    short = xmr([12, 10] * 4)
    assert short["upper_limit"].iloc[0] == pytest.approx(16.32)
    assert short["trial_limits"].all()
    assert not xmr(BASE)["trial_limits"].any()


def test_screening_drops_moving_ranges_at_or_above_3267_times_the_mean():
    # 10 11 10 11 10 11 10 11 10 11 10 30: ranges ten 1s and one 20; mR̄ = 30/11 = 2.7273
    # 3.267·2.7273 = 8.91 so the 20 is dropped when screening: mR̄ = 10/10 = 1
    values = [10, 11] * 5 + [10, 30]
    screened = xmr(values, screen_outliers=True).iloc[0]
    unscreened = xmr(values).iloc[0]
    assert screened["upper_limit"] - screened["mean"] == pytest.approx(2.66 * 1)
    assert unscreened["upper_limit"] - unscreened["mean"] == pytest.approx(2.66 * 30 / 11)


# --- rules --------------------------------------------------------------------------------------


def test_seven_points_above_the_mean_are_a_shift_and_six_are_not():
    # 12 is above the mean (11) and inside the near line (14.55); equal values are no trend
    seven = xmr(BASE + [12] * 7)
    assert flagged(seven, "shift") == list(range(12, 19))
    assert flagged(seven, "special_cause") == list(range(12, 19))
    six = xmr(BASE + [12] * 6 + [10])
    assert not six["special_cause"].any()


def test_a_point_exactly_on_the_mean_breaks_a_shift():
    on_mean = xmr(BASE + [12, 12, 12, 11, 12, 12, 12, 12])  # runs of 3 and 4
    assert not on_mean["shift"].any()
    unbroken = xmr(BASE + [12, 12, 12, 12, 12, 12, 12, 12])
    assert flagged(unbroken, "shift") == list(range(12, 20))


def test_seven_increasing_points_are_a_trend_and_six_are_not():
    # 9 is below the last baseline point (10), so the run starts at 9; all inside the near lines
    seven = xmr(BASE + [9, 9.5, 10, 10.5, 11, 11.5, 12])
    assert flagged(seven, "trend") == list(range(12, 19))
    assert set(seven["point_type"][12:]) == {"special_cause_improvement"}
    six = xmr(BASE + [9, 9.5, 10, 10.5, 11, 11.5])
    assert not six["special_cause"].any()


def test_a_tie_breaks_a_trend():
    assert not xmr(BASE + [9, 9.5, 10, 10, 10.5, 11, 11.5, 12])["trend"].any()


def test_a_falling_trend_is_concern_even_above_the_mean():
    # 13 12.5 12 11.5 11 10.5 10: six falls; the first four points are above the mean, but
    # NHSRplotthedots labels every point of the run "decreasing", so concern when up is good
    df = xmr(BASE + [13, 12.5, 12, 11.5, 11, 10.5, 10])
    assert flagged(df, "trend") == list(range(12, 19))
    assert set(df["direction"][12:]) == {-1}
    assert set(df["point_type"][12:]) == {"special_cause_concern"}


def test_two_of_three_near_the_limit_on_the_same_side():
    # 15 is between the near line (14.55) and the limit (16.32); 12 is above the mean
    df = xmr(BASE + [15, 12, 15])
    assert flagged(df, "two_of_three") == [12, 14]  # only the near-limit points are flagged


def test_two_of_three_needs_all_three_on_one_side():
    # 15 and 7 are near opposite limits (7 < 7.4533): no window has two near points on one side
    assert not xmr(BASE + [15, 7, 15])["special_cause"].any()
    # NHSRplotthedots also requires the third point on the same side of the mean
    assert not xmr(BASE + [15, 10, 15])["special_cause"].any()


def test_nhsrplotthedots_two_of_three_opposite_sides_case():
    # NHSRplotthedots tests/testthat/test-ptd_spc_standard.R: 1, -1 alternating for 16 points,
    # then the 15th = 5.5 and 16th = -5.5, all points in the baseline, outliers screened.
    # mean 0; ranges thirteen 2s, 6.5, 11; mR̄ = 43.5/15 = 2.9, 11 >= 3.267·2.9 is screened,
    # so mR̄ = 32.5/14 = 2.3214; near 4.117, limit 6.175: both near, on opposite sides.
    values = [1, -1] * 7 + [5.5, -5.5]
    df = xmr(values, baseline_points=None, screen_outliers=True)
    assert df["upper_limit"].iloc[0] == pytest.approx(2.66 * 32.5 / 14)
    assert df["point_type"].tolist()[-2:] == ["common_cause", "common_cause"]


def test_nhsrplotthedots_snapshot_limits():
    # NHSRplotthedots tests/testthat/_snaps/ptd_spc_standard.md: set.seed(123); y = rnorm(20),
    # all points in the baseline, outliers screened: mean 0.142, lpl -3.01, upl 3.29, and
    # (_snaps/ptd_spc.md) all 20 points common cause.
    y = [-0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621,
         -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272,
         -0.55584113, 1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141]  # fmt: skip
    df = xmr(y, baseline_points=None, screen_outliers=True)
    assert round(df["mean"].iloc[0], 3) == 0.142
    assert round(df["lower_limit"].iloc[0], 2) == -3.01
    assert round(df["upper_limit"].iloc[0], 2) == 3.29
    assert (df["point_type"] == "common_cause").all()


# --- improvement direction and icons ------------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "point_type", "icon"),
    [
        ("increase", "special_cause_improvement", "improvement_high"),
        ("decrease", "special_cause_concern", "concern_high"),
        ("neutral", "special_cause_neutral", "neutral_high"),
    ],
)
def test_a_high_shift_by_improvement_direction(improvement, point_type, icon):
    df = xmr(BASE + [12] * 7, improvement=improvement)
    assert set(df["point_type"][12:]) == {point_type}
    assert summarise(df, improvement).variation == icon


def test_variation_icon_for_a_low_point_and_for_common_cause():
    low = xmr(BASE + [5], improvement="increase")  # 5 < 5.68
    assert low["point_type"].iloc[-1] == "special_cause_concern"
    assert summarise(low, "increase").variation == "concern_low"
    assert (
        summarise(xmr(BASE + [5], improvement="decrease"), "decrease").variation
        == "improvement_low"
    )
    assert summarise(xmr(BASE), "increase").variation == "common_cause"


@pytest.mark.parametrize(
    ("improvement", "target", "assurance"),
    [
        # limits 5.68 .. 16.32
        ("increase", 18, "consistent_fail"),  # target above the top limit: never reached
        ("increase", 5, "consistent_pass"),  # target below the bottom limit: always beaten
        ("increase", 12, "inconsistent"),  # hit and miss
        ("decrease", 18, "consistent_pass"),
        ("decrease", 5, "consistent_fail"),
        ("neutral", 18, None),
        ("increase", None, None),
    ],
)
def test_assurance_icon(improvement, target, assurance):
    df = xmr(BASE, improvement=improvement, target=target)
    assert summarise(df, improvement, target).assurance == assurance


def test_dates_order_the_series_and_index_it():
    dates = pd.date_range("2024-01-01", periods=12, freq="MS")
    df = xmr(list(reversed(BASE)), dates=list(reversed(dates)), target=11)
    assert df.index.name == "date"
    assert df.index.is_monotonic_increasing
    assert df["x"].tolist() == BASE
    assert set(df["target"]) == {11}


def test_empty_series():
    df = xmr([])
    assert df.empty
    assert summarise(df, "increase").variation is None


# --- p-chart ------------------------------------------------------------------------------------


def test_p_chart_limits_by_hand_with_a_zero_denominator_gap():
    # baseline = the first 4 months, the gap counted as one of them:
    # p̄ = (45+40+80)/(50+50+100) = 0.825
    # p̄(1-p̄) = 0.144375
    #   n = 50:  σ = sqrt(0.144375/50) = 0.0537355; limits 0.825 ± 0.161206
    #   n = 100: σ = sqrt(0.144375/100) = 0.0379967; limits 0.825 ± 0.113990
    #   n = 5:   σ = 0.169926; upper 0.825 + 0.509779 clipped to 1, lower 0.315221,
    #            near lower 0.825 - 0.339853 = 0.485147
    df = p_chart([45, 40, 0, 80, 2], [50, 50, 0, 100, 5], baseline_points=4)
    assert df["mean"].iloc[0] == pytest.approx(0.825)
    assert df["upper_limit"].iloc[0] == pytest.approx(0.986206, abs=1e-6)
    assert df["lower_limit"].iloc[0] == pytest.approx(0.663794, abs=1e-6)
    assert df["upper_limit"].iloc[3] == pytest.approx(0.825 + 3 * math.sqrt(0.144375 / 100))
    assert df["upper_near"].iloc[3] == pytest.approx(0.825 + 2 * math.sqrt(0.144375 / 100))
    assert df["upper_limit"].iloc[4] == 1
    assert df["lower_limit"].iloc[4] == pytest.approx(0.315221, abs=1e-6)
    assert df["lower_near"].iloc[4] == pytest.approx(0.485147, abs=1e-6)
    assert df["x"].iloc[4] == pytest.approx(0.4)
    assert df["baseline"].tolist() == [True, True, True, True, False]
    gap = df.iloc[2]
    assert math.isnan(gap["x"]) and math.isnan(gap["upper_limit"])
    assert not gap["special_cause"] and gap["point_type"] is None


def test_p_chart_baseline_counts_a_gap_as_a_point():
    # As NHSRplotthedots counts its rows: a baseline of 3 is months 1-3, the third a gap, so
    # p̄ = (45+40)/(50+50) = 0.85 and month 4 (80/100) is judged against it, not part of it.
    # σ(n = 100) = sqrt(0.85·0.15/100) = 0.0357071; lower limit 0.85 - 0.107121 = 0.742879
    df = p_chart([45, 40, 0, 80, 2], [50, 50, 0, 100, 5], baseline_points=3)
    assert df["mean"].iloc[0] == pytest.approx(0.85)
    assert df["lower_limit"].iloc[3] == pytest.approx(0.742879, abs=1e-6)
    assert df["baseline"].tolist() == [True, True, True, False, False]


def test_p_chart_shift_runs_across_a_gap():
    # baseline 60/100, 50/100 alternating: p̄ = 0.55, σ = sqrt(0.55·0.45/100) = 0.04975,
    # near upper 0.6495: 0.6 is above the mean and inside the near line
    base_num, den = [60, 50] * 6, [100] * 12
    df = p_chart(
        base_num + [60, 60, 60, 0, 60, 60, 60, 60], den + [100, 100, 100, 0, 100, 100, 100, 100]
    )
    assert flagged(df, "shift") == [12, 13, 14, 16, 17, 18, 19]
    assert summarise(df, "increase").variation == "improvement_high"
    six = p_chart(base_num + [60, 60, 60, 0, 60, 60, 60], den + [100, 100, 100, 0, 100, 100, 100])
    assert not six["special_cause"].any()


def test_p_chart_rejects_numerator_above_denominator():
    with pytest.raises(ValueError):
        p_chart([3], [2])
