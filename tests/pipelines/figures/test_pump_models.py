"""One pump model, however its name is spelt: grouped by its name ignoring case and spacing, and
shown by its most frequent spelling in every mart (queries/macros/shared.sql)."""

import datetime as dt

import pandas as pd
import pytest

from pipelines.config import Settings, load_settings, model_key
from pipelines.figures.breakdowns import service_life_by_model
from tests.fixtures.kpi_fixtures import Warehouse

SETTINGS = Settings(battery_months={"synchromed ii": 84, "codman 3000": 0})


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("models") / "w.duckdb")
    spellings = [
        # SynchroMed II: 2 × "SynchroMed II" (one with stray spaces), 1 × "SYNCHROMED II"
        ("S1", "main", "SynchroMed II"),
        ("S2", "other", "  SynchroMed   II "),
        ("S3", "main", "SYNCHROMED II"),
        # Prometra II: one of each spelling, a tie -> the spelling that sorts first
        ("P1", "main", "Prometra II"),
        ("P2", "other", "PROMETRA II"),
        ("C1", "main", "codman 3000"),
    ]
    for iid, site, model in spellings:
        w.add(
            "implants",
            site=site,
            implant_id=iid,
            patient_id=f"P{iid}",
            implant_date=dt.date(2016, 1, 1),
            pump_model=model,
        )
    # S3 (spelt "SYNCHROMED II") reached battery end of life
    w.con.execute(
        "update history.implants set explant_date = '2023-01-01', "
        "explant_reason = 'battery_end_of_life' where implant_id = 'S3'"
    )
    yield w
    w.close()


def models(rows):
    return {r["implant_id"]: r["pump_model"] for r in rows}


def test_every_mart_shows_a_model_by_its_most_frequent_spelling(wh):
    expected = {
        "S1": "SynchroMed II",
        "S2": "SynchroMed II",
        "S3": "SynchroMed II",
        "P1": "PROMETRA II",
        "P2": "PROMETRA II",
        "C1": "codman 3000",
    }
    survival = [
        r
        for r in wh.rows("implant_survival", settings=SETTINGS)
        if r["endpoint"] == "battery_end_of_life"
    ]
    assert models(survival) == expected
    active = wh.rows("active_pumps", settings=SETTINGS)
    assert models(active) == {k: v for k, v in expected.items() if k != "S3"}
    exposure = wh.rows("complication_exposure", settings=SETTINGS)
    assert models(exposure) == {k: v for k, v in expected.items() if k != "S3"}


def test_a_filtered_site_shows_the_same_name(wh):
    # At site "other" only "  SynchroMed   II " and "PROMETRA II" are recorded; the names are
    # the whole warehouse's, so a filter never renames a model.
    rows = wh.rows("active_pumps", site="other", settings=SETTINGS)
    assert models(rows) == {"S2": "SynchroMed II", "P2": "PROMETRA II"}


def test_service_life_has_one_row_per_model(wh):
    survival = pd.DataFrame(wh.rows("implant_survival", settings=SETTINGS))
    table = service_life_by_model(survival).set_index("pump_model")
    # codman 3000 has no battery (0 months in the settings), so it is left out
    assert table.index.tolist() == ["PROMETRA II", "SynchroMed II"]
    assert table.loc["SynchroMed II", "implants"] == 3
    assert table.loc["SynchroMed II", "battery_explants"] == 1


def test_battery_months_match_a_model_however_spelt(wh, tmp_path):
    config = tmp_path / "itb-audit.toml"
    config.write_text('[battery.models]\n"  SynchroMed   II" = 60\n')
    assert load_settings(config).battery_months == {"synchromed ii": 60}
    assert model_key(" SYNCHROMED \t II ") == "synchromed ii"
    # 2016-01-01 + 60 months = 2021-01-01 for every spelling
    rows = wh.rows("active_pumps", settings=load_settings(config))
    eri = {r["implant_id"]: r["forecast_eri_date"] for r in rows if r["implant_id"][0] == "S"}
    assert eri == {"S1": dt.date(2021, 1, 1), "S2": dt.date(2021, 1, 1)}
