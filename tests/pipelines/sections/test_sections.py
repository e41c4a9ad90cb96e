"""Each chart and table title is written once, in pipelines/sections/, and both renderers (the
dashboard's pages and the audit pack) take it from there."""

from __future__ import annotations

import ast
import inspect
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from pipelines.sections.audit import ACTIVITY, DATA_QUALITY, OUTCOMES, SECTIONS
from pipelines.sections.model import TableRecipe
from pipelines.show import charts
from pipelines.show.definitions import NOTES

ROOT = Path(__file__).resolve().parents[3]
# Where titles may be written: the model, and the two sides that render it.
SCANNED = ("dashboard", "pipelines/report", "pipelines/sections")
RENDERERS = ("dashboard", "pipelines/report")
# The same words written elsewhere for another purpose: (words, file, why).
NOT_TITLES = {("Patients with a complication", "pipelines/report/formatting.py")}  # a header


def titles() -> list[str]:
    return [
        recipe.title
        for section in SECTIONS.values()
        for recipe in [*section.charts.values(), *section.tables.values()]
    ]


def literals(root: Path, folders: tuple[str, ...]) -> Counter[str]:
    """Every string literal of the folders' Python files (an f-string's literal parts apart),
    with how often it is written, but for the words of NOT_TITLES in their file."""
    found: Counter[str] = Counter()
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and (node.value.strip(), where) not in NOT_TITLES
                ):
                    found[node.value.strip()] += 1
    return found


def written_twice(root: Path) -> list[str]:
    """The model's titles that a renderer writes again (or the model writes twice)."""
    found = literals(root, SCANNED)
    return sorted(title for title in set(titles()) if found[title] != 1)


def titled(builder: str) -> set[str]:
    """The parameters of a builder of pipelines.show.charts (a sparkline has no title)."""
    return set(inspect.signature(getattr(charts, builder)).parameters)


def chart_calls(root: Path) -> list[str]:
    """Charts a renderer draws with a titled builder of pipelines.show.charts directly, not
    through a recipe (where its title would be written)."""
    calls = []
    for folder in RENDERERS:
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "charts"
                    and "title" in titled(node.func.attr)
                ):
                    calls.append(f"{path.relative_to(root)}:{node.lineno} charts.{node.func.attr}")
    return calls


def test_no_two_recipes_share_a_title():
    counts = Counter(titles())
    assert [title for title, n in counts.items() if n > 1] == []


def test_every_chart_and_table_title_is_written_once():
    assert written_twice(ROOT) == []


def test_the_renderers_draw_every_chart_from_a_recipe():
    assert chart_calls(ROOT) == []


def test_the_title_check_sees_a_title_written_again(tmp_path, monkeypatch):
    # The checks can fail: a page that writes a recipe's title, or draws a chart by hand.
    for folder in SCANNED:
        (tmp_path / folder).mkdir(parents=True)
    title = ACTIVITY.charts["dna"].title
    (tmp_path / "pipelines/sections/audit.py").write_text(f"TITLE = {title!r}\n")
    (tmp_path / "dashboard/page.py").write_text(
        f"fig = charts.bars([], {{}}, title={title!r}, x_title='', y_title='')\n"
    )
    assert title in written_twice(tmp_path)
    assert chart_calls(tmp_path) == ["dashboard/page.py:1 charts.bars"]


def test_every_recipe_note_is_a_note():
    keys = {
        recipe.note
        for section in SECTIONS.values()
        for recipe in [*section.charts.values(), *section.tables.values()]
        if recipe.note
    }
    assert keys - set(NOTES) == set()


def test_a_table_recipe_fills_its_title_and_picks_its_columns():
    recipe = OUTCOMES.tables["changes"]
    assert recipe.heading(cohort="Cohort") == "Cohort: mean change with its 95% t interval"
    frame = pd.DataFrame({c: [1] for c in ("extra", *recipe.columns)})
    assert list(recipe.rows(frame).columns) == list(recipe.columns)
    assert TableRecipe("Load history").download_name == "load history"
    assert recipe.download_name == "outcome changes"


def test_quarantine_reasons_are_counted_in_words_on_the_page_and_in_the_pack():
    # one recipe for both: a row with two reasons counts under each, its codes as words
    rows = pd.DataFrame({"reason_codes": ["bad_nhs_number, bad_date", "bad_date"]})
    fig = DATA_QUALITY.charts["reasons"].figure(rows)
    bars = fig.data[0]
    assert dict(zip(bars.y, bars.x, strict=True)) == {"Bad date": 2, "Invalid NHS number": 1}
    assert fig.layout.title.text == DATA_QUALITY.charts["reasons"].title


@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_chart_recipe_names_its_note(section):
    for recipe in SECTIONS[section].charts.values():
        assert recipe.note in NOTES, recipe.title
