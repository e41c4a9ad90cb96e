"""A mart run for its figures leaves out its closing sort: the same rows, and the same figures."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.config import QUERIES_DIR, Settings
from pipelines.figures import kpis
from pipelines.figures.kpis import Scope, compute_kpis, whole_months
from pipelines.figures.queries import run_query
from pipelines.warehouse import connect_readonly, sql_text, unordered_sql_text

MARTS = sorted(f"marts/{path.stem}" for path in (QUERIES_DIR / "marts").glob("*.sql"))
D = dt.date.fromisoformat


@pytest.mark.parametrize("mart", MARTS)
def test_unordered_is_the_mart_without_its_last_line(mart):
    sql = sql_text(mart).rstrip("\n")
    *body, last = sql.split("\n")
    assert last.startswith("order by ")
    assert unordered_sql_text(mart) == "\n".join(body) + "\n"


def test_a_query_without_a_closing_order_by_is_refused():
    with pytest.raises(ValueError, match="order by"):
        unordered_sql_text("load_write/next_load_id")


def rows(con, mart: str, ordered: bool, params: dict) -> pl.DataFrame:
    frame = pl.from_arrow(run_query(con, mart, ordered, **params))
    assert isinstance(frame, pl.DataFrame)
    return frame.sort(frame.columns, nulls_last=True)


def test_every_mart_unordered_has_the_same_rows(sample_db):
    scope = Scope(D("2024-11-02"), D("2026-11-01"), None, Settings())
    months = whole_months(scope.start, scope.end)
    with connect_readonly(sample_db) as con:
        for mart in MARTS:
            for params in (scope.params(), scope.params(months)):
                ordered = rows(con, mart, True, params)
                assert ordered.height > 0, mart
                assert rows(con, mart, False, params).equals(ordered), mart


def test_the_figures_from_unordered_rows_are_the_figures_from_ordered_rows(sample_db, monkeypatch):
    with connect_readonly(sample_db) as con:
        figures = compute_kpis(con, D("2016-01-01"), D("2026-11-01"))
        real = Scope.run
        monkeypatch.setattr(
            kpis.Scope, "run", lambda self, con, mart, ordered=True: real(self, con, mart)
        )
        assert compute_kpis(con, D("2016-01-01"), D("2026-11-01")) == figures
