"""What a commissioner sees on a warehouse where rounding would move rates by more than 10
points (issue 16): rates on too few people are * with the reason, shown rates are the exact
ones rounded to one person's worth, empty states are read from the figures beside them,
captions are escaped Markdown, and no chart is an empty axis."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.access.roles import Role
from tests.fixtures.kpi_fixtures import small_service


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Path:
    """The small service, read by every test, made once."""
    return small_service(tmp_path_factory.mktemp("small") / "small.duckdb")


def captions(at) -> list[str]:
    return [c.value for c in at.main.caption]


def infos(at) -> list[str]:
    return [i.value for i in at.main.info]


def metric(at, label: str):
    return next(m for m in at.main.metric if m.label == label)


def test_a_rate_on_twelve_people_is_a_star_with_its_reason(app, service):
    at = app(service, "waits", Role.COMMISSIONER, session="small")
    assert not at.exception
    # All 34 referrals: 21 within target is 61.8%, shown to the nearest 5 points (rounded
    # counts would have said 20 of 35 = 57.1%), with the note saying so.
    assert metric(at, "Seen within the wait target").value == "60.0%"
    assert any("rounded to the nearest 5 points" in c for c in captions(at))
    # By source: GP 8 of 12 is * (rounded counts: 100%), consultant 13 of 22 is 60% (not 75%).
    table = next(t.value for t in at.main.dataframe if "source" in t.value)
    rates = dict(zip(table["source"], table["rate_within_target"], strict=True))
    assert rates == {"GP (e-RS)": "*", "Consultant": "60.0%"}, rates
    assert any("Rates in this table are \\*" in c for c in captions(at))


def test_a_clinician_sees_the_exact_rates(app, service):
    at = app(service, "waits", Role.CLINICIAN, session="small")
    assert metric(at, "Seen within the wait target").value == "61.8%"
    table = next(t.value for t in at.main.dataframe if "source" in t.value)
    assert sorted(table["rate_within_target"].round(3)) == [0.591, 0.667]
    assert not any("Rates in this table" in c for c in captions(at))


def test_the_trial_page_says_why_nothing_is_drawn_not_that_nobody_responded(app, service):
    at = app(service, "trials", Role.COMMISSIONER, session="small")
    assert not at.exception
    assert "responders" in " ".join(captions(at))  # the headline's "15 responders, * non-…"
    shown = infos(at)
    assert not any("No patient had a first trial" in i for i in shown), shown
    assert any("every condition's response rate is *" in i for i in shown), shown
    assert all(
        "Response rate by primary condition" not in chart.proto.spec
        for chart in at.main.get("plotly_chart")
    )


def test_a_caption_that_starts_with_a_star_is_escaped(app, service):
    at = app(service, "complications", Role.COMMISSIONER, session="small")
    assert not at.exception
    weight_gain = [c for c in captions(at) if "of 20 implanted patients" in c]
    assert weight_gain and all(c.startswith("\\* of 20") for c in weight_gain), weight_gain


def test_no_empty_chart_for_a_commissioner(app, service):
    at = app(service, "waits", Role.COMMISSIONER, session="small")
    # Every month's rate is on too few people: the SPC says so instead of an empty chart.
    assert any("every month's rate is *" in i for i in infos(at)), infos(at)
    assert not any(b.proto.label == "No months with data" for b in at.main.get("badge"))
    # No DNA in any month: said, not drawn as bars of nothing.
    assert "No appointment in the period's months was a DNA." in infos(at)
    assert not any("by month" in chart.proto.spec for chart in at.main.get("plotly_chart"))


@pytest.mark.slow  # two page renders
def test_the_every_figure_expander_says_its_figures_are_suppressed(app, service):
    at = app(service, "overview", Role.COMMISSIONER, session="small")
    expander = next(e for e in at.main.expander if "Every figure" in e.label)
    assert "--suppressed" in expander.label
    figures = next(t.value for t in expander.dataframe)
    shown = dict(zip(figures["figure"], figures["value"], strict=True))
    assert shown["waits.rate_within_target"] == "0.6"
    assert shown["waits.seen"] == "35"
    clinician = app(service, "overview", Role.CLINICIAN, session="small")
    assert not any("--suppressed" in e.label for e in clinician.main.expander)


@pytest.mark.slow  # two page renders
def test_the_overdue_refill_banner_links_to_the_list_on_the_refills_page(app, service):
    at = app(service, "overview", Role.CLINICIAN, session="small")
    assert any("overdue for a refill now" in e.value for e in at.main.error)
    links = at.main.get("page_link")
    assert [link.proto.page for link in links] == ["refills"], links  # its url_path
    at = app(
        service, "overview", Role.COMMISSIONER, session="small"
    )  # no list for this role, so no link
    assert not at.main.get("page_link")


def test_no_sparkline_over_months_with_a_star(app, service):
    at = app(service, "overview", Role.COMMISSIONER, session="small")
    # January's one new implant is *: a line through the other months' zeros would be flat.
    implants = next(m for m in at.main.metric if m.label == "New implants")
    assert not implants.proto.chart_data
    assert any("no monthly trend: some months are \\*" in c for c in captions(at)), captions(at)
