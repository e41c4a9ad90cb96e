"""Load one site's extract into the warehouse: read, validate, then make it the site's snapshot.

Contract (docs/contract.md, A load): all accepted rows of every table become visible at
once or nothing changes; other sites are untouched; raw and accepted rows are kept as versions
(pipelines.warehouse.write_versions), so every earlier load can be read as it stood;
counts reconcile (read = accepted + quarantined); reloading the same extract gives the same
current data; an untrustworthy extract is refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import PROJECT_ROOT, QUERIES_DIR, Settings, load_settings
from pipelines.contract import TABLE_ORDER, TABLES, Table
from pipelines.load.pseudonym import resolve_key
from pipelines.load.read import LoadRefused, open_extract, parse_extract
from pipelines.load.validate import (
    ExpectationOutcome,
    GxRunner,
    TableValidation,
    Validation,
    validate_extract,
    warning_outcomes,
)
from pipelines.load.verdicts import Known, previous_verdicts, rules_version, site_load
from pipelines.warehouse import (
    Db,
    LakeError,
    commit,
    lake_address,
    reading,
    reading_ahead_of_write,
    run_sql,
    write_versions,
    writing,
)

SITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,63}$")
# Core column names that differ from the extract's: identifiers are stored only in safe form.
CORE_RENAMES = {"nhs_number": "nhs_number_pseudonym", "postcode": "postcode_outward"}
# The code whose change can change which rows are accepted: part of a load's fingerprint.
RULE_SOURCES = (
    PROJECT_ROOT / "pipelines" / "contract.py",
    *(
        PROJECT_ROOT / "pipelines" / "load" / f
        for f in ("read.py", "normalise.py", "validate.py", "verdicts.py")
    ),
    PROJECT_ROOT / "expectations" / "suites.py",
    *sorted((QUERIES_DIR / "checks").glob("*.sql")),
    # the warning suites run the waits mart
    QUERIES_DIR / "marts" / "waits.sql",
    QUERIES_DIR / "macros" / "shared.sql",
)


class SnapshotMoved(Exception):
    """The site's snapshot changed between the fast-path check and the write."""


@dataclass
class TableCounts:
    rows_read: int
    rows_accepted: int
    rows_quarantined: int


@dataclass
class LoadResult:
    load_id: int
    site: str
    as_of: dt.date
    tables: dict[str, TableCounts]
    ignored_columns: dict[str, list[str]]
    timings: dict[str, float] = field(default_factory=dict)
    reused_raw_from: int | None = None
    unchanged_from: int | None = None  # set when the outcome was carried over, not re-validated
    # per table, the rows its row-local rules were run on (the rest kept their verdicts)
    rows_through_gx: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "load_id": self.load_id,
            "site": self.site,
            "as_of": self.as_of.isoformat(),
            "tables": {
                t: {
                    "rows_read": c.rows_read,
                    "rows_accepted": c.rows_accepted,
                    "rows_quarantined": c.rows_quarantined,
                }
                for t, c in self.tables.items()
            },
            "ignored_columns": self.ignored_columns,
            "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "unchanged_from_load": self.unchanged_from,
            "rows_through_gx": self.rows_through_gx,
        }


def _typed(v: TableValidation, spec: Table, site: str) -> pl.DataFrame:
    """The accepted rows of one table, typed as the core table wants them."""
    suffix = {"date": "__date", "number": "__num", "boolean": "__bool"}
    accepted = v.checked.filter(~pl.col("source_row").is_in(list(v.issues)))
    return accepted.select(
        pl.lit(site).alias("site"),
        *(
            pl.col(c.name + suffix.get(c.kind, "")).alias(CORE_RENAMES.get(c.name, c.name))
            for c in spec.columns
        ),
        pl.lit(v.source_file).alias("source_file"),
        pl.col("source_row"),
    )


