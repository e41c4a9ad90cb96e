"""Referrals & waits: referral received to first attended new assessment (docs/figures.md §1)."""

import streamlit as st

from dashboard import data, widgets
from pipelines.figures import breakdowns
from pipelines.sections.audit import ACTIVITY, WAITS
from pipelines.show.definitions import label
from pipelines.show.display import NO_WHOLE_MONTH, day_text

filters, role = widgets.page("Referrals & waits")
kpis = data.kpis(filters, role)
settings = data.settings()

widgets.headlines(kpis, list(WAITS.headlines))
widgets.caption("waits.standard")

left, right = st.columns(2)
with left:
    if widgets.patient_level(role, "the distribution of individual waits"):
        widgets.draw(
            WAITS.charts["distribution"],
            data.mart("waits", filters, role),
            settings.wait_target_days,
        )
with right:
    widgets.spc_chart(filters, role, "waits", WAITS.charts["spc"])

st.subheader("By referral source")
by_source = data.summary("waits", filters, role, breakdowns.waits_by, column="source")
if by_source.empty:
    st.info("No referrals were seen in the period.")
else:
    by_source["source"] = by_source["source"].map(label)
    if widgets.drawable(
        by_source["rate_within_target"], "source's rate", "No referral source has a rate to chart."
    ):
        widgets.draw(WAITS.charts["by_source"], by_source)
    widgets.table_of(WAITS.tables["by_source"], by_source)

st.subheader(WAITS.tables["open"].heading(date=day_text(filters.as_of)))
if widgets.patient_level(role, "the waiting list"):
    waits = data.mart("waits", filters, role)
    open_rows = (
        waits[waits["is_open"].fillna(False).astype(bool)]
        .sort_values("days_waiting", ascending=False)
        .assign(source=lambda r: r["source"].map(label))
    )
    stale = open_rows["to_validate"].fillna(False).astype(bool)
    open_list = open_rows.loc[~stale]
    if open_rows.empty:
        st.success("No referral is waiting.", icon=":material/check_circle:")
    longest = max([settings.wait_target_days, *open_list["days_waiting"].astype(int)])
    widgets.table_of(
        WAITS.tables["open"],
        open_list,
        column_config={
            "clock_start": st.column_config.DateColumn("received", format="D MMM YYYY"),
            "days_waiting": st.column_config.ProgressColumn(
                "days waiting", format="%d", min_value=0, max_value=longest
            ),
        },
    )
    if stale.any():
        st.markdown(
            f"**To validate: open longer than {settings.stale_referral_days} days "
            f"({int(stale.sum())})**"
        )
        st.caption(
            "Referrals with no first appointment after more than "
            f"{settings.stale_referral_days} days are often closed in reality but not in "
            "the extract: check each with the service. They still count in the open and "
            "open-over-target figures above (the figures' definition is unchanged), and "
            "the Data quality page counts them."
        )
        widgets.table_of(
            WAITS.tables["to_validate"],
            open_rows.loc[stale],
            column_config={
                "clock_start": st.column_config.DateColumn("received", format="D MMM YYYY"),
                "days_waiting": st.column_config.NumberColumn("days open", format="%d"),
            },
        )

st.subheader("Did not attend")
activity = data.monthly("activity", filters, role)
if activity.empty:
    st.info(NO_WHOLE_MONTH)
elif widgets.drawable(
    activity["appointments_dna"],
    "month's count of DNAs",
    "No appointment was recorded in the period.",
    zeros="No appointment in the period's months was a DNA.",
):
    widgets.draw(ACTIVITY.charts["dna"], activity)
