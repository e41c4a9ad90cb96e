"""The simulated pathway of one ITB service: referral, triage and first assessment; the
intrathecal test dose; pumps with their refills, battery replacements, complications and
explants; deaths; outcome measures. Dates are day numbers (days since 1970-01-01) while the
pathway is built, so that date arithmetic is plain integer arithmetic; frames() turns them into
typed tables.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from pipelines.contract import TABLES
from pipelines.synthetic.parameters import (
    AGE_AT_REFERRAL,
    ALARM_ML,
    BATTERY_MODELS,
    BATTERY_MONTHS,
    BOLUS_RESPONSE,
    CATHETER_TRIAL_DOSES,
    CLINIC_STATUS,
    COMPLICATION_RATE,
    CONDITION_MIX,
    CP_CHILD,
    CP_CHILD_SHARE,
    ELECTIVE_EXPLANT_RATE,
    EXPLANT_REASON,
    EXPLANT_RISK,
    GAS_BASELINE,
    GAS_FOLLOW_UP,
    IMPROVEMENT,
    INWARD_LETTERS,
    KIND,
    KIND_MIX,
    MALE_SHARE,
    MAS_BASELINE,
    MAS_GRADES,
    MAX_BOOKINGS,
    MAX_INTERVAL_DAYS,
    MEASURE_SHARE,
    MISSED_REFILL_STATUS,
    NOT_POSITIVE,
    PENN_BASELINE,
    POST_OPERATIVE_DAYS,
    POSTCODE_AREAS,
    PUMP_MODELS,
    REVIEW_STATUS,
    SERVICE_YEARS,
    SOURCE_MIX,
    SURGICAL,
    TONE_DEFAULT,
    TONE_MIX,
    TRIAGE_MIX,
    TRIAL_COMPLICATION_CHANCE,
    TRIAL_HARMS,
    YEAR,
    ComplicationKind,
    Draws,
    Weighted,
)

_ROW_DTYPES = {"date": pl.Int32, "number": pl.Float64, "boolean": pl.Boolean}

# --- The pathway ---------------------------------------------------------------------------------


@dataclass
class _Patient:
    id: str
    dob: int
    condition: str
    sex: str
    end: int  # the last day an event may fall on: as_of, or the date of death
    died: bool

    def age(self, day: int) -> float:
        return (day - self.dob) / YEAR


@dataclass
class _Pump:
    id: str
    start: int
    model: str
    reservoir: int
    eri: int | None  # the day the elective replacement indicator comes on; None: no battery


@dataclass
class _Event:
    day: int
    kind: ComplicationKind
    subtype: str | None
    led_to_explant: bool = False


@dataclass
class _Dosing:
    """The programmed dose (mcg/day) and drug concentration (mcg/mL), carried from pump to pump."""

    dose: float
    target: float
    conc: float

    def ml_per_day(self) -> float:
        return self.dose / self.conc

    def days_to_low_reservoir(self, fill: float) -> float:
        return (fill - ALARM_ML) / self.ml_per_day()

    def days_to_alarm(self, fill: float) -> float:
        """Days to the computed alarm date: the low-reservoir alarm or the drug-stability cap."""
        return min(self.days_to_low_reservoir(fill), MAX_INTERVAL_DAYS)

    def titrate(self, r: Draws) -> None:
        """Step up towards the target dose, then drift around it."""
        if self.dose < self.target:
            dose = min(self.target, self.dose * r.uniform(1.05, 1.3))
        else:
            dose = self.dose * math.exp(r.normal(0.0, 0.06)) + 0.1 * (self.target - self.dose)
        self.dose = float(min(3000, max(20, round(dose))))

    def fit_concentration(self, r: Draws, reservoir: float) -> None:
        """A stronger solution when the current one would need refilling within six weeks."""
        if self.conc < 2000 and self.days_to_alarm(reservoir) < 42:
            self.conc = 1000.0 if self.conc < 1000 and r.chance(0.1) else 2000.0


class Service:
    """Builds one service's rows, patient by patient, as tuples in the contract's column order."""

    def __init__(self, draws: Draws, as_of: dt.date):
        self.r = draws
        self.as_of = _day(as_of)
        self.opened = self.as_of - round(SERVICE_YEARS * YEAR)
        self.rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
        self._last_id: dict[str, int] = {}

    def add(self, table: str, **values: Any) -> None:
        row = tuple(values.pop(c, None) for c in TABLES[table].column_names)
        if values:
            raise KeyError(f"{table} has no column(s) {sorted(values)}")
        self.rows[table].append(row)

    def resume_ids(self, last: dict[str, int]) -> None:
        """Number new rows on from an earlier extract's: prefix -> the last number used."""
        self._last_id.update(last)

    def next_id(self, prefix: str) -> str:
        n = self._last_id[prefix] = self._last_id.get(prefix, 0) + 1
        return f"{prefix}{n:07d}"

    def frames(self) -> dict[str, pl.DataFrame]:
        """The rows as typed frames: dates as dates, numbers as floats, booleans as booleans."""
        frames = {}
        for name, table in TABLES.items():
            schema = {c.name: _ROW_DTYPES.get(c.kind, pl.String) for c in table.columns}
            frame = pl.DataFrame(self.rows[name], schema=schema, orient="row")
            dates = [c.name for c in table.columns if c.kind == "date"]
            frames[name] = frame.with_columns(pl.col(dates).cast(pl.Date))
        return frames

    # Patients and referrals

    def patient(self, number: int, nhs_number: str | None, received: int | None = None) -> None:
        """A patient first referred on `received` (drawn over the service's years if None)."""
        r = self.r
        condition = r.pick(CONDITION_MIX)
        if received is None:  # referrals grow a little year on year
            received = self.opened + int((self.as_of - self.opened) * r.random() ** 0.85)
        age = _age_at_referral(r, condition)
        dob = received - int(age * YEAR)
        death = received + int(r.exponential(1 / _death_hazard(age, condition)) * YEAR)
        p = _Patient(
            f"P{number:06d}",
            dob,
            condition,
            _sex(r, condition),
            end=min(death, self.as_of),
            died=death <= self.as_of,
        )
        tone = None if r.chance(0.06) else r.pick(TONE_MIX.get(condition, TONE_DEFAULT))
        self.add(
            "patients",
            patient_id=p.id,
            nhs_number=nhs_number,
            date_of_birth=dob,
            sex=p.sex,
            primary_condition=condition,
            tone_pattern=tone,
            postcode=None if r.chance(0.02) else _postcode(r),
            date_of_death=death if p.died else None,
        )
        self._referrals(p, received)

    def _referrals(self, p: _Patient, received: int) -> None:
        """A referral; some declined or redirected patients are referred again later."""
        r = self.r
        while True:
            referral, outcome, triaged = self._referral(p, received)
            if outcome == "accepted" and triaged is not None:  # accepted means triaged
                self._assessment(p, referral, received, triaged)
                return
            if outcome == "pending" or not r.chance(0.25):
                return
            received += r.integer(90, 720)
            if received > p.end:
                return

    def _referral(self, p: _Patient, received: int) -> tuple[str, str, int | None]:
        """One referral; returns its id, triage outcome and triage day."""
        r = self.r
        referral = self.next_id("R")
        day = received + min(28, int(r.exponential(4)))
        triaged: int | None = None
        if day > p.end:
            outcome = "pending"
        else:
            outcome, triaged = r.pick(TRIAGE_MIX), day
        # A blank triage outcome means pending; some systems write the word.
        written = None if outcome == "pending" and r.chance(0.5) else outcome
        self.add(
            "referrals",
            referral_id=referral,
            patient_id=p.id,
            received_date=received,
            source=r.pick(SOURCE_MIX),
            triage_outcome=written,
            triage_date=triaged,
        )
        return referral, outcome, triaged

    # Appointments

    def _appointment(
        self, p: _Patient, referral: str | None, day: int, kind: str, status: str
    ) -> None:
        self.add(
            "appointments",
            appointment_id=self.next_id("A"),
            patient_id=p.id,
            referral_id=referral,
            appointment_date=day,
            type=kind,
            status=status,
        )

    def _attend(
        self,
        p: _Patient,
        referral: str | None,
        day: int,
        kind: str,
        statuses: Weighted = CLINIC_STATUS,
    ) -> int | None:
        """Book until attended: a DNA or cancellation is rebooked a few weeks later.
        Returns the day attended, or None when the next slot would be after the patient's end."""
        r = self.r
        bookings = 0
        while day <= p.end:
            bookings += 1
            status = r.pick(statuses) if bookings < MAX_BOOKINGS else "attended"
            self._appointment(p, referral, day, kind, status)
            if status == "attended":
                return day
            day += r.integer(7, 28) if status == "hospital_cancelled" else r.integer(14, 42)
        return None

    def _assessment(self, p: _Patient, referral: str, received: int, triaged: int) -> None:
        """First assessment (the wait target is 6 weeks), work-up, test dose, then a pump."""
        r = self.r
        first_slot = max(triaged + 7, received + int(r.lognormal(32, 0.4)))
        assessed = self._attend(p, referral, first_slot, "new_assessment")
        if assessed is None:
            return
        if not r.chance(0.8):  # not a candidate: a follow-up to agree other management
            self._attend(p, referral, assessed + r.integer(28, 90), "follow_up")
            return
        if r.chance(0.4):  # goal setting before the test dose
            self._attend(p, referral, assessed + r.integer(14, 42), "follow_up")
        positive = self._trials(p, referral, assessed + r.integer(42, 150))
        if positive is None or not r.chance(0.9):
            return
        trial_day, test_dose = positive
        implant_day = trial_day + min(300, max(21, int(r.lognormal(70, 0.5))))
        if implant_day > p.end:
            return
        pre_op = implant_day - r.integer(7, 21)
        self._appointment(p, referral, pre_op, "other", "attended")
        self._outcomes(p, pre_op, implant_day)
        # Start at the effective test dose per day, doubled when its effect wore off early.
        self._on_itb(p, implant_day, test_dose * (2 if r.chance(0.5) else 1))

    # The test dose

    def _trials(self, p: _Patient, referral: str, day: int) -> tuple[int, int] | None:
        """Bolus doses on consecutive days until one is positive; a catheter trial for a few.
        Returns (day, dose) of the positive trial, if any."""
        r = self.r
        if r.chance(0.08):
            return self._catheter_trial(p, referral, day)
        doses = (25, 50, 75) if p.age(day) < 8 else (50, 75, 100)  # less for small children
        for dose, response in zip(doses, BOLUS_RESPONSE, strict=True):
            if day > p.end:
                return None
            outcome = "positive" if r.chance(response) else r.pick(NOT_POSITIVE)
            self._trial(p, referral, day, "bolus_lumbar_puncture", dose, outcome)
            if outcome == "positive":
                return day, dose
            day += 1
        if r.chance(0.15):  # no response to boluses: some are offered a continuous infusion
            return self._catheter_trial(p, referral, day + r.integer(60, 180))
        return None

    def _catheter_trial(self, p: _Patient, referral: str, day: int) -> tuple[int, int] | None:
        r = self.r
        if day > p.end:
            return None
        dose = r.pick(CATHETER_TRIAL_DOSES)
        outcome = "positive" if r.chance(0.85) else r.pick(NOT_POSITIVE)
        self._trial(p, referral, day, "continuous_catheter", dose, outcome)
        return (day, dose) if outcome == "positive" else None

    def _trial(
        self, p: _Patient, referral: str, day: int, method: str, dose: int, outcome: str
    ) -> None:
        r = self.r
        self.add(
            "trials",
            trial_id=self.next_id("T"),
            patient_id=p.id,
            trial_date=day,
            method=method,
            dose_mcg=float(dose),
            outcome=outcome,
        )
        self._appointment(p, referral, day, "trial", "attended")
        if r.chance(TRIAL_COMPLICATION_CHANCE):
            kind = KIND[r.pick(TRIAL_HARMS)]
            event = _Event(min(p.end, day + r.integer(0, 1)), kind, _subtype(r, kind))
            self._complication(p, None, event, "trial")

    # Pumps

    def _on_itb(self, p: _Patient, day: int, start_dose: float) -> None:
        """Pumps from the first implant on: each explant leads to a replacement or ends ITB."""
        r = self.r
        child = p.age(day) < 12
        target = r.lognormal(180, 0.35) if child else r.lognormal(450, 0.35)
        dosing = _Dosing(
            float(start_dose), min(1500, max(80, target)), 500.0 if r.chance(0.9) else 2000.0
        )
        model = r.pick(PUMP_MODELS)
        reservoir = 20 if r.chance(0.8 if child else 0.3) else 40
        procedure = "new_implant"
        while day <= p.end:
            eri = None
            if model in BATTERY_MODELS:
                eri = day + int(r.uniform(*BATTERY_MONTHS) * YEAR / 12)
            pump = _Pump(self.next_id("I"), day, model, reservoir, eri)
            explant, reason = self._pump(p, pump, procedure, dosing)
            if explant is None or reason is None:
                return
            next_day = self._next_implant(explant, reason)
            if next_day is None:
                return
            if reason == "infection":  # restarted lower after months off ITB
                dosing.dose = float(round(dosing.dose * r.uniform(0.5, 0.8)))
            if r.chance(0.1):
                model = r.pick(PUMP_MODELS)
            if r.chance(0.15):
                reservoir = 60 - reservoir  # the other size
            day, procedure = next_day, "replacement"

    def _next_implant(self, explant: int, reason: str) -> int | None:
        """The day the next pump goes in, or None when ITB ends with this explant."""
        r = self.r
        if reason == "battery_end_of_life":
            return explant
        if reason == "malfunction":
            return explant if r.chance(0.6) else explant + r.integer(1, 21)
        if reason == "infection":  # re-implant once the infection has cleared
            return explant + r.integer(90, 240) if r.chance(0.75) else None
        if reason == "other":
            return explant + r.integer(0, 30) if r.chance(0.6) else None
        return None  # patient_choice, death

    def _pump(
        self, p: _Patient, pump: _Pump, procedure: str, dosing: _Dosing
    ) -> tuple[int, str] | tuple[None, None]:
        """One pump's life: complications, explant, refills and reviews."""
        r = self.r
        dosing.fit_concentration(r, pump.reservoir)
        first_due = _booking(r, pump.start, pump.reservoir, dosing)
        # Replacement is planned around the ERI (the pump stops 90 days after it).
        replace_on = pump.eri + r.integer(-60, 45) if pump.eri is not None else None
        horizon = p.end if replace_on is None else min(p.end, replace_on)
        events = self._complication_events(pump.start, horizon)
        explant, reason = ended = self._explant(p, pump, events, horizon, replace_on)
        self.add(
            "implants",
            implant_id=pump.id,
            patient_id=p.id,
            implant_date=pump.start,
            procedure=procedure,
            pump_model=pump.model,
            reservoir_ml=float(pump.reservoir),
            first_refill_due_date=(
                None if procedure == "new_implant" and r.chance(0.03) else first_due
            ),
            explant_date=explant,
            explant_reason=reason,
        )
        for event in events:
            if explant is None or event.day <= explant:
                early = event.day - pump.start <= POST_OPERATIVE_DAYS
                related = (
                    "implantation"
                    if early and event.kind.category in SURGICAL
                    else r.pick(event.kind.related)
                )
                self._complication(p, pump.id, event, related)
        stop = p.end + 1 if explant is None else explant
        self._refills(p, pump, first_due, stop, dosing)
        self._reviews(p, pump.start, stop)
        return ended

    def _complication_events(self, start: int, end: int) -> list[_Event]:
        """Complications while a pump is in (start..end), at the published rates; some
        categories cluster in the weeks or months after surgery."""
        r = self.r
        events = []
        t = start + r.exponential(YEAR / COMPLICATION_RATE)
        while t <= end:
            kind = r.pick(KIND_MIX)
            day = int(t)
            if r.chance(kind.early_share):
                day = min(day, start + int(kind.early_days * r.random() ** 2))
            events.append(_Event(day, kind, _subtype(r, kind)))
            t += r.exponential(YEAR / COMPLICATION_RATE)
        return sorted(events, key=lambda e: e.day)

    def _explant(
        self, p: _Patient, pump: _Pump, events: list[_Event], horizon: int, replace_on: int | None
    ) -> tuple[int, str] | tuple[None, None]:
        """When and why the pump comes out: the first of a complication, the patient's choice
        and the battery; a pump in at death is explanted that day, or left with no date."""
        r = self.r
        explant: tuple[int, str] | None = None
        culprit = None
        for event in events:
            risk = (
                0.0
                if event.subtype is None
                else EXPLANT_RISK.get((event.kind.category, event.subtype), 0.0)
            )
            if r.chance(risk):
                day = event.day + r.integer(0, 14)
                if day <= horizon:
                    explant, culprit = (day, EXPLANT_REASON[event.kind.category]), event
                    break
        elective = pump.start + int(r.exponential(YEAR / ELECTIVE_EXPLANT_RATE))
        if elective <= horizon and (explant is None or elective < explant[0]):
            explant, culprit = (elective, "patient_choice" if r.chance(0.7) else "other"), None
        # Earlier explants fall on or before the horizon, so no earlier than the battery's.
        if explant is None and replace_on is not None and replace_on <= p.end:
            explant = (replace_on, "battery_end_of_life")
        if explant is None and p.died and r.chance(0.5):
            explant = (p.end, "death")
        if culprit is not None:
            culprit.led_to_explant = True
        return explant if explant is not None else (None, None)

    def _complication(
        self, p: _Patient, implant: str | None, event: _Event, related: str | None
    ) -> None:
        r = self.r
        kind = event.kind
        severity = r.pick(kind.severity)
        surgery = event.led_to_explant or r.chance(kind.surgery)
        self.add(
            "complications",
            complication_id=self.next_id("C"),
            patient_id=p.id,
            implant_id=implant,
            event_date=event.day,
            category=kind.category,
            subtype=event.subtype,
            related_to=None if r.chance(0.04) else related,
            severity=severity,
            required_surgery=None if r.chance(0.04) else surgery,
            description=kind.description.format(subtype=(event.subtype or "").replace("_", " ")),
        )
        if severity == "severe":
            self._appointment(p, None, event.day, "emergency", "attended")

    # Refills and reviews

    def _refills(
        self,
        p: _Patient,
        pump: _Pump,
        due: int,
        stop: int,
        dosing: _Dosing,
        last: tuple[int, float] | None = None,
        earliest: int = 0,
    ) -> None:
        """Refills from the first due date until the pump comes out (stop is exclusive): each
        reads the residual, may adjust the dose, fills the pump and books the next visit.
        `last` (day, fill) and `earliest` continue a pump's refills from an earlier extract."""
        r = self.r
        last_day, fill = last if last is not None else (pump.start, float(pump.reservoir))
        while True:
            day = max(last_day + 7, due + _lateness(r), earliest)
            low_reservoir = last_day + int(dosing.days_to_low_reservoir(fill))
            if day > low_reservoir and r.chance(0.85):  # the pump's alarm brings most patients in
                day = max(last_day + 7, low_reservoir + r.integer(0, 2), earliest)
            if day >= stop:
                return
            if day - due > 3 and r.chance(0.5):  # the booked visit was missed
                self._appointment(p, None, due, "refill", r.pick(MISSED_REFILL_STATUS))
            used = dosing.ml_per_day() * (day - last_day)
            dry_day = last_day + math.ceil(fill / dosing.ml_per_day())
            if day - dry_day >= 2 and r.chance(0.15):  # ran dry before a late refill
                withdrawal = _Event(dry_day + r.integer(1, 2), KIND["withdrawal"], None)
                self._complication(p, pump.id, withdrawal, "refill")
            expected, actual = _residuals(r, max(0.0, fill - used), used, pump.reservoir)
            dosing.titrate(r)
            dosing.fit_concentration(r, pump.reservoir)
            fill = float(pump.reservoir if r.chance(0.85) else pump.reservoir - r.integer(1, 4))
            due = _booking(r, day, fill, dosing)
            eri_seen = pump.eri is not None and day >= pump.eri - 183  # the last ~6 months
            self.add(
                "refills",
                refill_id=self.next_id("F"),
                patient_id=p.id,
                implant_id=pump.id,
                refill_date=day,
                expected_residual_ml=expected,
                actual_residual_ml=actual,
                fill_volume_ml=fill,
                concentration_mcg_per_ml=dosing.conc,
                daily_dose_mcg=dosing.dose,
                next_due_date=None if r.chance(0.07) else due,
                reported_eri_date=pump.eri + r.integer(-7, 7)
                if pump.eri is not None and eri_seen
                else None,
            )
            self._appointment(p, None, day, "refill", "attended")
            last_day = day

    def _reviews(self, p: _Patient, start: int, stop: int) -> None:
        """The post-operative wound check, then a yearly review while the pump is in."""
        r = self.r
        day, year = start + r.integer(10, 42), 0
        while day < stop:
            self._attend(p, None, day, "follow_up", REVIEW_STATUS)
            year += 1
            day = start + int(year * YEAR) + r.integer(-30, 30)

    # Outcomes

    def _outcomes(self, p: _Patient, baseline: int, implant: int) -> None:
        """Measures at the pre-operative visit and, for most, about a year after implant."""
        r = self.r
        follow_up = implant + 365 + r.integer(-60, 60)
        followed = follow_up <= p.end and r.chance(0.85)
        for measure, share in MEASURE_SHARE.items():
            if not r.chance(share):
                continue
            before, after = _measure_pair(r, measure, p, implant)
            self.add(
                "outcomes", patient_id=p.id, assessment_date=baseline, measure=measure, value=before
            )
            if followed:
                self.add(
                    "outcomes",
                    patient_id=p.id,
                    assessment_date=follow_up,
                    measure=measure,
                    value=after,
                )


