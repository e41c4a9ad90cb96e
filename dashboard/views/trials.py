"""Trial response: test-dose response by condition and by dose, and the referral-to-implant
pathway (docs/figures.md §2)."""

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from pipelines.figures import breakdowns
from pipelines.sections.audit import TRIALS
from pipelines.show.definitions import label
from pipelines.show.display import with_dose_words

filters, role = widgets.page("Trial response")
kpis = data.kpis(filters, role)

widgets.headlines(kpis, list(TRIALS.headlines))

by_condition = pd.DataFrame(
    [
        {"condition": condition, **figures_}
        for condition, figures_ in kpis["trials"]["by_condition"].items()
    ],
    columns=[
        "condition",
        "patients",
        "responders",
        "non_responders",
        "inconclusive",
        "rate",
        "rate_ci_low",
        "rate_ci_high",
    ],
)
by_dose = with_dose_words(data.summary("trial_doses", filters, role, breakdowns.response_by_dose))

left, right = st.columns(2)
with left:
    if widgets.drawable(
        by_condition["rate"],
        "condition's response rate",
        "No patient had a first trial with a positive or negative result in the period.",
    ):
        widgets.draw(
            TRIALS.charts["by_condition"],
            by_condition.dropna(subset=["rate"]),
            category="condition",
        )
with right:
    if widgets.drawable(
        by_dose["rate"],
        "test dose's positive rate",
        "No trial with a positive or negative result in the period.",
    ):
        widgets.draw(TRIALS.charts["by_dose"], by_dose.dropna(subset=["rate"]))

st.subheader("By condition")
widgets.table_of(
    TRIALS.tables["by_condition"],
    by_condition.assign(condition=by_condition["condition"].map(label)),
)
st.subheader("By test dose")
widgets.table_of(TRIALS.tables["by_dose"], by_dose)

st.subheader("Pathway: referral to implant")
funnel = data.summary("pathway", filters, role, breakdowns.pathway_funnel)
left, right = st.columns(2)
with left:
    widgets.draw(TRIALS.charts["pathway"], funnel)
with right:
    st.markdown("**Median days from the step before**")
    widgets.table_of(TRIALS.tables["pathway"], funnel)
if widgets.patient_level(role, "the patients in the pathway"):
    pathway = data.mart("pathway", filters, role)
    with st.expander(f"Patients in the pathway ({len(pathway)})"):
        widgets.table_of(TRIALS.tables["patients"], pathway)