def _quarantine_rows(v: TableValidation, spec: Table, load_id: int, site: str) -> pl.DataFrame:
    rows = v.protected.filter(pl.col("source_row").is_in(list(v.issues))).select(
        "source_row", *spec.column_names
    )
    records = []
    for r in rows.iter_rows(named=True):
        issues = v.issues[r["source_row"]]
        records.append(
            {
                "load_id": load_id,
                "site": site,
                "table_name": spec.name,
                "source_file": v.source_file,
                "source_row": r["source_row"],
                "row_key": ", ".join(str(r[k]) for k in spec.key),
                "reason_codes": [i.reason_code for i in issues],
                "reasons": [i.message for i in issues],
                "record": json.dumps({c: r[c] for c in spec.column_names}),
            }
        )
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "load_id": pl.Int32,
        "site": pl.String,
        "table_name": pl.String,
        "source_file": pl.String,
        "source_row": pl.Int32,
        "row_key": pl.String,
        "reason_codes": pl.List(pl.String),
        "reasons": pl.List(pl.String),
        "record": pl.String,
    }
    return pl.DataFrame(records, schema=schema)


def _insert(con: duckdb.DuckDBPyConnection, target: str, frame: pl.DataFrame) -> None:
    con.register("incoming", frame.to_arrow())
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    con.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM incoming")
    con.unregister("incoming")


def _write_versions(
    con: duckdb.DuckDBPyConnection, table: str, site: str, load_id: int, frame: pl.DataFrame
) -> None:
    """The frame's rows become the site's current versions of `table` (only new or changed rows
    are added; pipelines.warehouse.write_versions)."""
    con.register("incoming", frame.to_arrow())
    try:
        write_versions(con, table, site, load_id, "incoming")
    finally:
        con.unregister("incoming")


def _repeated_keys(con: duckdb.DuckDBPyConnection, spec: Table, site: str) -> list[tuple]:
    """Keys held by more than one core row of the site: none, unless validation missed one."""
    key = ", ".join(f'"{CORE_RENAMES.get(k, k)}"' for k in spec.key)
    return con.execute(
        f"SELECT {key}, count(*) AS n FROM core.{spec.name} WHERE site = ? "
        "GROUP BY ALL HAVING n > 1 ORDER BY ALL LIMIT 3",
        [site],
    ).fetchall()


