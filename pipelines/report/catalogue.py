"""The catalogue in docs/figures.md: every figure of `itb-audit kpis --json` (and of the Data
quality page), from its JSON key to its label on screen, the SQL behind it, the function that
computes it, the dashboard pages and pack sections that show it and the test that pins it.

`python -m pipelines.report.catalogue` rewrites the catalogue between the markers of
docs/figures.md; tests/test_docs.py fails when the page and the code differ. Everything is read
from the code, except SQL_COLUMNS (which columns of which query a figure counts: no code says
it), whose columns the test checks exist. A new figure needs only a regenerate; until it is given
SQL columns its row names its section's marts.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import re
import string
from collections.abc import Iterator
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import duckdb

from pipelines.access.roles import Role
from pipelines.contract import CONDITIONS, MEASURES
from pipelines.figures import kpis
from pipelines.figures.kpis import SECTIONS, compute_kpis, flatten
from pipelines.report.content import Request, build
from pipelines.report.formatting import label_of
from pipelines.sections import audit
from pipelines.sections.model import Section
from pipelines.show.definitions import FIGURES
from pipelines.warehouse import ensure_schema

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "figures.md"
BEGIN = (
    "<!-- catalogue: written by `python -m pipelines.report.catalogue`; edit the code, not this -->"
)
END = "<!-- end of catalogue -->"
START, END_DATE = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
CI = ("_ci_low", "_ci_high")
# A group's members are written as one row: the part after the group's name is a placeholder.
GROUPS = {
    "by_condition": "<condition>",
    "by_category": "<category>",
    "by_quarter": "<quarter>",
    "standards": "<standard>",
}

# Which columns of which query (queries/<name>.sql) a figure counts, by its catalogue key
# (fnmatch pattern; the first match wins).
SQL_COLUMNS: list[tuple[str, list[tuple[str, str]]]] = [
    ("waits.seen", [("marts/waits", "seen")]),
    ("waits.*_wait_days", [("marts/waits", "wait_days")]),
    ("waits.within_target", [("marts/waits", "within_target")]),
    ("waits.rate_within_target", [("marts/waits", "within_target"), ("marts/waits", "seen")]),
    ("waits.open", [("marts/waits", "is_open")]),
    ("waits.open_over_target", [("marts/waits", "over_target")]),
    ("trials.patients", [("marts/trials", "patient_id")]),
    (
        "trials.by_condition.*",
        [("marts/trials", "category"), ("marts/trials", "primary_condition")],
    ),
    ("trials.*", [("marts/trials", "category")]),
    ("complications.implanted_patients", [("marts/complication_exposure", "patient_id")]),
    ("complications.pump_years", [("marts/complication_exposure", "exposure_days")]),
    ("complications.events_outside_exposure", [("marts/complication_events", "counted")]),
    ("complications.weight_gain_standard", []),  # a setting, shown beside the figure
    (
        "complications.all.*",
        [
            ("marts/complication_events", "counted"),
            ("marts/complication_exposure", "exposure_days"),
        ],
    ),
    (
        "complications.*",
        [
            ("marts/complication_events", "counted"),
            ("marts/complication_events", "category"),
            ("marts/complication_exposure", "exposure_days"),
        ],
    ),
    ("refills.median_days_late", [("marts/refills", "days_late")]),
    ("refills.booked_after_alarm", [("marts/refills", "booked_after_alarm")]),
    ("refills.residual_discrepancies", [("marts/refills", "residual_discrepancy")]),
    ("refills.overdue_now", [("marts/active_pumps", "overdue_now")]),
    ("refills.*", [("marts/refills", "adherence")]),
    ("battery.*_pumps", [("marts/active_pumps", "has_battery")]),
    ("battery.pumps_without_battery", [("marts/active_pumps", "has_battery")]),
    ("battery.overdue", [("marts/active_pumps", "eri_overdue")]),
    ("battery.due_within_182_days", [("marts/active_pumps", "eri_within_182_days")]),
    ("battery.due_within_365_days", [("marts/active_pumps", "eri_within_365_days")]),
    ("battery.by_quarter.*", [("marts/active_pumps", "eri_quarter")]),
    ("activity.*", [("marts/activity", "figure")]),
    # outcomes and outcomes_12m: one mart, two cohorts
    ("outcomes*.*.patients_due", [("marts/outcomes", "measure")]),
    ("outcomes*.*.patients_with_baseline", [("marts/outcomes", "baseline_value")]),
    ("outcomes*.*.patients_with_followup", [("marts/outcomes", "followup_value")]),
    ("outcomes*.*.patients_paired", [("marts/outcomes", "paired")]),
    ("outcomes*.*.baseline_mean", [("marts/outcomes", "baseline_value")]),
    ("outcomes*.*.followup_mean", [("marts/outcomes", "followup_value")]),
    ("outcomes*.*.mean_change", [("marts/outcomes", "change")]),
    ("standards.*", []),  # a judgement of another figure (its row names the SQL)
    ("quality.sites_loaded", [("load_history/loads", "is_current")]),
    (
        "quality.rows_*",
        [("load_history/loads", "rows_accepted"), ("load_history/loads", "rows_quarantined")],
    ),
]


@dataclasses.dataclass
class Row:
    key: str
    keys: list[str]  # the JSON's keys this row stands for (a group's members), without bounds
    interval: bool = False


def catalogue_key(key: str) -> str:
    """A JSON key as its catalogue row: a group member's name, a measure or an interval bound
    becomes a placeholder (`trials.by_condition.stroke.rate_ci_low` ->
    `trials.by_condition.<condition>.rate`); a figure with its own definition keeps its key."""
    key = base_key(key)
    if key in FIGURES:
        return key
    parts = key.split(".")
    return ".".join(
        GROUPS[parts[i - 1]]
        if i and parts[i - 1] in GROUPS
        else "<measure>"
        if part in MEASURES
        else part
        for i, part in enumerate(parts)
    )


def base_key(key: str) -> str:
    """The figure an interval bound belongs to (`refills.rate_ci_low` -> `refills.rate`)."""
    for suffix in CI:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def sample_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """An empty warehouse but for one trialled patient per condition, so that every group of the
    JSON has all its members (trials.by_condition lists only conditions with a patient)."""
    con = duckdb.connect(str(path))
    ensure_schema(con)
    for i, condition in enumerate(CONDITIONS):
        con.execute(
            "insert into history.patients (site, patient_id, date_of_birth, sex, "
            "primary_condition, source_file, source_row, valid_from_load) values "
            "('main', ?, DATE '1970-01-01', 'female', ?, 'patients.csv', ?, 1)",
            [f"P{i}", condition, i + 2],
        )
        con.execute(
            "insert into history.trials (site, trial_id, patient_id, trial_date, outcome, "
            "source_file, source_row, valid_from_load) "
            "values ('main', ?, ?, ?, 'positive', 'trials.csv', ?, 1)",
            [f"T{i}", f"P{i}", START, i + 2],
        )
    return con


def json_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every key of `itb-audit kpis --json`, dotted."""
    return list(flatten(compute_kpis(con, START, END_DATE)))


