"""A period's headline figures beside the same figures for an earlier period (the previous period
of the same length, and the same period a year earlier), with the change and its 95% interval.

A difference of two proportions: Newcombe's hybrid score interval (statsmodels,
`confint_proportions_2indep(method="newcomb")`). A ratio of two rates (events per pump-year, or
a count of activity per day of the period): the exact conditional interval, the Clopper–Pearson
interval of k1 / (k1 + k2) given the total (scipy's `binomtest`), turned into a ratio. Other
headline figures (a median, a count at the period's end) are given with their change alone.
A view that suppresses small numbers compares only where it shows both figures; the verdict then
comes from the exact counts (as its rates do), and the change is the difference of the two shown
figures, with no interval (an interval of exact counts would say more than the rounded figures).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from pipelines.figures.disclosure import SUPPRESSED

# The headline proportions: (numerator, denominator terms) of the figures, by dotted path.
PROPORTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "waits.rate_within_target": ("waits.within_target", ("waits.seen",)),
    "trials.rate": ("trials.responders", ("trials.responders", "trials.non_responders")),
    "refills.rate": ("refills.on_time", ("refills.on_time", "refills.late")),
    "complications.all.patient_incidence": (
        "complications.all.patients",
        ("complications.implanted_patients",),
    ),
    "complications.by_category.weight_gain.patient_incidence": (
        "complications.by_category.weight_gain.patients",
        ("complications.implanted_patients",),
    ),
    "activity.dna_rate": (
        "activity.appointments_dna",
        ("activity.appointments_attended", "activity.appointments_dna"),
    ),
}
# The headline rates: (events, exposure); exposure None = the period's days (a count of activity
# over two periods, compared as a rate so that periods of unequal length compare fairly).
RATES: dict[str, tuple[str, str | None]] = {
    "complications.all.rate_per_100_pump_years": (
        "complications.all.events",
        "complications.pump_years",
    ),
    "activity.referrals_received": ("activity.referrals_received", None),
    "activity.new_implants": ("activity.new_implants", None),
}
EARLIER = {
    "previous": "last period",
    "year_earlier": "a year earlier",
    "last_audit": "the last audit",  # the figures recorded then (pipelines/governance/)
}
CHANGED = ("higher than ", "lower than ")  # the verdicts of a change beyond chance


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Comparison:
    """One figure now and in an earlier period. kind: 'difference' (of proportions, change =
    now − then), 'ratio' (of rates, change = now / then) or 'change' (now − then, no interval)."""

    key: str
    kind: str
    current: Any
    earlier: Any
    change: float | None
    low: float | None
    high: float | None
    verdict: str

    @property
    def changed(self) -> bool:
        """Whether the change's 95% interval excludes no change (the verdict says which way)."""
        return self.verdict.startswith(CHANGED)


def previous_period(start: dt.date, end: dt.date) -> Period:
    """The period of the same length just before: as many calendar months when the period is
    whole months (a quarter's previous is the quarter before), else as many days."""
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
        following = end + dt.timedelta(days=1)
        months = (following.year - start.year) * 12 + following.month - start.month
        return Period(_months_before(start, months), start - dt.timedelta(days=1))
    length = (end - start).days + 1
    return Period(start - dt.timedelta(days=length), start - dt.timedelta(days=1))


def year_earlier(start: dt.date, end: dt.date) -> Period | None:
    """The same dates a year before (29 February as the 28th), for a period shorter than a
    year; None for a year or longer (the previous period is then a year or more before)."""
    if (end - start).days + 1 >= 365:
        return None
    return Period(_year_before(start), _year_before(end))


def earlier_periods(start: dt.date, end: dt.date) -> list[tuple[str, Period]]:
    """The earlier periods a period's figures are compared with, each with its key of EARLIER:
    the previous period, and the same dates a year earlier for a period shorter than a year."""
    periods = [("previous", previous_period(start, end))]
    if (earlier := year_earlier(start, end)) is not None:
        periods.append(("year_earlier", earlier))
    return periods


