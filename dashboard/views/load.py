"""Load an extract (data managers): upload a clinic extract and load it through the same
pipeline and refusal rules as `itb-audit load`, then see what was accepted and quarantined."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import auth, data, uploads, widgets
from pipelines.access.roles import sees_quarantine_contents
from pipelines.access.sites import describe, sees_site

settings = data.settings()
role = auth.current().role
limit = settings.access.upload_limit_mb
st.title("Load an extract")
# Not the warehouse's path: where the server keeps its files is no business of the page's.
st.caption(
    "Into the dashboard's warehouse. A set of .csv files or of .parquet files named "
    f"after the data contract's tables, or one .xlsx workbook; at most {limit} MB. The "
    "site's data is replaced all at once, or not at all when the extract is refused."
)

sites = data.sites() if data.has_data() else []
with st.form("load", clear_on_submit=True):
    files = st.file_uploader(
        "Extract files",
        type=[f.lstrip(".") for f in uploads.FORMS],
        accept_multiple_files=True,
        max_upload_size=limit,
    )
    left, right = st.columns(2)
    site = left.text_input(
        "Site",
        value=sites[0] if sites else "main",
        help=f"Loaded sites: {', '.join(sites) or 'none yet'}.",
    )
    as_of = right.date_input("Extract date (as of)", value=dt.date.today(), format="DD/MM/YYYY")
    submitted = st.form_submit_button("Load", type="primary", icon=":material/upload:")

if submitted:
    record = auth.recorder(settings)
    names = sorted(f.name for f in files or [])
    if not sees_site(auth.current().sites, site.strip()):  # a Trust loads its own sites only
        reason = f"site {site.strip()!r} is not one of yours ({describe(auth.current().sites)})"
        record("load_refused", site=site, files=names, reason=reason)
        st.error(f"Not loaded: {reason}. Nothing was changed.", icon=":material/block:")
        st.stop()
    try:
        with st.spinner("Reading, validating and writing the extract…"):
            outcome = uploads.load(files or [], data.db_path(), site.strip(), as_of, limit)
    except uploads.UploadRefused as refused:
        record("load_refused", site=site, files=names, reason=str(refused))
        st.error(f"Not loaded: {refused}.", icon=":material/block:")
        st.stop()
    if outcome.refusal:
        record("load_refused", site=site, files=names, reason=outcome.refusal)
        st.error(f"{outcome.refusal}. Nothing was changed.", icon=":material/block:")
        st.stop()
    summary = outcome.summary
    tables = pd.DataFrame([{"table": t, **c} for t, c in summary["tables"].items()])
    record(
        "load",
        site=summary["site"],
        files=names,
        load_id=summary["load_id"],
        rows_accepted=int(tables["rows_accepted"].sum()),
        rows_quarantined=int(tables["rows_quarantined"].sum()),
    )
    st.success(
        f"Loaded as load {summary['load_id']}: site {summary['site']}, as of {summary['as_of']}.",
        icon=":material/check_circle:",
    )
    widgets.table(tables, "loaded tables")
    for table, columns in summary["ignored_columns"].items():
        st.caption(f"Ignored columns in {table}: {', '.join(columns)}")

    st.subheader("Quarantined by this load")
    quarantine = data.quarantine(summary["site"], role)
    if quarantine.empty:
        st.success("No row was quarantined.", icon=":material/check_circle:")
    else:
        if not sees_quarantine_contents(role):
            st.caption("Your role sees why rows were quarantined, not their values.")
        widgets.table(quarantine, "quarantine of this load")