def _one_row(cursor: duckdb.DuckDBPyConnection) -> tuple:
    """The row of a statement that always gives one (an aggregate, or the load just written)."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the warehouse gave no row where one is always written")
    return row


class SnapshotWriter:
    """Writes a site's new snapshot into the warehouse, in the transaction of a write
    (pipelines.warehouse.writing), each table as soon as validation has finished it, on a
    thread of its own: DuckDB inserts one table while GX checks the next (on a file; a lake's
    load validates before its write, and gives it every table at once). Everything is that one
    transaction, committed by finish() in the load's name; on any error it is abandoned and the
    warehouse is left as it was."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        site: str,
        extract_sha256: str,
        rules_version: str,
        as_of: dt.date,
    ) -> None:
        self.con, self.site, self.extract_sha256 = con, site, extract_sha256
        self.rules_version, self.as_of = rules_version, as_of
        self.load_id = _one_row(run_sql(con, "load_write/next_load_id"))[0]
        self.counts: dict[str, TableCounts] = {}
        self._thread = ThreadPoolExecutor(1)
        self._writes: list[Future] = []
        self.rows_through_gx: dict[str, int] = {}
        self.suites: list[str] = []  # the suites whose verdicts this load wrote

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, *exc) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)

    def add(self, v: TableValidation) -> None:
        """Queue a validated table's rows; raises at once if an earlier table's write failed."""
        for write in self._writes:
            if write.done() and (error := write.exception()) is not None:
                raise error
        self._writes.append(self._thread.submit(self._write_table, v))

    def _write_table(self, v: TableValidation) -> None:
        con, site, load_id, spec = self.con, self.site, self.load_id, TABLES[v.table]
        typed = _typed(v, spec, site)
        _write_versions(con, f"history.{spec.name}", site, load_id, typed)
        if repeated := _repeated_keys(con, spec, site):
            raise LoadRefused(
                f"{v.source_file}: accepted rows share a key ({', '.join(spec.key)}), e.g. "
                f"{', '.join(map(str, repeated[0][:-1]))}; "
                "validation missed it, nothing was written"
            )
        quarantine = _quarantine_rows(v, spec, load_id, site)
        _insert(con, "audit.quarantine", quarantine)
        raw = v.protected.select(
            pl.lit(site).alias("site"),
            pl.lit(v.source_file).alias("source_file"),
            "source_row",
            *spec.column_names,
        )
        _write_versions(con, f"staging.{spec.name}", site, load_id, raw)
        for suite, gone in v.gone.items():
            if gone is None:
                run_sql(con, "load_write/forget_suite_verdicts", site=site, suite=suite)
            elif gone.len():
                con.register("gone_verdicts", gone.to_frame().to_arrow())
                run_sql(con, "load_write/forget_gone_verdicts", site=site, suite=suite)
                con.unregister("gone_verdicts")
        self.suites += v.gone
        _insert(con, "audit.row_verdicts", v.verdicts.with_columns(pl.lit(site).alias("site")))
        self.rows_through_gx[spec.name] = v.rows_through_gx
        self.counts[spec.name] = TableCounts(v.protected.height, typed.height, quarantine.height)
        run_sql(
            con,
            "load_write/record_table",
            load_id=load_id,
            table_name=spec.name,
            source_file=v.source_file,
            rows_read=v.protected.height,
            rows_accepted=typed.height,
            rows_quarantined=quarantine.height,
        )

    def finish(
        self,
        *,
        as_of: dt.date,
        source_path: Path,
        source_format: str,
        ignored_columns: dict[str, list[str]],
        outcomes: list[ExpectationOutcome],
        started_at: dt.datetime,
        fingerprint: str,
        before_commit: Callable[[], None] | None = None,
        warnings: Callable[[duckdb.DuckDBPyConnection], list[ExpectationOutcome]] | None = None,
    ) -> LoadResult:
        """Wait for the tables' writes, run the warning suites on the rows written (`warnings`),
        record the load and commit it."""
        self._thread.shutdown(wait=True)
        for write in self._writes:
            write.result()  # the first failure, if any, abandons the load
        con, site, load_id = self.con, self.site, self.load_id
        if warnings:
            outcomes = [*outcomes, *warnings(con)]
        run_sql(con, "load_write/forget_verdicts", site=site, suites=self.suites)
        run_sql(
            con,
            "load_write/record_verdicts_reached",
            site=site,
            rules_version=self.rules_version,
            as_of=self.as_of,
        )
        for table in TABLE_ORDER:
            if table not in self.counts:  # not in the extract: the site no longer has such rows
                for versions in ("history", "staging"):
                    write_versions(con, f"{versions}.{table}", site, load_id, None)
                run_sql(
                    con,
                    "load_write/record_table",
                    load_id=load_id,
                    table_name=table,
                    source_file=None,
                    rows_read=0,
                    rows_accepted=0,
                    rows_quarantined=0,
                )
                self.counts[table] = TableCounts(0, 0, 0)
        results = pl.DataFrame(
            [
                {
                    "load_id": load_id,
                    "suite": o.suite,
                    "expectation": o.expectation,
                    "column_name": o.column,
                    "reason_code": o.reason_code,
                    "description": o.description,
                    "element_count": o.element_count,
                    "unexpected_count": o.unexpected_count,
                    "success": o.success,
                }
                for o in outcomes
            ]
        )
        if results.height:
            _insert(con, "audit.expectation_results", results)
        run_sql(
            con,
            "load_write/record_load",
            load_id=load_id,
            site=site,
            started_at=started_at,
            as_of=as_of,
            source_path=str(source_path),
            source_format=source_format,
            extract_sha256=self.extract_sha256,
            raw_load_id=load_id,
            ignored_columns=json.dumps(ignored_columns),
            fingerprint=fingerprint,
        )
        run_sql(con, "load_write/set_site_snapshot", site=site, load_id=load_id, as_of=as_of)
        if before_commit:
            before_commit()
        commit(con, f"load {load_id}", load_id=load_id, site=site)
        return LoadResult(
            load_id,
            site,
            as_of,
            {t: self.counts[t] for t in TABLE_ORDER},
            ignored_columns,
            rows_through_gx=self.rows_through_gx,
        )


