"""How a figure reads on screen and on paper: one set of rules for the dashboard, the exports
and the audit pack (no streamlit, no templates: both sides import it)."""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import string
from collections.abc import Iterable
from typing import Any

import pandas as pd

from pipelines.figures.comparisons import EARLIER
from pipelines.figures.disclosure import SUPPRESSED


def is_number(value: Any) -> bool:
    """A figure that can be drawn or formatted: a real number, not missing, not suppressed."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def fmt(value: Any, unit: str = "count") -> str:
    """A figure as shown: a dash when undefined, "*" when suppressed, a proportion as a
    percentage."""
    if value == SUPPRESSED or unit == "note":
        return value
    if not is_number(value):
        return "—"
    if unit == "percent":
        return percent(value)
    if unit == "count":
        return f"{int(value):,}"
    if unit == "change":
        return f"{value:+.2f}"
    if unit == "mean":
        return f"{value:.2f}"
    if unit == "days" and float(value).is_integer():  # a whole number of days: "31", not "31.0"
        return f"{int(value):,}"
    return f"{value:,.1f}"


# Decimals a percentage may take before it reads "<100%" or ">0%" instead.
MAX_PERCENT_DECIMALS = 3


def percent(value: float) -> str:
    """A proportion (0..1) as a percentage to 1 decimal, except that only exactly 1 reads 100%
    and only exactly 0 reads 0%: a value short of either takes more decimals until it does not
    round to it (2,501 of 2,502 = "99.96%", not "100.0%"), up to MAX_PERCENT_DECIMALS, and
    beyond that reads "<100%" (or ">0%"). A pass rate with one failure is not a clean pass."""
    for decimals in range(1, MAX_PERCENT_DECIMALS + 1):
        shown = round(value * 100, decimals)
        if (shown == 100) == (value == 1) and (shown == 0) == (value == 0):
            return f"{value * 100:.{decimals}f}%"
    return "<100%" if value > 0.5 else ">0%"


class _Blanks(string.Formatter):
    """str.format that writes an undefined figure (None) as a dash and a suppressed one as *."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None or value == SUPPRESSED:
            return "—" if value is None else SUPPRESSED
        return super().format_field(value, format_spec)


def detail_text(figures: dict[str, Any], key: str, detail: str) -> str | None:
    """A figure's detail line (its numerator and denominator: '12 events in 120.0 pump-years'),
    filled from the figures beside it: its own group's, then its section's."""
    if not detail:
        return None
    *path, _name = key.split(".")
    group: Any = figures
    for part in path:
        group = group[part]
    return _Blanks().format(detail, **{**figures[path[0]], **group})


