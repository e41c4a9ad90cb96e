"""Sign-in for the dashboard: a user of the users file (pipelines.access.users) or, where a Trust
configures it, OpenID Connect through st.login. A signed-in session lasts while the browser
tab's session does and ends after the configured idle time; every sign-in, refusal and
sign-out goes to the access log."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from pipelines.access import log as access_log
from pipelines.access import oidc, users
from pipelines.access.roles import Role
from pipelines.access.sites import NETWORK, Sites, describe
from pipelines.config import Settings, load_settings

_SESSION = "signed_in"
_LAST_LOGGED = "access_logged"
_IDLE_NOTICE = "signed_out_idle"
PASSWORD, OIDC = "password", "oidc"


@dataclass(frozen=True)
class Session:
    user: str
    role: Role
    method: str
    last_active: float
    sites: Sites = NETWORK  # whose data the user may see (pipelines.access.sites)


def session(settings: Settings) -> Session | None:
    """The signed-in session of this run, or None: nobody is signed in, or the session has been
    idle too long (it is then signed out). Each run with a session counts as activity."""
    access = settings.access
    signed: Session | None = st.session_state.get(_SESSION)
    now = time.time()
    if signed and now - signed.last_active > access.idle_timeout_minutes * 60:
        record(settings, signed, "signed_out_idle")
        del st.session_state[_SESSION]
        st.session_state.pop(_LAST_LOGGED, None)
        st.session_state[_IDLE_NOTICE] = True
        if signed.method == OIDC:
            st.logout()
        signed = None
    if signed is None and access.oidc_provider and st.user.is_logged_in:
        signed = _from_identity(settings, dict(st.user.to_dict()), now)
    if signed is None:
        return None
    st.session_state[_SESSION] = signed = replace(signed, last_active=now)
    st.session_state.pop(_IDLE_NOTICE, None)
    return signed


def current() -> Session:
    """The signed-in session of this run (the app only runs a page when there is one)."""
    return st.session_state[_SESSION]


def current_sites() -> Sites:
    """The signed-in user's sites; NETWORK outside a signed-in session, where no page runs
    (the query layer called directly, as by the tests of one role's rows)."""
    signed: Session | None = st.session_state.get(_SESSION)
    return NETWORK if signed is None else signed.sites


def _from_identity(settings: Settings, claims: dict[str, Any], now: float) -> Session:
    access = settings.access
    user = oidc.username_from_claims(claims) or "unknown"
    role = oidc.role_from_claims(claims, access.oidc_role_claim, access.oidc_roles)
    sites = oidc.sites_from_claims(claims, access.oidc_site_claim)
    if role is None or sites is None:
        missing = "role" if role is None else "site"
        access_log.append(
            access.access_log,
            user=user,
            role=None,
            event="sign_in_refused",
            method=OIDC,
            reason=f"no {missing} for this account",
        )
        st.error(
            f"Signed in as {user}, but this account has no ITB Audit {missing}. Ask your "
            "administrator to add you to one of the configured groups."
        )
        st.button("Sign out", on_click=st.logout)
        st.stop()
    session = Session(user, role, OIDC, now, sites)
    record(settings, session, "sign_in", method=OIDC)
    return session


def sign_in_form() -> None:
    """The sign-in form (password, and the Trust's identity provider where configured); a
    right password signs in and reruns."""
    settings = load_settings()
    st.title("ITB Audit")
    if st.session_state.get(_IDLE_NOTICE):
        st.info(
            f"You were signed out after {settings.access.idle_timeout_minutes:g} minutes "
            "without activity.",
            icon=":material/timer_off:",
        )
    store = users.store(settings)
    with st.form("sign_in", clear_on_submit=True, width=420):
        st.subheader("Sign in")
        username = st.text_input("User name", key="sign_in_user", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="sign_in_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if settings.access.oidc_provider:
        st.button(
            "Sign in with your organisation's account",
            on_click=st.login,
            args=(settings.access.oidc_provider,),
        )
    if not store.exists():
        st.warning(f"No users file at {store.path}: create users with `itb-audit users add`.")
    if not submitted:
        return
    try:
        user = store.authenticate(username, password)
    except users.SignInRefused as refused:
        known = username.strip().lower() in {u.username for u in store.list()}
        # A name that is not a user may be a password typed in the wrong box: never logged.
        access_log.append(
            settings.access.access_log,
            user=username.strip().lower() if known else "(not a user)",
            role=None,
            event="sign_in_refused",
            method=PASSWORD,
            reason=str(refused),
        )
        st.error(str(refused), icon=":material/lock:")
        return
    session = Session(user.username, user.role, PASSWORD, time.time(), user.sites)
    st.session_state[_SESSION] = session
    record(settings, session, "sign_in", method=PASSWORD)
    st.rerun()


def sign_out(settings: Settings) -> None:
    session = st.session_state.pop(_SESSION, None)
    st.session_state.pop(_LAST_LOGGED, None)
    if session:
        record(settings, session, "sign_out")
        if session.method == OIDC:
            st.logout()


def account(settings: Settings) -> None:
    """Who is signed in, and the sign-out button (sidebar)."""
    session = current()
    with st.sidebar:
        st.caption(
            f":material/account_circle: **{session.user}** · {session.role.value} · "
            f"{describe(session.sites)}"
        )
        st.button(
            "Sign out",
            on_click=sign_out,
            args=(settings,),
            icon=":material/logout:",
            key="sign_out",
        )


def record(settings: Settings, session: Session, event: str, **detail: Any) -> None:
    """One event of this session in the access log."""
    access_log.append(
        settings.access.access_log,
        user=session.user,
        role=session.role.value,
        sites=describe(session.sites),
        event=event,
        **detail,
    )


def recorder(settings: Settings) -> Callable[..., None]:
    """Record an event of the signed-in user on the page being viewed, later and outside the
    script run (a deferred download runs when its file is fetched)."""
    session, (page, _) = current(), st.session_state[_LAST_LOGGED]

    def later(event: str, **detail: Any) -> None:
        record(settings, session, event, page=page, **detail)

    return later


def record_view(settings: Settings, page: str, shown: dict[str, Any]) -> None:
    """A page view, recorded when the page or what it is shown for (the filters) changes, not
    on every rerun of the same view."""
    view = (page, tuple(sorted(shown.items())))
    previous = st.session_state.get(_LAST_LOGGED)
    if view == previous:
        return
    event = "filter" if previous and previous[0] == page else "view"
    record(settings, current(), event, page=page, **shown)
    st.session_state[_LAST_LOGGED] = view
