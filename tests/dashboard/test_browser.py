"""The dashboard in a real browser: Debian's chromium driven by Playwright against one streamlit
server (on a free 127.0.0.1 port) for the module. A person signs in through the form; every page
loads without an exception box and with its charts drawn, a filter change updates a figure, the
menu holds only the signed-in role's pages, and a screenshot of each page is saved under
test-artifacts/screenshots/ (git-ignored) for a person to look at. What only a browser shows:
no table offers its own CSV download, no Deploy button or developer menu, and axe-core
(tests/browser/package.json, `make browser-deps`) finds no serious or critical WCAG 2.2 AA
violation on any page for any role."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest

from pipelines.access.roles import PAGES as ROLE_PAGES
from pipelines.access.roles import Role
from pipelines.figures.kpis import compute_kpis
from pipelines.replicas import free_port, streamlit
from pipelines.report.pdf import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import SAMPLE_AS_OF

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTH, HEIGHT = 1400, 900
TIMEOUT_MS = 30_000
# url path -> the page's title (the default page, Overview, is at the root)
PAGES = {
    "": "ITB service overview",
    "waits": "Referrals & waits",
    "trials": "Trial response",
    "complications": "Complications",
    "refills": "Refills",
    "batteries": "Pump batteries",
    "outcomes": "Cohort outcomes",
    "data_quality": "Data quality",
}
OTHER_PAGES = {
    "load": "Load an extract",
    "users": "Users",
    "access_log": "Access log",
    "audits": "Audits & actions",
}
# url path -> its name in the menu, where that differs from its title
MENU = {"": "Overview", "load": "Load an extract"}


@pytest.fixture(scope="module")
def server(sample_db, accounts, tmp_path_factory):
    """`streamlit run dashboard/app.py` on the sample warehouse (and the test users file,
    ITB_AUDIT_USERS); its base URL."""
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "ITB_AUDIT_DB": str(sample_db)}
    with streamlit(free_port(), env, log_path) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian chromium is not installed at {CHROMIUM} "
            "(`make browser-deps` installs it: apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def wait_until_drawn(page, title: str) -> None:
    """The page's script has finished, no element is still loading (Plotly charts are mounted
    lazily, behind a skeleton) and every Plotly chart has drawn its SVG."""
    page.locator("h1", has_text=title).wait_for()
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
                   .getAttribute('data-test-script-state') === 'notRunning'
              && !document.querySelector('[data-testid*="Skeleton"]')
              && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                   .every(c => c.querySelector('.js-plotly-plot .main-svg'))"""
    )


def sign_in(page, username: str, password: str) -> None:
    """Fill in the sign-in form shown to a new browser session."""
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def open_page(page, server: str, path: str, account: tuple[str, str]) -> None:
    """Open a page by its URL in a new session: sign in, then the page itself is drawn."""
    page.goto(f"{server}/{path}")
    sign_in(page, *account)
    wait_until_drawn(page, PAGES[path])
    assert page.get_by_role("dialog").count() == 0  # e.g. "Page not found"


def screenshot(page, name: str) -> None:
    """The whole page (the app scrolls inside its main block, so grow the viewport to it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, height)})
    page.wait_for_timeout(500)  # let the charts resize to the new viewport
    # JPEG: a page is several thousand pixels tall, and PNG's encoding costs chromium three
    # times the CPU for a picture a person only looks at
    page.screenshot(path=str(SCREENSHOTS / f"{name}.jpg"), full_page=True, quality=85)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})


def metric_value(page, label: str):
    metric = page.locator('[data-testid="stMetric"]', has_text=label)
    return metric.locator('[data-testid="stMetricValue"]')


@pytest.mark.parametrize("path", list(PAGES), ids=lambda path: path or "overview")
def test_page_loads_with_its_charts_drawn(server, page, accounts, path):
    open_page(page, server, path, accounts[Role.CLINICIAN])
    assert page.locator('[data-testid="stException"]').count() == 0
    charts = page.locator('[data-testid="stPlotlyChart"]')
    assert charts.count() >= 1
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        assert chart.locator(".main-svg").first.is_visible()
        # traces drawn: bars, lines, markers or a funnel
        assert chart.locator("g.trace").count() >= 1, f"chart {i} is empty"
    assert page.locator('[data-testid="stMetric"]').count() >= 1
    # no headline label is cut short with an ellipsis ("Active pumps with…")
    cut = page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""")
    assert not cut, cut
    screenshot(page, path or "overview")


