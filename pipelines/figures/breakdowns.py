"""Figures the dashboard shows that `compute_kpis` does not: breakdowns of a mart's rows by a
column, with the intervals of pipelines.figures.intervals, and the statistics behind a chart.

Each takes the rows of a mart (pandas, as dashboard.data.mart returns them) and reuses the
figure functions of pipelines.figures.kpis where docs/figures.md defines it, so a breakdown's
"all" row is the headline figure. The aggregates (AGGREGATES, which dashboard.data.summary
serves to any role) take a Disclosure and build every count, statistic and rate from the
suppressed counts, as pipelines.figures.disclosure does for the headline figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
from scipy.stats import chi2, t

from pipelines.contract import MEASURES
from pipelines.figures.disclosure import NO_SUPPRESSION, Disclosure, suppress_section
from pipelines.figures.kpis import outcomes_figures, quarters_after, waits_figures
from pipelines.figures.spc import SpcSummary, p_chart, summarise
from pipelines.figures.survival import (
    MedianSurvival,
    expected_count,
    kaplan_meier,
    median_survival,
    window_probabilities,
)

# Age bands at the first implant (years, lower bound inclusive).
AGE_BANDS = ((0, "Under 18"), (18, "18–39"), (40, "40–64"), (65, "65 and over"))
AGE_BAND_ORDER = {name: i for i, (_, name) in enumerate(AGE_BANDS)}

# Monthly p-charts: the rate, its numerator and the columns whose sum is the denominator, as the
# rate's definition in pipelines.figures.kpis (rate_within_target = within_target / seen;
# refills' rate = on_time / (on_time + late)).
P_CHARTS = {
    "waits": ("rate_within_target", "within_target", ("seen",)),
    "refills": ("rate", "on_time", ("on_time", "late")),
}


def monthly_p_chart(monthly: pd.DataFrame, section: str) -> tuple[pd.DataFrame, SpcSummary]:
    """The Making Data Count p-chart of a section's monthly rate (higher is better). A month
    whose rate is suppressed ("*") is a gap; where counts are rounded, a point is the month's
    shown rate (from its exact counts, pipelines.figures.disclosure) and only the limits use the
    rounded denominator."""
    rate, numerator, denominator = P_CHARTS[section]
    den = (
        monthly[list(denominator)]
        .apply(pd.to_numeric, errors="coerce")
        .sum(axis=1, min_count=len(denominator))
    )
    shown = pd.to_numeric(monthly[rate], errors="coerce")  # "*": a gap
    counted = pd.to_numeric(monthly[numerator], errors="coerce")
    # Unsuppressed, the numerator is the count itself; rounded, it is the shown rate's share.
    num = counted.where((counted / den - shown).abs() < 1e-6, shown * den)
    gap = num.isna() | den.isna()
    chart = p_chart(num.mask(gap), den.mask(gap), monthly["month"], improvement="increase")
    return chart, summarise(chart, "increase")


def waits_by(waits: pd.DataFrame, column: str, d: Disclosure = NO_SUPPRESSION) -> pd.DataFrame:
    """The waits figures (pipelines.figures.kpis.waits_figures) of the seen referrals for each
    value of `column`."""
    seen = waits[waits["seen"].fillna(False).astype(bool)]
    rows = [
        {column: value, **suppress_section("waits", waits_figures(pl.from_pandas(group)), d)}
        for value, group in seen.groupby(column, dropna=False, sort=True)
    ]
    return pd.DataFrame(rows)


def response_by_dose(trial_doses: pd.DataFrame, d: Disclosure = NO_SUPPRESSION) -> pd.DataFrame:
    """Per test dose: trials, positive, negative, inconclusive, and rate = positive / (positive +
    negative) with its Wilson 95% interval."""
    rows = []
    for dose, group in trial_doses.groupby("dose_mcg", dropna=False, sort=True):
        counts = group["outcome"].value_counts()
        positive, negative = int(counts.get("positive", 0)), int(counts.get("negative", 0))
        rows.append(
            {
                "dose_mcg": dose,
                "trials": d.count(len(group)),
                "positive": d.count(positive),
                "negative": d.count(negative),
                "inconclusive": d.count(int(counts.get("inconclusive", 0))),
                **d.proportion("rate", positive, positive + negative),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "dose_mcg",
            "trials",
            "positive",
            "negative",
            "inconclusive",
            "rate",
            "rate_ci_low",
            "rate_ci_high",
        ],
    )


PATHWAY_STEPS = (
    ("Referred", "referral_date", None),
    ("Assessed", "assessment_date", "days_to_assessment"),
    ("Trialled", "trial_date", "days_to_trial"),
    ("Implanted", "implant_date", "days_to_implant"),
)


def pathway_funnel(pathway: pd.DataFrame, d: Disclosure = NO_SUPPRESSION) -> pd.DataFrame:
    """Per pathway step: patients who reached it, the share of those referred, and the median
    days from the step before (over the patients_timed with both steps dated)."""
    referred = len(pathway)
    rows = []
    for step, date_column, days_column in PATHWAY_STEPS:
        reached = int(pathway[date_column].notna().sum())
        days = pathway[days_column].dropna() if days_column else pd.Series(dtype=float)
        rows.append(
            {
                "step": step,
                "patients": d.count(reached),
                "share_of_referred": d.proportion("share", reached, referred)["share"],
                "median_days": d.statistic(float(days.median()) if len(days) else None, len(days)),
                "patients_timed": d.count(len(days)) if days_column else None,
            }
        )
    return pd.DataFrame(rows)


NOT_RECORDED = "not_recorded"
EXPLORER_COLUMNS = ("primary_condition", "tone_pattern", "age_band", "sex", "implant_year")


def outcome_cohort(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The outcomes mart's rows with the columns the cohort explorer filters on."""
    return outcomes.assign(
        age_band=lambda r: r["age_at_implant"].map(age_band),
        implant_year=lambda r: r["implant_date"].dt.year.astype("Int64").astype(str),
        tone_pattern=lambda r: r["tone_pattern"].fillna(NOT_RECORDED),
    )


