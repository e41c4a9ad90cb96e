"""Pump batteries: replacements forecast per quarter for theatre planning, the pumps due soon,
and the observed service life by pump model (docs/figures.md §5)."""

import streamlit as st

from dashboard import data, widgets
from pipelines.figures import breakdowns
from pipelines.figures.survival import kaplan_meier
from pipelines.sections.audit import BATTERIES
from pipelines.show.display import eri_text

filters, role = widgets.page("Pump batteries")
kpis = data.kpis(filters, role)
battery = kpis["battery"]

widgets.headlines(kpis, list(BATTERIES.headlines), per_row=3)
if battery["pumps_without_battery"]:
    st.caption(
        widgets.plain(
            f"{battery['pumps_without_battery']} active pump(s) of a model "
            "without a battery are left out of these figures."
        )
    )

left, right = st.columns(2)
with left:
    if widgets.drawable(
        battery["by_quarter"].values(), "quarter's forecast", "No quarter to forecast."
    ):
        widgets.draw(BATTERIES.charts["nominal"], battery["by_quarter"])
with right:
    if widgets.patient_level(
        role, "the forecast from the observed service life (its risk sets are small)"
    ):
        settings = data.settings()
        forecast = breakdowns.observed_life_forecast(
            data.mart("implant_survival", filters, role),
            data.mart("active_pumps", filters, role),
            filters.as_of,
            settings.min_battery_explants,
        )
        st.caption(breakdowns.forecast_coverage(forecast, settings.min_battery_explants))
        if forecast.by_quarter["pumps"].sum():
            widgets.draw(BATTERIES.charts["observed"], forecast.by_quarter)

if widgets.patient_level(role, "the service-life curves (their risk sets are small)"):
    life = breakdowns.battery_life(data.mart("implant_survival", filters, role))
    if life.empty:
        st.info("No implant of a model with a battery up to the as-of date.")
    else:
        curves = kaplan_meier(life["days"], life["event"].astype(int), groups=life["pump_model"])
        widgets.draw(BATTERIES.charts["service_life"], curves)

if widgets.patient_level(role, "the pumps due for a battery replacement"):
    pumps = data.mart("active_pumps", filters, role)
    due = pumps[
        pumps["has_battery"].fillna(False).astype(bool)
        & (pumps["eri_overdue"] | pumps["eri_within_365_days"]).fillna(False).astype(bool)
    ]
    recipe = BATTERIES.tables["due_365"]
    st.subheader(recipe.heading(count=len(due)))
    widgets.table_of(
        recipe,
        due.sort_values("forecast_eri_date").assign(eri_due=due["days_to_eri"].map(eri_text))[
            [
                "site",
                "patient_id",
                "implant_id",
                "pump_model",
                "implant_date",
                "reported_eri_date",
                "forecast_eri_date",
                "eri_due",
            ]
        ],
    )

medians = data.summary("implant_survival", filters, role, breakdowns.service_life_by_model)
if not medians.empty:
    recipe = BATTERIES.tables["medians"]
    st.subheader(recipe.title)
    widgets.table(medians, recipe.download_name)
    widgets.caption("battery.medians")