def compare(
    current: dict[str, Any],
    earlier: dict[str, Any],
    keys: list[str],
    current_days: int,
    earlier_days: int,
    against: str = "previous",
    shown: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> dict[str, Comparison]:
    """Each headline figure of `keys` in the figures of two periods (as compute_kpis gives
    them). `shown`: the same two periods as a suppressed view shows them, for that view."""
    out = {}
    for key in keys:
        exact = _compare(key, current, earlier, current_days, earlier_days, EARLIER[against])
        out[key] = exact if shown is None else _as_shown(exact, *shown)
    return out


def _as_shown(exact: Comparison, now: dict, then: dict) -> Comparison:
    a, b = _at(now, exact.key), _at(then, exact.key)
    if _missing(a, b) or exact.change is None:
        return _not_compared(exact.key, exact.kind, a, b)
    change = a / b if exact.kind == "ratio" and b else a - b
    return Comparison(exact.key, exact.kind, a, b, change, None, None, exact.verdict)


def _compare(
    key: str, now: dict, then: dict, now_days: int, then_days: int, words: str
) -> Comparison:
    a, b = _at(now, key), _at(then, key)
    if key in PROPORTIONS:
        numerator, denominator = PROPORTIONS[key]
        k1, n1 = _at(now, numerator), _total(now, denominator)
        k2, n2 = _at(then, numerator), _total(then, denominator)
        if _missing(k1, n1, k2, n2) or not (n1 and n2):
            return _not_compared(key, "difference", a, b)
        low, high = newcombe_difference(k1, n1, k2, n2)
        return Comparison(
            key, "difference", a, b, k1 / n1 - k2 / n2, low, high, verdict(low, high, 0.0, words)
        )
    if key in RATES:
        events, exposure = RATES[key]
        k1, k2 = _at(now, events), _at(then, events)
        e1, e2 = (
            (now_days, then_days) if exposure is None else (_at(now, exposure), _at(then, exposure))
        )
        if _missing(k1, k2, e1, e2) or not (e1 > 0 and e2 > 0) or k2 == 0:
            return _not_compared(key, "ratio", a, b)
        low, high = exact_rate_ratio(k1, e1, k2, e2)
        return Comparison(
            key, "ratio", a, b, (k1 / e1) / (k2 / e2), low, high, verdict(low, high, 1.0, words)
        )
    if _missing(a, b):
        return _not_compared(key, "change", a, b)
    return Comparison(
        key,
        "change",
        a,
        b,
        a - b,
        None,
        None,
        "not tested (a median or a count at the period's end)",
    )


def newcombe_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% interval of k1/n1 − k2/n2: Newcombe's hybrid score interval (method 10)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    return float(low), float(high)


def exact_rate_ratio(k1: int, e1: float, k2: int, e2: float) -> tuple[float, float]:
    """95% exact conditional interval of (k1/e1) / (k2/e2): given k1 + k2 events, k1 is binomial
    with p = R·e1 / (R·e1 + e2); the Clopper–Pearson bounds of p give R = p/(1 − p) · e2/e1."""
    from scipy.stats import binomtest

    ci = binomtest(k1, k1 + k2).proportion_ci(confidence_level=0.95, method="exact")
    scale = e2 / e1
    high = math.inf if ci.high >= 1 else ci.high / (1 - ci.high) * scale
    return ci.low / (1 - ci.low) * scale, high


def verdict(low: float, high: float, no_change: float, words: str) -> str:
    """A plain verdict from the change's 95% interval."""
    higher, lower = CHANGED
    if low > no_change:
        return higher + words
    if high < no_change:
        return lower + words
    return "no evidence of a change"


def _not_compared(key: str, kind: str, a: Any, b: Any) -> Comparison:
    why = (
        "not compared: a figure is suppressed"
        if SUPPRESSED in (a, b)
        else "not compared: no figure in one of the periods"
    )
    return Comparison(key, kind, a, b, None, None, None, why)


def _missing(*values: Any) -> bool:
    return any(v is None or v == SUPPRESSED for v in values)


def _total(figures: dict, keys: tuple[str, ...]) -> Any:
    values = [_at(figures, k) for k in keys]
    return None if _missing(*values) else sum(values)


def _at(figures: dict, key: str) -> Any:
    for part in key.split("."):
        figures = figures[part]
    return figures


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _year_before(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1, day=28 if (day.month, day.day) == (2, 29) else day.day)