def _day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def _age_at_referral(r: Draws, condition: str) -> float:
    child = condition == "cerebral_palsy" and r.chance(CP_CHILD_SHARE)
    mean, sd, low, high = CP_CHILD if child else AGE_AT_REFERRAL[condition]
    return min(high, max(low, r.normal(mean, sd)))


def _death_hazard(age: float, condition: str) -> float:
    """Deaths per person-year: about 2% across the service, rising with age, higher in MS."""
    hazard = 0.016 * math.exp(0.045 * (age - 45))
    return min(0.2, hazard * (1.6 if condition == "multiple_sclerosis" else 1.0))


def _sex(r: Draws, condition: str) -> str:
    if r.chance(0.01):
        return "other" if r.chance(0.3) else "unknown"
    return "male" if r.chance(MALE_SHARE[condition]) else "female"


def _postcode(r: Draws) -> str:
    area, low, high = r.pick(POSTCODE_AREAS)
    first, second = (INWARD_LETTERS[r.integer(0, len(INWARD_LETTERS) - 1)] for _ in range(2))
    return f"{area}{r.integer(low, high)} {r.integer(0, 9)}{first}{second}"


def _subtype(r: Draws, kind: ComplicationKind) -> str | None:
    return None if kind.subtypes is None else r.pick(kind.subtypes)


