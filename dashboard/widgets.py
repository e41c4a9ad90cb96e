"""Page pieces: a headline figure with its definition, a standard judged by its interval, a
chart with its note, a table with its downloads, the Making Data Count icons, the page header
(with the small-number statement where figures are suppressed), and the note that stands in
for a patient-level part a role may not see."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import auth, data
from dashboard.filters import Filters, current
from pipelines.access.roles import Role, sees_patient_rows, suppresses_small_numbers
from pipelines.figures import breakdowns
from pipelines.figures.disclosure import SUPPRESSED
from pipelines.figures.spc import SpcSummary
from pipelines.sections.audit import SUMMARY
from pipelines.sections.model import ChartRecipe, TableRecipe
from pipelines.sections.summary import Summary
from pipelines.show import charts, exports
from pipelines.show.definitions import FIGURES, NOTES, Figure, label, standard_label, unit_of
from pipelines.show.display import (
    NO_WHOLE_MONTH,
    VARIATION_WORDS,
    VERDICTS,
    all_whole,
    comparison_text,
    delta_text,
    detail_text,
    fmt,
    header,
    is_number,
    loads_text,
    number_text,
    standards_of,
    target_text,
    variation_notes,
)

EMPTY = (
    "No data loaded yet in {db}. Load an extract with `itb-audit load EXTRACT --db PATH` "
    "(here: `itb-audit load EXTRACT --db {db}`), then reload this page."
)
# A standard's badge: its words (pipelines.show.display.VERDICTS) with an icon and a colour.
STATUS_BADGE = {
    "met": (":material/check_circle:", "green"),
    "not_met": (":material/cancel:", "red"),
    "not_shown": (":material/help:", "gray"),
    SUPPRESSED: (":material/visibility_off:", "gray"),
    None: (":material/remove:", "gray"),
}
# The Making Data Count variation icon's colour (its words: display.VARIATION_WORDS).
VARIATION_COLOURS = {
    "common_cause": "gray",
    "improvement_high": "blue",
    "improvement_low": "blue",
    "concern_high": "orange",
    "concern_low": "orange",
    "neutral_high": "violet",
    "neutral_low": "violet",
    None: "gray",
}


def page(title: str) -> tuple[Filters, Role]:
    """The page's title, the filters it is drawn for, the loads its figures come from (as the
    KPI JSON's "loads") and the signed-in role it is drawn for; where that role's figures are
    suppressed, the statement saying how."""
    filters, role = current(), auth.current().role
    st.title(title)
    st.caption(filters.describe())
    st.caption(f":material/database: Computed from {loads_text(data.snapshot_loads(filters.site))}")
    if suppresses_small_numbers(role):
        st.info(data.disclosure(role).statement, icon=":material/visibility_off:")
    return filters, role


def patient_level(role: Role, what: str) -> bool:
    """Whether the role may see a patient-level part of a page; if not, a note says what is
    left out and why."""
    if sees_patient_rows(role):
        return True
    st.caption(
        f":material/visibility_off: Not shown to the {role.value} role: {what} "
        "(patient-level, or too few patients behind each point to show safely)."
    )
    return False


MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~$])|^([-+])")


def plain(words: str) -> str:
    """Text built from figures, escaped so Markdown shows it as written: a leading "*" (a
    suppressed figure) would otherwise start a bullet list."""
    return MARKDOWN.sub(lambda m: "\\" + m.group(0), words)


def text(template: str) -> str:
    """A definition or note with its settings filled in."""
    return template.format(**asdict(data.settings()))


def caption(key: str) -> None:
    """A note (pipelines.show.definitions.NOTES) as a caption."""
    st.caption(text(NOTES[key]))


def note(key: str) -> None:
    """A note (pipelines.show.definitions.NOTES) in a closed expander beside its chart or table."""
    with st.expander("What this shows", icon=":material/info:"):
        st.markdown(text(NOTES[key]))


def figure_group(figures: dict[str, Any], key: str) -> tuple[dict[str, Any], str]:
    """The group of figures that holds a dotted path of the kpis JSON, and the figure's name in
    it: 'complications.all.events' -> (figures['complications']['all'], 'events'). A figure's
    interval is beside it in its group ('events_ci_low')."""
    group: Any = figures
    *path, name = key.split(".")
    for part in path:
        group = group[part]
    return group, name


def interval_text(figures: dict[str, Any], key: str, unit: str) -> str | None:
    low, high = figures.get(f"{key}_ci_low"), figures.get(f"{key}_ci_high")
    if low is None or high is None:
        return None
    return f"95% CI {fmt(low, unit)} to {fmt(high, unit)}"


def headline(
    figures: dict[str, Any],
    key: str,
    *,
    trend: pd.Series | None = None,
    comparisons: list | None = None,
) -> None:
    """A headline figure of `compute_kpis` (`figures`), its definition as the tooltip, and its
    interval (if it has one) and detail beneath. `trend`: a monthly sparkline. `comparisons`:
    (words, pipelines.figures.comparisons.Comparison) with earlier periods, the first as the
    metric's delta."""
    figure: Figure = FIGURES[key]
    parent, name = figure_group(figures, key)
    detail = detail_text(figures, key, figure.detail)
    with st.container(border=True, height="stretch"):
        # No sparkline where a month is "*": drawn without it, the line would mislead.
        hidden = trend is not None and (trend.astype(object) == SUPPRESSED).any()
        comparisons = comparisons or []
        delta = (
            delta_text(comparisons[0][1].current, comparisons[0][1].earlier, figure.unit)
            if comparisons
            else None
        )
        st.metric(
            figure.label,
            fmt(parent[name], figure.unit),
            help=text(figure.definition),
            delta=delta,
            delta_color="off",
        )
        # a sparkline of the months with a value (a month without one is skipped)
        if trend is not None and not hidden:
            trend = pd.to_numeric(trend, errors="coerce").dropna()
        else:
            trend = None
        if trend is not None and len(trend) > 1:
            st.markdown(
                charts.sparkline(
                    trend.astype(float).tolist(), description=trend_text(figure, trend)
                ),
                unsafe_allow_html=True,
            )
        lines = [
            line
            for line in (
                detail,
                interval_text(parent, name, figure.unit),
                parent.get(f"{name}_note"),
            )
            if line
        ]
        if parent[name] is None:
            lines = ["Nothing to compute it from for these filters."]
        if hidden:
            lines.append("no monthly trend: some months are *")
        lines += [comparison_text(c, figure.unit, words) for words, c in comparisons]
        if lines:
            st.caption(plain(" · ".join(lines)))
        for name, _ in standards_of(figures, key):
            standard_badge(figures, name)


