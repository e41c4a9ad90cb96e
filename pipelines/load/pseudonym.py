"""Keyed pseudonyms for NHS numbers (HMAC-SHA256), so records link without the number itself.

The key comes from the deployment: ITB_AUDIT_PSEUDONYM_KEY, else the config's
pseudonym_key_file, else a random key made once at ~/.config/itb-audit/pseudonym.key (0600).
It is never stored beside the warehouse: with the key, the 10^9 possible numbers could be
tried one by one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ENV_KEY = "ITB_AUDIT_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
VALID_KEY = (
    f"a valid key is at least {MIN_KEY_LENGTH} characters; best, 64 random hex digits "
    "(openssl rand -hex 32)"
)


class KeyUnusable(Exception):
    """The deployment's key cannot be used. str() is one line that says what a valid key is;
    commands print it and exit 2, the dashboard shows it."""


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "itb-audit" / "pseudonym.key"


def resolve_key(key_file: str | os.PathLike | None = None) -> bytes:
    """The key; KeyUnusable when the one given is too short or cannot be read or made."""
    env = os.environ.get(ENV_KEY)
    if env:
        if len(env) < MIN_KEY_LENGTH:
            raise KeyUnusable(f"{ENV_KEY} is too short ({len(env)} characters): {VALID_KEY}")
        return env.encode()
    path = Path(key_file) if key_file else default_key_file()
    try:
        if path.exists():
            key = path.read_bytes().strip()
            if len(key) < MIN_KEY_LENGTH:
                raise KeyUnusable(
                    f"pseudonym key file {path} is too short ({len(key)} characters): {VALID_KEY}"
                )
            return key
        if key_file:
            raise KeyUnusable(f"pseudonym key file {path} does not exist: {VALID_KEY}")
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key
    except OSError as e:  # unreadable file, a folder, no permission to make the default
        raise KeyUnusable(
            f"pseudonym key file {path} cannot be used ({e.strerror or e}): {VALID_KEY}"
        ) from None


def pseudonymise(values: list[str | None], key: bytes) -> list[str | None]:
    """HMAC-SHA256 hex of each value; None stays None."""
    return [
        None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values
    ]
