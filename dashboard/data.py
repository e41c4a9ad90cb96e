"""The dashboard's only way to the warehouse: named queries from queries/, cached per snapshot.

ITB_AUDIT_DB names the warehouse: a DuckDB file or a lake (pipelines.warehouse). Each call reads
through pipelines.warehouse.reading: a file is opened read-only for that query alone, so a load
(which swaps in a new file) is never blocked; a lake is read through a cursor of the process's
one connection. Results are cached by query, parameters and the warehouse's snapshot (a file's
inode and mtime, a lake's snapshot id), so a new load shows at once.

Four kinds of result, each computed the one way the rest of the project computes it:
- `kpis`: the headline figures, `compute_kpis` (the JSON of `itb-audit kpis --json`);
- `mart`: the patient-level rows behind them, `Scope.run` on queries/marts/<name>.sql;
- `summary`: an aggregate of a mart's rows (one of pipelines.figures.breakdowns.AGGREGATES);
- `monthly`: a section's figures for each month of the period, by the same mart and figure
  function as `compute_kpis`, each mart run once for every month (a list of periods).

Each takes the signed-in role and applies pipelines.access.roles below the pages, so that a page bug
cannot show a role more than it may see: `mart` refuses a role that may not see patient rows
and shows governance a pseudonym for every record id; figures for a role that suppresses
small numbers are built from suppressed counts (pipelines.figures.disclosure); `quarantine` shows
row contents only to a role that may see them. Each also applies the signed-in user's sites
(pipelines.access.sites): patient rows only of the user's sites, figures only for a site of
theirs (or over every site, for a role and sites that may see network aggregates).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from dashboard.auth import current_sites
from dashboard.filters import Filters
from pipelines.access.roles import (
    Forbidden,
    Role,
    display_ids,
    require_patient_rows,
    sees_pseudonyms,
    sees_quarantine_contents,
    suppresses_small_numbers,
)
from pipelines.access.sites import own_rows, require_site, visible_sites
from pipelines.config import Settings, load_settings
from pipelines.figures import breakdowns
from pipelines.figures.comparisons import compare, earlier_periods
from pipelines.figures.disclosure import NO_SUPPRESSION, Disclosure, suppress_kpis, suppress_section
from pipelines.figures.kpis import (
    Scope,
    SiteSelection,
    compute_kpis,
    flatten,
    loads_of,
    monthly_figures,
)
from pipelines.figures.queries import run_query
from pipelines.load.pseudonym import KeyUnusable, resolve_key
from pipelines.show.display import earlier_text
from pipelines.warehouse import lake_address, reading
from pipelines.warehouse import snapshot_stamp as warehouse_stamp

DEFAULT_DB = Path(__file__).resolve().parent.parent / "warehouse" / "demo.duckdb"


def db_path() -> str:
    """The warehouse address: a DuckDB file's path or a lake address (ITB_AUDIT_DB; unset or
    empty, the demo's file), as the command line's --db."""
    return os.environ.get("ITB_AUDIT_DB") or str(DEFAULT_DB)


# A lake's snapshot id is a query of its catalog (20-30 ms of CPU, seconds on a busy machine) and
# a page run asks for it once per figure: a process asks the lake at most once per STAMP_SECONDS
# and reuses the answer meanwhile, so a new load shows within that time. A file's is a stat,
# asked every time.
STAMP_SECONDS = 1.0
_stamps: dict[str, tuple[float, tuple[int, ...] | None]] = {}
_stamps_lock = threading.Lock()


def snapshot_stamp() -> tuple[int, ...] | None:
    """Identity of the warehouse's current snapshot; None when there is none yet."""
    db = db_path()
    if lake_address(db) is None:
        return warehouse_stamp(db)
    # held while asking: the page's other threads wait for this answer instead of each asking
    with _stamps_lock:
        asked, stamp = _stamps.get(db, (-STAMP_SECONDS, None))
        if time.monotonic() - asked >= STAMP_SECONDS:
            stamp = warehouse_stamp(db)
            _stamps[db] = (time.monotonic(), stamp)
        return stamp


def settings() -> Settings:
    """The KPI settings (itb-audit.toml, or the file ITB_AUDIT_CONFIG names)."""
    return load_settings()


def _stamp() -> tuple[int, ...]:
    stamp = snapshot_stamp()
    if stamp is None:
        raise FileNotFoundError(db_path())
    return stamp


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(name: str, stamp: tuple[int, ...], params: tuple) -> pd.DataFrame:
    with reading(db_path()) as con:
        return run_query(con, name, **dict(params)).to_pandas()


