"""Validate an extract with the Great Expectations suites and collect every reason per row.

Tables are checked parents first (contract.TABLE_ORDER) so that a child row can see whether its
parent was accepted: a quarantined parent takes its dependants with it. Cross-table frames are
joined in DuckDB (queries/checks/) and validated by GX like the row frames. Rules comparing a
row with its siblings (pump overlap) run last, among the rows that passed every other rule.

GX runs each suite once with BOOLEAN_ONLY results (cheapest: pass or fail) and again, with
COMPLETE results (counts and the offending source rows), only for the expectations that failed.
With the site's previous verdicts (verdicts.py), run_suite sends only new or changed frame rows
through the row-local expectations and carries every other row's verdict and counts over.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import duckdb
import polars as pl

from pipelines.config import QUERIES_DIR, Settings
from pipelines.contract import TABLE_ORDER, TABLES
from pipelines.load import verdicts
from pipelines.load.normalise import normalise, protect
from pipelines.load.read import Extract

CHECKS_DIR = QUERIES_DIR / "checks"


@dataclass(frozen=True)
class Issue:
    source_row: int
    reason_code: str
    column: str
    message: str


@dataclass
class ExpectationOutcome:
    suite: str
    expectation: str
    column: str
    reason_code: str
    description: str
    element_count: int
    unexpected_count: int
    success: bool
    unexpected_rows: list[int] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    position: int = -1  # the expectation's place in its suite
    # source rows its row condition leaves out (asked for with domains=True)
    outside_rows: list[int] = field(default_factory=list)


@dataclass
class TableValidation:
    table: str
    source_file: str
    protected: pl.DataFrame  # raw text with identifiers made safe (staging, quarantine)
    checked: pl.DataFrame  # normalised and typed (core)
    issues: dict[int, list[Issue]]  # source_row -> every reason, in the order found
    verdicts: pl.DataFrame  # suite and the row-local verdicts to add (verdicts.py)
    # suite -> the hashes whose kept verdicts go (None: every kept verdict of the suite)
    gone: dict[str, pl.Series | None]
    rows_through_gx: int  # rows the row suite's row-local rules were run on


@dataclass
class Validation:
    """What a validation leaves besides its tables (which go to on_table as each is done)."""

    outcomes: list[ExpectationOutcome]
    gx_seconds: float  # time spent in GX, for benchmarks
    runner: GxRunner  # for the warning suites, once the rows are written


class GxRunner:
    """An ephemeral GX context that validates pandas frames (GX cannot validate DuckDB)."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import (
            PandasExecutionEngine,
            pandas_execution_engine,
        )

        # GX fingerprints every batch (an md5 of all rows, twice per validate call) for batch
        # markers nothing here reads; frames above this size are not fingerprinted.
        pandas_execution_engine.HASH_THRESHOLD = 0

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self._gx = gx
        self._engine = PandasExecutionEngine()  # only to turn row conditions into pandas queries
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("extract")
        self._batch_definition = source.add_dataframe_asset(
            "frame"
        ).add_batch_definition_whole_dataframe("whole")
        self.seconds = 0.0  # time spent in GX (validation and the pandas hand-over), for benchmarks

    def run(self, frame: pl.DataFrame, suite, domains: bool = False) -> list[ExpectationOutcome]:
        """Every expectation's outcome, in the suite's order (GX's own order is not the
        suite's); with domains, the rows each row condition leaves out."""
        started = time.perf_counter()
        try:
            with _configurations_built_once(), _row_conditions_once(self._engine) as keeps:
                return self._run(frame, suite, domains, keeps)
        finally:
            self.seconds += time.perf_counter() - started

    def _run(
        self, frame: pl.DataFrame, suite, domains: bool, keeps: Callable | None = None
    ) -> list[ExpectationOutcome]:
        keeps = keeps or (lambda data, condition: _kept(self._engine, data, condition))
        data = frame.to_pandas()
        batch = self._batch_definition.get_batch(batch_parameters={"dataframe": data})
        summary = batch.validate(suite, result_format="BOOLEAN_ONLY")
        _raise_on_errors(summary, suite.name)
        failed = [r for r in summary.results if not r.success]
        # Every expectation demands all rows (no `mostly`): a pass has no unexpected rows.
        counts: dict[str, tuple[int, int]] = {}
        rows: dict[str, list[int]] = {}
        if failed:
            # by what each checks: a suite's expectations have no ids (none is saved), so
            # matching ids retried every expectation of a suite with any failure
            identities = {_identity(r.expectation_config) for r in failed}
            retry = self._gx.ExpectationSuite(
                name=f"{suite.name}_failures",
                expectations=[
                    e.copy(update={"id": None})
                    for e in suite.expectations
                    if _identity(e.configuration) in identities
                ],
            )
            complete = batch.validate(
                retry,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ["source_row"],
                    "return_unexpected_index_query": False,
                },
            )
            _raise_on_errors(complete, suite.name)
            for r in complete.results:
                identity = _identity(r.expectation_config)
                counts[identity] = (
                    int(r.result.get("element_count") or 0),
                    int(r.result.get("unexpected_count") or 0),
                )
                rows[identity] = sorted(
                    {
                        int(item["source_row"])
                        for item in r.result.get("unexpected_index_list") or []
                    }
                )
        positions = {_identity(e.configuration): i for i, e in enumerate(suite.expectations)}
        outcomes = []
        for r in summary.results:
            meta = r.expectation_config.meta
            identity = _identity(r.expectation_config)
            needed = domains or identity not in counts
            kept = self._in_domain(data, r.expectation_config, keeps) if needed else None
            if identity in counts:
                element_count, unexpected_count = counts[identity]
            else:
                element_count = len(data) if kept is None else int(kept.sum())
                unexpected_count = 0
            outside = (
                data["source_row"][~kept].sort_values().tolist()
                if domains and kept is not None
                else []
            )
            outcomes.append(
                ExpectationOutcome(
                    suite=suite.name,
                    expectation=r.expectation_config.type,
                    column=meta["column"],
                    reason_code=meta["reason_code"],
                    description=meta["message"],
                    element_count=element_count,
                    unexpected_count=unexpected_count,
                    success=bool(r.success),
                    unexpected_rows=rows.get(identity, []),
                    meta=meta,
                    position=positions[identity],
                    outside_rows=outside,
                )
            )
        return sorted(outcomes, key=lambda o: o.position)

    @staticmethod
    def _in_domain(data, config, keeps: Callable):
        """The rows GX's element count counts: those its row condition keeps, filtered as GX
        filters them (by `keeps`: _kept; None: every row)."""
        from great_expectations.expectations.row_conditions import (
            Condition,
            deserialize_row_condition,
        )

        condition = config.kwargs.get("row_condition")
        if condition is None:
            return None
        parsed = deserialize_row_condition(condition)
        if not isinstance(parsed, Condition):  # GX's filter refuses a condition string too
            raise ValueError(f"row condition {parsed!r} is not a GX Condition")
        return keeps(data, parsed)