def rows(keys: list[str]) -> list[Row]:
    out: dict[str, Row] = {}
    for key in keys:
        row = out.setdefault(catalogue_key(key), Row(catalogue_key(key), []))
        if key != base_key(key):
            row.interval = True
        elif key not in row.keys:
            row.keys.append(key)
    for key in FIGURES:  # figures on screen that are not in the JSON (Data quality's)
        out.setdefault(key, Row(key, [key]))
    return list(out.values())


# --- where a figure is computed -------------------------------------------------------------


def sql_columns(key: str) -> list[tuple[str, str]] | None:
    return next((columns for pattern, columns in SQL_COLUMNS if fnmatchcase(key, pattern)), None)


def sql_text(key: str) -> str:
    section = key.split(".")[0]
    columns = sql_columns(key)
    if columns is None:
        marts = SECTIONS[section].marts if section in SECTIONS else ()
        return ", ".join(f"`{m}` (columns not mapped)" for m in marts) or "—"
    return ", ".join(f"`{query.rsplit('/', 1)[-1]}.{column}`" for query, column in columns) or "—"


def function_text(key: str, in_json: bool, views: list[str]) -> str:
    """The function of pipelines/figures/kpis.py that computes the figure: the one its section's
    wiring (SECTIONS) calls, else `<section>_figures`, else compute_kpis. A figure that is not
    in the JSON is computed by the page (views/<name>.py) that shows it."""
    if not in_json:
        return ", ".join(f"`dashboard/views/{name}.py`" for name in views)
    section = key.split(".")[0]
    if section in SECTIONS:
        names = [
            name
            for name in SECTIONS[section].figures.__code__.co_names
            if callable(getattr(kpis, name, None))
        ]
        return ", ".join(f"`{name}`" for name in names)
    return f"`{section}_figures`" if hasattr(kpis, f"{section}_figures") else "`compute_kpis`"


