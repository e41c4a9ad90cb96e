"""The conftest hook that keeps plain `pytest` fast: an unmarked test over the limit fails, a
marked one does not. Run in a nested pytest with the limit lowered, so the check costs a second."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

BUSY = """
import time
import pytest

def burn():
    started = time.process_time()
    while time.process_time() - started < 0.6:
        pass

def test_unmarked():
    burn()

@pytest.mark.slow
def test_marked():
    burn()

def test_quick():
    pass
"""


def test_an_unmarked_test_over_the_limit_fails_and_a_marked_one_passes(pytester, monkeypatch):
    monkeypatch.setenv("ITB_AUDIT_UNMARKED_LIMIT", "0.3")
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n    browser: browser\n")
    pytester.makepyfile(test_busy=BUSY)
    result = pytester.runpytest_inprocess("-p", "no:xdist", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_unmarked took *over the 0.3 s allowed an unmarked test*"])
