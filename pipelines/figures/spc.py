"""NHS "Making Data Count" statistical process control for monthly series.

Two charts share one rule engine: the XmR chart (`xmr`) for counts and means, and the p-chart
(`p_chart`) for monthly proportions. The rules and icons follow NHSRplotthedots
(nhs-r-community, R/ptd_spc_standard.R, R/ptd_calculate_point_type.R,
R/ptd_calculate_assurance_type.R), as NHS England's Making Data Count guidance uses them.

Each chart returns one row per point, indexed by date when dates are given. A missing value
(NaN, or a zero denominator on the p-chart) is a gap: it has no value, is never flagged, no
moving range is taken across it, and the run rules join the points either side of it. A gap
still counts as one of the baseline's points, as NHSRplotthedots counts its rows (a baseline of
12 is the first 12 periods, not the first 12 values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Improvement = Literal["increase", "decrease", "neutral"]

XMR_LIMIT = 2.66  # 3 / d2 (d2 = 1.128): three sigma from the mean moving range
XMR_NEAR = 2 * XMR_LIMIT / 3  # two sigma
MR_OUTLIER = 3.267  # D4: moving ranges at or above D4 * mean are screened out
RUN_LENGTH = 7  # points in a shift or trend
TRIAL_LIMIT_POINTS = 12  # fewer points than this give "trial" limits

_IMPROVEMENT_SIGN = {"increase": 1, "decrease": -1, "neutral": 0}
_VARIATION_PREFIX = {
    "special_cause_improvement": "improvement",
    "special_cause_concern": "concern",
    "special_cause_neutral": "neutral",
}
_LINE_COLUMNS = ["mean", "lower_limit", "upper_limit", "lower_near", "upper_near"]
_RULES = ["outside_limits", "trend", "two_of_three", "shift"]  # precedence for the direction


@dataclass(frozen=True)
class SpcSummary:
    """The Making Data Count icons for a whole chart.

    variation: "common_cause", "improvement_high", "improvement_low", "concern_high",
        "concern_low", "neutral_high" or "neutral_low", from the latest point (None if no points).
    assurance: "consistent_pass", "consistent_fail" or "inconsistent" (MDC's "hit and miss");
        None without a target or with a neutral improvement direction.
    """

    variation: str | None
    assurance: str | None
    trial_limits: bool


def xmr(
    values,
    dates=None,
    *,
    improvement: Improvement = "increase",
    baseline_points: int | None = 12,
    target: float | None = None,
    screen_outliers: bool = False,
) -> pd.DataFrame:
    """XmR (individuals) chart: limits are mean ± 2.66 × mean moving range of the baseline.

    The baseline is the first `baseline_points` points, gaps included (None: all points); later
    points are judged against it without moving the limits. A moving range is taken between
    neighbouring points only, never across a gap. `screen_outliers` drops baseline moving ranges
    of 3.267 × their mean or more before the mean moving range is taken.
    """
    sign = _improvement_sign(improvement)
    x = _series(values, dates).astype(float).rename("x")
    baseline = x.iloc[:baseline_points]
    centre = baseline.mean()  # of the values: pandas skips the gaps
    moving_range = x.diff().abs()  # NaN beside a gap
    spread = _mean_moving_range(
        moving_range.iloc[:baseline_points].dropna().to_numpy(), screen_outliers
    )
    frame = pd.DataFrame(
        {
            "x": x,
            "baseline": x.index.isin(baseline.index),
            "moving_range": moving_range,
            "mean": centre,
            "lower_limit": centre - XMR_LIMIT * spread,
            "upper_limit": centre + XMR_LIMIT * spread,
            "lower_near": centre - XMR_NEAR * spread,
            "upper_near": centre + XMR_NEAR * spread,
        },
        index=x.index,
    )
    return _classify(frame, sign, target)


def p_chart(
    numerators,
    denominators,
    dates=None,
    *,
    improvement: Improvement = "increase",
    baseline_points: int | None = 12,
    target: float | None = None,
) -> pd.DataFrame:
    """p-chart of monthly proportions: p̄ ± 3·sqrt(p̄(1−p̄)/nᵢ), clipped to [0, 1].

    p̄ is Σnumerator / Σdenominator over the first `baseline_points` months, gaps included
    (None: all months). A month with denominator 0 is a gap.
    """
    sign = _improvement_sign(improvement)
    num = _series(numerators, dates).astype(float)
    den = _series(denominators, dates).astype(float)
    if not num.index.equals(den.index):
        raise ValueError("numerators and denominators must have the same length")
    if (den < 0).any() or (num < 0).any() or (num > den).any():
        raise ValueError("need 0 <= numerator <= denominator for every month")
    n = den.where(den > 0)
    baseline = num.index[:baseline_points]
    p_bar = num[baseline].sum() / den[baseline].sum() if den[baseline].sum() > 0 else np.nan
    sigma = np.sqrt(p_bar * (1 - p_bar) / n)
    frame = pd.DataFrame(
        {
            "numerator": num,
            "denominator": den,
            "x": num / n,
            "baseline": num.index.isin(baseline),
            "mean": p_bar,
            "lower_limit": (p_bar - 3 * sigma).clip(0, 1),
            "upper_limit": (p_bar + 3 * sigma).clip(0, 1),
            "lower_near": (p_bar - 2 * sigma).clip(0, 1),
            "upper_near": (p_bar + 2 * sigma).clip(0, 1),
        },
        index=num.index,
    )
    return _classify(frame, sign, target)


def summarise(
    df: pd.DataFrame, improvement: Improvement, target: float | None = None
) -> SpcSummary:
    """Variation icon from the latest point with a value; assurance icon from the target and
    that point's limits (the p-chart's limits vary with the denominator)."""
    sign = _improvement_sign(improvement)
    points = df.dropna(subset=["x"])
    if points.empty:
        return SpcSummary(variation=None, assurance=None, trial_limits=True)
    latest = points.iloc[-1]
    return SpcSummary(
        variation=_variation_icon(latest),
        assurance=_assurance_icon(latest, sign, target),
        trial_limits=bool(latest["trial_limits"]),
    )


# --- the rule engine, shared by both charts -------------------------------------------------


def special_causes(x, mean, lower_limit, upper_limit, lower_near, upper_near) -> pd.DataFrame:
    """Flag each rule for a gap-free series and give each special-cause point a direction.

    direction is +1 (high or increasing), -1 (low or decreasing) or 0 (common cause). A point
    that several rules flag takes the direction of the first of: outside the limits, trend,
    2 of 3, shift; so a falling trend above the mean reads as "low", as in NHSRplotthedots.
    """
    x, mean, lower_limit, upper_limit, lower_near, upper_near = (
        np.asarray(a, dtype=float)
        for a in (x, mean, lower_limit, upper_limit, lower_near, upper_near)
    )
    side = np.sign(x - mean).astype(int)
    outside = (x > upper_limit) | (x < lower_limit)
    close = ~outside & ((x > upper_near) | (x < lower_near))
    trend, trend_direction = _trend(x)
    flags = {
        "outside_limits": outside,
        "trend": trend,
        "two_of_three": _two_of_three(side, close),
        "shift": _shift(side),
    }
    directions = {
        "outside_limits": side,
        "trend": trend_direction,
        "two_of_three": side,
        "shift": side,
    }
    direction = np.zeros(len(x), dtype=int)
    for rule in reversed(_RULES):  # later assignments win, so the first rule takes precedence
        direction = np.where(flags[rule], directions[rule], direction)
    special = np.logical_or.reduce(list(flags.values()))
    return pd.DataFrame({**flags, "special_cause": special, "direction": direction})


def _runs(v: np.ndarray):
    """Yield (start, stop, value) for each maximal run of equal non-zero values (stop exclusive)."""
    start = 0
    for i in range(1, len(v) + 1):
        if i == len(v) or v[i] != v[start]:
            if v[start] != 0:
                yield start, i, v[start]
            start = i


def _shift(side: np.ndarray) -> np.ndarray:
    """Every point of a run of 7+ on one side of the mean; a point on the mean ends the run."""
    flag = np.zeros(len(side), dtype=bool)
    for start, stop, _ in _runs(side):
        if stop - start >= RUN_LENGTH:
            flag[start:stop] = True
    return flag


def _trend(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every point of a run of 7+ each higher (or each lower) than the last; ties end the run.

    A point shared by a rise and the fall after it (a peak) takes the later run's direction.
    """
    flag = np.zeros(len(x), dtype=bool)
    direction = np.zeros(len(x), dtype=int)
    for start, stop, step in _runs(np.sign(np.diff(x)).astype(int)):
        if stop - start >= RUN_LENGTH - 1:  # six steps join seven points
            flag[start : stop + 1] = True
            direction[start : stop + 1] = step
    return flag, direction


