"""Site-scoped access (docs/access.md, "Sites"): two Trusts, north and south, on one warehouse
(tests/conftest.py's two_sites_db: every record id of north starts with NOR, of south with SOU).
No page, download, pack or command-line call gives a user of north a patient row of south:
the query layer holds, whatever site a page asks for; governance of north sees north's
pseudonyms and network figures; a commissioner of north gets north's suppressed figures only."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboard import data
from dashboard.filters import NETWORK_FIGURES, Filters
from pipelines.access import users
from pipelines.access.roles import PAGES, Forbidden, Role, display_id, is_record_id
from pipelines.cli import app as cli
from pipelines.config import load_settings
from pipelines.figures.disclosure import Disclosure, suppress_kpis
from pipelines.figures.kpis import compute_kpis
from pipelines.load.pseudonym import resolve_key
from pipelines.report import Request, build, pack_bytes, report_bytes
from tests.dashboard.conftest import APP, sign_in
from tests.fixtures.extract_builder import SITE_AS_OF

NORTH = frozenset({"north"})
YEAR = Filters(dt.date(2024, 1, 1), dt.date.fromisoformat(SITE_AS_OF))
MARTS = [p.stem for p in (Path(__file__).resolve().parents[2] / "queries" / "marts").glob("*.sql")]
ROLES = (Role.CLINICIAN, Role.GOVERNANCE, Role.COMMISSIONER, Role.DATA_MANAGER)


@pytest.fixture(scope="module")
def north_users(accounts) -> dict[Role, tuple[str, str]]:
    """role -> (user name, password) of a user of site north only, in the session's users file
    (after the demo users: `accounts` makes them only in a users file that does not exist yet)."""
    store = users.store(load_settings())
    made = {}
    for role in ROLES:
        name, password = f"north-{role.value.replace('_', '-')}", users.generate_password()
        store.add(name, role, password, NORTH)
        made[role] = (name, password)
    return made


@pytest.fixture(scope="module")
def south_ids(two_sites_db) -> set[str]:
    """Every record id of site south, and the pseudonym governance would see for each."""
    key = resolve_key(load_settings().pseudonym_key_file)
    with duckdb.connect(str(two_sites_db), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'core'"
        ).fetchall()
        ids = {
            (column, value)
            for table, column in columns
            if is_record_id(column)
            for (value,) in con.execute(
                f"select distinct {column} from core.{table} "
                f"where site = 'south' and {column} is not null"
            ).fetchall()
        }
    assert ids and all(value.startswith("SOU") for _, value in ids)
    return {value for _, value in ids} | {
        display_id(Role.GOVERNANCE, "south", column, value, key) for column, value in ids
    }


def shown(at) -> str:
    """Everything on the page and in its sidebar: text, tables, charts (their specs)."""

    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return "\n".join(
        str(node.proto) for node in walk(at._tree) if getattr(node, "proto", None) is not None
    ) + "\n".join(frame.value.to_csv() for frame in at.dataframe)


def file_text(name: str, content: bytes) -> str:
    if name.endswith(".xlsx"):
        sheets = pd.read_excel(io.BytesIO(content), sheet_name=None, header=None)
        return "\n".join(sheet.to_csv() for sheet in sheets.values())
    return content.decode()


def assert_none_of(ids: set[str], text: str, where: str) -> None:
    leaked = sorted(i for i in ids if i in text)
    assert not leaked, (where, leaked[:5])


@pytest.fixture
def north_app(monkeypatch, two_sites_db, north_users):
    def run(role: Role):
        monkeypatch.setenv("ITB_AUDIT_DB", str(two_sites_db))
        at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), *north_users[role])
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def visit_every_page(at, role: Role, ids: set[str], downloads: dict) -> str:
    """Each of the role's pages and each of its downloads (the pack's HTML and workbook too;
    its PDF is that HTML printed): none shows one of `ids`. Returns all that was shown, and the
    names of the files downloaded."""
    seen, files = [], set()
    for page in PAGES[role]:
        downloads.clear()
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        text = shown(at)
        assert_none_of(ids, text, page)
        seen.append(text)
        for name, make in downloads.items():
            if not name.endswith(".pdf"):
                content = file_text(name, make())
                assert_none_of(ids, content, f"{page}: {name}")
                seen.append(content)
                files.add(name)
    return "\n".join(seen), files


# --- the query layer, whatever a page asks for ----------------------------------------------------


def test_the_query_layer_gives_rows_of_the_users_sites_only(two_sites_db, monkeypatch):
    monkeypatch.setenv("ITB_AUDIT_DB", str(two_sites_db))
    monkeypatch.setattr(data, "current_sites", lambda: NORTH)
    assert data.sites() == ["north"]
    for role in (Role.CLINICIAN, Role.GOVERNANCE):
        for mart in MARTS:
            rows = data.mart(mart, YEAR, role)  # every site asked for: north's rows only
            assert set(rows["site"]) <= {"north"}, (role, mart)
            with pytest.raises(Forbidden):
                data.mart(mart, YEAR.with_site("south"), role)
    assert set(data.mart("refills", YEAR, Role.CLINICIAN)["patient_id"]) == {
        "NORP11",
        "NORP12",
        "NORP13",
    }
    quarantined = data.quarantine(None, Role.DATA_MANAGER)
    assert quarantined["row_key"].tolist() == ["NORBAD"]
    with pytest.raises(Forbidden):
        data.quarantine("south", Role.DATA_MANAGER)


def test_figures_for_own_sites_and_network_figures_for_governance(two_sites_db, monkeypatch):
    monkeypatch.setenv("ITB_AUDIT_DB", str(two_sites_db))
    monkeypatch.setattr(data, "current_sites", lambda: NORTH)
    network = compute_kpis(two_sites_db, YEAR.start, YEAR.end, None)
    north = compute_kpis(two_sites_db, YEAR.start, YEAR.end, "north")
    assert network["waits"] != north["waits"]  # six referrals against three
    assert data.kpis(YEAR, Role.GOVERNANCE) == network
    assert data.kpis(YEAR.with_site("north"), Role.CLINICIAN) == north
    commissioned = suppress_kpis(north, Disclosure.from_settings(load_settings()))
    assert data.kpis(YEAR.with_site("north"), Role.COMMISSIONER) == commissioned
    for role in (Role.CLINICIAN, Role.COMMISSIONER):
        for asked in (YEAR, YEAR.with_site("south")):
            with pytest.raises(Forbidden):
                data.kpis(asked, role)
            with pytest.raises(Forbidden):
                data.monthly("waits", asked, role)
    with pytest.raises(Forbidden):
        data.kpis(YEAR.with_site("south"), Role.GOVERNANCE)


# --- pages and downloads ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_north_clinician_sees_no_patient_of_south(north_app, south_ids, downloads):
    at = north_app(Role.CLINICIAN)
    assert at.selectbox(key="site").options == ["north"]
    everything, files = visit_every_page(at, Role.CLINICIAN, south_ids, downloads)
    assert "NORP11" in everything  # north's own patients are listed
    assert {"pumps-overdue-for-a-refill.csv", "complication-case-list.csv"} <= files
    assert any(name.startswith("itb-audit-pack-clinician") for name in files)


@pytest.mark.slow
def test_north_governance_sees_norths_pseudonyms_and_network_figures(
    north_app, south_ids, downloads, two_sites_db
):
    at = north_app(Role.GOVERNANCE)
    site = at.selectbox(key="site")
    assert site.options == [NETWORK_FIGURES, "north"]
    assert site.value is None  # the network's figures first
    everything, _ = visit_every_page(at, Role.GOVERNANCE, south_ids, downloads)
    assert "PSN-" in everything and "NORP11" not in everything
    network = compute_kpis(two_sites_db, YEAR.start, YEAR.end, None)
    at.switch_page("views/waits.py").run()
    assert network["waits"]["seen"] == 6
    assert any(m.value == "6" for m in at.metric)  # the six seen at either site, not north's 3


@pytest.mark.slow
def test_a_north_commissioner_gets_norths_suppressed_figures_only(north_app, south_ids, downloads):
    at = north_app(Role.COMMISSIONER)
    assert at.selectbox(key="site").options == ["north"]
    visit_every_page(at, Role.COMMISSIONER, south_ids, downloads)
    at.switch_page("views/waits.py").run()
    assert not any(m.value == "6" for m in at.metric)  # never the network's figures


@pytest.mark.slow
def test_a_north_data_manager_sees_norths_quarantine_only(north_app, south_ids, downloads):
    at = north_app(Role.DATA_MANAGER)
    everything, _ = visit_every_page(at, Role.DATA_MANAGER, south_ids, downloads)
    assert "NORBAD" in everything


# --- the pack and the command line --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("role", "site"),
    [(Role.CLINICIAN, "north"), (Role.GOVERNANCE, None), (Role.COMMISSIONER, "north")],
)
def test_a_north_pack_holds_no_patient_of_south(two_sites_db, south_ids, role, site):
    pack = build(Request(two_sites_db, YEAR.start, YEAR.end, site, role=role, sites=NORTH))
    for fmt in ("html", "xlsx"):
        assert_none_of(south_ids, file_text(f"pack.{fmt}", pack_bytes(pack, fmt)), fmt)
    for refused in (
        "south",
        *([None] if role is not Role.GOVERNANCE else []),
    ):
        with pytest.raises(Forbidden):
            report_bytes(
                Request(two_sites_db, YEAR.start, YEAR.end, refused, role=role, sites=NORTH), "html"
            )


@pytest.mark.slow
def test_report_for_a_user_is_that_users_sites(two_sites_db, south_ids, north_users, tmp_path):
    runner = CliRunner()
    period = ["--db", str(two_sites_db), "--start", "2024-01-01", "--end", SITE_AS_OF]
    clinician = north_users[Role.CLINICIAN][0]
    out = tmp_path / "north.html"
    made = runner.invoke(
        cli, ["report", *period, "--out", str(out), "--user", clinician, "--site", "north"]
    )
    assert made.exit_code == 0, made.output
    assert "NORP11" in out.read_text()
    assert_none_of(south_ids, out.read_text(), "report --user")
    other = tmp_path / "other.html"
    refused = runner.invoke(
        cli, ["report", *period, "--out", str(other), "--user", clinician, "--site", "south"]
    )
    assert refused.exit_code == 2 and not other.exists(), refused.output
    assert refused.stderr.startswith("report not written:") and "Traceback" not in refused.output
    # naming no site, a user who may not see every site's figures gets their own site's pack
    own = tmp_path / "own.html"
    made = runner.invoke(cli, ["report", *period, "--out", str(own), "--user", clinician])
    assert made.exit_code == 0, made.output
    assert "site north" in own.read_text() and "NORP11" in own.read_text()
    assert_none_of(south_ids, own.read_text(), "report --user without --site")
    both = runner.invoke(
        cli, ["report", *period, "--out", str(out), "--user", clinician, "--role", "clinician"]
    )
    assert both.exit_code == 2 and "--user takes the user's own role" in both.output


@pytest.mark.slow
def test_a_north_data_manager_may_not_load_souths_data(
    north_app, two_sites_db, tmp_path, monkeypatch
):
    from tests.dashboard.test_uploads import upload
    from tests.fixtures.extract_builder import site_extract, write_csv_extract

    db = tmp_path / "network.duckdb"
    shutil.copyfile(two_sites_db, db)
    at = north_app(Role.DATA_MANAGER)
    monkeypatch.setenv("ITB_AUDIT_DB", str(db))
    at.switch_page("views/load.py").run()
    at.text_input[0].set_value("south")
    upload(at, write_csv_extract(tmp_path / "south", site_extract("SOU", 300)))
    assert not at.exception
    assert at.error[0].value.startswith("Not loaded: site 'south' is not one of yours (north)")
    assert db.read_bytes() == two_sites_db.read_bytes()


@pytest.mark.slow
def test_an_admin_adds_a_user_of_a_site(app, sample_db):
    at = app(sample_db, "users", Role.ADMIN)
    at.text_input[0].set_value("west-clinician")
    at.text_input[1].set_value("west, north")
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    added = {u.username: u for u in users.store(load_settings()).list()}["west-clinician"]
    assert added.sites == {"north", "west"}
    listed = next(f.value for f in at.dataframe if "user" in f.value)
    assert listed.set_index("user").loc["west-clinician", "sites"] == "north, west"
