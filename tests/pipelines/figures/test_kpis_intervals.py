"""Wilson and exact Poisson intervals, and the judgement against a standard, by hand."""

import pytest
from statsmodels.stats.proportion import proportion_confint

from pipelines.figures.intervals import Z, poisson_rate_interval, standard_status, wilson_interval


def test_wilson_8_of_10_by_hand():
    # p = 0.8, n = 10, z^2 = 1.959964^2 = 3.841459
    # centre = (0.8 + 3.841459/20) / (1 + 0.3841459) = 0.992073 / 1.384146 = 0.716740
    # half   = 1.959964 * sqrt(0.8*0.2/10 + 3.841459/400) / 1.384146
    #        = 1.959964 * sqrt(0.016 + 0.009604) / 1.384146 = 0.226578
    # -> 0.716740 -/+ 0.226578 = 0.490162 .. 0.943318
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-6)
    assert high == pytest.approx(0.943318, abs=1e-6)


def test_wilson_k_zero_and_k_n_are_exact_bounds():
    # k = 0: centre = half = (z^2/2n)/(1 + z^2/n), so low = 0 and high = z^2/(n + z^2)
    #        = 3.841459 / 13.841459 = 0.277533 for n = 10; k = n mirrors it.
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.277533, abs=1e-6))
    assert wilson_interval(10, 10) == (pytest.approx(0.722467, abs=1e-6), 1.0)


def test_wilson_without_denominator_or_with_numerator_outside_it():
    assert wilson_interval(0, 0) == (None, None)
    assert wilson_interval(3, 2) == (None, None)


@pytest.mark.parametrize("k,n", [(0, 7), (1, 5), (8, 10), (13, 13), (57, 400)])
def test_wilson_agrees_with_statsmodels(k, n):
    # statsmodels uses z = norm.ppf(0.975) = 1.95996398..., docs/figures.md fixes z = 1.959964.
    assert Z == 1.959964
    ours = wilson_interval(k, n)
    theirs = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert ours == pytest.approx(theirs, abs=1e-7)


def test_poisson_exact_3_events_in_2_pump_years():
    # lower = chi2(0.025; 6)/2 = 1.237344/2 = 0.618672 per 2 years = 0.309336 -> 30.9336 per 100
    # upper = chi2(0.975; 8)/2 = 17.534546/2 = 8.767273 per 2 years = 4.383637 -> 438.3637 per 100
    low, high = poisson_rate_interval(3, 2.0)
    assert low == pytest.approx(30.933606, abs=1e-6)
    assert high == pytest.approx(438.363653, abs=1e-6)


def test_poisson_zero_events_has_lower_bound_zero():
    # upper = chi2(0.975; 2)/2 = 7.377759/2 = 3.688879 per 2 years -> 184.443973 per 100
    assert poisson_rate_interval(0, 2.0) == (0.0, pytest.approx(184.443973, abs=1e-6))


def test_poisson_without_exposure():
    assert poisson_rate_interval(2, 0.0) == (None, None)


@pytest.mark.parametrize(
    "low,high,expected",
    [
        (0.001, 0.009, "met"),  # whole interval below 1%
        (0.011, 0.2, "not_met"),  # whole interval above 1%
        (0.0, 0.3, "not_shown"),  # straddles 1%
        (0.0, 0.01, "not_shown"),  # upper bound equal to the standard is not below it
        (0.01, 0.5, "not_shown"),  # lower bound equal to the standard is not above it
        (None, None, None),  # no denominator
    ],
)
def test_standard_status(low, high, expected):
    assert standard_status(low, high, 0.01) == expected


@pytest.mark.parametrize("k", [*range(0, 60), 99, 100, 250, 1000, 4999, 20000])
def test_poisson_quantiles_equal_scipy_chi2(k):
    # The bounds are the chi-squared quantiles of figures.md, to full double precision.
    from scipy.stats import chi2

    low, high = poisson_rate_interval(k, 1.0, per=1.0)
    assert low == (pytest.approx(chi2.ppf(0.025, 2 * k) / 2, rel=1e-12) if k else 0.0)
    assert high == pytest.approx(chi2.ppf(0.975, 2 * k + 2) / 2, rel=1e-12)


def test_poisson_bound_exact_to_the_sixth_decimal():
    # R: poisson.test(73, 0.5)$conf.int * 100 -> lower 11444.0693844998 (= qchisq(0.025, 146)
    # / 2 / 0.5 * 100). A bound found to only ~1e-13 relative (11444.069384500079) rounds to
    # ...385 in the JSON; the exact value rounds to ...384.
    low, high = poisson_rate_interval(73, 0.5)
    assert low == pytest.approx(11444.0693844998, abs=1e-9)
    assert round(low, 6) == 11444.069384


def test_poisson_interval_does_not_import_scipy_until_used():
    # The CLI imports this module at start-up; scipy.special is paid for only by a rate.
    import subprocess
    import sys

    code = (
        "import sys, pipelines.figures.intervals as i; a = 'scipy.special' in sys.modules; "
        "i.poisson_rate_interval(1, 1.0); print(a, 'scipy.special' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