def _booking(r: Draws, day: int, fill: float, dosing: _Dosing) -> int:
    """The next refill date: the computed alarm date (low reservoir, or the 180-day cap) less a
    3-5 day margin; a rare booking lands after it (a safety flag the dashboard should raise)."""
    alarm = day + int(dosing.days_to_alarm(fill))
    booked = alarm + r.integer(1, 10) if r.chance(0.005) else alarm - r.integer(3, 5)
    return max(day + 1, booked)


def _lateness(r: Draws) -> int:
    """Days after the booked date a refill happens: mostly on time or early, some days to weeks
    late, rarely months."""
    u = r.random()
    if u < 0.80:
        return -r.integer(0, 5)
    if u < 0.95:
        return r.integer(1, 10)
    if u < 0.99:
        return r.integer(11, 35)
    return r.integer(36, 90)


def _residuals(
    r: Draws, expected: float, used: float, reservoir: int
) -> tuple[float | None, float | None]:
    """(expected, actual) residual mL: the aspirated volume is within flow accuracy of the
    programmer's figure, except for a few discrepancies over 2 mL; a few visits record neither."""
    if r.chance(0.03):
        return None, None
    if r.chance(0.025):
        sign = 1 if expected < 5 or r.chance(0.3) else -1
        actual = expected + sign * r.uniform(2.2, 4.5)
    else:
        actual = expected + r.normal(0.0, 0.2 + 0.01 * used)
    return round(expected, 1), round(min(reservoir, max(0.0, actual)), 1)


