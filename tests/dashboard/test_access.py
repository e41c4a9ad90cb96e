"""Access control, one test per row of the role table (pipelines/access/roles.py): what each
signed-in role sees in the dashboard and what it is refused, on the pages and below them in the
query layer; small-number suppression of a commissioner's figures and downloads; sign-in lockout and
idle expiry; nothing clear (NHS number, password) in the warehouse, the access log, the users
file or a download."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard import data, widgets
from dashboard.filters import Filters
from pipelines.access import log as access_log
from pipelines.access import users
from pipelines.access.roles import FIGURE_PAGES, PAGES, Forbidden, Role
from pipelines.config import load_settings
from pipelines.figures.disclosure import SUPPRESSED, Disclosure, suppress_kpis
from pipelines.figures.kpis import compute_kpis
from pipelines.report.content import _Builder as PackBuilder
from pipelines.show.definitions import FIGURES
from pipelines.show.display import percent
from tests.conftest import SAMPLE_AS_OF
from tests.dashboard.conftest import APP, sign_in
from tests.fixtures.kpi_fixtures import Warehouse

ALL_PAGES = (*FIGURE_PAGES, "data_quality", "audits", "load", "users", "access_log")
MARTS = [p.stem for p in (Path(__file__).resolve().parents[2] / "queries" / "marts").glob("*.sql")]
LOCAL_ID = re.compile(r"^P\d{6}$")
AS_OF = dt.date.fromisoformat(SAMPLE_AS_OF)
YEAR = Filters(dt.date(2025, 11, 2), AS_OF)
REFUSED = "may not see this page"


def visit(at, page: str):
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, (page, [e.value for e in at.exception])
    return at


def refused(at) -> bool:
    return any(REFUSED in e.value for e in at.error)


def assert_pages(at, role: Role) -> None:
    """The role's own pages render; every other page, opened by its URL, is refused."""
    for page in ALL_PAGES:
        visit(at, page)
        assert refused(at) == (page not in PAGES[role]), (role, page)


def tables(at) -> list[pd.DataFrame]:
    return [frame.value for frame in at.dataframe]


def patient_ids(at) -> set[str]:
    return {v for frame in tables(at) if "patient_id" in frame for v in frame["patient_id"]}


@pytest.fixture
def warehouse(monkeypatch):
    """Point the query layer (called directly, as the pages call it) at a warehouse."""

    def use(db: Path) -> None:
        monkeypatch.setenv("ITB_AUDIT_DB", str(db))

    return use


@pytest.fixture(scope="module")
def messy_db(tmp_path_factory, gx_runner):
    """The messy sample loaded: a warehouse with quarantined rows."""
    from pipelines.load.snapshot import load_extract

    db = tmp_path_factory.mktemp("messy") / "messy.duckdb"
    load_extract(
        Path(__file__).resolve().parents[2] / "data_samples" / "messy",
        db,
        as_of=AS_OF,
        runner=gx_runner,
    )
    return db


# --- one test per role --------------------------------------------------------------------------


@pytest.mark.slow
def test_clinician_sees_every_figure_page_with_local_patient_ids(app, sample_db, warehouse):
    at = app(sample_db, role=Role.CLINICIAN)
    assert_pages(at, Role.CLINICIAN)
    visit(at, "refills")
    ids = patient_ids(at)
    assert ids and all(LOCAL_ID.match(i) for i in ids)
    warehouse(sample_db)
    waits = data.mart("waits", YEAR, Role.CLINICIAN)
    assert waits["patient_id"].map(lambda i: bool(LOCAL_ID.match(i))).all()


@pytest.mark.slow
def test_governance_sees_every_page_with_pseudonymous_ids_only(
    app, sample_db, warehouse, downloads
):
    at = app(sample_db, role=Role.GOVERNANCE)
    assert_pages(at, Role.GOVERNANCE)
    seen = set()
    for page in FIGURE_PAGES:
        visit(at, page)
        seen |= patient_ids(at)
        for frame in tables(at):
            text = frame.astype(str).to_numpy().ravel()
            assert not any(LOCAL_ID.match(v) for v in text), (page, "a local id is shown")
    assert seen and all(i.startswith("PSN-") for i in seen)
    overdue = downloads["pumps-overdue-for-a-refill.csv"]().decode()
    assert "PSN-" in overdue and not re.search(r"P\d{6}", overdue)
    # Below the page: every patient id of every mart, the same pseudonym for the same patient.
    warehouse(sample_db)
    for mart in MARTS:
        rows = data.mart(mart, YEAR, Role.GOVERNANCE)
        assert rows["patient_id"].str.startswith("PSN-").all(), mart
    clinician = data.mart("refills", YEAR, Role.CLINICIAN)["patient_id"]
    governance = data.mart("refills", YEAR, Role.GOVERNANCE)["patient_id"]
    assert clinician.nunique() == governance.nunique()
    assert (pd.Series(governance.to_numpy()).groupby(clinician.to_numpy()).nunique() == 1).all()