def select(cohort: pd.DataFrame, selection: dict[str, list]) -> pd.DataFrame:
    """The rows of outcome_cohort matching every chosen value (no choice: every row)."""
    for column, chosen in selection.items():
        if chosen:
            cohort = cohort[cohort[column].isin(chosen)]
    return cohort


@dataclass(frozen=True)
class Cohort:
    options: dict[str, list]  # explorer column -> its values, in order
    patients: int | str  # patients in the cohort
    matched: int | str  # patients matching the selection
    changes: pd.DataFrame  # paired_changes of the matching rows


def explore_cohort(
    outcomes: pd.DataFrame, d: Disclosure = NO_SUPPRESSION, selection: dict[str, list] | None = None
) -> Cohort:
    """The cohort explorer's figures: its filter values, and the paired changes of the
    patients matching `selection`."""
    cohort = outcome_cohort(outcomes)
    selected = select(cohort, selection or {})
    return Cohort(
        options={
            column: sorted(cohort[column].unique(), key=lambda v: (AGE_BAND_ORDER.get(v, 0), v))
            for column in EXPLORER_COLUMNS
        },
        patients=d.count(len(cohort[["site", "patient_id"]].drop_duplicates())),
        matched=d.count(len(selected[["site", "patient_id"]].drop_duplicates())),
        changes=paired_changes(selected, MEASURES, d),
    )


def age_band(age: float) -> str:
    if pd.isna(age):
        return "Not recorded"
    band = AGE_BANDS[0][1]
    for lower, name in AGE_BANDS:
        if age >= lower:
            band = name
    return band