def _kept(engine, data, condition):
    """The rows of a pandas frame a GX row condition keeps (a boolean Series), as GX's
    DataFrame.query keeps them; but pandas makes a Series of every column of the frame for each
    eval: it sees only the columns the clause can name."""
    clause = engine.condition_to_filter_clause(condition)
    return data[[c for c in data.columns if c in clause]].eval(clause)


@contextmanager
def _row_conditions_once(engine) -> Iterator[Callable]:
    """GX filters the frame by an expectation's row condition with DataFrame.query for each of
    the expectation's metrics (parsing it each time, over a Series of every column): a quarter
    of a load's time at a few hundred rows. For the length of one validation, each condition is
    evaluated once per frame (_kept) and GX's filter keeps the same rows (the same frame) by it.
    Yields that evaluation, for the element counts."""
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.row_conditions import (
        Condition,
        PassThroughCondition,
        deserialize_row_condition,
    )

    plain = PandasExecutionEngine.__dict__["_apply_row_condition_filter"]
    evaluated: dict[tuple[int, str], tuple[object, object]] = {}  # (frame id, clause) -> mask

    def keeps(data, condition):
        key = (id(data), engine.condition_to_filter_clause(condition))
        if key not in evaluated:  # the frame is held, so its id is not reused
            evaluated[key] = (data, _kept(engine, data, condition))
        return evaluated[key][1]

    def apply(self, data, row_condition, domain_kwargs):
        if isinstance(row_condition, dict):
            row_condition = deserialize_row_condition(row_condition)
        if isinstance(row_condition, Condition) and not isinstance(
            row_condition, PassThroughCondition
        ):
            return data.loc[keeps(data, row_condition)]
        return plain(self, data, row_condition, domain_kwargs)

    setattr(PandasExecutionEngine, "_apply_row_condition_filter", apply)  # noqa: B010
    try:
        yield keeps
    finally:
        setattr(PandasExecutionEngine, "_apply_row_condition_filter", plain)  # noqa: B010


