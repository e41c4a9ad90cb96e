"""Next month's extract from an existing one, as a clinic system would send it a month later.

`evolve_extract` reads a generated extract (CSV or Parquet folder) as of `as_of` and writes the
extract as of one calendar month later: the month's new referrals (new patients), the pathway
moving on (triage, first assessments, test doses, implants), refills, yearly reviews,
complications and one-year outcome measures of the pumps in, a few deaths, a few corrections of
existing rows (a postcode typo fixed, a date of birth corrected, an appointment's status changed)
and a few deletions (appointments entered in error). Every other row keeps its exact text and its
place, so a reload sees it as unchanged; new rows follow the existing ones of their table.

The month's activity is drawn with the simulation's own pathway (simulation.Service) for each
patient's state as the extract shows it, so rates and spellings match the generator's. The same
extract, seed and date give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.contract import TABLES
from pipelines.synthetic.parameters import (
    BATTERY_MODELS,
    BATTERY_MONTHS,
    GAS_FOLLOW_UP,
    IMPROVEMENT,
    MAS_GRADES,
    REVIEW_STATUS,
    TRIAGE_MIX,
    YEAR,
    Draws,
)
from pipelines.synthetic.simulation import (
    Service,
    _day,
    _death_hazard,
    _Dosing,
    _gas_t,
    _Patient,
    _postcode,
    _Pump,
    nhs_numbers,
)
from pipelines.synthetic.writers import WRITERS, as_text

# Corrections and deletions per 10,000 rows of the earlier extract (about 0.6% of rows changed and
# 0.03% deleted; with the month's new rows, about 2% of rows are new or changed).
POSTCODE_FIXES = 1.5  # a typo fixed: the postcode written again
BIRTH_DATE_FIXES = 1.0  # a date corrected: the date of birth a few days earlier
STATUS_CHANGES = 15.0  # a past appointment's status changed (a DNA was a cancellation)
REBOOKINGS = 50.0  # a pump's next refill moved by up to a week
DELETIONS = 3.0  # a missed or cancelled appointment entered in error
ID_PREFIXES = {
    "referrals": "R",
    "appointments": "A",
    "trials": "T",
    "implants": "I",
    "refills": "F",
    "complications": "C",
}
STATUSES = ("dna", "patient_cancelled", "hospital_cancelled")


@dataclass
class Evolution:
    """What changed between the two extracts, per table."""

    as_of: dt.date
    rows_before: dict[str, int]
    new: dict[str, int]
    changed: dict[str, int]
    deleted: dict[str, int]

    @property
    def share(self) -> float:
        """New or changed rows as a share of the earlier extract's rows."""
        return (sum(self.new.values()) + sum(self.changed.values())) / sum(
            self.rows_before.values()
        )


