"""A user's sites (pipelines.access.sites): what each role may see of its own sites and of the
network, how the users file, the command line and an identity's claim give the sites, and that
a users file written before sites existed still signs its users in (as network users)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.access import users
from pipelines.access.oidc import sites_from_claims
from pipelines.access.roles import Forbidden, Role
from pipelines.access.sites import (
    NETWORK,
    own_rows,
    parse_sites,
    require_site,
    sees_network_aggregates,
    visible_sites,
)
from pipelines.cli import app as cli
from pipelines.config import load_settings

NORTH = frozenset({"north"})


def test_sites_as_typed_or_claimed():
    assert parse_sites(["north, south", " west"]) == frozenset({"north", "south", "west"})
    assert parse_sites(["north", "network"]) is NETWORK
    with pytest.raises(ValueError, match="no site"):
        parse_sites([" , "])  # never every site by mistake


@pytest.mark.parametrize(
    ("role", "site", "allowed"),
    [
        (Role.CLINICIAN, "north", True),
        (Role.CLINICIAN, "south", False),
        (Role.CLINICIAN, None, False),  # every site's figures: not for a site's clinician
        (Role.GOVERNANCE, "south", False),
        (Role.GOVERNANCE, None, True),  # network aggregates
        (Role.COMMISSIONER, "north", True),
        (Role.COMMISSIONER, "south", False),
        (Role.COMMISSIONER, None, False),
    ],
)
def test_which_figures_a_site_user_may_see(role, site, allowed):
    if allowed:
        require_site(role, NORTH, site)
    else:
        with pytest.raises(Forbidden):
            require_site(role, NORTH, site)
    require_site(role, NETWORK, site)  # a network user sees every site and the network


def test_network_aggregates_for_network_users_and_any_governance():
    assert sees_network_aggregates(Role.GOVERNANCE, NORTH)
    assert sees_network_aggregates(Role.CLINICIAN, NETWORK)
    assert not sees_network_aggregates(Role.CLINICIAN, NORTH)


def test_only_the_rows_of_the_users_sites():
    rows = pd.DataFrame({"site": ["north", "south", "north"], "patient_id": ["N1", "S1", "N2"]})
    assert own_rows(NORTH, rows)["patient_id"].tolist() == ["N1", "N2"]
    assert own_rows(NETWORK, rows) is rows
    assert own_rows(frozenset({"east"}), rows).empty
    assert visible_sites(NORTH, ["south", "north"]) == ["north"]
    assert visible_sites(NETWORK, ["south", "north"]) == ["north", "south"]


@pytest.mark.slow
def test_the_users_file_holds_each_users_sites(tmp_path):
    store = users.UserStore(tmp_path / "users.json")
    store.add("nina", Role.CLINICIAN, "a long enough password", frozenset({"north", "west"}))
    store.add("omar", Role.GOVERNANCE, "a long enough password")
    held = json.loads(store.path.read_text())["users"]
    assert held["nina"]["sites"] == ["north", "west"] and held["omar"]["sites"] == "network"
    assert {u.username: u.sites for u in store.list()} == {
        "nina": frozenset({"north", "west"}),
        "omar": NETWORK,
    }
    assert store.authenticate("nina", "a long enough password").sites == {"north", "west"}


@pytest.mark.slow
def test_a_users_file_without_sites_signs_in_network_users(tmp_path):
    store = users.UserStore(tmp_path / "users.json")
    store.add("pat", Role.CLINICIAN, "a long enough password", NORTH)
    old = json.loads(store.path.read_text())
    del old["users"]["pat"]["sites"]  # as written before sites existed
    store.path.write_text(json.dumps(old))
    assert store.authenticate("pat", "a long enough password").sites is NETWORK


def test_cli_adds_a_user_with_sites(tmp_path):
    runner, path = CliRunner(), str(tmp_path / "users.json")
    added = runner.invoke(
        cli,
        ["users", "add", "quinn", "--role", "clinician", "--sites", "north,west", "--generate"]
        + ["--users-file", path],
    )
    assert added.exit_code == 0, added.output
    assert "sites: north, west" in added.stdout
    listed = runner.invoke(cli, ["users", "list", "--users-file", path])
    assert listed.stdout.split() == ["quinn", "clinician", "north,", "west"]
    empty = runner.invoke(
        cli, ["users", "add", "rosa", "--role", "clinician", "--sites", ",", "--users-file", path]
    )
    assert empty.exit_code == 2 and "no site given" in empty.output
    assert [u.username for u in users.UserStore(path).list()] == ["quinn"]


@pytest.mark.parametrize(
    ("claims", "sites"),
    [
        ({"itb_sites": ["north", "west"]}, frozenset({"north", "west"})),
        ({"itb_sites": "north"}, NORTH),
        ({"itb_sites": ["network"]}, NETWORK),
        ({"itb_sites": []}, None),  # refused: no sites is not every site
        ({"groups": ["north"]}, None),
    ],
)
def test_an_identity_claim_gives_the_sites(claims, sites):
    assert sites_from_claims(claims, "itb_sites") == sites


def test_without_a_site_claim_every_identity_is_a_network_user():
    assert sites_from_claims({"itb_sites": ["north"]}, None) is NETWORK


def test_the_site_claim_is_configured(tmp_path, monkeypatch):
    config = tmp_path / "itb-audit.toml"
    config.write_text('[access.oidc]\nprovider = "trust"\nsite_claim = "itb_sites"\n')
    assert load_settings(config).access.oidc_site_claim == "itb_sites"
    config.write_text('[access.oidc]\nprovider = "trust"\n')
    assert load_settings(config).access.oidc_site_claim is None