# Audit queries whose rows hold a patient's data: only through their own function below.
ROW_CONTENT_QUERIES = {"load_history/quarantine"}
QUARANTINE_CONTENTS = ["row_key", "record"]  # the row's values and key as read


def query(name: str, **params) -> pd.DataFrame:
    """An audit query of queries/load_history/ (loads, tables, expectations); its `site` one
    site, several (a frozenset) or None for every site."""
    if name in ROW_CONTENT_QUERIES:
        raise Forbidden(f"{name} holds row contents: use data.quarantine(site, role)")
    return _of_sites(name, params)


def _of_sites(name: str, params: dict[str, Any]) -> pd.DataFrame:
    """A load_history query takes one site or every site: for several, every site's rows and
    then theirs."""
    site = params.get("site")
    if isinstance(site, frozenset):
        return own_rows(site, _of_sites(name, {**params, "site": None}))
    return _cached(name, _stamp(), tuple(sorted(params.items())))


def quarantine(site: SiteSelection, role: Role) -> pd.DataFrame:
    """The quarantined rows of the current loads with every reason; their contents (values and
    key) only for a role that may see quarantine contents."""
    sites = current_sites()
    if site is not None:
        require_site(role, sites, site)
    rows = own_rows(sites, _of_sites("load_history/quarantine", {"site": site}))
    return rows if sees_quarantine_contents(role) else rows.drop(columns=QUARANTINE_CONTENTS)


def disclosure(role: Role) -> Disclosure:
    """The small-number rule for what this role sees."""
    if suppresses_small_numbers(role):
        return Disclosure.from_settings(settings())
    return NO_SUPPRESSION


def has_data() -> bool:
    return snapshot_stamp() is not None and not query("load_history/loads", site=None).empty


def current_loads(site: SiteSelection = None) -> pd.DataFrame:
    """Each site's current load (the snapshot every figure comes from); one site's where named."""
    loads = query("load_history/loads", site=site)
    return loads[loads["is_current"]].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=64)
def _snapshot_loads(stamp: tuple[int, ...], site: SiteSelection) -> dict[str, dict[str, Any]]:
    with reading(db_path()) as con:
        return loads_of(con, site)


def snapshot_loads(site: SiteSelection) -> dict[str, dict[str, Any]]:
    """site -> the load the figures of the site (None = every site) come from: the KPI JSON's
    "loads"."""
    return _snapshot_loads(_stamp(), site)


def latest_as_of() -> dt.date:
    return pd.Timestamp(current_loads()["as_of"].max()).date()


def sites() -> list[str]:
    """The sites with a current load that the signed-in user may see."""
    return visible_sites(current_sites(), current_loads()["site"])


def sites_in_scope(filters: Filters) -> list[str]:
    """The sites the filters' figures are over that the user may see: one, the several chosen,
    or every one of theirs."""
    if filters.site is None:
        return sites()
    return [filters.site] if isinstance(filters.site, str) else sorted(filters.site)


@st.cache_data(show_spinner=False, max_entries=256)
def _kpis(stamp: tuple[int, ...], filters: Filters, settings: Settings) -> dict[str, Any]:
    return compute_kpis(
        db_path(), filters.start, filters.end, filters.site, settings, filters.condition
    )


def kpis(filters: Filters, role: Role) -> dict[str, Any]:
    """The figures of `itb-audit kpis --json` for these filters, as this role may see them."""
    require_site(role, current_sites(), filters.site)
    raw = _kpis(_stamp(), filters, settings())
    return suppress_kpis(raw, disclosure(role)) if suppresses_small_numbers(role) else raw


def comparisons(filters: Filters, role: Role, keys: list[str]) -> dict[str, list]:
    """key -> [(words, Comparison)] of each headline figure against the previous period of the
    same length and, for a period shorter than a year, the same period a year earlier; from
    the figures as this role sees them (a suppressed figure is not compared)."""
    require_site(role, current_sites(), filters.site)
    suppress = suppresses_small_numbers(role)
    days = (filters.end - filters.start).days + 1
    out: dict[str, list] = {key: [] for key in keys}
    for against, period in earlier_periods(filters.start, filters.end):
        earlier = replace(filters, start=period.start, end=period.end)
        # the earlier period first: the page may be computing this period's figures meanwhile
        then = _kpis(_stamp(), earlier, settings())
        now = _kpis(_stamp(), filters, settings())
        shown = (kpis(filters, role), kpis(earlier, role)) if suppress else None
        words = earlier_text(against, period)
        for key, c in compare(now, then, keys, days, period.days, against, shown).items():
            out[key].append((words, c))
    return out