def _measure_pair(r: Draws, measure: str, p: _Patient, implant: int) -> tuple[float, float]:
    """(baseline, one year) values of a measure, showing the usual improvement on ITB."""
    if measure == "mas":
        grade = r.pick(MAS_BASELINE)
        return MAS_GRADES[grade], MAS_GRADES[max(0, grade - r.pick(IMPROVEMENT))]
    if measure == "penn_spasm_frequency":
        score = r.pick(PENN_BASELINE)
        return float(score), float(max(0, score - r.pick(IMPROVEMENT)))
    if measure == "pain_nrs":
        pain = min(10, max(0, round(r.normal(6.5, 1.5))))
        return float(pain), float(min(10, max(0, pain - round(r.normal(2.0, 1.5)))))
    if measure == "gas_t_score":
        goals = r.integer(3, 5)
        return (
            _gas_t([r.pick(GAS_BASELINE) for _ in range(goals)]),
            _gas_t([r.pick(GAS_FOLLOW_UP) for _ in range(goals)]),
        )
    age = p.age(implant)
    if age < 16:
        weight = (2.5 * age + 8) * r.lognormal(1.0, 0.15)
    else:
        weight = r.normal(80, 14) if p.sex == "male" else r.normal(68, 13)
    weight = min(180.0, max(12.0, weight))
    gain = r.normal(1.0, 2.5) + (3.0 if age < 16 else 0.0)  # children also grow
    return round(weight, 1), round(min(300.0, max(1.0, weight + gain)), 1)