def trend_text(figure: Figure, trend: pd.Series) -> str:
    """A sparkline's text alternative: what it shows, and its first, last, lowest and highest
    values."""

    def f(value: float) -> str:
        return fmt(value, figure.unit)

    return (
        f"{figure.label}, monthly trend over {len(trend)} months: from {f(trend.iloc[0])} "
        f"to {f(trend.iloc[-1])} (lowest {f(trend.min())}, highest {f(trend.max())})."
    )


def headlines(
    figures: dict[str, Any],
    keys: list[str],
    trends: dict[str, pd.Series] | None = None,
    per_row: int = 3,
    comparisons: dict[str, list] | None = None,
) -> None:
    """Headline figures in rows of `per_row`, each with its comparisons (see headline)."""
    trends, comparisons = trends or {}, comparisons or {}
    for start in range(0, len(keys), per_row):
        columns = st.columns(per_row)
        # the last row may hold fewer figures than columns
        for column, key in zip(columns, keys[start : start + per_row], strict=False):
            with column:
                headline(figures, key, trend=trends.get(key), comparisons=comparisons.get(key))


def interval_rows(figures: dict[str, Any], keys: list[str]) -> pd.DataFrame:
    """Headline figures with their intervals as rows (figure label, value, low, high), for
    charts.intervals."""
    rows = []
    for key in keys:
        parent, name = figure_group(figures, key)
        rows.append(
            {
                "figure": FIGURES[key].label,
                "value": parent[name],
                "low": parent[f"{name}_ci_low"],
                "high": parent[f"{name}_ci_high"],
            }
        )
    return pd.DataFrame(rows)


def standard_badge(figures: dict[str, Any], name: str) -> None:
    """A standard's judgement (the `standards` of compute_kpis, as the role sees them) as an
    icon and words, with its target."""
    standard = figures["standards"][name]
    icon, colour = STATUS_BADGE[standard["status"]]
    words = VERDICTS[standard["status"]][1]
    unit = unit_of(standard["figure"])
    st.badge(words, icon=icon, color=colour, help=text(NOTES["standards"]))
    st.caption(f"{standard_label(name)} — standard: {target_text(standard, unit)}")


