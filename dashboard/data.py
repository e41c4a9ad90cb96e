"""The dashboard's only way to the warehouse: named queries from queries/, cached per snapshot.

Each call opens the file read-only for that query alone, so a load (which swaps in a new file)
is never blocked and the dashboard never holds a half-written state. Results are cached by
query, parameters and the file's identity (inode and mtime), so a new load shows at once.

Three kinds of result, each computed the one way the rest of the project computes it:
- `kpis`: the headline figures, `compute_kpis` (the JSON of `itb-audit kpis --json`);
- `mart`: the rows behind them, `Scope.run` on queries/marts/<name>.sql;
- `monthly`: a section's figures for each month of the period, by the same mart and figure
  function as `compute_kpis`, run for that month as its period.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.filters import Filters, add_months
from pipelines.config import Settings, load_settings
from pipelines.kpis import Scope, compute_kpis, section_figures
from pipelines.queries import run_query
from pipelines.warehouse import connect_readonly

DEFAULT_DB = Path(__file__).resolve().parent.parent / "warehouse" / "demo.duckdb"


def db_path() -> Path:
    return Path(os.environ.get("ITB_AUDIT_DB", DEFAULT_DB))


def snapshot_stamp() -> tuple[int, int] | None:
    """Identity of the current warehouse file; None when there is none yet."""
    try:
        stat = db_path().stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def settings() -> Settings:
    """The KPI settings (itb-audit.toml, or the file ITB_AUDIT_CONFIG names)."""
    return load_settings()


def _stamp() -> tuple[int, int]:
    stamp = snapshot_stamp()
    if stamp is None:
        raise FileNotFoundError(db_path())
    return stamp


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(name: str, stamp: tuple[int, int], params: tuple) -> pd.DataFrame:
    con = connect_readonly(db_path())
    try:
        return run_query(con, name, **dict(params)).to_pandas()
    finally:
        con.close()


def query(name: str, **params) -> pd.DataFrame:
    return _cached(name, _stamp(), tuple(sorted(params.items())))


def has_data() -> bool:
    return snapshot_stamp() is not None and not query("audit/loads", site=None).empty


def current_loads() -> pd.DataFrame:
    """Each site's current load (the snapshot every figure comes from)."""
    loads = query("audit/loads", site=None)
    return loads[loads["is_current"]].reset_index(drop=True)


def latest_as_of() -> dt.date:
    return pd.Timestamp(current_loads()["as_of"].max()).date()


def sites() -> list[str]:
    return sorted(current_loads()["site"])


@st.cache_data(show_spinner=False, max_entries=256)
def _kpis(stamp: tuple[int, int], filters: Filters, settings: Settings) -> dict[str, Any]:
    return compute_kpis(
        db_path(), filters.start, filters.end, filters.site, settings, filters.condition
    )


def kpis(filters: Filters) -> dict[str, Any]:
    """The figures of `itb-audit kpis --json` for these filters."""
    return _kpis(_stamp(), filters, settings())


@st.cache_data(show_spinner=False, max_entries=512)
def _mart(name: str, stamp: tuple[int, int], filters: Filters, settings: Settings) -> pd.DataFrame:
    scope = Scope(filters.start, filters.end, filters.site, settings, filters.condition)
    with connect_readonly(db_path()) as con:
        rows = scope.run(con, name)
    frame = rows.to_pandas()
    for column, dtype in rows.schema.items():
        if dtype.is_integer():  # whole numbers stay whole where some are missing
            frame[column] = frame[column].astype("Int64")
    return frame


def mart(name: str, filters: Filters) -> pd.DataFrame:
    """The rows of queries/marts/<name>.sql for these filters."""
    return _mart(name, _stamp(), filters, settings())


@st.cache_data(show_spinner=False, max_entries=128)
def _monthly(
    section: str, stamp: tuple[int, int], filters: Filters, settings: Settings
) -> pd.DataFrame:
    rows = []
    with connect_readonly(db_path()) as con:
        for start, end in months(filters.start, filters.end):
            scope = Scope(start, end, filters.site, settings, filters.condition)
            figures = section_figures(con, scope, [section])[section]
            rows.append({"month": pd.Timestamp(start), **_flat(figures)})
    return pd.DataFrame(rows, columns=None if rows else ["month"])


def monthly(section: str, filters: Filters) -> pd.DataFrame:
    """One row per calendar month wholly inside the period, with the section's figures for that
    month; nested figures are flattened ('all.events'). A part-month at either end is left out:
    it would show as a month with little activity."""
    return _monthly(section, _stamp(), filters, settings())


def flat_figures(figures: dict[str, Any]) -> pd.DataFrame:
    """Figures (as `kpis`) as rows of (figure, value), the figure a dotted path."""
    return pd.DataFrame(
        [{"figure": key, "value": value} for key, value in _flat(figures).items()]
    ).astype({"value": "string"})


def months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day) of each calendar month wholly inside start..end."""
    out = []
    first = start if start.day == 1 else add_months(start.replace(day=1), 1)
    while (last := add_months(first, 1) - dt.timedelta(days=1)) <= end:
        out.append((first, last))
        first = add_months(first, 1)
    return out


def _flat(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
