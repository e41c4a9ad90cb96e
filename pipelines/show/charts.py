"""Plotly chart builders shared by the pages: one look for every chart of the same kind.

Builders take figures already computed (marts, compute_kpis, pipelines.figures.breakdowns) and
only draw.
Proportions are drawn as percentages. A suppressed figure ("*", pipelines.figures.disclosure) is not
drawn: a bar or funnel step shows it as its label, an interval chart leaves its row out.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pipelines.figures.disclosure import SUPPRESSED
from pipelines.show.definitions import label

BLUE = "#005EB8"  # NHS blue
DARK = "#231F20"
GREY = "#768692"
ORANGE = "#ED8B00"
GREEN = "#009639"
RED = "#DA291C"
PALETTE = [BLUE, ORANGE, GREEN, "#7C2855", "#00A499", "#330072", RED, GREY]
POINT_COLOURS = {  # Making Data Count: improvement blue, concern orange, common cause grey
    "common_cause": GREY,
    "special_cause_improvement": BLUE,
    "special_cause_concern": ORANGE,
    "special_cause_neutral": "#7C2855",
}
HEIGHT = 360


def _layout(fig: go.Figure, *, title: str | None = None, height: int = HEIGHT, **axes) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        # the title at the top of the chart, the legend on the line below it, above the plot
        title=dict(
            text=title,
            font=dict(size=15),
            x=0.01,
            xref="container",
            yref="container",
            y=1,
            yanchor="top",
            pad=dict(t=10),
        )
        if title
        else None,
        margin=dict(l=10, r=20, t=80 if title else 30, b=10),
        colorway=PALETTE,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
        hoverlabel=dict(bgcolor="white"),
        **axes,
    )
    return fig


def spc(frame: pd.DataFrame, *, title: str, y_title: str) -> go.Figure:
    """A Making Data Count p-chart (pipelines.figures.spc.p_chart's frame, indexed by month)."""
    months = frame.index
    fig = go.Figure()
    for column in ("upper_limit", "lower_limit"):
        fig.add_scatter(
            x=months,
            y=frame[column] * 100,
            name="Process limits",
            mode="lines",
            legendgroup="limits",
            showlegend=column == "upper_limit",
            line=dict(color=GREY, dash="dash", width=1, shape="hvh"),
            hoverinfo="skip",
        )
    fig.add_scatter(
        x=months,
        y=frame["mean"] * 100,
        name="Mean",
        mode="lines",
        line=dict(color=DARK, width=1),
        hoverinfo="skip",
    )
    # A month with no one in it is a gap in the line, not a join across it.
    fig.add_scatter(
        x=months,
        y=frame["x"] * 100,
        name="Month",
        mode="lines+markers",
        connectgaps=False,
        line=dict(color=GREY, width=1.5),
        marker=dict(size=9, color=[POINT_COLOURS.get(p, GREY) for p in frame["point_type"]]),
        customdata=frame[["numerator", "denominator"]].to_numpy(),
        hovertemplate="%{x|%b %Y}: %{y:.1f}% (%{customdata[0]:.0f} of %{customdata[1]:.0f})"
        "<extra></extra>",
    )
    return _layout(
        fig,
        title=title,
        yaxis=dict(title=y_title, ticksuffix="%", range=[-2, 102]),
        xaxis=dict(tickformat="%b %Y"),
    )


def intervals(
    rows: pd.DataFrame,
    *,
    category: str,
    value: str,
    low: str,
    high: str,
    title: str,
    x_title: str,
    percent: bool = True,
    reference: pd.DataFrame | None = None,
    standards: dict[str, float] | None = None,
    text: str | None = None,
    codes: bool = True,
) -> go.Figure:
    """A figure with its 95% interval per category (a forest plot), categories top to bottom.
    codes: the categories are codes to show as words (pipelines.show.definitions.label).

    reference: rows (category, low, high, source) drawn as grey bands (a point where low =
    high); standards: {category: standard}, drawn as a red mark on that category's row.
    """
    scale = 100 if percent else 1
    name_of = label if codes else str
    rows = rows.assign(
        **{c: pd.to_numeric(rows[c], errors="coerce") for c in (value, low, high)}
    ).dropna(subset=[value])
    names = [name_of(c) for c in rows[category]]
    fig = go.Figure()
    if reference is not None:
        for ref in reference.itertuples():
            if ref.category not in set(rows[category]):
                continue
            y = name_of(ref.category)
            fig.add_scatter(
                x=[ref.low * scale, ref.high * scale],
                y=[y, y],
                mode="lines+markers",
                line=dict(color="rgba(118,134,146,0.35)", width=14),
                marker=dict(symbol="line-ns-open", size=14, color=GREY),
                name="Published",
                showlegend=False,
                hovertemplate=f"{ref.source}<extra>Published</extra>",
            )
        fig.add_scatter(
            x=[None],
            y=[None],
            mode="lines",
            name="Published figures",
            line=dict(color="rgba(118,134,146,0.35)", width=10),
        )
    point = rows[value].astype(float) * scale
    fig.add_scatter(
        x=point,
        y=names,
        mode="markers",
        name="Figure (95% interval)",
        marker=dict(color=BLUE, size=10),
        error_x=dict(
            type="data",
            symmetric=False,
            color=BLUE,
            thickness=2,
            array=(rows[high].astype(float) * scale - point),
            arrayminus=(point - rows[low].astype(float) * scale),
        ),
        text=rows[text] if text else None,
        hovertemplate="%{y}: %{x:.1f}"
        + ("%" if percent else "")
        + (" · %{text}" if text else "")
        + "<extra></extra>",
    )
    standards = {c: v for c, v in (standards or {}).items() if c in set(rows[category])}
    if standards:
        fig.add_scatter(
            x=[v * scale for v in standards.values()],
            y=[name_of(c) for c in standards],
            mode="markers",
            name="Standard",
            marker=dict(symbol="line-ns-open", size=22, color=RED, line=dict(width=3)),
            hovertemplate="Standard: %{x:.1f}" + ("%" if percent else "") + "<extra></extra>",
        )
    return _layout(
        fig,
        title=title,
        height=max(260, 110 + 40 * len(rows)),
        xaxis=dict(title=x_title, ticksuffix="%" if percent else "", rangemode="tozero"),
        yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=names),
    )


