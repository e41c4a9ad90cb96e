"""Section 1, waits: referral received to first attended new assessment. Period = 2024."""

import pytest

from pipelines.config import Settings
from tests.fixtures.kpi_fixtures import Warehouse


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("waits") / "w.duckdb")

    def referral(rid, received, patient=None, triage="accepted"):
        w.add(
            "referrals",
            referral_id=rid,
            patient_id=patient or f"P{rid}",
            received_date=received,
            triage_outcome=triage,
        )

    def appointment(aid, rid, date, type_="new_assessment", status="attended", patient=None):
        w.add(
            "appointments",
            appointment_id=aid,
            patient_id=patient or f"P{rid}",
            referral_id=rid,
            appointment_date=date,
            type=type_,
            status=status,
        )

    # Seen in the period
    referral("R1", "2023-12-01")  # DNA first, then attended on
    appointment("A1a", "R1", "2023-12-20", status="dna")  # the period's first day:
    appointment("A1b", "R1", "2024-01-01")  # wait 31
    referral("R2", "2024-11-19")  # attended on the last day:
    appointment("A2", "R2", "2024-12-31")  # wait 11 + 31 = 42 (= target)
    referral("R3", "2024-03-01")
    appointment("A3a", "R3", "2024-02-20")  # before received: ignored
    appointment("A3b", "R3", "2024-04-13")  # wait 30 + 13 = 43
    referral("R4", "2024-05-01")
    appointment("A4a", "R4", "2024-05-10", type_="follow_up")  # not a new assessment
    appointment("A4b", "R4", "2024-05-11")  # wait 10
    # Out of scope, or stopped before the period
    referral("R5", "2024-02-01", triage="declined")
    appointment("A5", "R5", "2024-02-10")
    referral("R6", "2024-06-01", triage="redirected")
    referral("R7", "2023-06-01")
    appointment("A7", "R7", "2023-07-01")
    # Open at as_of 2024-12-31
    referral("R8", "2024-11-20")  # 10 + 31 = 41 days
    referral("R9", "2024-11-18", triage="pending")  # 43 days: over target
    w.add("patients", patient_id="PR11", date_of_death="2025-01-05")
    referral("R11", "2024-12-01")  # dies after as_of: 30 days
    referral("R12", "2024-10-01")  # stop after as_of: 91 days
    appointment("A12", "R12", "2025-01-10")
    referral("R13", "2024-12-31")  # received on as_of: 0 days
    referral("R15", "2024-08-01")  # 152 days; its appointment
    w.add(
        "appointments",
        appointment_id="A15",
        patient_id="PR15",  # has no referral_id
        appointment_date="2024-08-10",
        type="new_assessment",
        status="attended",
    )
    # Not open
    w.add("patients", patient_id="PR10", date_of_death="2024-10-01")
    referral("R10", "2024-06-01")  # died before as_of
    w.add("patients", patient_id="PR16", date_of_death="2024-12-31")
    referral("R16", "2024-06-01")  # died on as_of
    referral("R14", "2025-01-02")  # received after as_of
    yield w
    w.close()


def test_seen_waits(wh):
    waits = wh.kpis()["waits"]
    # waits 31, 42, 43, 10 -> sorted 10, 31, 42, 43
    assert waits["seen"] == 4
    assert waits["median_wait_days"] == 36.5  # (31 + 42) / 2, an even count
    assert waits["mean_wait_days"] == 31.5  # 126 / 4
    assert waits["within_target"] == 3  # 10, 31, 42 (<= 42)
    assert waits["rate_within_target"] == 0.75
    # Wilson 3/4: centre = (0.75 + 3.841459/8) / (1 + 3.841459/4) = 1.230182 / 1.960365
    #   = 0.627528; half = 1.959964 * sqrt(0.046875 + 0.060023) / 1.960365 = 0.326886
    assert waits["rate_within_target_ci_low"] == 0.300642
    assert waits["rate_within_target_ci_high"] == 0.954413


def test_clock_stop_rows(wh):
    rows = {r["referral_id"]: r for r in wh.rows("waits")}
    assert str(rows["R1"]["clock_stop"]) == "2024-01-01"  # the DNA did not stop the clock
    assert str(rows["R3"]["clock_stop"]) == "2024-04-13"  # the earlier appointment is ignored
    assert rows["R3"]["wait_days"] == 43 and not rows["R3"]["within_target"]
    assert rows["R12"]["seen"] is False and rows["R12"]["is_open"]
    assert {"R5", "R6", "R7", "R10", "R14", "R16"}.isdisjoint(rows)


def test_open_referrals(wh):
    waits = wh.kpis()["waits"]
    # open: R8 (41), R9 (43), R11 (30), R12 (91), R13 (0), R15 (152)
    assert waits["open"] == 6
    # over 42 days: R9, R12, R15
    assert waits["open_over_target"] == 3


def test_wait_target_setting(wh):
    waits = wh.kpis(settings=Settings(wait_target_days=30))["waits"]
    assert waits["within_target"] == 1  # only the 10-day wait
    assert waits["open_over_target"] == 4  # 41, 43, 91, 152 (> 30); 30 itself is not
