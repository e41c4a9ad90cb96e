"""A commissioner's captions in a real browser (issue 16 item 3): a caption built from figures
that starts with a suppressed "*" reads "* of 20 implanted patients", not a Markdown bullet.
Only a browser renders the Markdown, so only a browser can see it."""

from __future__ import annotations

import pytest

from pipelines.access.roles import Role
from tests.dashboard.test_browser import (  # noqa: F401 (fixtures)
    browser,
    open_page,
    page,
    screenshot,
    server,
)
from tests.fixtures.kpi_fixtures import small_service

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """The server of test_browser, on the small service instead of the sample."""
    return small_service(tmp_path_factory.mktemp("small") / "small.duckdb")


def test_a_caption_starting_with_a_star_shows_the_star(server, page, accounts):  # noqa: F811
    open_page(page, server, "complications", accounts[Role.COMMISSIONER])
    captions = page.locator(
        '[data-testid="stCaptionContainer"]', has_text="of 20 implanted patients"
    )
    assert captions.count() >= 1
    for i in range(captions.count()):
        caption = captions.nth(i)
        assert caption.inner_text().startswith("* of 20 implanted patients"), caption.inner_text()
        assert caption.locator("li").count() == 0


def test_a_rounded_rate_says_so_beside_it(server, page, accounts):  # noqa: F811
    open_page(page, server, "waits", accounts[Role.COMMISSIONER])
    headline = page.locator('[data-testid="stMetric"]', has_text="Seen within the wait target")
    assert headline.locator('[data-testid="stMetricValue"]').inner_text() == "60.0%"
    assert page.get_by_text("rounded to the nearest 5 points", exact=False).first.is_visible()
    screenshot(page, "commissioner-waits-small-service")
