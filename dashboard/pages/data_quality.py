"""Data quality: what was loaded, what was quarantined and why."""

import streamlit as st

from dashboard.data import db_path, has_data, query

st.title("Data quality")

if not has_data():
    st.info(
        f"No data loaded yet in {db_path()}. Load an extract with "
        "`itb-audit load EXTRACT --db PATH`, then reload this page."
    )
    st.stop()

loads = query("audit/loads", site=None)
current = loads[loads["is_current"]]
cols = st.columns(3)
cols[0].metric("Sites loaded", len(current))
cols[1].metric("Rows accepted (current loads)", int(current["rows_accepted"].sum()))
cols[2].metric("Rows quarantined (current loads)", int(current["rows_quarantined"].sum()),
               help="Rows that broke a rule of the data contract. They are kept with every reason "
                    "and left out of every figure.")

st.subheader("Tables of the current loads")
st.caption("Rows read = rows accepted + rows quarantined, for every table.")
st.dataframe(query("audit/load_tables", site=None), hide_index=True, width="stretch")

st.subheader("Quarantined rows")
st.dataframe(query("audit/quarantine", site=None), hide_index=True, width="stretch")

st.subheader("Load history")
st.dataframe(loads, hide_index=True, width="stretch")
