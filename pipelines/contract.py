"""The clinic extract contract (docs/contract.md) as data.

One definition of every table, column, type, code list and range. The reader, the normaliser,
the Great Expectations suites, the warehouse DDL checks and the synthetic generator all read it,
so a rule changes in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "date", "code", "number", "boolean", "nhs_number", "postcode"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    codes: tuple[str, ...] = ()
    # Accepted spellings of a code beyond the canonical ones (after normalisation).
    aliases: dict[str, str] = field(default_factory=dict)
    # Blank means this code (triage_outcome: blank = pending).
    blank_means: str | None = None
    # Numeric range: (low, low_inclusive, high, high_inclusive); None for no bound.
    low: float | None = None
    low_inclusive: bool = True
    high: float | None = None
    high_inclusive: bool = True
    allowed_numbers: tuple[float, ...] = ()
    # A planned or forecast date may lie after the extract's as-of date.
    planned: bool = False
    # (table, column) this column refers to.
    references: tuple[str, str] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    # The date column that places the row in time (for the birth/death/as-of rules).
    event_date: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _patient_ref() -> Column:
    return Column("patient_id", "text", required=True, references=("patients", "patient_id"))


# Boolean spellings, compared after trimming and lower-casing.
BOOLEAN_TRUE = ("yes", "y", "true", "1")
BOOLEAN_FALSE = ("no", "n", "false", "0")

SEX = ("male", "female", "other", "unknown")
CONDITIONS = (
    "multiple_sclerosis",
    "cerebral_palsy",
    "spinal_cord_injury",
    "acquired_brain_injury",
    "stroke",
    "hereditary_spastic_paraparesis",
    "other",
)
TONE_PATTERNS = ("spasticity", "dystonia", "mixed")
REFERRAL_SOURCES = ("gp_ers", "consultant", "other_hospital", "other")
TRIAGE_OUTCOMES = ("accepted", "redirected", "declined", "pending")
APPOINTMENT_TYPES = ("new_assessment", "follow_up", "trial", "refill", "emergency", "other")
APPOINTMENT_STATUSES = ("attended", "dna", "patient_cancelled", "hospital_cancelled")
TRIAL_METHODS = ("bolus_lumbar_puncture", "continuous_catheter")
TRIAL_OUTCOMES = ("positive", "negative", "inconclusive")
PROCEDURES = ("new_implant", "replacement")
EXPLANT_REASONS = (
    "battery_end_of_life",
    "infection",
    "malfunction",
    "patient_choice",
    "death",
    "other",
)
COMPLICATION_CATEGORIES = (
    "catheter",
    "infection",
    "weight_gain",
    "csf_leak",
    "withdrawal",
    "overdose",
    "pharmacological",
    "pump_malfunction",
    "wound",
    "other",
)
RELATED_TO = ("trial", "implantation", "refill", "device", "dosing", "unknown")
SEVERITIES = ("mild", "moderate", "severe")
# measure -> (low, high), both inclusive.
MEASURE_RANGES: dict[str, tuple[float, float]] = {
    "mas": (0, 4),
    "penn_spasm_frequency": (0, 4),
    "pain_nrs": (0, 10),
    "gas_t_score": (10, 90),
    "weight_kg": (1, 300),
}
MEASURES = tuple(MEASURE_RANGES)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "patients",
            (
                Column("patient_id", "text", required=True),
                Column("nhs_number", "nhs_number"),
                Column("date_of_birth", "date", required=True),
                Column(
                    "sex",
                    "code",
                    required=True,
                    codes=SEX,
                    aliases={"m": "male", "f": "female", "o": "other", "u": "unknown"},
                ),
                Column("primary_condition", "code", required=True, codes=CONDITIONS),
                Column("tone_pattern", "code", codes=TONE_PATTERNS),
                Column("postcode", "postcode"),
                Column("date_of_death", "date"),
            ),
            key=("patient_id",),
        ),
        Table(
            "referrals",
            (
                Column("referral_id", "text", required=True),
                _patient_ref(),
                Column("received_date", "date", required=True),
                Column("source", "code", required=True, codes=REFERRAL_SOURCES),
                Column("triage_outcome", "code", codes=TRIAGE_OUTCOMES, blank_means="pending"),
                Column("triage_date", "date"),
            ),
            key=("referral_id",),
            event_date="received_date",
        ),
        Table(
            "appointments",
            (
                Column("appointment_id", "text", required=True),
                _patient_ref(),
                Column("referral_id", "text", references=("referrals", "referral_id")),
                Column("appointment_date", "date", required=True),
                Column("type", "code", required=True, codes=APPOINTMENT_TYPES),
                Column("status", "code", required=True, codes=APPOINTMENT_STATUSES),
            ),
            key=("appointment_id",),
            event_date="appointment_date",
        ),
        Table(
            "trials",
            (
                Column("trial_id", "text", required=True),
                _patient_ref(),
                Column("trial_date", "date", required=True),
                Column("method", "code", codes=TRIAL_METHODS),
                Column("dose_mcg", "number", low=0, low_inclusive=False, high=1000),
                Column("outcome", "code", required=True, codes=TRIAL_OUTCOMES),
            ),
            key=("trial_id",),
            event_date="trial_date",
        ),
        Table(
            "implants",
            (
                Column("implant_id", "text", required=True),
                _patient_ref(),
                Column("implant_date", "date", required=True),
                Column("procedure", "code", required=True, codes=PROCEDURES),
                Column("pump_model", "text", required=True),
                Column("reservoir_ml", "number", required=True, allowed_numbers=(20.0, 40.0)),
                Column("first_refill_due_date", "date", planned=True),
                Column("explant_date", "date"),
                Column("explant_reason", "code", codes=EXPLANT_REASONS),
            ),
            key=("implant_id",),
            event_date="implant_date",
        ),
        Table(
            "refills",
            (
                Column("refill_id", "text", required=True),
                _patient_ref(),
                Column("implant_id", "text", required=True, references=("implants", "implant_id")),
                Column("refill_date", "date", required=True),
                Column("expected_residual_ml", "number", low=0),
                Column("actual_residual_ml", "number", low=0),
                Column("fill_volume_ml", "number", required=True, low=0, low_inclusive=False),
                Column(
                    "concentration_mcg_per_ml",
                    "number",
                    required=True,
                    low=0,
                    low_inclusive=False,
                    high=4000,
                ),
                Column(
                    "daily_dose_mcg", "number", required=True, low=0, low_inclusive=False, high=3000
                ),
                Column("next_due_date", "date", planned=True),
                Column("reported_eri_date", "date", planned=True),
            ),
            key=("refill_id",),
            event_date="refill_date",
        ),
        Table(
            "complications",
            (
                Column("complication_id", "text", required=True),
                _patient_ref(),
                Column("implant_id", "text", references=("implants", "implant_id")),
                Column("event_date", "date", required=True),
                Column("category", "code", required=True, codes=COMPLICATION_CATEGORIES),
                Column("subtype", "text"),
                Column("related_to", "code", codes=RELATED_TO),
                Column("severity", "code", codes=SEVERITIES),
                Column("required_surgery", "boolean"),
                Column("description", "text"),
            ),
            key=("complication_id",),
            event_date="event_date",
        ),
        Table(
            "outcomes",
            (
                _patient_ref(),
                Column("assessment_date", "date", required=True),
                Column("measure", "code", required=True, codes=MEASURES),
                Column("value", "number", required=True),
            ),
            key=("patient_id", "assessment_date", "measure"),
            required=False,
            event_date="assessment_date",
        ),
    )
}

# Parents before children: the order in which quarantine cascades.
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

# (table, earlier column, later column, strict): within-row date orders of the contract.
# strict=True means "after" (later > earlier); False means "on or after".
DATE_ORDERS: tuple[tuple[str, str, str, bool], ...] = (
    ("patients", "date_of_birth", "date_of_death", False),
    ("referrals", "received_date", "triage_date", False),
    ("implants", "implant_date", "first_refill_due_date", True),
    ("implants", "implant_date", "explant_date", False),
    ("refills", "refill_date", "next_due_date", True),
)

# Columns the loader adds to every checked frame beside the contract's, for the row rules: a
# workbook row's error cells in contract columns, as "event_date #DIV/0!, subtype #N/A" (null
# when none; pipelines/load/read.py), and whether any contract column holds a value (a row
# may hold text only in extra columns; pipelines/load/normalise.py).
CELL_ERRORS = "cell_errors"
HAS_VALUES = "has_values"