def paired_changes(
    outcomes: pd.DataFrame, measures, d: Disclosure = NO_SUPPRESSION
) -> pd.DataFrame:
    """Per measure: the figures of pipelines.figures.kpis.outcomes_figures over these rows, and a
    95% t interval of the mean change (None with fewer than 2 paired patients)."""
    figures = outcomes_figures(pl.from_pandas(outcomes)) if len(outcomes) else {}
    empty = {
        "patients_due": 0,
        "patients_with_baseline": 0,
        "patients_with_followup": 0,
        "patients_paired": 0,
        "baseline_mean": None,
        "followup_mean": None,
        "mean_change": None,
    }
    shown = suppress_section("outcomes", {m: figures.get(m, empty) for m in measures}, d)
    rows = []
    for measure in measures:
        changes = outcomes.loc[
            outcomes["paired"].fillna(False).astype(bool) & (outcomes["measure"] == measure),
            "change",
        ]
        low, high = (d.statistic(bound, changes.count()) for bound in mean_interval(changes))
        rows.append(
            {
                "measure": measure,
                **shown[measure],
                "mean_change_ci_low": low,
                "mean_change_ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def mean_interval(values: pd.Series) -> tuple[float | None, float | None]:
    """The 95% t interval of the mean of values; (None, None) with fewer than 2."""
    x = values.dropna().to_numpy(dtype=float)
    if len(x) < 2:
        return None, None
    half = t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def survival_at(curves: pd.DataFrame, years: float) -> pd.DataFrame:
    """Each group's Kaplan–Meier estimate and 95% interval at `years` (the step in force then);
    no row for a group whose follow-up ends before `years`."""
    rows = []
    for group, curve in curves.groupby("group", sort=True):
        if curve["years"].max() >= years:
            step = curve[curve["years"] <= years].iloc[-1]
            rows.append(
                {
                    "group": group,
                    "survival": step["survival"],
                    "ci_low": step["ci_low"],
                    "ci_high": step["ci_high"],
                }
            )
    return pd.DataFrame(rows, columns=["group", "survival", "ci_low", "ci_high"])


def median_table(medians: list[MedianSurvival], d: Disclosure = NO_SUPPRESSION) -> pd.DataFrame:
    """Median survival (years) with its 95% interval per group; blank where not reached."""
    return pd.DataFrame(
        [
            {
                "group": m.group,
                "implants": d.count(m.n),
                "events": d.count(m.events),
                **{
                    name: d.statistic(value, m.n)
                    for name, value in (
                        ("median_years", m.median_years),
                        ("median_years_ci_low", m.ci_low_years),
                        ("median_years_ci_high", m.ci_high_years),
                    )
                },
            }
            for m in medians
        ],
        columns=[
            "group",
            "implants",
            "events",
            "median_years",
            "median_years_ci_low",
            "median_years_ci_high",
        ],
    )


def battery_life(implant_survival: pd.DataFrame) -> pd.DataFrame:
    """Implants of a model with a battery, followed to battery end of life (the rows behind
    the service-life curves)."""
    return implant_survival[
        (implant_survival["endpoint"] == "battery_end_of_life")
        & implant_survival["has_battery"].fillna(False).astype(bool)
    ]


def service_life_by_model(
    implant_survival: pd.DataFrame, d: Disclosure = NO_SUPPRESSION
) -> pd.DataFrame:
    """Median battery service life (years) by pump model, with its 95% interval."""
    life = battery_life(implant_survival)
    medians = (
        median_survival(life["days"], life["event"].astype(int), groups=life["pump_model"])
        if len(life)
        else []
    )
    return median_table(medians, d).rename(
        columns={"group": "pump_model", "events": "battery_explants"}
    )


def model_group(name: str) -> str:
    """The one grouping of pump model names for the observed-life forecast: case and spacing
    ignored ("SynchroMed  II" = "synchromed ii"). The project's model normalisation goes here."""
    return " ".join(str(name).split()).casefold()


@dataclass(frozen=True)
class LifeForecast:
    by_quarter: pd.DataFrame  # quarter, expected, low, high, pumps, beyond_follow_up
    models: pd.DataFrame  # model, battery_explants, active_pumps, forecast (bool)


def observed_life_forecast(
    implant_survival: pd.DataFrame, active_pumps: pd.DataFrame, as_of: dt.date, min_explants: int
) -> LifeForecast:
    """Battery replacements expected per quarter for the 8 quarters after as_of's, from each
    pump model's observed service life (the Kaplan–Meier curve of battery_life), for the models
    with at least `min_explants` battery_end_of_life explants: each active pump of age a at
    as_of reaches battery end of life in a quarter with the curve's conditional probability
    (survival.window_probabilities); the quarter's count is their Poisson-binomial sum with a
    95% prediction interval (survival.expected_count). Pumps of the other models are left out
    (models says which); a pump that would outlive its model's follow-up within a quarter is
    left out of that quarter (beyond_follow_up)."""
    life = battery_life(implant_survival).assign(model=lambda r: r["pump_model"].map(model_group))
    pumps = active_pumps[active_pumps["has_battery"].fillna(False).astype(bool)].assign(
        model=lambda r: r["pump_model"].map(model_group)
    )
    explants = life.groupby("model")["event"].sum().astype(int)
    actives = pumps.groupby("model").size()
    names = (
        pd.concat([life, pumps])
        .groupby("model")["pump_model"]
        .agg(lambda v: v.value_counts().index[0])
    )  # the model's most common spelling
    models = pd.DataFrame({"battery_explants": explants, "active_pumps": actives}).fillna(0)
    models = models.astype(int).assign(forecast=lambda r: r["battery_explants"] >= min_explants)
    curves = {
        model: kaplan_meier(group["days"], group["event"].astype(int))
        for model, group in life.groupby("model")
        if models.at[model, "forecast"]
    }
    ages = {
        model: (pd.Timestamp(as_of) - pd.to_datetime(group["implant_date"])).dt.days
        for model, group in pumps.groupby("model")
        if model in curves
    }
    rows = []
    for quarter in quarters_after(as_of):
        year, q = int(quarter[:4]), int(quarter[-1])
        first_day = dt.date(year, 3 * q - 2, 1)
        last_day = (pd.Timestamp(first_day) + pd.offsets.QuarterEnd(0)).date()
        window = ((first_day - as_of).days, (last_day - as_of).days)
        p = np.concatenate(
            [np.empty(0), *(window_probabilities(curves[m], a, *window) for m, a in ages.items())]
        )
        known = p[~np.isnan(p)]
        rows.append(
            {
                "quarter": quarter,
                **expected_count(known),
                "pumps": len(known),
                "beyond_follow_up": int(np.isnan(p).sum()),
            }
        )
    models = models.assign(model=names.reindex(models.index).to_numpy()).reset_index(drop=True)
    return LifeForecast(
        pd.DataFrame(
            rows, columns=["quarter", "expected", "low", "high", "pumps", "beyond_follow_up"]
        ),
        models[["model", "battery_explants", "active_pumps", "forecast"]],
    )


def forecast_coverage(forecast: LifeForecast, min_explants: int) -> str:
    """What the observed-life forecast covers, in a sentence for beside its chart."""
    models = forecast.models
    covered, left = models[models["forecast"]], models[~models["forecast"]]
    if covered.empty:
        return (
            f"No pump model has {min_explants} or more explants for battery end of life yet: "
            "no forecast from the observed service life (the nominal forecast stands alone)."
        )
    text = (
        "From the observed service life of "
        + ", ".join(f"{m.model} ({m.battery_explants} explants)" for m in covered.itertuples())
        + f": {int(covered['active_pumps'].sum())} active pumps."
    )
    if not left.empty:
        text += (
            f" Not forecast (fewer than {min_explants} explants): "
            + ", ".join(f"{m.model} ({m.active_pumps} active pumps)" for m in left.itertuples())
            + "."
        )
    beyond = int(forecast.by_quarter["beyond_follow_up"].max())
    if beyond:
        text += (
            f" Up to {beyond} pumps outlive their model's longest follow-up within a quarter "
            "and are left out of it: the forecast is a floor in the later quarters."
        )
    return text


def funnel_limits(rate_per_100: float, pump_years: pd.Series, points: int = 200) -> pd.DataFrame:
    """Exact Poisson limits of a rate per 100 pump-years around `rate_per_100`, against
    exposure, over the range of the sites' pump-years: at exposure E the expected count is
    m = rate × E / 100, and the limits are the Garwood bounds chi2(p; 2m) / 2 and
    chi2(1 − p; 2m + 2) / 2 (as continuous functions of m), over E, × 100; p = 0.025 (95%) and
    0.001 (99.8%)."""
    exposure = np.linspace(pump_years.min() / 2, pump_years.max() * 1.1, points)
    expected = rate_per_100 * exposure / 100
    frame = {"pump_years": exposure}
    for name, p in (("95", 0.025), ("99.8", 0.001)):
        frame[f"lower_{name}"] = chi2.ppf(p, 2 * expected) / 2 / exposure * 100
        frame[f"upper_{name}"] = chi2.ppf(1 - p, 2 * expected + 2) / 2 / exposure * 100
    return pd.DataFrame(frame)


# The complication case review's breakdowns: each groups the complication_events rows by a code
# (a column of the mart, or required_surgery as words), its values in this order; a missing value
# is not_recorded (listed only when some event has it).
CASE_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "severity": ("mild", "moderate", "severe"),
    "surgery": ("surgery_needed", "no_surgery"),
    "time_since_implant": (
        "up_to_30_days",
        "up_to_1_year",
        "over_1_year",
        "before_implant",
        "no_pump_recorded",
    ),
}
SURGERY = {True: "surgery_needed", False: "no_surgery"}


def complications_by(events: pd.DataFrame, by: str, d: Disclosure = NO_SUPPRESSION) -> pd.DataFrame:
    """Every event of the period (in pump exposure or not: the case list's rows) by one of
    CASE_BREAKDOWNS: events and distinct patients per value, each value listed even at 0."""
    codes = (
        events["required_surgery"].map(SURGERY, na_action="ignore")
        if by == "surgery"
        else events[by]
    )
    codes = codes.astype(object).where(codes.notna(), NOT_RECORDED)
    values = list(CASE_BREAKDOWNS[by]) + ([NOT_RECORDED] if (codes == NOT_RECORDED).any() else [])
    rows = []
    for value in values:
        group = events[(codes == value).to_numpy()]
        rows.append(
            {
                by: value,
                "events": d.count(len(group)),
                "patients": d.count(len(group[["site", "patient_id"]].drop_duplicates())),
            }
        )
    return pd.DataFrame(rows, columns=[by, "events", "patients"])


# The aggregates dashboard.data.summary serves (each takes a mart's rows and a Disclosure).
AGGREGATES = (
    waits_by,
    response_by_dose,
    pathway_funnel,
    service_life_by_model,
    explore_cohort,
    complications_by,
)