@st.cache_data(show_spinner=False, max_entries=512)
def _rows(name: str, stamp: tuple[int, ...], filters: Filters, settings: Settings) -> pd.DataFrame:
    scope = Scope(filters.start, filters.end, filters.site, settings, filters.condition)
    with reading(db_path()) as con:
        rows = scope.run(con, name)
    frame = rows.to_pandas()
    for column, dtype in rows.schema.items():
        if dtype.is_integer():  # whole numbers stay whole where some are missing
            frame[column] = frame[column].astype("Int64")
    return frame


def pseudonym_key(settings: Settings) -> bytes | None:
    """The deployment's pseudonym key, or None after saying in one line on the page why it
    cannot be used (the command line exits 2 with the same line)."""
    try:
        return resolve_key(settings.pseudonym_key_file)
    except KeyUnusable as e:
        st.error(f"Pseudonymous patient ids cannot be shown: {e}.", icon=":material/key_off:")
        return None


@st.cache_data(show_spinner=False, max_entries=256)
def _pseudonymised(
    name: str, stamp: tuple[int, ...], filters: Filters, settings: Settings, key: bytes
) -> pd.DataFrame:
    return display_ids(Role.GOVERNANCE, _rows(name, stamp, filters, settings), key)


def mart(name: str, filters: Filters, role: Role) -> pd.DataFrame:
    """The patient-level rows of queries/marts/<name>.sql for these filters, for a role that may
    see them (else Forbidden), every record id (patient, referral, implant, ...) shown as the
    role sees it; only the rows of the signed-in user's sites, whatever site `filters` names."""
    require_patient_rows(role)
    sites = current_sites()
    if filters.site is not None:
        require_site(role, sites, filters.site)
    if sees_pseudonyms(role):
        if (key := pseudonym_key(settings())) is None:
            st.stop()
        return own_rows(sites, _pseudonymised(name, _stamp(), filters, settings(), key))
    return own_rows(sites, _rows(name, _stamp(), filters, settings()))


def summary(name: str, filters: Filters, role: Role, aggregate, **options) -> Any:
    """`aggregate(rows, disclosure, **options)` of a mart's rows: one of
    pipelines.figures.breakdowns.AGGREGATES, whose counts are suppressed for a role that suppresses
    small numbers. The rows themselves never reach the page."""
    if aggregate not in breakdowns.AGGREGATES:
        raise Forbidden(
            f"{getattr(aggregate, '__name__', aggregate)} is not an aggregate of "
            "pipelines.figures.breakdowns.AGGREGATES"
        )
    require_site(role, current_sites(), filters.site)
    return aggregate(_rows(name, _stamp(), filters, settings()), d=disclosure(role), **options)


@st.cache_data(show_spinner=False, max_entries=128)
def _monthly(
    section: str, stamp: tuple[int, ...], filters: Filters, settings: Settings
) -> list[tuple[pd.Timestamp, dict[str, Any]]]:
    scope = Scope(filters.start, filters.end, filters.site, settings, filters.condition)
    with reading(db_path()) as con:
        return [
            (pd.Timestamp(first), figures)
            for first, figures in monthly_figures(con, scope, section)
        ]


def monthly(section: str, filters: Filters, role: Role) -> pd.DataFrame:
    """One row per calendar month wholly inside the period, with the section's figures for that
    month as this role may see them; nested figures are flattened ('all.events'). A part-month
    at either end is left out: it would show as a month with little activity."""
    require_site(role, current_sites(), filters.site)
    d, suppress = disclosure(role), suppresses_small_numbers(role)
    rows = [
        {"month": month, **flatten(suppress_section(section, f, d) if suppress else f)}
        for month, f in _monthly(section, _stamp(), filters, settings())
    ]
    return pd.DataFrame(rows, columns=None if rows else ["month"])


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """The results of independent calls of this module (`lambda: kpis(filters, role)`, ...),
    made at once, each in a thread of its own, in order. DuckDB and polars work outside the GIL,
    so a page's figures and series overlap instead of queueing. Each thread carries the page's
    script-run context, as Streamlit's caches expect; each query still opens its own
    connection. A call that the cache is already computing waits for that result."""
    context = get_script_run_ctx()

    def run(call: Callable[[], Any]) -> Any:
        add_script_run_ctx(threading.current_thread(), context)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def flat_figures(kpi_figures: dict[str, Any]) -> pd.DataFrame:
    """Figures (as `kpis`) as rows of (figure, value), the figure a dotted path."""
    return pd.DataFrame(
        [{"figure": key, "value": value} for key, value in flatten(kpi_figures).items()]
    ).astype({"value": "string"})