def _gas_t(scores: list[int]) -> float:
    """Goal attainment T-score, unweighted goals, rho = 0.3 (Kiresuk & Sherman)."""
    n = len(scores)
    return round(50 + 10 * sum(scores) / math.sqrt(0.7 * n + 0.3 * n * n), 1)


def nhs_numbers(rng: np.random.Generator, n: int) -> list[str | None]:
    """Distinct NHS numbers from the never-issued 999 range that pass Modulus 11, written with
    or without spaces, about 3% left blank."""
    candidates = 999_000_000 + rng.choice(
        1_000_000, size=min(1_000_000, n + n // 5 + 100), replace=False
    )
    digits = candidates[:, None] // 10 ** np.arange(8, -1, -1) % 10
    check = (11 - digits @ np.arange(10, 1, -1) % 11) % 11  # 11 -> 0
    numbers = candidates[check != 10] * 10 + check[check != 10]  # 10 means no valid number
    if len(numbers) < n:
        raise ValueError(f"the 999 range holds too few NHS numbers for {n} patients")
    spaced = rng.random(n) < 0.6
    blank = rng.random(n) < 0.03
    out: list[str | None] = []
    for number, space, empty in zip(numbers[:n].tolist(), spaced, blank, strict=True):
        text = f"{number:010d}"
        out.append(None if empty else f"{text[:3]} {text[3:6]} {text[6:]}" if space else text)
    return out
