"""Pump batteries: replacements forecast per quarter for theatre planning, the pumps due soon,
and the observed service life by pump model (docs/figures.md §5)."""

import streamlit as st

from dashboard import data, widgets
from pipelines.figures import breakdowns
from pipelines.show import charts
from pipelines.figures.survival import kaplan_meier
from pipelines.show.definitions import NOMINAL_FORECAST, OBSERVED_FORECAST
from pipelines.show.display import eri_text

filters, role = widgets.page("Pump batteries")
kpis = data.kpis(filters, role)
battery = kpis["battery"]

widgets.headlines(kpis, ["battery.active_pumps", "battery.overdue", "battery.due_within_182_days",
                         "battery.due_within_365_days", "activity.replacements"], per_row=3)
if battery["pumps_without_battery"]:
    st.caption(widgets.plain(f"{battery['pumps_without_battery']} active pump(s) of a model "
                             "without a battery are left out of these figures."))

quarters = list(battery["by_quarter"])
left, right = st.columns(2)
with left:
    forecast = [battery["by_quarter"][q] for q in quarters]
    if widgets.drawable(forecast, "quarter's forecast", "No quarter to forecast."):
        widgets.chart(
            charts.bars(quarters, {"Pumps": forecast}, text=True,
                        title=NOMINAL_FORECAST, x_title="Quarter (calendar)",
                        y_title="Pumps reaching ERI"),
            "battery.by_quarter",
        )
with right:
    if widgets.patient_level(role, "the forecast from the observed service life (its risk sets "
                                   "are small)"):
        settings = data.settings()
        forecast = breakdowns.observed_life_forecast(
            data.mart("implant_survival", filters, role), data.mart("active_pumps", filters, role),
            filters.as_of, settings.min_battery_explants)
        st.caption(breakdowns.forecast_coverage(forecast, settings.min_battery_explants))
        frame = forecast.by_quarter
        if frame["pumps"].sum():
            widgets.chart(charts.expected_bars(frame["quarter"], frame["expected"], frame["low"],
                                               frame["high"], title=OBSERVED_FORECAST,
                                               x_title="Quarter (calendar)",
                                               y_title="Replacements expected"),
                          "battery.observed_forecast")

if widgets.patient_level(role, "the service-life curves (their risk sets are small)"):
    life = breakdowns.battery_life(data.mart("implant_survival", filters, role))
    if life.empty:
        st.info("No implant of a model with a battery up to the as-of date.")
    else:
        curves = kaplan_meier(life["days"], life["event"].astype(int), groups=life["pump_model"])
        widgets.chart(charts.kaplan_meier(curves, title="Observed service life by pump model",
                                          y_title="Not yet replaced for battery end of life"),
                      "battery.service_life")

if widgets.patient_level(role, "the pumps due for a battery replacement"):
    pumps = data.mart("active_pumps", filters, role)
    due = pumps[pumps["has_battery"].fillna(False).astype(bool)
                & (pumps["eri_overdue"] | pumps["eri_within_365_days"]).fillna(False).astype(bool)]
    st.subheader(f"Overdue or due within 12 months ({len(due)})")
    widgets.table(
        due.sort_values("forecast_eri_date")
        .assign(eri_due=due["days_to_eri"].map(eri_text))[
            ["site", "patient_id", "implant_id", "pump_model", "implant_date", "reported_eri_date",
             "forecast_eri_date", "eri_due"]],
        "battery replacements due", note_key="battery.due_list",
    )

medians = data.summary("implant_survival", filters, role, breakdowns.service_life_by_model)
if not medians.empty:
    st.subheader("Median service life by pump model")
    widgets.table(medians, "battery service life by model")
    st.caption("A blank median: fewer than half the pumps of that model have reached battery end "
               "of life yet, so the median is not known.")
