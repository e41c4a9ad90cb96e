"""Kaplan–Meier survival curves with 95% intervals (e.g. pump or catheter survival).

The estimates and Greenwood standard errors come from statsmodels' SurvfuncRight. Pointwise
intervals use the log-log transform (R survival's conf.type = "log-log"), which keeps them
inside [0, 1]. The median and its interval follow R's survfit (quantile.survfit): where the
curve, and each bound of the pointwise interval, reaches 0.5. Times are in days, with
years = days / 365.25 alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.duration.survfunc import SurvfuncRight

DAYS_PER_YEAR = 365.25
ALPHA = 0.05
SINGLE_GROUP = "all"
TAIL = 1e-15  # probability mass of a count below which the Poisson-binomial is cut
CURVE_COLUMNS = ["group", "time", "years", "at_risk", "events", "survival", "ci_low", "ci_high"]


@dataclass(frozen=True)
class MedianSurvival:
    """Median survival in days with its 95% interval; None where the curve never reaches it
    (median, lower bound) or the interval stays open (upper bound)."""

    group: str
    n: int
    events: int
    median_days: float | None
    ci_low_days: float | None
    ci_high_days: float | None

    @property
    def median_years(self) -> float | None:
        return _years(self.median_days)

    @property
    def ci_low_years(self) -> float | None:
        return _years(self.ci_low_days)

    @property
    def ci_high_years(self) -> float | None:
        return _years(self.ci_high_days)


def kaplan_meier(durations_days, events, *, groups=None) -> pd.DataFrame:
    """The Kaplan–Meier step function for each group.

    One row at time 0 (survival 1), one per event time, and one at the last follow-up time if
    that is after the last event, so a curve runs to the end of follow-up (a group with no
    events stays at 1). `events` is 1/True for the event and 0/False for censored.
    """
    frames = [_curve(label, t, e) for label, t, e in _groups(durations_days, events, groups)]
    if not frames:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def median_survival(durations_days, events, *, groups=None) -> list[MedianSurvival]:
    """Median survival with its 95% interval, for each group, as R's survfit gives them
    (see _quantile_time): the median from the curve, the interval's lower bound from the
    lower pointwise bound and its upper bound from the upper one."""
    return [_median(label, t, e) for label, t, e in _groups(durations_days, events, groups)]


def _groups(durations_days, events, groups):
    """Yield (label, durations, events) per group, validated, in sorted group order."""
    t = np.asarray(durations_days, dtype=float)
    e = np.asarray(events, dtype=float)
    if groups is None:
        groups = np.full(len(t), SINGLE_GROUP, dtype=object)
    labels = np.asarray(groups, dtype=object)
    if not len(t) == len(e) == len(labels):
        raise ValueError("durations, events and groups must have the same length")
    if np.isnan(t).any() or (t < 0).any():
        raise ValueError("durations must be present and not negative")
    if not np.isin(e, (0, 1)).all():
        raise ValueError("events must be 0/1 (1 = event, 0 = censored)")
    for label in sorted(set(labels), key=str):
        mask = labels == label
        yield str(label), t[mask], e[mask]


def _curve(label: str, t: np.ndarray, e: np.ndarray) -> pd.DataFrame:
    sf = SurvfuncRight(t, e)
    low, high = _loglog_interval(sf.surv_prob, sf.surv_prob_se)
    rows = pd.DataFrame(
        {
            "time": np.concatenate([[0.0], sf.surv_times]),
            "at_risk": np.concatenate([[len(t)], sf.n_risk]).astype(int),
            "events": np.concatenate([[0], sf.n_events]).astype(int),
            "survival": np.concatenate([[1.0], sf.surv_prob]),
            "ci_low": np.concatenate([[1.0], low]),
            "ci_high": np.concatenate([[1.0], high]),
        }
    )
    last = t.max()
    if last > rows["time"].iloc[-1]:  # censored follow-up after the last event
        tail = rows.iloc[[-1]].assign(time=last, at_risk=int((t >= last).sum()), events=0)
        rows = pd.concat([rows, tail], ignore_index=True)
    rows.insert(0, "group", label)
    rows.insert(2, "years", rows["time"] / DAYS_PER_YEAR)
    return rows


def _loglog_interval(s: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval S^exp(±z·se(log(−log S))), where se(log(−log S)) = se(S) / (S·|log S|).

    Undefined (NaN) where S is 0, as in R's survival package.
    """
    z = norm.ppf(1 - ALPHA / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = se / (s * np.abs(np.log(s)))
        return s ** np.exp(z * theta), s ** np.exp(-z * theta)


def _median(label: str, t: np.ndarray, e: np.ndarray) -> MedianSurvival:
    sf = SurvfuncRight(t, e)
    low, high = _loglog_interval(sf.surv_prob, sf.surv_prob_se)
    median, ci_low, ci_high = (
        _quantile_time(sf.surv_times, curve, float(t.max()), 0.5)
        for curve in (sf.surv_prob, low, high)
    )
    return MedianSurvival(
        group=label,
        n=len(t),
        events=int(e.sum()),
        median_days=median,
        ci_low_days=ci_low,
        ci_high_days=ci_high,
    )


# R's tolerance for a curve "exactly" at the quantile (sqrt(.Machine$double.eps)).
QUANTILE_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def _quantile_time(times: np.ndarray, surv: np.ndarray, last_time: float, p: float) -> float | None:
    """The time at which the step curve `surv` (its value from each event time on) reaches 1 − p,
    by R survival's rule (findq in R/quantile.survfit.R):

    - the first time the curve is at or below 1 − p;
    - if the curve is flat at exactly 1 − p (within R's tolerance) from that time on, the
      midpoint between that time and the next time the curve drops; or, if it never drops
      again, the midpoint between that time and the last follow-up time (`last_time`);
    - None if the curve never reaches 1 − p. Undefined (NaN) values are skipped, as R does.
    """
    # R works on the distinct values of 1 − S, each at its first time (a time at which the
    # curve does not move is no time of a step).
    x, y = [0.0], [0.0]
    seen: set[float | str] = {0.0}  # "nan" stands for every undefined value
    for time, value in zip(times, 1 - np.asarray(surv, dtype=float), strict=True):
        key = "nan" if np.isnan(value) else float(value)
        if key not in seen:
            seen.add(key)
            x.append(float(time))
            y.append(float(value))

    def smallest_at_least(level: float) -> int | None:
        # R's approx(y, 1:n, level, "constant", f = 1): the smallest value at or above the
        # level, which on a falling curve is the first in time (a band need not fall).
        above = [i for i, v in enumerate(y) if not np.isnan(v) and v >= level]
        return min(above, key=y.__getitem__, default=None)

    reached = smallest_at_least(p - QUANTILE_TOLERANCE)  # the curve at or below 1 − p
    dropped = smallest_at_least(p + QUANTILE_TOLERANCE)  # the curve below 1 − p
    if reached is None:
        return None
    if not np.isnan(y[-1]) and abs(p - y[-1]) < QUANTILE_TOLERANCE:  # flat at 1 − p to the end
        return (x[reached] + last_time) / 2
    if dropped is None:
        return None
    return (x[reached] + x[dropped]) / 2


def _years(days: float | None) -> float | None:
    return None if days is None else days / DAYS_PER_YEAR


def step_at(curve: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """A kaplan_meier curve's survival at each of `days` (the step in force then: right-continuous,
    as S(t) = P(T > t)); NaN after the curve's last follow-up time, where it says nothing."""
    times, survival = curve["time"].to_numpy(), curve["survival"].to_numpy()
    at = survival[np.clip(np.searchsorted(times, days, side="right") - 1, 0, None)]
    return np.where(np.asarray(days) > times[-1], np.nan, at)


def window_probabilities(curve: pd.DataFrame, ages_days, first: int, last: int) -> np.ndarray:
    """For units still event-free at ages `ages_days`, the probability of their event in the
    window of days first..last from today (both inclusive), from a kaplan_meier curve:
    p = (S(a + first - 1) - S(a + last)) / S(a). NaN for a unit whose age passes the curve's
    follow-up within the window (the curve cannot say), or where S(a) is 0."""
    ages = np.asarray(ages_days, dtype=float)
    before, end, now = (
        step_at(curve, ages + first - 1),
        step_at(curve, ages + last),
        step_at(curve, ages),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip((before - end) / now, 0.0, 1.0)
    return np.where(np.isnan(end) | ~(now > 0), np.nan, p)


def expected_count(p: np.ndarray) -> dict[str, float | int]:
    """The count of events among independent units with event probabilities p (a Poisson-binomial
    variable): its mean Σp and a 95% prediction interval (its 2.5% and 97.5% quantiles, exact
    from the convolution of the units' distributions)."""
    low, high = _poisson_binomial_interval(p)
    return {"expected": float(p.sum()), "low": low, "high": high}


def _poisson_binomial_interval(p: np.ndarray) -> tuple[int, int]:
    """The 2.5% and 97.5% quantiles of a sum of independent Bernoulli(p_i)."""
    pmf = np.ones(1)
    for q in p[p > 0]:
        pmf = np.append(pmf * (1 - q), 0.0) + np.append(0.0, pmf * q)
        if pmf[-1] < TAIL:  # keep the array to the counts that can matter
            pmf = pmf[: np.flatnonzero(pmf >= TAIL).max() + 1]
    cdf = np.cumsum(pmf)
    return (int(np.searchsorted(cdf, ALPHA / 2)), int(np.searchsorted(cdf, 1 - ALPHA / 2)))
