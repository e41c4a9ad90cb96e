"""Section 5, battery forecast. as_of = 2024-12-31 (2024-Q4): buckets 2025-Q1 .. 2026-Q4."""

import datetime as dt

import pytest

from pipelines.config import Settings
from pipelines.figures.kpis import quarters_after
from tests.fixtures.kpi_fixtures import Warehouse

SETTINGS = Settings(
    battery_months={"synchromed ii": 84, "medstream": 96, "codman 3000": 0, "test six": 6}
)


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("battery") / "w.duckdb")

    def pump(iid, implant_date, model="SynchroMed II", **kw):
        w.add(
            "implants",
            implant_id=iid,
            patient_id=f"P{iid}",
            implant_date=implant_date,
            pump_model=model,
            **kw,
        )

    def refill(rid, iid, date, eri=None):
        w.add(
            "refills",
            refill_id=rid,
            implant_id=iid,
            patient_id=f"P{iid}",
            refill_date=date,
            next_due_date="2025-03-01",
            reported_eri_date=eri,
        )

    pump("B1", "2018-02-28")  # + 84 months = 2025-02-28: 59 days
    pump("B2", "2020-02-29", model="  PROMETRA ")  # not listed: default 84 months, but
    refill("B2a", "B2", "2024-05-01", eri="2025-06-30")  # reported ERI 2025-06-30: 181 days
    refill("B2b", "B2", "2024-09-01")  # latest refill, without an ERI
    refill("B2c", "B2", "2025-01-10", eri="2025-01-20")  # after as_of: ignored
    pump("B3", "2020-02-29")  # + 84 months = 2027-02-28 (clamped)
    pump("B4", "2019-08-31", model="Test Six")  # + 6 months = 2020-02-29: overdue
    pump("B5", "2024-01-01", model="Codman 3000")  # no battery
    pump("B6", "2022-01-01")
    refill("B6a", "B6", "2024-12-31", eri="2024-12-31")  # ERI on as_of: overdue
    pump("B7", "2018-12-31")  # 2025-12-31: 365 days
    pump("B8", "2019-01-01")  # 2026-01-01: 366 days
    pump("B9", "2018-07-01")  # 2025-07-01: 182 days
    pump("B10", "2018-07-02")  # 2025-07-02: 183 days
    pump("B14", "2019-12-31")  # 2026-12-31: the 8th quarter
    pump("B17", "2017-06-15", model="MedStream")  # + 96 months = 2025-06-15: 166 days
    pump("B11", "2018-01-01", explant_date="2024-12-31", explant_reason="battery_end_of_life")
    w.add("patients", patient_id="PB12", date_of_death="2024-11-01")
    pump("B12", "2018-01-01")  # patient died: not active
    pump("B13", "2025-01-05")  # implanted after as_of
    yield w
    w.close()


def test_forecast_rows(wh):
    rows = {r["implant_id"]: r for r in wh.rows("active_pumps", settings=SETTINGS)}
    assert set(rows) == {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B14", "B17"}
    d = dt.date.fromisoformat
    assert rows["B1"]["forecast_eri_date"] == d("2025-02-28")
    assert rows["B2"]["forecast_eri_date"] == d("2025-06-30")  # reported, from B2a
    assert rows["B3"]["forecast_eri_date"] == d("2027-02-28")  # 2020-02-29 + 84 months
    assert rows["B4"]["forecast_eri_date"] == d("2020-02-29")  # 2019-08-31 + 6 months
    assert rows["B6"]["forecast_eri_date"] == d("2024-12-31")
    assert rows["B17"]["forecast_eri_date"] == d("2025-06-15")
    assert rows["B5"]["has_battery"] is False and rows["B5"]["forecast_eri_date"] is None


def test_battery_figures(wh):
    battery = wh.kpis(settings=SETTINGS)["battery"]
    assert battery["active_pumps"] == 11  # 12 active, less B5 (no battery)
    assert battery["pumps_without_battery"] == 1
    assert battery["overdue"] == 2  # B4, B6
    assert battery["due_within_182_days"] == 4  # B1 59, B17 166, B2 181, B9 182
    assert battery["due_within_365_days"] == 6  # those + B10 183, B7 365 (not B8 366)
    assert battery["by_quarter"] == {
        "2025-Q1": 1,  # B1
        "2025-Q2": 2,  # B2, B17
        "2025-Q3": 2,  # B9, B10
        "2025-Q4": 1,  # B7
        "2026-Q1": 1,  # B8
        "2026-Q2": 0,
        "2026-Q3": 0,
        "2026-Q4": 1,  # B14 (B3's 2027-Q1 is beyond)
    }


def test_battery_months_setting(wh):
    # With every model at the default 84 months, B17 (MedStream) reaches ERI 2024-06-15
    # (overdue) and B4 2026-08-31 (2026-Q3); the no-battery Codman counts as a pump.
    battery = wh.kpis(settings=Settings())["battery"]
    assert (battery["active_pumps"], battery["pumps_without_battery"]) == (12, 0)
    assert battery["overdue"] == 2  # B6, B17
    assert battery["by_quarter"]["2026-Q3"] == 1


@pytest.mark.parametrize(
    "as_of,first,last",
    [
        (dt.date(2024, 12, 31), "2025-Q1", "2026-Q4"),
        (dt.date(2024, 1, 1), "2024-Q2", "2026-Q1"),
        (dt.date(2024, 9, 30), "2024-Q4", "2026-Q3"),
    ],
)
def test_quarters_after(as_of, first, last):
    quarters = quarters_after(as_of)
    assert len(quarters) == 8 and quarters[0] == first and quarters[-1] == last
