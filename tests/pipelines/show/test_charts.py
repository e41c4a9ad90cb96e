"""Chart builders: what a chart draws for the figures it is given."""

import math

import pandas as pd

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


def test_paired_outcomes_draws_each_paired_patient_as_a_line_with_a_gap_between():
    # Two paired patients and one without a 12-month value (not drawn); the means of the pairs.
    rows = pd.DataFrame(
        {
            "measure": ["ashworth", "ashworth", "ashworth", "pain"],
            "paired": [True, True, False, True],
            "baseline_value": [3.0, 4.0, 2.0, 7.0],
            "followup_value": [1.0, 2.5, None, 6.0],
        }
    )
    fig = charts.paired_outcomes(
        rows, ["ashworth", "pain"], {"ashworth": "Ashworth", "pain": "Pain"}, title="t"
    )
    patients, means = fig.data[0], fig.data[1]
    assert list(patients.x) == ["Baseline", "12 months", None] * 2
    assert list(patients.y[[0, 1, 3, 4]]) == [3.0, 1.0, 4.0, 2.5]
    assert math.isnan(patients.y[2]) and math.isnan(patients.y[5])  # a gap: lines not joined
    assert list(means.y) == [3.5, 1.75]
    assert list(fig.data[2].y[:2]) == [7.0, 6.0]


def test_residuals_name_each_refill_from_a_text_array():
    rows = pd.DataFrame(
        {
            "refill_id": ["F1", "F2", "F3"],
            "expected_residual_ml": [1.0, 2.0, None],
            "actual_residual_ml": [1.5, 5.0, 3.0],
            "residual_discrepancy": pd.array([False, True, None], dtype="boolean"),
        }
    )
    fig = charts.residuals(rows, 2.0, title="t")
    refills, discrepancies = fig.data[1], fig.data[2]
    assert list(refills.text) == ["F1"] and list(discrepancies.text) == ["F2"]  # F3: no expected
    # fixed-width text, which Plotly copies whole (an object array it copies item by item)
    assert refills.text.dtype.kind == discrepancies.text.dtype.kind == "U"