def histogram(
    values: pd.Series,
    *,
    title: str,
    x_title: str,
    line_at: float | None = None,
    line_name: str = "",
) -> go.Figure:
    fig = go.Figure(
        go.Histogram(
            x=values,
            marker_color=BLUE,
            xbins=dict(size=7),
            hovertemplate="%{x} days: %{y}<extra></extra>",
        )
    )
    if line_at is not None:
        fig.add_vline(
            x=line_at,
            line=dict(color=RED, dash="dash"),
            annotation_text=line_name,
            annotation_position="top right",
        )
    return _layout(
        fig, title=title, xaxis=dict(title=x_title), yaxis=dict(title="Count"), bargap=0.05
    )


def bars(
    x: Sequence,
    series: dict[str, Sequence],
    *,
    title: str,
    x_title: str,
    y_title: str,
    text: bool = False,
    horizontal: bool = False,
) -> go.Figure:
    """Bars of counts (whole-number ticks): one colour per series, stacked."""
    fig = go.Figure()
    drawn = {
        name: pd.to_numeric(pd.Series(list(y), dtype=object), errors="coerce")
        for name, y in series.items()
    }
    for i, (name, y) in enumerate(series.items()):
        kwargs = (
            dict(y=x, x=drawn[name], orientation="h") if horizontal else dict(x=x, y=drawn[name])
        )
        shown = list(y)
        fig.add_bar(
            **kwargs,
            name=name,
            marker_color=PALETTE[i % len(PALETTE)],
            text=shown if text or drawn[name].isna().any() else None,
            textposition="auto",
            textangle=0,
        )  # never turned sideways to fit
        # A suppressed bar has no height to hold its label: the "*" is written at the axis.
        stars = [v == SUPPRESSED for v in shown]
        if any(stars):
            where = [p for p, star in zip(x, stars, strict=True) if star]
            at = (
                dict(y=where, x=[0] * len(where), textposition="middle right")
                if horizontal
                else dict(x=where, y=[0] * len(where), textposition="top center")
            )
            fig.add_scatter(
                **at,
                mode="text",
                text=[SUPPRESSED] * len(where),
                showlegend=False,
                hoverinfo="skip",
                textfont=dict(size=16),
            )
    largest = max([0, *sum(v.fillna(0) for v in drawn.values())])
    counts: dict[str, Any] = dict(title=y_title, rangemode="tozero", tickformat=",d")
    if largest <= 6:  # no ticks between whole numbers
        counts.update(tick0=0, dtick=1)
    axes = (
        dict(xaxis=counts, yaxis=dict(title=x_title, autorange="reversed"))
        if horizontal
        else dict(xaxis=dict(title=x_title), yaxis=counts)
    )
    height = max(HEIGHT, 130 + 22 * len(x)) if horizontal else HEIGHT
    return _layout(
        fig, title=title, height=height, barmode="stack", showlegend=len(series) > 1, **axes
    )


