"""Refills: the pumps overdue now (a patient safety list), adherence by month, lateness,
residual-volume discrepancies and pumps booked past their alarm date (docs/figures.md §4)."""

import streamlit as st

from dashboard import data, widgets
from pipelines.sections.audit import REFILLS
from pipelines.show.display import day_text

filters, role = widgets.page("Refills")
kpis = data.kpis(filters, role)
settings = data.settings()
patient_level = widgets.patient_level(
    role, "the overdue list, the lateness and residual charts and the refill lists"
)
if patient_level:
    refills = data.mart("refills", filters, role)
    pumps = data.mart("active_pumps", filters, role)
    overdue = pumps[pumps["overdue_now"].fillna(False).astype(bool)].sort_values(
        "days_overdue", ascending=False
    )
    if not overdue.empty:
        st.error(
            f"**{len(overdue)} pump(s) overdue for a refill at {day_text(filters.as_of)}.** "
            "Contact these patients.",
            icon=":material/emergency:",
        )
        widgets.table_of(
            REFILLS.tables["overdue"],
            overdue[
                [
                    "site",
                    "patient_id",
                    "implant_id",
                    "pump_model",
                    "latest_refill_date",
                    "current_due_date",
                    "days_overdue",
                ]
            ],
        )

widgets.headlines(kpis, list(REFILLS.headlines))
widgets.caption("refills.standard")

left, right = st.columns(2)
with left:
    widgets.spc_chart(filters, role, "refills", REFILLS.charts["spc"])
if not patient_level:
    st.stop()
with right:
    widgets.draw(REFILLS.charts["lateness"], refills)

st.subheader("Residual-volume discrepancies")
discrepant = refills[refills["residual_discrepancy"].fillna(False).astype(bool)]
widgets.draw(REFILLS.charts["residuals"], refills, settings.residual_discrepancy_ml)
widgets.table_of(  # the whole width: at half of it the headers were cut off
    REFILLS.tables["discrepancies"],
    discrepant,
    column_config={
        "expected_residual_ml": "expected (mL)",
        "actual_residual_ml": "actual (mL)",
        "residual_difference_ml": st.column_config.NumberColumn(
            "difference (mL)", format="%.2f", help="Actual minus expected residual volume"
        ),
    },
)

st.subheader("Booked past the alarm date")
after_alarm = refills[refills["booked_after_alarm"].fillna(False).astype(bool)]
widgets.table_of(REFILLS.tables["after_alarm"], after_alarm)