@dataclass
class _Edits:
    """Cell texts to change and rows to drop in the earlier extract's text frames."""

    cells: dict[str, dict[int, dict[str, str | None]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    dropped: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def set(self, table: str, row: int, **texts: str | None) -> None:
        self.cells[table].setdefault(row, {}).update(texts)


def next_month(day: dt.date) -> dt.date:
    """The same day a calendar month later (the month's last day where it has fewer days)."""
    year, month = divmod(day.month, 12)
    year, month = day.year + year, month + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def extract_format(folder: Path) -> str:
    """csv or parquet: the form of a generated extract folder."""
    for fmt in ("csv", "parquet"):
        if all((folder / f"{name}.{fmt}").is_file() for name in TABLES):
            return fmt
    raise ValueError(f"{folder} is not a generated CSV or Parquet extract folder")


def evolve_extract(source: Path, out: Path, *, seed: int, as_of: dt.date) -> Evolution:
    """Write to `out` the extract a month after `source` (as of `as_of`), in the same form."""
    fmt = extract_format(source)
    if out.resolve() == source.resolve():
        raise ValueError("the evolved extract must go to another folder than its source")
    texts = {name: _read_text(source / f"{name}.{fmt}", fmt) for name in TABLES}
    new_as_of = next_month(as_of)
    # One stream per purpose, seeded by the seed and the new date, as the generator does.
    pathway_rng, identity_rng, text_rng, edit_rng = np.random.default_rng(
        [seed, new_as_of.toordinal()]
    ).spawn(4)
    month = _Month(texts, _day(as_of), new_as_of, Draws(pathway_rng))
    month.existing_patients()
    month.new_patients(identity_rng)
    edits = month.edits
    _corrections(texts, edits, edit_rng, month.old)
    frames, new, changed, deleted = {}, {}, {}, {}
    for name, added in month.service.frames().items():
        edited, changed[name] = _edited(texts[name], edits.cells[name], edits.dropped[name])
        added = as_text(added, TABLES[name], text_rng)
        frames[name] = pl.concat([edited, added])
        new[name] = added.height
        deleted[name] = len(edits.dropped[name])
    WRITERS[fmt](out, frames, new_as_of)
    return Evolution(new_as_of, {n: t.height for n, t in texts.items()}, new, changed, deleted)


def _read_text(path: Path, fmt: str) -> pl.DataFrame:
    """A table's cells as written: all text, blanks as null."""
    return pl.read_csv(path, infer_schema=False) if fmt == "csv" else pl.read_parquet(path)


def _edited(
    text: pl.DataFrame, cells: dict[int, dict[str, str | None]], dropped: set[int]
) -> tuple[pl.DataFrame, int]:
    """The table with its edits, and how many kept rows now read differently."""
    if not cells and not dropped:
        return text, 0
    columns = {name: text[name].to_list() for name in text.columns}
    changed = set()
    for row, values in cells.items():
        for name, value in values.items():
            if columns[name][row] != value:
                columns[name][row] = value
                changed.add(row)
    keep = [i for i in range(text.height) if i not in dropped]
    frame = pl.DataFrame(
        {name: [values[i] for i in keep] for name, values in columns.items()}, schema=text.schema
    )
    return frame, len(changed - dropped)


# --- Reading the earlier extract's values -----------------------------------------------------


def _typed(text: pl.DataFrame, table: str) -> pl.DataFrame:
    """Day numbers, floats and canonical codes, with the row's place in the file as `row`."""
    columns = [pl.int_range(pl.len()).alias("row")]
    for c in TABLES[table].columns:
        col = pl.col(c.name)
        if c.kind == "date":
            col = pl.coalesce(
                col.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
                col.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
            ).cast(pl.Int32)
        elif c.kind == "number":
            col = col.cast(pl.Float64)
        elif c.kind == "code":
            col = col.str.strip_chars().str.to_lowercase().str.replace_all(r"[ -]", "_")
            if c.aliases:
                col = col.replace(c.aliases)
        columns.append(col.alias(c.name))
    return text.select(columns)


def _date_text(day: int, like: str | None) -> str:
    """A day written as the cell it replaces was (UK or ISO)."""
    date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
    return date.strftime("%d/%m/%Y" if like is not None and "/" in like else "%Y-%m-%d")


def _by(frame: pl.DataFrame, key: str) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in frame.iter_rows(named=True):
        groups[row[key]].append(row)
    return groups


# --- The month ------------------------------------------------------------------------------------


class _Month:
    """The month's rows (in `service`) and edits of existing rows, patient by patient."""

    def __init__(self, texts: dict[str, pl.DataFrame], old: int, as_of: dt.date, draws: Draws):
        self.texts = texts
        self.typed = {name: _typed(text, name) for name, text in texts.items()}
        self.old = old
        self.service = Service(draws, as_of)
        self.new_day = self.service.as_of
        self.r = draws
        self.edits = _Edits()
        last = {}
        for table, prefix in ID_PREFIXES.items():
            ids = self.typed[table][f"{table[:-1]}_id"].str.slice(1).cast(pl.Int64)
            last[prefix] = int(ids.max() or 0)  # type: ignore[arg-type]
        self.service.resume_ids(last)

    def existing_patients(self) -> None:
        t = self.typed
        referrals, appointments = (
            _by(t["referrals"], "patient_id"),
            _by(t["appointments"], "patient_id"),
        )
        trials, implants = _by(t["trials"], "patient_id"), _by(t["implants"], "patient_id")
        refills, outcomes = _by(t["refills"], "implant_id"), _by(t["outcomes"], "patient_id")
        for row in t["patients"].iter_rows(named=True):
            if row["date_of_death"] is not None:
                continue
            p = self._alive(row)
            pumps = implants.get(p.id, [])
            if any(i["explant_date"] is None for i in pumps):
                doses = [f for i in pumps for f in refills.get(i["implant_id"], [])]
                for pump in pumps:
                    if pump["explant_date"] is None:
                        self._pump_month(p, pump, refills.get(pump["implant_id"], []), doses)
                        self._one_year(p, pump, outcomes.get(p.id, []))
            elif not pumps and referrals.get(p.id):
                self._pathway(p, referrals[p.id], appointments.get(p.id, []), trials.get(p.id, []))

    def _alive(self, row: dict) -> _Patient:
        """The patient as a pathway sees them; a few die during the month."""
        p = _Patient(
            row["patient_id"],
            row["date_of_birth"],
            row["primary_condition"],
            row["sex"],
            end=self.new_day,
            died=False,
        )
        hazard = _death_hazard(p.age(self.new_day), p.condition)
        if self.r.chance(hazard * (self.new_day - self.old) / YEAR):
            p.end, p.died = self.r.integer(self.old + 1, self.new_day), True
            self.edits.set("patients", row["row"], date_of_death=_date_text(p.end, None))
        return p

    # Patients on the way to a pump

    def _pathway(self, p: _Patient, referrals: list, appointments: list, trials: list) -> None:
        """One step along the pathway when it falls this month: triage, first assessment,
        test dose or implant (the same steps and waits as the generator's)."""
        r, s = self.r, self.service
        referral = max(referrals, key=lambda x: (x["received_date"], x["referral_id"]))
        ref = referral["referral_id"]
        month_day = self.old + 1 + r.integer(0, self.new_day - self.old - 1)
        if referral["triage_outcome"] in (None, "pending"):
            day = max(referral["received_date"] + min(28, int(r.exponential(4))), month_day)
            if day <= p.end:  # the referral is triaged: its row is updated
                self.edits.set(
                    "referrals",
                    referral["row"],
                    triage_outcome=r.pick(TRIAGE_MIX),
                    triage_date=_date_text(
                        day, self.texts["referrals"]["received_date"][referral["row"]]
                    ),
                )
            return
        if referral["triage_outcome"] != "accepted":
            return
        mine = [a for a in appointments if a["referral_id"] == ref]
        assessed = [
            a["appointment_date"]
            for a in mine
            if a["type"] == "new_assessment" and a["status"] == "attended"
        ]
        if not assessed:
            slot = referral["received_date"] + int(r.lognormal(32, 0.4))
            s._attend(p, ref, month_day if slot <= self.old else slot, "new_assessment")
            return
        positive = [t for t in trials if t["outcome"] == "positive"]
        if not trials:
            # About 80% are candidates, tested 6-21 weeks after assessment.
            if self.new_day - 200 <= assessed[0] <= month_day - 42 and r.chance(0.25):
                s._trials(p, ref, month_day)
            return
        if positive and r.chance(0.3):
            trial = positive[-1]
            if self.new_day - 300 <= trial["trial_date"] <= month_day - 21:
                pre_op = month_day - r.integer(7, 21)
                s._appointment(p, ref, pre_op, "other", "attended")
                s._outcomes(p, pre_op, month_day)
                dose = trial["dose_mcg"] or 50.0
                s._on_itb(p, month_day, dose * (2 if r.chance(0.5) else 1))

    # Patients with a pump in

    def _pump_month(self, p: _Patient, pump: dict, refills: list, patient_refills: list) -> None:
        """The pump's refills, complications and yearly review this month, and its replacement
        when its battery's indicator has come on (the generator's timing: the pump stops 90
        days after the indicator, and is replaced from 60 days before to 45 days after it)."""
        r, s = self.r, self.service
        start, reservoir = pump["implant_date"], int(pump["reservoir_ml"])
        known = [f for f in patient_refills if f["daily_dose_mcg"] is not None]
        dose_from = max(known, key=lambda f: f["refill_date"]) if known else None
        dosing = _Dosing(
            dose_from["daily_dose_mcg"] if dose_from else 100.0,
            dose_from["daily_dose_mcg"] if dose_from else 100.0,
            dose_from["concentration_mcg_per_ml"] if dose_from else 500.0,
        )
        eri, stop = None, p.end + 1
        if pump["pump_model"] in BATTERY_MODELS:
            reported = [f["reported_eri_date"] for f in refills if f["reported_eri_date"]]
            drawn = start + int(r.uniform(*BATTERY_MONTHS) * YEAR / 12)
            eri = reported[-1] if reported else max(drawn, self.old + 184)
            if reported:
                replace_on = eri + r.integer(-60, 45)
                if replace_on <= self.old:
                    replace_on = self.old + r.integer(1, max(1, eri + 45 - self.old))
                stop = min(stop, replace_on)
        if refills:
            last = max(refills, key=lambda f: f["refill_date"])
            last_day, fill = last["refill_date"], last["fill_volume_ml"]
            due = last["next_due_date"]
        else:
            last_day, fill, due = start, float(reservoir), pump["first_refill_due_date"]
        if due is None:
            due = last_day + int(dosing.days_to_alarm(fill)) - 4
        s._refills(
            p,
            _Pump(pump["implant_id"], start, pump["pump_model"], reservoir, eri),
            due,
            stop,
            dosing,
            last=(last_day, fill),
            earliest=self.old + 1,
        )
        for event in s._complication_events(self.old + 1, stop - 1):
            s._complication(p, pump["implant_id"], event, r.pick(event.kind.related))
        years = (stop - 1 - start) // YEAR
        review = start + int(years * YEAR)
        if years >= 1 and self.old < review < stop:
            s._attend(p, None, review, "follow_up", REVIEW_STATUS)
        if stop <= p.end:  # the battery replacement: this pump's row is updated, a new one added
            self.edits.set(
                "implants",
                pump["row"],
                explant_date=_date_text(stop, self.texts["implants"]["implant_date"][pump["row"]]),
                explant_reason="battery_end_of_life",
            )
            battery = stop + int(r.uniform(*BATTERY_MONTHS) * YEAR / 12)
            replacement = _Pump(s.next_id("I"), stop, pump["pump_model"], reservoir, battery)
            s._pump(p, replacement, "replacement", dosing)

    def _one_year(self, p: _Patient, pump: dict, outcomes: list) -> None:
        """The one-year outcome measures of a first pump, against its baseline."""
        day = pump["implant_date"] + 365
        baseline = [o for o in outcomes if o["assessment_date"] < pump["implant_date"]]
        later = [o for o in outcomes if o["assessment_date"] >= pump["implant_date"]]
        if pump["procedure"] != "new_implant" or later or not self.old < day <= p.end:
            return
        if not self.r.chance(0.85):
            return
        for o in baseline:
            value = _follow_up(self.r, o["measure"], o["value"])
            self.service.add(
                "outcomes",
                patient_id=p.id,
                assessment_date=day,
                measure=o["measure"],
                value=value,
            )

    # New patients

    def new_patients(self, identity_rng: np.random.Generator) -> None:
        """The month's first referrals, at the rate of the last twelve months'."""
        patients = self.typed["patients"]
        first = self.typed["referrals"].group_by("patient_id").agg(pl.col("received_date").min())
        recent = first.filter(pl.col("received_date") > self.old - 365).height
        count = int(identity_rng.poisson(recent * (self.new_day - self.old) / 365))
        taken = set(patients["nhs_number"].str.replace_all(" ", "").drop_nulls().to_list())
        fresh = [
            n
            for n in nhs_numbers(identity_rng, len(taken) + count)
            if n is None or n.replace(" ", "") not in taken
        ]
        numbers = patients["patient_id"].str.slice(1).cast(pl.Int64)
        number = int(numbers.max() or 0)  # type: ignore[arg-type]
        days = sorted(self.r.integer(self.old + 1, self.new_day) for _ in range(count))
        for i, (day, nhs) in enumerate(zip(days, fresh, strict=False), start=1):
            self.service.patient(number + i, nhs, received=day)


def _follow_up(r: Draws, measure: str, before: float) -> float:
    """A measure a year on ITB, from its baseline (the generator's improvements)."""
    if measure == "mas":
        grade = MAS_GRADES.index(before) if before in MAS_GRADES else 3
        return MAS_GRADES[max(0, grade - r.pick(IMPROVEMENT))]
    if measure == "penn_spasm_frequency":
        return float(max(0, before - r.pick(IMPROVEMENT)))
    if measure == "pain_nrs":
        return float(min(10, max(0, before - round(r.normal(2.0, 1.5)))))
    if measure == "gas_t_score":
        return _gas_t([r.pick(GAS_FOLLOW_UP) for _ in range(r.integer(3, 5))])
    return round(min(300.0, max(1.0, before + r.normal(1.0, 2.5))), 1)


# --- Corrections and deletions ----------------------------------------------------------------


def _corrections(
    texts: dict[str, pl.DataFrame], edits: _Edits, rng: np.random.Generator, old: int
) -> None:
    """A few fixes of existing rows and a few deletions, at the rates above, each on other rows."""
    r = Draws(rng)
    per = sum(t.height for t in texts.values()) / 10_000

    def some(rows: list[int], rate: float) -> list[int]:
        return sorted(
            rng.choice(rows, size=min(len(rows), round(per * rate)), replace=False).tolist()
        )

    patients = _typed(texts["patients"], "patients")
    births = texts["patients"]["date_of_birth"]
    for i in some(patients["row"].to_list(), POSTCODE_FIXES):
        edits.set("patients", i, postcode=_postcode(r))
    for i in some(patients["row"].to_list(), BIRTH_DATE_FIXES):
        born = patients["date_of_birth"][i] - r.integer(1, 28)
        edits.set("patients", i, date_of_birth=_date_text(born, births[i]))
    refills = _typed(texts["refills"], "refills")
    latest = refills.filter(
        pl.col("next_due_date").is_not_null()
        & (pl.col("refill_date") == pl.col("refill_date").max().over("implant_id"))
        & (pl.col("next_due_date") > old)
    )
    chosen = latest.filter(pl.col("row").is_in(some(latest["row"].to_list(), REBOOKINGS)))
    for i, refilled, due in chosen.select("row", "refill_date", "next_due_date").iter_rows():
        moved = max(refilled + 1, due + r.integer(-7, 7))
        edits.set(
            "refills", i, next_due_date=_date_text(moved, texts["refills"]["next_due_date"][i])
        )
    appointments = _typed(texts["appointments"], "appointments")
    missed = appointments.filter(
        pl.col("status").is_in(STATUSES) & (pl.col("appointment_date") > old - 365)
    )
    status = dict(zip(missed["row"], missed["status"], strict=True))
    rows = missed["row"].to_list()
    for i in some(rows, STATUS_CHANGES):
        others = [s for s in STATUSES if s != status[i]]
        edits.set("appointments", i, status=others[r.integer(0, len(others) - 1)])
    edits.dropped["appointments"].update(some(rows, DELETIONS))
