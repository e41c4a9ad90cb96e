"""Data quality: what was loaded, how every expectation fared, what was quarantined and why
(the quarantined rows' values only for a role that may see them)."""

import streamlit as st

from dashboard import data, widgets
from pipelines.sections.audit import DATA_QUALITY
from pipelines.show.definitions import label

filters, role = widgets.page("Data quality")
site = filters.site
loads = data.query("load_history/loads", site=site)
current = loads[loads["is_current"]]
tables = data.query("load_history/load_tables", site=site)

quality = {
    "quality": {
        "sites_loaded": len(current),
        "rows_accepted": int(current["rows_accepted"].sum()),
        "rows_quarantined": int(current["rows_quarantined"].sum()),
    }
}
widgets.headlines(quality, list(DATA_QUALITY.headlines), per_row=3)

st.subheader("Tables of the current loads")
widgets.draw(DATA_QUALITY.charts["by_table"], tables, key="rows-by-table")
st.caption("Rows read = rows accepted + rows quarantined, for every table.")
# the whole width: at 3/5 of it the headers were cut off
widgets.table_of(DATA_QUALITY.tables["tables"], tables)

st.subheader("Expectations")
expectations = data.query("load_history/expectation_results", site=site)
threshold = st.number_input(
    "Pass-rate threshold (%)",
    min_value=0.0,
    max_value=100.0,
    value=100.0,
    step=0.5,
    help="An expectation whose pass rate (rows passed ÷ rows checked) is below this is flagged.",
)
flagged = expectations.assign(below_threshold=expectations["pass_rate"] * 100 < threshold)
st.caption(
    f"{int(flagged['below_threshold'].sum())} of {len(flagged)} expectations below "
    f"{threshold:g}%. A failed row of a `quarantine` expectation was quarantined; a "
    "`warning` expectation only counts rows for the service to check (they are kept and "
    "counted in every figure)."
)
for warning in flagged[
    (flagged["on_failure"] == "warning") & (flagged["rows_failed"] > 0)
].itertuples():
    st.warning(
        f"Site {warning.site}: {warning.rows_failed} of {warning.rows_checked} "
        f"{warning.table_name.removesuffix('_warnings')} to validate ({warning.reason_code}"
        "): see the list on Referrals & waits. Nothing was quarantined.",
        icon=":material/rule:",
    )
widgets.table_of(
    DATA_QUALITY.tables["expectations"],
    flagged.sort_values(["below_threshold", "pass_rate"], ascending=[False, True]),
    as_text=("pass_rate",),
)

st.subheader(DATA_QUALITY.tables["quarantine"].title)
quarantine = data.quarantine(site, role)
contents = "record" in quarantine.columns
if not contents:
    st.caption(
        f":material/visibility_off: The {role.value} role sees why rows were quarantined, "
        "not their values."
    )
left, middle, right = st.columns(3)
table_choice = left.multiselect(
    "Table", sorted(quarantine["table_name"].unique()), placeholder="All"
)
codes = sorted({code for row in quarantine["reason_codes"] for code in row.split(", ") if code})
code_choice = middle.multiselect("Reason", codes, format_func=label, placeholder="All")
search = right.text_input(
    "Search the reasons and values" if contents else "Search the reasons",
    placeholder="e.g. P000123" if contents else "e.g. checksum",
)
shown = quarantine
if table_choice:
    shown = shown[shown["table_name"].isin(table_choice)]
if code_choice:
    shown = shown[shown["reason_codes"].map(lambda r: bool(set(r.split(", ")) & set(code_choice)))]
if search:
    text = shown["reasons"]
    if contents:
        text = text + " " + shown["record"].astype(str) + " " + shown["row_key"].fillna("")
    shown = shown[text.str.contains(search, case=False, regex=False)]
st.caption(f"{len(shown)} of {len(quarantine)} quarantined rows.")
if not shown.empty:
    widgets.draw(DATA_QUALITY.charts["reasons"], shown, key="quarantine-by-reason")
widgets.table_of(DATA_QUALITY.tables["quarantine"], shown)

st.subheader(DATA_QUALITY.tables["loads"].title)
widgets.table_of(DATA_QUALITY.tables["loads"], loads)
