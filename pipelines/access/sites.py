"""Which sites a user may see (docs/access.md, "Sites"): in a network of Trusts sharing one
warehouse, a user belongs to one or more sites, or to the whole network. The query layer (the
dashboard's data module, the pack and the command line) asks this module, as it asks roles.py,
so that a page bug alone cannot show a Trust another Trust's patients.

- Patient-level rows (clinician, governance) leave the query layer only for the user's sites,
  whatever site was asked for.
- Figures (aggregates) for one site: only for a site of the user's.
- Figures for every site at once ("network aggregates"): for network users, and for governance
  of any site (no patient row is in them). A site-scoped clinician or commissioner may not.
- Figures over several sites at once (a frozenset of sites: "all my sites"): for a user of every
  one of them. The marts take a list of sites, so these are computed over exactly those sites.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from pipelines.access.roles import Forbidden, Role

# A user's sites: a frozenset of site names, or NETWORK (None) for every site. A users file entry
# or an identity without sites is None (docs/access.md says why).
Sites = frozenset[str] | None
NETWORK: Sites = None
NETWORK_WORD = "network"  # how NETWORK is written in the users file, the CLI and an OIDC claim


def parse_sites(values: Iterable[str]) -> Sites:
    """Sites from names as typed or held in a claim ("a, b" split on commas); NETWORK when one of
    them is the word 'network'. No site at all is an error, never every site by mistake."""
    names = {name.strip() for value in values for name in str(value).split(",")} - {""}
    if NETWORK_WORD in names:
        return NETWORK
    if not names:
        raise ValueError("no site given: name one or more sites, or 'network'")
    return frozenset(names)


def describe(sites: Sites) -> str:
    return NETWORK_WORD if sites is None else ", ".join(sorted(sites))


def sees_site(sites: Sites, site: str) -> bool:
    return sites is None or site in sites


def sees_network_aggregates(role: Role, sites: Sites) -> bool:
    """Figures over every site at once: network users, and governance of any site."""
    return sites is None or role is Role.GOVERNANCE


def require_site(role: Role, sites: Sites, site: str | frozenset[str] | None) -> None:
    """Refuse figures for `site` (one site, a frozenset of several, None = every site) that
    this user may not see."""
    if site is None:
        if not sees_network_aggregates(role, sites):
            raise Forbidden(
                f"a {role.value} of {describe(sites)} may not see figures over every site"
            )
        return
    chosen = {site} if isinstance(site, str) else site
    if not chosen:
        raise Forbidden("figures over no site at all")
    for name in sorted(chosen):
        if not sees_site(sites, name):
            raise Forbidden(f"a user of {describe(sites)} may not see site {name!r}")


def own_figures(role: Role, sites: Sites) -> str | frozenset[str] | None:
    """What a user's figures are over when they name no site: every site for a user who may see
    network aggregates, else their one site, or all their sites at once."""
    if sites is None or sees_network_aggregates(role, sites):
        return None
    return next(iter(sites)) if len(sites) == 1 else sites


def own_rows(sites: Sites, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows (with a `site` column) of the user's sites only."""
    if sites is None:
        return rows
    return rows[rows["site"].isin(sorted(sites))].reset_index(drop=True)


def visible_sites(sites: Sites, every: Iterable[str]) -> list[str]:
    """Of the warehouse's sites, the user's (sorted)."""
    return sorted(s for s in every if sees_site(sites, s))
