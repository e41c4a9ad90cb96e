"""What the audit pack says for a period, a site, a condition and a role.

Every figure comes from `compute_kpis` (after `suppress_kpis` for a role that sees suppressed
numbers), every row behind a chart from `Scope.run` on the same marts, and every chart from
pipelines/show/charts.py, so the pack and the dashboard say the same thing. Charts drawn from
patient-level rows, and the action lists, are only built for roles that may see patient rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.access.roles import (
    PAGES,
    Role,
    display_id,
    display_ids,
    sees_patient_rows,
    sees_pseudonyms,
    suppresses_small_numbers,
)
from pipelines.access.sites import NETWORK, Sites, own_rows, require_site
from pipelines.config import Settings, load_settings
from pipelines.contract import COMPLICATION_CATEGORIES, MEASURES
from pipelines.figures import breakdowns
from pipelines.figures.comparisons import Comparison, Period, compare, earlier_periods
from pipelines.figures.disclosure import NO_SUPPRESSION, Disclosure, suppress_kpis
from pipelines.figures.kpis import (
    Scope,
    SiteSelection,
    compute_kpis,
    flatten,
    monthly_figures,
    section_figures,
)
from pipelines.figures.queries import run_query
from pipelines.figures.spc import SpcSummary
from pipelines.figures.survival import kaplan_meier, median_survival
from pipelines.governance.records import (
    action_of,
    actions,
    last_audit,
    recorded_settings,
)
from pipelines.load.pseudonym import resolve_key
from pipelines.report.formatting import label_of, name_label
from pipelines.report.model import (
    Chart,
    Definitions,
    FigureTable,
    GroupTable,
    Judgement,
    Measure,
    Report,
    Section,
    Standard,
    Standards,
    Table,
    Text,
    Value,
)
from pipelines.sections.audit import (
    ACTIVITY,
    AUDITS,
    BATTERIES,
    CASE_TABLES,
    COMPLICATIONS,
    DATA_QUALITY,
    HEADLINE_GROUPS,
    KM_ENDPOINTS,
    OUTCOMES,
    OVERVIEW,
    REFILLS,
    SUMMARY,
    TRIALS,
    WAITS,
    published_figures,
)
from pipelines.sections.model import ChartRecipe, TableRecipe
from pipelines.sections.summary import summarise
from pipelines.show.definitions import FIGURES, NOTES, label, standard_label, unit_of
from pipelines.show.display import (
    NO_WHOLE_MONTH,
    VARIATION_WORDS,
    change_texts,
    day_text,
    earlier_text,
    eri_text,
    fmt,
    is_number,
    loads_text,
    site_text,
    standards_of,
    variation_notes,
    verdict_text,
    with_dose_words,
)
from pipelines.warehouse import Db, open_as_loaded, read_one_state

# The settings the figures depend on, listed in the pack so that it can be reproduced.
KPI_SETTINGS = (
    "wait_target_days",
    "alarm_volume_ml",
    "max_refill_interval_days",
    "residual_discrepancy_ml",
    "weight_gain_standard",
    "default_battery_months",
    "min_battery_explants",
    "stale_referral_days",
)
DISCLOSURE_SETTINGS = (
    "disclosure_max_suppressed",
    "disclosure_rounding_base",
    "disclosure_min_denominator",
)
# Codes of the complication case list, written as words in the pack.
CASE_CODES = ("category", "subtype", "severity", "related_to")
# The comparisons table: as the pack shows it, and as the workbook writes it (numbers, with the
# text beside them; CHANGE_KINDS says what the change column holds).
COMPARISON_COLUMNS = [
    "figure",
    "compared with",
    "this period",
    "then",
    "change",
    "change 95% CI",
    "verdict",
]
COMPARISON_NUMBER_COLUMNS = (
    "this period",
    "then",
    "change",
    "change 95% CI low",
    "change 95% CI high",
)
COMPARISON_NUMBERS = [
    "key",
    "figure",
    "compared with",
    *COMPARISON_NUMBER_COLUMNS,
    "change is",
    "this period shown",
    "then shown",
    "change shown",
    "verdict",
]
CHANGE_KINDS = {
    "difference": "a difference of proportions (percentage points)",
    "ratio": "a ratio of rates (this period / then)",
    "change": "a difference (this period − then), untested",
}


def report_roles() -> list[Role]:
    """Roles with figure pages: the pack is their Overview, on paper."""
    return [role for role, pages in PAGES.items() if "overview" in pages]


@dataclass(frozen=True)
class Request:
    db: Db
    start: dt.date
    end: dt.date
    site: SiteSelection = None  # one site, several (a frozenset), None = every site
    condition: str | None = None
    role: Role = Role.GOVERNANCE
    settings: Settings = field(default_factory=load_settings)
    sites: Sites = NETWORK  # whose rows the pack may hold (pipelines.access.sites)
    as_loaded: str | None = None  # a load id or date: the data as it stood then (None = now)


def build(request: Request) -> Report:
    """The pack for the request (the warehouse opened read-only for the call, as it stands or
    as it stood after the loads `as_loaded` names; AsLoadedError for one it cannot name)."""
    if request.role not in report_roles():
        raise PermissionError(f"the {request.role.value} role has no figure pages, so no pack")
    require_site(request.role, request.sites, request.site)

    def read() -> Report:
        with open_as_loaded(request.db, request.as_loaded) as con:
            return _Builder(con, request).report()

    return read_one_state(request.db, read)


class _Builder:
    """One pack: the figures and rows of one scope, read once, and the sections built from them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, request: Request):
        self.con, self.request, self.role, self.settings = (
            con,
            request,
            request.role,
            request.settings,
        )
        self.scope = Scope(
            request.start, request.end, request.site, request.settings, request.condition
        )
        self.raw = compute_kpis(
            con, request.start, request.end, request.site, request.settings, request.condition
        )
        self.suppressed = suppresses_small_numbers(self.role)
        self.disclosure = Disclosure.from_settings(request.settings)
        self.figures = suppress_kpis(self.raw, self.disclosure) if self.suppressed else self.raw
        self.patient_rows = sees_patient_rows(self.role)  # patient-level charts and lists
        self._rows: dict[str, pd.DataFrame] = {}

    # --- sources ------------------------------------------------------------------------------

    def rows(self, mart: str) -> pd.DataFrame:
        """The rows of queries/marts/<mart>.sql for the scope (each mart run once), of the
        requester's sites only: a network pack of a site's governance lists its own patients."""
        if mart not in self._rows:
            rows = self.scope.run(self.con, mart)
            frame = own_rows(self.request.sites, rows.to_pandas())
            for column, dtype in rows.schema.items():
                if dtype.is_integer():  # whole numbers stay whole where some are missing
                    frame[column] = frame[column].astype("Int64")
            self._rows[mart] = frame
        return self._rows[mart]

    def audit(self, name: str, site: SiteSelection) -> pd.DataFrame:
        """The rows of queries/load_history/<name>.sql for a site, several (read for every site,
        then theirs kept) or every site (DuckDB's sums of integers, decimals in Arrow, as
        integers)."""
        one = site if isinstance(site, str) else None
        table = run_query(self.con, f"load_history/{name}", site=one)
        frame = table.to_pandas()
        if isinstance(site, frozenset):
            frame = own_rows(site, frame)
        if name == "quarantine":  # rows of a patient's record: the requester's sites only
            frame = own_rows(self.request.sites, frame)
        for column in table.schema:
            if pa.types.is_decimal(column.type) and column.type.scale == 0:
                frame[column.name] = frame[column.name].astype("Int64")
        return frame

    def monthly(self, section: str) -> pd.DataFrame:
        """The section's figures for each calendar month wholly inside the period, each computed
        as the headline is for a period of that month (as the dashboard's monthly charts)."""
        rows = [
            {"month": pd.Timestamp(first), **flatten(figures)}
            for first, figures in monthly_figures(self.con, self.scope, section)
        ]
        return pd.DataFrame(rows)

    def text(self, template: str) -> str:
        """A definition or note with its settings filled in."""
        return template.format(**asdict(self.settings))

    def note(self, key: str) -> str:
        return self.text(NOTES[key])

    def figures_note(self, key: str) -> str:
        """The note of a chart drawn from the figures, which leaves out suppressed ones."""
        return self.note(key) + (" Figures shown as * are not drawn." if self.suppressed else "")

    def chart(
        self,
        recipe: ChartRecipe,
        *inputs: Any,
        note: str | None = None,
        caption: str | None = None,
        **options: Any,
    ) -> Chart:
        """A chart of the section model drawn from `inputs`, with its note (or `note`)."""
        return Chart(
            recipe.figure(*inputs, **options),
            self.note(recipe.note) if note is None else note,
            caption,
        )

    def table(self, recipe: TableRecipe, frame: pd.DataFrame, **names: Any) -> Table:
        """A table of the section model: its title (filled with `names`), sheet and note."""
        sheet = (recipe.sheet or recipe.title).format(**names)
        return Table(
            recipe.heading(**names),
            sheet,
            recipe.rows(frame),
            self.note(recipe.note) if recipe.note else None,
        )

    @cached_property
    def key(self) -> bytes:
        return resolve_key(self.settings.pseudonym_key_file)

    def patient_ids(self, rows: pd.DataFrame) -> list[str | None]:
        """Each row's patient as this role sees them (a local id or a pseudonym)."""
        key = self.key if sees_pseudonyms(self.role) else b""  # clinicians need no key
        return [
            display_id(self.role, site, "patient_id", patient, key)
            for site, patient in zip(rows["site"], rows["patient_id"], strict=True)
        ]

    # --- figures ------------------------------------------------------------------------------

    def value(self, key: str) -> Value:
        raw = at(self.figures, key)
        return Value(key, raw, unit_of(key, raw))

    def measure(self, key: str) -> Measure:
        """A figure and its interval (the bounds in the figure's unit), with the judgement of
        every standard that holds it."""
        value = self.value(key)
        judgements = tuple(
            Judgement(
                Value(f"standards.{name}.status", s["status"], "count"), verdict_text(s, value.unit)
            )
            for name, s in standards_of(self.figures, key)
        )
        path, name = key.rsplit(".", 1)
        if f"{name}_ci_low" not in at(self.figures, path):
            return Measure(value, judgements=judgements)
        low, high = (
            Value(k, at(self.figures, k), value.unit) for k in (f"{key}_ci_low", f"{key}_ci_high")
        )
        return Measure(value, low, high, judgements)

    def figure_table(
        self, keys: list[str], title: str | None = None, labels: Callable[[str], str] = label_of
    ) -> FigureTable:
        return FigureTable([(labels(k), self.measure(k)) for k in keys], title)

    def section_table(self, section: str, exclude: tuple[str, ...] = ()) -> FigureTable:
        """Every figure of a section that is not in a group, with its interval beside it."""
        return self.figure_table(
            [
                f"{section}.{name}"
                for name in scalars(at(self.figures, section))
                if name not in exclude
            ]
        )

    def group_table(
        self, title: str, group_header: str, groups: list[tuple[str, str]], names: list[str]
    ) -> GroupTable:
        """groups: (label, dotted path); names: the figures of each group shown as columns."""
        return GroupTable(
            title,
            group_header,
            [name_label(n) for n in names],
            [(group, [self.measure(f"{path}.{n}") for n in names]) for group, path in groups],
        )

    def interval_rows(self, groups: list[tuple[str, str]], name: str) -> pd.DataFrame:
        """(category, value, low, high) of one figure per group, for charts.intervals; a figure
        that is suppressed or undefined is not drawn (its table shows it)."""
        rows = [
            {
                "category": category,
                "value": group[name],
                "low": group[f"{name}_ci_low"],
                "high": group[f"{name}_ci_high"],
            }
            for category, path in groups
            for group in [at(self.figures, path)]
            if is_number(group[name])
        ]
        return pd.DataFrame(rows, columns=["category", "value", "low", "high"])

    # --- the pack -----------------------------------------------------------------------------

    def report(self) -> Report:
        sections = [
            self.provenance(),
            self.summary(),
            self.headlines(),
            self.comparisons(),
            self.since_last_audit(),
            self.standards(),
            self.waits(),
            self.trials(),
            self.complications(),
            self.refills(),
            self.batteries(),
            self.activity(),
            self.outcomes(),
        ]
        if "data_quality" in PAGES[self.role]:
            sections.append(self.data_quality())
        sections.append(self.definitions())
        request = self.request
        return Report(
            title="ITB service audit pack",
            start=day_text(request.start),
            end=day_text(request.end),
            scope=(
                f"{site_text(request.site)} · "
                f"{label(request.condition) if request.condition else 'all conditions'}"
            ),
            role=self.role.value,
            generated=f"{dt.datetime.now():%d %b %Y %H:%M}",
            loads=loads_text(self.raw["loads"])
            + (
                f", as it stood then (--as-loaded {request.as_loaded}), not the current data"
                if request.as_loaded is not None
                else ""
            ),
            about=self.about(),
            figures=self.figures,
            sections=sections,
        )

    def about(self) -> list[str]:
        if self.suppressed:
            return [
                self.disclosure.statement,
                "Aggregate figures only: no patient list, and no chart drawn from "
                "patient-level rows or monthly counts (those are in the clinician and "
                "governance packs).",
            ]
        who = (
            "the clinic's local patient ids"
            if self.role is Role.CLINICIAN
            else "pseudonymous patient ids (PSN-…), never local ids"
        )
        return [
            f"Every figure, chart and action list of the dashboard, with {who}. "
            "Figures are not suppressed: do not pass this pack outside the service."
        ]

    def provenance(self) -> Section:
        blocks: list[Any] = [
            self.table(
                OVERVIEW.tables["provenance"],
                self.current_loads[
                    [
                        "site",
                        "load_id",
                        "as_of",
                        "finished_at",
                        "rows_read",
                        "rows_accepted",
                        "rows_quarantined",
                    ]
                ].rename(columns={"as_of": "extract_as_of", "finished_at": "loaded_at"}),
            )
        ]
        return Section("provenance", "Period and data provenance", blocks)

    @cached_property
    def current_loads(self) -> pd.DataFrame:
        """The current load of each site in scope: the snapshots every figure comes from."""
        loads = self.audit("loads", self.request.site)
        return loads[loads["is_current"]].reset_index(drop=True)

    def summary(self) -> Section:
        """The one page that opens the pack, as the Overview page opens with it."""
        compared = {
            key: [(words, by_key[key]) for words, by_key in self.compared]
            for key in OVERVIEW.headlines
        }
        summary = summarise(self.figures, compared, self.current_loads, self.request.end)
        blocks: list[Any] = [Text(alert, "alert") for alert in summary.alerts]
        # Not a sheet of the workbook: its figures are there in their own sheets, as numbers.
        blocks += [
            replace(self.table(SUMMARY.tables[name], frame), sheet=None)
            for name, frame in summary.tables.items()
        ]
        return Section(SUMMARY.id, SUMMARY.title, blocks)

    def headlines(self) -> Section:
        blocks: list[Any] = [
            self.figure_table(list(keys), title) for title, keys in HEADLINE_GROUPS.items()
        ]
        notes = [key for key in flatten(self.figures) if key.endswith("_note")]
        if notes:  # where a rate differs from an unsuppressed view's, and why
            blocks.append(
                self.figure_table(
                    notes,
                    OVERVIEW.tables["suppressed_rates"].title,
                    labels=lambda key: " · ".join(map(name_label, key[:-5].split("."))),
                )
            )
        overdue = self.figures["refills"]["overdue_now"]
        if self.patient_rows and overdue:
            blocks.append(
                Text(
                    f"{overdue} pump(s) are overdue for a refill now: see the list under Refills.",
                    "alert",
                )
            )
        return Section("headlines", OVERVIEW.title, blocks)

    @cached_property
    def compared(self) -> list[tuple[str, dict[str, Comparison]]]:
        """Each earlier period in words, with each headline figure compared with it, from the
        figures this role sees (as the Overview page's data.comparisons)."""
        request, keys = self.request, list(OVERVIEW.headlines)
        days = (request.end - request.start).days + 1
        out = []
        for against, period in earlier_periods(request.start, request.end):
            then = compute_kpis(
                self.con, period.start, period.end, request.site, self.settings, request.condition
            )
            shown = (
                (self.figures, suppress_kpis(then, self.disclosure)) if self.suppressed else None
            )
            compared = compare(self.raw, then, keys, days, period.days, against, shown)
            out.append((earlier_text(against, period), compared))
        return out

    def comparisons(self) -> Section:
        """The headline figures beside each earlier period in turn: as text in the pack, as
        numbers (each in its row's unit, with the text beside) in the workbook."""
        shown, numbers, units = [], [], []
        for words, compared in self.compared:
            rows = comparison_rows(compared, words)
            shown.extend(rows)
            for (key, c), row in zip(compared.items(), rows, strict=True):
                unit = unit_of(key, c.current)
                numbers.append(
                    [key, row["figure"], words]
                    + [finite(v) for v in (c.current, c.earlier, c.change, c.low, c.high)]
                    + [CHANGE_KINDS[c.kind], row["this period"], row["then"], row["change"]]
                    + [c.verdict]
                )
                change_unit = {"difference": "points", "ratio": "ratio"}.get(c.kind, unit)
                units.append([unit, unit, change_unit, change_unit, change_unit])
        table = self.table(
            OVERVIEW.tables["comparisons"], pd.DataFrame(shown, columns=COMPARISON_COLUMNS)
        )
        row_units = {
            column: [row[i] for row in units] for i, column in enumerate(COMPARISON_NUMBER_COLUMNS)
        }
        workbook = pd.DataFrame(numbers, columns=COMPARISON_NUMBERS)
        return Section(
            "comparisons",
            "Comparisons with earlier periods",
            [replace(table, workbook=workbook, units=row_units)],
        )

    def since_last_audit(self) -> Section:
        """This period's headline figures beside those recorded at the last audit of the same
        scope, and the actions agreed at it as they stand now."""
        request = self.request
        if request.condition is not None:
            why = "Audits are recorded for every condition: no comparison for one condition."
            return Section(AUDITS.id, AUDITS.title, [Text(why)])
        if isinstance(request.site, frozenset):
            why = "Audits are recorded for one site or every site: no comparison for several."
            return Section(AUDITS.id, AUDITS.title, [Text(why)])
        last = last_audit(self.con, request.site, request.end)
        if last is None:
            why = (
                "No audit of this scope was recorded before this period ends: nothing to "
                "compare with yet (`itb-audit audit record` records one)."
            )
            return Section(AUDITS.id, AUDITS.title, [Text(why)])
        name = audit_name(last)
        blocks: list[Any] = [Text(audit_text(last))]
        changed = settings_changed(last, self.settings)
        if changed:
            blocks.append(Text(changed, "alert"))
        since = since_audit_rows(self.raw, last, self.disclosure if self.suppressed else None)
        blocks.append(self.table(AUDITS.tables["since"], since, audit=name))
        agreed = action_rows(actions(self.con, last["audit_id"]), dt.date.today(), self.role)
        blocks.append(self.table(AUDITS.tables["actions"], agreed, audit=name))
        return Section(AUDITS.id, AUDITS.title, blocks)

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
            rows.append(
                Standard(
                    standard_label(name),
                    measure,
                    *(
                        Value(f"standards.{name}.{part}", s[part], unit)
                        for part in ("figure", "direction", "target", "status")
                    ),
                )
            )
        drawn = [
            row
            for row in rows
            if row.measure.low
            and row.measure.high
            and row.measure.value.unit == "percent"
            and is_number(row.measure.value.raw)
        ]
        blocks: list[Any] = [Standards(rows), Text(self.note("standards"))]
        if drawn:
            blocks.append(
                self.chart(
                    OVERVIEW.charts["standards"],
                    pd.DataFrame(
                        [
                            {
                                "figure": row.label,
                                "value": row.measure.value.raw,
                                "low": row.measure.low.raw if row.measure.low else None,
                                "high": row.measure.high.raw if row.measure.high else None,
                                "target": row.target.raw,
                            }
                            for row in drawn
                        ]
                    ),
                    note=" ".join([self.note("waits.standard"), self.note("refills.standard")]),
                )
            )
        return Section("standards", "Standards", blocks)

    def waits(self) -> Section:
        blocks: list[Any] = [self.section_table("waits"), Text(self.note("waits.standard"))]
        if self.patient_rows:
            waits = self.rows("waits")
            blocks.append(
                self.chart(WAITS.charts["distribution"], waits, self.settings.wait_target_days)
            )
            blocks.append(self.spc(WAITS.charts["spc"], "waits"))
            blocks += self.waits_by_source(waits[waits["seen"].fillna(False).astype(bool)])
        return Section(WAITS.id, WAITS.title, blocks)

    def waits_by_source(self, seen: pd.DataFrame) -> list[Any]:
        if seen.empty:
            return [Text("No referrals were seen in the period.")]
        by_source = breakdowns.waits_by(seen, "source")
        by_source["source"] = by_source["source"].map(label)
        return [
            self.chart(WAITS.charts["by_source"], by_source),
            self.table(WAITS.tables["by_source"], by_source),
        ]

    def trials(self) -> Section:
        groups = [
            (label(c), f"trials.by_condition.{c}") for c in self.figures["trials"]["by_condition"]
        ]
        blocks: list[Any] = [
            self.section_table("trials"),
            self.group_table(
                TRIALS.tables["by_condition"].title,
                "Condition",
                groups,
                ["patients", "responders", "non_responders", "inconclusive", "rate"],
            ),
        ]
        by_condition = self.interval_rows(groups, "rate")
        if not by_condition.empty:
            recipe = TRIALS.charts["by_condition"]
            blocks.append(
                self.chart(
                    recipe,
                    by_condition,
                    category="category",
                    value="value",
                    low="low",
                    high="high",
                    codes=False,
                    note=self.figures_note(recipe.note),
                )
            )
        if self.patient_rows:
            blocks += self.trial_doses() + self.pathway()
        return Section(TRIALS.id, TRIALS.title, blocks)

    def trial_doses(self) -> list[Any]:
        by_dose = with_dose_words(breakdowns.response_by_dose(self.rows("trial_doses")))
        blocks: list[Any] = []
        if by_dose["rate"].notna().any():
            blocks.append(self.chart(TRIALS.charts["by_dose"], by_dose.dropna(subset=["rate"])))
        return blocks + [self.table(TRIALS.tables["by_dose"], by_dose)]

    def pathway(self) -> list[Any]:
        funnel = breakdowns.pathway_funnel(self.rows("pathway")).astype({"patients_timed": "Int64"})
        return [
            self.chart(TRIALS.charts["pathway"], funnel),
            self.table(TRIALS.tables["pathway"], funnel),
        ]

    def complications(self) -> Section:
        groups = [("All complications", "complications.all")] + [
            (label(c), f"complications.by_category.{c}") for c in COMPLICATION_CATEGORIES
        ]
        blocks: list[Any] = [
            self.section_table(
                "complications", exclude=("weight_gain_standard", "weight_gain_standard_status")
            ),
            self.group_table(
                COMPLICATIONS.tables["by_category"].title,
                "Category",
                groups,
                ["events", "patients", "patient_incidence", "rate_per_100_pump_years"],
            ),
        ]
        codes = [("all", "complications.all")] + [
            (c, f"complications.by_category.{c}") for c in COMPLICATION_CATEGORIES
        ]
        blocks += self.complication_charts(codes)
        blocks.append(self.table(COMPLICATIONS.tables["published"], published_figures()))
        blocks += self.case_review()
        if self.patient_rows:
            blocks += self.time_to_complication() + self.sites_compared()
        return Section(COMPLICATIONS.id, COMPLICATIONS.title, blocks)

    def case_review(self) -> list[Table]:
        """The breakdowns of the period's complications (suppressed for a role that suppresses
        small numbers), then, for a role that sees patient rows, the case list with every id
        as the dashboard shows it to the role (roles.display_ids)."""
        events = self.rows("complication_events")
        d = self.disclosure if self.suppressed else NO_SUPPRESSION
        blocks = []
        for name, by in CASE_TABLES.items():
            counts = breakdowns.complications_by(events, by, d)
            blocks.append(
                self.table(COMPLICATIONS.tables[name], counts.assign(**{by: counts[by].map(label)}))
            )
        if self.patient_rows:
            key = self.key if sees_pseudonyms(self.role) else b""  # clinicians need no key
            cases = display_ids(self.role, events, key).reset_index(drop=True)
            words = {c: cases[c].map(label, na_action="ignore") for c in CASE_CODES}
            blocks.append(
                self.table(COMPLICATIONS.tables["cases"], cases.assign(**words), count=len(cases))
            )
        return blocks

    def complication_charts(self, codes: list[tuple[str, str]]) -> list[Chart]:
        out = []
        for chart, name, standards in (
            ("patients", "patient_incidence", {"weight_gain": self.settings.weight_gain_standard}),
            ("rate", "rate_per_100_pump_years", None),
        ):
            rows = self.interval_rows(codes, name)
            if rows.empty:
                continue
            recipe = COMPLICATIONS.charts[chart]
            out.append(
                self.chart(
                    recipe,
                    rows,
                    category="category",
                    value="value",
                    low="low",
                    high="high",
                    standards=standards,
                    note=self.figures_note(recipe.note),
                )
            )
        return out

    def time_to_complication(self) -> list[Any]:
        survival = self.rows("implant_survival")
        blocks: list[Any] = []
        for endpoint in KM_ENDPOINTS:
            rows = survival[survival["endpoint"] == endpoint]
            if rows.empty:
                blocks.append(Text(f"No {label(endpoint).lower()} complication is recorded."))
                continue
            curves = kaplan_meier(
                rows["days"], rows["event"].astype(int), groups=np.full(len(rows), "All implants")
            )
            blocks.append(
                self.chart(
                    COMPLICATIONS.charts["km"],
                    curves,
                    names={"endpoint": label(endpoint).lower()},
                    caption=one_year(curves, rows),
                )
            )
        return blocks

    def sites_compared(self) -> list[Any]:
        """The sites of the scope (every site, or the several chosen) against each other."""
        sites = self.audit("loads", self.request.site)
        sites = sorted(sites.loc[sites["is_current"], "site"])
        overall = self.figures["complications"]["all"]["rate_per_100_pump_years"]
        if len(sites) < 2 or overall is None:
            return []
        per_site = pd.DataFrame(
            [
                {
                    "site": site,
                    "pump_years": c["pump_years"],
                    "rate": c["all"]["rate_per_100_pump_years"],
                }
                for site in sites
                for c in [
                    section_figures(self.con, replace(self.scope, site=site), ["complications"])[
                        "complications"
                    ]
                ]
            ]
        ).dropna(subset=["rate"])
        if per_site.empty:
            return []
        limits = breakdowns.funnel_limits(overall, per_site["pump_years"])
        return [self.chart(COMPLICATIONS.charts["funnel"], per_site, limits, overall)]

    def refills(self) -> Section:
        blocks: list[Any] = []
        if self.patient_rows:
            blocks.append(self.overdue_refills())
        blocks += [self.section_table("refills"), Text(self.note("refills.standard"))]
        if self.patient_rows:
            refills = self.rows("refills")
            blocks += [
                self.spc(REFILLS.charts["spc"], "refills"),
                self.chart(REFILLS.charts["lateness"], refills),
                # The hover text of each point names its patient as this role sees them.
                self.chart(
                    REFILLS.charts["residuals"],
                    refills.assign(refill_id=self.patient_ids(refills)),
                    self.settings.residual_discrepancy_ml,
                ),
            ]
        return Section(REFILLS.id, REFILLS.title, blocks)

    def overdue_refills(self) -> Table:
        pumps = self.rows("active_pumps")
        overdue = pumps[pumps["overdue_now"].fillna(False).astype(bool)].sort_values(
            "days_overdue", ascending=False
        )
        return self.action_list(
            REFILLS.tables["overdue"],
            overdue,
            [
                "pump_model",
                "implant_date",
                "latest_refill_date",
                "current_due_date",
                "days_overdue",
            ],
            date=day_text(self.request.end),
        )

    def action_list(
        self, recipe: TableRecipe, rows: pd.DataFrame, columns: list[str], **names: Any
    ) -> Table:
        """Patients to act on, named as this role may see them; the title counts them."""
        frame = rows[["site", *columns]].copy()
        frame.insert(0, "patient", self.patient_ids(rows))
        table = self.table(recipe, frame.reset_index(drop=True), count=len(rows), **names)
        return replace(table, action=True)

    def batteries(self) -> Section:
        battery = self.figures["battery"]
        blocks: list[Any] = [
            self.section_table("battery"),
            self.figure_table(
                [f"battery.by_quarter.{q}" for q in battery["by_quarter"]],
                BATTERIES.tables["by_quarter"].title,
                labels=lambda key: key.rsplit(".", 1)[-1],
            ),
        ]
        # As on the dashboard: a suppressed quarter's bar is a "*" at the axis; with no quarter
        # left to draw, the table above is the forecast.
        if any(is_number(n) for n in battery["by_quarter"].values()):
            blocks.append(self.chart(BATTERIES.charts["nominal"], battery["by_quarter"]))
        if self.patient_rows:
            blocks += self.observed_forecast()
            blocks.append(self.batteries_due())
            blocks += self.service_life()
        return Section(BATTERIES.id, BATTERIES.title, blocks)

    def observed_forecast(self) -> list[Any]:
        forecast = breakdowns.observed_life_forecast(
            self.rows("implant_survival"),
            self.rows("active_pumps"),
            self.scope.as_of,
            self.settings.min_battery_explants,
        )
        frame = forecast.by_quarter
        coverage = breakdowns.forecast_coverage(forecast, self.settings.min_battery_explants)
        blocks: list[Any] = [Text(coverage)]
        if frame["pumps"].sum():
            blocks.append(self.chart(BATTERIES.charts["observed"], frame))
        return blocks

    def batteries_due(self) -> Table:
        pumps = self.rows("active_pumps")
        due = pumps[
            pumps["has_battery"].fillna(False).astype(bool)
            & (pumps["eri_overdue"] | pumps["eri_within_182_days"]).fillna(False).astype(bool)
        ]
        return self.action_list(
            BATTERIES.tables["due_182"],
            due.sort_values("forecast_eri_date").assign(eri_due=due["days_to_eri"].map(eri_text)),
            ["pump_model", "implant_date", "reported_eri_date", "forecast_eri_date", "eri_due"],
        )

    def service_life(self) -> list[Any]:
        life = breakdowns.battery_life(self.rows("implant_survival"))
        if life.empty:
            return [Text("No implant of a model with a battery up to the as-of date.")]
        args = (life["days"], life["event"].astype(int))
        medians = breakdowns.median_table(median_survival(*args, groups=life["pump_model"]))
        return [
            self.chart(
                BATTERIES.charts["service_life"], kaplan_meier(*args, groups=life["pump_model"])
            ),
            self.table(
                BATTERIES.tables["medians"],
                medians.rename(columns={"group": "pump_model", "events": "battery_explants"}),
            ),
        ]

    def activity(self) -> Section:
        blocks: list[Any] = [self.section_table("activity")]
        if self.patient_rows:
            monthly = self.monthly("activity")
            blocks.append(
                Text(NO_WHOLE_MONTH)
                if monthly.empty
                else self.chart(ACTIVITY.charts["dna"], monthly)
            )
        return Section(ACTIVITY.id, ACTIVITY.title, blocks)

    def outcomes(self) -> Section:
        """The cohort whose one-year review falls due in the period first (it can be complete),
        then the cohort first implanted in the period (too recent, mostly, for a 12-month value)."""
        names = [
            "patients_due",
            "patients_with_baseline",
            "patients_with_followup",
            "patients_paired",
            "baseline_mean",
            "followup_mean",
            "mean_change",
        ]
        blocks: list[Any] = []
        for cohort in ("outcomes_12m", "outcomes"):
            table = OUTCOMES.tables[cohort]
            blocks.append(
                self.group_table(
                    table.title, "Measure", [(label(m), f"{cohort}.{m}") for m in MEASURES], names
                )
            )
            note = self.note(table.note or "")
            if not self.patient_rows:
                blocks.append(Text(note))
            else:
                rows = self.rows(cohort)
                changes = breakdowns.paired_changes(rows, MEASURES)
                blocks += [
                    self.chart(
                        OUTCOMES.charts["paired"],
                        rows,
                        MEASURES,
                        {m: label(m) for m in MEASURES},
                        names={"cohort": table.title},
                        note=note,
                    ),
                    self.table(
                        OUTCOMES.tables["changes"],
                        changes.assign(measure=changes["measure"].map(label)),
                        cohort=table.title,
                        sheet=" 12m" if cohort == "outcomes_12m" else "",
                    ),
                ]
        return Section(OUTCOMES.id, OUTCOMES.title, blocks)

    def data_quality(self) -> Section:
        site = self.request.site
        tables = self.audit("load_tables", site)
        expectations = self.audit("expectation_results", site)
        loads = self.audit("loads", site)
        blocks: list[Any] = []
        if not tables.empty:
            blocks.append(self.chart(DATA_QUALITY.charts["by_table"], tables))
        blocks += self.failed_expectations(expectations) + self.quarantine_reasons()
        blocks.append(self.table(DATA_QUALITY.tables["loads"], loads))
        return Section(DATA_QUALITY.id, DATA_QUALITY.title, blocks)

    def failed_expectations(self, expectations: pd.DataFrame) -> list[Any]:
        failed = expectations[expectations["rows_failed"] > 0]
        summary = Text(
            f"{len(expectations) - len(failed)} of {len(expectations)} expectations "
            "passed on every row of the current loads.",
            "good" if failed.empty else "note",
        )
        if failed.empty:
            return [summary]
        return [summary, self.table(DATA_QUALITY.tables["failed"], failed.sort_values("pass_rate"))]

    def quarantine_reasons(self) -> list[Chart]:
        """Quarantined rows counted by reason (their contents are for data managers only)."""
        quarantine = self.audit("quarantine", self.request.site)
        if quarantine.empty:
            return []
        return [self.chart(DATA_QUALITY.charts["reasons"], quarantine)]

    def definitions(self) -> Section:
        keys = [
            k for k in FIGURES if not k.startswith("quality.") or "data_quality" in PAGES[self.role]
        ]
        return Section(
            "definitions",
            "Definitions",
            [
                Definitions(
                    [(FIGURES[k].label, k, self.text(FIGURES[k].definition)) for k in keys]
                    + [("Standards", "standards", self.note("standards"))]
                ),
                self.settings_table(),
            ],
        )

    def settings_table(self) -> Table:
        names = KPI_SETTINGS + (DISCLOSURE_SETTINGS if self.suppressed else ())
        values = {name: getattr(self.settings, name) for name in names}
        values.update(
            {
                f"battery months: {model}": months_
                for model, months_ in self.settings.battery_months.items()
            }
        )
        return self.table(
            OVERVIEW.tables["settings"],
            pd.DataFrame({"setting": list(values), "value": [str(v) for v in values.values()]}),
        )

    # --- monthly charts -----------------------------------------------------------------------

    def spc(self, recipe: ChartRecipe, section: str) -> Chart | Text:
        monthly = self.monthly(section)
        if monthly.empty:
            return Text(NO_WHOLE_MONTH)
        frame, summary = breakdowns.monthly_p_chart(monthly, section)
        return self.chart(recipe, frame, caption=variation_text(summary))