def test_a_filter_change_updates_a_figure(server, page, accounts, sample_db):
    from playwright.sync_api import expect

    as_of = dt.date.fromisoformat(SAMPLE_AS_OF)
    year = compute_kpis(sample_db, dt.date(2025, 11, 2), as_of)["waits"]["seen"]
    quarter = compute_kpis(sample_db, dt.date(2026, 7, 1), dt.date(2026, 9, 30))["waits"]["seen"]
    assert year != quarter

    open_page(page, server, "waits", accounts[Role.CLINICIAN])
    expect(metric_value(page, "Referrals seen")).to_have_text(str(year))
    page.locator('[data-testid="stSidebar"]').get_by_text("Last quarter", exact=True).click()
    expect(metric_value(page, "Referrals seen")).to_have_text(str(quarter))
    expect(page.get_by_text("1 Jul 2026 to 30 Sep 2026").first).to_be_visible()

    # the choice is shared: another page opened from the navigation uses it too
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
    wait_until_drawn(page, PAGES[""])
    referrals = compute_kpis(sample_db, dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    expect(metric_value(page, "Referrals received")).to_have_text(
        str(referrals["activity"]["referrals_received"])
    )
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize(
    "role, menu",
    [
        (Role.DATA_MANAGER, ["Data quality", "Load an extract"]),
        (Role.ADMIN, ["Users", "Access log"]),
        (
            Role.COMMISSIONER,
            [
                "Overview",
                "Referrals & waits",
                "Trial response",
                "Complications",
                "Refills",
                "Pump batteries",
                "Cohort outcomes",
            ],
        ),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else None,
)
def test_the_menu_holds_only_the_roles_pages_and_a_url_outside_it_is_refused(
    server, page, accounts, role, menu
):
    from playwright.sync_api import expect

    page.goto(f"{server}/data_quality")
    sign_in(page, *accounts[role])
    nav = page.locator('[data-testid="stSidebarNav"] a')
    expect(nav).to_have_count(len(menu))
    assert [item.inner_text().splitlines()[-1].strip() for item in nav.all()] == menu  # no icon
    allowed = "Data quality" in menu
    expect(page.get_by_text("may not see this page")).to_have_count(0 if allowed else 1)
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize(
    "role", [Role.CLINICIAN, Role.GOVERNANCE, Role.COMMISSIONER], ids=lambda r: r.value
)
def test_the_overview_shows_standards_and_changes_for_each_role(server, page, accounts, role):
    """Each standard beside its headline (icon and words) and listed; each headline's change
    from the previous period as the metric's delta, with its verdict in words. The sample has
    1 pump overdue at its as-of date: a commissioner sees * and no judgement."""
    from playwright.sync_api import expect

    open_page(page, server, "", accounts[role])
    overdue = page.locator('[data-testid="stMetric"]', has_text="Overdue for a refill now")
    card = page.locator('[data-testid="stVerticalBlock"]', has=overdue).last
    if role is Role.COMMISSIONER:
        words = "Not judged: the figure is suppressed"
    else:
        words = "Standard not met"
    badge = card.locator(".stMarkdownBadge", has_text=words).first
    expect(badge).to_be_visible()
    assert badge.get_by_role("img").count() == 1  # an icon with the words, not colour alone
    expect(
        card.get_by_text("No pump overdue for a refill — standard: must be 0").first
    ).to_be_visible()
    # refills on time rests on hundreds of refills: compared for every role
    refills = page.locator('[data-testid="stMetric"]', has_text="Refills on time")
    expect(refills.locator('[data-testid="stMetricDelta"]')).to_contain_text("pts")
    refills_card = page.locator('[data-testid="stVerticalBlock"]', has=refills).last
    expect(
        refills_card.get_by_text("Last period (2 Nov 2024 to 1 Nov 2025): ").first
    ).to_be_visible()
    assert page.get_by_text("Standards", exact=True).count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"overview-standards-{role.value}")


def test_no_deploy_button_developer_menu_or_table_download(server, page, accounts):
    """Every table leaves the dashboard through the pages' logged CSV and Excel buttons only:
    the data grid's own toolbar has no "Download as CSV" (client.disableDataExport), and
    there is no Deploy button or developer menu (client.toolbarMode)."""
    from playwright.sync_api import expect

    open_page(page, server, "waits", accounts[Role.GOVERNANCE])
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    menu = page.get_by_test_id("stMainMenu")
    if menu.count():
        menu.click()
        items = page.get_by_role("menu", name="Main menu")
        expect(items).to_be_visible()
        names = items.inner_text()
        assert not re.search(r"Rerun|Clear cache|Settings|Deploy", names), names
        page.keyboard.press("Escape")
    grids = page.get_by_test_id("stDataFrame")
    assert grids.count() >= 2
    for i in range(grids.count()):
        grid = grids.nth(i)
        grid.scroll_into_view_if_needed()
        grid.hover()
        toolbar = grid.locator("xpath=..").get_by_test_id("stElementToolbarButton")
        expect(toolbar.first).to_be_visible()  # the toolbar is shown (search, fullscreen)
        labels = [b.get_attribute("aria-label") or "" for b in toolbar.locator("button").all()]
        assert labels and not any(label.startswith("Download") for label in labels), labels
    # the page's own (logged) buttons are there
    expect(page.get_by_role("button", name="CSV").first).to_be_visible()


# WCAG 2.5.8's "equivalent" exception: the day and month segments of Streamlit's date input
# are too close together, but the same date can be chosen with the input's calendar button,
# which meets 2.5.8 itself (axe does not flag it), so target-size is not held against them.
AXE_RUN = """async tags => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  const small = result.violations.filter(v => v.id === 'target-size')
    .flatMap(v => v.nodes.map(n => document.querySelector(n.target[0])));
  const equivalent = node => {
    const input = document.querySelector(node.target[0])?.closest('[data-testid="stDateInput"]');
    const button = input?.querySelector('button[aria-label^="Choose date"]');
    return Boolean(button) && !small.includes(button);
  };
  for (const v of result.violations) {
    if (v.id === 'target-size') v.nodes = v.nodes.filter(n => !equivalent(n));
  }
  return result.violations.filter(v => v.nodes.length);
}"""


def axe_violations(page) -> list[dict]:
    """Serious and critical WCAG 2.2 AA violations axe-core finds on the page as drawn."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(AXE_RUN, WCAG_AA)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "count": len(v["nodes"]),
            "nodes": [(n["html"][:120], n["failureSummary"][-160:]) for n in v["nodes"]][:8],
        }
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_page_meets_wcag_aa_for_every_role(server, page, accounts, role):
    """axe-core in every page the role may open (reached through the menu, as a person
    would): no serious or critical violation."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make browser-deps`")
    titles = {**PAGES, **OTHER_PAGES}
    paths = ["" if p == "overview" else p for p in ROLE_PAGES[role]]
    page.goto(server)
    sign_in(page, *accounts[role])
    found = {}
    for path in paths:
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text(MENU.get(path, titles[path]), exact=True).click()
        wait_until_drawn(page, titles[path])
        for expander in page.get_by_test_id("stExpander").all():  # what they hold is checked too
            expander.locator("summary").click()
        wait_until_drawn(page, titles[path])
        violations = axe_violations(page)
        if violations:
            found[path or "overview"] = violations
    assert not found, json.dumps(found, indent=1)