def day_text(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def site_text(site: str | frozenset[str] | None) -> str:
    """What figures are over, in words: 'site A', 'sites A, B' (a user's several) or 'all
    sites'."""
    if site is None:
        return "all sites"
    if isinstance(site, str):
        return f"site {site}"
    return f"sites {', '.join(sorted(site))}"


def loads_text(loads: dict[str, dict[str, Any]]) -> str:
    """The loads figures were computed from (the "loads" of the KPI JSON), in words:
    'load 4 (site main, extract as of 1 Nov 2026)', one per site."""
    if not loads:
        return "no load"
    return "; ".join(
        f"load {load['load_id']} (site {site}, extract as of "
        f"{day_text(dt.date.fromisoformat(str(load['as_of'])[:10]))})"
        for site, load in loads.items()
    )


# A standard's judgement: a symbol and words, so that it never rests on colour alone.
VERDICTS: dict[str | None, tuple[str, str]] = {
    "met": ("✔", "Standard met"),
    "not_met": ("✘", "Standard not met"),
    "not_shown": ("?", "Not shown either way"),
    SUPPRESSED: ("*", "Not judged: the figure is suppressed"),
    None: ("–", "No figure to judge"),
}
DIRECTION_WORDS = {"at_least": "at least", "below": "under", "zero": "must be"}


def target_text(standard: dict[str, Any], unit: str) -> str:
    """A standard of `kpis --json` ('standards' entry) as words: 'at least 92.0%', 'must be 0'."""
    target = fmt(standard["target"], "count" if standard["direction"] == "zero" else unit)
    return f"{DIRECTION_WORDS[standard['direction']]} {target}"


def verdict_text(standard: dict[str, Any], unit: str) -> str:
    """'✔ Standard met (standard: at least 92.0%)'."""
    symbol, words = VERDICTS[standard["status"]]
    return f"{symbol} {words} (standard: {target_text(standard, unit)})"


def standards_of(figures: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    """The standards (name, entry) that hold the figure at the dotted path `key`."""
    return [(name, s) for name, s in figures.get("standards", {}).items() if s["figure"] == key]


# A monthly chart's words, the same on a page and in the pack.
NO_WHOLE_MONTH = (
    "No whole calendar month in the period: no monthly chart (a longer period has one)."
)
# The Making Data Count variation icon in words, by pipelines.figures.spc.SpcSummary.variation.
VARIATION_WORDS: dict[str | None, str] = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause: improvement (high)",
    "improvement_low": "Special cause: improvement (low)",
    "concern_high": "Special cause: concern (high)",
    "concern_low": "Special cause: concern (low)",
    "neutral_high": "Special cause: neutral (high)",
    "neutral_low": "Special cause: neutral (low)",
    None: "No months with data",
}
NO_ASSURANCE = "Assurance: no target set, so no assurance icon."
TRIAL_LIMITS = "Fewer than 12 months with a value: trial limits (a longer period firms them)."


def variation_notes(trial_limits: bool) -> str:
    """What a Making Data Count chart's icons leave out: the assurance icon (no target is set on
    a monthly chart), and the firmness of its limits."""
    return " ".join([NO_ASSURANCE, *([TRIAL_LIMITS] if trial_limits else [])])


def delta_text(current: Any, earlier: Any, unit: str) -> str | None:
    """The change of a figure from an earlier period in its own unit ('+6.5 pts', '+3')."""
    if not (is_number(current) and is_number(earlier)):
        return None
    change = current - earlier
    if unit == "percent":
        return f"{change * 100:+.1f} pts"
    if unit == "count" or (unit == "days" and float(change).is_integer()):
        return f"{int(change):+,}"
    return f"{change:+,.1f}"


def change_texts(c: Any, unit: str) -> tuple[str, str]:
    """A pipelines.figures.comparisons.Comparison's change and its 95% interval as text:
    ('+6.5 pts', '-20.1 to +33.0 pts'), ('ratio 1.25', '0.80 to 1.90'), or ('+3', '')."""
    change = delta_text(c.current, c.earlier, unit) or ""
    if c.low is None or c.high is None:
        return change, ""
    if c.kind == "difference":
        return change, f"{c.low * 100:+.1f} to {c.high * 100:+.1f} pts"
    return f"ratio {c.change:.2f}", f"{c.low:.2f} to {c.high:.2f}"


def earlier_text(against: str, period: Any) -> str:
    """An earlier period (pipelines.figures.comparisons) in words: 'Last period (2 Nov 2024 to
    1 Nov 2025)'."""
    return f"{EARLIER[against].capitalize()} ({day_text(period.start)} to {day_text(period.end)})"


def comparison_text(c: Any, unit: str, against: str) -> str:
    """A Comparison in words: the earlier figure, the change with its 95% interval (where it has
    one), and the verdict."""
    change, interval = change_texts(c, unit)
    words = f"{against}: {fmt(c.earlier, unit)}"
    if interval:
        words += f"; {'' if c.kind == 'ratio' else 'change '}{change} (95% CI {interval})"
    return f"{words} — {c.verdict}"


# Units of table columns, by the end of their name.
COLUMN_UNITS = (
    (r"_mcg_per_ml$", " (mcg/mL)"),
    (r"_ml$", " (mL)"),
    (r"_mcg$", " (mcg)"),
    (r"_days$", " (days)"),
    (r"_years$", " (years)"),
)


# where words from the name would not do
HEADERS = {
    "eri_due": "ERI due",
    "counted": "in pump exposure",
    "required_surgery": "surgery needed",
    "implant_id": "pump (implant id)",
}


def header(column: str) -> str:
    """A column name as a header: 'rate_ci_low' -> '95% CI low', 'fill_volume_ml' ->
    'fill volume (mL)'."""
    if column in HEADERS:
        return HEADERS[column]
    if match := re.search(r"_ci_(low|high)$", column):
        return f"95% CI {match.group(1)}"
    for pattern, unit in COLUMN_UNITS:
        column = re.sub(pattern, unit, column)
    return column.replace("_", " ")


def all_whole(values: Iterable[Any]) -> bool:
    """Whether every number of a column is whole: counts and doses read as decimals (29.0,
    841.0) are then shown as 29 and 841."""
    return all(float(v).is_integer() for v in values if is_number(v))


def number_text(value: float) -> str:
    """A table's number: a whole one without decimals (841.0 -> '841'), else to at most 2
    places (2.5, 45.33)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def with_dose_words(by_dose: pd.DataFrame) -> pd.DataFrame:
    """breakdowns.response_by_dose's rows as shown: the dose in words ("50 mcg", "Not
    recorded") first, in place of dose_mcg."""
    shown = by_dose.copy()
    words = shown.pop("dose_mcg").map(lambda d: "Not recorded" if pd.isna(d) else f"{d:g} mcg")
    shown.insert(0, "dose", words)
    return shown


def eri_text(days: Any) -> str:
    """Days from the as-of date to a forecast ERI date, as words: -28 -> '28 days overdue'."""
    if not is_number(days):
        return "—"
    days = int(days)
    if days < 0:
        return f"{-days:,} day{'s' if days != -1 else ''} overdue"
    if days == 0:
        return "due today"
    return f"in {days:,} day{'s' if days != 1 else ''}"
