"""Overview: the one-page summary (as the pack opens with it), then the period's headline figures
with their trends and comparisons, and the standards chart."""

import streamlit as st

from dashboard import data, widgets
from dashboard.report_button import report_downloads
from pipelines.access.roles import sees_patient_rows, suppresses_small_numbers
from pipelines.sections.audit import HEADLINE_GROUPS, OVERVIEW
from pipelines.sections.summary import summarise
from pipelines.show.definitions import FIGURES

filters, role = widgets.page("ITB service overview")
# The figures, each headline beside the previous period (and a year earlier) with the change's
# interval, and the monthly trends: independent, so computed at once (issue #16: a 10-year period).
figures, compared, waits_by_month, refills_by_month, activity_by_month, complications_by_month = (
    data.at_once(
        lambda: data.kpis(filters, role),
        lambda: data.comparisons(filters, role, list(OVERVIEW.headlines)),
        *(
            lambda section=section: data.monthly(section, filters, role)
            for section in ("waits", "refills", "activity", "complications")
        ),
    )
)
widgets.summary(summarise(figures, compared, data.current_loads(filters.site), filters.end))

st.subheader("Access")
widgets.headlines(
    figures,
    list(HEADLINE_GROUPS["Access"]),
    comparisons=compared,
    trends={
        "activity.referrals_received": activity_by_month.get("referrals_received"),
        "waits.rate_within_target": waits_by_month.get("rate_within_target"),
        "waits.median_wait_days": waits_by_month.get("median_wait_days"),
    },
)
st.subheader("Treatment and safety")
widgets.headlines(
    figures,
    list(HEADLINE_GROUPS["Treatment and safety"]),
    comparisons=compared,
    trends={
        "activity.new_implants": activity_by_month.get("new_implants"),
        "complications.all.rate_per_100_pump_years": complications_by_month.get(
            "all.rate_per_100_pump_years"
        ),
    },
)
st.subheader("Pumps")
widgets.headlines(
    figures,
    list(HEADLINE_GROUPS["Pumps"]),
    comparisons=compared,
    trends={"refills.rate": refills_by_month.get("rate")},
)
widgets.note("comparisons")
if figures["refills"]["overdue_now"] and sees_patient_rows(role):
    st.error(
        f"{figures['refills']['overdue_now']} pump(s) are overdue for a refill now.",
        icon=":material/warning:",
    )
    st.page_link(
        "views/refills.py",
        label="The list of pumps overdue for a refill (Refills page)",
        icon=":material/arrow_forward:",
    )

st.subheader("Standards")
widgets.caption("standards")
# The proportions held against a target, drawn with their intervals and the target marked.
drawn = {
    s["figure"]: s["target"]
    for s in figures["standards"].values()
    if s["direction"] != "zero"
    and s["figure"] in FIGURES
    and FIGURES[s["figure"]].unit == "percent"
}
standards = widgets.interval_rows(figures, list(drawn)).assign(target=list(drawn.values()))
if widgets.drawable(
    standards["value"],
    "figure held against a standard",
    "No figure to hold against a standard in the period.",
):
    widgets.draw(OVERVIEW.charts["standards"], standards.dropna(subset=["value"]))

# For a role whose figures are suppressed, the suppressed JSON, and the command that gives it.
command = "itb-audit kpis --json" + (" --suppressed" if suppresses_small_numbers(role) else "")
with st.expander(f"Every figure of the period, as `{command}` gives it"):
    if suppresses_small_numbers(role):
        st.caption("Small numbers suppressed, as on every page for this role (the rule above).")
    widgets.table_of(OVERVIEW.tables["all_figures"], data.flat_figures(figures))

report_downloads(role)
