"""Section 3, complications: exposure, counted events, incidence, rates.
Period = 2024 (366 days)."""

import pytest

from pipelines.config import Settings
from pipelines.contract import COMPLICATION_CATEGORIES
from tests.fixtures.kpi_fixtures import Warehouse


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("complications") / "w.duckdb")

    def implant(iid, patient, implant_date, explant_date=None):
        w.add(
            "implants",
            implant_id=iid,
            patient_id=patient,
            implant_date=implant_date,
            explant_date=explant_date,
            explant_reason="other" if explant_date else None,
        )

    def event(cid, patient, date, category, related_to=None):
        w.add(
            "complications",
            complication_id=cid,
            patient_id=patient,
            event_date=date,
            category=category,
            related_to=related_to,
        )

    implant("I1", "C1", "2023-06-01")  # whole period: 366 days
    event("E1", "C1", "2024-03-01", "catheter")
    event("E2", "C1", "2024-09-01", "catheter")
    event("E3", "C1", "2024-05-01", "infection")
    implant("I2", "C2", "2023-01-01", "2024-01-01")  # explanted on the first day: 0 days
    implant("I3", "C3", "2024-12-31")  # implanted on the last day: 1 day
    event("E4", "C3", "2024-12-31", "weight_gain")
    w.add("patients", patient_id="C4", date_of_death="2024-07-01")
    implant("I4", "C4", "2024-03-01")  # dies with the pump in situ:
    event("E5", "C4", "2024-07-01", "wound")  # Mar 1 -> Jul 1 = 31+30+31+30 = 122
    event("E6", "C5", "2024-04-01", "other", "trial")  # never implanted: outside exposure
    implant("I6", "C6", "2024-06-01", "2024-08-01")  # Jun 1 -> Aug 1 = 30 + 31 = 61 days
    event("E7", "C6", "2024-08-01", "infection")  # on the explant day: in situ
    event("E8", "C6", "2024-09-01", "infection")  # after explant: outside exposure
    implant("I7", "C7", "2023-01-01")  # 366 days
    event("E9", "C7", "2023-12-31", "catheter")  # before the period
    event("E10", "C7", "2025-01-01", "catheter")  # after the period
    yield w
    w.close()


def test_exposure(wh):
    result = wh.kpis()["complications"]
    # C1, C3, C4, C6, C7 (C2's exposure is 0 days)
    assert result["implanted_patients"] == 5
    # (366 + 1 + 122 + 61 + 366) / 365.25 = 916 / 365.25 = 2.5078713...
    assert result["pump_years"] == 2.507871
    days = {r["implant_id"]: r["exposure_days"] for r in wh.rows("complication_exposure")}
    assert days == {"I1": 366, "I3": 1, "I4": 122, "I6": 61, "I7": 366}


def test_all_categories(wh):
    result = wh.kpis()["complications"]
    assert result["events_outside_exposure"] == 2  # E6 (trial), E8 (after explant)
    everything = result["all"]
    assert everything["events"] == 6  # E1, E2, E3, E4, E5, E7
    assert everything["patients"] == 4  # C1, C3, C4, C6
    assert everything["patient_incidence"] == 0.8  # 4 / 5
    assert (everything["patient_incidence_ci_low"], everything["patient_incidence_ci_high"]) == (
        0.375535,
        0.963776,
    )  # Wilson 4/5
    # 6 / 2.5078713 * 100 = 239.246725; chi2(0.025; 12)/2 = 2.201894, chi2(0.975; 14)/2 = 13.059474
    # -> 2.201894 / 2.5078713 * 100 = 87.799331 and 13.059474 / 2.5078713 * 100 = 520.739398
    assert everything["rate_per_100_pump_years"] == 239.246725
    assert everything["rate_per_100_pump_years_ci_low"] == 87.799331
    assert everything["rate_per_100_pump_years_ci_high"] == 520.739398


