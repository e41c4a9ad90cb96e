"""The audit pack as one self-contained HTML file: the Jinja2 template in
pipelines/report/templates/, plotly.js inlined once, every chart drawn in the page, and nothing a
browser would fetch."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from pipelines.report.formatting import GLOSSARY
from pipelines.report.model import Report
from pipelines.show.definitions import FIGURES
from pipelines.show.display import detail_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
FONT = 'Arial, "Liberation Sans", Helvetica, sans-serif'  # installed fonts only: nothing to fetch
# The A4 page's width inside its margins (210 − 2 × 14 mm = 182 mm, 688 px at 96 px per inch):
# a fixed width, so a chart drawn on screen is the chart printed.
CHART_WIDTH = 680
CHART_CONFIG = {"displaylogo": False, "responsive": False}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def css_string(text: str) -> Markup:
    """Text as the body of a CSS string: anything but plain characters as a CSS escape, so a
    site name cannot end the string or the <style> element."""
    return Markup(re.sub(r"[^A-Za-z0-9 .,:()/-]", lambda m: f"\\{ord(m.group()):x} ", text))


_env.filters["css_string"] = css_string
_env.filters["as_json"] = json.dumps


def render_html(report: Report) -> str:
    ids = itertools.count(1)

    def plot(figure: go.Figure) -> Markup:
        return Markup(figure_html(figure, f"chart-{next(ids)}"))

    def detail(key: str) -> str | None:
        """A headline figure's numerator and denominator, as the dashboard shows them."""
        return detail_text(report.figures, key, FIGURES[key].detail) if key in FIGURES else None

    return _env.get_template("report.html.j2").render(
        report=report,
        plot=plot,
        plotlyjs=Markup(get_plotlyjs()),
        defined=set(FIGURES),
        detail=detail,
        glossary=GLOSSARY,
        contents=[(s.id, s.title) for s in report.sections] + [("glossary", "Abbreviations")],
    )


def figure_html(figure: go.Figure, div_id: str) -> str:
    """A chart as a <div> and the script that draws it (plotly.js is in the page's head)."""
    sized = go.Figure(figure).update_layout(width=CHART_WIDTH, font=dict(family=FONT))
    return pio.to_html(
        sized, full_html=False, include_plotlyjs=False, div_id=div_id, config=CHART_CONFIG
    )
