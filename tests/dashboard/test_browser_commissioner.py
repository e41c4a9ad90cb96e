"""A commissioner's captions in a real browser (issue 16 item 3): a caption built from figures
that starts with a suppressed "*" reads "* of 20 implanted patients", not a Markdown bullet.
Only a browser renders the Markdown, so only a browser can see it."""

from __future__ import annotations

import pytest

from pipelines.access.roles import Role
from tests.dashboard.test_browser import browser, open_page, page, server  # noqa: F401 (fixtures)
from tests.fixtures.kpi_fixtures import small_service

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """The server of test_browser, on the small service instead of the sample."""
    return small_service(tmp_path_factory.mktemp("small") / "small.duckdb")


def test_a_caption_starting_with_a_star_shows_the_star(server, page, accounts):  # noqa: F811
    open_page(page, server, "complications", accounts[Role.COMMISSIONER])
    captions = page.locator('[data-testid="stCaptionContainer"]',
                            has_text="of 20 implanted patients")
    assert captions.count() >= 1
    for i in range(captions.count()):
        caption = captions.nth(i)
        assert caption.inner_text().startswith("* of 20 implanted patients"), caption.inner_text()
        assert caption.locator("li").count() == 0