@contextmanager
def _configurations_built_once() -> Iterator[None]:
    """GX rebuilds an expectation's configuration (a pydantic dict()) each time it reads one of
    its keywords: about 30,000 times for 300 expectation evaluations, a third of its time. For
    the length of one validation each expectation's is built once. (GX validates only on the
    thread that runs the load's validation.)"""
    from great_expectations.expectations.expectation import Expectation

    plain = Expectation.__dict__["configuration"]  # the property itself
    built: dict[int, tuple[object, object]] = {}  # id -> (expectation, its configuration)

    def configuration(self):
        if id(self) not in built:  # the expectation is held, so its id is not reused
            built[id(self)] = (self, plain.fget(self))
        return built[id(self)][1]

    setattr(Expectation, "configuration", property(configuration))  # noqa: B010
    try:
        yield
    finally:
        setattr(Expectation, "configuration", plain)  # noqa: B010


def _identity(config) -> str:
    # The retry copies get new ids, so match an expectation by what it checks (a result's
    # configuration also names its batch, which the suite's does not).
    kwargs = sorted((k, v) for k, v in config.kwargs.items() if k != "batch_id")
    return f"{config.type}|{kwargs}|{config.meta}"


def _raise_on_errors(result, suite: str) -> None:
    for r in result.results:
        if r.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {r.expectation_config.type} in suite {suite} could not run: "
                f"{r.exception_info.get('exception_message')}"
            )


# GX map expectations: each judges a row by that row's values alone, so a row's verdict can be
# carried over from a load where the row's values were the same (verdicts.py). Every other
# expectation (duplicate keys, ...) is judged over the whole frame every time.
ROW_LOCAL = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
)
UNIQUE = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"})


def _columns(expectation) -> list[str]:
    kwargs = expectation.configuration.kwargs
    named = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    return [c for c in named if c] + list(kwargs.get("column_list") or [])


@dataclass
class SuiteRun:
    outcomes: list[ExpectationOutcome]
    # for the next load (verdicts.py): the verdicts of the rows judged here, and the hashes of
    # the kept verdicts that no row reused (None: none was kept, all are replaced)
    verdicts: pl.DataFrame
    gone: pl.Series | None
    rows_through_gx: int  # frame rows the row-local rules were run on