def expected_bars(
    x: Sequence,
    expected: Sequence,
    low: Sequence,
    high: Sequence,
    *,
    title: str,
    x_title: str,
    y_title: str,
) -> go.Figure:
    """Bars of expected counts (a forecast, one decimal) with their 95% intervals as error bars."""
    expected = pd.Series(list(expected), dtype=float)
    fig = go.Figure()
    fig.add_bar(
        x=list(x),
        y=expected,
        name="Expected",
        marker_color=PALETTE[0],
        text=[f"{v:.1f}" for v in expected],
        textposition="auto",
        error_y=dict(
            type="data",
            symmetric=False,
            color="#425563",
            array=pd.Series(list(high), dtype=float) - expected,
            arrayminus=expected - pd.Series(list(low), dtype=float),
        ),
        hovertemplate="%{x}: %{y:.1f} expected<extra></extra>",
    )
    return _layout(
        fig,
        title=title,
        xaxis=dict(title=x_title),
        yaxis=dict(title=y_title, rangemode="tozero"),
        showlegend=False,
    )


def kaplan_meier(curves: pd.DataFrame, *, title: str, y_title: str) -> go.Figure:
    """Kaplan–Meier steps (pipelines.figures.survival.kaplan_meier) with their 95% bands, per group
    (the group names are shown as they are)."""
    fig = go.Figure()
    for i, (group, curve) in enumerate(curves.groupby("group", sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        fill = _rgba(colour, 0.15)
        fig.add_scatter(
            x=curve["years"],
            y=curve["ci_high"] * 100,
            mode="lines",
            line=dict(width=0, shape="hv"),
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        )
        fig.add_scatter(
            x=curve["years"],
            y=curve["ci_low"] * 100,
            mode="lines",
            line=dict(width=0, shape="hv"),
            fill="tonexty",
            fillcolor=fill,
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        )
        fig.add_scatter(
            x=curve["years"],
            y=curve["survival"] * 100,
            mode="lines",
            name=group,
            legendgroup=group,
            line=dict(color=colour, width=2, shape="hv"),
            customdata=curve[["at_risk"]].to_numpy(),
            hovertemplate="%{x:.1f} years: %{y:.1f}% (at risk %{customdata[0]})<extra>"
            f"{group}</extra>",
        )
    return _layout(
        fig,
        title=title,
        xaxis=dict(title="Years since implant", rangemode="tozero"),
        yaxis=dict(title=y_title, ticksuffix="%", range=[0, 102]),
    )


def pathway(funnel: pd.DataFrame, *, title: str) -> go.Figure:
    fig = go.Figure(
        go.Funnel(
            y=funnel["step"],
            x=pd.to_numeric(funnel["patients"], errors="coerce"),
            text=funnel["patients"].astype(str),
            textinfo="text+percent initial",
            marker=dict(color=[BLUE, "#41B6E6", "#00A499", GREEN][: len(funnel)]),
            hovertemplate="%{y}: %{x} patients<extra></extra>",
        )
    )
    return _layout(fig, title=title)


def site_funnel(
    sites: pd.DataFrame, limits: pd.DataFrame, overall: float, *, title: str
) -> go.Figure:
    """Funnel plot: each site's rate per 100 pump-years against pump-years, with limits."""
    fig = go.Figure()
    for name, dash in (("99.8", "dot"), ("95", "dash")):
        for side in ("lower", "upper"):
            fig.add_scatter(
                x=limits["pump_years"],
                y=limits[f"{side}_{name}"],
                mode="lines",
                line=dict(color=GREY, dash=dash, width=1),
                name=f"{name}% limits",
                legendgroup=name,
                showlegend=side == "upper",
                hoverinfo="skip",
            )
    fig.add_hline(y=overall, line=dict(color=DARK, width=1), annotation_text="All sites")
    fig.add_scatter(
        x=sites["pump_years"],
        y=sites["rate"],
        mode="markers+text",
        text=sites["site"],
        textposition="top center",
        marker=dict(color=BLUE, size=11),
        name="Site",
        hovertemplate="%{text}: %{y:.1f} per 100 pump-years over %{x:.1f} pump-years"
        "<extra></extra>",
    )
    top = max(limits["upper_99.8"].max(), sites["rate"].max()) * 1.1
    return _layout(
        fig,
        title=title,
        xaxis=dict(title="Pump-years", rangemode="tozero"),
        yaxis=dict(title="Complications per 100 pump-years", range=[0, top]),
    )


def residuals(refills: pd.DataFrame, threshold: float, *, title: str) -> go.Figure:
    """Actual against expected residual volume; the band is expected ± threshold."""
    rows = refills.dropna(subset=["expected_residual_ml", "actual_residual_ml"])
    top = float(max(rows[["expected_residual_ml", "actual_residual_ml"]].max().max(), 1.0)) + 1
    fig = go.Figure()
    fig.add_scatter(
        x=[0, top, top, 0],
        y=[threshold, top + threshold, top - threshold, -threshold],
        fill="toself",
        fillcolor="rgba(118,134,146,0.15)",
        line=dict(width=0),
        name=f"Within ±{threshold:g} mL",
        hoverinfo="skip",
    )
    for flagged, colour, name in ((False, GREY, "Refill"), (True, RED, "Discrepancy")):
        part = rows[rows["residual_discrepancy"].fillna(False).astype(bool) == flagged]
        fig.add_scatter(
            x=part["expected_residual_ml"],
            y=part["actual_residual_ml"],
            mode="markers",
            marker=dict(color=colour, size=7 if flagged else 5, opacity=0.9 if flagged else 0.5),
            name=name,
            # text, not objects: Plotly deep-copies an object array item by item (a third of
            # this chart's time for 10 years of refills at 20,000 patients)
            text=part["refill_id"].to_numpy(str),
            hovertemplate="%{text}: expected %{x:.1f} mL, actual %{y:.1f} mL<extra></extra>",
        )
    return _layout(
        fig,
        title=title,
        xaxis=dict(title="Expected residual (mL)", range=[0, top]),
        yaxis=dict(title="Actual residual (mL)", range=[0, top]),
    )


def paired_outcomes(
    rows: pd.DataFrame, measures: Sequence[str], names: dict[str, str], *, title: str
) -> go.Figure:
    """One panel per measure: each patient's baseline → 12-month line, and the means."""
    fig = make_subplots(rows=1, cols=len(measures), subplot_titles=[names[m] for m in measures])
    for col, measure in enumerate(measures, start=1):
        part = rows[(rows["measure"] == measure) & rows["paired"].fillna(False).astype(bool)]
        # each patient's line: baseline, 12 months, then a gap (arrays, not lists: Plotly checks
        # a list item by item, which took most of the page's time for 10 years of patients)
        xs = np.tile(np.array(["Baseline", "12 months", None], dtype=object), len(part))
        ys = np.column_stack(
            [
                part["baseline_value"].to_numpy(float),
                part["followup_value"].to_numpy(float),
                np.full(len(part), np.nan),
            ]
        ).ravel()
        fig.add_scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            line=dict(color=_rgba(GREY, 0.45), width=1),
            marker=dict(size=4, color=GREY),
            showlegend=False,
            hoverinfo="skip",
            row=1,
            col=col,
        )
        if len(part):
            fig.add_scatter(
                x=["Baseline", "12 months"],
                y=[part["baseline_value"].mean(), part["followup_value"].mean()],
                mode="lines+markers",
                line=dict(color=BLUE, width=3),
                marker=dict(size=10),
                name="Mean",
                hovertemplate="%{x}: mean %{y:.2f}<extra></extra>",
                row=1,
                col=col,
            )
        else:
            axis = "" if col == 1 else col  # the first subplot's axes are x and y
            fig.add_annotation(
                text="No paired patients",
                showarrow=False,
                font=dict(color=GREY),
                xref=f"x{axis} domain",
                yref=f"y{axis} domain",
                x=0.5,
                y=0.5,
            )
            fig.update_xaxes(visible=False, row=1, col=col)
            fig.update_yaxes(visible=False, row=1, col=col)
    return _layout(fig, title=title, height=380, showlegend=False)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def sparkline(
    values: Sequence[float], *, description: str, width: int = 160, height: int = 32
) -> str:
    """A monthly trend as an inline SVG line, with its text alternative (WCAG 1.1.1) as the
    image's accessible name and title: Streamlit's own metric sparkline has none."""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )
    text = escape(description)
    return (
        f'<svg role="img" aria-label="{text}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{text}</title><polyline fill="none" '
        f'stroke="{BLUE}" stroke-width="2" points="{points}"/></svg>'
    )


