"""Section 7, outcomes. Period 2023-01-01 .. 2024-12-31, as_of = 2024-12-31."""

import datetime as dt

from pipelines.contract import MEASURES
from tests.fixtures.kpi_fixtures import Warehouse

START, END = dt.date(2023, 1, 1), dt.date(2024, 12, 31)


def test_outcomes(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")

    def implant(iid, patient, date, procedure="new_implant"):
        w.add("implants", implant_id=iid, patient_id=patient, implant_date=date, procedure=procedure)

    def value(patient, date, measure, v):
        w.add("outcomes", patient_id=patient, assessment_date=date, measure=measure, value=v)

    # O1: implant 2023-03-01; target 2023-03-01 + 365 = 2024-02-29 (leap year)
    implant("I1", "O1", "2023-03-01")
    value("O1", "2022-09-02", "mas", 3.0)      # exactly 180 days before: the baseline
    value("O1", "2024-02-19", "mas", 2.0)      # 10 days before target
    value("O1", "2024-03-05", "mas", 1.5)      # 5 days after target: closer, the follow-up
    value("O1", "2023-02-01", "weight_kg", 70.0)
    value("O1", "2024-02-29", "weight_kg", 72.5)
    # O2: implant 2023-06-01; target 2024-05-31
    implant("I2", "O2", "2023-06-01")
    value("O2", "2022-12-02", "mas", 4.0)      # 181 days before: no baseline
    value("O2", "2024-05-31", "mas", 2.0)      # follow-up, but unpaired
    value("O2", "2023-05-01", "pain_nrs", 6.0)
    value("O2", "2023-05-20", "pain_nrs", 5.0)  # the latest in the window: baseline
    value("O2", "2024-05-21", "pain_nrs", 3.0)  # 10 days before target
    value("O2", "2024-06-10", "pain_nrs", 4.0)  # 10 days after: a tie, the earlier wins
    # O3: first new_implant on the period's first day; a later replacement changes nothing
    implant("I3", "O3", "2023-01-01")
    implant("I3b", "O3", "2024-05-01", procedure="replacement")
    value("O3", "2022-12-01", "mas", 2.5)
    value("O3", "2023-10-03", "mas", 2.0)      # target 2024-01-01 - 90 days: in the window
    value("O3", "2023-01-01", "pain_nrs", 8.0)  # baseline on the implant day
    value("O3", "2024-04-01", "pain_nrs", 2.0)  # target + 91 days: outside
    # O4: implant 2024-03-01; target 2025-03-01, window from 2024-12-01, only up to as_of
    implant("I4", "O4", "2024-03-01")
    value("O4", "2024-02-01", "mas", 3.0)
    value("O4", "2024-12-15", "mas", 1.0)      # 76 days before target, before as_of
    value("O4", "2025-03-01", "mas", 0.5)      # on target, but after as_of: excluded
    # O5: first new_implant before the period; O6: only a replacement in the period
    implant("I5", "O5", "2022-05-01")
    implant("I5b", "O5", "2023-06-01", procedure="replacement")
    value("O5", "2023-05-01", "mas", 4.0)
    value("O5", "2024-06-01", "mas", 1.0)
    implant("I6", "O6", "2023-06-01", procedure="replacement")
    value("O6", "2023-05-01", "mas", 4.0)
    value("O6", "2024-06-01", "mas", 1.0)

    outcomes = w.kpis(START, END)["outcomes"]
    assert list(outcomes) == list(MEASURES)    # always all five
    # mas pairs: O1 3.0 -> 1.5, O3 2.5 -> 2.0, O4 3.0 -> 1.0
    assert outcomes["mas"] == {
        "patients_paired": 3,
        "baseline_mean": 2.833333,             # 8.5 / 3
        "followup_mean": 1.5,                  # 4.5 / 3
        "mean_change": -1.333333,              # (-1.5 - 0.5 - 2.0) / 3
    }
    assert outcomes["pain_nrs"] == {           # O2 only: 5 -> 3
        "patients_paired": 1, "baseline_mean": 5.0, "followup_mean": 3.0, "mean_change": -2.0}
    assert outcomes["weight_kg"] == {          # O1 only: 70 -> 72.5
        "patients_paired": 1, "baseline_mean": 70.0, "followup_mean": 72.5, "mean_change": 2.5}
    assert outcomes["penn_spasm_frequency"] == {
        "patients_paired": 0, "baseline_mean": None, "followup_mean": None, "mean_change": None}
    rows = {(r["patient_id"], r["measure"]): r for r in w.rows("outcomes", START, END)}
    assert rows[("O2", "mas")]["baseline_value"] is None and not rows[("O2", "mas")]["paired"]
    assert rows[("O3", "pain_nrs")]["followup_value"] is None
    assert {p for p, _ in rows} == {"O1", "O2", "O3", "O4"}
    w.close()
