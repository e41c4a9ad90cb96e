"""What the audit pack says for a period, a site, a condition and a role.

Every figure comes from `compute_kpis` (after `suppress_kpis` for a role that sees suppressed
numbers), every row behind a chart from `Scope.run` on the same marts, and every chart from
pipelines/show/charts.py, so the pack and the dashboard say the same thing. Charts drawn from
patient-level rows, and the action lists, are only built for roles that may see patient rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.figures import breakdowns

from pipelines.show import charts
from pipelines.show.definitions import (
    FIGURES, NOMINAL_FORECAST, NOTES, OBSERVED_FORECAST, PUBLISHED_COMPLICATIONS, label,
    standard_label,
)
from pipelines.config import Settings, load_settings
from pipelines.contract import COMPLICATION_CATEGORIES, MEASURES
from pipelines.figures.disclosure import Disclosure, suppress_kpis
from pipelines.figures.comparisons import compare, previous_period, year_earlier
from pipelines.figures.kpis import Scope, compute_kpis, flatten, monthly_figures, section_figures
from pipelines.load.pseudonym import resolve_key
from pipelines.figures.queries import run_query
from pipelines.show.display import (
    change_texts, day_text, eri_text, fmt, is_number, standards_of, verdict_text,
)
from pipelines.report.formatting import label_of, name_label, unit_of
from pipelines.report.model import (
    Chart, Definitions, FigureTable, GroupTable, Judgement, Measure, Report, Section, Standard,
    Standards, Table, Text, Value,
)
from pipelines.access.roles import (PAGES, Role, display_id, sees_patient_rows, sees_pseudonyms,
                                    suppresses_small_numbers)
from pipelines.figures.spc import SpcSummary
from pipelines.figures.survival import kaplan_meier, median_survival
from pipelines.warehouse import connect_readonly

WEIGHT_GAIN = "complications.by_category.weight_gain.patient_incidence"
SUMMARY = {
    "Access": ["activity.referrals_received", "waits.rate_within_target",
               "waits.median_wait_days", "waits.open_over_target"],
    "Treatment and safety": ["trials.rate", "activity.new_implants",
                             "complications.all.rate_per_100_pump_years", WEIGHT_GAIN],
    "Pumps": ["refills.rate", "refills.overdue_now", "battery.due_within_182_days",
              "battery.overdue"],
}
KM_ENDPOINTS = ("catheter", "infection")
# The settings the figures depend on, listed in the pack so that it can be reproduced.
KPI_SETTINGS = ("wait_target_days", "alarm_volume_ml", "max_refill_interval_days",
                "residual_discrepancy_ml", "weight_gain_standard", "default_battery_months",
                "min_battery_explants", "stale_referral_days")
DISCLOSURE_SETTINGS = ("disclosure_max_suppressed", "disclosure_rounding_base",
                       "disclosure_min_denominator")
BATTERY_DUE = ("Active pumps with a battery whose forecast ERI date is on or before the as-of date "
               "or within 182 days of it, soonest first: the replacements to plan now.")
NO_WHOLE_MONTH = "No whole calendar month in the period: no monthly chart."
VARIATION = {
    None: "No months with data.",
    "common_cause": "Making Data Count: common cause variation.",
}


def report_roles() -> list[Role]:
    """Roles with figure pages: the pack is their Overview, on paper."""
    return [role for role, pages in PAGES.items() if "overview" in pages]


@dataclass(frozen=True)
class Request:
    db: Path
    start: dt.date
    end: dt.date
    site: str | None = None
    condition: str | None = None
    role: Role = Role.GOVERNANCE
    settings: Settings = field(default_factory=load_settings)


def build(request: Request) -> Report:
    """The pack for the request (the warehouse opened read-only for the call)."""
    if request.role not in report_roles():
        raise PermissionError(f"the {request.role.value} role has no figure pages, so no pack")
    with connect_readonly(request.db) as con:
        return _Builder(con, request).report()


class _Builder:
    """One pack: the figures and rows of one scope, read once, and the sections built from them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, request: Request):
        self.con, self.request, self.role, self.settings = con, request, request.role, request.settings
        self.scope = Scope(request.start, request.end, request.site, request.settings,
                           request.condition)
        self.raw = compute_kpis(con, request.start, request.end, request.site, request.settings,
                                request.condition)
        self.suppressed = suppresses_small_numbers(self.role)
        self.disclosure = Disclosure.from_settings(request.settings)
        self.figures = (suppress_kpis(self.raw, self.disclosure) if self.suppressed
                        else self.raw)
        self.patient_rows = sees_patient_rows(self.role)  # patient-level charts and lists
        self._rows: dict[str, pd.DataFrame] = {}

    # --- sources ------------------------------------------------------------------------------

    def rows(self, mart: str) -> pd.DataFrame:
        """The rows of queries/marts/<mart>.sql for the scope (each mart run once)."""
        if mart not in self._rows:
            rows = self.scope.run(self.con, mart)
            frame = rows.to_pandas()
            for column, dtype in rows.schema.items():
                if dtype.is_integer():  # whole numbers stay whole where some are missing
                    frame[column] = frame[column].astype("Int64")
            self._rows[mart] = frame
        return self._rows[mart]

    def audit(self, name: str, site: str | None) -> pd.DataFrame:
        """The rows of queries/load_history/<name>.sql (DuckDB's sums of integers, decimals in Arrow,
        as integers)."""
        table = run_query(self.con, f"load_history/{name}", site=site)
        frame = table.to_pandas()
        for column in table.schema:
            if pa.types.is_decimal(column.type) and column.type.scale == 0:
                frame[column.name] = frame[column.name].astype("Int64")
        return frame

    def monthly(self, section: str) -> pd.DataFrame:
        """The section's figures for each calendar month wholly inside the period, each computed
        as the headline is for a period of that month (as the dashboard's monthly charts)."""
        rows = [{"month": pd.Timestamp(first), **flatten(figures)}
                for first, figures in monthly_figures(self.con, self.scope, section)]
        return pd.DataFrame(rows)

    def text(self, template: str) -> str:
        """A definition or note with its settings filled in."""
        return template.format(**asdict(self.settings))

    def note(self, key: str) -> str:
        return self.text(NOTES[key])

    def figures_note(self, key: str) -> str:
        """The note of a chart drawn from the figures, which leaves out suppressed ones."""
        return self.note(key) + (" Figures shown as * are not drawn." if self.suppressed else "")

    @cached_property
    def key(self) -> bytes:
        return resolve_key(self.settings.pseudonym_key_file)

    def patient_ids(self, rows: pd.DataFrame) -> list[str | None]:
        """Each row's patient as this role sees them (a local id or a pseudonym)."""
        key = self.key if sees_pseudonyms(self.role) else b""  # clinicians need no key
        return [display_id(self.role, site, "patient_id", patient, key)
                for site, patient in zip(rows["site"], rows["patient_id"], strict=True)]

    # --- figures ------------------------------------------------------------------------------

    def value(self, key: str) -> Value:
        raw = at(self.figures, key)
        return Value(key, raw, unit_of(key, raw))

    def measure(self, key: str) -> Measure:
        """A figure and its interval (the bounds in the figure's unit), with the judgement of
        every standard that holds it."""
        value = self.value(key)
        judgements = tuple(
            Judgement(Value(f"standards.{name}.status", s["status"], "count"),
                      verdict_text(s, value.unit))
            for name, s in standards_of(self.figures, key))
        path, name = key.rsplit(".", 1)
        if f"{name}_ci_low" not in at(self.figures, path):
            return Measure(value, judgements=judgements)
        low, high = (Value(k, at(self.figures, k), value.unit)
                     for k in (f"{key}_ci_low", f"{key}_ci_high"))
        return Measure(value, low, high, judgements)

    def figure_table(self, keys: list[str], title: str | None = None,
                     labels: Callable[[str], str] = label_of) -> FigureTable:
        return FigureTable([(labels(k), self.measure(k)) for k in keys], title)

    def section_table(self, section: str, exclude: tuple[str, ...] = ()) -> FigureTable:
        """Every figure of a section that is not in a group, with its interval beside it."""
        return self.figure_table([f"{section}.{name}" for name in scalars(at(self.figures, section))
                                  if name not in exclude])

    def group_table(self, title: str, group_header: str, groups: list[tuple[str, str]],
                    names: list[str]) -> GroupTable:
        """groups: (label, dotted path); names: the figures of each group shown as columns."""
        return GroupTable(title, group_header, [name_label(n) for n in names],
                          [(group, [self.measure(f"{path}.{n}") for n in names])
                           for group, path in groups])

    def interval_rows(self, groups: list[tuple[str, str]], name: str) -> pd.DataFrame:
        """(category, value, low, high) of one figure per group, for charts.intervals; a figure
        that is suppressed or undefined is not drawn (its table shows it)."""
        rows = [{"category": category, "value": group[name], "low": group[f"{name}_ci_low"],
                 "high": group[f"{name}_ci_high"]}
                for category, path in groups
                for group in [at(self.figures, path)] if is_number(group[name])]
        return pd.DataFrame(rows, columns=["category", "value", "low", "high"])

    # --- the pack -----------------------------------------------------------------------------

    def report(self) -> Report:
        sections = [self.provenance(), self.summary(), self.comparisons(), self.standards(),
                    self.waits(), self.trials(),
                    self.complications(), self.refills(), self.batteries(), self.activity(),
                    self.outcomes()]
        if "data_quality" in PAGES[self.role]:
            sections.append(self.data_quality())
        sections.append(self.definitions())
        request = self.request
        return Report(
            title="ITB service audit pack",
            start=day_text(request.start),
            end=day_text(request.end),
            scope=(f"{'site ' + request.site if request.site else 'all sites'} · "
                   f"{label(request.condition) if request.condition else 'all conditions'}"),
            role=self.role.value,
            generated=f"{dt.datetime.now():%d %b %Y %H:%M}",
            about=self.about(),
            figures=self.figures,
            sections=sections,
        )

    def about(self) -> list[str]:
        if self.suppressed:
            return [self.disclosure.statement,
                    "Aggregate figures only: no patient list, and no chart drawn from "
                    "patient-level rows or monthly counts (those are in the clinician and "
                    "governance packs)."]
        who = ("the clinic's local patient ids" if self.role is Role.CLINICIAN
               else "pseudonymous patient ids (PSN-…), never local ids")
        return [f"Every figure, chart and action list of the dashboard, with {who}. "
                "Figures are not suppressed: do not pass this pack outside the service."]

    def provenance(self) -> Section:
        loads = self.audit("loads", self.request.site)
        current = loads[loads["is_current"]]
        blocks: list[Any] = [Table(
            "Current loads (every figure is computed from these snapshots)", "Provenance",
            current[["site", "load_id", "as_of", "finished_at", "rows_read", "rows_accepted",
                     "rows_quarantined"]].rename(columns={"as_of": "extract_as_of",
                                                          "finished_at": "loaded_at"}),
            self.note("freshness"))]
        blocks += [Text(f"The period ends after site {load.site}'s extract date "
                        f"({day_text(load.as_of)}): its figures stop there.", "alert")
                   for load in current.itertuples()
                   if pd.Timestamp(load.as_of).date() < self.request.end]
        if current.empty:
            blocks.append(Text("No load for this site: every figure below is empty.", "alert"))
        return Section("provenance", "Period and data provenance", blocks)

    def summary(self) -> Section:
        blocks: list[Any] = [self.figure_table(keys, title) for title, keys in SUMMARY.items()]
        notes = [key for key in flatten(self.figures) if key.endswith("_note")]
        if notes:  # where a rate differs from an unsuppressed view's, and why
            blocks.append(self.figure_table(
                notes, "Rates suppressed or rounded by the small-number rule",
                labels=lambda key: " · ".join(map(name_label, key[:-5].split(".")))))
        overdue = self.figures["refills"]["overdue_now"]
        if self.patient_rows and overdue:
            blocks.append(Text(f"{overdue} pump(s) are overdue for a refill now: see the list "
                               "under Refills.", "alert"))
        return Section("summary", "Summary", blocks)

    def comparisons(self) -> Section:
        """The Summary's figures beside the previous period of the same length (and a year
        earlier, for a period shorter than a year), from the figures this role sees."""
        request, keys = self.request, [key for keys in SUMMARY.values() for key in keys]
        rows = []
        for against, period in (("previous", previous_period(request.start, request.end)),
                                ("year_earlier", year_earlier(request.start, request.end))):
            if period is None:
                continue
            then = compute_kpis(self.con, period.start, period.end, request.site, self.settings,
                                request.condition)
            shown = ((self.figures, suppress_kpis(then, self.disclosure)) if self.suppressed
                     else None)
            days = (request.end - request.start).days + 1
            for key, c in compare(self.raw, then, keys, days, period.days, against,
                                  shown).items():
                unit = unit_of(key, c.current)
                change, interval = change_texts(c, unit)
                rows.append({"figure": label_of(key),
                             "compared with": f"{day_text(period.start)} to {day_text(period.end)}",
                             "this period": fmt(c.current, unit), "then": fmt(c.earlier, unit),
                             "change": change, "change 95% CI": interval, "verdict": c.verdict})
        return Section("comparisons", "Comparisons with earlier periods", [Table(
            "Headline figures against earlier periods", "Comparisons", pd.DataFrame(rows),
            self.note("comparisons"))])

    def standards(self) -> Section:
        """Every standard of the figures, judged by its interval (for a commissioner, the exact
        interval's judgement where the figure is shown; "*" beside a suppressed figure)."""
        rows = []
        for name, s in self.figures["standards"].items():
            try:
                measure = replace(self.measure(s["figure"]), judgements=())
            except KeyError:  # a condition with no patient in the cohort: no figure
                measure = Measure(Value("", None, unit_of(s["figure"])))
            unit = "count" if s["direction"] == "zero" else measure.value.unit
            rows.append(Standard(
                standard_label(name), measure,
                *(Value(f"standards.{name}.{part}", s[part], unit)
                  for part in ("figure", "direction", "target", "status"))))
        drawn = [row for row in rows if row.measure.low and row.measure.high
                 and row.measure.value.unit == "percent" and is_number(row.measure.value.raw)]
        blocks: list[Any] = [Standards(rows), Text(self.note("standards"))]
        if drawn:
            blocks.append(Chart(charts.intervals(
                pd.DataFrame([{"figure": row.label, "value": row.measure.value.raw,
                               "low": row.measure.low.raw if row.measure.low else None,
                               "high": row.measure.high.raw if row.measure.high else None,
                               "standard": f"Target {row.target.raw:.0%}"} for row in drawn]),
                category="figure", value="value", low="low", high="high",
                title="Figures held against a standard, with 95% intervals", x_title="Percent",
                text="standard", codes=False,
                standards={row.label: row.target.raw for row in drawn},
            ), " ".join([self.note("waits.standard"), self.note("refills.standard")])))
        return Section("standards", "Standards", blocks)

    def waits(self) -> Section:
        blocks: list[Any] = [self.section_table("waits"), Text(self.note("waits.standard"))]
        if self.patient_rows:
            waits = self.rows("waits")
            seen = waits[waits["seen"].fillna(False).astype(bool)]
            target = self.settings.wait_target_days
            blocks.append(Chart(charts.histogram(
                seen["wait_days"], title="Waits of referrals seen in the period",
                x_title="Days from referral to first attended appointment", line_at=target,
                line_name=f"Target {target} days"), self.note("waits.distribution")))
            blocks.append(self.spc("waits", "Seen within the wait target, by month",
                                   "Seen within target", "waits.spc"))
            blocks += self.waits_by_source(seen)
        return Section("waits", "Referrals and waits", blocks)

    def waits_by_source(self, seen: pd.DataFrame) -> list[Any]:
        if seen.empty:
            return [Text("No referrals were seen in the period.")]
        by_source = breakdowns.waits_by(seen, "source")
        by_source["source"] = by_source["source"].map(label)
        return [
            Chart(charts.intervals(by_source, category="source", value="rate_within_target",
                                   low="rate_within_target_ci_low",
                                   high="rate_within_target_ci_high",
                                   title="Seen within the wait target, by referral source",
                                   x_title="Seen within target", codes=False),
                  self.note("waits.by_source")),
            Table("Waits by referral source", "Waits by source", by_source[
                ["source", "seen", "median_wait_days", "mean_wait_days", "within_target",
                 "rate_within_target", "rate_within_target_ci_low", "rate_within_target_ci_high"]]),
        ]

    def trials(self) -> Section:
        groups = [(label(c), f"trials.by_condition.{c}") for c in self.figures["trials"]["by_condition"]]
        blocks: list[Any] = [
            self.section_table("trials"),
            self.group_table("Response by primary condition", "Condition", groups,
                             ["patients", "responders", "non_responders", "inconclusive", "rate"]),
        ]
        by_condition = self.interval_rows(groups, "rate")
        if not by_condition.empty:
            blocks.append(Chart(charts.intervals(
                by_condition, category="category", value="value", low="low", high="high",
                title="Response rate by primary condition", x_title="Responders", codes=False,
            ), self.figures_note("trials.by_condition")))
        if self.patient_rows:
            blocks += self.trial_doses() + self.pathway()
        return Section("trials", "Trial response", blocks)

    def trial_doses(self) -> list[Any]:
        by_dose = breakdowns.response_by_dose(self.rows("trial_doses"))
        by_dose.insert(0, "dose", by_dose.pop("dose_mcg").map(
            lambda d: "Not recorded" if pd.isna(d) else f"{d:g} mcg"))
        blocks: list[Any] = []
        if by_dose["rate"].notna().any():
            blocks.append(Chart(charts.intervals(
                by_dose.dropna(subset=["rate"]), category="dose", value="rate", low="rate_ci_low",
                high="rate_ci_high", codes=False, title="Positive trials by test dose",
                x_title="Positive"), self.note("trials.by_dose")))
        return blocks + [Table("Trials by test dose", "Trials by dose", by_dose)]

    def pathway(self) -> list[Any]:
        funnel = breakdowns.pathway_funnel(self.rows("pathway")).astype({"patients_timed": "Int64"})
        return [Chart(charts.pathway(funnel, title="Patients first referred in the period"),
                      self.note("trials.pathway")),
                Table("Pathway: referral to implant (median days from the step before)",
                      "Pathway", funnel)]

    def complications(self) -> Section:
        groups = [("All complications", "complications.all")] + [
            (label(c), f"complications.by_category.{c}") for c in COMPLICATION_CATEGORIES]
        blocks: list[Any] = [
            self.section_table("complications",
                               exclude=("weight_gain_standard", "weight_gain_standard_status")),
            self.group_table("By category", "Category", groups,
                             ["events", "patients", "patient_incidence", "rate_per_100_pump_years"]),
        ]
        codes = [("all", "complications.all")] + [
            (c, f"complications.by_category.{c}") for c in COMPLICATION_CATEGORIES]
        blocks += self.complication_charts(codes)
        if self.patient_rows:
            blocks += self.time_to_complication() + self.sites_compared()
        return Section("complications", "Complications", blocks)

    def complication_charts(self, codes: list[tuple[str, str]]) -> list[Chart]:
        published = pd.DataFrame(PUBLISHED_COMPLICATIONS,
                                 columns=["category", "measure", "low", "high", "source"])
        out = []
        for name, title, x_title, percent in (
                ("patient_incidence", "Patients with a complication", "Implanted patients", True),
                ("rate_per_100_pump_years", "Complications per 100 pump-years",
                 "Per 100 pump-years", False)):
            rows = self.interval_rows(codes, name)
            if rows.empty:
                continue
            out.append(Chart(charts.intervals(
                rows, category="category", value="value", low="low", high="high", title=title,
                x_title=x_title, percent=percent,
                reference=published[published["measure"] == (name if percent else "per_100_pump_years")],
                standards={"weight_gain": self.settings.weight_gain_standard} if percent else None,
            ), self.figures_note("complications.by_category")))
        return out

    def time_to_complication(self) -> list[Any]:
        survival = self.rows("implant_survival")
        blocks: list[Any] = []
        for endpoint in KM_ENDPOINTS:
            rows = survival[survival["endpoint"] == endpoint]
            if rows.empty:
                blocks.append(Text(f"No {label(endpoint).lower()} complication is recorded."))
                continue
            curves = kaplan_meier(rows["days"], rows["event"].astype(int),
                                  groups=np.full(len(rows), "All implants"))
            blocks.append(Chart(
                charts.kaplan_meier(curves, title=f"Free of a first {label(endpoint).lower()} "
                                                  "complication", y_title="Implants free of it"),
                self.note("complications.km"), one_year(curves, rows)))
        return blocks

    def sites_compared(self) -> list[Any]:
        sites = self.audit("loads", None)
        sites = sorted(sites.loc[sites["is_current"], "site"])
        overall = self.figures["complications"]["all"]["rate_per_100_pump_years"]
        if len(sites) < 2 or self.request.site is not None or overall is None:
            return []
        per_site = pd.DataFrame([
            {"site": site, "pump_years": c["pump_years"], "rate": c["all"]["rate_per_100_pump_years"]}
            for site in sites
            for c in [section_figures(self.con, replace(self.scope, site=site),
                                      ["complications"])["complications"]]
        ]).dropna(subset=["rate"])
        if per_site.empty:
            return []
        limits = breakdowns.funnel_limits(overall, per_site["pump_years"])
        return [Chart(charts.site_funnel(per_site, limits, overall,
                                         title="Complications per 100 pump-years by site"),
                      self.note("complications.funnel"))]

    def refills(self) -> Section:
        blocks: list[Any] = []
        if self.patient_rows:
            blocks.append(self.overdue_refills())
        blocks += [self.section_table("refills"), Text(self.note("refills.standard"))]
        if self.patient_rows:
            refills = self.rows("refills")
            late = refills[refills["adherence"] == "late"]
            blocks += [
                self.spc("refills", "Refills on time, by month", "On time", "refills.spc"),
                Chart(charts.histogram(late["days_late"], title="How late the late refills were",
                                       x_title="Days after the due date"),
                      self.note("refills.lateness")),
                # The hover text of each point names its patient as this role sees them.
                Chart(charts.residuals(refills.assign(refill_id=self.patient_ids(refills)),
                                       self.settings.residual_discrepancy_ml,
                                       title="Actual against expected residual volume"),
                      self.note("refills.discrepancies")),
            ]
        return Section("refills", "Refills", blocks)

    def overdue_refills(self) -> Table:
        pumps = self.rows("active_pumps")
        overdue = pumps[pumps["overdue_now"].fillna(False).astype(bool)].sort_values(
            "days_overdue", ascending=False)
        return self.action_list(
            f"Action: pumps overdue for a refill at {day_text(self.request.end)} ({len(overdue)})",
            "Refills overdue", overdue, ["pump_model", "implant_date", "latest_refill_date",
                                         "current_due_date", "days_overdue"],
            self.note("refills.overdue_list"))

    def action_list(self, title: str, sheet: str, rows: pd.DataFrame, columns: list[str],
                    note: str) -> Table:
        """Patients to act on, named as this role may see them."""
        frame = rows[["site", *columns]].copy()
        frame.insert(0, "patient", self.patient_ids(rows))
        return Table(title, sheet, frame.reset_index(drop=True), note, action=True)

    def batteries(self) -> Section:
        battery = self.figures["battery"]
        blocks: list[Any] = [
            self.section_table("battery"),
            self.figure_table([f"battery.by_quarter.{q}" for q in battery["by_quarter"]],
                              "Forecast replacements by calendar quarter",
                              labels=lambda key: key.rsplit(".", 1)[-1]),
        ]
        quarters = list(battery["by_quarter"])
        # As on the dashboard: a suppressed quarter's bar is a "*" at the axis; with no quarter
        # left to draw, the table above is the forecast.
        if any(is_number(n) for n in battery["by_quarter"].values()):
            blocks.append(Chart(charts.bars(
                quarters, {"Pumps": [battery["by_quarter"][q] for q in quarters]}, text=True,
                title=NOMINAL_FORECAST, x_title="Quarter (calendar)", y_title="Pumps reaching ERI"),
                self.note("battery.by_quarter")))
        if self.patient_rows:
            blocks += self.observed_forecast()
            blocks.append(self.batteries_due())
            blocks += self.service_life()
        return Section("batteries", "Pump batteries", blocks)

    def observed_forecast(self) -> list[Any]:
        forecast = breakdowns.observed_life_forecast(
            self.rows("implant_survival"), self.rows("active_pumps"), self.scope.as_of,
            self.settings.min_battery_explants)
        frame = forecast.by_quarter
        coverage = breakdowns.forecast_coverage(forecast, self.settings.min_battery_explants)
        blocks: list[Any] = [Text(coverage)]
        if frame["pumps"].sum():
            blocks.append(Chart(charts.expected_bars(
                frame["quarter"], frame["expected"], frame["low"], frame["high"],
                title=OBSERVED_FORECAST, x_title="Quarter (calendar)",
                y_title="Replacements expected"), self.note("battery.observed_forecast")))
        return blocks

    def batteries_due(self) -> Table:
        pumps = self.rows("active_pumps")
        due = pumps[pumps["has_battery"].fillna(False).astype(bool)
                    & (pumps["eri_overdue"] | pumps["eri_within_182_days"]).fillna(False).astype(bool)]
        return self.action_list(
            f"Action: batteries overdue or due within 182 days ({len(due)})", "Batteries due",
            due.sort_values("forecast_eri_date").assign(eri_due=due["days_to_eri"].map(eri_text)),
            ["pump_model", "implant_date", "reported_eri_date", "forecast_eri_date", "eri_due"],
            BATTERY_DUE)

    def service_life(self) -> list[Any]:
        survival = self.rows("implant_survival")
        life = survival[(survival["endpoint"] == "battery_end_of_life")
                        & survival["has_battery"].fillna(False).astype(bool)]
        if life.empty:
            return [Text("No implant of a model with a battery up to the as-of date.")]
        args = (life["days"], life["event"].astype(int))
        medians = breakdowns.median_table(median_survival(*args, groups=life["pump_model"]))
        return [
            Chart(charts.kaplan_meier(kaplan_meier(*args, groups=life["pump_model"]),
                                      title="Observed service life by pump model",
                                      y_title="Not yet replaced for battery end of life"),
                  self.note("battery.service_life")),
            Table("Median service life by pump model", "Battery life",
                  medians.rename(columns={"group": "pump_model", "events": "battery_explants"}),
                  "A blank median: fewer than half the pumps of that model have reached battery "
                  "end of life yet."),
        ]

    def activity(self) -> Section:
        blocks: list[Any] = [self.section_table("activity")]
        if self.patient_rows:
            monthly = self.monthly("activity")
            blocks.append(Text(NO_WHOLE_MONTH) if monthly.empty else Chart(charts.bars(
                monthly["month"], {"DNAs": monthly["appointments_dna"]},
                title="Appointments not attended (DNA), by month", x_title="Month",
                y_title="DNAs"), self.note("waits.dna")))
        return Section("activity", "Activity", blocks)

    def outcomes(self) -> Section:
        """The cohort whose one-year review falls due in the period first (it can be complete),
        then the cohort first implanted in the period (too recent, mostly, for a 12-month value)."""
        names = ["patients_due", "patients_with_baseline", "patients_with_followup",
                 "patients_paired", "baseline_mean", "followup_mean", "mean_change"]
        blocks: list[Any] = []
        for cohort, title, note in (
                ("outcomes_12m", "12-month outcomes reported in the period (one-year review due "
                                 "in the period)", "outcomes.cohort_12m"),
                ("outcomes", "Patients first implanted in the period: baseline and 12 months",
                 "outcomes.cohort")):
            blocks.append(self.group_table(title, "Measure",
                                           [(label(m), f"{cohort}.{m}") for m in MEASURES], names))
            if not self.patient_rows:
                blocks.append(Text(self.note(note)))
            else:
                rows = self.rows(cohort)
                changes = breakdowns.paired_changes(rows, MEASURES)
                blocks += [
                    Chart(charts.paired_outcomes(rows, MEASURES, {m: label(m) for m in MEASURES},
                                                 title=f"{title}: paired patients"),
                          self.note(note)),
                    Table(f"{title}: mean change with its 95% t interval",
                          "Outcome changes" + (" 12m" if cohort == "outcomes_12m" else ""),
                          changes.assign(measure=changes["measure"].map(label))[
                              ["measure", "patients_paired", "mean_change", "mean_change_ci_low",
                               "mean_change_ci_high"]]),
                ]
        return Section("outcomes", "Cohort outcomes", blocks)

    def data_quality(self) -> Section:
        site = self.request.site
        tables = self.audit("load_tables", site)
        expectations = self.audit("expectation_results", site)
        loads = self.audit("loads", site)
        blocks: list[Any] = []
        if not tables.empty:
            by_table = tables.groupby("table_name", sort=False)[
                ["rows_accepted", "rows_quarantined"]].sum()
            blocks.append(Chart(charts.bars(
                by_table.index, {"Accepted": by_table["rows_accepted"],
                                 "Quarantined": by_table["rows_quarantined"]},
                horizontal=True, title="Rows accepted and quarantined by table", x_title="Table",
                y_title="Rows"), self.note("quality.quarantine")))
        blocks += self.failed_expectations(expectations) + self.quarantine_reasons()
        blocks.append(Table("Load history", "Load history", loads, self.note("quality.loads")))
        return Section("data_quality", "Data quality", blocks)

    def failed_expectations(self, expectations: pd.DataFrame) -> list[Any]:
        failed = expectations[expectations["rows_failed"] > 0]
        summary = Text(f"{len(expectations) - len(failed)} of {len(expectations)} expectations "
                       "passed on every row of the current loads.",
                       "good" if failed.empty else "note")
        if failed.empty:
            return [summary]
        return [summary, Table(
            "Expectations that some rows failed", "Expectations failed",
            failed.sort_values("pass_rate")[["site", "table_name", "column_name", "reason_code",
                                             "rows_checked", "rows_failed", "pass_rate"]],
            self.note("quality.expectations"))]

    def quarantine_reasons(self) -> list[Chart]:
        """Quarantined rows counted by reason (their contents are for data managers only)."""
        quarantine = self.audit("quarantine", self.request.site)
        if quarantine.empty:
            return []
        reasons = (quarantine["reason_codes"].map(lambda codes: sorted(set(codes.split(", "))))
                   .explode().value_counts())
        return [Chart(charts.bars(reasons.index, {"Rows": reasons.to_numpy()}, horizontal=True,
                                  text=True, x_title="Reason", y_title="Rows",
                                  title="Quarantined rows by reason (a row can have several)"),
                      self.note("quality.quarantine"))]

    def definitions(self) -> Section:
        keys = [k for k in FIGURES
                if not k.startswith("quality.") or "data_quality" in PAGES[self.role]]
        return Section("definitions", "Definitions", [
            Definitions([(FIGURES[k].label, k, self.text(FIGURES[k].definition)) for k in keys]
                        + [("Standards", "standards", self.note("standards"))]),
            self.settings_table(),
        ])

    def settings_table(self) -> Table:
        names = KPI_SETTINGS + (DISCLOSURE_SETTINGS if self.suppressed else ())
        values = {name: getattr(self.settings, name) for name in names}
        values.update({f"battery months: {model}": months_ for model, months_
                       in self.settings.battery_months.items()})
        return Table("Settings used (itb-audit.toml)", "Settings", pd.DataFrame(
            {"setting": list(values), "value": [str(v) for v in values.values()]}))

    # --- monthly charts -----------------------------------------------------------------------

    def spc(self, section: str, title: str, y_title: str, note_key: str) -> Chart | Text:
        monthly = self.monthly(section)
        if monthly.empty:
            return Text(NO_WHOLE_MONTH)
        frame, summary = breakdowns.monthly_p_chart(monthly, section)
        return Chart(charts.spc(frame, title=title, y_title=y_title), self.note(note_key),
                     variation_text(summary))


