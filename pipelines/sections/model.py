"""What a section is: its headline figures (dotted keys of `kpis --json`), and its charts and
tables as recipes. A chart recipe is a builder of pipelines/show/charts.py with its title, axis
titles and note fixed; the renderer passes the rows it read from the marts (or the figures) and
the options that depend on them. A table recipe is a title, a note and the columns shown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go


@dataclass(frozen=True)
class ChartRecipe:
    """A chart: `draw` (a builder of pipelines.show.charts, or a function shaping rows for one)
    called with the title (a template: 'Free of a first {endpoint} complication') and `options`.
    `note` is the key in pipelines.show.definitions.NOTES of what the chart shows."""

    title: str
    note: str
    draw: Callable[..., go.Figure]
    options: Mapping[str, Any] = field(default_factory=dict)

    def figure(
        self, *inputs: Any, names: Mapping[str, str] | None = None, **options: Any
    ) -> go.Figure:
        return self.draw(
            *inputs, title=self.title.format(**(names or {})), **{**self.options, **options}
        )


@dataclass(frozen=True)
class TableRecipe:
    """A table: its title (a template where it carries a count or a date), its worksheet in the
    pack, the NOTES key of its note, the columns shown (all when None), and the name of the
    dashboard's downloads (the title's words when None)."""

    title: str
    sheet: str | None = None
    note: str | None = None
    columns: tuple[str, ...] | None = None
    download: str | None = None

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[list(self.columns)] if self.columns else frame

    def heading(self, **names: Any) -> str:
        return self.title.format(**names)

    @property
    def download_name(self) -> str:
        return self.download or self.title.lower()


@dataclass(frozen=True)
class Section:
    """One section: its id and title in the pack, `headlines` the figures shown first (on its
    page as metrics), charts and tables by name. The page's title and layout are the page's."""

    id: str
    title: str
    headlines: tuple[str, ...] = ()
    charts: Mapping[str, ChartRecipe] = field(default_factory=dict)
    tables: Mapping[str, TableRecipe] = field(default_factory=dict)
