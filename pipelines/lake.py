"""A DuckLake warehouse: its catalog in PostgreSQL, its data as Parquet under a shared data path.

Groundwork for the network deployment (docs/deploy.md). The DuckDB extensions come from the pip
packages `duckdb-extension-ducklake` and `duckdb-extension-postgres-scanner` (built for the pinned
DuckDB only) and are loaded from their installed files: never INSTALLed from the network, and
with DuckDB's auto-install and auto-load off, so a missing file is an error here, not a download.

The password is never part of an address, a statement or a log line: libpq, inside the
postgres extension, reads it from the environment (PGPASSWORD) or from a password file
(PGPASSFILE, ~/.pgpass).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb

# DuckDB extension name -> the pip package that ships its file.
EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}
SCHEME = "ducklake+postgresql"
# The PostgreSQL advisory lock every writer of a lake holds from BEGIN to COMMIT (write_lock).
# One lake per catalog database, so one key; any number no other program of that database uses.
WRITE_LOCK_KEY = 1_497_014


class LakeError(Exception):
    """A lake address or extension that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class LakeAddress:
    """A lake's PostgreSQL catalog (no password) and its data path."""

    host: str
    port: int
    dbname: str
    user: str
    data_path: str

    @classmethod
    def parse(cls, text: str) -> LakeAddress:
        """`ducklake+postgresql://USER@HOST:PORT/DBNAME?data_path=PATH`; a password in it is
        refused (it belongs in the environment)."""
        parts = urlsplit(text)
        if parts.scheme != SCHEME:
            raise LakeError(f"a lake address starts with {SCHEME}://")
        options = parse_qs(parts.query)
        if parts.password is not None or "password" in options:
            raise LakeError("a lake address holds no password: set PGPASSWORD or PGPASSFILE")
        if options.keys() - {"data_path"}:
            raise LakeError(
                f"a lake address has no option(s) {sorted(options.keys() - {'data_path'})}"
            )
        data = options.get("data_path", [])
        if not (parts.hostname and parts.username and parts.path.strip("/") and data):
            raise LakeError(f"a lake address is {SCHEME}://USER@HOST:PORT/DBNAME?data_path=PATH")
        return cls(
            parts.hostname,
            parts.port or 5432,
            unquote(parts.path.strip("/")),
            unquote(parts.username),
            data[0],
        )

    def catalog(self) -> str:
        """The libpq connection string of the catalog, password left to libpq."""
        return " ".join(
            f"{key}={_libpq_value(str(value))}"
            for key, value in (
                ("host", self.host),
                ("port", self.port),
                ("dbname", self.dbname),
                ("user", self.user),
            )
        )


def _libpq_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def extension_directory() -> Path:
    """A folder laid out as DuckDB looks for extensions (v{version}/{platform}/NAME.duckdb_
    extension) whose files link to the ones the pip packages installed."""
    version = f"v{duckdb.__version__}"
    platform = duckdb.execute("pragma platform").fetchone()
    assert platform is not None
    folder = Path(tempfile.gettempdir()) / f"itb-audit-duckdb-extensions-{os.getuid()}"
    target = folder / version / platform[0]
    target.mkdir(parents=True, exist_ok=True)
    for name, package in EXTENSIONS.items():
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise LakeError(f"the pip package {package.replace('_', '-')} is not installed")
        shipped = Path(spec.origin).parent / "extensions" / version / f"{name}.duckdb_extension"
        if not shipped.is_file():
            raise LakeError(f"{package.replace('_', '-')} has no {name} extension for {version}")
        link = target / shipped.name
        if not (link.is_symlink() and link.resolve() == shipped.resolve()):
            tmp = link.with_name(f".{link.name}.{os.getpid()}")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(shipped)
            tmp.replace(link)  # atomic: another process may be looking at the same folder
    return folder


def _config() -> dict[str, str | bool | int | float | list[str]]:
    return {
        "extension_directory": str(extension_directory()),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake extensions loaded from their package files,
    to attach a lake and a warehouse file side by side (attach_lake)."""
    con = duckdb.connect(config=_config())
    for name in EXTENSIONS:
        con.execute(f"load {name}")
    return con


def open_lake(address: LakeAddress) -> duckdb.DuckDBPyConnection:
    """A connection whose own database is the lake (created by attach_lake, which records its
    data path), so that every cursor of it reads `core.…` from the lake as one of a warehouse
    file does: a cursor starts in the connection's database, whatever a `USE` said. DuckDB
    loads the two extensions it needs to open it from the same folder, installing nothing."""
    try:
        return duckdb.connect(f"ducklake:postgres:{address.catalog()}", config=_config())
    except duckdb.Error as e:
        raise _attach_error(address, e) from None


def attach_lake(
    con: duckdb.DuckDBPyConnection,
    address: LakeAddress,
    alias: str = "lake",
    read_only: bool = False,
) -> None:
    """Attach the lake as `alias` (created on first attach). Errors are re-raised without the
    statement, which names the catalog but never a password."""
    if not alias.isidentifier():
        raise LakeError(f"not a database alias: {alias!r}")
    options = [f"data_path {_sql_text(address.data_path)}"]
    if read_only:
        options.append("read_only")
    try:
        con.execute(
            f"attach {_sql_text('ducklake:postgres:' + address.catalog())} as {alias} "
            f"({', '.join(options)})"
        )
    except duckdb.Error as e:
        raise _attach_error(address, e) from None


def _attach_error(
    address: LakeAddress, error: duckdb.Error, doing: str = "attach the lake"
) -> LakeError:
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return LakeError(f"cannot {doing} at {address.host}:{address.port}/{address.dbname}: {first}")


@contextmanager
def write_lock(con: duckdb.DuckDBPyConnection, address: LakeAddress) -> Iterator[None]:
    """Hold the lake's write lock for the block, waiting for whoever holds it: a PostgreSQL
    advisory lock in the lake's catalog, taken in a transaction of a cursor of `con` (a
    connection with the postgres extension loaded) that is rolled back at the end. PostgreSQL
    ends the lock with its session, so a writer that is killed never leaves it held.

    Lake writes must follow one another: two transactions that change the same table conflict
    at COMMIT in DuckLake, even for rows of different sites, and the lake has no keys to merge
    on. Writers on any machine share the catalog, so the lock works across machines, where a
    lock file works on one."""
    lock = con.cursor()
    try:
        lock.execute(
            f"attach if not exists {_sql_text(address.catalog())} as itb_audit_write_lock "
            "(type postgres)"
        )
        lock.execute("begin transaction")
        lock.execute(
            "call postgres_execute('itb_audit_write_lock', "
            f"'select pg_advisory_xact_lock({WRITE_LOCK_KEY})')"
        )
    except duckdb.Error as e:
        lock.close()
        raise _attach_error(address, e, "take the write lock of the lake") from None
    try:
        yield
    finally:
        try:
            lock.execute("rollback")  # ends the PostgreSQL transaction, and with it the lock
        finally:
            lock.close()