def test_by_category(wh):
    by_category = wh.kpis()["complications"]["by_category"]
    assert list(by_category) == list(COMPLICATION_CATEGORIES)  # always all 10
    catheter = by_category["catheter"]  # E1, E2: one patient, two events
    assert (catheter["events"], catheter["patients"], catheter["patient_incidence"]) == (2, 1, 0.2)
    assert catheter["rate_per_100_pump_years"] == 79.748908  # 2 / 2.5078713 * 100
    # chi2(0.025; 4)/2 = 0.242209 -> 9.657963; chi2(0.975; 6)/2 = 7.224688 -> 288.080477
    assert (
        catheter["rate_per_100_pump_years_ci_low"],
        catheter["rate_per_100_pump_years_ci_high"],
    ) == (9.657963, 288.080477)
    infection = by_category["infection"]  # E3 (C1), E7 (C6)
    assert (infection["events"], infection["patients"], infection["patient_incidence"]) == (
        2,
        2,
        0.4,
    )
    assert by_category["weight_gain"]["events"] == 1  # E4, on the one-day exposure
    assert by_category["wound"]["events"] == 1  # E5, on the day of death
    none = by_category["csf_leak"]
    assert (none["events"], none["patients"], none["patient_incidence"]) == (0, 0, 0.0)
    assert none["rate_per_100_pump_years"] == 0.0
    # k = 0: lower 0; upper chi2(0.975; 2)/2 = 3.688879 / 2.5078713 * 100 = 147.092055
    assert (none["rate_per_100_pump_years_ci_low"], none["rate_per_100_pump_years_ci_high"]) == (
        0.0,
        147.092055,
    )
    assert by_category["other"]["events"] == 0  # E6 is outside exposure


@pytest.mark.parametrize(
    "standard,status",
    [
        (0.01, "not_met"),  # Wilson 1/5 = 0.036224 .. 0.624465: all above 1%
        (0.3, "not_shown"),  # 0.3 lies inside the interval
        (0.7, "met"),  # all below 70%
    ],
)
def test_weight_gain_standard(wh, standard, status):
    result = wh.kpis(settings=Settings(weight_gain_standard=standard))["complications"]
    weight_gain = result["by_category"]["weight_gain"]
    assert (weight_gain["patient_incidence_ci_low"], weight_gain["patient_incidence_ci_high"]) == (
        0.036224,
        0.624465,
    )
    assert result["weight_gain_standard_status"] == status


def test_weight_gain_standard_null_without_implanted_patients(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    # The only pump was explanted on the period's first day, with an event that day: the event
    # counts (the pump was in situ), but there is no exposure, so no implanted patient.
    w.add(
        "implants",
        implant_id="I1",
        patient_id="C1",
        implant_date="2023-01-01",
        explant_date="2024-01-01",
        explant_reason="infection",
    )
    w.add(
        "complications",
        complication_id="E1",
        patient_id="C1",
        event_date="2024-01-01",
        category="weight_gain",
    )
    result = w.kpis()["complications"]
    assert (result["implanted_patients"], result["pump_years"]) == (0, 0.0)
    assert (result["all"]["events"], result["all"]["patients"]) == (1, 1)
    assert result["all"]["patient_incidence"] is None
    assert result["all"]["rate_per_100_pump_years"] is None
    assert result["weight_gain_standard_status"] is None
    w.close()


def test_patient_counted_once_across_categories_in_all(tmp_path):
    # The 'all' patients figure counts distinct patients with any counted event.
    w = Warehouse(tmp_path / "w.duckdb")
    w.add("implants", implant_id="I1", patient_id="C1", implant_date="2023-01-01")
    w.add("implants", implant_id="I2", patient_id="C2", implant_date="2023-01-01")
    for cid, category in [("E1", "catheter"), ("E2", "infection"), ("E3", "catheter")]:
        w.add(
            "complications",
            complication_id=cid,
            patient_id="C1",
            event_date="2024-02-01",
            category=category,
        )
    everything = w.kpis()["complications"]["all"]
    assert (everything["events"], everything["patients"], everything["patient_incidence"]) == (
        3,
        1,
        0.5,
    )
    w.close()
