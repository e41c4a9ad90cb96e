"""The users file: who may sign in, with which role, by an argon2id password hash (salted and
slow; never the password), and the lockout after repeated wrong passwords.

The users file (JSON, mode 0600) changes only through `itb-audit users` or the admin's Users
page. The sign-in state (failures and lock times) is a small file beside it,
`<users file>.lockout.json`, so a lock holds across reruns, sessions and restarts. Both change
under one lock file and are replaced atomically, so concurrent sign-ins never lose an update.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipelines.access.roles import Role
from pipelines.access.sites import NETWORK, NETWORK_WORD, Sites

MIN_PASSWORD_LENGTH = 12
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")
_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
# Verified for an unknown user name, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class UserError(ValueError):
    """A users-file change that cannot be made (unknown or existing user, weak password)."""


class SignInRefused(Exception):
    """A sign-in refused: wrong user name or password, or the user is locked."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    locked_until: float | None = None  # epoch seconds, while locked
    sites: Sites = NETWORK  # the sites whose data the user may see (pipelines.access.sites)


@dataclass(frozen=True)
class Lockout:
    max_failures: int = 5
    seconds: float = 15 * 60


def _write_private(path: Path, content: dict) -> None:
    """Replace `path` atomically with JSON readable by its owner only."""
    work = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(content, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(work, path)


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


class UserStore:
    """The users file at `path`. `clock` gives epoch seconds (injectable for tests)."""

    def __init__(
        self,
        path: str | os.PathLike,
        lockout: Lockout = Lockout(),
        clock: Callable[[], float] = time.time,
    ):
        self.path = Path(path)
        self.lockout_path = self.path.with_name(self.path.name + ".lockout.json")
        self.lockout = lockout
        self.clock = clock

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def exists(self) -> bool:
        return self.path.exists()

    def _users(self) -> dict[str, dict]:
        return _read(self.path).get("users", {})

    # --- managing users ---------------------------------------------------------------------

    def add(self, username: str, role: Role, password: str, sites: Sites = NETWORK) -> None:
        username = normalise_username(username)
        check_password(password)
        with self._locked():
            users = self._users()
            if username in users:
                raise UserError(f"user {username!r} already exists")
            users[username] = {
                "role": Role(role).value,
                "password_hash": _HASHER.hash(password),
                "sites": NETWORK_WORD if sites is None else sorted(sites),
            }
            _write_private(self.path, {"users": users})

    def remove(self, username: str) -> None:
        with self._locked():
            users = self._users()
            if users.pop(username, None) is None:
                raise UserError(f"no user {username!r}")
            _write_private(self.path, {"users": users})
            self._forget_failures(username)

    def set_password(self, username: str, password: str) -> None:
        """A new password; it also lifts a lock."""
        check_password(password)
        with self._locked():
            users = self._users()
            if username not in users:
                raise UserError(f"no user {username!r}")
            users[username]["password_hash"] = _HASHER.hash(password)
            _write_private(self.path, {"users": users})
            self._forget_failures(username)

    def list(self) -> list[User]:
        state = _read(self.lockout_path)
        now = self.clock()
        return [
            User(
                name,
                Role(entry["role"]),
                until
                if (until := state.get(name, {}).get("locked_until")) and until > now
                else None,
                _sites(entry),
            )
            for name, entry in sorted(self._users().items())
        ]

    # --- signing in -------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> User:
        """The user, if the password is right and the user is not locked; else SignInRefused.
        Every wrong password counts; max_failures of them in a row lock the user for
        lockout.seconds (a right password during the lock is refused too)."""
        username = username.strip().lower()
        with self._locked():
            users, state = self._users(), _read(self.lockout_path)
            entry, now = users.get(username), self.clock()
            record = state.get(username, {})
            if entry is None:
                _verify(_DUMMY_HASH, password)
                raise SignInRefused("Wrong user name or password.")
            if record.get("locked_until", 0) > now:
                raise SignInRefused(locked_message(record["locked_until"] - now))
            if not _verify(entry["password_hash"], password):
                failures = record.get("failures", 0) + 1
                if failures >= self.lockout.max_failures:
                    state[username] = {"failures": 0, "locked_until": now + self.lockout.seconds}
                    _write_private(self.lockout_path, state)
                    raise SignInRefused(locked_message(self.lockout.seconds))
                state[username] = {"failures": failures}
                _write_private(self.lockout_path, state)
                raise SignInRefused("Wrong user name or password.")
            if _HASHER.check_needs_rehash(entry["password_hash"]):
                entry["password_hash"] = _HASHER.hash(password)
                _write_private(self.path, {"users": users})
            if username in state:
                self._forget_failures(username)
            return User(username, Role(entry["role"]), sites=_sites(entry))

    def _forget_failures(self, username: str) -> None:
        state = _read(self.lockout_path)
        if state.pop(username, None) is not None:
            _write_private(self.lockout_path, state)


def _sites(entry: dict) -> Sites:
    """A user's sites as the users file holds them: a list of names, or "network"; an entry of a
    users file written before sites existed has none and is a network user."""
    held = entry.get("sites", NETWORK_WORD)
    return NETWORK if held == NETWORK_WORD else frozenset(held)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def locked_message(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return (
        f"Too many wrong passwords: this user is locked for {minutes} minute"
        f"{'s' if minutes != 1 else ''}. An admin can set a new password to unlock it."
    )


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 64 or not set(name) <= USERNAME_CHARS:
        raise UserError("a user name is 1 to 64 of a-z, 0-9 and . _ - @")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def generate_password() -> str:
    """A random password of 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def store(settings) -> UserStore:
    """The users file the settings name, with their lockout rule."""
    access = settings.access
    return UserStore(
        access.users_file, Lockout(access.max_failed_sign_ins, access.lockout_minutes * 60)
    )


DEMO_USERS = {role: f"demo-{role.value.replace('_', '-')}" for role in Role}


def create_demo_users(users: UserStore) -> dict[Role, tuple[str, str]] | None:
    """One user per role with a generated password, only when the users file does not exist
    yet (so the passwords are shown once); role -> (user name, password), or None."""
    if users.exists():
        return None
    created = {}
    for role, username in DEMO_USERS.items():
        password = generate_password()
        users.add(username, role, password)
        created[role] = (username, password)
    return created
