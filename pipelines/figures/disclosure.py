"""Small-number suppression for aggregate views (NHS secondary-care disclosure control, as used
for HES/ECDS; domain-notes.md §4): below national level, a count of 0 stays 0, counts of 1–7
are shown as "*", and every other count is rounded to the nearest 5; a mean, median or other
statistic built on 1–7 people is "*". Rates are the project's own rule (docs/access.md): a rate,
its interval and any judgement against a standard are "*" when fewer than min_denominator people
are behind it, or when 1–7 people are in it or outside it; otherwise the rate is computed from
the exact counts and rounded to a step worth at least one person, so it neither misleads (a rate
of rounded counts moves by up to 25 points at 20 people) nor gives a hidden count back. Each
such rate carries a "<name>_note" saying why it is "*" or how it is rounded. The thresholds are
settings ([disclosure] in itb-audit.toml).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, overload

from pipelines.config import Standard
from pipelines.figures.intervals import poisson_rate_interval, wilson_interval
from pipelines.figures.kpis import rounded, standards_figures

SUPPRESSED = "*"
Value = int | float | str | None

STATEMENT = (
    "Small numbers are suppressed (NHS disclosure control): counts of 1–{max} are shown "
    "as *, other counts are rounded to the nearest {base}, and statistics built on "
    "1–{max} people are *. A rate, its interval and its judgement against a standard "
    "are * when fewer than {min_den} people are behind it or 1–{max} are in it or outside "
    "it; otherwise the rate is worked out from the exact counts and rounded to a step "
    "worth at least one person (5 points under 50 people, 2 under 100, 1 under 200), "
    "so it may differ from an unsuppressed view by up to half that step: its note "
    "says so."
)
# The steps a rate is rounded to (in its own unit): the smallest that is worth at least one
# person (or event), so a shown rate cannot be turned back into its exact count.
STEPS = tuple(m * 10.0**e for e in range(-3, 3) for m in (1, 2, 5))


@dataclass(frozen=True)
class Disclosure:
    """The rule for one view; NO_SUPPRESSION (nothing suppressed, nothing rounded) is the rule
    for a role that may see exact figures, so every figure is built the same way for both."""

    max_suppressed: int = 7
    rounding_base: int = 5
    min_denominator: int = 20

    @classmethod
    def from_settings(cls, settings) -> Disclosure:
        return cls(
            settings.disclosure_max_suppressed,
            settings.disclosure_rounding_base,
            settings.disclosure_min_denominator,
        )

    @property
    def statement(self) -> str:
        return STATEMENT.format(
            max=self.max_suppressed, base=self.rounding_base, min_den=self.min_denominator
        )

    @property
    def exact(self) -> bool:
        return self.max_suppressed == 0 and self.rounding_base == 1 and self.min_denominator == 0

    @overload
    def count(self, n: int) -> int | str: ...
    @overload
    def count(self, n: None) -> None: ...
    def count(self, n: int | None) -> int | str | None:
        if n is None or n == 0:
            return n
        if n <= self.max_suppressed:
            return SUPPRESSED
        # Integers are never halfway between two multiples of 5, so no tie rule is needed.
        return int(self.rounding_base * round(n / self.rounding_base))

    def statistic(self, value: Value, people: int) -> Value:
        return SUPPRESSED if 1 <= people <= self.max_suppressed else value

    def withheld(self, people: int, *parts: int) -> str | None:
        """Why a rate on `people` whose `parts` (its numerator, and the rest) are counts of
        people may not be shown, or None."""
        if people < self.min_denominator:
            return f"fewer than {self.min_denominator} people behind it"
        if any(self.count(part) == SUPPRESSED for part in parts):
            return f"1–{self.max_suppressed} people in it or outside it"
        return None

    def _shown(
        self, name: str, values: tuple, reason: str | None, one: float, unit: str
    ) -> dict[str, Value]:
        """A rate and its interval as shown: '*' with the reason, or each rounded to the
        smallest step worth at least one person (`one`), with a note when that is coarser than
        the figure is printed."""
        keys = (name, f"{name}_ci_low", f"{name}_ci_high")
        if self.exact:
            return dict(zip(keys, values, strict=True))
        if reason:
            return {**dict.fromkeys(keys, SUPPRESSED), f"{name}_note": f"* : {reason}"}
        step = next(s for s in STEPS if s >= one * (1 - 1e-9))
        out = {
            k: None if v is None else round(round(v / step) * step, 6)
            for k, v in zip(keys, values, strict=True)
        }
        percent = unit == "point"
        printed = 0.001 if percent else 0.1  # fmt: one decimal (of a percentage)
        if step > printed * (1 + 1e-9):
            size = step * 100 if percent else step
            what = f"{size:g} {unit}{'s' if percent and size != 1 else ''}"
            one_what = "person's" if percent else "event's"
            out[f"{name}_note"] = f"rounded to the nearest {what} (one {one_what} worth or more)"
        return out

    def proportion(self, name: str, k: int, n: int) -> dict[str, Value]:
        """The proportion k/n and its Wilson interval (module docstring for the rule)."""
        if not n:
            return {name: None, f"{name}_ci_low": None, f"{name}_ci_high": None}
        return self._shown(
            name, (k / n, *wilson_interval(k, n)), self.withheld(n, k, n - k), 1 / n, "point"
        )

    def rate_per_100(
        self, name: str, events: int, pump_years: float, people: int
    ) -> dict[str, Value]:
        """A rate per 100 pump-years of `people` and its exact Poisson interval."""
        if pump_years <= 0:
            return {name: None, f"{name}_ci_low": None, f"{name}_ci_high": None}
        values = (events / pump_years * 100, *poisson_rate_interval(events, pump_years, per=100.0))
        return self._shown(
            name, values, self.withheld(people, events), 100 / pump_years, "per 100 pump-years"
        )


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
        out.update(
            d.proportion(
                "rate", figures["responders"], figures["responders"] + figures["non_responders"]
            )
        )
        _counts(
            out,
            d,
            *(k for k in ("patients", "responders", "non_responders", "inconclusive") if k in out),
        )
        return out

    t = group(raw)
    t["by_condition"] = {c: group(figures) for c, figures in raw["by_condition"].items()}
    return t


def _complications(raw: dict, d: Disclosure) -> dict:
    def group(figures: dict) -> dict:
        out = dict(figures)
        out.update(
            d.proportion("patient_incidence", figures["patients"], raw["implanted_patients"])
        )
        out.update(
            d.rate_per_100(
                "rate_per_100_pump_years",
                figures["events"],
                raw["pump_years"],
                raw["implanted_patients"],
            )
        )
        _counts(out, d, "events", "patients")
        return out

    c = copy.deepcopy(raw)
    c["all"] = group(raw["all"])
    c["by_category"] = {k: group(figures) for k, figures in raw["by_category"].items()}
    _counts(c, d, "implanted_patients", "events_outside_exposure")
    # Judged from the exact interval (the shown one is rounded), and only where that interval
    # is shown: a judgement beside a suppressed interval would hint at the count behind it.
    shown = c["by_category"]["weight_gain"]["patient_incidence"]
    c["weight_gain_standard_status"] = (
        SUPPRESSED if shown == SUPPRESSED else raw["weight_gain_standard_status"]
    )
    return c


def _refills(raw: dict, d: Disclosure) -> dict:
    r = dict(raw)
    r.update(d.proportion("rate", raw["on_time"], raw["on_time"] + raw["late"]))
    r["median_days_late"] = d.statistic(raw["median_days_late"], raw["late"])
    _counts(
        r,
        d,
        "on_time",
        "late",
        "without_due_date",
        "booked_after_alarm",
        "residual_discrepancies",
        *(["overdue_now"] if "overdue_now" in raw else []),  # not in a monthly series
    )
    return r


def _battery(raw: dict, d: Disclosure) -> dict:
    b = copy.deepcopy(raw)
    _counts(b, d, *(k for k, v in b.items() if isinstance(v, int)))
    _counts(b["by_quarter"], d, *b["by_quarter"])
    return b


def _activity(raw: dict, d: Disclosure) -> dict:
    a = dict(raw)
    a.update(
        d.proportion(
            "dna_rate",
            raw["appointments_dna"],
            raw["appointments_attended"] + raw["appointments_dna"],
        )
    )
    _counts(a, d, *(k for k, v in raw.items() if isinstance(v, int)))
    return a


def _outcomes(raw: dict, d: Disclosure) -> dict:
    out = {}
    for measure, figures in raw.items():
        group = dict(figures)
        for key in ("baseline_mean", "followup_mean", "mean_change"):
            group[key] = d.statistic(figures[key], figures["patients_paired"])
        _counts(
            group,
            d,
            *(
                k
                for k in (
                    "patients_due",
                    "patients_with_baseline",
                    "patients_with_followup",
                    "patients_paired",
                )
                if k in group
            ),
        )
        out[measure] = group
    return out


SECTIONS = {
    "waits": _waits,
    "trials": _trials,
    "complications": _complications,
    "refills": _refills,
    "battery": _battery,
    "activity": _activity,
    "outcomes": _outcomes,
    "outcomes_12m": _outcomes,
}


def suppress_section(name: str, figures: dict[str, Any], d: Disclosure) -> dict[str, Any]:
    """One section of the KPI JSON (as pipelines.figures.kpis.section_figures gives it),
    suppressed."""
    return rounded(SECTIONS[name](figures, d))


def suppress_kpis(figures: dict[str, Any], d: Disclosure) -> dict[str, Any]:
    """The JSON of compute_kpis as an aggregate view may show it (every count, rate and
    statistic of docs/figures.md; the period and settings pass through)."""
    out = copy.deepcopy(figures)
    for name, suppress in SECTIONS.items():
        out[name] = suppress(figures[name], d)
    # Each standard keeps the judgement of its exact interval (the shown one is rounded), as
    # weight_gain_standard_status does, and only where its figure and interval are shown.
    shown = standards_figures(
        out,
        [
            Standard(name, s["figure"], s["direction"], s["target"])
            for name, s in figures["standards"].items()
        ],
        hidden=SUPPRESSED,
    )
    out["standards"] = {
        name: {
            **s,
            "status": s["status"]
            if s["status"] == SUPPRESSED
            else figures["standards"][name]["status"],
        }
        for name, s in shown.items()
    }
    return rounded(out)


NO_SUPPRESSION = Disclosure(max_suppressed=0, rounding_base=1, min_denominator=0)
