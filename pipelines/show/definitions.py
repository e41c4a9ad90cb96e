"""What every figure on screen means: one text per figure, worded from docs/figures.md
(its catalogue names each key), shown beside the figure (a metric's tooltip or a chart's expander).

A headline figure's key is its path in the JSON of `itb-audit kpis --json` (e.g.
"waits.rate_within_target"), so the figure on the page can be checked against `compute_kpis`;
keys of figures that do not come from `compute_kpis` start with "quality.". `{name}` in a
definition is a setting (pipelines.config.Settings), filled in when it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pipelines.figures.disclosure import SUPPRESSED

Unit = Literal["count", "percent", "days", "per_100_pump_years", "pump_years", "change"]


@dataclass(frozen=True)
class Figure:
    """label and definition; unit for formatting; detail: a line shown under the figure, filled
    from the figures beside it (its own group's, then its section's)."""

    label: str
    definition: str
    unit: Unit = "count"
    detail: str = ""


_PERIOD = "in the period"
_WILSON = " With its Wilson score 95% interval."
_POISSON = " With its exact Poisson 95% interval."
_OF_BATTERIES = "of {active_pumps} active pumps with a battery"

FIGURES: dict[str, Figure] = {
    # 1. Waits
    "waits.seen": Figure(
        "Referrals seen",
        "Referrals (triage outcome not declined or redirected) whose clock stopped in the period. "
        "Clock start: the referral's received date; clock stop: the earliest attended "
        "new_assessment appointment of the referral on or after that date. A DNA does not stop "
        "the clock.",
    ),
    "waits.median_wait_days": Figure(
        "Median wait (days)",
        "Median of the seen referrals' waits (clock stop − clock start, calendar days). A median "
        "of an even count is the mean of the two middle values.",
        "days",
        "of {seen} referrals seen",
    ),
    "waits.rate_within_target": Figure(
        "Seen within the wait target",
        "Seen referrals whose wait was at most {wait_target_days} days (setting "
        "wait_target_days; 6 weeks by default) ÷ referrals seen." + _WILSON,
        "percent",
        "{within_target} of {seen} seen",
    ),
    "waits.open": Figure(
        "Open referrals",
        "Referrals in scope received on or before the as-of date (the period's end), with no "
        "clock stop on or before it, whose patient was alive at the as-of date.",
    ),
    "waits.open_over_target": Figure(
        "Open, waiting over target",
        "Open referrals that had waited more than {wait_target_days} days at the as-of date "
        "(as-of date − received date).",
        "count",
        "of {open} open referrals",
    ),
    # 2. Trials
    "trials.patients": Figure(
        "Patients trialled",
        "Patients whose first trial (test dose) is dated in the period.",
    ),
    "trials.rate": Figure(
        "Trial response rate",
        "Responders ÷ (responders + non-responders) among patients first trialled in the period. "
        "A responder has a positive trial dated on or before the period's end; a non-responder "
        "none positive and at least one negative; the rest are inconclusive and left out."
        + _WILSON,
        "percent",
        "{responders} responders, {non_responders} non-responders",
    ),
    "trials.inconclusive": Figure(
        "Inconclusive",
        "Patients first trialled in the period with no positive and no negative trial by the "
        "period's end.",
    ),
    # 3. Complications
    "complications.implanted_patients": Figure(
        "Implanted patients",
        "Patients with pump exposure in the period: an implant in situ for at least one day "
        "between the period's start and end (exposure stops at explant or death).",
    ),
    "complications.pump_years": Figure(
        "Pump-years",
        "Sum of every implant's exposure days in the period ÷ 365.25. Exposure runs from "
        "max(implant date, start) to the earliest of explant date, date of death and end + 1 day.",
        "pump_years",
    ),
    "complications.all.events": Figure(
        "Complications",
        "Complications dated in the period while the patient had a pump in situ (implant date ≤ "
        "event date ≤ explant date, or no explant), all categories.",
    ),
    "complications.all.rate_per_100_pump_years": Figure(
        "Complications per 100 pump-years",
        "Complications per 100 pump-years: counted complications ÷ pump-years × 100, all "
        "categories." + _POISSON,
        "per_100_pump_years",
        "{events} events in {pump_years:.1f} pump-years",
    ),
    "complications.all.patient_incidence": Figure(
        "Patients with a complication",
        "Distinct implanted patients with at least one counted complication ÷ implanted "
        "patients." + _WILSON,
        "percent",
        "{patients} of {implanted_patients} implanted patients",
    ),
    "complications.by_category.weight_gain.patient_incidence": Figure(
        "Weight gain (patients)",
        "Implanted patients with at least one counted weight_gain complication ÷ implanted "
        "patients." + _WILSON + " Held against the service's standard of under "
        "{weight_gain_standard:.0%} of implanted patients.",
        "percent",
        "{patients} of {implanted_patients} implanted patients",
    ),
    "complications.events_outside_exposure": Figure(
        "Outside pump exposure",
        "Complications dated in the period when the patient had no pump in situ (trial-related "
        "events, say). Shown apart; not in any rate.",
    ),
    # 4. Refills
    "refills.rate": Figure(
        "Refills on time",
        "Refills in the period with a due date that were done on or before it ÷ refills with a "
        "due date. The due date comes from the previous refill of the same pump (its next due "
        "date, or where blank its computed alarm date), or for the first refill the implant's "
        "first refill due date." + _WILSON,
        "percent",
        "{on_time} on time, {late} late",
    ),
    "refills.late": Figure("Late refills", "Refills in the period done after their due date."),
    "refills.median_days_late": Figure(
        "Median days late",
        "Median of (refill date − due date) over the late refills in the period.",
        "days",
        "of {late} late refills",
    ),
    "refills.without_due_date": Figure(
        "Refills without a due date",
        "Refills in the period with no due date to judge them by (left out of the on-time rate).",
    ),
    "refills.booked_after_alarm": Figure(
        "Booked past the alarm date",
        "Refills in the period whose next due date is after their computed alarm date: refill "
        "date + floor(min((fill volume − {alarm_volume_ml} mL) × concentration ÷ daily dose, "
        "{max_refill_interval_days})) days. A pump booked to run past its low-reservoir alarm: "
        "a safety flag.",
    ),
    "refills.residual_discrepancies": Figure(
        "Residual discrepancies",
        "Refills in the period with both residual volumes recorded and |actual − expected| > "
        "{residual_discrepancy_ml} mL (setting residual_discrepancy_ml).",
    ),
    "refills.overdue_now": Figure(
        "Overdue for a refill now",
        "Active pumps at the as-of date whose current due date (from their latest refill on or "
        "before it, or their first refill due date) is before the as-of date. A patient safety "
        "list: every pump is listed on the Refills page.",
    ),
    # 5. Battery
    "battery.active_pumps": Figure(
        "Active pumps with a battery",
        "Pumps in situ at the as-of date (implanted on or before it, not explanted by it, patient "
        "alive), of a model with a battery (models set to 0 months have none).",
    ),
    "battery.overdue": Figure(
        "Battery overdue",
        "Active pumps whose forecast ERI date is on or before the as-of date. Forecast ERI: the "
        "reported ERI date of the pump's latest refill that has one, otherwise implant date + "
        "the model's battery months (setting; {default_battery_months} by default).",
        "count",
        _OF_BATTERIES,
    ),
    "battery.due_within_182_days": Figure(
        "Due within 6 months",
        "Active pumps whose forecast ERI date is 1 to 182 days after the as-of date.",
        "count",
        _OF_BATTERIES,
    ),
    "battery.due_within_365_days": Figure(
        "Due within 12 months",
        "Active pumps whose forecast ERI date is 1 to 365 days after the as-of date (including "
        "those due within 6 months).",
        "count",
        _OF_BATTERIES,
    ),
    # 6. Activity
    "activity.referrals_received": Figure(
        "Referrals received",
        "Referrals received in the period, whatever their triage outcome.",
    ),
    "activity.new_assessments_attended": Figure(
        "New assessments attended",
        "Attended appointments of type new_assessment in the period.",
    ),
    "activity.trials": Figure(
        "Trials (test doses)", "Trials dated in the period (trials, not patients)."
    ),
    "activity.new_implants": Figure(
        "New implants", "Implants with procedure new_implant in the period."
    ),
    "activity.replacements": Figure(
        "Replacement implants",
        "Implants with procedure replacement in the period (for any reason).",
    ),
    "activity.refills": Figure("Refills done", "Refills dated in the period."),
    "activity.dna_rate": Figure(
        "Appointment DNA rate",
        "Appointments (every type) in the period with status dna ÷ (attended + dna); cancelled "
        "appointments are in neither." + _WILSON,
        "percent",
        "{appointments_dna} DNAs, {appointments_attended} attended",
    ),
    # Data quality (not from compute_kpis)
    "quality.sites_loaded": Figure(
        "Sites loaded", "Sites with a current load: the snapshot every figure is computed from."
    ),
    "quality.rows_accepted": Figure(
        "Rows accepted (current loads)",
        "Rows of the current loads that passed every rule of the data contract.",
    ),
    "quality.rows_quarantined": Figure(
        "Rows quarantined (current loads)",
        "Rows that broke a rule of the data contract. They are kept with every reason and left "
        "out of every figure.",
    ),
}

MEASURE_NAMES = {
    "mas": "MAS",
    "penn_spasm_frequency": "Penn spasms",
    "pain_nrs": "Pain (NRS)",
    "gas_t_score": "GAS T-score",
    "weight_kg": "Weight (kg)",
}
MEASURE_DESCRIPTIONS = {
    "mas": "Modified Ashworth Scale (0–4; an ordinal grade recorded as a number)",
    "penn_spasm_frequency": "Penn Spasm Frequency Scale (0–4)",
    "pain_nrs": "pain numeric rating scale (0–10)",
    "gas_t_score": "Goal Attainment Scaling T-score (50 = goals met as expected)",
    "weight_kg": "weight in kg",
}
# The two outcome cohorts of docs/figures.md §7 (one SQL, queries/marts/outcomes.sql): the
# label's suffix (labels are unique) and who is in it.
_COHORTS = {
    "outcomes": ("", "patients first implanted (new_implant) in the period"),
    "outcomes_12m": (
        ", review due",
        "patients whose one-year review falls due in the period "
        "(first new_implant + 365 days in the period)",
    ),
}
for _cohort, (_suffix, _who) in _COHORTS.items():
    for _measure, _name in MEASURE_NAMES.items():
        FIGURES[f"{_cohort}.{_measure}.mean_change"] = Figure(
            _name + _suffix,
            f"Mean change, baseline to 12 months, in the {MEASURE_DESCRIPTIONS[_measure]}: the "
            f"mean of each patient's (12-month value − baseline), over {_who} who have both. "
            "Baseline: the latest value in the 180 days up to and including the implant date; "
            "12-month value: the one closest to implant date + 365 days within ±90 days and on "
            "or before the as-of date (ties: the earlier).",
            "change",
            "{baseline_mean:.2f} → {followup_mean:.2f}; n = {patients_paired} of "
            "{patients_due} due",
        )

# Texts beside charts and tables (not single figures).
# The default standards' names in words (a service's own standard is named by its key).
STANDARD_LABELS = {
    "seen_within_target": "Seen within the wait target",
    "refills_on_time": "Refills on time",
    "weight_gain": "Weight gain (patients)",
    "no_pump_overdue": "No pump overdue for a refill",
}


def standard_label(name: str) -> str:
    return STANDARD_LABELS.get(name, name.replace("_", " ").capitalize())


NOTES: dict[str, str] = {
    "freshness": "Each site's current load: when it finished and the extract's as-of date. "
    "Figures are as at the period's end; a period ending after a site's as-of date has no data "
    "for that site beyond it. Rows quarantined broke a rule of the data contract: they are kept "
    "with their reasons and left out of every figure.",
    "standards": "A standard is judged by the figure's 95% interval, never by the point alone: "
    "met when the whole interval is on the right side of the standard, not met when the whole "
    "interval is on the wrong side, otherwise not shown (the data cannot tell).",
    "comparisons": "Each headline figure beside the previous period of the same length (as many "
    "calendar months when the period is whole months, else as many days) and, for a period "
    "shorter than a year, the same dates a year earlier, each computed exactly as the headline. "
    "A difference of two proportions has Newcombe's hybrid score 95% interval; a ratio of two "
    "rates (per pump-year, or a count of activity per day) the exact conditional 95% interval. "
    "Higher or lower when the interval excludes no change, otherwise no evidence of a change. "
    "Medians and counts at the period's end are given with their change, untested.",
    "summary.changes": "Only the headline figures whose change's 95% interval excludes no "
    "change (for figures shown suppressed, the exact interval's verdict). Every headline "
    "figure's comparison is under Comparisons with earlier periods (on the Overview, beside "
    "each figure).",
    "summary.safety": "Counts at the period's end (a pump overdue for a refill, a battery past "
    "its forecast ERI date) and in the period (refills booked to run past the low-reservoir "
    "alarm). For the clinician and governance roles, each pump is listed under Refills or "
    "Pump batteries.",
    "audits.since": "Each headline figure of this period beside the figure recorded at the "
    "last audit: the most recently recorded audit of the same scope (the same site, or all "
    "sites) whose period ended before this one ends. The recorded figure is the one presented "
    "then, from the loads it names, even where a later load corrected the data; compared as "
    "the earlier periods are (Newcombe's interval for a difference of two proportions, the "
    "exact interval for a ratio of two rates, untested for medians and counts at a date).",
    "audits.actions": "The actions agreed at the last audit, as they stand now. Overdue: not done "
    "or dropped, and past its due date on the day this was made.",
    "audits.recorded": "Every audit recorded: its period, scope, the load of each site it was "
    "computed from, and the SHA-256 of the governance pack made when it was recorded.",
    "waits.standard": "Held against the standard of at least {wait_standard:.0%} seen within "
    "{wait_target_days} days (setting wait_standard: the national RTT standard's share, the "
    "nearest published analogue; this local clock, referral received to first attended "
    "appointment, is not the RTT clock), judged by the 95% interval.",
    "refills.standard": "Held against the service's standards: at least {refill_standard:.0%} of "
    "refills on time (setting refill_standard), judged by the 95% interval, and no pump overdue "
    "for a refill at the as-of date.",
    "waits.distribution": "Waits of the referrals seen in the period (clock stop − clock start, "
    "days). The line marks the wait target of {wait_target_days} days.",
    "waits.spc": "Making Data Count p-chart of the monthly share of seen referrals seen within "
    "{wait_target_days} days, for each calendar month wholly inside the period (each month's "
    "figure exactly as the headline's for a period of that month). "
    "Limits: p̄ ± 3·√(p̄(1−p̄)/n) from the first 12 months; special causes: a point outside the "
    "limits, 7 in a row on one side of the mean, 7 rising or falling, or 2 of 3 near a limit. "
    "Months with no one seen are gaps: the line breaks there, and a gap still counts as one of "
    "the first 12 months.",
    "waits.by_source": "Referrals seen in the period by referral source: the same figures as "
    "the headline, per source.",
    "waits.open_list": "Referrals open at the as-of date (the period's end), longest wait first. "
    "Those open longer than stale_referral_days are listed apart, to validate.",
    "waits.dna": "Appointments of every type with status dna, per calendar month wholly inside "
    "the period; the headline DNA rate is dna ÷ (attended + dna) over the whole period.",
    "trials.by_condition": "Trial response rate of patients first trialled in the period, by "
    "primary condition, with Wilson 95% intervals. Published responder proportions: 97% "
    "(spinal origin) and 94% (cerebral origin) (Penn 1992; Gilmartin 2000).",
    "trials.by_dose": "Every trial dated in the period, by test dose: positive ÷ (positive + "
    "negative) with Wilson 95% intervals; inconclusive trials are in neither. A patient given "
    "50 mcg, then 75 mcg, counts once at each dose, so a later dose's rate is among those who "
    "did not respond to a lower one.",
    "trials.pathway": "Patients whose first referral was received in the period, and how many "
    "of them reached each later step (the first attended new assessment, first trial, first new "
    "implant on or after the referral) by the as-of date. Recent referrals have had less time to "
    "move on. Times are medians over patients with both steps dated.",
    "complications.by_category": "Per category: patients with a counted complication ÷ implanted "
    "patients (Wilson 95% interval), and counted complications per 100 pump-years (exact "
    "Poisson 95% interval). Grey bands and marks: published figures (domain notes). Published "
    "per-patient figures cover years of follow-up (means of 3.6 to 8.6 years, or series of 11 "
    "and 20 years; the table of published figures gives each), so a one-year period's "
    "per-patient incidence is expected to be lower; per pump-year figures are comparable.",
    "complications.km": "Kaplan–Meier: the share of implants (every implant up to the as-of "
    "date, new or replacement) still free of a first complication of that category while in "
    "situ, by years since implant, with log-log 95% intervals. Follow-up ends at the event, or "
    "is censored at explant, death or the as-of date.",
    "complications.outside": "Complications dated in the period when the patient had no pump in "
    "situ. They are in no rate above.",
    "complications.cases": "Every complication dated in the period, one row each, earliest "
    "first. Days since implant: the event's date − the implant date of the pump the event names "
    "(its implant id), blank when it names none; a negative number is an event dated before "
    "that pump's implant, a record to check. In pump exposure: the patient had a pump in situ "
    "that day; only those events are in the rates above.",
    "complications.breakdowns": "Every complication dated in the period (the case list's rows: "
    "the complications above plus those outside pump exposure), by severity, by whether it "
    "needed surgery, and by days since the implant of the pump it names: ≤ 30 days (0–30, day "
    "30 included), ≤ 1 year (31–365, day 365 included), later (366 on); events dated before "
    "their pump's implant, and events that name no pump, apart. Patients: distinct patients "
    "with at least one such event.",
    "complications.published": "The published figures drawn as grey bands above, each with the "
    "follow-up its source reports (domain notes). Per-patient figures grow with follow-up, so a "
    "one-year period is expected to be lower than a series followed for years; figures per "
    "pump-year allow for it.",
    "complications.funnel": "Each site's complications per 100 pump-years against its pump-years, "
    "with 95% and 99.8% exact Poisson limits around the all-sites rate. A site outside the "
    "limits differs by more than chance would explain.",
    "refills.overdue_list": "Active pumps at the as-of date whose current due date is before it, "
    "most overdue first. Contact these patients.",
    "refills.spc": "Making Data Count p-chart of the monthly share of refills on time, for each "
    "calendar month wholly inside the period (each month's figure exactly as the headline's for "
    "a period of that month). Limits: p̄ ± 3·√(p̄(1−p̄)/n) from the first 12 months; special "
    "causes as on the waits chart.",
    "refills.lateness": "Days late (refill date − due date) of the late refills in the period.",
    "refills.discrepancies": "Refills in the period whose actual residual volume differs from the "
    "expected by more than {residual_discrepancy_ml} mL. Investigate and trend (ASRA 2017).",
    "refills.after_alarm": "Refills in the period booked (next due date) after their computed "
    "alarm date.",
    "battery.by_quarter": "Nominal forecast: active pumps whose forecast ERI date (the latest "
    "reported ERI date, else implant date + the model's nominal battery months) falls in each of "
    "the next 8 calendar quarters after the as-of date's quarter (for theatre planning). A "
    "SynchroMed II stops 90 days after its ERI alarm; schedule replacement well before.",
    "battery.observed_forecast": "Observed-life forecast: battery replacements expected in each "
    "of the next 8 quarters from each pump model's observed service life (the Kaplan–Meier "
    "curve of explants for battery end of life), for models with at least "
    "{min_battery_explants} such explants. Each active pump contributes its probability of "
    "reaching battery end of life in the quarter given its age now; the bar is their sum and the "
    "whisker a 95% prediction interval of the count (a Poisson-binomial sum; it assumes the "
    "curve is right). It counts explants, which come after the ERI alarm, so it runs later than "
    "the nominal forecast's ERI dates.",
    "battery.due_182": "Active pumps with a battery whose forecast ERI date is on or before the "
    "as-of date or within 182 days of it, soonest first: the replacements to plan now.",
    "battery.due_list": "Active pumps with a battery whose forecast ERI date is overdue or within "
    "12 months of the as-of date, soonest first.",
    "battery.medians": "A blank median: fewer than half the pumps of that model have reached "
    "battery end of life yet, so the median is not known.",
    "battery.service_life": "Kaplan–Meier by pump model: the share of pumps not yet explanted for "
    "battery end of life, by years since implant (every implant up to the as-of date; other "
    "explants, deaths and pumps still in situ are censored). Models without a battery are left "
    "out. A model is one model whatever the case or spacing of its name, shown by its most "
    "frequent spelling. Median: the first time the curve is at or below 50% (where it stays at "
    "exactly 50%, the midpoint of that flat, as R's survfit); its 95% interval: where each "
    "bound of the band reaches 50% (blank: not reached).",
    "outcomes.cohort_12m": "12-month outcomes reported in the period: patients whose first new "
    "implant + 365 days falls in the period (their one-year review is due in it). Baseline: the "
    "latest value in the 180 days up to and including the implant date; 12-month value: the "
    "closest to implant + 365 days within ±90 days and on or before the period's end (of two "
    "equally close, the earlier). Patients due is the whole cohort; with a baseline, with a "
    "12-month value and paired (both) say how complete each measure is. Changes are follow-up − "
    "baseline, with a 95% t interval of the mean change.",
    "outcomes.cohort": "Patients whose first new implant is in the period, with a baseline and a "
    "12-month value of a measure (as the headline figures). Changes are follow-up − baseline, "
    "with a 95% t interval of the mean change. MAS is an ordinal grade recorded as a number; "
    "its mean is a summary, not a measurement.",
    "quality.expectations": "Every expectation of the current loads: rows checked (denominator) "
    "and rows that passed (numerator). The pass rate is judged here against the threshold you "
    "choose, without re-running the validation.",
    "quality.quarantine": "Rows of the current loads that broke a rule, with every reason. They "
    "are left out of every figure; fix them at source (file and row given) and reload.",
    "quality.loads": "Every load, newest first; the current one per site is marked.",
}

# Published complication figures (domain notes section 3), for reference bands and the table of
# published figures: (category or "all", measure, low, high, source, follow-up). A per-patient
# figure grows with follow-up, so each is labelled with the follow-up its source reports.
PUBLISHED_COMPLICATIONS: list[tuple[str, str, float, float, str, str]] = [
    (
        "all",
        "per_100_pump_years",
        7.4,
        7.4,
        "Benedičič et al. 2023: 0.074 per pump-year",
        "138 patients over 20 years",
    ),
    (
        "catheter",
        "per_100_pump_years",
        3.0,
        3.0,
        "Benedičič et al. 2023: catheter 0.030 per pump-year",
        "138 patients over 20 years",
    ),
    (
        "wound",
        "per_100_pump_years",
        2.3,
        2.3,
        "Benedičič et al. 2023: skin 0.023 per pump-year",
        "138 patients over 20 years",
    ),
    (
        "pump_malfunction",
        "per_100_pump_years",
        0.9,
        0.9,
        "Benedičič et al. 2023: pump 0.009 per pump-year",
        "138 patients over 20 years",
    ),
    (
        "all",
        "patient_incidence",
        0.25,
        0.27,
        "Pucks-Faes et al. 2018 (25%); Benedičič et al. 2023 (27%)",
        "Pucks-Faes: patients treated 2006–2016 (no mean follow-up given); "
        "Benedičič: 138 patients over 20 years",
    ),
    (
        "catheter",
        "patient_incidence",
        0.056,
        0.151,
        "Feller et al. 2021 (5.6%, adults); Motta & Antonello 2014 (15.1%, children)",
        "Feller: mean 43 months; Motta & Antonello: mean 8.6 years",
    ),
    (
        "infection",
        "patient_incidence",
        0.093,
        0.146,
        "Motta & Antonello 2014 (9.3%); Imerci et al. 2019 (14.6% of patients)",
        "Motta & Antonello: mean 8.6 years; Imerci: mean 6.3 years",
    ),
    (
        "csf_leak",
        "patient_incidence",
        0.049,
        0.249,
        "Motta & Antonello 2014 (4.9%); Imerci et al. 2019 (24.9% of patients)",
        "Motta & Antonello: mean 8.6 years; Imerci: mean 6.3 years",
    ),
    (
        "pump_malfunction",
        "patient_incidence",
        0.01,
        0.01,
        "Motta & Antonello 2014 (1%)",
        "mean 8.6 years",
    ),
]

# Names on screen for codes that capitalising would garble; other codes read as words.
# Quarantine reason codes (expectations/suites.py) as words.
REASON_NAMES = {
    "after_as_of": "After the extract date",
    "after_death": "After the patient's death",
    "bad_boolean": "Not yes or no",
    "bad_code": "Not an allowed code",
    "bad_nhs_number": "Invalid NHS number",
    "bad_postcode": "Invalid postcode",
    "before_birth": "Before the patient's birth",
    "date_order": "Dates in the wrong order",
    "duplicate_key": "Duplicate id",
    "duplicate_nhs_number": "Duplicate NHS number",
    "exceeds_reservoir": "More than the reservoir holds",
    "missing_required": "Required value missing",
    "out_of_range": "Out of range",
    "outside_pump_dates": "Outside the pump's dates",
    "pump_overlap": "Overlapping pumps",
    "quarantined_parent": "Its parent row is quarantined",
    "reference_mismatch": "Does not match the row it refers to",
    "unknown_reference": "Refers to an unknown row",
}
CODE_NAMES = {
    **REASON_NAMES,
    "all": "All complications",
    "csf_leak": "CSF leak",
    "gp_ers": "GP (e-RS)",
    "dna": "DNA",
    "bolus_lumbar_puncture": "Bolus (lumbar puncture)",
    # time since the implant of the event's pump (queries/marts/complication_events.sql)
    "up_to_30_days": "≤ 30 days (days 0–30)",
    "up_to_1_year": "≤ 1 year (days 31–365)",
    "over_1_year": "Later (over 365 days)",
    "before_implant": "Before its pump's implant date",
    "no_pump_recorded": "No pump recorded",
    "surgery_needed": "Surgery needed",
    "no_surgery": "No surgery",
    **MEASURE_NAMES,
}


def label(code: object) -> str:
    """A code as words: 'multiple_sclerosis' -> 'Multiple sclerosis'."""
    if code is None or code != code:  # None or NaN
        return "Not recorded"
    text = str(code)
    return CODE_NAMES.get(text, text.replace("_", " ").capitalize())


# Units of the figures that have no entry in FIGURES (they sit beside a headline figure).
NAME_UNITS = {
    "rate": "percent",
    "rate_within_target": "percent",
    "patient_incidence": "percent",
    "dna_rate": "percent",
    "weight_gain_standard": "percent",
    "rate_per_100_pump_years": "per_100_pump_years",
    "pump_years": "pump_years",
    "mean_wait_days": "days",
    "median_wait_days": "days",
    "median_days_late": "days",
    "baseline_mean": "mean",
    "followup_mean": "mean",
    "mean_change": "change",
    # columns of the pack's other tables
    "share_of_referred": "percent",
    "pass_rate": "percent",
}


def unit_of(key: str, value: Any = None) -> str:
    """The unit of a figure of the kpis JSON, by its dotted path."""
    if key in FIGURES:
        return FIGURES[key].unit
    name = key.rsplit(".", 1)[-1]
    if name.endswith("_note"):  # why a rate is suppressed or how it is rounded
        return "note"
    return NAME_UNITS.get(
        name, "count" if isinstance(value, int) or value == SUPPRESSED else "mean"
    )
