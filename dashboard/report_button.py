"""The Overview's downloads of the audit pack (`itb-audit report`): HTML and Excel, and PDF where
Debian's chromium is installed, for the sidebar's filters and the signed-in role. A pack is built
only when its button is clicked, on Streamlit's download thread, never while the page draws, and
each download is recorded in the access log."""

from __future__ import annotations

from functools import cache

import streamlit as st

from dashboard import auth, data
from dashboard.filters import current
from pipelines.access.roles import Role, sees_patient_rows
from pipelines.report import FORMATS, Request, build, chromium_available, pack_bytes, report_roles

LABELS = {"html": "HTML", "pdf": "PDF", "xlsx": "Excel"}


def report_downloads(role: Role) -> None:
    """The pack's downloads for the signed-in role (no default: a missing role must never get
    another role's pack)."""
    if role not in report_roles():
        return
    if role is Role.GOVERNANCE and data.pseudonym_key(data.settings()) is None:
        return  # its pack lists patients by pseudonym: the page already says why there is none
    filters = current()
    request = Request(
        data.db_path(),
        filters.start,
        filters.end,
        filters.site,
        filters.condition,
        role,
        data.settings(),
        auth.current_sites(),
    )
    lists = " and the action lists" if sees_patient_rows(role) else ""
    st.subheader("Audit pack")
    st.caption(
        f"The {role.value} pack for {filters.describe()}: every figure with its interval "
        f"and definition, the standards, the charts{lists}, in one file. Built when you "
        "click (a few seconds)."
    )
    stem = f"itb-audit-pack-{role.value}-{filters.start}-to-{filters.end}"
    record = auth.recorder(data.settings())
    # Built at the first click and kept for the other formats of this page's buttons: HTML
    # then Excel (or PDF) is one pack, built once (seconds for years of data), not twice.
    built = cache(lambda: build(request))

    def made(fmt: str) -> bytes:
        content = pack_bytes(built(), fmt)
        record("download", table="audit pack", format=fmt, period=filters.describe())
        return content

    with st.container(horizontal=True):
        for fmt in FORMATS:
            if fmt == "pdf" and not chromium_available():
                continue
            st.download_button(
                LABELS[fmt],
                lambda fmt=fmt: made(fmt),
                f"{stem}.{fmt}",
                FORMATS[fmt],
                icon=":material/download:",
                key=f"report-{fmt}",
                on_click="ignore",
            )
