"""Complications: incidence per patient and per 100 pump-years, against published figures (with
their follow-up) and the weight-gain standard; the case review (breakdowns by severity, surgery
and time since implant, and the case list); time to a first complication; sites compared
(docs/figures.md §3)."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data, widgets
from pipelines.contract import COMPLICATION_CATEGORIES
from pipelines.figures import breakdowns
from pipelines.figures.survival import kaplan_meier
from pipelines.sections.audit import (
    CASE_TABLES,
    COMPLICATIONS,
    KM_ENDPOINTS,
    published_figures,
)
from pipelines.show.definitions import label
from pipelines.show.display import is_number

filters, role = widgets.page("Complications")
kpis = data.kpis(filters, role)
settings = data.settings()
complications = kpis["complications"]

widgets.headlines(kpis, list(COMPLICATIONS.headlines))

st.subheader(COMPLICATIONS.tables["by_category"].title)
by_category = pd.DataFrame(
    [{"category": "all", **complications["all"]}]
    + [{"category": c, **complications["by_category"][c]} for c in COMPLICATION_CATEGORIES]
)
left, right = st.columns(2)
with left:
    widgets.draw(
        COMPLICATIONS.charts["patients"],
        by_category.dropna(subset=["patient_incidence"]),
        category="category",
        standards={"weight_gain": settings.weight_gain_standard},
        key="by-category-patients",
    )
with right:
    widgets.draw(
        COMPLICATIONS.charts["rate"],
        by_category.dropna(subset=["rate_per_100_pump_years"]),
        category="category",
        key="by-category-rate",
    )
widgets.table_of(
    COMPLICATIONS.tables["by_category"],
    by_category.assign(category=by_category["category"].map(label)),
)
st.markdown(f"**{COMPLICATIONS.tables['published'].title}**")
widgets.table_of(COMPLICATIONS.tables["published"], published_figures())

st.subheader("Case review")
# The time bands' names are the longest: their table gets the widest column.
for column, (name, by) in zip(st.columns([1, 1, 1.5]), CASE_TABLES.items(), strict=True):
    with column:
        recipe = COMPLICATIONS.tables[name]
        st.markdown(f"**{recipe.title}**")
        widgets.table_of(
            recipe,
            data.summary("complication_events", filters, role, breakdowns.complications_by, by=by),
        )
if widgets.patient_level(role, "the complication case list"):
    cases = data.mart("complication_events", filters, role)
    recipe = COMPLICATIONS.tables["cases"]
    st.markdown(f"**{recipe.heading(count=len(cases))}**")
    widgets.table_of(recipe, cases, height=420)  # its own scroll: a year can hold many events

st.subheader("Time to a first complication")
if widgets.patient_level(role, "Kaplan–Meier curves (their risk sets are small)"):
    survival = data.mart("implant_survival", filters, role)
    for column, endpoint in zip(st.columns(len(KM_ENDPOINTS)), KM_ENDPOINTS, strict=True):
        with column:
            rows = survival[survival["endpoint"] == endpoint]
            if rows.empty:
                st.info(f"No {label(endpoint).lower()} complication is recorded in the warehouse.")
                continue
            curves = kaplan_meier(
                rows["days"], rows["event"].astype(int), groups=np.full(len(rows), "All implants")
            )
            widgets.draw(
                COMPLICATIONS.charts["km"],
                curves,
                names={"endpoint": label(endpoint).lower()},
                key=f"km-{endpoint}",
            )
            at_one_year = breakdowns.survival_at(curves, 1.0)
            events = int(rows["event"].sum())
            if not at_one_year.empty:
                one = at_one_year.iloc[0]
                st.caption(
                    f"At 1 year: {widgets.fmt(one['survival'], 'percent')} free (95% CI "
                    f"{widgets.fmt(one['ci_low'], 'percent')} to "
                    f"{widgets.fmt(one['ci_high'], 'percent')}); {len(rows)} implants, "
                    f"{events} with the event."
                )

st.subheader("Events outside pump exposure")
if widgets.patient_level(role, "the list of events"):
    events = data.mart("complication_events", filters, role)
    outside = events[~events["counted"].fillna(False).astype(bool)]
    if outside.empty:
        st.success(
            "Every complication in the period happened with a pump in situ.",
            icon=":material/check_circle:",
        )
    widgets.table_of(COMPLICATIONS.tables["outside"], outside.drop(columns="counted"))

sites = data.sites_in_scope(filters)
if len(sites) > 1:
    st.subheader("Sites compared")
    per_site = pd.DataFrame(
        [
            {
                "site": site,
                "pump_years": figures_["pump_years"],
                "events": figures_["all"]["events"],
                "rate": figures_["all"]["rate_per_100_pump_years"],
            }
            for site in sites
            for figures_ in [data.kpis(filters.with_site(site), role)["complications"]]
        ]
    )
    per_site = per_site[per_site["rate"].map(is_number)].astype({"rate": float})
    overall = complications["all"]["rate_per_100_pump_years"]
    if per_site.empty or not is_number(overall):
        st.info("No site has pump exposure in the period.")
    else:
        limits = breakdowns.funnel_limits(overall, per_site["pump_years"])
        widgets.draw(COMPLICATIONS.charts["funnel"], per_site, limits, overall)
