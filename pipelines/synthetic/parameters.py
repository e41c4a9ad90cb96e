"""The synthetic service's parameters: its case mix, its practice, its complication rates and
outcome measures, and the random draws that sample them (one Draws over a seeded numpy Generator,
so the same seed gives the same service)."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.config import Settings

YEAR = 365.25
SERVICE_YEARS = 12
_DEFAULTS = Settings()  # the spec's defaults: alarm volume 2 mL, 180-day interval cap
ALARM_ML = _DEFAULTS.alarm_volume_ml
MAX_INTERVAL_DAYS = _DEFAULTS.max_refill_interval_days

# --- Random draws --------------------------------------------------------------------------------


class Weighted:
    """Options with relative weights, drawn by Draws.pick."""

    def __init__(self, weights: dict[Any, float]):
        self.options = list(weights)
        total = sum(weights.values())
        self.cumulative = list(itertools.accumulate(w / total for w in weights.values()))
        self.cumulative[-1] = 1.0  # no rounding gap above the last option


class Draws:
    """Scalar random draws served from blocks of a numpy Generator.

    The pathway makes millions of single draws and numpy's per-call cost would dominate, so
    uniforms and normals are drawn 64k at a time and handed out one by one.
    """

    BLOCK = 1 << 16

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._uniforms: list[float] = []
        self._normals: list[float] = []

    def random(self) -> float:
        if not self._uniforms:
            self._uniforms = self._rng.random(self.BLOCK).tolist()
        return self._uniforms.pop()

    def normal(self, mean: float = 0.0, sd: float = 1.0) -> float:
        if not self._normals:
            self._normals = self._rng.standard_normal(self.BLOCK).tolist()
        return mean + sd * self._normals.pop()

    def chance(self, p: float) -> bool:
        return self.random() < p

    def integer(self, low: int, high: int) -> int:
        """A whole number from low to high, both inclusive."""
        return low + int(self.random() * (high - low + 1))

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.random())

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.normal(0.0, sigma))

    def pick(self, weighted: Weighted) -> Any:
        return weighted.options[bisect.bisect_right(weighted.cumulative, self.random())]


# --- The service's case mix and practice ---------------------------------------------------------

CONDITION_MIX = Weighted(
    {
        "multiple_sclerosis": 30,
        "cerebral_palsy": 25,
        "spinal_cord_injury": 17,
        "acquired_brain_injury": 10,
        "stroke": 7,
        "hereditary_spastic_paraparesis": 5,
        "other": 6,
    }
)
# Age at referral in years: (mean, sd, low, high). Most cerebral palsy referrals are children;
# CP_CHILD is used for them and the row below for the young adults.
AGE_AT_REFERRAL = {
    "multiple_sclerosis": (50, 9, 30, 70),
    "cerebral_palsy": (24, 5, 18, 40),
    "spinal_cord_injury": (42, 14, 16, 80),
    "acquired_brain_injury": (40, 15, 10, 80),
    "stroke": (60, 12, 25, 85),
    "hereditary_spastic_paraparesis": (42, 14, 12, 75),
    "other": (40, 20, 4, 85),
}
CP_CHILD = (9, 4, 3, 17)
CP_CHILD_SHARE = 0.6
MALE_SHARE = {
    "multiple_sclerosis": 0.28,
    "cerebral_palsy": 0.56,
    "spinal_cord_injury": 0.8,
    "acquired_brain_injury": 0.7,
    "stroke": 0.55,
    "hereditary_spastic_paraparesis": 0.5,
    "other": 0.5,
}
TONE_MIX = {
    "cerebral_palsy": Weighted({"spasticity": 55, "dystonia": 20, "mixed": 25}),
    "acquired_brain_injury": Weighted({"spasticity": 60, "dystonia": 15, "mixed": 25}),
}
TONE_DEFAULT = Weighted({"spasticity": 90, "dystonia": 2, "mixed": 8})

# Outward codes around a Leeds-based regional service, with a few from further away:
# (area, first district, last district).
POSTCODE_AREAS = Weighted(
    {
        ("LS", 1, 29): 40,
        ("WF", 1, 17): 15,
        ("BD", 1, 24): 15,
        ("HD", 1, 9): 7,
        ("HX", 1, 7): 5,
        ("HG", 1, 5): 5,
        ("YO", 10, 32): 5,
        ("S", 1, 36): 3,
        ("DN", 1, 22): 3,
        ("M", 1, 40): 1,
        ("SE", 1, 28): 1,
    }
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters used in inward codes

SOURCE_MIX = Weighted({"gp_ers": 40, "consultant": 35, "other_hospital": 20, "other": 5})
TRIAGE_MIX = Weighted({"accepted": 87, "declined": 7, "redirected": 6})
CLINIC_STATUS = Weighted(
    {"attended": 82, "dna": 8, "patient_cancelled": 5, "hospital_cancelled": 5}
)
REVIEW_STATUS = Weighted(
    {"attended": 88, "dna": 6, "patient_cancelled": 3, "hospital_cancelled": 3}
)
MISSED_REFILL_STATUS = Weighted({"dna": 60, "patient_cancelled": 25, "hospital_cancelled": 15})
MAX_BOOKINGS = 4  # after three missed or cancelled slots the next one is attended
NOT_POSITIVE = Weighted({"negative": 90, "inconclusive": 10})
# Chance that each step of the 50/75/100 mcg escalation is positive, given the last was not:
# about 93% of patients respond by the third dose.
BOLUS_RESPONSE = (0.62, 0.6, 0.55)
TRIAL_COMPLICATION_CHANCE = 0.02  # per test dose
CATHETER_TRIAL_DOSES = Weighted({50: 30, 75: 25, 100: 30, 150: 15})  # mcg/day
TRIAL_HARMS = Weighted({"csf_leak": 50, "pharmacological": 35, "overdose": 15})

PUMP_MODELS = Weighted({"SynchroMed II": 84, "Prometra II": 12, "Codman 3000": 4})
BATTERY_MODELS = frozenset({"SynchroMed II", "Prometra II"})  # Codman 3000 is gas-driven
BATTERY_MONTHS = (60, 84)  # 5-7 years to the elective replacement indicator
ELECTIVE_EXPLANT_RATE = 0.006  # per pump-year: the patient's choice, or other reasons

MAS_GRADES = (0.0, 1.0, 1.5, 2.0, 3.0, 4.0)  # 1+ coded as 1.5
MAS_BASELINE = Weighted({2: 5, 3: 15, 4: 45, 5: 35})  # an index into MAS_GRADES
PENN_BASELINE = Weighted({2: 15, 3: 45, 4: 40})
IMPROVEMENT = Weighted({0: 15, 1: 35, 2: 35, 3: 15})  # grades better a year after implant
GAS_BASELINE = Weighted({-1: 85, -2: 15})
GAS_FOLLOW_UP = Weighted({-2: 5, -1: 20, 0: 45, 1: 20, 2: 10})
MEASURE_SHARE = {
    "mas": 0.9,
    "penn_spasm_frequency": 0.85,
    "pain_nrs": 0.65,
    "gas_t_score": 0.55,
    "weight_kg": 0.75,
}


@dataclass(frozen=True)
class ComplicationKind:
    """A complication category with its rate and how its events look."""

    category: str
    rate: float  # events per pump-year
    subtypes: Weighted | None
    early_days: int  # events that cluster after surgery fall in this many days ...
    early_share: float  # ... and this share of them do
    related: Weighted  # related_to, once past the post-operative weeks
    severity: Weighted
    surgery: float  # chance it needed surgery (an explant always did)
    description: str


_DEVICE = Weighted({"device": 1})
_DOSING = Weighted({"dosing": 60, "refill": 40})
_UNKNOWN = Weighted({"unknown": 1})
_MILD = Weighted({"mild": 70, "moderate": 25, "severe": 5})
_MODERATE = Weighted({"mild": 25, "moderate": 55, "severe": 20})
# Rates follow Benedičič 2023 (0.074 per pump-year: catheter 0.030, skin/infection 0.023,
# pump 0.009) with the rest shared among the rarer categories; weight gain is kept rare.
KINDS = (
    ComplicationKind(
        "catheter",
        0.030,
        Weighted(
            {
                "occlusion": 30,
                "fracture": 20,
                "migration": 20,
                "disconnection": 15,
                "kink": 10,
                "dislodgement": 5,
            }
        ),
        365,
        0.4,
        _DEVICE,
        _MODERATE,
        0.7,
        "Catheter {subtype} confirmed on imaging",
    ),
    ComplicationKind(
        "infection",
        0.016,
        Weighted({"superficial": 50, "pump_pocket": 35, "meningitis": 15}),
        90,
        0.5,
        Weighted({"refill": 40, "unknown": 60}),
        _MODERATE,
        0.1,
        "Infection ({subtype}), antibiotics started",
    ),
    ComplicationKind(
        "wound",
        0.007,
        Weighted({"dehiscence": 50, "seroma": 30, "erosion": 20}),
        60,
        0.8,
        _UNKNOWN,
        _MILD,
        0.3,
        "Wound {subtype} at the pump site",
    ),
    ComplicationKind(
        "pump_malfunction",
        0.009,
        Weighted({"motor_stall": 40, "alarm": 30, "flow_error": 30}),
        365,
        0.2,
        _DEVICE,
        _MODERATE,
        0.1,
        'Pump alarm ("{subtype}"), device interrogated',
    ),
    ComplicationKind(
        "csf_leak",
        0.002,
        None,
        60,
        0.9,
        _UNKNOWN,
        _MILD,
        0.15,
        "Post-dural puncture headache, CSF leak",
    ),
    ComplicationKind(
        "withdrawal",
        0.0015,
        None,
        0,
        0.0,
        Weighted({"device": 40, "dosing": 30, "unknown": 30}),
        Weighted({"mild": 20, "moderate": 50, "severe": 30}),
        0.0,
        "Withdrawal: rebound spasticity, itching",
    ),
    ComplicationKind(
        "overdose",
        0.0015,
        None,
        0,
        0.0,
        _DOSING,
        _MODERATE,
        0.0,
        "Drowsiness and hypotonia, dose reduced",
    ),
    ComplicationKind(
        "pharmacological",
        0.002,
        Weighted({"drowsiness": 40, "nausea": 30, "constipation": 30}),
        0,
        0.0,
        _DOSING,
        _MILD,
        0.0,
        "Side effect ({subtype}), dose adjusted",
    ),
    ComplicationKind(
        "weight_gain",
        0.001,
        None,
        0,
        0.0,
        Weighted({"dosing": 50, "unknown": 50}),
        _MILD,
        0.0,
        "Weight gain noted at review",
    ),
    ComplicationKind("other", 0.0015, None, 0, 0.0, _UNKNOWN, _MILD, 0.05, "See clinic letter"),
)
KIND = {k.category: k for k in KINDS}
KIND_MIX = Weighted({k: k.rate for k in KINDS})
COMPLICATION_RATE = sum(k.rate for k in KINDS)
# Categories whose events in the first weeks are put down to the operation.
SURGICAL = frozenset({"catheter", "infection", "wound", "csf_leak"})
POST_OPERATIVE_DAYS = 60
# (category, subtype) -> chance the pump comes out, and the explant_reason then recorded.
EXPLANT_RISK = {
    ("infection", "pump_pocket"): 0.7,
    ("infection", "meningitis"): 0.6,
    ("pump_malfunction", "motor_stall"): 0.9,
    ("pump_malfunction", "flow_error"): 0.6,
    ("wound", "erosion"): 0.5,
}
EXPLANT_REASON = {"infection": "infection", "pump_malfunction": "malfunction", "wound": "other"}
