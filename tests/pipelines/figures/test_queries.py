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
    """...and from every column of the rows, not only those the figures read."""
    with connect_readonly(sample_db) as con:
        figures = compute_kpis(con, D("2016-01-01"), D("2026-11-01"))
        real = Scope.run
        monkeypatch.setattr(
            kpis.Scope,
            "run",
            lambda self, con, mart, ordered=True, columns=None: real(self, con, mart),
        )
        assert compute_kpis(con, D("2016-01-01"), D("2026-11-01")) == figures


def test_figures_fetch_only_the_columns_they_read(sample_db, monkeypatch):
    ran = {}
    real = kpis.run_query

    def recording(con, name, ordered=True, columns=None, **params):
        ran[name] = (ordered, columns)
        return real(con, name, ordered, columns, **params)

    monkeypatch.setattr(kpis, "run_query", recording)
    with connect_readonly(sample_db) as con:
        compute_kpis(con, D("2024-11-02"), D("2026-11-01"))
        assert ran["marts/activity"] == (False, ["figure"])
        # active_pumps once, with the columns of both sections that read it
        assert ran["marts/active_pumps"] == (
            False,
            ["overdue_now", *kpis.SECTIONS["battery"].reads["active_pumps"]],
        )
        scope = Scope(D("2024-11-02"), D("2026-11-01"), None, Settings())
        kpis.monthly_figures(con, scope, "complications")
        assert ran["marts/complication_exposure"] == (
            False,
            ["period_start", "site", "patient_id", "exposure_days"],
        )


def test_a_choice_of_columns_is_unordered(sample_db):
    with connect_readonly(sample_db) as con, pytest.raises(ValueError, match="ordered=False"):
        run_query(
            con,
            "marts/activity",
            True,
            ["figure"],
            **Scope(D("2026-01-01"), D("2026-11-01"), None, Settings()).params(),
        )