def fingerprint_of(
    extract_sha256: str,
    as_of: dt.date,
    key: bytes,
    stale_referral_days: int = Settings.stale_referral_days,
) -> str:
    """Everything that decides a load's outcome: the files' bytes, the as-of date, the
    pseudonymisation key (through a keyed digest, never the key), the validation rules and the
    warning suites' setting."""
    digest = hashlib.sha256(_rule_sources_digest())
    digest.update(f"{extract_sha256}|{as_of.isoformat()}|{stale_referral_days}|".encode())
    digest.update(hmac.new(key, b"itb-audit load fingerprint", hashlib.sha256).digest())
    return digest.hexdigest()


def _rule_sources_digest() -> bytes:
    digest = hashlib.sha256()
    for source in RULE_SOURCES:
        digest.update(source.read_bytes())
    return digest.digest()


def _unchanged_snapshot(db: Db, site: str, fingerprint: str) -> bool:
    if lake_address(db) is None and not Path(db).exists():
        return False
    try:
        with reading(db) as con:
            current = run_sql(
                con, "load_write/current_load_with_fingerprint", site=site, fingerprint=fingerprint
            )
            return current.fetchone() is not None
    except duckdb.Error:  # a warehouse from before fingerprints, or a lake with no loads yet
        return False
    except LakeError:  # no lake yet (the write makes it), or one it cannot open (it says so)
        return False


def repeat_snapshot(
    con: duckdb.DuckDBPyConnection,
    *,
    site: str,
    fingerprint: str,
    source_path: Path,
    started_at: dt.datetime,
    before_commit: Callable[[], None] | None = None,
) -> LoadResult:
    """Record a load of what the site's current snapshot was made from: the core rows stand;
    the load log, counts, quarantine and expectation results are carried over to the new id."""
    row = run_sql(
        con, "load_write/current_load_with_fingerprint", site=site, fingerprint=fingerprint
    ).fetchone()
    if row is None:
        raise SnapshotMoved
    previous = row[0]
    load_id = _one_row(run_sql(con, "load_write/next_load_id"))[0]
    run_sql(
        con,
        "load_write/repeat_load",
        load_id=load_id,
        previous=previous,
        started_at=started_at,
        source_path=str(source_path),
    )
    for records in ("load_tables", "quarantine", "expectation_results"):
        run_sql(con, f"load_write/repeat_{records}", load_id=load_id, previous=previous)
    run_sql(con, "load_write/move_site_snapshot", site=site, load_id=load_id)
    if before_commit:
        before_commit()
    commit(con, f"load {load_id}", load_id=load_id, site=site, unchanged_from_load=previous)
    as_of, raw_load_id, ignored = _one_row(run_sql(con, "load_write/load_outcome", load_id=load_id))
    counts = {
        table: TableCounts(read, accepted, quarantined)
        for table, read, accepted, quarantined in run_sql(
            con, "load_write/load_counts", load_id=load_id
        ).fetchall()
    }
    ordered = {t: counts[t] for t in TABLE_ORDER}
    return LoadResult(
        load_id,
        site,
        as_of,
        ordered,
        json.loads(ignored),
        reused_raw_from=raw_load_id,
        unchanged_from=previous,
    )


def _known(
    con: duckdb.DuckDBPyConnection, site: str, version: str, incremental: bool
) -> Known | None:
    """The site's verdicts that validation may reuse (verdicts.py); none for a full validation."""
    if not incremental:
        return None
    try:
        return previous_verdicts(con, site, version)
    except duckdb.CatalogException:  # a lake no load has written to yet (read before the write)
        return None


@dataclass
class _ValidatedAhead:
    """A lake load's validation, done before it asked for the write lock: its tables, held for
    the write, and the verdicts it reused (None: none)."""

    known: Known | None
    tables: list[TableValidation]
    validation: Validation

    def stands(self, con: duckdb.DuckDBPyConnection, site: str) -> bool:
        """Whether it writes what a validation under the lock would write. A full validation
        replaces the site's verdicts, whatever they are. An incremental one writes a change to
        the verdicts it read (those to forget, those to add): right only if they are still the
        site's, i.e. no load of the site has committed since they were read (a commit moves the
        site's current load). Otherwise validating again under the lock, against the site's
        verdicts as they now are, is what a load after the other one would have done."""
        return self.known is None or site_load(con, site) == self.known.site_load


