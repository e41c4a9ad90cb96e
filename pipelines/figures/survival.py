"""Kaplan–Meier survival curves with 95% intervals (e.g. pump or catheter survival).

The estimates and Greenwood standard errors come from statsmodels' SurvfuncRight. Pointwise
intervals use the log-log transform (R survival's conf.type = "log-log"), which keeps them
inside [0, 1]; the median's interval is statsmodels' inverted test on the same ("cloglog")
scale. Times are in days, with years = days / 365.25 alongside.
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
    """Median survival (first time the curve drops below 0.5, as statsmodels and SAS define it)
    with its 95% interval, for each group."""
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
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = sf.quantile_ci(0.5, alpha=ALPHA, method="cloglog")
    return MedianSurvival(
        group=label,
        n=len(t),
        events=int(e.sum()),
        median_days=_finite(sf.quantile(0.5)),
        ci_low_days=_finite(low),
        ci_high_days=_finite(high),
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _years(days: float | None) -> float | None:
    return None if days is None else days / DAYS_PER_YEAR
