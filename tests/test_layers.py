"""The packages import one way. ALLOWED is the architecture: which unit may import which (a unit is
a sub-package of pipelines/, a top-level module of pipelines/, `dashboard` or `expectations`). A new
import between units that is not listed fails here, so a back-edge or a cycle is a decision made
in this file, not an accident. (That the dashboard's process never imports Great Expectations is
tests/dashboard/test_app.py's.)"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# unit -> the units it may import. Read bottom-up: contract and config are the base, load and
# figures build on them, show and report on figures, the CLI and the dashboard on everything.
ALLOWED: dict[str, set[str]] = {
    "pipelines.contract": set(),
    "pipelines.access": set(),
    "pipelines.config": {"pipelines.access"},  # the roles named in the settings
    # lake: a warehouse address may name a DuckLake on PostgreSQL
    "pipelines.warehouse": {"pipelines.config", "pipelines.contract", "pipelines.lake"},
    "expectations": {"pipelines.contract"},
    "pipelines.synthetic": {"pipelines.config", "pipelines.contract"},
    # figures: the load's warning suites count rows of a mart (open referrals as waits counts them)
    "pipelines.load": {
        "pipelines.config",
        "pipelines.contract",
        "pipelines.warehouse",
        "expectations",
        "pipelines.figures",
    },
    "pipelines.figures": {"pipelines.config", "pipelines.contract", "pipelines.warehouse"},
    # governance: audits and actions, written through the warehouse's swap, edits logged
    "pipelines.governance": {"pipelines.access", "pipelines.config", "pipelines.warehouse"},
    "pipelines.show": {"pipelines.figures", "pipelines.contract"},
    # sections: each section's charts and tables described once, for the pack and the pages
    "pipelines.sections": {"pipelines.contract", "pipelines.figures", "pipelines.show"},
    "pipelines.report": {
        "pipelines.access",
        "pipelines.config",
        "pipelines.contract",
        "pipelines.figures",
        "pipelines.governance",
        "pipelines.load",
        "pipelines.sections",
        "pipelines.show",
        "pipelines.warehouse",
    },
    "pipelines.cli": {
        "pipelines.access",
        "pipelines.config",
        "pipelines.figures",
        "pipelines.governance",
        "pipelines.load",
        "pipelines.report",
        "pipelines.synthetic",
        "pipelines.lake",
        "pipelines.warehouse",  # addresses, and AsLoadedError: a bad --as-loaded is one line
    },
    # replicas: the launcher checks a lake address before starting the dashboards on it
    "pipelines.replicas": {"pipelines.lake", "pipelines.warehouse"},
    "dashboard": {
        "pipelines.access",
        "pipelines.config",
        "pipelines.contract",
        "pipelines.figures",
        "pipelines.governance",
        "pipelines.load",
        "pipelines.report",
        "pipelines.sections",
        "pipelines.show",
        "pipelines.warehouse",
        "pipelines.lake",
    },
}


def _unit_of_module(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "pipelines":
        return "pipelines." + parts[1] if len(parts) > 1 else "pipelines"
    return parts[0] if parts[0] in ("dashboard", "expectations") else None


def _unit_of_file(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return _unit_of_module(".".join(parts[:2])) or parts[0]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "pipelines":  # `from pipelines import contract`
                names |= {f"pipelines.{alias.name}" for alias in node.names}
    return names


def edges() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in ("pipelines", "dashboard", "expectations"):
        for path in (ROOT / folder).rglob("*.py"):
            unit = _unit_of_file(path)
            for module in _imports(path):
                target = _unit_of_module(module)
                if target and target not in (unit, "pipelines"):
                    found.setdefault(unit, set()).add(target)
    return found


def test_every_import_between_units_is_an_allowed_edge():
    unexpected = {
        unit: sorted(targets - ALLOWED.get(unit, set())) for unit, targets in edges().items()
    }
    assert {u: t for u, t in unexpected.items() if t} == {}


def test_the_allowed_edges_have_no_cycle():
    # Depth-first search over ALLOWED: every edge that could ever be added is acyclic.
    state: dict[str, str] = {}

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = "open"
        for target in sorted(ALLOWED.get(unit, set())):
            assert state.get(target) != "open", " -> ".join([*path, unit, target])
            if target not in state:
                visit(target, [*path, unit])
        state[unit] = "done"

    for unit in ALLOWED:
        if unit not in state:
            visit(unit, [])


def test_the_layer_check_sees_a_back_edge(tmp_path, monkeypatch):
    # The check itself can fail: a figures module that imports the report is reported.
    fake = tmp_path / "pipelines" / "figures"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from pipelines.report import content\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = edges()
    assert "pipelines.report" in found["pipelines.figures"] - ALLOWED["pipelines.figures"]
