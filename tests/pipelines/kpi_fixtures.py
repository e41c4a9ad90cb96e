"""A tiny hand-made warehouse for the KPI tests: the real schema, rows typed in by hand."""

from __future__ import annotations

import datetime as dt
from itertools import count
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Settings
from pipelines.kpis import Scope, compute_kpis
from pipelines.warehouse import SCHEMA_SQL

# Required columns a test does not care about.
DEFAULTS: dict[str, dict[str, Any]] = {
    "patients": {"date_of_birth": "1970-01-01", "sex": "female",
                 "primary_condition": "multiple_sclerosis"},
    "referrals": {"source": "gp_ers", "triage_outcome": "accepted"},
    "appointments": {"type": "new_assessment", "status": "attended"},
    "trials": {"outcome": "positive"},
    "implants": {"procedure": "new_implant", "pump_model": "SynchroMed II", "reservoir_ml": 40.0},
    "refills": {"fill_volume_ml": 20.0, "concentration_mcg_per_ml": 500.0, "daily_dose_mcg": 100.0},
    "complications": {"category": "catheter"},
    "outcomes": {},
}

# The usual test period: calendar year 2024 (366 days), as_of = 2024-12-31.
START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)


class Warehouse:
    """A fresh DuckDB warehouse file with core.* rows added one by one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.con = duckdb.connect(str(path))
        self.con.execute(SCHEMA_SQL.read_text())
        self._row = count(1)

    def add(self, table: str, site: str = "main", **values: Any) -> None:
        """Insert one core row; a patient it names is created with defaults if missing."""
        if table != "patients" and "patient_id" in values:
            self.ensure_patient(values["patient_id"], site)
        row = {**DEFAULTS[table], **values, "site": site,
               "source_file": f"{table}.csv", "source_row": next(self._row)}
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.con.execute(f"insert into core.{table} ({columns}) values ({marks})", list(row.values()))

    def small_site(self, category: str, patients: int = 20, with_event: int = 3) -> None:
        """`patients` implanted since 2020, `with_event` of them with a `category` complication
        on 2024-03-01: a small number that an aggregate view must suppress."""
        for i in range(patients):
            self.add("implants", patient_id=f"P{i:06d}", implant_id=f"I{i}", implant_date=dt.date(2020, 1, 1))
        for i in range(with_event):
            self.add("complications", patient_id=f"P{i:06d}", complication_id=f"C{i}", implant_id=f"I{i}",
                     event_date=dt.date(2024, 3, 1), category=category)

    def ensure_patient(self, patient_id: str, site: str = "main") -> None:
        exists = self.con.execute(
            "select count(*) from core.patients where site = ? and patient_id = ?", [site, patient_id]
        ).fetchone()[0]
        if not exists:
            self.add("patients", site=site, patient_id=patient_id)

    def kpis(self, start: dt.date = START, end: dt.date = END, site: str | None = None,
             settings: Settings | None = None) -> dict[str, Any]:
        return compute_kpis(self.con, start, end, site=site, settings=settings or Settings())

    def rows(self, mart: str, start: dt.date = START, end: dt.date = END, site: str | None = None,
             settings: Settings | None = None) -> list[dict[str, Any]]:
        """The rows of a mart, for checking row-level columns."""
        return Scope(start, end, site, settings or Settings()).run(self.con, mart).to_dicts()

    def close(self) -> None:
        self.con.close()
