"""All my sites (docs/access.md, "Sites"): a user of several sites who may not see every site's
figures sees figures over exactly their sites. A hand-made warehouse of three sites, alder,
beech and cedar (every record id starting ZQA, ZQB, ZQC): a user of alder and beech is offered
"All my sites", and its figures are alder's plus beech's, on the pages, in the pack and from
`report --user`, and nothing of cedar's is shown anywhere."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboard import data
from dashboard.filters import ALL_MY_SITES, Filters
from pipelines.access import users
from pipelines.access.roles import PAGES, Forbidden, Role
from pipelines.cli import app as cli
from pipelines.config import Settings, load_settings
from pipelines.figures.disclosure import Disclosure, suppress_kpis
from pipelines.figures.kpis import compute_kpis
from pipelines.report import Request, build, pack_bytes, report_bytes
from tests.dashboard.conftest import APP, sign_in
from tests.dashboard.test_sites import assert_none_of, file_text, visit_every_page
from tests.fixtures.kpi_fixtures import END, START, Warehouse

# site -> (id prefix, referrals seen within the 42-day target, seen after it, trial outcomes)
SITES = {
    "alder": ("ZQA", 3, 1, ("positive", "positive", "negative")),
    "beech": ("ZQB", 2, 2, ("positive",)),
    "cedar": ("ZQC", 5, 0, ("positive", "positive", "positive", "positive")),
}
MINE = frozenset({"alder", "beech"})
YEAR = Filters(START, END)
CEDAR = {"ZQC", "cedar"}  # its ids, and its name: nothing of cedar's is shown at all
ADDED = ("waits.seen", "waits.within_target", "trials.patients", "trials.responders")
ADDED += tuple(f"activity.{k}" for k in ("referrals_received", "trials", "new_implants", "refills"))


@pytest.fixture(scope="module")
def three_sites_db(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("three_sites") / "w.duckdb")
    for site, (prefix, within, over, outcomes) in SITES.items():
        for i in range(within + over):
            patient, referral = f"{prefix}P{i}", f"{prefix}R{i}"
            w.add("patients", site, patient_id=patient)
            w.add(
                "referrals",
                site,
                referral_id=referral,
                patient_id=patient,
                received_date=dt.date(2024, 3, 1),
            )
            w.add(
                "appointments",
                site,
                appointment_id=f"{prefix}A{i}",
                referral_id=referral,
                patient_id=patient,
                appointment_date=dt.date(2024, 4, 12 + (i >= within)),
            )
        for i, outcome in enumerate(outcomes):
            w.add(
                "trials",
                site,
                trial_id=f"{prefix}T{i}",
                patient_id=f"{prefix}P{i}",
                trial_date=dt.date(2024, 5, 1),
                outcome=outcome,
            )
        w.add(
            "implants",
            site,
            implant_id=f"{prefix}I0",
            patient_id=f"{prefix}P0",
            implant_date=dt.date(2024, 6, 1),
            first_refill_due_date=dt.date(2024, 8, 1),
        )
        w.add(
            "refills",
            site,
            refill_id=f"{prefix}F0",
            implant_id=f"{prefix}I0",
            patient_id=f"{prefix}P0",
            refill_date=dt.date(2024, 7, 30),
        )
    w.mark_loaded(sites=tuple(SITES))
    w.close()
    return w.path


def value(figures: dict, dotted: str):
    for key in dotted.split("."):
        figures = figures[key]
    return figures


def test_figures_over_my_sites_are_the_sum_of_theirs(three_sites_db):
    one = {site: compute_kpis(three_sites_db, START, END, site, Settings()) for site in SITES}
    mine = compute_kpis(three_sites_db, START, END, MINE, Settings())
    every = compute_kpis(three_sites_db, START, END, None, Settings())
    assert mine["period"]["site"] == ["alder", "beech"]
    assert mine["loads"] == {"alder": every["loads"]["alder"], "beech": every["loads"]["beech"]}
    assert value(mine, "waits.seen") == 8 and value(every, "waits.seen") == 13  # not cedar's 5
    assert value(mine, "waits.within_target") == 5
    assert value(mine, "trials.responders") == 3
    for key in ADDED:
        assert value(mine, key) == value(one["alder"], key) + value(one["beech"], key), key
    # one site as a set of one is that site
    alder = compute_kpis(three_sites_db, START, END, frozenset({"alder"}), Settings())
    assert {k: v for k, v in alder.items() if k != "period"} == {
        k: v for k, v in one["alder"].items() if k != "period"
    }


def test_the_query_layer_takes_my_sites_and_refuses_another(three_sites_db, monkeypatch):
    monkeypatch.setenv("ITB_AUDIT_DB", str(three_sites_db))
    monkeypatch.setattr(data, "current_sites", lambda: MINE)
    mine = YEAR.with_site(MINE)
    figures = compute_kpis(three_sites_db, START, END, MINE, load_settings())
    assert data.kpis(mine, Role.CLINICIAN) == figures
    commissioned = suppress_kpis(figures, Disclosure.from_settings(load_settings()))
    assert data.kpis(mine, Role.COMMISSIONER) == commissioned
    rows = data.mart("waits", mine, Role.CLINICIAN)
    assert sorted(set(rows["site"])) == ["alder", "beech"] and len(rows) == 8
    assert data.sites_in_scope(mine) == ["alder", "beech"]
    assert sorted(data.current_loads(MINE)["site"]) == ["alder", "beech"]
    assert set(data.quarantine(MINE, Role.DATA_MANAGER).get("site", [])) <= MINE
    for role in (Role.CLINICIAN, Role.COMMISSIONER):
        for asked in (YEAR, YEAR.with_site(frozenset({"alder", "cedar"}))):
            with pytest.raises(Forbidden):
                data.kpis(asked, role)


@pytest.fixture(scope="module")
def my_users(accounts) -> dict[Role, tuple[str, str]]:
    """role -> (user name, password) of a user of alder and beech."""
    store = users.store(load_settings())
    made = {}
    for role in (Role.CLINICIAN, Role.COMMISSIONER, Role.DATA_MANAGER):
        name, password = f"ab-{role.value.replace('_', '-')}", users.generate_password()
        store.add(name, role, password, MINE)
        made[role] = (name, password)
    return made


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.COMMISSIONER, Role.DATA_MANAGER])
def test_my_pages_show_my_sites_figures_and_nothing_of_another(
    role, my_users, three_sites_db, downloads, monkeypatch
):
    monkeypatch.setenv("ITB_AUDIT_DB", str(three_sites_db))
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), *my_users[role])
    assert not at.exception, [e.value for e in at.exception]
    site = at.selectbox(key="site")
    assert site.options == [f"{ALL_MY_SITES} (alder, beech)", "alder", "beech"]
    assert site.value == MINE  # their sites at once first
    everything, _ = visit_every_page(at, role, CEDAR, downloads)
    if role is Role.CLINICIAN:
        assert "ZQAP0" in everything and "ZQBP0" in everything  # both sites' patients listed
    if "waits" in PAGES[role]:
        at.switch_page("views/waits.py").run()
        seen = {m.label: m.value for m in at.metric}
        # 8 seen at alder and beech: shown as is, or rounded to 10 for a commissioner
        assert ("8" if role is Role.CLINICIAN else "10") in seen.values(), seen
        assert "13" not in seen.values()


def pack_figures(html: str) -> dict[str, object]:
    return {
        key: json.loads(raw.replace("&#34;", '"').replace("&quot;", '"'))
        for key, raw in re.findall(r'data-kpi="([^"]+)" data-value="([^"]*)"', html)
    }


@pytest.mark.slow
def test_the_pack_and_report_user_are_over_my_sites(three_sites_db, my_users, tmp_path):
    request = Request(
        three_sites_db, START, END, MINE, role=Role.CLINICIAN, sites=MINE, settings=Settings()
    )
    pack = build(request)
    for fmt in ("html", "xlsx"):
        assert_none_of(CEDAR, file_text(f"pack.{fmt}", pack_bytes(pack, fmt)), fmt)
    with pytest.raises(Forbidden):
        report_bytes(dataclasses.replace(request, site=frozenset({"alder", "cedar"})), "html")
    out = tmp_path / "mine.html"
    made = CliRunner().invoke(
        cli,
        ["report", "--db", str(three_sites_db), "--start", str(START), "--end", str(END)]
        + ["--out", str(out), "--user", my_users[Role.CLINICIAN][0]],
    )
    assert made.exit_code == 0, made.output
    html = out.read_text()
    assert_none_of(CEDAR, html, "report --user")
    figures = pack_figures(html)
    assert figures["period.site"] == ["alder", "beech"]
    assert figures["waits.seen"] == 8
    assert "sites alder, beech" in html
