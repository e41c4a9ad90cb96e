"""How numbers, days and charts read on screen and in the pack (pipelines/show/display.py,
the text alternatives of pipelines/show/charts.py)."""

from __future__ import annotations

import re

import pytest

from pipelines.show import charts
from pipelines.show.display import all_whole, eri_text, header, number_text


@pytest.mark.parametrize(
    "days, shown",
    [
        (-28, "28 days overdue"),
        (-1, "1 day overdue"),
        (0, "due today"),
        (1, "in 1 day"),
        (365, "in 365 days"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_days_to_eri_read_as_words(days, shown):
    assert eri_text(days) == shown


def test_whole_decimals_lose_their_decimals():
    assert all_whole([29.0, 841.0, None, float("nan")]) and not all_whole([2.5, 3.0])
    assert [number_text(v) for v in (841.0, 1234.0, 2.5, 45.333)] == [
        "841",
        "1,234",
        "2.5",
        "45.33",
    ]
    assert header("residual_difference_ml") == "residual difference (mL)"


def test_a_sparkline_carries_its_text_alternative():
    svg = charts.sparkline([1.0, 3.0, 2.0], description='Referrals <by month> & "more"')
    assert svg.startswith('<svg role="img" aria-label="Referrals &lt;by month&gt; &amp; ')
    assert "<title>Referrals &lt;by month&gt;" in svg
    assert len(re.search(r'points="([^"]+)"', svg).group(1).split()) == 3


def test_a_charts_text_alternative_is_its_title_axes_series_and_bars():
    fig = charts.bars(
        ["2026 Q1", "2026 Q2"],
        {"Pumps": [3, "*"]},
        text=True,
        title="Forecast replacements",
        x_title="Quarter",
        y_title="Pumps",
    )
    assert charts.describe(fig) == (
        "Forecast replacements. Pumps by Quarter. 2026 Q1: 3, 2026 Q2: *."
    )
    two = charts.bars(
        ["patients", "refills"],
        {"Accepted": [10.0, 5.0], "Quarantined": [1, 0]},
        horizontal=True,
        title="Rows by table",
        x_title="Table",
        y_title="Rows",
    )
    assert charts.describe(two) == (
        "Rows by table. Rows by Table. Shows: Accepted, Quarantined. "
        "Accepted: patients: 10, refills: 5. Quarantined: patients: 1, refills: 0."
    )


def test_bar_labels_are_never_turned_sideways():
    fig = charts.bars(
        ["patients", "referrals"],
        {"Rows": [1200, 3]},
        horizontal=True,
        text=True,
        title="Rows by reason",
        x_title="Reason",
        y_title="Rows",
    )
    assert all(trace.textangle == 0 for trace in fig.data)
