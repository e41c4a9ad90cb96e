"""Running the dashboard under AppTest as a signed-in user: one user per role in the test users
file (ITB_AUDIT_USERS, tests/conftest.py), with generated passwords, signed in through the
sign-in form as a person would."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from pipelines.access import users
from pipelines.access.roles import Role
from pipelines.config import load_settings

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(scope="session")
def accounts() -> dict[Role, tuple[str, str]]:
    """role -> (user name, password) of the session's users file."""
    store = users.store(load_settings())
    return users.create_demo_users(store) or pytest.fail(f"{store.path} existed already")


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="sign_in_user").input(username)
    at.text_input(key="sign_in_password").input(password)
    return at.button[0].click().run()


@pytest.fixture
def app(monkeypatch, accounts):
    """run(db, page, role): the dashboard on `db`, signed in as the role's user, on `page`."""

    def run(db: Path, page: str | None = None, role: Role = Role.CLINICIAN) -> AppTest:
        monkeypatch.setenv("ITB_AUDIT_DB", str(db))
        at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), *accounts[role])
        assert not at.exception, [e.value for e in at.exception]
        if page:
            at.switch_page(f"views/{page}.py").run()
        return at

    return run


@pytest.fixture
def downloads(monkeypatch) -> dict[str, callable]:
    """file name -> the callable that makes a download button's file (what a click runs)."""
    made: dict[str, callable] = {}
    register = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = data_callable
        return register(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made
