"""The complication case review in the audit pack and its workbook (issue 12 item 6): the
breakdowns for every role (suppressed for a commissioner, numbers kept numeric), the case list
for clinicians (local ids) and governance (pseudonyms), and no case row for a commissioner."""

from __future__ import annotations

import io

import openpyxl
import pytest

from pipelines.access.roles import Role
from pipelines.config import Settings
from pipelines.figures.disclosure import SUPPRESSED
from pipelines.report import Request, build, pack_bytes
from pipelines.sections.audit import COMPLICATIONS
from tests.fixtures.kpi_fixtures import END, START, complication_cases

CASES = COMPLICATIONS.tables["cases"]
ROLES = (Role.CLINICIAN, Role.GOVERNANCE, Role.COMMISSIONER)


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> dict[tuple[Role, str], bytes]:
    db = complication_cases(tmp_path_factory.mktemp("cases") / "w.duckdb")
    built = {role: build(Request(db, START, END, role=role, settings=Settings())) for role in ROLES}
    return {(role, fmt): pack_bytes(built[role], fmt) for role in ROLES for fmt in ("html", "xlsx")}


def sheet(packs, role: Role, name: str) -> list[dict]:
    book = openpyxl.load_workbook(io.BytesIO(packs[role, "xlsx"]))
    header, *rows = book[name].iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def sheets(packs, role: Role) -> list[str]:
    return openpyxl.load_workbook(io.BytesIO(packs[role, "xlsx"])).sheetnames


@pytest.mark.slow
def test_clinicians_and_governance_get_the_case_list_in_the_pack_and_workbook(packs):
    heading = CASES.heading(count=8)
    html = packs[Role.CLINICIAN, "html"].decode()
    assert heading in html and ">IA<" in html and "≤ 30 days (days 0–30)" in html
    cases = sheet(packs, Role.CLINICIAN, CASES.sheet)
    assert len(cases) == 8
    assert sorted(
        r["days_since_implant"] for r in cases if r["days_since_implant"] is not None
    ) == [
        -12,
        0,
        30,
        31,
        365,
        366,
    ]
    governance = sheet(packs, Role.GOVERNANCE, CASES.sheet)
    assert len(governance) == 8
    assert all(r["patient_id"].startswith("PSN-") for r in governance)
    assert all(r["implant_id"].startswith("IMP-") for r in governance if r["implant_id"])
    text = packs[Role.GOVERNANCE, "html"].decode()
    assert heading in text and ">IA<" not in text and ">A<" not in text
    by_time = sheet(packs, Role.CLINICIAN, COMPLICATIONS.tables["by_time"].sheet)
    assert [r["events"] for r in by_time] == [2, 2, 1, 1, 2]


@pytest.mark.slow
def test_a_commissioner_pack_and_workbook_hold_no_case(packs):
    html = packs[Role.COMMISSIONER, "html"].decode()
    assert CASES.heading(count=8) not in html and ">IA<" not in html
    assert CASES.sheet not in sheets(packs, Role.COMMISSIONER)
    for name in sheets(packs, Role.COMMISSIONER):
        for row in sheet(packs, Role.COMMISSIONER, name):
            assert "days_since_implant" not in row and "patient_id" not in row, name
    # The breakdowns are there, suppressed; the count columns hold numbers only, the shown
    # value ("*") beside them.
    assert COMPLICATIONS.tables["by_severity"].title in html
    severity = sheet(packs, Role.COMMISSIONER, COMPLICATIONS.tables["by_severity"].sheet)
    assert [r["events"] for r in severity] == [None] * 4
    assert [r["events shown"] for r in severity] == [SUPPRESSED] * 4