def load_extract(
    extract_path: str | Path,
    db: Db,
    *,
    site: str = "main",
    as_of: dt.date | None = None,
    settings: Settings | None = None,
    runner: GxRunner | None = None,
    before_commit: Callable[[], None] | None = None,
    incremental: bool = True,
    before_write: Callable[[], None] | None = None,
) -> LoadResult:
    """Load an extract; raises LoadRefused (nothing written) when it cannot be trusted.
    incremental=False sends every row through Great Expectations (verdicts.py).

    On a lake the extract is validated before the write lock is asked for, and the lock is
    held only to write it (warehouse.reading_ahead_of_write; before_write, for tests, is called
    in between); on a file it is validated inside the write, each table written while the next
    is validated. before_commit (for tests) is called just before the commit."""
    if not SITE_NAME.match(site):
        raise LoadRefused(
            f"site name {site!r} is not allowed: use letters, digits, spaces, '.', '_' or '-'"
        )
    settings = settings or load_settings()
    as_of = as_of or dt.date.today()
    started = dt.datetime.now()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    files = open_extract(extract_path)
    timings["read"] = time.perf_counter() - t0  # the files' bytes; parsing is added below
    key = resolve_key(settings.pseudonym_key_file)
    fingerprint = fingerprint_of(files.sha256, as_of, key, settings.stale_referral_days)
    if _unchanged_snapshot(db, site, fingerprint):
        t1 = time.perf_counter()
        try:
            with writing(db) as con:
                result = repeat_snapshot(
                    con,
                    site=site,
                    fingerprint=fingerprint,
                    source_path=Path(extract_path),
                    started_at=started,
                    before_commit=before_commit,
                )
        except SnapshotMoved:
            pass  # another load replaced the snapshot meanwhile: validate after all
        else:
            timings["write"] = time.perf_counter() - t1
            result.timings = timings
            return result
    t1 = time.perf_counter()
    extract = parse_extract(files)
    timings["read"] += time.perf_counter() - t1
    version = rules_version(_rule_sources_digest(), key)
    timings["validate"] = timings["great_expectations"] = 0.0
    validated_at = 0.0

    def validate(known: Known | None, on_table: Callable[[TableValidation], None]) -> Validation:
        nonlocal runner, validated_at
        t = time.perf_counter()
        done = validate_extract(extract, key, as_of, runner, on_table=on_table, known=known)
        runner, validated_at = done.runner, time.perf_counter()
        timings["validate"] += validated_at - t
        timings["great_expectations"] += done.gx_seconds
        return done

    with reading_ahead_of_write(db) as reader:
        validate_first = reader is not None  # a lake: take its write lock only to write
        known = _known(reader, site, version, incremental) if reader is not None else None
    ahead: _ValidatedAhead | None = None
    if validate_first:
        tables: list[TableValidation] = []
        ahead = _ValidatedAhead(known, tables, validate(known, tables.append))
        if before_write:
            before_write()
    with writing(db) as con:
        with SnapshotWriter(
            con, site=site, extract_sha256=files.sha256, rules_version=version, as_of=as_of
        ) as writer:
            if ahead is not None and ahead.stands(con, site):
                validation = ahead.validation
                for table in ahead.tables:
                    writer.add(table)
            else:  # a file's load, or a lake's whose site was loaded meanwhile: under the lock
                validation = validate(_known(con, site, version, incremental), writer.add)
            result = writer.finish(
                as_of=as_of,
                source_path=Path(extract_path),
                source_format=extract.fmt,
                ignored_columns=extract.ignored_columns,
                outcomes=validation.outcomes,
                started_at=started,
                fingerprint=fingerprint,
                before_commit=before_commit,
                warnings=lambda con: warning_outcomes(
                    con, site, as_of, settings, validation.runner
                ),
            )
    # A file's tables are written while validation runs: "write" is what is left after it. A
    # lake's are written after it, the wait for the write lock included.
    timings["write"] = time.perf_counter() - validated_at
    result.timings = timings
    return result
