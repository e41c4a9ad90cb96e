"""The one-page summary that opens the audit pack and the Overview page, built once from the
figures as the role sees them: each standard's judgement, the headline figures whose change
from an earlier period is beyond chance, the safety lists' counts and how fresh and complete
the data is. Every cell is text as shown, so the pack and the page print the same words; the
tables' titles and notes are those of SUMMARY (pipelines/sections/audit.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines.figures.comparisons import Comparison
from pipelines.figures.disclosure import SUPPRESSED
from pipelines.show.definitions import FIGURES, standard_label, unit_of
from pipelines.show.display import (
    VERDICTS,
    change_texts,
    day_text,
    detail_text,
    fmt,
    target_text,
)

# The safety lists: pumps overdue for a refill now, refills booked past the alarm, batteries
# overdue (each listed, for a role that sees patients, on its section's page).
SAFETY = ("refills.overdue_now", "refills.booked_after_alarm", "battery.overdue")


@dataclass(frozen=True)
class Summary:
    """tables: by the name of SUMMARY's table recipe, rows of text as shown; alerts: lines
    that must be read first (an extract that ends before the period does)."""

    tables: dict[str, pd.DataFrame]
    alerts: list[str]


def late_extract(site: str, as_of: dt.date) -> str:
    return (
        f"The period ends after site {site}'s extract date ({day_text(as_of)}): "
        "its figures stop there."
    )


NO_LOAD = "No load for this site: every figure is empty."


def summarise(
    figures: dict[str, Any],
    comparisons: dict[str, list[tuple[str, Comparison]]],
    loads: pd.DataFrame,
    end: dt.date,
) -> Summary:
    """figures: `kpis --json` as the role sees them (suppressed for a commissioner);
    comparisons: headline key -> [(the earlier period in words, Comparison)], as the role sees
    them; loads: the current load of each site in scope (queries/load_history/loads.sql)."""
    alerts = [
        late_extract(load.site, pd.Timestamp(load.as_of).date())
        for load in loads.itertuples()
        if pd.Timestamp(load.as_of).date() < end
    ]
    if loads.empty:
        alerts.append(NO_LOAD)
    return Summary(
        {
            "standards": standards(figures),
            "safety": safety(figures),
            "changes": changes(comparisons),
            "freshness": freshness(loads),
        },
        alerts,
    )


def _get(figures: dict[str, Any], key: str) -> Any:
    """The value at a dotted path of the figures; None where there is none (no interval, or a
    condition with no patient in a cohort)."""
    try:
        for part in key.split("."):
            figures = figures[part]
    except KeyError:
        return None
    return figures


def standards(figures: dict[str, Any]) -> pd.DataFrame:
    """Every standard: its figure with the 95% interval, its target and its judgement (a
    symbol and words, never colour alone)."""
    rows = []
    for name, standard in figures["standards"].items():
        key, unit = standard["figure"], unit_of(standard["figure"])
        low, high = _get(figures, f"{key}_ci_low"), _get(figures, f"{key}_ci_high")
        symbol, words = VERDICTS[standard["status"]]
        rows.append(
            [
                standard_label(name),
                fmt(_get(figures, key), unit),
                interval_text(low, high, unit),
                target_text(standard, unit),
                f"{symbol} {words}",
            ]
        )
    return pd.DataFrame(rows, columns=["standard", "figure", "95% interval", "target", "judgement"])


def interval_text(low: Any, high: Any, unit: str) -> str:
    """'52.7% to 90.4%'; '*' where the interval is suppressed, blank where there is none."""
    if SUPPRESSED in (low, high):
        return SUPPRESSED
    if low is None or high is None:
        return ""
    return f"{fmt(low, unit)} to {fmt(high, unit)}"


def changes(comparisons: dict[str, list[tuple[str, Comparison]]]) -> pd.DataFrame:
    """The headline figures whose change from an earlier period is beyond chance (its 95%
    interval excludes no change; for a suppressed view, the exact interval's verdict on the
    figures it shows), each with both values, the change and the verdict."""
    rows = []
    for key, compared in comparisons.items():
        unit = unit_of(key)
        for against, c in compared:
            if not c.changed:
                continue
            change, interval = change_texts(c, unit)
            rows.append(
                [
                    FIGURES[key].label if key in FIGURES else key,
                    against,
                    fmt(c.current, unit),
                    fmt(c.earlier, unit),
                    f"{change} (95% CI {interval})" if interval else change,
                    c.verdict,
                ]
            )
    return pd.DataFrame(
        rows, columns=["figure", "compared with", "this period", "then", "change", "verdict"]
    )


def safety(figures: dict[str, Any]) -> pd.DataFrame:
    """The safety lists' counts as the role sees them (a small count is * for a commissioner),
    each with what it is counted among."""
    return pd.DataFrame(
        [
            [
                FIGURES[key].label,
                fmt(_get(figures, key), FIGURES[key].unit),
                detail_text(figures, key, FIGURES[key].detail) or "",
            ]
            for key in SAFETY
        ],
        columns=["safety list", "count", "of"],
    )


def freshness(loads: pd.DataFrame) -> pd.DataFrame:
    """Each site's current load: the extract's as-of date, when it was loaded, and the share of
    rows read that were quarantined (left out of every figure); all sites together where there
    are several (the latest load, the earliest as-of date)."""
    rows = [
        _load_row(
            f"Site {load.site}",
            pd.Timestamp(load.as_of),
            pd.Timestamp(load.finished_at),
            int(load.rows_read),
            int(load.rows_quarantined),
        )
        for load in loads.itertuples()
    ]
    if len(loads) > 1:
        rows.append(
            _load_row(
                "All sites",
                pd.Timestamp(loads["as_of"].min()),
                pd.Timestamp(loads["finished_at"].max()),
                int(loads["rows_read"].sum()),
                int(loads["rows_quarantined"].sum()),
            )
        )
    return pd.DataFrame(
        rows, columns=["data", "extract as of", "latest load", "rows read", "rows quarantined"]
    )


def _load_row(
    name: str, as_of: pd.Timestamp, loaded: pd.Timestamp, read: int, quarantined: int
) -> list[str]:
    share = fmt(quarantined / read, "percent") if read else "—"
    return [
        name,
        day_text(as_of.date()),
        f"{day_text(loaded.date())} {loaded:%H:%M}",
        fmt(read),
        f"{fmt(quarantined)} ({share})",
    ]