# --- helpers ------------------------------------------------------------------------------------


def comparison_rows(compared: dict[str, Comparison], compared_with: str) -> list[dict[str, str]]:
    """The rows of a comparisons table: each figure now, then, the change and its verdict."""
    rows = []
    for key, c in compared.items():
        unit = unit_of(key, c.current)
        change, interval = change_texts(c, unit)
        rows.append(
            {
                "figure": label_of(key),
                "compared with": compared_with,
                "this period": fmt(c.current, unit),
                "then": fmt(c.earlier, unit),
                "change": change,
                "change 95% CI": interval,
                "verdict": c.verdict,
            }
        )
    return rows


# --- the governance record (the pack's "Since the last audit" and the Audits page) ------------


def audit_name(audit: dict[str, Any]) -> str:
    return (
        f"audit {audit['audit_id']}, {day_text(audit['period_start'])} to "
        f"{day_text(audit['period_end'])}"
    )


def audit_text(audit: dict[str, Any]) -> str:
    """What the last audit was and what it was computed from, in words."""
    loads = ", ".join(f"site {site} load {load}" for site, load in audit["loads"].items())
    recorded = pd.Timestamp(audit["recorded_at"])
    note = f" Note: {audit['note']}." if audit["note"] else ""
    return (
        f"The last audit ({audit_name(audit)}, "
        f"{'site ' + audit['site'] if audit['site'] else 'all sites'}) was recorded on "
        f"{day_text(recorded.date())} at {recorded:%H:%M} by {audit['recorded_by']}, from "
        f"{loads}; its figures are those presented then, whatever later loads changed. "
        f"SHA-256 of its governance pack: {audit['pack_sha256']}.{note}"
    )