def summary(shown: Summary) -> None:
    """The one-page summary (pipelines/sections/summary.py), as the pack opens with it (page 2):
    its alerts, then each of SUMMARY's tables with its note ("None." for an empty one, as the
    pack writes it)."""
    st.subheader(SUMMARY.title)
    for alert in shown.alerts:
        st.warning(alert, icon=":material/warning:")
    # Each the page's width: in half of it, the standards' judgements were cut off.
    for name, recipe in SUMMARY.tables.items():
        st.markdown(f"**{plain(recipe.heading())}**")
        frame = shown.tables[name]
        if not frame.empty:
            table_of(recipe, frame)  # with its downloads and its note, as every table
            continue
        st.caption("None.")
        if recipe.note:
            note(recipe.note)


def drawable(values, what: str, empty: str, zeros: str | None = None) -> bool:
    """Whether a chart of `values` has a figure to draw. If not, a note says why, read from
    the same figures: `empty` when none is defined, else that each is suppressed (an empty
    axis would say nothing, and `empty` would be false beside the counts). `zeros`: the note
    for counts that are all 0 (bars of nothing are an empty axis too)."""
    values = pd.Series(list(values), dtype=object)
    numbers = values[values.map(is_number)]
    if zeros and len(numbers) and (numbers == 0).all() and len(numbers) == len(values):
        st.info(zeros)
        return False
    if len(numbers):
        return True
    if (values == SUPPRESSED).any():
        st.info(
            f"Nothing to draw: every {what} is * (too few people behind it to show safely; "
            "the rule is at the top of the page).",
            icon=":material/visibility_off:",
        )
    else:
        st.info(empty)
    return False


def spc_chart(filters: Filters, role: Role, section: str, recipe: ChartRecipe) -> None:
    """The Making Data Count p-chart of a section's monthly rate, with its icons (from the
    suppressed monthly counts where the role's figures are suppressed)."""
    monthly = data.monthly(section, filters, role)
    if monthly.empty:
        st.info(NO_WHOLE_MONTH)
        return
    frame, summary = breakdowns.monthly_p_chart(monthly, section)
    rate = breakdowns.P_CHARTS[section][0]
    if not drawable(monthly[rate], "month's rate", "No month of the period has a figure to chart."):
        return
    draw(recipe, frame)
    mdc_icons(summary)


def mdc_icons(summary: SpcSummary) -> None:
    """The Making Data Count variation icon (and why there is no assurance icon)."""
    st.badge(
        VARIATION_WORDS[summary.variation],
        color=VARIATION_COLOURS[summary.variation],
        icon=":material/monitoring:",
    )
    st.caption(variation_notes(summary.trial_limits))


def chart(fig: go.Figure, note_key: str, *, key: str | None = None) -> None:
    """A Plotly chart and what it shows: its text alternative (title, axes, series) and its
    note."""
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})
    with st.expander("What this shows", icon=":material/info:"):
        st.markdown(plain(charts.describe(fig)))
        st.markdown(text(NOTES[note_key]))


def draw(
    recipe: ChartRecipe,
    *inputs: Any,
    key: str | None = None,
    names: dict[str, str] | None = None,
    **options: Any,
) -> None:
    """A chart of the section model (pipelines/sections/) drawn from `inputs`, with its note."""
    chart(recipe.figure(*inputs, names=names, **options), recipe.note, key=key)


# Proportions (0..1) in tables, shown as percentages with their interval columns.
PROPORTIONS = {"rate", "rate_within_target", "patient_incidence", "share_of_referred", "pass_rate"}
DATE_COLUMNS = {"date", "datetime64[ns]", "datetime64[ms]", "datetime64[us]"}
CODE = re.compile(r"[a-z0-9_]+")
# Columns of codes, shown as words (pipelines.show.definitions.label); downloads keep the codes.
CODE_COLUMNS = {
    "source",
    "time_since_implant",
    "surgery",
    "triage_outcome",
    "category",
    "subtype",
    "related_to",
    "severity",
    "procedure",
    "explant_reason",
    "adherence",
    "endpoint",
    "primary_condition",
    "tone_pattern",
    "sex",
    "method",
    "outcome",
    "status",
    "type",
    "reason_code",
    "condition",
}


def headers(frame: pd.DataFrame) -> dict[str, Any]:
    """Readable headers for every column ('rate_ci_low' -> '95% CI low', 'fill_volume_ml' ->
    'fill volume (mL)'), proportions as percentages, whole numbers without decimals (a count
    or dose read as a decimal), other decimals to 2 places, dates as dates."""
    config: dict[str, Any] = {}
    for column in frame.columns:
        base = re.sub(r"_ci_(low|high)$", "", column)
        name = header(column)
        dtype = str(frame[column].dtype)
        values = frame[column].dropna()
        if dtype == "object" and len(values) and isinstance(values.iloc[0], dt.date):
            dtype = "date"  # DuckDB DATE read through Arrow
        if base in PROPORTIONS:
            config[column] = st.column_config.NumberColumn(name, format="percent")
        elif dtype in DATE_COLUMNS:
            config[column] = st.column_config.DateColumn(name, format="D MMM YYYY")
        elif dtype.startswith("float"):
            whole = all_whole(values)
            config[column] = st.column_config.NumberColumn(name, format="%d" if whole else "%.2f")
        else:
            config[column] = name
    return config