def describe(fig: go.Figure) -> str:
    """A chart's text alternative: its title and what it draws (the axes and each named
    series; a bar chart of up to 12 bars, its values)."""
    layout = fig.layout
    title = layout.title.text or "Chart"
    x, y = layout.xaxis.title.text, layout.yaxis.title.text
    horizontal = any(getattr(t, "orientation", None) == "h" for t in fig.data)
    parts = [f"{title}."]
    if x and y:
        parts.append(f"{x if horizontal else y} by {y if horizontal else x}.")
    names = list(dict.fromkeys(t.name for t in fig.data if t.name and t.showlegend is not False))
    if names and layout.showlegend is not False:
        parts.append(f"Shows: {', '.join(names)}.")
    bars_ = [t for t in fig.data if t.type == "bar"]
    if bars_ and all(len(t.x) <= 12 for t in bars_):
        for t in bars_:
            cats, vals = (
                (t.y, t.text if t.text is not None else t.x)
                if horizontal
                else (t.x, t.text if t.text is not None else t.y)
            )
            pairs = ", ".join(f"{c}: {_bar_value(v)}" for c, v in zip(cats, vals, strict=True))
            parts.append(f"{t.name}: {pairs}." if len(bars_) > 1 else f"{pairs}.")
    return " ".join(parts)


def _bar_value(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or value != value:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