# --- where a figure is shown ----------------------------------------------------------------


@cache
def page_titles() -> dict[str, str]:
    """views/<name>.py -> the page's title, from dashboard/app.py's TITLES."""
    tree = ast.parse((ROOT / "dashboard" / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "TITLES":
            return {name: title for name, (title, _icon) in ast.literal_eval(node.value).items()}
    raise LookupError("dashboard/app.py has no TITLES")


DOTTED = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_-]+)+")


def named_in(source: str) -> tuple[set[str], list[re.Pattern]]:
    """The dotted figure paths a page's source names: string constants (`"refills.rate"`),
    subscript chains (`kpis["trials"]["by_condition"]`, through a variable assigned one:
    `battery = kpis["battery"]`; `battery["by_quarter"]`), nested dict literals, and f-string
    templates (`f"outcomes.{m}.mean_change"`)."""
    tree = ast.parse(source)

    def chain(node: ast.AST, aliases: dict[str, str]) -> str | None:
        slices: list[ast.AST] = []
        while isinstance(node, ast.Subscript):
            slices.append(node.slice)
            node = node.value
        parts = [aliases[node.id]] if isinstance(node, ast.Name) and node.id in aliases else []
        for s in reversed(slices):
            if not (isinstance(s, ast.Constant) and isinstance(s.value, str)):
                break
            parts.append(s.value)
        return ".".join(parts) if parts else None

    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Subscript)
        ):
            path = chain(node.value, {})
            if path:
                aliases[node.targets[0].id] = path

    def dict_paths(node: ast.Dict, prefix: str) -> Iterator[str]:
        for k, v in zip(node.keys, node.values, strict=True):
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                yield prefix + k.value
                if isinstance(v, ast.Dict):
                    yield from dict_paths(v, f"{prefix}{k.value}.")

    names: set[str] = set()
    templates: list[re.Pattern] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
        elif isinstance(node, ast.Subscript):
            names.add(chain(node, aliases) or "")
        elif isinstance(node, ast.Dict):
            names.update(dict_paths(node, ""))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[^.]+"
                for v in node.values
            )
            templates.append(re.compile(text))
    return {n for n in names if DOTTED.fullmatch(n)}, templates


def section_keys(source: str) -> set[str]:
    """The headline keys of the sections (pipelines/sections/audit.py) a page's source imports:
    a page lays out the headlines its sections describe."""
    keys: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == audit.__name__:
            for alias in node.names:
                value = getattr(audit, alias.name)
                if isinstance(value, Section):
                    keys |= set(value.headlines)
    return keys


def shown_on(key: str, names: set[str], templates: list[re.Pattern]) -> bool:
    """A page shows a figure when it names the figure, or its group (`complications.all`,
    `trials.by_condition`: a group's chart or table shows all its members)."""
    parts = key.split(".")
    prefixes = {".".join(parts[:n]) for n in range(2, len(parts) + 1)}
    return bool(prefixes & names) or any(t.fullmatch(p) for t in templates for p in prefixes)


def detail_keys(key: str, keys: set[str]) -> set[str]:
    """The figures a headline's detail line names, as FIGURES says: its group's, then its
    section's (`{on_time} on time, {late} late` under refills.rate)."""
    figure = FIGURES.get(key)
    if figure is None:
        return set()
    group, section = key.rsplit(".", 1)[0], key.split(".")[0]
    found = set()
    for _text, field, _spec, _conv in string.Formatter().parse(figure.detail):
        if field:
            found |= {k for k in (f"{group}.{field}", f"{section}.{field}") if k in keys}
    return found


