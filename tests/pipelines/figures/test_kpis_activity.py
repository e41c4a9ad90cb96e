"""Section 6, activity for commissioners. Period = 2024."""

from tests.fixtures.kpi_fixtures import Warehouse


def test_activity(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    for rid, received, triage in [
        ("R1", "2024-01-01", "accepted"),
        ("R2", "2024-12-31", "declined"),
        ("R3", "2023-12-31", "accepted"),
        ("R4", "2025-01-01", "pending"),
    ]:
        w.add(
            "referrals",
            referral_id=rid,
            patient_id="P1",
            received_date=received,
            triage_outcome=triage,
        )
    for aid, date, type_, status in [
        ("A1", "2024-01-01", "new_assessment", "attended"),
        ("A2", "2024-02-01", "new_assessment", "dna"),
        ("A3", "2024-03-01", "follow_up", "attended"),
        ("A4", "2024-12-31", "refill", "dna"),
        ("A5", "2024-04-01", "trial", "patient_cancelled"),
        ("A6", "2024-05-01", "new_assessment", "hospital_cancelled"),
        ("A7", "2023-12-31", "new_assessment", "attended"),
    ]:
        w.add(
            "appointments",
            appointment_id=aid,
            patient_id="P1",
            appointment_date=date,
            type=type_,
            status=status,
        )
    for tid, date in [
        ("T1", "2024-01-10"),
        ("T2", "2024-01-11"),
        ("T3", "2024-01-12"),
        ("T4", "2023-12-01"),
    ]:
        w.add("trials", trial_id=tid, patient_id="P1", trial_date=date)
    w.add(
        "implants",
        implant_id="I0",
        patient_id="P2",
        implant_date="2023-12-31",
        explant_date="2024-06-01",
        explant_reason="battery_end_of_life",
    )
    w.add("implants", implant_id="I1", patient_id="P1", implant_date="2024-06-01")
    w.add(
        "implants",
        implant_id="I2",
        patient_id="P2",
        implant_date="2024-06-01",
        procedure="replacement",
    )
    for fid, date in [("F1", "2024-07-01"), ("F2", "2024-12-31"), ("F3", "2025-01-02")]:
        w.add("refills", refill_id=fid, patient_id="P1", implant_id="I1", refill_date=date)

    activity = w.kpis()["activity"]
    assert activity["referrals_received"] == 2  # R1, R2 (declined still received)
    assert activity["new_assessments_attended"] == 1  # A1
    assert activity["trials"] == 3  # T1-T3: trials, not patients
    assert activity["new_implants"] == 1  # I1 (I0 is before the period)
    assert activity["replacements"] == 1  # I2
    assert activity["refills"] == 2  # F1, F2
    # attended A1, A3; DNA A2, A4; cancellations count in neither -> 2 / (2 + 2)
    assert (activity["appointments_attended"], activity["appointments_dna"]) == (2, 2)
    assert activity["dna_rate"] == 0.5
    assert (activity["dna_rate_ci_low"], activity["dna_rate_ci_high"]) == (0.150039, 0.849961)
    w.close()