def clinic_record_ids() -> set[str]:
    """Every record id of the sample extract (patient, referral, appointment, trial, implant,
    refill and complication ids)."""
    sample = Path(__file__).resolve().parents[2] / "data_samples" / "clean"
    ids = set()
    for path in sample.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str)
        for column in frame.columns:
            if column.endswith("_id"):
                ids |= set(frame[column].dropna())
    return ids


@pytest.mark.slow
def test_no_clinic_record_id_reaches_governance(app, sample_db, warehouse, downloads):
    """Referral, implant and refill ids often embed the patient's number (R00225 of H00225):
    governance sees none of the clinic's ids, on a page, in a download or below the pages."""
    clinic = clinic_record_ids()
    assert len(clinic) > 1000
    at = app(sample_db, role=Role.GOVERNANCE)
    shown = 0
    for page in (*FIGURE_PAGES, "data_quality"):
        visit(at, page)
        for frame in tables(at):
            cells = set(frame.astype(str).to_numpy().ravel())
            assert not cells & clinic, (page, sorted(cells & clinic)[:5])
            shown += sum(c.startswith(("REF-", "IMP-", "RFL-", "CMP-")) for c in cells)
    assert shown > 0  # referral, implant and refill ids are shown, as pseudonyms
    for name, make in downloads.items():
        if name.endswith(".csv"):
            text = set(re.findall(r"[A-Z]+\d+", make().decode()))
            assert not text & clinic, (name, sorted(text & clinic)[:5])
    warehouse(sample_db)
    for mart in MARTS:
        rows = data.mart(mart, YEAR, Role.GOVERNANCE)
        ids = [c for c in rows.columns if c.endswith("_id") and c != "load_id"]
        assert not set(rows[ids].astype(str).to_numpy().ravel()) & clinic, mart
    # the same record always has the same pseudonym, one per record
    clinician = data.mart("refills", YEAR, Role.CLINICIAN)["refill_id"]
    governance = data.mart("refills", YEAR, Role.GOVERNANCE)["refill_id"]
    assert governance.nunique() == clinician.nunique() == len(clinician)


@pytest.mark.slow
def test_commissioner_sees_suppressed_aggregates_only(app, sample_db, warehouse):
    at = app(sample_db, role=Role.COMMISSIONER)
    assert_pages(at, Role.COMMISSIONER)
    statement = Disclosure.from_settings(load_settings()).statement
    for page in FIGURE_PAGES:
        visit(at, page)
        assert any(statement in i.value for i in at.info), (page, "no suppression statement")
        for frame in tables(at):
            assert "patient_id" not in frame, page
            assert not any(LOCAL_ID.match(v) for v in frame.astype(str).to_numpy().ravel()), page
    visit(at, "overview")
    shown = suppress_kpis(
        compute_kpis(sample_db, YEAR.start, YEAR.end), Disclosure.from_settings(load_settings())
    )
    labels = {f.label: k for k, f in FIGURES.items()}
    for metric in at.metric:
        group, name = widgets.figure_group(shown, labels[metric.label])
        assert metric.value == widgets.fmt(group[name], FIGURES[labels[metric.label]].unit)
    assert any(m.value == SUPPRESSED for m in at.metric)
    warehouse(sample_db)
    for mart in MARTS:
        with pytest.raises(Forbidden):
            data.mart(mart, YEAR, Role.COMMISSIONER)
    with pytest.raises(Forbidden):  # only the listed aggregates, never the rows themselves
        data.summary("waits", YEAR, Role.COMMISSIONER, lambda rows, d: rows)


