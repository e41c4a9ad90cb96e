"""The nginx configuration the replicas run behind, and the launcher's refusal (the browser test,
tests/dashboard/test_replicas.py, drives them for real)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.replicas import NGINX, nginx_conf

needs_nginx = pytest.mark.skipif(not NGINX.exists(), reason=f"no nginx at {NGINX}")


@needs_nginx
def test_the_filled_in_template_is_a_configuration_nginx_accepts(tmp_path):
    conf = nginx_conf(18080, [18501, 18502], tmp_path)
    assert not re.search(r"@[A-Z]+@", conf)
    assert re.findall(r"server 127\.0\.0\.1:(\d+) ", conf) == ["18501", "18502"]
    assert re.search(r"^\s*hash \$replica_key consistent;", conf, re.M)
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
        + ["-e", str(tmp_path / "error.log"), "-g", f"pid {tmp_path / 'nginx.pid'};"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


@needs_nginx
def test_a_port_in_use_is_one_line_and_exit_code_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = subprocess.run(
            [sys.executable, "-m", "pipelines.replicas", "--db", str(tmp_path / "w.duckdb")]
            + ["--users", str(tmp_path / "users.json"), "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            timeout=60,
        )
    assert ran.returncode == 2
    assert ran.stderr.count("\n") == 1 and "is not free (Address already in use)" in ran.stderr, (
        ran.stderr
    )
    assert "Traceback" not in ran.stderr


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> list[str]:
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")[:-1]


def _environ(pid: int) -> dict[str, str]:
    pairs = (Path("/proc") / str(pid) / "environ").read_bytes().decode().split("\0")
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


@needs_nginx
@pytest.mark.lake
@pytest.mark.slow
def test_the_replicas_run_on_a_lake_address_with_the_password_only_in_their_environment(
    postgres, sample_lake: str, tmp_path: Path
):
    """`python -m pipelines.replicas --db LAKE`: both replicas read the address as given (a
    path would have made its // one /), and the catalog's password is in their environment,
    where libpq reads it, and on no command line of the launcher, a replica or nginx."""
    launcher = subprocess.Popen(
        [sys.executable, "-m", "pipelines.replicas", "--db", sample_lake]
        + ["--users", str(tmp_path / "users.json"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PGPASSWORD": postgres.password},
    )
    try:
        assert launcher.stdout is not None
        started = launcher.stdout.readline()
        assert started.startswith("nginx at http://127.0.0.1:"), started
        children = {pid: _cmdline(pid) for pid in _children(launcher.pid)}
        replicas = [pid for pid, argv in children.items() if "streamlit" in argv]
        assert len(replicas) == 2 and len(children) == 3, children  # and nginx
        assert sample_lake in _cmdline(launcher.pid)
        for pid in [launcher.pid, *children]:
            assert not any(postgres.password in arg for arg in _cmdline(pid))
        for pid in replicas:
            env = _environ(pid)
            assert env["ITB_AUDIT_DB"] == sample_lake
            assert env["PGPASSWORD"] == postgres.password
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=30)
    assert launcher.returncode == 0


def test_a_lake_address_with_a_password_is_refused_before_anything_starts(tmp_path):
    secret = "s3cret-4711"
    ran = subprocess.run(
        [sys.executable, "-m", "pipelines.replicas", "--users", str(tmp_path / "users.json")]
        + ["--db", f"ducklake+postgresql://itb:{secret}@127.0.0.1:5432/lake?data_path=/x/"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr == (
        "replicas: --db: a lake address holds no password: set PGPASSWORD or PGPASSFILE\n"
    )


@needs_nginx
@pytest.mark.slow
def test_sigterm_while_starting_stops_every_replica(tmp_path: Path):
    """A SIGTERM before the launcher is up (a service manager stopping it) stops the replicas it
    had started, as Ctrl-C does: none is left running without it."""
    launcher = subprocess.Popen(
        [sys.executable, "-m", "pipelines.replicas", "--db", str(tmp_path / "w.duckdb")]
        + ["--users", str(tmp_path / "users.json"), "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )
    started: list[int] = []
    for _ in range(600):
        started = _children(launcher.pid)
        if started:
            break
        time.sleep(0.05)
    assert started, "no replica was started"
    launcher.send_signal(signal.SIGTERM)
    launcher.wait(timeout=60)
    time.sleep(0.5)
    assert [pid for pid in started if Path(f"/proc/{pid}").exists()] == []
