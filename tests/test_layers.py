"""The layers the README names are one-way: the dashboard imports pipelines, never the reverse.
(That the dashboard's process never imports Great Expectations is tests/dashboard/test_app.py's.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pipelines_never_import_the_dashboard():
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _imported(p) if n.split(".")[0] == "dashboard")
                 for p in (ROOT / "pipelines").rglob("*.py")}
    assert {p: n for p, n in offenders.items() if n} == {}
