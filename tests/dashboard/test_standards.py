"""The Overview lists every standard with its judgement in words (as the role sees the figures:
a commissioner's suppressed figure is not judged), and each headline held by a standard shows
its judgement beside it as an icon and words."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.access.roles import Role
from pipelines.config import load_settings
from pipelines.figures.disclosure import Disclosure, suppress_kpis
from pipelines.figures.kpis import compute_kpis
from pipelines.show.definitions import standard_label
from pipelines.show.display import VERDICTS
from tests.conftest import SAMPLE_AS_OF

AS_OF = dt.date.fromisoformat(SAMPLE_AS_OF)
START = dt.date(2025, 11, 2)  # the default period: the 12 months ending on the as-of date


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.GOVERNANCE, Role.COMMISSIONER])
def test_the_overview_shows_every_standard_as_the_role_sees_it(app, sample_db, role):
    figures = compute_kpis(sample_db, START, AS_OF)
    if role is Role.COMMISSIONER:
        figures = suppress_kpis(figures, Disclosure.from_settings(load_settings()))
    at = app(sample_db, "overview", role)
    assert not at.exception, [e.value for e in at.exception]
    (table,) = [t.value for t in at.dataframe if "judgement" in t.value.columns]
    shown = dict(zip(table["standard"], table["judgement"], strict=True))
    expected = {
        standard_label(name): " ".join(VERDICTS[s["status"]])
        for name, s in figures["standards"].items()
    }
    assert shown == expected
    # beside each headline held by a standard: an icon and the words (never colour alone)
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    for s in figures["standards"].values():
        words = VERDICTS[s["status"]][1]
        assert any(words in badge and ":material/" in badge for badge in badges), (s, badges)
    # the sample has 1 pump overdue at its as-of date: a commissioner sees * and no judgement
    overdue = shown[standard_label("no_pump_overdue")]
    assert overdue == (
        "* Not judged: the figure is suppressed"
        if role is Role.COMMISSIONER
        else "✘ Standard not met"
    )
