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

from pipelines.intervals import poisson_rate_interval, wilson_interval
from pipelines.kpis import rounded

SUPPRESSED = "*"
Value = int | float | str | None

STATEMENT = ("Small numbers are suppressed (NHS disclosure control): counts of 1–{max} are shown as *, "
             "other counts are rounded to the nearest {base}, statistics built on 1–{max} people are *, "
             "and rates are calculated from the rounded counts.")


@dataclass(frozen=True)
class Disclosure:
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


def suppress_kpis(figures: dict[str, Any], d: Disclosure) -> dict[str, Any]:
    """The JSON of compute_kpis as an aggregate view may show it (every count, rate and
    statistic of kpis.md; the period and settings pass through)."""
    out = copy.deepcopy(figures)

    def counts(section: dict, *keys: str) -> None:
        for key in keys:
            section[key] = d.count(section[key])

    w, src = out["waits"], figures["waits"]
    w.update(d.proportion("rate_within_target", src["within_target"], src["seen"]))
    for key in ("median_wait_days", "mean_wait_days"):
        w[key] = d.statistic(src[key], src["seen"])
    counts(w, "seen", "within_target", "open", "open_over_target")

    def trial_group(group: dict, raw: dict) -> None:
        group.update(d.proportion("rate", raw["responders"], raw["responders"] + raw["non_responders"]))
        counts(group, *(k for k in ("patients", "responders", "non_responders", "inconclusive") if k in group))

    trial_group(out["trials"], figures["trials"])
    for condition, group in out["trials"]["by_condition"].items():
        trial_group(group, figures["trials"]["by_condition"][condition])

    c, raw_c = out["complications"], figures["complications"]
    for group, raw in [(c["all"], raw_c["all"])] + [
            (c["by_category"][k], raw_c["by_category"][k]) for k in c["by_category"]]:
        group.update(d.proportion("patient_incidence", raw["patients"], raw_c["implanted_patients"]))
        group.update(d.rate_per_100("rate_per_100_pump_years", raw["events"], raw_c["pump_years"]))
        counts(group, "events", "patients")
    counts(c, "implanted_patients", "events_outside_exposure")

    r, raw_r = out["refills"], figures["refills"]
    r.update(d.proportion("rate", raw_r["on_time"], raw_r["on_time"] + raw_r["late"]))
    r["median_days_late"] = d.statistic(raw_r["median_days_late"], raw_r["late"])
    counts(r, "on_time", "late", "without_due_date", "booked_after_alarm", "residual_discrepancies",
           "overdue_now")

    b = out["battery"]
    counts(b, *(k for k, v in b.items() if isinstance(v, int)))
    counts(b["by_quarter"], *b["by_quarter"])

    a, raw_a = out["activity"], figures["activity"]
    a.update(d.proportion("dna_rate", raw_a["appointments_dna"],
                          raw_a["appointments_attended"] + raw_a["appointments_dna"]))
    counts(a, *(k for k, v in raw_a.items() if isinstance(v, int)))

    for measure, group in out["outcomes"].items():
        people = figures["outcomes"][measure]["patients_paired"]
        for key in ("baseline_mean", "followup_mean", "mean_change"):
            group[key] = d.statistic(group[key], people)
        counts(group, "patients_paired")
    return rounded(out)
