"""ITB_AUDIT_DB: every command's --db takes its default from it (a file path or a lake
address), and --db given on the command line wins over it."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from pipelines.cli import app as cli

PERIOD = ("--start", "2025-11-02", "--end", "2026-11-01")


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def commands(group, prefix: str = ""):
    """(name, command) of every command under a group, a subcommand named after its group."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_with_a_db_takes_it_from_ITB_AUDIT_DB():
    group = typer.main.get_command(cli)
    with_db = {
        name: next(p for p in command.params if p.name == "db")
        for name, command in commands(group)
        if any(p.name == "db" for p in command.params)
    }
    assert {"kpis", "report", "load", "audit record", "audit list", "action list"} <= set(with_db)
    assert {name: option.envvar for name, option in with_db.items()} == dict.fromkeys(
        with_db, "ITB_AUDIT_DB"
    )


def test_kpis_reads_the_warehouse_ITB_AUDIT_DB_names(sample_db: Path, tmp_path: Path):
    named = run("kpis", "--db", str(sample_db), *PERIOD, "--json")
    from_env = run("kpis", *PERIOD, "--json", env={"ITB_AUDIT_DB": str(sample_db)})
    assert named.exit_code == 0 and from_env.exit_code == 0, from_env.output
    assert '"seen": ' in named.stdout and from_env.stdout == named.stdout
    # --db on the command line wins over the environment
    missing = str(tmp_path / "no.duckdb")
    overridden = run(
        "kpis", "--db", str(sample_db), *PERIOD, "--json", env={"ITB_AUDIT_DB": missing}
    )
    assert overridden.exit_code == 0 and overridden.stdout == named.stdout
    # and the environment's warehouse is the one read: a missing file is the usual one line
    refused = run("kpis", *PERIOD, "--json", env={"ITB_AUDIT_DB": missing})
    assert refused.exit_code == 2 and "warehouse file not found" in refused.output
    assert "Traceback" not in refused.output


def test_audit_list_reads_ITB_AUDIT_DB(sample_db: Path):
    named = run("audit", "list", "--db", str(sample_db))
    from_env = run("audit", "list", env={"ITB_AUDIT_DB": str(sample_db)})
    assert named.exit_code == 0 and from_env.exit_code == 0, from_env.output
    assert from_env.output == named.output


def test_without_db_or_ITB_AUDIT_DB_the_option_is_missing():
    result = run("kpis", *PERIOD, "--json", env={"ITB_AUDIT_DB": ""})
    assert result.exit_code == 2 and "Missing option '--db'" in result.output