@pytest.mark.slow
def test_data_manager_sees_data_quality_quarantine_contents_and_the_load_page(
    app, messy_db, warehouse
):
    at = app(messy_db, role=Role.DATA_MANAGER)
    assert_pages(at, Role.DATA_MANAGER)
    visit(at, "data_quality")
    quarantine = next(f for f in tables(at) if "reasons" in f and "table_name" in f)
    assert not quarantine.empty and {"record", "row_key"} <= set(quarantine.columns)
    # Pass rates read as the pack writes them: one with a failed row never as 100%.
    results = next(f for f in tables(at) if "rows_checked" in f)
    failed = results[results["rows_failed"] > 0]
    assert not failed.empty
    assert results["pass_rate"].tolist() == [
        percent(p / c) for p, c in zip(results["rows_passed"], results["rows_checked"], strict=True)
    ]
    assert not failed["pass_rate"].isin(["100.0%", "100%"]).any()
    visit(at, "load")
    assert at.get("file_uploader")
    warehouse(messy_db)
    for mart in MARTS:
        with pytest.raises(Forbidden):
            data.mart(mart, YEAR, Role.DATA_MANAGER)
    # Other roles that see the page get the reasons, not the rows' values.
    for role in (Role.CLINICIAN, Role.GOVERNANCE):
        rows = data.quarantine(None, role)
        assert len(rows) == len(quarantine) and "record" not in rows and "row_key" not in rows
    with pytest.raises(Forbidden):
        data.query("load_history/quarantine", site=None)


@pytest.mark.slow
def test_admin_manages_users_and_reads_the_access_log(app, sample_db, accounts, warehouse):
    at = app(sample_db, role=Role.ADMIN)
    assert_pages(at, Role.ADMIN)
    visit(at, "users")
    listed = next(f for f in tables(at) if "user" in f)
    assert set(listed["user"]) >= {username for username, _ in accounts.values()}
    visit(at, "access_log")
    log = next(f for f in tables(at) if "event" in f)
    admin = accounts[Role.ADMIN][0]
    assert {"sign_in", "view", "refused"} <= set(log.loc[log["user"] == admin, "event"])
    warehouse(sample_db)
    for mart in MARTS:
        with pytest.raises(Forbidden):
            data.mart(mart, YEAR, Role.ADMIN)


# --- small numbers ------------------------------------------------------------------------------


def three_infections(path: Path) -> Path:
    """A one-site warehouse with 20 implanted patients, 3 of them with an infection in 2024."""
    w = Warehouse(path)
    w.small_site("infection")
    w.mark_loaded()
    w.close()
    return path


@pytest.mark.slow
@pytest.mark.parametrize("role, shown", [(Role.COMMISSIONER, SUPPRESSED), (Role.CLINICIAN, 3)])
def test_a_commissioner_download_of_a_site_with_three_infections_shows_a_star(
    app, tmp_path, downloads, role, shown
):
    at = app(three_infections(tmp_path / "w.duckdb"), "complications", role)
    assert not at.exception
    for name, read in (
        ("complications-by-category.csv", pd.read_csv),
        ("complications-by-category.xlsx", pd.read_excel),
    ):
        content = downloads[name]()
        table = read(pd.io.common.BytesIO(content)).set_index("category")
        assert str(table.loc["Infection", "events"]) == str(shown), name
        assert str(table.loc["Infection", "patients"]) == str(shown), name


# --- signing in ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_five_wrong_passwords_lock_the_user_for_the_configured_time(tmp_path):
    clock = Clock()
    store = users.UserStore(tmp_path / "users.json", users.Lockout(5, 15 * 60), clock)
    store.add("alice", Role.CLINICIAN, "correct horse battery")
    for attempt in range(4):
        with pytest.raises(users.SignInRefused, match="Wrong user name or password"):
            store.authenticate("alice", f"wrong password {attempt}")
    with pytest.raises(users.SignInRefused, match="locked for 15 minutes"):
        store.authenticate("alice", "wrong password 5")
    # Locked: the right password is refused too, by this store and a new one (a new session).
    for s in (store, users.UserStore(tmp_path / "users.json", users.Lockout(5, 15 * 60), clock)):
        with pytest.raises(users.SignInRefused, match="locked"):
            s.authenticate("alice", "correct horse battery")
    assert store.list()[0].locked_until == clock.now + 15 * 60
    clock.now += 15 * 60 + 1
    assert store.authenticate("alice", "correct horse battery").role is Role.CLINICIAN
    assert store.list()[0].locked_until is None


def test_the_lock_holds_across_reruns_and_new_dashboard_sessions(monkeypatch, tmp_path, sample_db):
    from streamlit.testing.v1 import AppTest

    users_file = tmp_path / "users.json"
    monkeypatch.setenv("ITB_AUDIT_USERS", str(users_file))
    monkeypatch.setenv("ITB_AUDIT_DB", str(sample_db))
    users.UserStore(users_file).add("bob", Role.CLINICIAN, "the right password")
    at = AppTest.from_file(APP, default_timeout=60).run()
    for _ in range(5):
        sign_in(at, "bob", "a wrong password")
    assert "locked" in at.error[0].value
    fresh = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "bob", "the right password")
    assert "locked" in fresh.error[0].value and not fresh.metric
    assert users.UserStore(users_file).list()[0].locked_until is not None


