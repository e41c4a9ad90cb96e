"""The docs travel with the code: docs/figures.md's catalogue matches the code and has a row for
every key of `itb-audit kpis --json`, and no file points outside the repository for a definition."""

from __future__ import annotations

import re
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from pipelines.config import load_settings
from pipelines.contract import TABLES
from pipelines.figures.kpis import Scope
from pipelines.figures.queries import run_query
from pipelines.report import catalogue

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    con = catalogue.sample_warehouse(tmp_path_factory.mktemp("docs") / "sample.duckdb")
    yield con
    con.close()


def doc_keys() -> set[str]:
    """The JSON keys of the catalogue's rows, as docs/figures.md has them."""
    return set(
        re.findall(
            r"^\| `([^`]+)`", (DOCS / "figures.md").read_text(encoding="utf-8"), re.MULTILINE
        )
    )


def test_figures_catalogue_matches_the_code():
    text = (DOCS / "figures.md").read_text(encoding="utf-8")
    assert catalogue.BEGIN in text and catalogue.END in text
    inside = text.split(catalogue.BEGIN, 1)[1].split(catalogue.END, 1)[0]
    block = catalogue.BEGIN + inside + catalogue.END
    assert block == catalogue.catalogue(), "run: python -m pipelines.report.catalogue"


def test_every_json_key_has_a_row(warehouse):
    rows = doc_keys()
    missing = [
        key for key in catalogue.json_keys(warehouse) if catalogue.catalogue_key(key) not in rows
    ]
    assert missing == []


def test_a_new_json_key_is_caught():
    """The check above would see a figure added to the JSON but not to the page."""
    assert catalogue.catalogue_key("refills.brand_new_figure") not in doc_keys()
    assert catalogue.catalogue_key("trials.by_condition.stroke.rate_ci_low") in doc_keys()


@pytest.mark.parametrize(("pattern", "columns"), catalogue.SQL_COLUMNS, ids=lambda p: str(p))
def test_sql_columns_exist(warehouse, pattern, columns):
    """Each column the catalogue names is a column of its query's result."""
    # the marts' parameters, and the load history's one site (None: every site)
    params = {
        **Scope(catalogue.START, catalogue.END_DATE, None, load_settings()).params(),
        "site": None,
    }
    for query, column in columns:
        assert column in run_query(warehouse, query, **params).column_names, (query, column)


def test_sql_column_patterns_all_match_a_row():
    """A mapping whose figure was renamed would silently map nothing."""
    rows = doc_keys()
    for pattern, _columns in catalogue.SQL_COLUMNS:
        assert any(fnmatchcase(row, pattern) for row in rows), pattern


def test_pages_are_found_through_groups_aliases_and_templates():
    source = """
kpis = data.kpis()
battery = kpis["battery"]
widgets.headlines(kpis, ["refills.rate"])
widgets.chart(c, "trials.by_condition")
battery["by_quarter"]
widgets.headlines(kpis, [f"outcomes.{m}.mean_change" for m in MEASURES])
"""
    names, templates = catalogue.named_in(source)

    def shown(key):
        return catalogue.shown_on(key, names, templates)

    assert shown("refills.rate") and not shown("refills.late")
    assert shown("trials.by_condition.stroke.rate")
    assert shown("battery.by_quarter.2025-Q1") and not shown("battery.overdue")
    assert shown("outcomes.mas.mean_change") and not shown("outcomes.mas.baseline_mean")


def test_no_file_points_outside_the_repository():
    """Definitions live in docs/, not in a folder beside the clone."""
    outside = ("shared" + "/spec", ".." + "/shared")
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    found = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {word}" for word in outside if word in text]
    assert found == []


def test_contract_page_lists_every_table_and_column():
    """docs/contract.md describes pipelines/contract.py: each table (required or not), each
    column (required or not) and each of its codes."""
    text = (DOCS / "contract.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        heading = f"### {table.name} ({'required' if table.required else 'optional'} table)"
        assert heading in text, heading
        section = text.split(heading, 1)[1].split("\n#", 1)[0]
        documented = re.findall(r"^\| `(\w+)` \| ([^|]*) \|(.*)$", section, re.MULTILINE)
        assert [name for name, _kind, _rules in documented] == list(table.column_names), table.name
        for column, (_name, kind, rules) in zip(table.columns, documented, strict=True):
            assert ("**required**" in kind) == column.required, (table.name, column.name)
            missing = [code for code in column.codes if f"`{code}`" not in rules]
            assert missing == [], (table.name, column.name)