def codes_as_words(frame: pd.DataFrame) -> pd.DataFrame:
    """Code columns as words ('csf_leak' -> 'CSF leak'); a list of reason codes ('bad_code,
    out_of_range') word by word."""

    def words(code: Any) -> Any:  # a value already in words (a page's label) stays as it is
        return label(code) if isinstance(code, str) and CODE.fullmatch(code) else code

    shown = frame.copy()
    for column in set(frame.columns) & CODE_COLUMNS:
        shown[column] = frame[column].map(words)
    if "reason_codes" in frame:
        shown["reason_codes"] = frame["reason_codes"].map(
            lambda codes: ", ".join(words(c) for c in codes.split(", ") if c)
        )
    return shown


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    note_key: str | None = None,
    column_config: dict | None = None,
    height: int | str = "auto",
    as_text: tuple[str, ...] = (),
) -> None:
    """A table with CSV and XLSX downloads of exactly the rows shown. `column_config` adds to
    (or overrides) the readable headers of `headers()`. `as_text` columns are shown as the pack
    writes them (pipelines.show.display), e.g. a pass rate with a failure never as 100%; the
    downloads keep the numbers."""
    config = {**headers(frame), **(column_config or {})}
    shown = codes_as_words(frame)
    for column in frame.columns:
        if column in as_text or (frame[column].astype(object) == SUPPRESSED).any():
            # A column with stars is text: each number written as headers() would show it.
            unit = "percent" if re.sub(r"_ci_(low|high)$", "", column) in PROPORTIONS else None
            shown[column] = frame[column].map(lambda v, unit=unit: cell_text(v, unit))
            label = config[column]["label"] if isinstance(config[column], dict) else config[column]
            config[column] = st.column_config.TextColumn(label)
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=height,
        column_config=config,
        placeholder="—",
    )
    rates = {re.sub(r"_ci_(low|high)$", "", c) for c in frame.columns} & RATES
    if rates and suppresses_small_numbers(role := auth.current().role):
        d = data.disclosure(role)
        st.caption(plain(ROUNDED_RATES.format(min_den=d.min_denominator, max=d.max_suppressed)))
    downloads(frame, name)
    if note_key:
        note(note_key)


def table_of(recipe: TableRecipe, frame: pd.DataFrame, **options: Any) -> None:
    """A table of the section model: its columns, downloads named by it, and its note."""
    table(recipe.rows(frame), recipe.download_name, note_key=recipe.note, **options)


RATES = PROPORTIONS | {"rate_per_100_pump_years"}
ROUNDED_RATES = (
    "Rates in this table are * where fewer than {min_den} people are behind them or "
    "1–{max} "
    "are in them or outside them, and otherwise rounded to a step worth at least "
    "one person (up to 5 points), so they may differ from an unsuppressed view by "
    "up to half that step."
)


def cell_text(value: Any, unit: str | None) -> str:
    """A table cell as text: a star as it is, a proportion as a percentage, a decimal as
    display.number_text, a blank when missing."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""
    if unit == "percent":
        return fmt(value, "percent")
    return number_text(value) if isinstance(value, float) else str(value)


def downloads(frame: pd.DataFrame, name: str) -> None:
    """CSV and Excel downloads of a table (formula-safe, pipelines.show.exports), made when clicked;
    each download is recorded in the access log when its file is made."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    record = auth.recorder(data.settings())

    def made(fmt: str, content: bytes) -> bytes:
        record("download", table=name, format=fmt, rows=len(frame), columns=list(frame.columns))
        return content

    with st.container(horizontal=True):
        st.download_button(
            "CSV",
            lambda: made("csv", exports.csv_bytes(frame)),
            f"{stem}.csv",
            "text/csv",
            icon=":material/download:",
            key=f"csv-{stem}",
            on_click="ignore",
        )
        st.download_button(
            "Excel",
            lambda: made("xlsx", exports.xlsx_bytes({stem: frame})),
            f"{stem}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
            key=f"xlsx-{stem}",
            on_click="ignore",
        )


def empty_warehouse() -> None:
    """What to do when there is nothing to show."""
    st.info(EMPTY.format(db=data.db_path()), icon=":material/upload_file:")