def test_an_idle_session_is_signed_out(app, sample_db):
    at = app(sample_db, "waits")
    assert at.metric
    session = at.session_state["signed_in"]
    idle = load_settings().access.idle_timeout_minutes * 60
    at.session_state["signed_in"] = type(session)(
        session.user, session.role, session.method, session.last_active - idle - 1
    )
    at.run()
    assert not at.metric and at.text_input(key="sign_in_password")
    assert "signed out after" in at.info[0].value


def test_a_signed_out_visitor_sees_only_the_sign_in_form(monkeypatch, sample_db):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ITB_AUDIT_DB", str(sample_db))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.metric and not at.dataframe and at.text_input(key="sign_in_password")
    sign_in(at, "nobody", "whatever password")
    assert "Wrong user name or password" in at.error[0].value and not at.metric


# --- nothing in clear ---------------------------------------------------------------------------


@pytest.mark.slow
def test_no_nhs_number_or_password_in_the_warehouse_log_users_file_or_downloads(
    app, messy_db, accounts, downloads
):
    nhs_numbers = set()
    for folder in ("clean", "messy"):
        patients = Path(__file__).resolve().parents[2] / "data_samples" / folder / "patients.csv"
        nhs_numbers |= {n for n in pd.read_csv(patients, dtype=str)["nhs_number"].dropna()}
    digits = {re.sub(r"\D", "", n) for n in nhs_numbers if len(re.sub(r"\D", "", n)) == 10}
    assert len(digits) > 100
    for role, page in (
        (Role.DATA_MANAGER, "data_quality"),
        (Role.GOVERNANCE, "refills"),
        (Role.CLINICIAN, "waits"),
    ):
        at = app(messy_db, page, role)
        at.sidebar.selectbox(key="site").set_value("main").run()  # a filter change, logged
    # Not the PDF: it is the pack's HTML (read here) printed, and its text is compressed
    # (FlateDecode), so no number in it could be found in its bytes.
    made = b"".join(make() for name, make in downloads.items() if not name.endswith(".pdf"))
    settings = load_settings()
    files = {
        "warehouse": messy_db.read_bytes(),
        "access log": settings.access.access_log.read_bytes(),
        "users file": settings.access.users_file.read_bytes(),
        "downloads": made,
    }
    assert downloads
    for name, content in files.items():
        text = content.decode("utf-8", errors="ignore")
        flat = re.sub(r"[ -]", "", text)
        assert not [n for n in digits if n in flat], f"an NHS number in the {name}"
        for _, password in accounts.values():
            assert password not in text, f"a password in the {name}"
    stored = json.loads(files["users file"])["users"]
    assert all(u["password_hash"].startswith("$argon2id$") for u in stored.values())
    events = access_log.read(settings.access.access_log)
    assert {"sign_in", "view", "filter"} <= set(events["event"])


def test_an_audit_pack_download_is_the_signed_in_roles_and_is_logged(
    app, sample_db, downloads, monkeypatch
):
    at = app(sample_db, "overview", Role.COMMISSIONER)
    assert not at.exception
    (name,) = [n for n in downloads if n.startswith("itb-audit-pack-") and n.endswith(".xlsx")]
    assert name.startswith("itb-audit-pack-commissioner-")
    built = []
    report = PackBuilder.report
    monkeypatch.setattr(PackBuilder, "report", lambda self: built.append(1) or report(self))
    assert downloads[name]().startswith(b"PK")
    # the page's HTML after its Excel: the same pack, built once
    assert downloads[name.removesuffix(".xlsx") + ".html"]().startswith(b"<!DOCTYPE html>")
    assert len(built) == 1
    events = access_log.read(load_settings().access.access_log)
    pack = events[(events["event"] == "download") & (events["role"] == "commissioner")]
    assert pack["detail"].astype(str).str.contains("audit pack").any()
    assert {"html", "xlsx"} <= {json.loads(d).get("format") for d in pack["detail"]}


def test_an_unusable_key_is_one_line_on_governance_pages(app, sample_db, monkeypatch):
    monkeypatch.setenv("ITB_AUDIT_PSEUDONYM_KEY", "short")
    at = app(sample_db, role=Role.GOVERNANCE)
    for page in ("refills", "overview"):
        visit(at, page)
        assert (
            "Pseudonymous patient ids cannot be shown: ITB_AUDIT_PSEUDONYM_KEY is too short "
            "(5 characters): a valid key is at least 16 characters; best, 64 random hex digits "
            "(openssl rand -hex 32)."
        ) in [e.value for e in at.error], page
        assert not patient_ids(at), page
    assert not [b for b in at.get("download_button") if b.key.startswith("report-")]  # no pack