def pages(keys: list[str]) -> dict[str, set[str]]:
    """Each JSON key -> the titles of the dashboard pages that show it."""
    out: dict[str, set[str]] = {key: set() for key in keys}
    for name, title in page_titles().items():
        names, templates = named_in(
            (ROOT / "dashboard" / "views" / f"{name}.py").read_text(encoding="utf-8")
        )
        names |= section_keys(
            (ROOT / "dashboard" / "views" / f"{name}.py").read_text(encoding="utf-8")
        )
        shown = {key for key in keys if shown_on(key, names, templates)}
        for figure in shown | {d for key in shown for d in detail_keys(key, set(keys))}:
            out[figure].add(title)
    return out


def pack_sections(db: Path) -> dict[str, list[str]]:
    """Each JSON key -> the titles of the audit pack's sections that show it. The figure tables
    are the same in every role's pack; the commissioner's, without patient-level charts, is the
    quickest to build."""
    request = Request(db=db, start=START, end=END_DATE, role=Role.COMMISSIONER)
    out: dict[str, list[str]] = {}

    def walk(node: Any, title: str) -> None:
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            for f in dataclasses.fields(node):
                value = getattr(node, f.name)
                # a Value's key, or a figure named beside one (a Standard's status_key)
                if f.name.endswith("key") and isinstance(value, str):
                    out.setdefault(value, [])
                    if title not in out[value]:
                        out[value].append(title)
                walk(value, title)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item, title)

    for section in build(request).sections:
        walk(section, section.title)
    return out


# --- which test pins a figure ----------------------------------------------------------------


@cache
def kpi_tests() -> list[tuple[str, str, frozenset[str]]]:
    """(file stem, test name, its string constants) for every test of the figures
    (tests/pipelines/figures/test_kpis_*.py)."""
    paths = sorted((ROOT / "tests" / "pipelines" / "figures").glob("test_kpis_*.py"))
    out = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                constants = frozenset(
                    c.value
                    for c in ast.walk(node)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                )
                out.append((path.stem, node.name, constants))
    return out


def pinning_test(key: str, keys: list[str]) -> str:
    """The first test that names the figure: in test_kpis_<section>.py, a test naming the
    figure's name; elsewhere, one naming its full key, or its section and its name."""
    section = key.split(".")[0]
    name = [part for part in key.split(".") if not part.startswith("<")][-1]
    found = [
        f"`{stem}::{test}`"
        for stem, test, constants in kpi_tests()
        if stem == f"test_kpis_{section}" and name in constants
    ]
    found += [
        f"`{stem}::{test}`"
        for stem, test, constants in kpi_tests()
        if constants & set(keys) or {section, name} <= constants
    ]
    return found[0] if found else "none found"


# --- the page --------------------------------------------------------------------------------


def catalogue() -> str:
    with TemporaryDirectory() as folder:
        db = Path(folder) / "sample.duckdb"
        with sample_warehouse(db) as con:
            keys = json_keys(con)
        pack = pack_sections(db)
    shown = pages([*keys, *FIGURES])
    lines = [
        BEGIN,
        "",
        "| JSON key | label | SQL (`mart.column`) | function | pages | pack sections | test |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows(keys):
        views = [n for n, t in page_titles().items() if any(t in shown[k] for k in row.keys)]
        cells = [
            f"`{row.key}`" + (" +ci" if row.interval else ""),
            label_text(row),
            sql_text(row.key),
            function_text(row.key, row.keys[0] in keys, views),
            ", ".join(page_titles()[name] for name in views) or "—",
            ", ".join(dict.fromkeys(s for k in row.keys for s in pack.get(k, ()))) or "—",
            pinning_test(row.key, row.keys),
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join([*lines, "", END])


def label_text(row: Row) -> str:
    """The figure's label; a group member's is its name (a quarter, as the pack writes it)."""
    if row.key in FIGURES:
        return FIGURES[row.key].label
    if row.key.endswith(">"):
        return "its name, e.g. " + row.keys[0].rsplit(".", 1)[-1]
    return label_of(row.keys[0])


def write(doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    _old, after = rest.split(END, 1)
    doc.write_text(before + catalogue() + after, encoding="utf-8")


if __name__ == "__main__":
    write()
