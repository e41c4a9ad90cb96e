"""The commissioner's pack draws what survives suppression, as the dashboard does (issue 16)."""

from __future__ import annotations

import datetime as dt

from pipelines.access.roles import Role
from pipelines.config import Settings
from pipelines.report.content import Request, build
from tests.fixtures.kpi_fixtures import END, START, Warehouse


def test_the_battery_forecast_shows_a_suppressed_quarter_as_a_star(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    # 84 months after implant: 3 pumps reach ERI in 2025 Q2 (a "*"), 10 in 2025 Q3.
    for i in range(13):
        w.add(
            "implants",
            patient_id=f"B{i}",
            implant_id=f"IB{i}",
            implant_date=dt.date(2018, 5, 1) if i < 3 else dt.date(2018, 8, 1),
        )
    w.mark_loaded()
    w.close()
    pack = build(
        Request(tmp_path / "w.duckdb", START, END, role=Role.COMMISSIONER, settings=Settings())
    )
    figures = pack.figures["battery"]["by_quarter"]
    assert "*" in figures.values() and 10 in figures.values(), figures
    section = next(s for s in pack.sections if s.id == "batteries")
    chart = next(b.figure for b in section.blocks if b.kind == "chart")
    stars = [t for t in chart.data if t.type == "scatter"]
    assert [list(t.text) for t in stars] == [["*"]]
