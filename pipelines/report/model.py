"""The audit pack as data, whatever its format: sections of blocks (figure tables, charts, lists,
notes). content.py fills it; html.py and workbook.py write it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd
import plotly.graph_objects as go

from pipelines.report.formatting import UNIT_NAMES, cell
from pipelines.show.display import DIRECTION_WORDS, VERDICTS, fmt, header


@dataclass(frozen=True)
class Value:
    """One figure of the kpis JSON: its dotted path, its value as the JSON has it, its unit."""

    key: str
    raw: Any
    unit: str

    @property
    def text(self) -> str:
        return fmt(self.raw, self.unit)

    @property
    def json(self) -> str:
        """The value exactly as `itb-audit kpis --json` writes it (for data-value)."""
        return json.dumps(self.raw)

    @property
    def unit_name(self) -> str:
        return UNIT_NAMES[self.unit]


@dataclass(frozen=True)
class Judgement:
    """A standard's judgement, written beside the figure it holds."""

    status: Value  # standards.<name>.status
    text: str  # symbol, words and target: '✔ Standard met (standard: at least 92.0%)'

    @property
    def css(self) -> str:
        return self.status.raw if self.status.raw in ("met", "not_met", "not_shown") else "none"


@dataclass(frozen=True)
class Measure:
    """A figure and, where it has one, its 95% interval, and the standards that hold it."""

    value: Value
    low: Value | None = None
    high: Value | None = None
    judgements: tuple[Judgement, ...] = ()


@dataclass(frozen=True)
class FigureTable:
    """Figures one per row: (label, measure)."""

    kind: ClassVar[str] = "figures"
    rows: list[tuple[str, Measure]]
    title: str | None = None


@dataclass(frozen=True)
class GroupTable:
    """The same figures for several groups (conditions, categories, measures): a row per group,
    a column per figure."""

    kind: ClassVar[str] = "groups"
    title: str
    group_header: str
    columns: list[str]
    rows: list[tuple[str, list[Measure]]]


@dataclass(frozen=True)
class Standard:
    """A standard of `kpis --json`: its figure (with interval) and its entry, each part a Value
    of standards.<name>.*."""

    label: str
    measure: Measure
    figure: Value  # the figure's dotted path
    direction: Value
    target: Value  # in the figure's unit
    status: Value

    @property
    def direction_words(self) -> str:
        return DIRECTION_WORDS[self.direction.raw]

    @property
    def verdict(self) -> str:
        symbol, words = VERDICTS[self.status.raw]
        return f"{symbol} {words}"

    @property
    def css(self) -> str:
        return self.status.raw if self.status.raw in ("met", "not_met", "not_shown") else "none"


@dataclass(frozen=True)
class Standards:
    kind: ClassVar[str] = "standards"
    rows: list[Standard]


@dataclass(frozen=True)
class Table:
    """Rows that are not kpis figures (a breakdown, a load history, an action list); `sheet`
    names its worksheet (None: not in the workbook)."""

    kind: ClassVar[str] = "table"
    title: str
    sheet: str | None
    frame: pd.DataFrame
    note: str | None = None
    action: bool = False  # a list of patients to act on
    # Where the pack shows text for numbers whose unit differs by row (the comparisons): the
    # rows as the workbook writes them, and the unit of each row of its numeric columns.
    workbook: pd.DataFrame | None = None
    units: dict[str, list[str]] | None = None

    @property
    def headers(self) -> list[str]:
        return [header(c) for c in self.frame.columns]

    @property
    def cells(self) -> list[list[str]]:
        columns = list(self.frame.columns)
        return [
            [cell(v, c) for v, c in zip(row, columns, strict=True)]
            for row in self.frame.itertuples(index=False)
        ]


@dataclass(frozen=True)
class Chart:
    kind: ClassVar[str] = "chart"
    figure: go.Figure
    note: str
    caption: str | None = None


@dataclass(frozen=True)
class Text:
    kind: ClassVar[str] = "text"
    text: str
    tone: str = "note"  # note, alert or good


@dataclass(frozen=True)
class Definitions:
    kind: ClassVar[str] = "definitions"
    items: list[tuple[str, str, str]]  # (label, key, definition)


Block = FigureTable | GroupTable | Standards | Table | Chart | Text | Definitions


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    title: str
    start: str  # the period's days as words: '2 Nov 2025'
    end: str
    scope: str  # 'all sites · all conditions'
    role: str
    generated: str
    loads: str  # the loads every figure was computed from, in words (display.loads_text)
    about: list[str]  # what this role's pack contains and leaves out, and why
    figures: dict[str, Any]  # the JSON every figure of the pack comes from
    sections: list[Section]
