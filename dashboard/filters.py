"""The global controls (sidebar): period, site and condition, shared by every page.

The sidebar is drawn by app.py on every run, before the page, so its widgets keep their values
in st.session_state while the user moves between pages; the page reads the chosen `Filters`
with `current()`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace

import streamlit as st

from pipelines.contract import CONDITIONS
from pipelines.figures.kpis import SiteSelection
from pipelines.show.definitions import label
from pipelines.show.display import day_text, site_text

LAST_12_MONTHS = "Last 12 months"
LAST_QUARTER = "Last quarter"
FINANCIAL_YEAR = "Financial year"
CUSTOM = "Custom"
PERIOD_PICKS = (LAST_12_MONTHS, LAST_QUARTER, FINANCIAL_YEAR, CUSTOM)
EARLIEST = dt.date(1990, 1, 1)
_STATE = "filters"


@dataclass(frozen=True)
class Filters:
    """What every figure on a page is computed for (as `compute_kpis`'s arguments)."""

    start: dt.date
    end: dt.date
    site: SiteSelection = None  # one site, several (a user's: "All my sites"), None = every site
    condition: str | None = None

    @property
    def as_of(self) -> dt.date:
        return self.end

    def with_site(self, site: SiteSelection) -> Filters:
        return replace(self, site=site)

    def describe(self) -> str:
        return (
            f"{day_text(self.start)} to {day_text(self.end)} · "
            f"{site_text(self.site)} · "
            f"{label(self.condition) if self.condition else 'all conditions'}"
        )


# --- period quick picks (each ends on or before the latest as-of date) -----------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (earlier if negative), clamped to month end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def last_12_months(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The 12 months ending on as_of: 2025-11-02 .. 2026-11-01."""
    return add_months(as_of, -12) + dt.timedelta(days=1), as_of


def last_quarter(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The latest complete calendar quarter ending on or before as_of (NHS quarters: Apr–Jun,
    Jul–Sep, Oct–Dec, Jan–Mar)."""
    first_month = (as_of.month - 1) // 3 * 3 + 1
    start = dt.date(as_of.year, first_month, 1)
    end = add_months(start, 3) - dt.timedelta(days=1)
    if end > as_of:  # as_of's quarter is not over: the one before
        start = add_months(start, -3)
        end = add_months(start, 3) - dt.timedelta(days=1)
    return start, end


def financial_years(as_of: dt.date, count: int = 5) -> dict[str, tuple[dt.date, dt.date]]:
    """UK financial years (1 April to 31 March), newest first: the one containing as_of (to
    as_of) and the `count - 1` before it. Keys are labels such as '2026/27 (to 1 Nov 2026)'."""
    first_year = as_of.year if as_of.month >= 4 else as_of.year - 1
    years = {}
    for year in range(first_year, first_year - count, -1):
        start, end = dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
        name = f"{year}/{(year + 1) % 100:02d}"
        if end > as_of:
            end, name = as_of, f"{name} (to {day_text(as_of)})"
        years[name] = (start, end)
    return years


# --- the sidebar ------------------------------------------------------------------------------


ALL_SITES = "All sites"
# A site-scoped governance user's every-site choice: figures over the network, patient rows of
# their own sites only (pipelines.access.sites).
NETWORK_FIGURES = "Network (figures of every site)"


# A user of several sites who may not see figures over every site: their sites at once, the
# figures over exactly those.
ALL_MY_SITES = "All my sites"


def site_choices(sites: list[str], every_site: str | None) -> list[SiteSelection]:
    """The sidebar's choices of site: first None (every site at once) when `every_site` names
    that choice (a user who may see figures over every site), else, for a user of more than
    one site, all of theirs at once (a frozenset); then each of the user's own (`sites`)."""
    if every_site:
        return [None, *sites]
    return [frozenset(sites), *sites] if len(sites) > 1 else list(sites)


def site_words(site: SiteSelection, every_site: str | None) -> str:
    """A choice of site_choices as the sidebar shows it."""
    if site is None:
        return every_site or ""
    return f"{ALL_MY_SITES} ({', '.join(sorted(site))})" if isinstance(site, frozenset) else site


def sidebar(latest_as_of: dt.date, sites: list[str], every_site: str | None = ALL_SITES) -> Filters:
    """Draw the global controls and remember the choice for the page: `sites` are the sites the
    user may see; `every_site` the words for every site at once, None when they may not (a user
    of several is offered all of theirs at once instead)."""
    with st.sidebar:
        st.subheader("Filters")
        pick = st.radio("Period", PERIOD_PICKS, key="period_pick")
        if pick == LAST_QUARTER:
            start, end = last_quarter(latest_as_of)
        elif pick == FINANCIAL_YEAR:
            years = financial_years(latest_as_of)
            start, end = years[st.selectbox("Financial year", list(years), key="financial_year")]
        elif pick == CUSTOM:
            start, end = _custom_period(latest_as_of)
        else:
            start, end = last_12_months(latest_as_of)
        site = st.selectbox(
            "Site",
            site_choices(sites, every_site),
            key="site",
            format_func=lambda s: site_words(s, every_site),
        )
        condition = st.selectbox(
            "Condition",
            [None, *CONDITIONS],
            key="condition",
            format_func=lambda c: "All conditions" if c is None else label(c),
        )
        st.caption(f"{day_text(start)} to {day_text(end)}. Figures are as at {day_text(end)}.")
    filters = Filters(start, end, site, condition)
    st.session_state[_STATE] = filters
    return filters


def current() -> Filters:
    """The filters chosen in the sidebar on this run."""
    return st.session_state[_STATE]


def _custom_period(latest_as_of: dt.date) -> tuple[dt.date, dt.date]:
    default = last_12_months(latest_as_of)
    chosen = st.date_input(
        "From – to",
        value=default,
        min_value=EARLIEST,
        max_value=latest_as_of,
        key="custom_period",
        format="DD/MM/YYYY",
    )
    if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
        return chosen[0], chosen[1]
    st.caption("Pick the last day too; until then the last 12 months are shown.")
    return default