# --- helpers ------------------------------------------------------------------------------------


def at(figures: dict[str, Any], key: str) -> Any:
    """The value at a dotted path of the kpis JSON."""
    for part in key.split("."):
        figures = figures[part]
    return figures


def scalars(group: dict[str, Any]) -> list[str]:
    """The names of a group's own figures: not its subgroups, not its interval bounds."""
    return [name for name, value in group.items()
            if not isinstance(value, dict)
            and not name.endswith(("_ci_low", "_ci_high", "_note"))]


def variation_text(summary: SpcSummary) -> str:
    """The Making Data Count variation icon in words (no target is set, so no assurance)."""
    if summary.variation in VARIATION:
        words = VARIATION[summary.variation]
    else:
        kind, side = summary.variation.rsplit("_", 1)
        words = f"Making Data Count: special cause variation, {kind} ({side})."
    if summary.trial_limits:
        words += " Fewer than 12 months with a value: trial limits."
    return words


def one_year(curves: pd.DataFrame, rows: pd.DataFrame) -> str | None:
    at_one_year = breakdowns.survival_at(curves, 1.0)
    if at_one_year.empty:
        return None
    one = at_one_year.iloc[0]
    return (f"At 1 year: {one['survival']:.1%} free (95% CI {one['ci_low']:.1%} to "
            f"{one['ci_high']:.1%}); {len(rows)} implants, {int(rows['event'].sum())} with the event.")
