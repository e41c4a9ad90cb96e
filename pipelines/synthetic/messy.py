"""Make the messy sample: the clean sample with deliberate, listed breakages.

`make_messy(clean, out)` copies the clean CSV extract, breaks one row per rule (each in a
different patient's records, so breakages do not mix), and writes beside the extract
`<out>.expected.csv`: every row the loader must quarantine, with its reason codes. Rows that
depend on a broken row are listed too, worked out here independently of the loader: a broken
patient takes all their rows, a broken referral its appointments, a broken implant its refills
and complications. The loader's test compares the quarantine with this list exactly.

Run: python -m pipelines.synthetic.messy data_samples/clean data_samples/messy
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.contract import TABLES

Row = dict[str, str]
PARENTS = {  # child table -> (reference column, parent table)
    "referrals": [("patient_id", "patients")],
    "appointments": [("patient_id", "patients"), ("referral_id", "referrals")],
    "trials": [("patient_id", "patients")],
    "implants": [("patient_id", "patients")],
    "refills": [("patient_id", "patients"), ("implant_id", "implants")],
    "complications": [("patient_id", "patients"), ("implant_id", "implants")],
    "outcomes": [("patient_id", "patients")],
}


@dataclass
class Messy:
    tables: dict[str, list[Row]]
    # (table, id(row)) -> reason codes for rows broken directly
    broken: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    used_patients: set[str] = field(default_factory=set)
    notes: dict[tuple[str, int], str] = field(default_factory=dict)

    def pick(self, table: str, where: Callable[[Row], bool] = lambda r: True) -> Row:
        """The first row of `table` meeting `where` whose patient no other breakage has used."""
        for row in self.tables[table]:
            if row["patient_id"] not in self.used_patients and where(row):
                self.used_patients.add(row["patient_id"])
                return row
        raise LookupError(f"no row of {table} fits")

    def break_row(self, table: str, row: Row, note: str, *codes: str, **changes: str) -> None:
        row.update(changes)
        self.broken.setdefault((table, id(row)), set()).update(codes)
        self.notes[(table, id(row))] = note

    def rows_of(self, patient_id: str, table: str) -> list[Row]:
        return [r for r in self.tables[table] if r["patient_id"] == patient_id]


def _day(value: str, days: int) -> str:
    return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()


def _break(m: Messy) -> None:
    t = m.tables
    # patients
    p = m.pick("patients", lambda r: bool(m.rows_of(r["patient_id"], "implants")))
    m.break_row("patients", p, "impossible date of birth", "bad_date", date_of_birth="31/02/1975")
    p = m.pick("patients")
    m.break_row("patients", p, "unknown sex code", "bad_code", sex="X")
    p = m.pick("patients", lambda r: r["nhs_number"] != "")
    digits = p["nhs_number"].replace(" ", "")
    wrong = digits[:9] + str((int(digits[9]) + 1) % 10)
    m.break_row("patients", p, "NHS number fails Modulus 11", "bad_nhs_number", nhs_number=wrong)
    p = m.pick("patients")
    twin = {**p, "sex": "unknown", "nhs_number": ""}  # blank: not also a duplicate NHS number
    t["patients"].append(twin)
    m.break_row("patients", p, "patient_id given twice", "duplicate_key")
    m.break_row("patients", twin, "patient_id given twice", "duplicate_key")
    # referrals
    r = m.pick("referrals", lambda r: r["triage_date"] != "")
    m.break_row(
        "referrals",
        r,
        "triaged before it was received",
        "date_order",
        triage_date=_day(r["received_date"], -3),
    )
    # A new referral, so that no appointment of a real patient points at it.
    orphan = {**t["referrals"][0], "referral_id": "R9999999", "patient_id": "P999999"}
    t["referrals"].append(orphan)
    m.break_row("referrals", orphan, "patient not in patients", "unknown_reference")
    # appointments
    a = m.pick("appointments")
    m.break_row("appointments", a, "unknown status code", "bad_code", status="no-show")
    a = m.pick("appointments")
    m.break_row("appointments", a, "month 13", "bad_date", appointment_date="2019-13-01")
    a = m.pick("appointments", lambda r: r["referral_id"] != "")
    other = m.pick("referrals")  # an untouched patient's referral
    m.break_row(
        "appointments",
        a,
        "referral of another patient",
        "reference_mismatch",
        referral_id=other["referral_id"],
    )
    # trials
    tr = m.pick("trials")
    m.break_row("trials", tr, "dose with its unit", "bad_number", dose_mcg="50mcg")
    tr = m.pick("trials")
    m.break_row("trials", tr, "outcome missing", "missing_required", outcome="")
    # implants
    # A 20 mL pump, so that its refills (≤ 20 mL) do not also exceed the bad 30 mL.
    i = m.pick(
        "implants",
        lambda r: (
            r["reservoir_ml"] == "20"
            and any(f["implant_id"] == r["implant_id"] for f in t["refills"])
        ),
    )
    m.break_row("implants", i, "30 mL reservoir", "out_of_range", reservoir_ml="30")
    i = m.pick("implants", lambda r: r["explant_date"] != "")
    m.break_row("implants", i, "explanted with no reason", "missing_required", explant_reason="")
    # refills
    f = m.pick("refills")
    m.break_row(
        "refills",
        f,
        "concentration with a thousands separator",
        "bad_number",
        concentration_mcg_per_ml="1,000",
    )
    f = m.pick("refills", lambda r: r["next_due_date"] != "")
    m.break_row(
        "refills",
        f,
        "next refill booked for the same day",
        "date_order",
        next_due_date=f["refill_date"],
    )
    f = m.pick("refills", lambda r: r["actual_residual_ml"] != "")
    m.break_row("refills", f, "negative residual", "out_of_range", actual_residual_ml="-1")
    implants = {r["implant_id"]: r for r in t["implants"]}
    f = m.pick("refills", lambda r: implants[r["implant_id"]]["reservoir_ml"] == "20")
    m.break_row(
        "refills", f, "more than the reservoir holds", "exceeds_reservoir", fill_volume_ml="25"
    )
    f = m.pick("refills")
    m.break_row(
        "refills",
        f,
        "refill before its pump was implanted",
        "outside_pump_dates",
        refill_date=_day(implants[f["implant_id"]]["implant_date"], -1),
    )
    f = m.pick("refills")
    g = next(r for r in t["refills"] if r["patient_id"] == f["patient_id"] and r is not f)
    m.break_row("refills", f, "refill_id given twice", "duplicate_key")
    m.break_row("refills", g, "refill_id given twice", "duplicate_key", refill_id=f["refill_id"])
    # complications
    c = m.pick("complications")
    m.break_row("complications", c, "unknown category", "bad_code", category="bleeding")
    c = m.pick("complications")
    m.break_row("complications", c, "not a yes/no answer", "bad_boolean", required_surgery="maybe")
    # outcomes
    o = m.pick("outcomes", lambda r: r["measure"] == "mas")
    m.break_row("outcomes", o, "MAS above 4", "out_of_range", value="5")
    o = m.pick("outcomes")
    twin = {**o, "value": o["value"] + "1" if "." in o["value"] else o["value"]}
    t["outcomes"].append(twin)
    m.break_row("outcomes", o, "same measure twice on one day", "duplicate_key")
    m.break_row("outcomes", twin, "same measure twice on one day", "duplicate_key")
    o = m.pick("outcomes")
    dob = next(p["date_of_birth"] for p in t["patients"] if p["patient_id"] == o["patient_id"])
    m.break_row(
        "outcomes", o, "assessed before birth", "before_birth", assessment_date=_day(dob, -1)
    )


def _cascade(m: Messy) -> dict[tuple[str, int], set[str]]:
    """Every quarantined row: broken ones and, parents first, the rows that depend on them."""
    out = {k: set(v) for k, v in m.broken.items()}
    for table, refs in PARENTS.items():
        for column, parent in refs:
            bad_keys = {row[column] for row in m.tables[parent] if (parent, id(row)) in out}
            for row in m.tables[table]:
                if row.get(column) in bad_keys:
                    out.setdefault((table, id(row)), set()).add("quarantined_parent")
    return out


def make_messy(clean: Path, out: Path) -> list[dict[str, str]]:
    tables = {}
    for name in TABLES:
        with open(clean / f"{name}.csv", newline="", encoding="utf-8") as f:
            tables[name] = list(csv.DictReader(f))
    m = Messy(tables)
    _break(m)
    quarantined = _cascade(m)
    out.mkdir(parents=True, exist_ok=True)
    expected = []
    for name, rows in tables.items():
        columns = list(TABLES[name].column_names)
        if name == "patients":
            columns.append("notes")  # an extra column: ignored and reported, never an error
        with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for n, row in enumerate(rows, start=2):
                writer.writerow({**row, "notes": "free text"} if name == "patients" else row)
                codes = quarantined.get((name, id(row)))
                if codes:
                    expected.append(
                        {
                            "table": name,
                            "source_row": str(n),
                            "row_key": ", ".join(row[k] for k in TABLES[name].key),
                            "reason_codes": ";".join(sorted(codes)),
                            "why": m.notes.get((name, id(row)), "depends on a quarantined row"),
                        }
                    )
    with open(out.with_name(out.name + ".expected.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(
            f, fieldnames=["table", "source_row", "row_key", "reason_codes", "why"]
        )
        writer.writeheader()
        writer.writerows(expected)
    return expected


if __name__ == "__main__":
    rows = make_messy(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{len(rows)} rows to be quarantined")
