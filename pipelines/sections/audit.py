"""The sections of the audit, each described once: the one-page summary, the Overview's headline
groups and standards chart, then waits, trials, complications, refills, batteries, activity,
outcomes, data quality, and the governance record (since the last audit, and its actions).
dashboard/views/ lays them out on pages; pipelines/report/content.py writes them into the pack."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from pipelines.contract import MEASURES
from pipelines.sections.model import ChartRecipe, Section, TableRecipe
from pipelines.sections.summary import SAFETY
from pipelines.show import charts
from pipelines.show.definitions import FIGURES, PUBLISHED_COMPLICATIONS, label
from pipelines.show.display import fmt

WEIGHT_GAIN = "complications.by_category.weight_gain.patient_incidence"


PUBLISHED = pd.DataFrame(
    PUBLISHED_COMPLICATIONS, columns=["category", "measure", "low", "high", "source", "follow_up"]
)


def published(measure: str) -> pd.DataFrame:
    """The published figures of one measure, drawn as reference bands beside the service's; the
    hover text names the source and its follow-up."""
    frame = PUBLISHED[PUBLISHED["measure"] == measure]
    return frame.assign(source=frame["source"] + " (follow-up: " + frame["follow_up"] + ")")


def published_figures() -> pd.DataFrame:
    """The published figures as a table: the figure as printed, its source and follow-up."""

    def figure(row: pd.Series) -> str:
        unit = "percent" if row["measure"] == "patient_incidence" else "per_100_pump_years"
        low, high = fmt(row["low"], unit), fmt(row["high"], unit)
        return low if low == high else f"{low} to {high}"

    return pd.DataFrame(
        {
            "category": PUBLISHED["category"].map(label),
            "measure": PUBLISHED["measure"].map(
                {
                    "patient_incidence": "Share of patients",
                    "per_100_pump_years": "Per 100 pump-years",
                }
            ),
            "published": PUBLISHED.apply(figure, axis=1),
            "follow_up": PUBLISHED["follow_up"],
            "source": PUBLISHED["source"],
        }
    )


# --- shaping the rows a chart is drawn from (the same on the page and in the pack) ------------


def _standards(rows: pd.DataFrame, **options: Any) -> go.Figure:
    """rows: figure (label), value, low, high and target of each proportion held to a target."""
    return charts.intervals(
        rows.assign(standard=[f"Target {t:.0%}" for t in rows["target"]]),
        standards=dict(zip(rows["figure"], rows["target"], strict=True)),
        **options,
    )


def _waits(waits: pd.DataFrame, target_days: int, **options: Any) -> go.Figure:
    seen = waits[waits["seen"].fillna(False).astype(bool)]
    return charts.histogram(
        seen["wait_days"], line_at=target_days, line_name=f"Target {target_days} days", **options
    )


def _dna(monthly: pd.DataFrame, **options: Any) -> go.Figure:
    return charts.bars(monthly["month"], {"DNAs": monthly["appointments_dna"]}, **options)


def _lateness(refills: pd.DataFrame, **options: Any) -> go.Figure:
    return charts.histogram(refills.loc[refills["adherence"] == "late", "days_late"], **options)


def _nominal(by_quarter: dict[str, Any], **options: Any) -> go.Figure:
    return charts.bars(list(by_quarter), {"Pumps": list(by_quarter.values())}, **options)


def _observed(by_quarter: pd.DataFrame, **options: Any) -> go.Figure:
    return charts.expected_bars(
        by_quarter["quarter"],
        by_quarter["expected"],
        by_quarter["low"],
        by_quarter["high"],
        **options,
    )


def _by_table(tables: pd.DataFrame, **options: Any) -> go.Figure:
    by_table = tables.groupby("table_name", sort=False)[["rows_accepted", "rows_quarantined"]].sum()
    return charts.bars(
        by_table.index,
        {"Accepted": by_table["rows_accepted"], "Quarantined": by_table["rows_quarantined"]},
        **options,
    )


def _reasons(quarantine: pd.DataFrame, **options: Any) -> go.Figure:
    """Quarantined rows counted by reason, in words (a row with several reasons counts under
    each)."""
    reasons = (
        quarantine["reason_codes"]
        .map(lambda codes: sorted(set(codes.split(", "))))
        .explode()
        .value_counts()
    )
    return charts.bars(reasons.index.map(label), {"Rows": reasons.to_numpy()}, **options)


# --- the sections ------------------------------------------------------------------------------

OVERVIEW = Section(
    "overview",
    "Headline figures",
    headlines=(
        "activity.referrals_received",
        "waits.rate_within_target",
        "waits.median_wait_days",
        "waits.open_over_target",
        "trials.rate",
        "activity.new_implants",
        "complications.all.rate_per_100_pump_years",
        WEIGHT_GAIN,
        "refills.rate",
        "refills.overdue_now",
        "battery.due_within_182_days",
        "battery.overdue",
    ),
    charts={
        "standards": ChartRecipe(
            "Figures held against a standard, with 95% intervals",
            "standards",
            _standards,
            dict(
                category="figure",
                value="value",
                low="low",
                high="high",
                x_title="Percent",
                text="standard",
                codes=False,
            ),
        )
    },
    tables={
        "provenance": TableRecipe(
            "Current loads (every figure is computed from these snapshots)",
            "Provenance",
            "freshness",
        ),
        "comparisons": TableRecipe(
            "Headline figures against earlier periods", "Comparisons", "comparisons"
        ),
        "suppressed_rates": TableRecipe("Rates suppressed or rounded by the small-number rule"),
        "settings": TableRecipe("Settings used (itb-audit.toml)", "Settings"),
        "all_figures": TableRecipe("All figures"),
    },
)
# The Overview's headline figures in the groups both the page and the pack show.
HEADLINE_GROUPS = {
    "Access": OVERVIEW.headlines[:4],
    "Treatment and safety": OVERVIEW.headlines[4:8],
    "Pumps": OVERVIEW.headlines[8:],
}

# The one page that opens the pack and the Overview (pipelines/sections/summary.py builds its
# rows); its headlines are the safety lists' counts.
SUMMARY = Section(
    "summary",
    "Summary",
    headlines=SAFETY,
    tables={
        "standards": TableRecipe("Standards, each judged by its 95% interval", note="standards"),
        "safety": TableRecipe("Safety lists", note="summary.safety"),
        "changes": TableRecipe(
            "What changed: headline figures whose change is beyond chance", note="summary.changes"
        ),
        "freshness": TableRecipe("How fresh and complete the data is", note="freshness"),
    },
)

OPEN_COLUMNS = (
    "site",
    "referral_id",
    "patient_id",
    "source",
    "triage_outcome",
    "clock_start",
    "days_waiting",
    "over_target",
)
WAITS = Section(
    "waits",
    "Referrals and waits",
    headlines=(
        "activity.referrals_received",
        "waits.seen",
        "waits.median_wait_days",
        "waits.rate_within_target",
        "activity.new_assessments_attended",
        "waits.open",
        "waits.open_over_target",
        "activity.dna_rate",
    ),
    charts={
        "distribution": ChartRecipe(
            "Waits of referrals seen in the period",
            "waits.distribution",
            _waits,
            dict(x_title="Days from referral to first attended appointment"),
        ),
        "spc": ChartRecipe(
            "Seen within the wait target, by month",
            "waits.spc",
            charts.spc,
            dict(y_title="Seen within target"),
        ),
        "by_source": ChartRecipe(
            "Seen within the wait target, by referral source",
            "waits.by_source",
            charts.intervals,
            dict(
                category="source",
                value="rate_within_target",
                low="rate_within_target_ci_low",
                high="rate_within_target_ci_high",
                x_title="Seen within target",
                codes=False,
            ),
        ),
    },
    tables={
        "by_source": TableRecipe(
            "Waits by referral source",
            "Waits by source",
            columns=(
                "source",
                "seen",
                "median_wait_days",
                "mean_wait_days",
                "within_target",
                "rate_within_target",
                "rate_within_target_ci_low",
                "rate_within_target_ci_high",
            ),
        ),
        "open": TableRecipe(
            "Open waiting list at {date}",
            note="waits.open_list",
            columns=OPEN_COLUMNS,
            download="open waiting list",
        ),
        # open longer than stale_referral_days: often closed in reality, not in the extract
        "to_validate": TableRecipe("Referrals to validate", columns=OPEN_COLUMNS),
    },
)

TRIALS = Section(
    "trials",
    "Trial response",
    headlines=("trials.patients", "trials.rate", "trials.inconclusive", "activity.trials"),
    charts={
        "by_condition": ChartRecipe(
            "Response rate by primary condition",
            "trials.by_condition",
            charts.intervals,
            dict(value="rate", low="rate_ci_low", high="rate_ci_high", x_title="Responders"),
        ),
        "by_dose": ChartRecipe(
            "Positive trials by test dose",
            "trials.by_dose",
            charts.intervals,
            dict(
                category="dose",
                value="rate",
                low="rate_ci_low",
                high="rate_ci_high",
                codes=False,
                x_title="Positive",
            ),
        ),
        "pathway": ChartRecipe(
            "Patients first referred in the period", "trials.pathway", charts.pathway
        ),
    },
    tables={
        "by_condition": TableRecipe(
            "Response by primary condition", download="trial response by condition"
        ),
        "by_dose": TableRecipe(
            "Trials by test dose", "Trials by dose", download="trial response by dose"
        ),
        "pathway": TableRecipe(
            "Pathway: referral to implant (median days from the step before)",
            "Pathway",
            download="pathway funnel",
        ),
        "patients": TableRecipe("Pathway patients"),
    },
)

COMPLICATIONS = Section(
    "complications",
    "Complications",
    headlines=(
        "complications.implanted_patients",
        "complications.pump_years",
        "complications.all.events",
        "complications.events_outside_exposure",
        "complications.all.patient_incidence",
        "complications.all.rate_per_100_pump_years",
        WEIGHT_GAIN,
    ),
    charts={
        "patients": ChartRecipe(
            "Patients with a complication",
            "complications.by_category",
            charts.intervals,
            dict(
                value="patient_incidence",
                low="patient_incidence_ci_low",
                high="patient_incidence_ci_high",
                x_title="Implanted patients",
                reference=published("patient_incidence"),
            ),
        ),
        "rate": ChartRecipe(
            "Complications per 100 pump-years",
            "complications.by_category",
            charts.intervals,
            dict(
                value="rate_per_100_pump_years",
                low="rate_per_100_pump_years_ci_low",
                high="rate_per_100_pump_years_ci_high",
                x_title="Per 100 pump-years",
                percent=False,
                reference=published("per_100_pump_years"),
            ),
        ),
        "km": ChartRecipe(
            "Free of a first {endpoint} complication",
            "complications.km",
            charts.kaplan_meier,
            dict(y_title="Implants free of it"),
        ),
        "funnel": ChartRecipe(
            "Complications per 100 pump-years by site", "complications.funnel", charts.site_funnel
        ),
    },
    tables={
        "by_category": TableRecipe("By category", download="complications by category"),
        "published": TableRecipe(
            "Published figures beside the service's, with their follow-up",
            "Published figures",
            "complications.published",
        ),
        "by_severity": TableRecipe(
            "Complications by severity", "By severity", "complications.breakdowns"
        ),
        "by_surgery": TableRecipe(
            "Complications by surgery needed", "By surgery", "complications.breakdowns"
        ),
        "by_time": TableRecipe(
            "Complications by time since implant",
            "By time since implant",
            "complications.breakdowns",
        ),
        # Patient-level: clinicians and governance only, ids as the role sees them. The
        # issue's columns, no more: wider, the table runs off an A4 page of the pack (the band
        # of days since implant is the breakdown's).
        "cases": TableRecipe(
            "Complication case list: every event in the period ({count})",
            "Complication cases",
            "complications.cases",
            (
                "site",
                "patient_id",
                "event_date",
                "category",
                "subtype",
                "severity",
                "required_surgery",
                "related_to",
                "implant_id",
                "days_since_implant",
                "counted",
            ),
            download="complication case list",
        ),
        "outside": TableRecipe("Complications outside exposure", note="complications.outside"),
    },
)
# The case review's breakdowns: table name -> the breakdown (pipelines.figures.breakdowns).
CASE_TABLES = {"by_severity": "severity", "by_surgery": "surgery", "by_time": "time_since_implant"}
# The endpoints with a time-to-first-complication curve.
KM_ENDPOINTS = ("catheter", "infection")

REFILLS = Section(
    "refills",
    "Refills",
    headlines=(
        "refills.rate",
        "refills.late",
        "refills.median_days_late",
        "refills.without_due_date",
        "refills.overdue_now",
        "refills.booked_after_alarm",
        "refills.residual_discrepancies",
        "activity.refills",
    ),
    charts={
        "spc": ChartRecipe(
            "Refills on time, by month", "refills.spc", charts.spc, dict(y_title="On time")
        ),
        "lateness": ChartRecipe(
            "How late the late refills were",
            "refills.lateness",
            _lateness,
            dict(x_title="Days after the due date"),
        ),
        "residuals": ChartRecipe(
            "Actual against expected residual volume", "refills.discrepancies", charts.residuals
        ),
    },
    tables={
        "overdue": TableRecipe(
            "Action: pumps overdue for a refill at {date} ({count})",
            "Refills overdue",
            "refills.overdue_list",
            download="pumps overdue for a refill",
        ),
        "discrepancies": TableRecipe(
            "Residual discrepancies",
            columns=(
                "site",
                "patient_id",
                "refill_id",
                "refill_date",
                "expected_residual_ml",
                "actual_residual_ml",
                "residual_difference_ml",
            ),
        ),
        "after_alarm": TableRecipe(
            "Refills booked past the alarm date",
            note="refills.after_alarm",
            columns=(
                "site",
                "patient_id",
                "implant_id",
                "refill_id",
                "refill_date",
                "fill_volume_ml",
                "concentration_mcg_per_ml",
                "daily_dose_mcg",
                "alarm_date",
                "next_due_date",
                "days_past_alarm",
            ),
        ),
    },
)

BATTERIES = Section(
    "batteries",
    "Pump batteries",
    headlines=(
        "battery.active_pumps",
        "battery.overdue",
        "battery.due_within_182_days",
        "battery.due_within_365_days",
        "activity.replacements",
    ),
    charts={
        # Each forecast's title says which forecast it draws.
        "nominal": ChartRecipe(
            "Forecast battery replacements by quarter: nominal battery life or reported ERI",
            "battery.by_quarter",
            _nominal,
            dict(text=True, x_title="Quarter (calendar)", y_title="Pumps reaching ERI"),
        ),
        "observed": ChartRecipe(
            "Expected battery replacements by quarter: from the observed service life",
            "battery.observed_forecast",
            _observed,
            dict(x_title="Quarter (calendar)", y_title="Replacements expected"),
        ),
        "service_life": ChartRecipe(
            "Observed service life by pump model",
            "battery.service_life",
            charts.kaplan_meier,
            dict(y_title="Not yet replaced for battery end of life"),
        ),
    },
    tables={
        "by_quarter": TableRecipe("Forecast replacements by calendar quarter"),
        "due_182": TableRecipe(
            "Action: batteries overdue or due within 182 days ({count})",
            "Batteries due",
            "battery.due_182",
        ),
        "due_365": TableRecipe(
            "Overdue or due within 12 months ({count})",
            note="battery.due_list",
            download="battery replacements due",
        ),
        "medians": TableRecipe(
            "Median service life by pump model",
            "Battery life",
            "battery.medians",
            download="battery service life by model",
        ),
    },
)

ACTIVITY = Section(
    "activity",
    "Activity",
    charts={
        "dna": ChartRecipe(
            "Appointments not attended (DNA), by month",
            "waits.dna",
            _dna,
            dict(x_title="Month", y_title="DNAs"),
        )
    },
)

OUTCOMES = Section(
    "outcomes",
    "Cohort outcomes",
    headlines=tuple(f"outcomes_12m.{m}.mean_change" for m in MEASURES),
    charts={
        "paired": ChartRecipe(
            "{cohort}: paired patients", "outcomes.cohort", charts.paired_outcomes
        ),
        "explored": ChartRecipe(
            "Baseline and 12-month values of paired patients",
            "outcomes.cohort",
            charts.paired_outcomes,
        ),
    },
    tables={
        # The cohort whose one-year review falls due in the period, then the one first
        # implanted in it; each table's note is its chart's.
        "outcomes_12m": TableRecipe(
            "12-month outcomes reported in the period (one-year review due in the period)",
            note="outcomes.cohort_12m",
            download="12-month outcomes completeness",
        ),
        "outcomes": TableRecipe(
            "Patients first implanted in the period: baseline and 12 months", note="outcomes.cohort"
        ),
        "changes": TableRecipe(
            "{cohort}: mean change with its 95% t interval",
            "Outcome changes{sheet}",
            columns=(
                "measure",
                "patients_paired",
                "mean_change",
                "mean_change_ci_low",
                "mean_change_ci_high",
            ),
            download="outcome changes",
        ),
        "rows": TableRecipe("Outcome rows"),
    },
)

DATA_QUALITY = Section(
    "data_quality",
    "Data quality",
    headlines=tuple(key for key in FIGURES if key.startswith("quality.")),
    charts={
        "by_table": ChartRecipe(
            "Rows accepted and quarantined by table",
            "quality.quarantine",
            _by_table,
            dict(horizontal=True, x_title="Table", y_title="Rows"),
        ),
        "reasons": ChartRecipe(
            "Quarantined rows by reason (a row can have several)",
            "quality.quarantine",
            _reasons,
            dict(horizontal=True, text=True, x_title="Reason", y_title="Rows"),
        ),
    },
    tables={
        "failed": TableRecipe(
            "Expectations that some rows failed",
            "Expectations failed",
            "quality.expectations",
            (
                "site",
                "table_name",
                "column_name",
                "reason_code",
                "rows_checked",
                "rows_failed",
                "pass_rate",
            ),
        ),
        "loads": TableRecipe("Load history", note="quality.loads"),
        "tables": TableRecipe("Load tables"),
        "expectations": TableRecipe(
            "Expectation results",
            note="quality.expectations",
            columns=(
                "site",
                "table_name",
                "column_name",
                "reason_code",
                "on_failure",
                "rows_checked",
                "rows_passed",
                "rows_failed",
                "pass_rate",
                "below_threshold",
                "description",
                "expectation",
            ),
        ),
        "quarantine": TableRecipe("Quarantined rows"),
    },
)

# The governance record: the last audit's figures beside this period's, and its actions.
AUDITS = Section(
    "audits",
    "Since the last audit",
    tables={
        # the audit compared with is in the title: no "compared with" column
        "since": TableRecipe(
            "Headline figures since the last audit ({audit})",
            "Since last audit",
            "audits.since",
            ("figure", "this period", "then", "change", "change 95% CI", "verdict"),
        ),
        "actions": TableRecipe(
            "Actions from the last audit ({audit})", "Actions", "audits.actions"
        ),
        "recorded": TableRecipe("Audits recorded", note="audits.recorded"),
    },
)

SECTIONS = {
    s.id: s
    for s in (
        SUMMARY,
        OVERVIEW,
        WAITS,
        TRIALS,
        COMPLICATIONS,
        REFILLS,
        BATTERIES,
        ACTIVITY,
        OUTCOMES,
        DATA_QUALITY,
        AUDITS,
    )
}