def settings_changed(audit: dict[str, Any], settings: Settings) -> str | None:
    """A warning when this pack's settings differ from those the audit's figures used."""
    now, then = recorded_settings(settings), audit["figure_settings"]
    differ = [name for name in sorted(now.keys() | then.keys()) if now.get(name) != then.get(name)]
    if not differ:
        return None
    return (
        f"The settings differ from the last audit's ({', '.join(differ)}): a change below may "
        "come from the settings, not the service."
    )


def since_audit_rows(
    now: dict[str, Any], audit: dict[str, Any], disclosure: Disclosure | None
) -> pd.DataFrame:
    """The Overview's headline figures of `now` (compute_kpis) beside those recorded at the
    audit; `disclosure`: compare them as a view that suppresses small numbers shows them."""
    then = audit["figures"]
    shown = (
        (suppress_kpis(now, disclosure), suppress_kpis(then, disclosure)) if disclosure else None
    )
    now_days, then_days = (Period(*period_of(f)).days for f in (now, then))
    keys = list(OVERVIEW.headlines)
    compared = compare(now, then, keys, now_days, then_days, "last_audit", shown)
    return pd.DataFrame(comparison_rows(compared, audit_name(audit)))


def period_of(figures: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """The period of a compute_kpis result."""
    period = figures["period"]
    return dt.date.fromisoformat(period["start"]), dt.date.fromisoformat(period["end"])


ACTION_COLUMNS = (
    "audit",
    "action",
    "against",
    "what",
    "owner",
    "due",
    "status",
    "overdue",
    "notes",
)


def action_rows(rows: pd.DataFrame, today: dt.date, role: Role) -> pd.DataFrame:
    """Actions (governance.actions rows) as shown: status and overdue in words, never colour
    alone. A role that suppresses small numbers (commissioner) sees no notes: free text."""
    shown = []
    for row in rows.itertuples(index=False):
        action = action_of(row._asdict())
        late = (today - action.due_date).days
        shown.append(
            {
                "audit": str(row.audit_id),
                "action": str(row.action_id),
                "against": (
                    standard_label(action.against)
                    if action.against_kind == "standard"
                    else action.against
                ),
                "what": action.what,
                "owner": action.owner,
                "due": day_text(action.due_date),
                "status": action.status,
                "overdue": f"OVERDUE by {late} day{'s' if late != 1 else ''}"
                if action.overdue(today)
                else "no",
                "notes": action.notes or "",
            }
        )
    columns = [c for c in ACTION_COLUMNS if c != "notes" or not suppresses_small_numbers(role)]
    return pd.DataFrame(shown, columns=list(ACTION_COLUMNS))[columns]


def at(figures: dict[str, Any], key: str) -> Any:
    """The value at a dotted path of the kpis JSON."""
    for part in key.split("."):
        figures = figures[part]
    return figures


def finite(value: Any) -> float | None:
    """A number for a numeric column of the workbook; None for "*", a missing figure or an
    unbounded interval."""
    return value if is_number(value) and math.isfinite(value) else None


def scalars(group: dict[str, Any]) -> list[str]:
    """The names of a group's own figures: not its subgroups, not its interval bounds."""
    return [
        name
        for name, value in group.items()
        if not isinstance(value, dict) and not name.endswith(("_ci_low", "_ci_high", "_note"))
    ]


def variation_text(summary: SpcSummary) -> str:
    """The Making Data Count variation icon in words, and what the icons leave out (the page's
    badge and caption)."""
    return f"Making Data Count: {VARIATION_WORDS[summary.variation]}. " + variation_notes(
        summary.trial_limits
    )


def one_year(curves: pd.DataFrame, rows: pd.DataFrame) -> str | None:
    at_one_year = breakdowns.survival_at(curves, 1.0)
    if at_one_year.empty:
        return None
    one = at_one_year.iloc[0]
    return (
        f"At 1 year: {one['survival']:.1%} free (95% CI {one['ci_low']:.1%} to "
        f"{one['ci_high']:.1%}); {len(rows)} implants, {int(rows['event'].sum())} with the event."
    )
