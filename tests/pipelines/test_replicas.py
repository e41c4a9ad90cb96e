"""The nginx configuration the replicas run behind, and the launcher's refusal (the browser test,
tests/dashboard/test_replicas.py, drives them for real)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
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
