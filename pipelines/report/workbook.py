"""The audit pack as an XLSX workbook (for commissioners above all): an About sheet, one sheet of
figures per section with their intervals, the standards, each table the pack shows, and the
definitions. Written by pipelines.show.exports (safe against formula injection)."""

from __future__ import annotations

import pandas as pd

from pipelines.show.exports import xlsx_bytes
from pipelines.report.model import Definitions, FigureTable, GroupTable, Measure, Report, Standards, Table

FIGURE_COLUMNS = ["figure", "label", "group", "value", "95% CI low", "95% CI high", "unit"]


def workbook_bytes(report: Report) -> bytes:
    sheets = {"About": about(report)}
    for section in report.sections:
        figures = pd.DataFrame(figure_rows(section.blocks), columns=FIGURE_COLUMNS)
        if not figures.empty:
            sheets[section.title[:31]] = figures
        for block in section.blocks:
            if isinstance(block, Standards):
                sheets["Standards"] = standards(block)
            elif isinstance(block, Table):
                sheets[block.sheet] = block.frame
            elif isinstance(block, Definitions):
                sheets["Definitions"] = pd.DataFrame(block.items, columns=["label", "figure",
                                                                           "definition"])
    return xlsx_bytes(sheets)


def about(report: Report) -> pd.DataFrame:
    rows = [("Pack", report.title), ("Period", f"{report.start} to {report.end}"),
            ("Scope", report.scope), ("Figures as at", report.end),
            ("Role", report.role), ("Generated", report.generated)]
    rows += [("Note", line) for line in report.about]
    return pd.DataFrame(rows, columns=["item", "value"])


def figure_rows(blocks: list) -> list[list]:
    """Every kpis figure of a section, one per row: its path, label, group, value and interval."""
    rows = []
    for block in blocks:
        if isinstance(block, FigureTable):
            rows += [_row(m, text, block.title or "") for text, m in block.rows]
        elif isinstance(block, GroupTable):
            rows += [_row(m, column, group)
                     for group, measures in block.rows
                     for column, m in zip(block.columns, measures)]
    return rows


def _row(m: Measure, text: str, group: str) -> list:
    low, high = (m.low.raw, m.high.raw) if m.low else (None, None)
    return [m.value.key, text, group, m.value.raw, low, high, m.value.unit_name]


def standards(block: Standards) -> pd.DataFrame:
    return pd.DataFrame(
        [[row.label, row.figure.raw, row.measure.value.raw,
          row.measure.low.raw if row.measure.low else None,
          row.measure.high.raw if row.measure.high else None,
          f"{row.direction_words} {row.target.text}", row.status.raw, row.verdict]
         for row in block.rows],
        columns=["standard", "figure", "value", "95% CI low", "95% CI high", "target", "status",
                 "judgement"])
