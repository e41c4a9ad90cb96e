"""Incremental validation: the row-local verdicts of the site's previous load, by row content.

A GX map expectation (not null, in set, between, A ≥ B, with or without a row condition) judges
each row of a frame by that row's values alone. Its verdict for a row is therefore fixed by the
values and the rules: a row whose values were seen by the site's previous load, under the same
rules version, keeps the verdict it had then, and only new or changed rows go through GX. What
a row shares with other rows is still judged over the whole frame every load (validate.py):
duplicate keys and NHS numbers, and the cross-table frames themselves, which DuckDB joins over
the whole snapshot (a row's references, its parents' status, its patient's dates and its pump's
dates are columns of its frame row, so any change there is a changed row).

A row's hash is over every value of its frame row except its source row (a row moved within the
file still matches) and the as-of date (see AS_OF_RULES in validate.py): one seeded 64-bit
polars row hash, whose values are only comparable under one polars version (part of the rules
version). Two different rows share a hash with a chance of about 2^-64 per pair: 20,000 new
rows against 700,000 kept ones is about 1 in 10^9 a load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from importlib.metadata import version

import duckdb
import polars as pl

from pipelines.warehouse import run_sql

HASH = "row_hash"
VERDICT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    HASH: pl.UInt64,
    "failed": pl.List(pl.Int32),
    "outside": pl.List(pl.Int32),
}


def rules_version(rule_sources_digest: bytes, key: bytes) -> str:
    """The rules a verdict was reached under: the validation code and SQL (snapshot.RULE_SOURCES),
    the pseudonymisation key (through a keyed digest: it decides the pseudonyms hashed) and the
    versions of polars (its row hash) and GX (its expectations' semantics)."""
    digest = hashlib.sha256(rule_sources_digest)
    digest.update(hmac.new(key, b"itb-audit row verdicts", hashlib.sha256).digest())
    digest.update(f"polars {pl.__version__}|gx {version('great_expectations')}".encode())
    return digest.hexdigest()


def row_hashes(frame: pl.DataFrame, *, leave_out: tuple[str, ...] = ()) -> pl.DataFrame:
    """source_row and each row's hash."""
    values = frame.select(pl.exclude("source_row", *leave_out))
    return pl.DataFrame({"source_row": frame["source_row"], HASH: values.hash_rows(seed=1)})


@dataclass(frozen=True)
class Known:
    """The verdicts of the site's latest validated load, per suite (row_hash, failed, outside;
    one row per distinct hash), the as-of date they were reached at, and the site's current
    load when they were read (site_load: a load of the site committed since may have changed
    them)."""

    as_of: dt.date
    site_load: int
    suites: dict[str, pl.DataFrame]


def previous_verdicts(con: duckdb.DuckDBPyConnection, site: str, version: str) -> Known | None:
    """The site's verdicts under this rules version, or None (none kept, or other rules)."""
    frame = run_sql(con, "load_write/previous_verdicts", site=site, rules_version=version).pl()
    if frame.is_empty():
        return None
    as_of, load = frame["as_of"][0], frame["site_load_id"][0]
    suites = {
        suite[0]: rows.select(*VERDICT_SCHEMA).cast(VERDICT_SCHEMA)  # type: ignore[arg-type]
        for suite, rows in frame.group_by("suite")
    }
    return Known(as_of, load, suites)


def site_load(con: duckdb.DuckDBPyConnection, site: str) -> int | None:
    """The site's current load (None: the site has none)."""
    row = run_sql(con, "load_write/site_load", site=site).fetchone()
    return None if row is None else row[0]
