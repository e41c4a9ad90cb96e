"""Two dashboard replicas behind nginx on one lake (DuckLake on PostgreSQL), in a real browser
(docs/deploy.md): a browser stays on one replica for everything its session does (the websocket
included), and an extract loaded from the CLI while both replicas serve is seen on both without
a restart."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.access.roles import Role
from tests.dashboard.test_browser import (
    HEIGHT,
    PAGES,
    TIMEOUT_MS,
    WIDTH,
    browser,
    sign_in,
    wait_until_drawn,
)
from tests.fixtures.replicas import COOKIE, deployment, pinning_cookies

pytestmark = [pytest.mark.browser, pytest.mark.lake, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data_samples" / "clean"
ITB_AUDIT = Path(sys.executable).parent / "itb-audit"
__all__ = ["browser", "deployment"]  # fixtures, imported to be used here


def _context(browser, deployment, cookie: str | None = None):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    if cookie:
        context.add_cookies([{"name": COOKIE, "value": cookie, "url": deployment.url}])
    return context


def _signed_in_overview(context, deployment, account) -> tuple:
    """A page signed in through nginx on the Overview; the replica that answered."""
    page = context.new_page()
    response = page.goto(deployment.url)
    sign_in(page, *account)
    wait_until_drawn(page, PAGES[""])
    return page, response.headers["x-replica"]


def _rerun_overview(page) -> str:
    """Go to another page and back in the same session (each a run of the script on the
    replica); the text of the Overview's table of the site's current load: its name, then its
    extract date."""
    page.locator('[data-testid="stSidebarNav"] a', has_text="Referrals & waits").click()
    wait_until_drawn(page, PAGES["waits"])
    page.locator('[data-testid="stSidebarNav"] a', has_text="Overview").click()
    wait_until_drawn(page, PAGES[""])
    assert page.locator('[data-testid="stException"]').count() == 0
    # the grid draws on a canvas; its cells are also in the DOM, for screen readers
    return page.get_by_test_id("stDataFrame").filter(has_text="Site main").text_content()


def test_a_browser_stays_on_one_replica_websocket_included(browser, deployment, accounts):
    context = _context(browser, deployment)
    try:
        page, replica = _signed_in_overview(context, deployment, accounts[Role.CLINICIAN])
        page.reload()  # a new session from the same browser
        sign_in(page, *accounts[Role.CLINICIAN])
        wait_until_drawn(page, PAGES[""])
        (key,) = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
    finally:
        context.close()
    # nginx logs a websocket when it closes: wait for the second session's
    deadline = time.monotonic() + 30
    while True:
        requests = [
            line for line in deployment.access_log.read_text().splitlines() if f"key={key} " in line
        ]
        streams = [line for line in requests if "GET /_stcore/stream " in line]
        if len(streams) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {line.rsplit("upstream=", 1)[1] for line in requests} == {replica}
    assert len(streams) == 2 and all('" 101 ' in line for line in streams), streams


def test_a_load_from_the_cli_is_seen_on_both_replicas_without_a_restart(
    browser, deployment, accounts
):
    cookies = pinning_cookies(deployment)
    contexts = [_context(browser, deployment, cookie) for cookie in cookies.values()]
    try:
        pages = []
        for context, replica in zip(contexts, cookies, strict=True):
            page, answered = _signed_in_overview(context, deployment, accounts[Role.CLINICIAN])
            assert answered == replica
            assert re.search(r"Site main\s*1 Nov 2026", _rerun_overview(page))
            pages.append(page)
        db = deployment.db
        assert db.startswith("ducklake+postgresql://"), db  # the replicas share a lake
        load = subprocess.Popen(
            [str(ITB_AUDIT), "load", str(SAMPLE), "--db", db, "--as-of", "2026-12-01"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # both replicas keep serving while the load runs: no page fails
        reads_during_load = 0
        while load.poll() is None:
            for page in pages:
                _rerun_overview(page)
                reads_during_load += 1
        output = load.stdout.read()
        assert load.returncode == 0, output
        assert reads_during_load >= 2
        for page in pages:
            assert re.search(r"Site main\s*1 Dec 2026", _rerun_overview(page))
    finally:
        for context in contexts:
            context.close()
