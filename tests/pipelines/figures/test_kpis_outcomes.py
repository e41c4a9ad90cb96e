"""Section 7, outcomes. Period 2023-01-01 .. 2024-12-31, as_of = 2024-12-31."""

import datetime as dt

from pipelines.contract import MEASURES
from tests.fixtures.kpi_fixtures import Warehouse

START, END = dt.date(2023, 1, 1), dt.date(2024, 12, 31)


def test_outcomes(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")

    def implant(iid, patient, date, procedure="new_implant"):
        w.add(
            "implants", implant_id=iid, patient_id=patient, implant_date=date, procedure=procedure
        )

    def value(patient, date, measure, v):
        w.add("outcomes", patient_id=patient, assessment_date=date, measure=measure, value=v)

    # O1: implant 2023-03-01; target 2023-03-01 + 365 = 2024-02-29 (leap year)
    implant("I1", "O1", "2023-03-01")
    value("O1", "2022-09-02", "mas", 3.0)  # exactly 180 days before: the baseline
    value("O1", "2024-02-19", "mas", 2.0)  # 10 days before target
    value("O1", "2024-03-05", "mas", 1.5)  # 5 days after target: closer, the follow-up
    value("O1", "2023-02-01", "weight_kg", 70.0)
    value("O1", "2024-02-29", "weight_kg", 72.5)
    # O2: implant 2023-06-01; target 2024-05-31
    implant("I2", "O2", "2023-06-01")
    value("O2", "2022-12-02", "mas", 4.0)  # 181 days before: no baseline
    value("O2", "2024-05-31", "mas", 2.0)  # follow-up, but unpaired
    value("O2", "2023-05-01", "pain_nrs", 6.0)
    value("O2", "2023-05-20", "pain_nrs", 5.0)  # the latest in the window: baseline
    value("O2", "2024-05-21", "pain_nrs", 3.0)  # 10 days before target
    value("O2", "2024-06-10", "pain_nrs", 4.0)  # 10 days after: a tie, the earlier wins
    # O3: first new_implant on the period's first day; a later replacement changes nothing
    implant("I3", "O3", "2023-01-01")
    implant("I3b", "O3", "2024-05-01", procedure="replacement")
    value("O3", "2022-12-01", "mas", 2.5)
    value("O3", "2023-10-03", "mas", 2.0)  # target 2024-01-01 - 90 days: in the window
    value("O3", "2023-01-01", "pain_nrs", 8.0)  # baseline on the implant day
    value("O3", "2024-04-01", "pain_nrs", 2.0)  # target + 91 days: outside
    # O4: implant 2024-03-01; target 2025-03-01, window from 2024-12-01, only up to as_of
    implant("I4", "O4", "2024-03-01")
    value("O4", "2024-02-01", "mas", 3.0)
    value("O4", "2024-12-15", "mas", 1.0)  # 76 days before target, before as_of
    value("O4", "2025-03-01", "mas", 0.5)  # on target, but after as_of: excluded
    # O5: first new_implant before the period; O6: only a replacement in the period
    implant("I5", "O5", "2022-05-01")
    implant("I5b", "O5", "2023-06-01", procedure="replacement")
    value("O5", "2023-05-01", "mas", 4.0)
    value("O5", "2024-06-01", "mas", 1.0)
    implant("I6", "O6", "2023-06-01", procedure="replacement")
    value("O6", "2023-05-01", "mas", 4.0)
    value("O6", "2024-06-01", "mas", 1.0)

    outcomes = w.kpis(START, END)["outcomes"]
    assert list(outcomes) == list(MEASURES)  # always all five
    # mas pairs: O1 3.0 -> 1.5, O3 2.5 -> 2.0, O4 3.0 -> 1.0
    # completeness: the 4 cohort patients are due on every measure
    # mas: baselines O1, O3, O4 (O2's is 181 days before); follow-ups O1, O2, O3, O4
    assert outcomes["mas"] == {
        "patients_due": 4,
        "patients_with_baseline": 3,
        "patients_with_followup": 4,
        "patients_paired": 3,
        "baseline_mean": 2.833333,  # 8.5 / 3
        "followup_mean": 1.5,  # 4.5 / 3
        "mean_change": -1.333333,  # (-1.5 - 0.5 - 2.0) / 3
    }
    assert outcomes["pain_nrs"] == {  # O2 only: 5 -> 3; O3 has a baseline only
        "patients_due": 4,
        "patients_with_baseline": 2,
        "patients_with_followup": 1,
        "patients_paired": 1,
        "baseline_mean": 5.0,
        "followup_mean": 3.0,
        "mean_change": -2.0,
    }
    assert outcomes["weight_kg"] == {  # O1 only: 70 -> 72.5
        "patients_due": 4,
        "patients_with_baseline": 1,
        "patients_with_followup": 1,
        "patients_paired": 1,
        "baseline_mean": 70.0,
        "followup_mean": 72.5,
        "mean_change": 2.5,
    }
    assert outcomes["penn_spasm_frequency"] == {
        "patients_due": 4,
        "patients_with_baseline": 0,
        "patients_with_followup": 0,
        "patients_paired": 0,
        "baseline_mean": None,
        "followup_mean": None,
        "mean_change": None,
    }
    rows = {(r["patient_id"], r["measure"]): r for r in w.rows("outcomes", START, END)}
    assert rows[("O2", "mas")]["baseline_value"] is None and not rows[("O2", "mas")]["paired"]
    assert rows[("O3", "pain_nrs")]["followup_value"] is None
    assert {p for p, _ in rows} == {"O1", "O2", "O3", "O4"}
    w.close()


def test_outcomes_12m_is_the_cohort_whose_one_year_review_falls_due_in_the_period(tmp_path):
    """Period 2024 (a leap year), as_of 2024-12-31: first new_implant + 365 days in 2024 means a
    first new_implant from 2023-01-01 to 2024-01-01, both inclusive."""
    w = Warehouse(tmp_path / "w.duckdb")

    def implant(iid, patient, date, procedure="new_implant"):
        w.add(
            "implants", implant_id=iid, patient_id=patient, implant_date=date, procedure=procedure
        )

    def value(patient, date, measure, v):
        w.add("outcomes", patient_id=patient, assessment_date=date, measure=measure, value=v)

    # Q1: implant 2023-01-01 + 365 = 2024-01-01, the period's first day: in the cohort
    implant("I1", "Q1", "2023-01-01")
    value("Q1", "2022-07-05", "mas", 3.0)  # implant - 180 exactly: the baseline
    value("Q1", "2023-10-03", "mas", 2.0)  # target - 90 exactly: the follow-up
    value("Q1", "2024-04-01", "mas", 1.0)  # target + 91: outside the window
    value("Q1", "2022-12-02", "pain_nrs", 8.0)
    value("Q1", "2023-10-02", "pain_nrs", 7.0)  # target - 91: outside
    value("Q1", "2024-03-31", "pain_nrs", 5.0)  # target + 90 exactly: the follow-up
    value("Q1", "2022-12-22", "weight_kg", 78.0)
    value("Q1", "2023-12-27", "weight_kg", 80.0)  # target - 5 and ...
    value("Q1", "2024-01-06", "weight_kg", 82.0)  # ... target + 5: a tie, the earlier wins
    # Q2: implant 2024-01-01 + 365 = 2024-12-31, the period's last day (and as_of): in the cohort
    implant("I2", "Q2", "2024-01-01")
    value("Q2", "2023-07-04", "mas", 4.0)  # implant - 181: no baseline
    value("Q2", "2024-12-31", "mas", 1.5)  # on the target day = as_of: the follow-up
    value("Q2", "2024-01-01", "pain_nrs", 6.0)  # on the implant day: the baseline
    value("Q2", "2024-01-02", "pain_nrs", 9.0)  # after the implant: not a baseline
    value("Q2", "2024-12-20", "pain_nrs", 4.0)  # target - 11: the follow-up, because ...
    value("Q2", "2025-01-01", "pain_nrs", 3.0)  # ... target + 1 is after as_of
    # Out: Q0's review fell due the day before the period, Q3's the day after it; Q5's first
    # new_implant is 2022 (a second new_implant does not restart it); Q4 only had a replacement.
    implant("I0", "Q0", "2022-12-31")
    implant("I3", "Q3", "2024-01-02")
    implant("I5", "Q5", "2022-06-01")
    implant("I5b", "Q5", "2023-06-01")
    implant("I4", "Q4", "2023-06-01", procedure="replacement")
    for patient, implant_day, review_day in [
        ("Q0", "2022-12-01", "2023-12-31"),
        ("Q5", "2022-05-01", "2023-06-01"),
        ("Q4", "2023-05-01", "2024-06-01"),
    ]:
        value(patient, implant_day, "mas", 9.0)
        value(patient, review_day, "mas", 0.0)

    result = w.kpis()
    twelve = result["outcomes_12m"]
    assert list(twelve) == list(MEASURES)
    # mas: Q1 3.0 -> 2.0 paired; Q2 has a follow-up only
    assert twelve["mas"] == {
        "patients_due": 2,
        "patients_with_baseline": 1,
        "patients_with_followup": 2,
        "patients_paired": 1,
        "baseline_mean": 3.0,
        "followup_mean": 2.0,
        "mean_change": -1.0,
    }
    # pain: Q1 8 -> 5, Q2 6 -> 4: means 7 -> 4.5, change (-3 - 2) / 2
    assert twelve["pain_nrs"] == {
        "patients_due": 2,
        "patients_with_baseline": 2,
        "patients_with_followup": 2,
        "patients_paired": 2,
        "baseline_mean": 7.0,
        "followup_mean": 4.5,
        "mean_change": -2.5,
    }
    assert twelve["weight_kg"] == {
        "patients_due": 2,
        "patients_with_baseline": 1,
        "patients_with_followup": 1,
        "patients_paired": 1,
        "baseline_mean": 78.0,
        "followup_mean": 80.0,
        "mean_change": 2.0,
    }
    assert twelve["gas_t_score"] == {
        "patients_due": 2,
        "patients_with_baseline": 0,
        "patients_with_followup": 0,
        "patients_paired": 0,
        "baseline_mean": None,
        "followup_mean": None,
        "mean_change": None,
    }
    rows = w.rows("outcomes_12m")
    assert {r["patient_id"] for r in rows} == {"Q1", "Q2"} and len(rows) == 2 * len(MEASURES)
    # The implanted-in-the-period cohort is another: Q2 and Q3 (Q3 with no value yet)
    assert result["outcomes"]["mas"]["patients_due"] == 2
    assert {r["patient_id"] for r in w.rows("outcomes")} == {"Q2", "Q3"}
    w.close()
