"""Tiny hand-made extracts for tests: one valid row per table, edited per test.

`base_extract()` is a consistent patient pathway (referral, assessment, trial, implant, refill,
complication, outcome). Tests change a cell or add rows, write it with `write_csv_extract` and
load it. Row n of a table's list is source row n + 2 (row 1 is the header).
"""

from __future__ import annotations

import csv
import copy
from pathlib import Path

from pipelines.contract import TABLES

NHS_OK = "999 000 0018"        # 999 range, passes Modulus 11 (see tests for the arithmetic)
NHS_OK_2 = "9990000026"

BASE: dict[str, list[dict[str, str]]] = {
    "patients": [{
        "patient_id": "P1", "nhs_number": NHS_OK, "date_of_birth": "1980-05-17", "sex": "female",
        "primary_condition": "multiple_sclerosis", "tone_pattern": "spasticity", "postcode": "SE18 4QH",
        "date_of_death": "",
    }],
    "referrals": [{
        "referral_id": "R1", "patient_id": "P1", "received_date": "2020-01-06", "source": "gp_ers",
        "triage_outcome": "accepted", "triage_date": "2020-01-08",
    }],
    "appointments": [{
        "appointment_id": "A1", "patient_id": "P1", "referral_id": "R1", "appointment_date": "2020-02-03",
        "type": "new_assessment", "status": "attended",
    }],
    "trials": [{
        "trial_id": "T1", "patient_id": "P1", "trial_date": "2020-03-02", "method": "bolus_lumbar_puncture",
        "dose_mcg": "50", "outcome": "positive",
    }],
    "implants": [{
        "implant_id": "I1", "patient_id": "P1", "implant_date": "2020-05-04", "procedure": "new_implant",
        "pump_model": "SynchroMed II", "reservoir_ml": "20", "first_refill_due_date": "2020-08-03",
        "explant_date": "", "explant_reason": "",
    }],
    "refills": [{
        "refill_id": "F1", "patient_id": "P1", "implant_id": "I1", "refill_date": "2020-08-01",
        "expected_residual_ml": "3.0", "actual_residual_ml": "2.8", "fill_volume_ml": "20",
        "concentration_mcg_per_ml": "500", "daily_dose_mcg": "100", "next_due_date": "2020-11-01",
        "reported_eri_date": "",
    }],
    "complications": [{
        "complication_id": "C1", "patient_id": "P1", "implant_id": "I1", "event_date": "2020-06-01",
        "category": "catheter", "subtype": "kink", "related_to": "device", "severity": "moderate",
        "required_surgery": "no", "description": "kinked at the anchor",
    }],
    "outcomes": [{
        "patient_id": "P1", "assessment_date": "2020-04-20", "measure": "mas", "value": "3",
    }],
}

AS_OF = "2024-06-30"


def base_extract() -> dict[str, list[dict[str, str]]]:
    return copy.deepcopy(BASE)


def write_csv_extract(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """Write each table with the contract's columns (plus any extra keys a test added)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        columns = list(TABLES[name].column_names) if name in TABLES else []
        for row in rows:
            columns += [k for k in row if k not in columns]
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({c: row.get(c, "") for c in columns})
    return folder
