"""Audits & actions (governance): record the audit of the sidebar's period and site, compare
this period with the last audit, and keep the action plans. The pack's "Since the last audit"
section is made by the same functions; every record and edit is in the access log."""

import datetime as dt

import streamlit as st

from dashboard import auth, data, widgets
from pipelines.governance import records
from pipelines.load.pseudonym import KeyUnusable
from pipelines.report import Request
from pipelines.report.audits import record_audit
from pipelines.report.content import (
    action_rows,
    audit_name,
    audit_text,
    settings_changed,
    since_audit_rows,
)
from pipelines.sections.audit import AUDITS
from pipelines.show.definitions import standard_label
from pipelines.warehouse import reading

filters, role = widgets.page("Audits & actions")
settings = data.settings()
editor = records.Editor(auth.current().user, role, settings.access.access_log, page="audits")
with reading(data.db_path()) as con:
    last = records.last_audit(con, filters.site, filters.end)
    recorded = records.audits(con)
    plans = records.actions(con)
DONE = "audits_done"  # what the last change did, shown after the rerun that reads it back
if DONE in st.session_state:
    st.success(st.session_state.pop(DONE), icon=":material/check_circle:")


def done(message: str) -> None:
    st.session_state[DONE] = message
    st.rerun()


st.subheader("Record this audit")
st.caption(
    f"Records the audit of {filters.describe()}: every figure, the settings, the load of each "
    "site they come from, and the SHA-256 of the governance pack made now (offered below to "
    "keep: the hash says which file was presented). A load running now is waited for."
)
if filters.condition is not None:
    st.info("An audit covers every condition: set the condition filter to all to record one.")
else:
    with st.form("record_audit", clear_on_submit=True):
        note = st.text_input("Note (optional)", help="What the audit was for; no patient details.")
        if st.form_submit_button("Record this audit", icon=":material/verified:"):
            request = Request(
                data.db_path(), filters.start, filters.end, filters.site, None, settings=settings
            )
            try:
                with st.spinner("Computing the figures and the pack…"):
                    audit_id, pack = record_audit(request, editor, note)
            except (records.GovernanceError, KeyUnusable) as e:
                st.error(f"Not recorded: {e}", icon=":material/error:")
            else:
                st.session_state["recorded_pack"] = (audit_id, pack)
                done(f"Audit {audit_id} recorded.")
    if "recorded_pack" in st.session_state:
        audit_id, pack = st.session_state["recorded_pack"]
        st.download_button(
            "The pack recorded (HTML)",
            lambda: pack,
            f"itb-audit-{audit_id}-governance-pack.html",
            "text/html",
            icon=":material/download:",
            on_click="ignore",
        )

st.subheader(AUDITS.title)
if last is None:
    st.info("No audit of this scope was recorded before this period ends: nothing to compare.")
elif filters.condition is not None:
    st.info("Audits are recorded for every condition: no comparison for one condition.")
else:
    name = audit_name(last)
    st.caption(audit_text(last))
    changed = settings_changed(last, settings)
    if changed:
        st.warning(changed, icon=":material/warning:")
    st.markdown(f"**{AUDITS.tables['since'].heading(audit=name)}**")
    widgets.table_of(AUDITS.tables["since"], since_audit_rows(data.kpis(filters, role), last, None))
    st.markdown(f"**{AUDITS.tables['actions'].heading(audit=name)}**")
    agreed = plans[plans["audit_id"] == last["audit_id"]] if not plans.empty else plans
    widgets.table_of(AUDITS.tables["actions"], action_rows(agreed, dt.date.today(), role))

st.subheader("Action plans")
if recorded.empty:
    st.info("No audit recorded yet: record one above, then add its actions.")
else:
    audit_ids = [int(a) for a in recorded["audit_id"]]
    standards = [s.name for s in settings.standards]
    add, change = st.tabs(["Add an action", "Update an action"])
    with add, st.form("add_action", clear_on_submit=True):
        audit_id = st.selectbox("Audit", audit_ids, help="Newest first.")
        kind = st.radio("Against", ["standard", "finding"], horizontal=True)
        standard = st.selectbox("Standard", standards, format_func=standard_label)
        finding = st.text_input("Finding (when against a finding)")
        what = st.text_input("What will be done")
        owner = st.text_input("Owner")
        due = st.date_input("Due", value=dt.date.today() + dt.timedelta(days=90))
        notes = st.text_area("Notes (no patient details)")
        if st.form_submit_button("Add the action"):
            action = records.Action(
                kind, standard if kind == "standard" else finding, what, owner, due, notes=notes
            )
            try:
                added = records.add_action(data.db_path(), editor, action, settings, audit_id)
            except records.GovernanceError as e:
                st.error(f"Not added: {e}", icon=":material/error:")
            else:
                done(f"Action {added} added to audit {audit_id}.")
    with change:
        if plans.empty:
            st.info("No action yet.")
        else:
            chosen = st.selectbox(
                "Action",
                [int(a) for a in plans["action_id"]],
                format_func=lambda a: f"{a}: {plans.set_index('action_id').loc[a, 'what']}",
            )
            now = records.action_of(plans.set_index("action_id").loc[chosen].to_dict())
            with st.form("update_action"):
                status = st.selectbox(
                    "Status", records.STATUSES, index=records.STATUSES.index(now.status)
                )
                due = st.date_input("Due", value=now.due_date)
                owner = st.text_input("Owner", value=now.owner)
                notes = st.text_area("Notes (no patient details)", value=now.notes or "")
                if st.form_submit_button("Save"):
                    try:
                        records.update_action(
                            data.db_path(),
                            editor,
                            chosen,
                            settings,
                            status=status,
                            due_date=due,
                            owner=owner,
                            notes=notes,
                        )
                    except records.GovernanceError as e:
                        st.error(f"Not saved: {e}", icon=":material/error:")
                    else:
                        done(f"Action {chosen} saved.")
    st.markdown("**Every action, as it stands**")
    widgets.table(action_rows(plans, dt.date.today(), role), "actions")

st.subheader(AUDITS.tables["recorded"].title)
if not recorded.empty:
    widgets.table_of(
        AUDITS.tables["recorded"],
        recorded[
            [
                "audit_id",
                "period_start",
                "period_end",
                "site",
                "loads",
                "recorded_at",
                "recorded_by",
                "note",
                "pack_sha256",
            ]
        ],
    )
