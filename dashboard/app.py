"""ITB Audit dashboard: `streamlit run dashboard/app.py` (ITB_AUDIT_DB names the warehouse,
ITB_AUDIT_USERS the users file; docs/access.md)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import streamlit as st

# Streamlit runs this file as a script: make the project's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import auth, data, filters, widgets  # noqa: E402  (after the path is set)
from pipelines.access.roles import FIGURE_PAGES, PAGES  # noqa: E402
from pipelines.access.sites import sees_network_aggregates  # noqa: E402
from pipelines.lake import LakeError  # noqa: E402

st.set_page_config(page_title="ITB Audit", layout="wide", page_icon=":material/monitor_heart:")

# Not "pages/": Streamlit would treat a folder of that name beside the main script as an old-style
# multipage app and run a page opened by its URL without this script (so without the sidebar).
VIEWS = Path(__file__).resolve().parent / "views"
# url path (views/<url path>.py) -> title and icon, in menu order
TITLES = {
    "overview": ("Overview", "dashboard"),
    "waits": ("Referrals & waits", "schedule"),
    "trials": ("Trial response", "science"),
    "complications": ("Complications", "emergency"),
    "refills": ("Refills", "medication"),
    "batteries": ("Pump batteries", "battery_alert"),
    "outcomes": ("Cohort outcomes", "groups"),
    "data_quality": ("Data quality", "fact_check"),
    "audits": ("Audits & actions", "assignment_turned_in"),
    "load": ("Load an extract", "upload_file"),
    "users": ("Users", "manage_accounts"),
    "access_log": ("Access log", "policy"),
}
# drawn from the warehouse, with the filters
WAREHOUSE_PAGES = (*FIGURE_PAGES, "data_quality", "audits")

settings = data.settings()
session = auth.session(settings)
allowed = PAGES[session.role] if session else ()
# Every page is registered, signed in or not, so a page opened by its URL is found and is the
# page shown after signing in; the role's own pages are the menu, the others are hidden and
# refused below without running. The sign-in page is where the root URL lands when signed out.
sign_in = st.Page(
    auth.sign_in_form,
    title="Sign in",
    icon=":material/login:",
    url_path="sign_in",
    default=not allowed,
    visibility="hidden",
)
pages = {
    name: st.Page(
        VIEWS / f"{name}.py",
        title=title,
        icon=f":material/{icon}:",
        url_path=name,
        default=bool(allowed) and name == allowed[0],
        visibility="visible" if name in allowed else "hidden",
    )
    for name, (title, icon) in TITLES.items()
}
shown = st.navigation([sign_in, *pages.values()], position="sidebar" if session else "hidden")
if session is None:
    auth.sign_in_form()
    st.stop()
if shown is sign_in:
    st.switch_page(pages[allowed[0]])
name = next(n for n, p in pages.items() if p is shown)
auth.account(settings)

if name not in allowed:
    st.title(shown.title)
    st.error(f"The {session.role.value} role may not see this page.", icon=":material/block:")
    auth.record(settings, session, "refused", page=name)
    st.stop()

if name in WAREHOUSE_PAGES:
    try:
        loaded = data.has_data()
    except LakeError as e:  # one line naming the catalog, never a password
        st.title(shown.title)
        st.error(f"The warehouse cannot be read: {e}.", icon=":material/cloud_off:")
        st.stop()
    if not loaded:
        st.title(shown.title)
        widgets.empty_warehouse()
        st.stop()
    chosen = filters.sidebar(
        data.latest_as_of(),
        data.sites(),
        filters.ALL_SITES
        if session.sites is None
        else filters.NETWORK_FIGURES
        if sees_network_aggregates(session.role, session.sites)
        else None,
    )
    auth.record_view(settings, name, asdict(chosen))
else:
    auth.record_view(settings, name, {})
shown.run()
