"""Loading an extract from the browser: only the contract's forms within the size limit, loaded
by `itb-audit load` in a subprocess with the same refusal rules, the result or the refusal line
shown, and the quarantine of that load with its contents for the data manager."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard import uploads
from pipelines.access import log as access_log
from pipelines.access.roles import Role
from pipelines.config import load_settings

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"


@dataclass
class File:
    name: str
    size: int = 10

    def getvalue(self) -> bytes:
        return b"x" * self.size


@pytest.mark.parametrize(
    "files, why",
    [
        ([], "no file"),
        ([File("patients.csv"), File("referrals.parquet")], "a set of .csv files"),
        ([File("a.xlsx"), File("b.xlsx")], "one workbook"),
        ([File("patients.csv"), File("notes.csv")], "not a table of the data contract: notes.csv"),
        ([File("extract.zip")], "a set of .csv files"),
        ([File("patients.csv"), File("PATIENTS.csv")], "chosen twice"),
        ([File("patients.csv", 2 * 1024 * 1024)], "over the upload limit of 1 MB"),
    ],
)
def test_only_the_contracts_forms_within_the_limit(files, why):
    with pytest.raises(uploads.UploadRefused, match=why):
        uploads.check(files, limit_mb=1)


def test_the_forms_of_an_extract():
    assert uploads.check([File("patients.csv"), File("Referrals.CSV")], 1) == ".csv"
    assert uploads.check([File("patients.parquet")], 1) == ".parquet"
    assert uploads.check([File("clinic extract.xlsx")], 1) == ".xlsx"


def upload(at, folder: Path):
    at.get("file_uploader")[0].set_value(
        [(p.name, p.read_bytes(), "text/csv") for p in sorted(folder.glob("*.csv"))]
    )
    return next(b for b in at.button if b.label == "Load").click().run(timeout=300)


@pytest.mark.slow
def test_a_data_manager_loads_an_upload_and_sees_its_quarantine(app, tmp_path):
    db = tmp_path / "w.duckdb"
    at = app(db, "load", Role.DATA_MANAGER)
    upload(at, SAMPLES / "messy")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Loaded as load 1: site main" in at.success[0].value
    loaded, quarantine = (frame.value for frame in at.dataframe)
    assert (loaded["rows_read"] == loaded["rows_accepted"] + loaded["rows_quarantined"]).all()
    assert len(quarantine) == loaded["rows_quarantined"].sum() > 0
    assert "record" in quarantine  # the data manager sees the contents
    events = access_log.read(load_settings().access.access_log)
    assert "load" in set(events["event"])


@pytest.mark.slow
def test_a_refused_upload_shows_the_refusal_and_changes_nothing(app, sample_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_db, db)
    before = db.read_bytes()
    at = app(db, "load", Role.DATA_MANAGER)
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copyfile(SAMPLES / "clean" / "referrals.csv", partial / "referrals.csv")
    upload(at, partial)
    assert not at.exception
    message = at.error[0].value
    assert message.startswith("load refused: patients.csv: required table is missing")
    assert "itb-upload-" not in message and "Nothing was changed" in message
    assert db.read_bytes() == before
