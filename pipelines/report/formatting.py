"""How the audit pack writes a figure: units, labels and text, the same way for every format.

A figure's unit and label come from pipelines/show/definitions.py where the figure is defined there
(the headline figures); the figures beside them in the JSON (a group's counts, a mean) get a
unit by name here. A suppressed figure ("*") is written as it is.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from typing import Any

import pandas as pd

from pipelines.show.definitions import FIGURES, NAME_UNITS, label
from pipelines.show.display import day_text, fmt, number_text

UNIT_NAMES = {
    "count": "count",
    "percent": "percent",
    "days": "days",
    "per_100_pump_years": "per 100 pump-years",
    "pump_years": "pump-years",
    "change": "mean change",
    "mean": "mean",
    "note": "note",
}
NAME_LABELS = {
    "mean_wait_days": "Mean wait (days)",
    "within_target": "Referrals seen within target",
    "non_responders": "Non-responders",
    "on_time": "Refills done on time",
    "pumps_without_battery": "Active pumps without a battery (left out)",
    "appointments_attended": "Appointments attended",
    "appointments_dna": "Appointments not attended (DNA)",
    "patient_incidence": "Patients with a complication",
    "rate_per_100_pump_years": "Per 100 pump-years",
    "patients_due": "Patients due",
    "patients_with_baseline": "With a baseline",
    "patients_with_followup": "With a 12-month value",
    "patients_paired": "Patients paired (both values)",
    "baseline_mean": "Baseline mean",
    "followup_mean": "12-month mean",
    "mean_change": "Mean change",
    "rate": "Response rate",
}
# Every abbreviation the pack, the workbook or the dashboard uses, spelled out (the pack's last
# section and the workbook's Glossary sheet).
GLOSSARY = {
    "CI": "Confidence interval: here always the 95% interval of a figure or of a change.",
    "CSF": "Cerebrospinal fluid (a CSF leak is a complication category).",
    "DNA": "Did not attend: an appointment the patient missed without notice.",
    "ERI": "Elective replacement indicator: the date a pump's battery is due to be replaced.",
    "GAS": "Goal Attainment Scaling (outcome measure; reported as a T-score).",
    "ITB": "Intrathecal baclofen: baclofen delivered by an implanted pump into the spinal fluid.",
    "MAS": "Modified Ashworth Scale (spasticity outcome measure).",
    "mcg": "Micrograms (a trial or test dose).",
    "mL": "Millilitres (pump reservoir and residual volumes).",
    "NRS": "Numeric rating scale (pain, 0 to 10).",
    "Penn": "Penn Spasm Frequency Scale (outcome measure).",
    "PSN": "Pseudonym: the stable, keyed patient code a governance pack shows for a local id.",
    "pts": "Percentage points: the difference between two percentages.",
    "SPC": "Statistical process control (Making Data Count charts with process limits).",
}


def label_of(key: str) -> str:
    """A figure's label: its definition's, else by its name in its group."""
    return FIGURES[key].label if key in FIGURES else name_label(key.rsplit(".", 1)[-1])


def name_label(name: str) -> str:
    return NAME_LABELS.get(name, label(name))


def cell(value: Any, column: str) -> str:
    """A value of a table column as text: a column named as a figure in that figure's unit
    (a proportion as a percentage), dates as dates."""
    if value is None or pd.isna(value):  # None, NaN, NA, NaT
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime) and value.time() != dt.time(0):
        return f"{day_text(value)} {value:%H:%M}"
    if isinstance(value, dt.date):
        return day_text(value)
    unit = NAME_UNITS.get(re.sub(r"_ci_(low|high)$", "", column))
    if unit or isinstance(value, numbers.Integral):
        return fmt(value, unit or "count")
    if isinstance(value, numbers.Real):
        return number_text(float(value))
    return str(value)
