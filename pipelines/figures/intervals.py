"""The 95% intervals of docs/figures.md and the judgement of a figure against a standard."""

from __future__ import annotations

import math
from typing import Literal

# docs/figures.md fixes z to 6 decimals; statsmodels' Wilson uses norm.ppf(0.975) = 1.95996398...,
# which can move the 6th decimal of a bound, so the formula is written out with the spec's z.
Z = 1.959964

Interval = tuple[float, float] | tuple[None, None]
StandardStatus = Literal["met", "not_met", "not_shown"]
Direction = Literal["at_least", "below", "zero"]


def wilson_interval(k: int, n: int) -> Interval:
    """Wilson score 95% interval of the proportion k/n.

    (None, None) when there is no denominator, or when k is not within 0..n (a numerator that
    is not part of its denominator has no binomial interval).
    """
    if n <= 0 or not 0 <= k <= n:
        return None, None
    p = k / n
    z2 = Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At k = 0 and k = n a bound is exactly 0 or 1; say so rather than keep rounding error.
    low = 0.0 if k == 0 else centre - half
    high = 1.0 if k == n else centre + half
    return low, high


def poisson_rate_interval(k: int, exposure: float, per: float = 100.0) -> Interval:
    """Exact (Garwood) Poisson 95% interval of the rate k / exposure, times `per`.

    lower = chi2(0.025; 2k) / 2 (0 when k = 0), upper = chi2(0.975; 2k + 2) / 2, each divided by
    the exposure. (None, None) when there is no exposure.
    """
    if exposure <= 0:
        return None, None
    # chi2(p; 2a) / 2 is the inverse regularised gamma function, which scipy computes to about
    # 1e-15 relative (the 6th decimal of a rate can need that). Imported here, not at the top,
    # so that commands which never compute a rate do not pay scipy.special's import.
    from scipy.special import gammaincinv

    low = float(gammaincinv(k, 0.025)) if k > 0 else 0.0  # chi2(0.025; 2k) / 2
    high = float(gammaincinv(k + 1, 0.975))  # chi2(0.975; 2k + 2) / 2
    return low / exposure * per, high / exposure * per


def standard_status(
    ci_low: float | None,
    ci_high: float | None,
    standard: float,
    direction: Direction | str = "below",
    value: float | None = None,
) -> StandardStatus | None:
    """Judge a figure against a standard by its 95% interval (docs/figures.md §8), never by the
    point value alone.

    below (lower is better): 'met' when ci_high < standard, 'not_met' when ci_low > standard;
    at_least (higher is better): 'met' when ci_low >= standard, 'not_met' when ci_high < standard;
    otherwise 'not_shown' (the data cannot tell); None when the figure has no interval.
    zero (a count that must be 0): judged on `value` itself, 'met' at 0, else 'not_met'.
    """
    if direction == "zero":
        return None if value is None else "met" if value == 0 else "not_met"
    if ci_low is None or ci_high is None:
        return None
    if direction == "below":
        met, not_met = ci_high < standard, ci_low > standard
    elif direction == "at_least":
        met, not_met = ci_low >= standard, ci_high < standard
    else:
        raise ValueError(f"unknown direction of a standard: {direction!r}")
    return "met" if met else "not_met" if not_met else "not_shown"
