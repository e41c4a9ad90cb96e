"""Cohort outcomes: baseline against 12 months after a first implant, for clinicians to explore
by condition, tone pattern, age band, sex and implant year (kpis.md section 7)."""

import streamlit as st

from dashboard import charts, data, figures, widgets
from dashboard.definitions import MEASURE_NAMES, label
from pipelines.contract import MEASURES

NOT_RECORDED = "not_recorded"
EXPLORER = (  # column, filter name
    ("primary_condition", "Condition"),
    ("tone_pattern", "Tone pattern"),
    ("age_band", "Age band at implant"),
    ("sex", "Sex"),
    ("implant_year", "Implant year"),
)

filters = widgets.page("Cohort outcomes")
kpis = data.kpis(filters)
st.subheader("Mean change, baseline to 12 months")
widgets.headlines(kpis, [f"outcomes.{m}.mean_change" for m in MEASURES], per_row=5)
st.caption("Only patients first implanted at least 9 months before the period's end can have a "
           "12-month value: for a fuller cohort choose a longer (custom) period in the sidebar.")

rows = data.mart("outcomes", filters).assign(
    age_band=lambda r: r["age_at_implant"].map(figures.age_band),
    implant_year=lambda r: r["implant_date"].dt.year.astype("Int64").astype(str),
    tone_pattern=lambda r: r["tone_pattern"].fillna(NOT_RECORDED),
)

st.subheader("Explore the cohort")
if rows.empty:
    st.info("No patient had a first new implant in the period.")
    st.stop()

selected = rows
for column, (name, field) in zip(st.columns(len(EXPLORER)), EXPLORER):
    options = sorted(rows[name].unique(), key=lambda v: (figures.AGE_BAND_ORDER.get(v, 0), v))
    chosen = column.multiselect(field, options, format_func=label, placeholder="All",
                                key=f"explore-{name}")
    if chosen:
        selected = selected[selected[name].isin(chosen)]

patients = selected[["site", "patient_id"]].drop_duplicates()
st.caption(f"{len(patients)} of {len(rows[['site', 'patient_id']].drop_duplicates())} patients "
           "in the cohort match.")
changes = figures.paired_changes(selected, MEASURES)
widgets.chart(charts.paired_outcomes(selected, MEASURES, MEASURE_NAMES,
                                     title="Baseline and 12-month values of paired patients"),
              "outcomes.cohort")
widgets.table(changes.assign(measure=changes["measure"].map(MEASURE_NAMES)), "outcome changes")
with st.expander(f"Rows behind these figures ({len(selected)})"):
    widgets.table(selected, "outcome rows")
