"""Small-number suppression for aggregate views (NHS secondary-care disclosure control, as used
for HES/ECDS; domain-notes.md §4): below national level, a count of 0 stays 0, counts of 1–7
are shown as "*", and every other count is rounded to the nearest 5; a mean, median or other
statistic built on 1–7 people is "*"; a percentage is calculated from the rounded numerator
and denominator. The thresholds are settings ([disclosure] in itb-audit.toml).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pipelines.figures.intervals import poisson_rate_interval, standard_status, wilson_interval
from pipelines.config import Standard
from pipelines.figures.kpis import rounded, standards_figures

SUPPRESSED = "*"
Value = int | float | str | None

STATEMENT = ("Small numbers are suppressed (NHS disclosure control): counts of 1–{max} are shown as *, "
             "other counts are rounded to the nearest {base}, statistics built on 1–{max} people are *, "
             "and rates are calculated from the rounded counts.")


@dataclass(frozen=True)
class Disclosure:
    """The rule for one view; NO_SUPPRESSION (nothing suppressed, nothing rounded) is the rule
    for a role that may see exact figures, so every figure is built the same way for both."""

    max_suppressed: int = 7
    rounding_base: int = 5

    @classmethod
    def from_settings(cls, settings) -> "Disclosure":
        return cls(settings.disclosure_max_suppressed, settings.disclosure_rounding_base)

    @property
    def statement(self) -> str:
        return STATEMENT.format(max=self.max_suppressed, base=self.rounding_base)

    def count(self, n: int | None) -> int | str | None:
        if n is None or n == 0:
            return n
        if n <= self.max_suppressed:
            return SUPPRESSED
        # Integers are never halfway between two multiples of 5, so no tie rule is needed.
        return int(self.rounding_base * round(n / self.rounding_base))

    def statistic(self, value: Value, people: int) -> Value:
        return SUPPRESSED if 1 <= people <= self.max_suppressed else value

    def proportion(self, name: str, k: int, n: int) -> dict[str, Value]:
        """The proportion k/n and its Wilson interval, from the rounded counts."""
        rk, rn = self.count(k), self.count(n)
        if SUPPRESSED in (rk, rn):
            return {name: SUPPRESSED, f"{name}_ci_low": SUPPRESSED, f"{name}_ci_high": SUPPRESSED}
        low, high = wilson_interval(rk, rn)
        return {name: rk / rn if rn else None, f"{name}_ci_low": low, f"{name}_ci_high": high}

    def rate_per_100(self, name: str, events: int, pump_years: float) -> dict[str, Value]:
        """A rate per 100 pump-years and its exact Poisson interval, from the rounded count."""
        rk = self.count(events)
        if rk == SUPPRESSED:
            return {name: SUPPRESSED, f"{name}_ci_low": SUPPRESSED, f"{name}_ci_high": SUPPRESSED}
        low, high = poisson_rate_interval(rk, pump_years, per=100.0)
        return {name: rk / pump_years * 100 if pump_years > 0 else None,
                f"{name}_ci_low": low, f"{name}_ci_high": high}


def _counts(section: dict, d: Disclosure, *keys: str) -> None:
    for key in keys:
        section[key] = d.count(section[key])


def _waits(raw: dict, d: Disclosure) -> dict:
    w = dict(raw)
    w.update(d.proportion("rate_within_target", raw["within_target"], raw["seen"]))
    for key in ("median_wait_days", "mean_wait_days"):
        w[key] = d.statistic(raw[key], raw["seen"])
    _counts(w, d, "seen", "within_target", "open", "open_over_target")
    return w


def _trials(raw: dict, d: Disclosure) -> dict:
    def group(figures: dict) -> dict:
        out = dict(figures)
        out.update(d.proportion("rate", figures["responders"],
                                figures["responders"] + figures["non_responders"]))
        _counts(out, d, *(k for k in ("patients", "responders", "non_responders", "inconclusive")
                          if k in out))
        return out

    t = group(raw)
    t["by_condition"] = {c: group(figures) for c, figures in raw["by_condition"].items()}
    return t


def _complications(raw: dict, d: Disclosure) -> dict:
    def group(figures: dict) -> dict:
        out = dict(figures)
        out.update(d.proportion("patient_incidence", figures["patients"],
                                raw["implanted_patients"]))
        out.update(d.rate_per_100("rate_per_100_pump_years", figures["events"], raw["pump_years"]))
        _counts(out, d, "events", "patients")
        return out

    c = copy.deepcopy(raw)
    c["all"] = group(raw["all"])
    c["by_category"] = {k: group(figures) for k, figures in raw["by_category"].items()}
    _counts(c, d, "implanted_patients", "events_outside_exposure")
    # Judged from the interval this view shows: a judgement beside a suppressed interval would
    # hint at the small count behind it.
    shown = c["by_category"]["weight_gain"]
    low, high = shown["patient_incidence_ci_low"], shown["patient_incidence_ci_high"]
    c["weight_gain_standard_status"] = (
        SUPPRESSED if SUPPRESSED in (low, high) else standard_status(low, high, raw["weight_gain_standard"]))
    return c


def _refills(raw: dict, d: Disclosure) -> dict:
    r = dict(raw)
    r.update(d.proportion("rate", raw["on_time"], raw["on_time"] + raw["late"]))
    r["median_days_late"] = d.statistic(raw["median_days_late"], raw["late"])
    _counts(r, d, "on_time", "late", "without_due_date", "booked_after_alarm",
            "residual_discrepancies", "overdue_now")
    return r


def _battery(raw: dict, d: Disclosure) -> dict:
    b = copy.deepcopy(raw)
    _counts(b, d, *(k for k, v in b.items() if isinstance(v, int)))
    _counts(b["by_quarter"], d, *b["by_quarter"])
    return b


def _activity(raw: dict, d: Disclosure) -> dict:
    a = dict(raw)
    a.update(d.proportion("dna_rate", raw["appointments_dna"],
                          raw["appointments_attended"] + raw["appointments_dna"]))
    _counts(a, d, *(k for k, v in raw.items() if isinstance(v, int)))
    return a


def _outcomes(raw: dict, d: Disclosure) -> dict:
    out = {}
    for measure, figures in raw.items():
        group = dict(figures)
        for key in ("baseline_mean", "followup_mean", "mean_change"):
            group[key] = d.statistic(figures[key], figures["patients_paired"])
        _counts(group, d, *(k for k in ("patients_due", "patients_with_baseline",
                                        "patients_with_followup", "patients_paired") if k in group))
        out[measure] = group
    return out


SECTIONS = {"waits": _waits, "trials": _trials, "complications": _complications,
            "refills": _refills, "battery": _battery, "activity": _activity,
            "outcomes": _outcomes, "outcomes_12m": _outcomes}


def suppress_section(name: str, figures: dict[str, Any], d: Disclosure) -> dict[str, Any]:
    """One section of the KPI JSON (as pipelines.figures.kpis.section_figures gives it), suppressed."""
    return rounded(SECTIONS[name](figures, d))


def suppress_kpis(figures: dict[str, Any], d: Disclosure) -> dict[str, Any]:
    """The JSON of compute_kpis as an aggregate view may show it (every count, rate and
    statistic of docs/figures.md; the period and settings pass through)."""
    out = copy.deepcopy(figures)
    for name, suppress in SECTIONS.items():
        out[name] = suppress(figures[name], d)
    # Each standard judged again from the figures this view shows (as weight_gain_standard_status).
    out["standards"] = standards_figures(
        out, [Standard(name, s["figure"], s["direction"], s["target"])
              for name, s in figures["standards"].items()], hidden=SUPPRESSED)
    return rounded(out)


NO_SUPPRESSION = Disclosure(max_suppressed=0, rounding_base=1)
