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


@pytest.fixture(scope="session", autouse=True)
def _components_found_once():
    """Each new AppTest looks through every installed package's metadata for Streamlit
    components (0.1 s of CPU, a hundred times and more a run); the installed packages do not
    change during the session, so the first look is the answer for every AppTest."""
    from streamlit.components.v2 import manifest_scanner

    found = manifest_scanner.scan_component_manifests()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_scanner, "scan_component_manifests", lambda *_, **__: list(found))
        yield


@pytest.fixture(scope="module", autouse=True)
def _cheap_password_hashes():
    """Passwords hashed and checked by argon2id at its lowest cost in these tests, as Django
    tests use a fast hasher: each AppTest signs in (0.2 s of CPU at the deployment's cost, a
    hundred times a run), and what these tests check is who may sign in and what they see,
    never how slow a hash is (tests/pipelines/access/test_users.py keeps the deployment's)."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@pytest.fixture(scope="module")
def _sessions() -> dict:
    """(session name, warehouse, role) -> a signed-in AppTest that a module's tests continue."""
    return {}


@pytest.fixture
def app(monkeypatch, accounts, _sessions):
    """run(db, page, role): the dashboard on `db`, signed in as the role's user, on `page`.
    With `session` named, the module's tests that name it continue one signed-in session (for
    tests that only look at pages: signing in costs more than drawing a page)."""

    def run(
        db: Path, page: str | None = None, role: Role = Role.CLINICIAN, session: str | None = None
    ) -> AppTest:
        monkeypatch.setenv("ITB_AUDIT_DB", str(db))
        at = _sessions.get((session, str(db), role)) if session else None
        if at is None:
            at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), *accounts[role])
            assert not at.exception, [e.value for e in at.exception]
            if session:
                _sessions[session, str(db), role] = at
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
