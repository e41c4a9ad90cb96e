"""Cohort outcomes: baseline against 12 months after a first implant, for clinicians to explore
by condition, tone pattern, age band, sex and implant year (docs/figures.md §7)."""

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from pipelines.contract import MEASURES
from pipelines.figures import breakdowns
from pipelines.sections.audit import OUTCOMES
from pipelines.show.definitions import MEASURE_NAMES, label

EXPLORER = dict(
    zip(
        breakdowns.EXPLORER_COLUMNS,
        (  # column -> filter name
            "Condition",
            "Tone pattern",
            "Age band at implant",
            "Sex",
            "Implant year",
        ),
        strict=True,
    )
)

filters, role = widgets.page("Cohort outcomes")
kpis = data.kpis(filters, role)
st.subheader("12-month outcomes reported in the period")
widgets.caption("outcomes.cohort_12m")
widgets.headlines(kpis, list(OUTCOMES.headlines), per_row=3)
widgets.table(
    pd.DataFrame([{"measure": MEASURE_NAMES[m], **kpis["outcomes_12m"][m]} for m in MEASURES]),
    OUTCOMES.tables["outcomes_12m"].download_name,
)

st.subheader("Patients first implanted in the period: mean change, baseline to 12 months")
widgets.headlines(kpis, [f"outcomes.{m}.mean_change" for m in MEASURES], per_row=3)
st.caption(
    "Only patients first implanted at least 9 months before the period's end can have a "
    "12-month value: for a fuller cohort choose a longer (custom) period in the sidebar."
)

st.subheader("Explore the cohort")
cohort = data.summary("outcomes", filters, role, breakdowns.explore_cohort)
if cohort.patients == 0:
    st.info("No patient had a first new implant in the period.")
    st.stop()

selection = {
    name: column.multiselect(
        field, cohort.options[name], format_func=label, placeholder="All", key=f"explore-{name}"
    )
    for column, (name, field) in zip(st.columns(len(EXPLORER)), EXPLORER.items(), strict=True)
}
explored = data.summary("outcomes", filters, role, breakdowns.explore_cohort, selection=selection)
st.caption(
    widgets.plain(f"{explored.matched} of {explored.patients} patients in the cohort match.")
)
changes = explored.changes
patient_level = widgets.patient_level(role, "each patient's baseline and 12-month values")
if patient_level:
    selected = breakdowns.select(
        breakdowns.outcome_cohort(data.mart("outcomes", filters, role)), selection
    )
    widgets.draw(OUTCOMES.charts["explored"], selected, MEASURES, MEASURE_NAMES)
widgets.table(
    changes.assign(measure=changes["measure"].map(MEASURE_NAMES)),
    OUTCOMES.tables["changes"].download_name,
)
if patient_level:
    with st.expander(f"Rows behind these figures ({len(selected)})"):
        widgets.table_of(OUTCOMES.tables["rows"], selected)
