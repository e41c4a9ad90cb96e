"""Trial response: test-dose response by condition and by dose, and the referral-to-implant
pathway (docs/figures.md §2)."""

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from pipelines.figures import breakdowns
from pipelines.show import charts
from pipelines.show.definitions import label

filters, role = widgets.page("Trial response")
kpis = data.kpis(filters, role)

widgets.headlines(kpis, ["trials.patients", "trials.rate", "trials.inconclusive",
                         "activity.trials"])

by_condition = pd.DataFrame(
    [{"condition": condition, **figures_}
     for condition, figures_ in kpis["trials"]["by_condition"].items()],
    columns=["condition", "patients", "responders", "non_responders", "inconclusive", "rate",
             "rate_ci_low", "rate_ci_high"],
)
by_dose = data.summary("trial_doses", filters, role, breakdowns.response_by_dose)
by_dose["dose"] = by_dose["dose_mcg"].map(lambda d: "Not recorded" if pd.isna(d) else f"{d:g} mcg")

left, right = st.columns(2)
with left:
    if widgets.drawable(by_condition["rate"], "condition's response rate",
                        "No patient had a first trial with a positive or negative result in the "
                        "period."):
        widgets.chart(
            charts.intervals(by_condition.dropna(subset=["rate"]), category="condition",
                             value="rate", low="rate_ci_low", high="rate_ci_high",
                             title="Response rate by primary condition", x_title="Responders"),
            "trials.by_condition",
        )
with right:
    if widgets.drawable(by_dose["rate"], "test dose's positive rate",
                        "No trial with a positive or negative result in the period."):
        widgets.chart(
            charts.intervals(by_dose.dropna(subset=["rate"]), category="dose", value="rate",
                             low="rate_ci_low", high="rate_ci_high", codes=False,
                             title="Positive trials by test dose", x_title="Positive"),
            "trials.by_dose",
        )

st.subheader("By condition")
widgets.table(by_condition.assign(condition=by_condition["condition"].map(label)),
              "trial response by condition")
st.subheader("By test dose")
widgets.table(by_dose[["dose", "trials", "positive", "negative", "inconclusive", "rate",
                       "rate_ci_low", "rate_ci_high"]], "trial response by dose")

st.subheader("Pathway: referral to implant")
funnel = data.summary("pathway", filters, role, breakdowns.pathway_funnel)
left, right = st.columns(2)
with left:
    widgets.chart(charts.pathway(funnel, title="Patients first referred in the period"),
                  "trials.pathway")
with right:
    st.markdown("**Median days from the step before**")
    widgets.table(funnel, "pathway funnel")
if widgets.patient_level(role, "the patients in the pathway"):
    pathway = data.mart("pathway", filters, role)
    with st.expander(f"Patients in the pathway ({len(pathway)})"):
        widgets.table(pathway, "pathway patients")
