"""Section 4, refill adherence. Period = 2024, as_of = 2024-12-31.

Settings: alarm 2 mL, cap 180 days, residual discrepancy 2 mL. Alarm days =
floor(min((fill - 2) * concentration / dose, 180)), never below 0.
"""

import datetime as dt

import pytest

from pipelines.config import Settings
from tests.fixtures.kpi_fixtures import Warehouse


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("refills") / "w.duckdb")

    def implant(iid, patient, implant_date, first_due=None, model="SynchroMed II", **kw):
        w.add(
            "implants",
            implant_id=iid,
            patient_id=patient,
            implant_date=implant_date,
            first_refill_due_date=first_due,
            pump_model=model,
            **kw,
        )

    def refill(rid, iid, patient, date, fill=20.0, conc=500.0, dose=100.0, next_due=None, **kw):
        w.add(
            "refills",
            refill_id=rid,
            implant_id=iid,
            patient_id=patient,
            refill_date=date,
            fill_volume_ml=fill,
            concentration_mcg_per_ml=conc,
            daily_dose_mcg=dose,
            next_due_date=next_due,
            **kw,
        )

    implant("I1", "F1", "2023-10-01", first_due="2024-01-01")
    # A: first refill, due = first_refill_due_date = its own date: on time.
    #    alarm = Jan 1 + (20-2)*500/100 = 90 days = 2024-03-31; booked for Apr 15: after alarm.
    #    residuals 5.0 vs 2.5: |2.5 - 5.0| = 2.5 > 2: discrepancy.
    refill(
        "A",
        "I1",
        "F1",
        "2024-01-01",
        next_due="2024-04-15",
        expected_residual_ml=5.0,
        actual_residual_ml=2.5,
    )
    # B: due = A's next_due_date Apr 15: 5 days late. Blank next_due_date; alarm =
    #    min(38*2000/400 = 190, 180) = 180 days = 2024-10-17.
    #    |2.4 - 4.4| = 2.0 (2.0000000000000004 in binary floating point): not > 2.
    refill(
        "B",
        "I1",
        "F1",
        "2024-04-20",
        fill=40.0,
        conc=2000.0,
        dose=400.0,
        expected_residual_ml=4.4,
        actual_residual_ml=2.4,
    )
    # C: due = B's computed alarm date Oct 17: 3 days late. alarm = 1.3*2000/100 = 26 days
    #    (25.999999999999996 in floating point) = 2024-11-15; booked for exactly that day:
    #    not after the alarm. Only one residual recorded: no discrepancy.
    refill(
        "C",
        "I1",
        "F1",
        "2024-10-20",
        fill=3.3,
        conc=2000.0,
        dose=100.0,
        next_due="2024-11-15",
        expected_residual_ml=9.0,
    )
    refill("K", "I1", "F1", "2025-01-05")  # after the period and as_of: ignored
    # (its alarm, Apr 5 2025, is not due)

    implant("I2", "F2", "2024-02-01")  # no first_refill_due_date
    # D: first refill, no due date. fill 1.5 <= alarm volume: alarm = refill date Mar 1,
    #    booked for Mar 2: after the alarm.
    refill("D", "I2", "F2", "2024-03-01", fill=1.5, next_due="2024-03-02")
    # E2 and E1 on the same day, inserted in this order: refill_id orders them, E1 first.
    # E1: due = D's Mar 2: 18 days late; alarm Mar 20 + 90 = Jun 18, booked Mar 25.
    #     |2.01 - 0| > 2: discrepancy.
    # E2: due = E1's Mar 25: on time. alarm = min(38*2000/100, 180) = 180 days = 2024-09-16,
    #     booked 2025-02-01: after the alarm.
    refill(
        "E2", "I2", "F2", "2024-03-20", fill=40.0, conc=2000.0, dose=100.0, next_due="2025-02-01"
    )
    refill(
        "E1",
        "I2",
        "F2",
        "2024-03-20",
        next_due="2024-03-25",
        expected_residual_ml=0.0,
        actual_residual_ml=2.01,
    )

    implant("I3", "F3", "2023-06-01", first_due="2023-09-01")
    # H before the period: blank next due, alarm = 18*500/200 = 45 days = 2024-01-15.
    refill("H", "I3", "F3", "2023-12-01", dose=200.0)
    refill("J", "I3", "F3", "2024-01-16", next_due="2024-04-01")  # due Jan 15: 1 day late

    # L on the day the patient died; due = first_refill_due_date Jun 1: on time.
    w.add("patients", patient_id="F8", date_of_death="2024-06-01")
    implant("I8", "F8", "2024-01-01", first_due="2024-06-01")
    refill("L", "I8", "F8", "2024-06-01", next_due="2024-08-01")

    # Pumps without refills, for overdue_now
    implant("I4", "F4", "2024-11-01", first_due="2024-12-30")  # overdue
    implant("I5", "F5", "2024-11-15", first_due="2025-02-01")  # not yet due
    implant("I6", "F6", "2024-05-01")  # no due date at all
    implant(
        "I7",
        "F7",
        "2024-01-01",
        first_due="2024-03-01",  # explanted on as_of
        explant_date="2024-12-31",
        explant_reason="other",
    )
    implant("I9", "F9", "2024-02-01", first_due="2024-06-01", model="Codman 3000")  # overdue
    implant("I10", "F10", "2024-10-01", first_due="2024-12-31")  # due on as_of: not overdue
    yield w
    w.close()


