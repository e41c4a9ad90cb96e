"""Section 2, trial (test dose) response. Period = 2024."""

from tests.fixtures.kpi_fixtures import Warehouse


def test_trial_response(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    conditions = {
        "T1": "multiple_sclerosis",
        "T2": "multiple_sclerosis",
        "T3": "cerebral_palsy",
        "T4": "cerebral_palsy",
        "T5": "stroke",
        "T6": "spinal_cord_injury",
        "T7": "multiple_sclerosis",
    }
    for patient, condition in conditions.items():
        w.add("patients", patient_id=patient, primary_condition=condition)
    trials = [
        ("T1", "2024-01-01", "negative"),
        ("T1", "2024-03-01", "positive"),  # responder
        ("T2", "2024-12-31", "negative"),  # non-responder
        ("T3", "2024-05-01", "inconclusive"),
        ("T3", "2025-01-15", "positive"),  # positive after
        ("T4", "2023-12-31", "positive"),
        ("T4", "2024-02-01", "negative"),  # first before period
        ("T5", "2024-06-01", "inconclusive"),
        ("T5", "2024-06-15", "negative"),  # non-responder
        ("T6", "2025-01-01", "positive"),  # first after period
        ("T7", "2024-07-01", "negative"),
        ("T7", "2024-08-01", "positive"),  # responder
    ]
    for i, (patient, date, outcome) in enumerate(trials):
        w.add("trials", trial_id=f"X{i}", patient_id=patient, trial_date=date, outcome=outcome)

    result = w.kpis()["trials"]
    # cohort T1, T2, T3, T5, T7; T3's positive trial is after the period's end: inconclusive
    assert result["patients"] == 5
    assert (result["responders"], result["non_responders"], result["inconclusive"]) == (2, 2, 1)
    assert result["rate"] == 0.5  # 2 / (2 + 2)
    assert (result["rate_ci_low"], result["rate_ci_high"]) == (0.150039, 0.849961)  # Wilson 2/4
    by_condition = result["by_condition"]
    # only conditions with a cohort patient (T4 and T6 are not in the cohort)
    assert list(by_condition) == ["multiple_sclerosis", "cerebral_palsy", "stroke"]
    ms = by_condition["multiple_sclerosis"]  # T1, T7 responders; T2 non-responder
    assert (ms["responders"], ms["non_responders"], ms["inconclusive"]) == (2, 1, 0)
    assert ms["rate"] == 0.666667  # 2/3
    assert (ms["rate_ci_low"], ms["rate_ci_high"]) == (0.20766, 0.938508)  # Wilson 2/3
    cp = by_condition["cerebral_palsy"]  # T3 inconclusive: no denominator
    assert (cp["inconclusive"], cp["rate"], cp["rate_ci_low"], cp["rate_ci_high"]) == (
        1,
        None,
        None,
        None,
    )
    assert by_condition["stroke"]["rate"] == 0.0  # 0/1
    w.close()
