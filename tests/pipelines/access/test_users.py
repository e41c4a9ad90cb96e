"""The users file and its command line: argon2id hashes only, private file, user management,
demo users printed once, where the file lives; and the OpenID Connect claim -> role mapping."""

from __future__ import annotations

import json
import stat

import pytest
from typer.testing import CliRunner

from pipelines.access import users
from pipelines.access.oidc import role_from_claims, username_from_claims
from pipelines.access.roles import Role
from pipelines.cli import app as cli
from pipelines.config import load_settings


@pytest.fixture
def store(tmp_path):
    return users.UserStore(tmp_path / "users.json")


@pytest.mark.slow
def test_only_a_salted_argon2id_hash_is_kept_in_a_private_file(store):
    store.add("Alice", Role.GOVERNANCE, "a long enough password")
    store.add("bob", Role.GOVERNANCE, "a long enough password")
    content = store.path.read_text()
    assert "a long enough password" not in content
    hashes = {u["password_hash"] for u in json.loads(content)["users"].values()}
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes)  # salted
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [(u.username, u.role) for u in store.list()] == [
        ("alice", Role.GOVERNANCE),
        ("bob", Role.GOVERNANCE),
    ]
    assert store.authenticate(" ALICE ", "a long enough password").username == "alice"


@pytest.mark.slow
def test_managing_users(store):
    store.add("carol", Role.ADMIN, "first password 123")
    with pytest.raises(users.UserError, match="already exists"):
        store.add("carol", Role.ADMIN, "first password 123")
    with pytest.raises(users.UserError, match="at least 12"):
        store.add("dave", Role.ADMIN, "short")
    with pytest.raises(users.UserError, match="user name"):
        store.add("no spaces please", Role.ADMIN, "first password 123")
    store.set_password("carol", "second password 456")
    with pytest.raises(users.SignInRefused):
        store.authenticate("carol", "first password 123")
    assert store.authenticate("carol", "second password 456").role is Role.ADMIN
    store.remove("carol")
    assert store.list() == []
    with pytest.raises(users.SignInRefused, match="Wrong user name or password"):
        store.authenticate("carol", "second password 456")


@pytest.mark.slow
def test_a_new_password_unlocks_a_locked_user(store):
    store.add("erin", Role.CLINICIAN, "the real password")
    for _ in range(5):
        with pytest.raises(users.SignInRefused):
            store.authenticate("erin", "not the password")
    assert store.list()[0].locked_until
    store.set_password("erin", "a brand new password")
    assert store.authenticate("erin", "a brand new password").username == "erin"


@pytest.mark.slow
def test_a_right_password_clears_the_count_of_wrong_ones(store):
    store.add("frank", Role.CLINICIAN, "the real password")
    for _ in range(4):
        with pytest.raises(users.SignInRefused):
            store.authenticate("frank", "not the password")
    store.authenticate("frank", "the real password")
    for _ in range(4):  # four more wrong ones: still not locked
        with pytest.raises(users.SignInRefused, match="Wrong"):
            store.authenticate("frank", "not the password")


def test_cli_manages_the_users_file(tmp_path):
    runner, path = CliRunner(), str(tmp_path / "users.json")
    added = runner.invoke(
        cli,
        ["users", "add", "gina", "--role", "commissioner", "--users-file", path],
        input="gina's password\ngina's password\n",
    )
    assert added.exit_code == 0, added.output
    assert "gina's password" not in (tmp_path / "users.json").read_text()
    generated = runner.invoke(
        cli, ["users", "set-password", "gina", "--generate", "--users-file", path]
    )
    password = generated.stdout.split(": ", 1)[1].split()[0]
    assert users.UserStore(path).authenticate("gina", password).role is Role.COMMISSIONER
    listed = runner.invoke(cli, ["users", "list", "--users-file", path])
    assert listed.stdout.split() == ["gina", "commissioner", "network"]
    bad = runner.invoke(cli, ["users", "add", "hal", "--role", "boss", "--users-file", path])
    assert bad.exit_code != 0
    duplicate = runner.invoke(
        cli, ["users", "add", "gina", "--role", "admin", "--generate", "--users-file", path]
    )
    assert duplicate.exit_code == 2 and "already exists" in duplicate.stderr
    assert runner.invoke(cli, ["users", "remove", "gina", "--users-file", path]).exit_code == 0
    assert users.UserStore(path).list() == []


@pytest.mark.slow
def test_demo_users_are_printed_once(tmp_path):
    runner, path = CliRunner(), str(tmp_path / "warehouse" / "users.json")
    first = runner.invoke(cli, ["users", "demo", "--users-file", path])
    lines = [line.strip() for line in first.stdout.splitlines() if " / " in line]
    assert [line.split(":")[0] for line in lines] == [r.value for r in Role]
    for line in lines:
        role, rest = line.split(": ", 1)
        username, password = rest.split(" / ")
        assert users.UserStore(path).authenticate(username, password).role is Role(role)
    again = runner.invoke(cli, ["users", "demo", "--users-file", path])
    assert again.exit_code == 0 and " / " not in again.stdout
    assert not any(line.split(" / ")[1] in again.stdout for line in lines)


def test_where_the_users_file_and_access_log_live(tmp_path, monkeypatch):
    monkeypatch.delenv("ITB_AUDIT_USERS")
    monkeypatch.delenv("ITB_AUDIT_ACCESS_LOG")
    config = tmp_path / "conf" / "itb-audit.toml"
    config.parent.mkdir()
    config.write_text(
        '[access]\nusers_file = "secure/users.json"\nmax_failed_sign_ins = 3\n'
        'lockout_minutes = 2\n[access.oidc]\nprovider = "trust"\n'
        'role_claim = "groups"\n[access.oidc.roles]\n'
        '"ITB Clinicians" = "clinician"\n'
    )
    access = load_settings(config).access
    assert access.users_file == tmp_path / "conf" / "secure" / "users.json"
    assert access.access_log.name == "access-log.jsonl"
    assert access.access_log.parent.name == "warehouse"
    assert users.store(load_settings(config)).lockout == users.Lockout(3, 120)
    assert access.oidc_provider == "trust"
    assert access.oidc_roles == (("ITB Clinicians", "clinician"),)
    monkeypatch.setenv("ITB_AUDIT_USERS", str(tmp_path / "env.json"))
    assert load_settings(config).access.users_file == tmp_path / "env.json"
    config.write_text('[access.oidc.roles]\n"x" = "superuser"\n')
    with pytest.raises(ValueError):
        load_settings(config)


ROLES = (
    ("ITB.Admin", "admin"),
    ("ITB.Clinician", "clinician"),
    ("ITB.Commissioner", "commissioner"),
)


@pytest.mark.parametrize(
    "claims, role",
    [
        ({"roles": ["ITB.Clinician"]}, Role.CLINICIAN),
        ({"roles": "ITB.Commissioner"}, Role.COMMISSIONER),  # a single string
        ({"roles": ["ITB.Clinician", "ITB.Admin"]}, Role.ADMIN),  # the first listed wins
        ({"roles": ["Finance"]}, None),  # no match: no role
        ({"groups": ["ITB.Clinician"]}, None),  # another claim
        ({}, None),
    ],
)
def test_an_identity_claim_maps_to_a_role(claims, role):
    assert role_from_claims(claims, "roles", ROLES) is role


def test_the_user_name_of_an_identity():
    assert username_from_claims({"sub": "123", "email": "a@nhs.net"}) == "a@nhs.net"
    assert username_from_claims({"sub": "123"}) == "123"
    assert username_from_claims({}) is None