def run_suite(
    runner: GxRunner,
    frame: pl.DataFrame,
    suite,
    known: pl.DataFrame | None,
    *,
    as_of_column: str | None = None,
) -> SuiteRun:
    """The suite's outcomes over the frame, as if GX had judged every row. With `known` (the
    previous load's verdicts for this suite), a row whose hash is known keeps its row-local
    verdict unless it failed a rule reading `as_of_column` (the as-of date: such a row is
    always judged again); rules over the whole frame are judged over the whole frame."""
    from great_expectations import ExpectationSuite

    def subset(positions: list[int]):
        exps = [suite.expectations[i].copy(update={"id": None}) for i in positions]
        return ExpectationSuite(name=suite.name, expectations=exps)

    leave_out = (as_of_column,) if as_of_column else ()
    hashes = verdicts.row_hashes(frame, leave_out=leave_out)
    local = [i for i, e in enumerate(suite.expectations) if e.expectation_type in ROW_LOCAL]
    local_set = set(local)
    as_of_rules = [i for i in local if as_of_column in _columns(suite.expectations[i])]
    if known is None:
        outcomes = runner.run(frame, suite, domains=True)
        return SuiteRun(outcomes, _verdicts(hashes, outcomes, local_set), None, frame.height)
    marked = known.with_columns(pl.lit(True).alias("known"))
    rows = hashes.join(marked, on=verdicts.HASH, how="left")
    again = pl.col("failed").list.eval(pl.element().is_in(as_of_rules)).list.any()
    reused = rows.filter(pl.col("known") & ~again.fill_null(False))
    changed = frame.filter(~pl.col("source_row").is_in(reused["source_row"]))
    fresh = [
        replace(o, position=local[o.position])
        for o in (runner.run(changed, subset(local), domains=True) if changed.height else [])
    ]
    by_position = {o.position: o for o in fresh}
    whole = [i for i in range(len(suite.expectations)) if i not in local_set]
    unique = [
        i
        for i in whole
        if suite.expectations[i].expectation_type in UNIQUE
        and not suite.expectations[i].configuration.kwargs.get("row_condition")
    ]
    if unique:
        # Only rows whose values another row shares can break a uniqueness rule: GX judges
        # those (each with every row it shares them with), and no other row can fail.
        shared = pl.any_horizontal(
            pl.struct(_columns(suite.expectations[i])).is_duplicated() for i in unique
        )
        candidates = frame.filter(shared)
        if candidates.height:
            for o in runner.run(candidates, subset(unique)):
                by_position[unique[o.position]] = o
    if others := [i for i in whole if i not in unique]:
        for o in runner.run(frame, subset(others)):
            by_position[others[o.position]] = o
    failed = reused.select("source_row", pl.col("failed").alias("position")).explode("position")
    cached_rows = {
        int(position): source_rows
        for position, source_rows in failed.drop_nulls()
        .group_by("position")
        .agg(pl.col("source_row"))
        .iter_rows()
    }
    left_out = dict(
        reused.select(pl.col("outside").alias("position"))
        .explode("position")
        .drop_nulls()
        .group_by("position")
        .len()
        .iter_rows()
    )
    outcomes = []
    for i, e in enumerate(suite.expectations):
        run = by_position.get(i)
        meta = e.meta or {}
        if i in local_set:
            rows_i = (run.unexpected_rows if run else []) + cached_rows.get(i, [])
            element = (run.element_count if run else 0) + reused.height - left_out.get(i, 0)
            unexpected = (run.unexpected_count if run else 0) + len(cached_rows.get(i, []))
        else:
            rows_i = run.unexpected_rows if run else []
            element = frame.height if i in unique else (run.element_count if run else 0)
            unexpected = run.unexpected_count if run else 0
        outcomes.append(
            ExpectationOutcome(
                suite=suite.name,
                expectation=e.expectation_type,
                column=meta["column"],
                reason_code=meta["reason_code"],
                description=meta["message"],
                element_count=element,
                unexpected_count=unexpected,
                success=unexpected == 0,
                unexpected_rows=sorted(rows_i),
                meta=meta,
                position=i,
            )
        )
    new = _verdicts(
        hashes.filter(pl.col("source_row").is_in(changed["source_row"])), fresh, local_set
    )
    gone = known.filter(~pl.col(verdicts.HASH).is_in(reused[verdicts.HASH]))[verdicts.HASH]
    return SuiteRun(outcomes, new, gone, changed.height)


