"""OpenID Connect sign-in (st.login, where a Trust configures it): the user's role comes from one
claim of their identity token, mapped to a role in itb-audit.toml ([access.oidc]), and, in a
network, their sites from another (site_claim)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipelines.access.roles import Role
from pipelines.access.sites import NETWORK, Sites, parse_sites


def role_from_claims(claims: Mapping, claim: str, roles: Sequence[tuple[str, str]]) -> Role | None:
    """The role of the first (claim value, role) pair in `roles` whose value the user's `claim`
    holds (a string or a list of strings); None when none matches, so no role is assumed."""
    held = claims.get(claim)
    values = {held} if isinstance(held, str) else set(held or ())
    for value, role in roles:
        if value in values:
            return Role(role)
    return None


def username_from_claims(claims: Mapping) -> str | None:
    for claim in ("email", "preferred_username", "sub"):
        if claims.get(claim):
            return str(claims[claim])
    return None


def sites_from_claims(claims: Mapping, claim: str | None) -> Sites | None:
    """The user's sites from their `claim` (a string of comma-separated site names or a list of
    them; 'network' for every site). With no site claim configured (one clinic) every user is a
    network user; with one configured, an identity without it has no sites (None): refused,
    never every site."""
    if claim is None:
        return NETWORK
    held = claims.get(claim)
    try:
        return parse_sites([held] if isinstance(held, str) else list(held or ()))
    except ValueError:
        return None