def _two_of_three(side: np.ndarray, close: np.ndarray) -> np.ndarray:
    """The near-limit points of any 3 consecutive points that are all on one side of the mean
    and of which at least 2 lie between the near line and the process limit."""
    flag = np.zeros(len(side), dtype=bool)
    for i in range(len(side) - 2):
        window = slice(i, i + 3)
        if close[window].sum() >= 2 and abs(side[window].sum()) == 3:
            flag[window] |= close[window]
    return flag


def _classify(frame: pd.DataFrame, sign: int, target: float | None) -> pd.DataFrame:
    """Add the rule flags and point types, running the rules on the points that have a value."""
    values = frame.dropna(subset=["x"])
    causes = special_causes(values["x"], *(values[c].to_numpy() for c in _LINE_COLUMNS))
    causes.index = values.index
    causes = causes.reindex(frame.index, fill_value=False)
    causes["direction"] = causes["direction"].astype(int)
    out = frame.join(causes)
    out["point_type"] = [
        _point_type(d, sign) if has_value else None
        for d, has_value in zip(causes["direction"], frame["x"].notna(), strict=True)
    ]
    out["trial_limits"] = len(values) < TRIAL_LIMIT_POINTS
    if target is not None:
        out["target"] = float(target)
    return out


# --- helpers ----------------------------------------------------------------------------------


