"""Chart builders: what a chart draws for the figures it is given."""

import math

from pipelines.figures.spc import p_chart
from pipelines.show import charts


def test_spc_chart_leaves_an_empty_month_as_a_gap():
    # March has no one in it (denominator 0): the line stops at February and starts again at
    # April, as the chart's note says, rather than joining across March.
    frame = p_chart(
        [8, 9, 0, 7], [10, 10, 0, 10], ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    )
    fig = charts.spc(frame, title="On time", y_title="Refills on time")
    (months,) = [trace for trace in fig.data if trace.name == "Month"]
    assert months.connectgaps is False
    assert math.isnan(months.y[2]) and list(months.y[[0, 1, 3]]) == [80, 90, 70]


def test_a_suppressed_bar_shows_a_star_at_the_axis():
    fig = charts.bars(
        ["2025 Q1", "2025 Q2", "2025 Q3"],
        {"Pumps": [10, "*", 0]},
        text=True,
        title="t",
        x_title="x",
        y_title="y",
    )
    stars = [trace for trace in fig.data if trace.type == "scatter"]
    assert len(stars) == 1
    assert list(stars[0].x) == ["2025 Q2"] and list(stars[0].y) == [0]
    assert list(stars[0].text) == ["*"] and stars[0].mode == "text"
