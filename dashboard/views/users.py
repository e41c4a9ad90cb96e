"""User management (admins): who may sign in with which role. Passwords are generated here and
shown once; the users file keeps only their argon2id hashes. A new password also unlocks a
locked user."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import auth, data, widgets
from pipelines.access import users
from pipelines.access.roles import PAGES, Role
from pipelines.access.sites import NETWORK_WORD, describe, parse_sites

settings = data.settings()
store = users.store(settings)
record = auth.recorder(settings)
st.title("Users")
st.caption(f"{store.path}. The same file `itb-audit users add|remove|set-password|list` manages.")


def show_password(username: str, password: str) -> None:
    st.success(
        f"Password for **{username}**, shown once: copy it now and give it to them privately.",
        icon=":material/key:",
    )
    st.code(password, language=None)


add, change, remove = st.tabs(["Add a user", "New password", "Remove a user"])
with add, st.form("add_user", clear_on_submit=True):
    username = st.text_input("User name", help="a-z, 0-9 and . _ - @")
    role = st.selectbox("Role", list(Role), format_func=lambda r: r.value)
    sites_typed = st.text_input(
        "Sites",
        value=NETWORK_WORD,
        help="The sites whose data the user may see, comma-separated; 'network' for every site "
        "(docs/access.md, Sites).",
    )
    if st.form_submit_button("Add"):
        password = users.generate_password()
        try:
            sites = parse_sites([sites_typed])
            store.add(username, role, password, sites)
        except (users.UserError, ValueError) as e:
            st.error(str(e))
        else:
            record(
                "user_added",
                target=users.normalise_username(username),
                target_role=role.value,
                target_sites=describe(sites),
            )
            show_password(users.normalise_username(username), password)
names = [u.username for u in store.list()]
with change, st.form("set_password"):
    username = st.selectbox("User", names, key="password_user")
    if st.form_submit_button("Generate a new password", disabled=not names):
        password = users.generate_password()
        store.set_password(username, password)
        record("password_set", target=username)
        show_password(username, password)
with remove, st.form("remove_user"):
    username = st.selectbox("User", names, key="remove_user_name")
    if st.form_submit_button("Remove", disabled=not names):
        if username == auth.current().user:
            st.error("You cannot remove yourself while signed in.")
        else:
            store.remove(username)
            record("user_removed", target=username)
            st.success(f"{username} removed.")

st.subheader("Everyone who may sign in")
widgets.table(
    pd.DataFrame(
        [
            {
                "user": u.username,
                "role": u.role.value,
                "sites": describe(u.sites),
                "pages": ", ".join(PAGES[u.role]),
                "locked until": dt.datetime.fromtimestamp(u.locked_until).strftime("%d %b %Y %H:%M")
                if u.locked_until
                else "",
            }
            for u in store.list()
        ],
        columns=["user", "role", "sites", "pages", "locked until"],
    ),
    "users",
)