def _verdicts(
    hashes: pl.DataFrame, outcomes: list[ExpectationOutcome], local: set[int]
) -> pl.DataFrame:
    """Each row's row-local verdict: the positions of the local rules it failed and of those
    whose row condition left it out (one row per distinct hash)."""
    schema = {"source_row": pl.Int64, "position": pl.Int32}
    lists = []
    for kind in ("failed", "outside"):
        # one frame of every (row, position) mark: a frame per outcome costs more than its rows
        marks = [
            (row, o.position)
            for o in outcomes
            if o.position in local
            for row in (o.unexpected_rows if kind == "failed" else o.outside_rows)
        ]
        positions = (
            pl.DataFrame(marks, schema=schema, orient="row")
            .group_by("source_row")
            .agg(pl.col("position").sort())
        )
        lists.append(positions.rename({"position": kind}))
    rows = hashes.with_columns(pl.col("source_row").cast(pl.Int64))
    for found in lists:
        rows = rows.join(found, on="source_row", how="left")
    empty = pl.lit([], pl.List(pl.Int32))
    return rows.select(
        verdicts.HASH,
        pl.col("failed").fill_null(empty),
        pl.col("outside").fill_null(empty),
    ).unique(verdicts.HASH)


# The view each table's cross-table frame is read from (queries/checks/<view>.sql); a table not
# listed has only the patient rules. Each view is created once the lookup it joins exists.
CROSS_VIEWS = {
    "appointments": "rows_with_referral",
    "refills": "rows_with_implant",
    "complications": "rows_with_implant",
}
# Views created after a table's status is known: its lookup, then the views that join it.
AFTER_TABLE = {
    "patients": ("lookup_patients", "rows_with_patient"),
    "referrals": ("lookup_referrals", "rows_with_referral"),
    "implants": ("lookup_implants", "rows_with_implant"),
}


def _suite_frame(relation: duckdb.DuckDBPyRelation, suite) -> pl.DataFrame:
    """A cross-table frame as the suite reads it: source_row and the columns its expectations
    name (none has a row condition). A row's verdict depends on nothing else, and GX's hand-over
    to pandas costs by the column; the whole frame when a row condition may name another."""
    if any(e.configuration.kwargs.get("row_condition") for e in suite.expectations):
        return relation.pl()
    named = dict.fromkeys(["source_row", *(c for e in suite.expectations for c in _columns(e))])
    return relation.project(", ".join(f'"{c}"' for c in named)).pl()


def _cross_sql(table: str) -> str:
    path = CHECKS_DIR / f"cross_{table}.sql"
    return (
        path.read_text()
        if path.exists()
        else f"select * from {CROSS_VIEWS.get(table, 'rows_with_patient')}"
    )


