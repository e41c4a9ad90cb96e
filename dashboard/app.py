"""ITB Audit dashboard: `streamlit run dashboard/app.py` (ITB_AUDIT_DB names the warehouse)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# Streamlit runs this file as a script: make the project's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

st.set_page_config(page_title="ITB Audit", layout="wide")

PAGES = Path(__file__).resolve().parent / "pages"
navigation = st.navigation([
    st.Page(PAGES / "data_quality.py", title="Data quality", icon=":material/fact_check:", default=True),
])
navigation.run()
