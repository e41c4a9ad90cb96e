"""The Overview opens with the one-page summary, for each role, and it is the audit pack's first
page: the same tables (pipelines/sections/summary.py's rows under SUMMARY's titles), cell for
cell, read from a page run under AppTest and from the pack built for the same period."""

from __future__ import annotations

import pytest

from pipelines.access.roles import Role
from pipelines.figures.disclosure import SUPPRESSED
from pipelines.report.content import Request, build
from pipelines.report.model import Table, Text
from pipelines.sections.audit import SUMMARY
from tests.dashboard.test_app import AS_OF, DEFAULT_START


def pack_summary(db, role: Role) -> tuple[list[Table], list[str]]:
    """The summary section of the pack for the page's default period: its tables and alerts."""
    report = build(Request(db, DEFAULT_START, AS_OF, role=role))
    assert report.sections[1].id == SUMMARY.id  # after the cover's provenance, before the rest
    blocks = report.sections[1].blocks
    return (
        [b for b in blocks if isinstance(b, Table)],
        [b.text for b in blocks if isinstance(b, Text)],
    )


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.GOVERNANCE, Role.COMMISSIONER])
def test_the_overview_opens_with_the_pack_s_summary(app, sample_db, role):
    at = app(sample_db, "overview", role)
    assert not at.exception, [e.value for e in at.exception]
    main = at.main
    assert main.subheader[0].value == SUMMARY.title  # the page's first section
    headings = [m.value for m in main.markdown if m.value.startswith("**")]
    assert headings[: len(SUMMARY.tables)] == [
        f"**{recipe.heading()}**" for recipe in SUMMARY.tables.values()
    ]

    tables, alerts = pack_summary(sample_db, role)
    assert [t.title for t in tables] == [r.heading() for r in SUMMARY.tables.values()]
    shown = [d.value for d in main.dataframe]
    for table in tables:
        if table.frame.empty:  # "None." on the page as in the pack
            assert "None." in [c.value for c in main.caption], table.title
            continue
        assert any(
            list(page.columns) == list(table.frame.columns)
            and page.astype(str).values.tolist() == table.frame.astype(str).values.tolist()
            for page in shown
        ), table.title
    assert [w.value for w in main.warning] == alerts

    safety = next(t.frame for t in tables if t.title == SUMMARY.tables["safety"].title)
    if role is Role.COMMISSIONER:  # the sample's counts are 1 to 7: suppressed
        assert safety["count"].tolist() == [SUPPRESSED] * 3
    else:
        assert SUPPRESSED not in safety["count"].tolist()