def _run_sql_file(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute((CHECKS_DIR / name).read_text())


def validate_extract(
    extract: Extract,
    key: bytes,
    as_of: dt.date,
    runner: GxRunner | None,
    on_table: Callable[[TableValidation], None],
    known: verdicts.Known | None = None,
) -> Validation:
    """Validate every table of the extract; on_table is given each table as soon as it is done.
    With `known` (the site's previous verdicts under the same rules), only new or changed rows
    go through the row-local rules (run_suite)."""
    present = [t for t in TABLE_ORDER if t in extract.tables]
    with ThreadPoolExecutor(1) as pool:
        # Importing GX takes longer than making every table safe and typed: do both at once.
        starting = None if runner else pool.submit(GxRunner)
        prepared = {}
        for table in present:
            protected = protect(extract.tables[table].frame, TABLES[table], key)
            prepared[table] = protected, normalise(protected, TABLES[table])
        if runner is None:
            assert starting is not None  # submitted above for want of a runner
            runner = starting.result()
    from expectations.suites import AS_OF_COLUMN, cross_suite, row_suite, sibling_suite

    def previous(suite: str, reads_as_of: bool = False) -> pl.DataFrame | None:
        # A row that passed the as-of rules passes them at any later as-of date, not earlier.
        if known is None or (reads_as_of and as_of < known.as_of):
            return None
        return known.suites.get(suite)

    gx_before = runner.seconds
    con = duckdb.connect()
    outcomes: list[ExpectationOutcome] = []
    for table in present:
        read, spec = extract.tables[table], TABLES[table]
        protected, checked = prepared[table]
        suite = row_suite(spec)
        runs = {
            suite.name: run_suite(
                runner,
                checked.with_columns(pl.lit(as_of).alias(AS_OF_COLUMN)),
                suite,
                previous(suite.name, reads_as_of=True),
                as_of_column=AS_OF_COLUMN,
            )
        }
        found = list(runs[suite.name].outcomes)
        # The views read checked_rows when queried: it is always the table being checked.
        con.register("checked_rows", checked.to_arrow())
        if spec.event_date:
            cross = cross_suite(spec)
            frame = _suite_frame(con.sql(_cross_sql(table)), cross)
            runs[cross.name] = run_suite(runner, frame, cross, previous(cross.name))
            found += runs[cross.name].outcomes
        if (siblings := sibling_suite(spec)) is not None:
            # A row quarantined for its own reasons is not compared with its siblings.
            failed = list({row for o in found for row in o.unexpected_rows})
            passed = ~pl.col("source_row").is_in(failed)
            judged = checked.with_columns(passed.alias("passed_other_rules"))
            con.register("checked_rows", judged.to_arrow())
            sql = (CHECKS_DIR / f"siblings_{table}.sql").read_text()
            frame = _suite_frame(con.sql(sql), siblings)
            runs[siblings.name] = run_suite(runner, frame, siblings, previous(siblings.name))
            found += runs[siblings.name].outcomes
        outcomes += found
        issues = _issues(found, protected, as_of)
        added = pl.concat(
            [run.verdicts.with_columns(pl.lit(name).alias("suite")) for name, run in runs.items()]
        )
        on_table(
            TableValidation(
                table,
                read.source_file,
                protected,
                checked,
                issues,
                added,
                {name: run.gone for name, run in runs.items()},
                runs[suite.name].rows_through_gx,
            )
        )
        status = checked.with_columns(pl.col("source_row").is_in(list(issues)).alias("quarantined"))
        con.register(f"status_{table}", status.to_arrow())
        for view in AFTER_TABLE.get(table, ()):
            _run_sql_file(con, f"{view}.sql")
    con.close()
    return Validation(outcomes, runner.seconds - gx_before, runner)


def warning_outcomes(
    con: duckdb.DuckDBPyConnection, site: str, as_of: dt.date, settings: Settings, runner: GxRunner
) -> list[ExpectationOutcome]:
    """The warning suites over the site's rows as written (in the load's transaction, on `con`):
    the referrals open at as_of, from the waits mart itself, so that "open" is the figures'
    own definition. Their outcomes are recorded; no row is quarantined."""
    from expectations.suites import warning_suites
    from pipelines.figures.kpis import Scope
    from pipelines.figures.queries import run_on

    scope = Scope(as_of, as_of, site, settings)
    waits = pl.from_arrow(run_on(con, "marts/waits", **scope.params()))
    assert isinstance(waits, pl.DataFrame)  # an Arrow table converts to a frame
    rows = con.execute(
        "select referral_id, source_row from core.referrals where site = ?", [site]
    ).pl()
    open_now = (
        waits.filter(pl.col("is_open"))
        .select("referral_id", "days_waiting")
        .join(rows, on="referral_id", how="left")
    )
    return [
        o
        for suite in warning_suites(settings.stale_referral_days)
        for o in runner.run(open_now, suite)
    ]


def _issues(
    found: list[ExpectationOutcome], protected: pl.DataFrame, as_of: dt.date
) -> dict[int, list[Issue]]:
    """Every reason per source row, one per (reason, column), with the row's raw values quoted."""
    wanted = sorted({row for o in found for row in o.unexpected_rows})
    if not wanted:
        return {}
    raw = {
        r["source_row"]: r
        for r in protected.filter(pl.col("source_row").is_in(wanted)).iter_rows(named=True)
    }
    issues: dict[int, list[Issue]] = {}
    for o in found:
        for row in o.unexpected_rows:
            seen = issues.setdefault(row, [])
            if any(i.reason_code == o.reason_code and i.column == o.column for i in seen):
                continue
            values = raw[row]
            value = ", ".join(str(values.get(c)) for c in o.column.split(", "))
            other = values.get(o.meta.get("other", ""), "")
            message = o.meta["message"].format(value=value, other=other, as_of=as_of.isoformat())
            seen.append(Issue(row, o.reason_code, o.column, message))
    return issues
