"""How a figure reads on screen and on paper: one set of rules for the dashboard, the exports
and the audit pack (no streamlit, no templates: both sides import it)."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from typing import Any

from pipelines.figures.disclosure import SUPPRESSED


def is_number(value: Any) -> bool:
    """A figure that can be drawn or formatted: a real number, not missing, not suppressed."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and not math.isnan(value))


def fmt(value: Any, unit: str = "count") -> str:
    """A figure as shown: a dash when undefined, "*" when suppressed, a proportion as a
    percentage."""
    if value == SUPPRESSED:
        return SUPPRESSED
    if not is_number(value):
        return "—"
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if unit == "count":
        return f"{int(value):,}"
    if unit == "change":
        return f"{value:+.2f}"
    if unit == "mean":
        return f"{value:.2f}"
    return f"{value:,.1f}"


def day_text(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"
