"""ITB Audit dashboard: `streamlit run dashboard/app.py` (ITB_AUDIT_DB names the warehouse)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# Streamlit runs this file as a script: make the project's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import data, filters, widgets  # noqa: E402  (after the path is set)

st.set_page_config(page_title="ITB Audit", layout="wide", page_icon=":material/monitor_heart:")

# Not "pages/": Streamlit would treat a folder of that name beside the main script as an old-style
# multipage app and run a page opened by its URL without this script (so without the sidebar).
PAGES = Path(__file__).resolve().parent / "views"


def _page(file: str, title: str, icon: str, **kwargs) -> st.Page:
    return st.Page(PAGES / file, title=title, icon=f":material/{icon}:",
                   url_path=file.removesuffix(".py"), **kwargs)


navigation = st.navigation([
    _page("overview.py", "Overview", "dashboard", default=True),
    _page("waits.py", "Referrals & waits", "schedule"),
    _page("trials.py", "Trial response", "science"),
    _page("complications.py", "Complications", "emergency"),
    _page("refills.py", "Refills", "medication"),
    _page("batteries.py", "Pump batteries", "battery_alert"),
    _page("outcomes.py", "Cohort outcomes", "groups"),
    _page("data_quality.py", "Data quality", "fact_check"),
])

if not data.has_data():
    st.title(navigation.title)
    widgets.empty_warehouse()
    st.stop()

filters.sidebar(data.latest_as_of(), data.sites())
navigation.run()
