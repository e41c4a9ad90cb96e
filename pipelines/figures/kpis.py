"""Every figure of docs/figures.md, as the JSON of `itb-audit kpis --json`.

The row-level rules live once, in SQL (queries/marts/*.sql and queries/macros/shared.sql); this
module runs those marts for one scope (period, site, settings) and only counts, averages and
attaches intervals. The dashboard runs the same marts through `Scope.run` to list the rows
behind a figure and calls the section functions below for the figure itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import polars as pl

from pipelines.config import Settings, Standard, load_settings
from pipelines.contract import COMPLICATION_CATEGORIES, CONDITIONS, MEASURES
from pipelines.figures.intervals import poisson_rate_interval, standard_status, wilson_interval
from pipelines.figures.queries import run_query
from pipelines.warehouse import Db, open_as_loaded, read_one_state, sql_text

DECIMALS = 6
QUARTERS_AHEAD = 8
PATIENT = ["site", "patient_id"]  # a patient is identified within a site
PERIOD_START = "period_start"  # the column of a mart that takes a list of periods
Periods = list[tuple[dt.date, dt.date]]  # (first day, last day) of each period
ACTIVITY_COUNTS = (
    "referrals_received",
    "new_assessments_attended",
    "trials",
    "new_implants",
    "replacements",
    "refills",
)
# What figures are computed over: one site, several (the sites of a user of several: "all my
# sites"), or None for every site. The marts take it as a list of sites ($sites, site_list).
SiteSelection = str | frozenset[str] | None


def site_list(site: SiteSelection) -> list[str] | None:
    """The marts' $sites: the selected sites in order, None for every site."""
    if site is None:
        return None
    return [site] if isinstance(site, str) else sorted(site)


# A mart read for another cohort: its SQL file and the parameters that differ (one definition).
MART_VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "outcomes_12m": ("outcomes", {"review_due": True}),
}


