"""The access log (admins): every sign-in, page view, filter change, download and load, newest
first. The log file is append-only; this page only reads it."""

import streamlit as st

from dashboard import data, widgets
from pipelines.access import log as access_log

SHOWN = 5000

path = data.settings().access.access_log
st.title("Access log")
st.caption(f"{path}: one JSON line per event (docs/access.md). The newest {SHOWN:,} events.")
events = access_log.read(path, limit=SHOWN)
left, middle, right = st.columns(3)
users = left.multiselect("User", sorted(events["user"].dropna().unique()), placeholder="All")
kinds = middle.multiselect("Event", sorted(events["event"].dropna().unique()), placeholder="All")
pages = right.multiselect("Page", sorted(events["page"].dropna().unique()), placeholder="All")
for column, chosen in (("user", users), ("event", kinds), ("page", pages)):
    if chosen:
        events = events[events[column].isin(chosen)]
st.caption(f"{len(events):,} events shown.")
widgets.table(events, "access log")
