"""The dashboard on a lake (ITB_AUDIT_DB = a lake address): every page of every role renders
with no exception, and every page that reads the warehouse (figure pages, Data quality, Audits)
shows from the lake what it shows from the warehouse file."""

from __future__ import annotations

import pytest

from pipelines.access.roles import FIGURE_PAGES, PAGES, Role

# The pages that read the warehouse; the others show the load form, users or the access log.
READING = {*FIGURE_PAGES, "data_quality", "audits"}

pytestmark = [pytest.mark.lake, pytest.mark.slow]


def shown(at) -> list:
    """What a page shows that comes from the warehouse: its figures, tables and charts."""
    return [
        [(m.label, m.value) for m in at.metric],
        [df.value.to_json() for df in at.dataframe],
        [chart.proto.spec for chart in at.get("plotly_chart")],
    ]


@pytest.mark.parametrize("role", list(Role))
def test_every_page_of_every_role_reads_the_lake_as_the_file(
    app, sample_db, sample_lake, role, monkeypatch
):
    on = {db: app(db, role=role) for db in (sample_db, sample_lake)}
    for page in PAGES[role]:
        pages = {}
        for db, at in on.items():
            # a page reads the warehouse ITB_AUDIT_DB names when it runs: each its own
            monkeypatch.setenv("ITB_AUDIT_DB", str(db))
            at.switch_page(f"views/{page}.py").run()
            assert not at.exception, (db, page, [e.value for e in at.exception])
            pages[db] = shown(at)
        if page in READING:
            # figures, not an empty page (the sample has no audit recorded yet)
            assert any(pages[sample_lake]) or page == "audits", page
            assert pages[sample_lake] == pages[sample_db], page
