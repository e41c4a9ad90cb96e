"""The lake groundwork (pipelines/lake.py): addresses without passwords, the extensions loaded
from their package files, and the figures on a DuckLake on PostgreSQL equal to the file's."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipelines import lake
from pipelines.figures.kpis import compute_kpis
from pipelines.lake import LakeAddress, LakeError, attach_lake


def test_an_address_names_the_catalog_and_the_data_path() -> None:
    address = LakeAddress.parse(
        "ducklake+postgresql://itb@db.trust.nhs.uk:6543/itb_lake?data_path=/srv/itb-lake/"
    )
    assert address == LakeAddress("db.trust.nhs.uk", 6543, "itb_lake", "itb", "/srv/itb-lake/")
    assert address.catalog() == "host='db.trust.nhs.uk' port='6543' dbname='itb_lake' user='itb'"
    default = LakeAddress.parse("ducklake+postgresql://itb@db/itb_lake?data_path=/srv/x/")
    assert default.port == 5432


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ducklake+postgresql://itb:secret@db/itb_lake?data_path=/x/", "holds no password"),
        ("ducklake+postgresql://itb@db/itb_lake?data_path=/x/&password=s", "holds no password"),
        ("ducklake+postgresql://itb@db/itb_lake?data_path=/x/&sslmode=off", "has no option"),
        ("postgresql://itb@db/itb_lake?data_path=/x/", "starts with ducklake+postgresql://"),
        ("ducklake+postgresql://itb@db/itb_lake", "USER@HOST:PORT/DBNAME?data_path=PATH"),
        ("ducklake+postgresql://db/itb_lake?data_path=/x/", "USER@HOST:PORT/DBNAME?data_path"),
    ],
)
def test_an_address_with_a_password_or_a_part_missing_is_refused(text: str, message: str) -> None:
    with pytest.raises(LakeError, match=message.replace("?", r"\?").replace("+", r"\+")) as e:
        LakeAddress.parse(text)
    assert "secret" not in str(e.value)


def test_extensions_load_from_the_package_files_never_the_network() -> None:
    con = lake.connect()
    loaded = dict(
        con.execute(
            "select extension_name, install_path from duckdb_extensions() where loaded"
        ).fetchall()
    )
    folder = lake.extension_directory()
    for name in lake.EXTENSIONS:
        assert Path(loaded[name]).parent.parent.parent == folder
        package = importlib.util.find_spec(lake.EXTENSIONS[name])
        assert package is not None and package.origin is not None
        assert Path(loaded[name]).resolve().is_relative_to(Path(package.origin).parent)
    settings = dict(
        con.execute(
            "select name, value from duckdb_settings() "
            "where name in ('autoinstall_known_extensions', 'autoload_known_extensions')"
        ).fetchall()
    )
    assert settings == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


@pytest.mark.lake
@pytest.mark.slow
def test_figures_on_a_lake_are_byte_identical_to_the_file(
    sample_db: Path, sample_lake: str
) -> None:
    """The bundled sample loaded into a DuckLake on PostgreSQL as into the file: the same
    compute_kpis, the same marts, the same JSON."""
    start, end = dt.date(2025, 11, 2), dt.date(2026, 11, 1)
    on_file = compute_kpis(sample_db, start, end)
    address = LakeAddress.parse(sample_lake)
    on_lake = compute_kpis(lake.open_lake(address), start, end)
    assert on_lake["waits"]["seen"] > 0  # figures, not two empty results
    assert json.dumps(on_lake) == json.dumps(on_file)
    assert list(Path(address.data_path).rglob("*.parquet"))  # the rows live under the data path


@pytest.mark.lake
@pytest.mark.slow
def test_a_wrong_password_is_one_line_without_the_password(
    postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    con = lake.connect()
    # A catalog no connection of this process opened: DuckDB shares an open database between
    # a process's connections, so reopening one (the lake tests' sample) asks for no password.
    address = replace(LakeAddress.parse(postgres.address(tmp_path / "data")), dbname="unopened")
    for attach in (lambda: attach_lake(con, address), lambda: lake.open_lake(address)):
        with pytest.raises(LakeError, match="cannot attach the lake") as e:
            attach()
        assert "\n" not in str(e.value) and "not-the-password" not in str(e.value)
        assert "password authentication failed" in str(e.value)