@dataclass(frozen=True)
class Scope:
    """What a set of figures is computed for: the period, the site or sites (None = all),
    settings, and the patients' primary condition (None = all)."""

    start: dt.date
    end: dt.date
    site: SiteSelection
    settings: Settings
    condition: str | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")

    @property
    def as_of(self) -> dt.date:
        return self.end

    def params(self, periods: Periods | None = None) -> dict[str, Any]:
        """The marts' parameters; `periods` ((start, end) pairs) for the marts that take a list
        of periods, by default this scope's one period."""
        s = self.settings
        periods = periods or [(self.start, self.end)]
        return {
            "start": self.start,
            "end": self.end,
            "as_of": self.as_of,
            "period_starts": [first for first, _ in periods],
            "period_ends": [last for _, last in periods],
            "sites": site_list(self.site),
            "condition": self.condition,
            "wait_target_days": s.wait_target_days,
            "stale_referral_days": s.stale_referral_days,
            "alarm_volume_ml": s.alarm_volume_ml,
            "max_refill_interval_days": s.max_refill_interval_days,
            "residual_discrepancy_ml": s.residual_discrepancy_ml,
            "default_battery_months": s.default_battery_months,
            "battery_model_keys": list(s.battery_months),
            "battery_model_months": list(s.battery_months.values()),
            "measures": list(MEASURES),
            "review_due": False,
        }

    def run(
        self,
        con: duckdb.DuckDBPyConnection,
        mart: str,
        ordered: bool = True,
        columns: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """The rows of queries/marts/<mart>.sql for this scope (or of a MART_VARIANTS name),
        without the period column of a mart that takes a list of periods (here it is always this
        scope's). `ordered=False`: in no particular order, for figures, which need none;
        `columns`: only those columns (for figures: the columns their function reads)."""
        name, variant = MART_VARIANTS.get(mart, (mart, {}))
        params = {**self.params(), **variant}
        rows = pl.from_arrow(run_query(con, f"marts/{name}", ordered, columns, **params))
        assert isinstance(rows, pl.DataFrame)  # an Arrow table converts to a frame
        return rows.drop(PERIOD_START, strict=False)

    def run_periods(
        self,
        con: duckdb.DuckDBPyConnection,
        mart: str,
        periods: Periods,
        columns: Sequence[str] | None = None,
    ) -> dict[dt.date, pl.DataFrame]:
        """The rows of a mart that takes a list of periods, run once for all of `periods`, split
        by period (the key: its first day): each period's rows are the rows `run` gives for a
        scope of that period, in no particular order (they are for figures), with only
        `columns` if named."""
        if "$period_starts" not in sql_text(f"marts/{mart}"):
            raise ValueError(f"mart {mart!r} does not take a list of periods")
        picked = None if columns is None else [PERIOD_START, *columns]
        rows = pl.from_arrow(run_query(con, f"marts/{mart}", False, picked, **self.params(periods)))
        assert isinstance(rows, pl.DataFrame)  # an Arrow table converts to a frame
        split = rows.partition_by(PERIOD_START, as_dict=True, include_key=False)
        empty = rows.clear().drop(PERIOD_START)
        return {first: split.get((first,), empty) for first, _ in periods}


def compute_kpis(
    db: Db | duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    site: SiteSelection = None,
    settings: Settings | None = None,
    condition: str | None = None,
    as_loaded: str | None = None,
) -> dict[str, Any]:
    """The figures for the period start..end (as_of = end), site (one, a frozenset of several,
    None = all) and the patients' primary condition (None = all).

    `db` is a warehouse address (read for the call: pipelines.warehouse.reading) or an open
    connection (whose core.* the figures read, as they stand on it). For an address,
    `as_loaded` (a load id or a date) computes them on the data as it stood after that load
    or on that day (pipelines.warehouse.resolve_loads); None = the current data.
    """
    scope = Scope(start, end, site, settings or load_settings(), condition)
    if isinstance(db, duckdb.DuckDBPyConnection):
        return _compute(db, scope)
    address = db  # an address (not a connection) inside read() too

    def read() -> dict[str, Any]:
        with open_as_loaded(address, as_loaded) as con:
            return _compute(con, scope)

    return read_one_state(db, read)


def _compute(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, Any]:
    period = {
        "start": scope.start.isoformat(),
        "end": scope.end.isoformat(),
        "as_of": scope.as_of.isoformat(),
        # one site's name, the sorted names of several, or None for every site
        "site": sorted(scope.site) if isinstance(scope.site, frozenset) else scope.site,
        # only when filtered, so the keys of an unfiltered result stay as docs/figures.md lists them
        **({"condition": scope.condition} if scope.condition is not None else {}),
    }
    figures = section_figures(con, scope)
    return rounded(
        {
            "period": period,
            **figures,
            "standards": standards_figures(figures, scope.settings.standards),
            "loads": loads_of(con, scope.site),
        }
    )


def loads_of(con: duckdb.DuckDBPyConnection, site: SiteSelection) -> dict[str, dict[str, Any]]:
    """site -> the load its figures were computed from (its id and the extract's as-of date):
    the site's current load, or the load a connection of pipelines.warehouse.connect_as_loaded
    pins it to; for several sites, each of theirs. No clock time, so the same data gives the
    same JSON."""
    one = site if isinstance(site, str) else None
    rows = run_query(con, "load_history/snapshot_loads", site=one).to_pylist()
    wanted = site_list(site)
    return {
        r["site"]: {"load_id": r["load_id"], "as_of": r["as_of"].isoformat()}
        for r in rows
        if wanted is None or r["site"] in wanted
    }


@dataclass(frozen=True)
class Section:
    """A section of the JSON: the marts it reads, each with the columns its figures read, and
    its figures from their rows (in the order of `reads`, then the scope). The figures get only
    those columns: at 20,000 patients and 10 years, computing and fetching the others (text
    ids, models) was a third to half of a mart's time."""

    reads: dict[str, tuple[str, ...]]
    figures: Callable[..., dict[str, Any]]

    @property
    def marts(self) -> tuple[str, ...]:
        return tuple(self.reads)


OUTCOME_COLUMNS = ("measure", "paired", "baseline_value", "followup_value", "change")
ADHERENCE_COLUMNS = ("adherence", "days_late", "booked_after_alarm", "residual_discrepancy")
# The one wiring of marts to figures, used by the CLI, the exports and the dashboard alike.
SECTIONS: dict[str, Section] = {
    "waits": Section(
        {"waits": ("seen", "wait_days", "within_target", "is_open", "over_target")},
        lambda waits, scope: waits_figures(waits),
    ),
    "trials": Section(
        {"trials": ("category", "primary_condition")}, lambda trials, scope: trials_figures(trials)
    ),
    "complications": Section(
        {
            "complication_exposure": (*PATIENT, "exposure_days"),
            "complication_events": (*PATIENT, "counted", "category"),
        },
        lambda exposure, events, scope: complications_figures(
            exposure, events, scope.settings.weight_gain_standard
        ),
    ),
    "refills": Section(
        {"refills": ADHERENCE_COLUMNS, "active_pumps": ("overdue_now",)},
        lambda refills, pumps, scope: refills_figures(refills, pumps),
    ),
    "battery": Section(
        {
            "active_pumps": (
                "has_battery",
                "eri_overdue",
                "eri_within_182_days",
                "eri_within_365_days",
                "eri_quarter",
            )
        },
        lambda pumps, scope: battery_figures(pumps, scope.as_of),
    ),
    "activity": Section(
        {"activity": ("figure",)}, lambda activity, scope: activity_figures(activity)
    ),
    "outcomes": Section(
        {"outcomes": OUTCOME_COLUMNS}, lambda outcomes, scope: outcomes_figures(outcomes)
    ),
    "outcomes_12m": Section(
        {"outcomes_12m": OUTCOME_COLUMNS}, lambda outcomes, scope: outcomes_figures(outcomes)
    ),
}
# The sections drawn by month (sparklines, p-charts): each as in SECTIONS, but refills without
# overdue_now. No chart draws that by month, and it needs active_pumps at every month's end:
# 638k rows, most of a 10-year series' time at 20,000 patients.
MONTHLY: dict[str, Section] = {
    **SECTIONS,
    "refills": Section(
        {"refills": ADHERENCE_COLUMNS}, lambda refills, scope: adherence_figures(refills)
    ),
}


def mart_columns(sections: Iterable[Section]) -> dict[str, list[str]]:
    """Each mart the sections read, with the columns any of them reads (each mart runs once)."""
    out: dict[str, list[str]] = {}
    for section in sections:
        for mart, columns in section.reads.items():
            out[mart] = list(dict.fromkeys([*out.get(mart, []), *columns]))
    return out


def section_figures(
    con: duckdb.DuckDBPyConnection, scope: Scope, sections: Iterable[str] = tuple(SECTIONS)
) -> dict[str, Any]:
    """The figures of the named sections (unrounded). Each mart runs once, unordered, and the
    marts run at once: DuckDB works outside the GIL and run_query gives each its own cursor."""
    sections = list(sections)
    columns = mart_columns(SECTIONS[name] for name in sections)
    with ThreadPoolExecutor(len(columns)) as pool:
        runs = pool.map(lambda mart: scope.run(con, mart, False, columns[mart]), columns)
        rows = dict(zip(columns, runs, strict=True))
    return {
        name: SECTIONS[name].figures(*(rows[m] for m in SECTIONS[name].marts), scope)
        for name in sections
    }


def monthly_figures(
    con: duckdb.DuckDBPyConnection, scope: Scope, section: str
) -> list[tuple[dt.date, dict[str, Any]]]:
    """(first day, figures) of a section for each calendar month wholly inside the scope's
    period (whole_months): for each month the figures section_figures gives for a scope of that
    month (those of MONTHLY), unrounded. Each of the section's marts runs once, for every month
    at once, so a 10-year series costs a handful of queries, not a thousand."""
    months = whole_months(scope.start, scope.end)
    if not months:
        return []
    reads = MONTHLY[section].reads
    marts = list(reads)
    with ThreadPoolExecutor(len(marts)) as pool:
        runs = pool.map(lambda mart: scope.run_periods(con, mart, months, reads[mart]), marts)
        rows = dict(zip(marts, runs, strict=True))
    return [
        (
            first,
            MONTHLY[section].figures(
                *(rows[m][first] for m in marts), replace(scope, start=first, end=last)
            ),
        )
        for first, last in months
    ]


# --- sections: each takes the rows of its marts and returns its figures --------------------


def waits_figures(waits: pl.DataFrame) -> dict[str, Any]:
    seen = waits.filter(pl.col("seen"))
    within_target = _count(seen, "within_target")
    return {
        "seen": seen.height,
        "median_wait_days": seen["wait_days"].median(),
        "mean_wait_days": seen["wait_days"].mean(),
        "within_target": within_target,
        **_proportion("rate_within_target", within_target, seen.height),
        "open": _count(waits, "is_open"),
        "open_over_target": _count(waits, "over_target"),
    }


def trials_figures(trials: pl.DataFrame) -> dict[str, Any]:
    def response(patients: pl.DataFrame) -> dict[str, Any]:
        responders, non_responders, inconclusive = (
            _count(patients, pl.col("category") == category)
            for category in ("responder", "non_responder", "inconclusive")
        )
        return {
            "patients": patients.height,
            "responders": responders,
            "non_responders": non_responders,
            "inconclusive": inconclusive,
            **_proportion("rate", responders, responders + non_responders),
        }

    present = set(trials["primary_condition"])
    return {
        **response(trials),
        "by_condition": {
            condition: response(trials.filter(pl.col("primary_condition") == condition))
            for condition in CONDITIONS
            if condition in present
        },
    }


def complications_figures(
    exposure: pl.DataFrame, events: pl.DataFrame, weight_gain_standard: float
) -> dict[str, Any]:
    implanted_patients = exposure.select(PATIENT).n_unique()
    pump_years = float(exposure["exposure_days"].sum()) / 365.25
    counted = events.filter(pl.col("counted"))

    def figures(events: int, patients: int) -> dict[str, Any]:
        return {
            "events": events,
            "patients": patients,
            **_proportion("patient_incidence", patients, implanted_patients),
            **_rate_per_100_pump_years(events, pump_years),
        }

    # every category's events and patients in one pass: a monthly series does this 120 times
    per_category = {
        category: (events, patients)
        for category, events, patients in counted.group_by("category")
        .agg(pl.len(), pl.struct(PATIENT).n_unique())
        .iter_rows()
    }
    by_category = {
        category: figures(*per_category.get(category, (0, 0)))
        for category in COMPLICATION_CATEGORIES
    }
    weight_gain = by_category["weight_gain"]
    return {
        "implanted_patients": implanted_patients,
        "pump_years": pump_years,
        "events_outside_exposure": events.height - counted.height,
        "weight_gain_standard": weight_gain_standard,
        "weight_gain_standard_status": standard_status(
            weight_gain["patient_incidence_ci_low"],
            weight_gain["patient_incidence_ci_high"],
            weight_gain_standard,
        ),
        "all": figures(counted.height, counted.select(PATIENT).n_unique()),
        "by_category": by_category,
    }


def refills_figures(refills: pl.DataFrame, active_pumps: pl.DataFrame) -> dict[str, Any]:
    return {**adherence_figures(refills), "overdue_now": _count(active_pumps, "overdue_now")}


def adherence_figures(refills: pl.DataFrame) -> dict[str, Any]:
    """The refills section's figures from the refills of the period (all but overdue_now)."""
    on_time = _count(refills, pl.col("adherence") == "on_time")
    late = refills.filter(pl.col("adherence") == "late")
    return {
        "on_time": on_time,
        "late": late.height,
        **_proportion("rate", on_time, on_time + late.height),
        "median_days_late": late["days_late"].median(),
        "without_due_date": _count(refills, pl.col("adherence") == "no_due_date"),
        "booked_after_alarm": _count(refills, "booked_after_alarm"),
        "residual_discrepancies": _count(refills, "residual_discrepancy"),
    }


def battery_figures(active_pumps: pl.DataFrame, as_of: dt.date) -> dict[str, Any]:
    pumps = active_pumps.filter(pl.col("has_battery"))
    return {
        "active_pumps": pumps.height,
        "pumps_without_battery": active_pumps.height - pumps.height,
        "overdue": _count(pumps, "eri_overdue"),
        "due_within_182_days": _count(pumps, "eri_within_182_days"),
        "due_within_365_days": _count(pumps, "eri_within_365_days"),
        "by_quarter": {
            quarter: _count(pumps, pl.col("eri_quarter") == quarter)
            for quarter in quarters_after(as_of)
        },
    }


def activity_figures(activity: pl.DataFrame) -> dict[str, Any]:
    def count(figure: str) -> int:
        return _count(activity, pl.col("figure") == figure)

    attended, dna = count("appointments_attended"), count("appointments_dna")
    return {
        **{figure: count(figure) for figure in ACTIVITY_COUNTS},
        "appointments_attended": attended,
        "appointments_dna": dna,
        **_proportion("dna_rate", dna, attended + dna),
    }


def outcomes_figures(outcomes: pl.DataFrame) -> dict[str, Any]:
    """Per measure: the paired figures of docs/figures.md, and how complete the measure is (the
    mart has a row per cohort patient and measure, so `patients_due` is the whole cohort)."""

    def figures(rows: pl.DataFrame) -> dict[str, Any]:
        paired = rows.filter(pl.col("paired"))
        return {
            "patients_due": rows.height,
            "patients_with_baseline": _count(rows, pl.col("baseline_value").is_not_null()),
            "patients_with_followup": _count(rows, pl.col("followup_value").is_not_null()),
            "patients_paired": paired.height,
            "baseline_mean": paired["baseline_value"].mean(),
            "followup_mean": paired["followup_value"].mean(),
            "mean_change": paired["change"].mean(),
        }

    return {measure: figures(outcomes.filter(pl.col("measure") == measure)) for measure in MEASURES}


def standards_figures(
    figures: dict[str, Any], standards: Iterable[Standard], hidden: Any = None
) -> dict[str, dict[str, Any]]:
    """Each standard (docs/figures.md §8): its figure's path, direction, target and status, judged
    from `figures` (as section_figures gives them). `hidden`: the mark of a suppressed figure; a
    standard whose figure or interval carries it carries it too, for a judgement beside a
    suppressed figure would hint at the count behind it."""
    out = {}
    for standard in standards:
        shown = _standard_values(figures, standard)
        if hidden is not None and hidden in shown:
            status = hidden
        else:
            value, low, high = shown
            status = standard_status(low, high, standard.target, standard.direction, value)
        out[standard.name] = {
            "figure": standard.figure,
            "direction": standard.direction,
            "target": standard.target,
            "status": status,
        }
    return out


def _standard_values(figures: dict[str, Any], standard: Standard) -> tuple[Any, Any, Any]:
    """(value, ci_low, ci_high) of a standard's figure; None for a condition with no patient in
    the cohort (by_condition lists only the conditions present)."""
    *path, name = standard.figure.split(".")
    group: Any = figures
    for depth, part in enumerate(path):
        absent = isinstance(group, dict) and part not in group
        if absent and path[depth - 1 : depth] == ["by_condition"]:
            return None, None, None
        if not isinstance(group, dict) or part not in group:
            group = None
            break
        group = group[part]
    if not isinstance(group, dict) or name not in group or isinstance(group[name], dict):
        raise ValueError(
            f"standard {standard.name}: {standard.figure} is not a figure of "
            "`itb-audit kpis --json`"
        )
    if standard.direction == "zero":
        return group[name], None, None
    if f"{name}_ci_low" not in group:
        raise ValueError(
            f"standard {standard.name}: {standard.figure} has no 95% interval to "
            f"judge it by ({standard.direction} needs one)"
        )
    return group[name], group[f"{name}_ci_low"], group[f"{name}_ci_high"]


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The JSON's nested figures as one level, each named by its dotted path ('waits.seen')."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def whole_months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day) of each calendar month wholly inside start..end: the periods of a
    monthly series (a part-month would look like a month with little activity)."""
    out: list[tuple[dt.date, dt.date]] = []
    first = (
        start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    )
    while True:
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        if following - dt.timedelta(days=1) > end:
            return out
        out.append((first, following - dt.timedelta(days=1)))
        first = following


def quarters_after(as_of: dt.date, n: int = QUARTERS_AHEAD) -> list[str]:
    """Labels ('YYYY-Qn', as eri_quarter in active_pumps.sql) of the n quarters after as_of's."""
    current = as_of.year * 4 + (as_of.month - 1) // 3
    return [f"{q // 4}-Q{q % 4 + 1}" for q in range(current + 1, current + 1 + n)]


# --- helpers ------------------------------------------------------------------------------


def _count(rows: pl.DataFrame, condition: str | pl.Expr) -> int:
    expr = pl.col(condition) if isinstance(condition, str) else condition
    return int(rows.select(expr.fill_null(False).sum()).item())


def _proportion(name: str, k: int, n: int) -> dict[str, float | None]:
    low, high = wilson_interval(k, n)
    return {name: k / n if n else None, f"{name}_ci_low": low, f"{name}_ci_high": high}


def _rate_per_100_pump_years(events: int, pump_years: float) -> dict[str, float | None]:
    low, high = poisson_rate_interval(events, pump_years, per=100.0)
    rate = events / pump_years * 100 if pump_years > 0 else None
    return {
        "rate_per_100_pump_years": rate,
        "rate_per_100_pump_years_ci_low": low,
        "rate_per_100_pump_years_ci_high": high,
    }


def rounded(value: Any) -> Any:
    """Counts stay integers; every other number is rounded to 6 decimals."""
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, float):
        return round(value, DECIMALS)
    return value
