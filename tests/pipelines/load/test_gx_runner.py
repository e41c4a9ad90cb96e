"""GxRunner: GX's outcomes, at GX's cost less its repeated work."""

from __future__ import annotations

import datetime as dt

import polars as pl

from expectations.suites import AS_OF_COLUMN, row_suite
from pipelines.contract import TABLES
from pipelines.load.normalise import normalise, protect
from pipelines.load.read import open_extract, parse_extract
from tests.fixtures.extract_builder import AS_OF, base_extract, write_csv_extract


def _outcomes_frame(tmp_path) -> pl.DataFrame:
    """The outcomes row frame: one row in range, one out of its measure's range, one with no
    measure (left out of every measure's row condition)."""
    tables = base_extract()
    first = tables["outcomes"][0]
    tables["outcomes"] += [{**first, "value": "99"}, {**first, "measure": ""}]
    extract = parse_extract(open_extract(write_csv_extract(tmp_path / "x", tables)))
    spec = TABLES["outcomes"]
    checked = normalise(protect(extract.tables["outcomes"].frame, spec, b"k" * 16), spec)
    return checked.with_columns(pl.lit(dt.date.fromisoformat(AS_OF)).alias(AS_OF_COLUMN))


def test_a_validation_builds_each_expectations_configuration_once(tmp_path, gx_runner, monkeypatch):
    from great_expectations.expectations.expectation import Expectation

    plain = Expectation.__dict__["configuration"]
    built: list[int] = []

    def counted(self):
        built.append(id(self))
        return plain.fget(self)

    counting = property(counted)
    monkeypatch.setattr(Expectation, "configuration", counting)
    frame, suite = _outcomes_frame(tmp_path), row_suite(TABLES["outcomes"])
    outcomes = gx_runner.run(frame, suite, domains=True)
    assert built and len(built) == len(set(built))  # GX alone built each one about 40 times
    assert Expectation.__dict__["configuration"] is counting  # GX's own again after the run
    # and the outcomes are GX's without the memo (_run is the run itself)
    assert outcomes == gx_runner._run(frame, suite, domains=True)
    failed = {(o.reason_code, tuple(o.unexpected_rows)) for o in outcomes if not o.success}
    assert ("out_of_range", (3,)) in failed
    assert any(o.outside_rows == [4] for o in outcomes)  # the row with no measure


def test_a_validation_evaluates_each_row_condition_once(tmp_path, gx_runner, monkeypatch):
    import pandas as pd
    from great_expectations.execution_engine import PandasExecutionEngine

    plain = pd.DataFrame.eval
    evaluated: list[str] = []

    def counted(self, expr, *args, **kwargs):
        evaluated.append(expr)
        return plain(self, expr, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "eval", counted)
    gx_filter = PandasExecutionEngine.__dict__["_apply_row_condition_filter"]
    frame, suite = _outcomes_frame(tmp_path), row_suite(TABLES["outcomes"])
    outcomes = gx_runner.run(frame, suite, domains=True)
    # GX alone filtered by each measure's condition for each of its metrics, and again for the
    # element counts
    assert evaluated and len(evaluated) == len(set(evaluated))
    assert PandasExecutionEngine.__dict__["_apply_row_condition_filter"] is gx_filter
    # and the outcomes are those of GX's own filter (_run is the run itself)
    assert outcomes == gx_runner._run(frame, suite, domains=True)
    assert len(evaluated) > 2 * len(set(evaluated))


def test_only_the_failed_expectations_are_validated_again_for_their_rows(
    tmp_path, gx_runner, monkeypatch
):
    from great_expectations.datasource.fluent.interfaces import Batch

    plain = Batch.validate
    validated: list[tuple[str, int]] = []

    def recorded(self, suite, *args, **kwargs):
        validated.append((suite.name, len(suite.expectations)))
        return plain(self, suite, *args, **kwargs)

    monkeypatch.setattr(Batch, "validate", recorded)
    frame, suite = _outcomes_frame(tmp_path), row_suite(TABLES["outcomes"])
    outcomes = gx_runner.run(frame, suite, domains=True)
    failed = sum(not o.success for o in outcomes)
    assert 0 < failed < len(suite.expectations)
    # the suite's expectations have no ids: the retry once held every one of them
    assert validated == [
        (suite.name, len(suite.expectations)),
        (f"{suite.name}_failures", failed),
    ]