def _improvement_sign(improvement: str) -> int:
    if improvement not in _IMPROVEMENT_SIGN:
        raise ValueError(
            f"improvement must be one of {sorted(_IMPROVEMENT_SIGN)}, not {improvement!r}"
        )
    return _IMPROVEMENT_SIGN[improvement]


def _series(values, dates) -> pd.Series:
    """Values in date order (dates are optional; without them the order given is kept)."""
    values = np.asarray(values, dtype=float)
    if dates is None:
        return pd.Series(values)
    index = pd.DatetimeIndex(pd.to_datetime(list(dates)), name="date")
    if len(index) != len(values):
        raise ValueError("dates and values must have the same length")
    if not index.is_unique:
        raise ValueError("dates must be unique: one point per period")
    return pd.Series(values, index=index).sort_index(kind="stable")


def _mean_moving_range(moving_ranges: np.ndarray, screen_outliers: bool) -> float:
    if moving_ranges.size == 0:
        return np.nan
    mean_mr = moving_ranges.mean()
    # A zero mean would screen out every range (NHSRplotthedots then has no limits at all).
    if screen_outliers and mean_mr > 0:
        mean_mr = moving_ranges[moving_ranges < MR_OUTLIER * mean_mr].mean()
    return float(mean_mr)


def _point_type(direction: int, sign: int) -> str:
    if direction == 0:
        return "common_cause"
    if sign == 0:
        return "special_cause_neutral"
    return "special_cause_improvement" if direction == sign else "special_cause_concern"


def _variation_icon(latest: pd.Series) -> str:
    if not latest["special_cause"]:
        return "common_cause"
    high_low = "high" if latest["direction"] > 0 else "low"
    return f"{_VARIATION_PREFIX[latest['point_type']]}_{high_low}"


def _assurance_icon(latest: pd.Series, sign: int, target: float | None) -> str | None:
    """The target outside the limits means every month will pass (or fail) it."""
    if target is None or sign == 0:
        return None
    if target > latest["upper_limit"]:
        return "consistent_fail" if sign > 0 else "consistent_pass"
    if target < latest["lower_limit"]:
        return "consistent_pass" if sign > 0 else "consistent_fail"
    return "inconsistent"