def test_due_dates_and_alarm_dates(wh):
    rows = {r["refill_id"]: r for r in wh.rows("refills")}
    assert set(rows) == {"A", "B", "C", "D", "E1", "E2", "J", "L"}
    d = dt.date.fromisoformat
    assert {k: r["due_date"] for k, r in rows.items()} == {
        "A": d("2024-01-01"),
        "B": d("2024-04-15"),
        "C": d("2024-10-17"),
        "D": None,
        "E1": d("2024-03-02"),
        "E2": d("2024-03-25"),
        "J": d("2024-01-15"),
        "L": d("2024-06-01"),
    }
    assert rows["A"]["alarm_date"] == d("2024-03-31")
    assert rows["B"]["alarm_date"] == d("2024-10-17")  # capped at 180 days
    assert rows["C"]["alarm_date"] == d("2024-11-15")  # 26 days, floating point safe
    assert rows["D"]["alarm_date"] == d("2024-03-01")  # never before the refill date
    assert rows["E2"]["alarm_date"] == d("2024-09-16")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # One month: C is I1's third refill, due on B's alarm date although A and B are outside it.
        ("2024-10-01", "2024-10-31", {"C": (3, "2024-10-17")}),
        # One day, two refills: E2's due date is E1's booking, made the same day; D (Mar 1) is only
        # history; K (2025) is after the period.
        ("2024-03-20", "2024-03-20", {"E1": (2, "2024-03-02"), "E2": (3, "2024-03-25")}),
        # A period that ends on a refill day: B's due date needs A, from before the period.
        ("2024-04-02", "2024-04-20", {"B": (2, "2024-04-15")}),
    ],
)
def test_a_short_period_sequences_its_refills_by_the_whole_history(wh, start, end, expected):
    d = dt.date.fromisoformat
    rows = wh.rows("refills", start=d(start), end=d(end))
    assert {r["refill_id"]: (r["refill_number"], str(r["due_date"])) for r in rows} == expected


def test_adherence(wh):
    refills = wh.kpis()["refills"]
    assert refills["on_time"] == 3  # A, E2, L
    assert refills["late"] == 4  # B 5, C 3, E1 18, J 1
    assert refills["without_due_date"] == 1  # D
    assert refills["rate"] == 0.428571  # 3 / 7
    assert (refills["rate_ci_low"], refills["rate_ci_high"]) == (0.15822, 0.749542)  # Wilson 3/7
    assert refills["median_days_late"] == 4.0  # 1, 3, 5, 18 -> (3 + 5) / 2


def test_safety_flags(wh):
    refills = wh.kpis()["refills"]
    assert refills["booked_after_alarm"] == 3  # A, D, E2
    assert refills["residual_discrepancies"] == 2  # A (2.5), E1 (2.01); B's 2.0 is not > 2
    rows = {r["refill_id"]: r for r in wh.rows("refills")}
    assert rows["B"]["residual_difference_ml"] == 2.0


def test_overdue_now(wh):
    # I1: latest refill <= as_of is C (K is after as_of): due 2024-11-15: overdue.
    # I2: latest is E2 (ties broken by refill_id): due 2025-02-01, not overdue (E1's would be).
    # I3: J's 2024-04-01 < as_of: overdue. I4: first due 2024-12-30: overdue.
    # I9: no battery, still a pump to refill: overdue. I5 not due; I6 no due date;
    # I10 due on as_of (not before it); I7 explanted on as_of and I8's patient died: not active.
    assert wh.kpis()["refills"]["overdue_now"] == 4
    pumps = {r["implant_id"]: r for r in wh.rows("active_pumps")}
    assert set(pumps) == {"I1", "I2", "I3", "I4", "I5", "I6", "I9", "I10"}
    assert sorted(k for k, r in pumps.items() if r["overdue_now"]) == ["I1", "I3", "I4", "I9"]
    assert pumps["I6"]["current_due_date"] is None


def test_other_alarm_settings_change_the_alarm_date(wh):
    rows = {
        r["refill_id"]: r
        for r in wh.rows(
            "refills", settings=Settings(alarm_volume_ml=5.0, max_refill_interval_days=100)
        )
    }
    # A: (20-5)*500/100 = 75 days -> 2024-03-16; B: 35*2000/400 = 175 -> capped at 100 -> Jul 29
    assert str(rows["A"]["alarm_date"]) == "2024-03-16"
    assert str(rows["B"]["alarm_date"]) == "2024-07-29"
