"""The dashboard as replicas behind nginx, on one warehouse (docs/deploy.md): `make replicas`
(python -m pipelines.replicas) for a person to try, and the replicas browser test's fixture.
Each replica is a `streamlit run dashboard/app.py` on a free 127.0.0.1 port with the same
ITB_AUDIT_DB and ITB_AUDIT_USERS; nginx (pipelines/nginx.conf.template) runs unprivileged from a
private folder, pins each browser to one replica with a cookie and carries the websocket.

The warehouse is any address (pipelines.warehouse): a file, or a lake that every replica reads.
A lake's catalog password reaches the replicas as it reaches this launcher, in the environment
(PGPASSWORD or PGPASSFILE), never on a command line: an address holds none."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.lake import LakeError
from pipelines.warehouse import Db, lake_address

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = Path("/usr/sbin/nginx")


@dataclass(frozen=True)
class Deployment:
    db: str  # the warehouse address every replica reads (ITB_AUDIT_DB)
    url: str  # nginx's
    replicas: tuple[str, ...]  # each replica's own URL, in the upstream's order
    access_log: Path  # nginx's: each request's replica key and upstream


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_conf(listen: int, replica_ports: list[int], folder: Path) -> str:
    """The template with the listening port, the replicas and the folder for logs filled in."""
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=2 fail_timeout=10s;" for port in replica_ports
    )
    return (
        TEMPLATE.read_text()
        .replace("@REPLICAS@", servers)
        .replace("@LOGS@", str(folder))
        .replace("@LISTEN@", f"127.0.0.1:{listen}")
    )


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float) -> None:
    """Poll url until it answers "ok"; RuntimeError with the log if the process exits or the
    time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url}'s process exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer ok in {seconds:g} s:\n{log.read_text()}")
        time.sleep(0.2)


def _refuse_if_in_use(port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as error:
            raise RuntimeError(f"127.0.0.1:{port} is not free ({error.strerror})") from None


@contextmanager
def _running(command: list[str], env: dict[str, str], log: Path, stop: int) -> Iterator:
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        yield process
    finally:
        process.send_signal(stop)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def streamlit(port: int, env: dict[str, str], log: Path, seconds: float = 60) -> Iterator[str]:
    """One dashboard process on 127.0.0.1:port, healthy; its URL."""
    command = [
        sys.executable,
        *("-m", "streamlit", "run", str(APP)),
        *("--server.headless", "true", "--server.address", "127.0.0.1"),
        *("--server.port", str(port), "--browser.gatherUsageStats", "false"),
        *("--server.fileWatcherType", "none"),
    ]
    url = f"http://127.0.0.1:{port}"
    with _running(command, env, log, signal.SIGTERM) as process:
        wait_until_healthy(f"{url}/_stcore/health", process, log, seconds)
        yield url


@contextmanager
def serve(db: Db, users: Path, replicas: int = 2, port: int | None = None) -> Iterator[Deployment]:
    """`replicas` dashboard processes on the warehouse address db and the users file, behind
    nginx on port (a free one by default), all healthy; stopped on exit. A malformed lake
    address is a RuntimeError before anything starts."""
    try:
        lake_address(db)
    except LakeError as error:
        raise RuntimeError(f"--db: {error}") from None
    db = os.fspath(db)
    if not NGINX.exists():
        raise RuntimeError(f"nginx is not installed at {NGINX} (`make nginx-deps`)")
    if port:
        _refuse_if_in_use(port)  # before starting the replicas, not after
    env = {**os.environ, "ITB_AUDIT_DB": db, "ITB_AUDIT_USERS": str(users)}
    with ExitStack() as stack:
        # Not under a private (0700) temporary folder: run as root, nginx's workers are `nobody`
        # and must reach their temporary files here.
        folder = Path(tempfile.mkdtemp(prefix="itb-replicas-"))
        folder.chmod(0o755)
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        ports = [free_port() for _ in range(replicas)]
        urls = tuple(
            stack.enter_context(streamlit(p, env, folder / f"replica-{i}.log"))
            for i, p in enumerate(ports)
        )
        listen = port or free_port()
        conf = folder / "nginx.conf"
        conf.write_text(nginx_conf(listen, ports, folder))
        error_log = folder / "error.log"
        command = [
            str(NGINX),
            *("-p", str(folder), "-c", str(conf), "-e", str(error_log)),
            *("-g", f"daemon off; pid {folder / 'nginx.pid'};"),
        ]
        # SIGQUIT: nginx's graceful stop (it closes the open websockets)
        nginx = stack.enter_context(_running(command, env, folder / "nginx.out", signal.SIGQUIT))
        url = f"http://127.0.0.1:{listen}"
        wait_until_healthy(f"{url}/healthz", nginx, error_log, 30)
        yield Deployment(db, url, urls, folder / "access.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default=os.environ.get("ITB_AUDIT_DB") or None,
        help="the warehouse: a DuckDB file or a lake address (default: ITB_AUDIT_DB); a lake's "
        "password from PGPASSWORD or PGPASSFILE",
    )
    parser.add_argument("--users", type=Path, required=True, help="the users file")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="nginx's port on 127.0.0.1")
    args = parser.parse_args()
    if args.db is None:
        parser.error("--db or ITB_AUDIT_DB names the warehouse")
    # SIGTERM stops them all as Ctrl-C does, at any moment, starting up included: by default it
    # would end this process alone and leave the replicas and nginx running. (A handler, not a
    # blocked signal: the processes started here inherit a signal mask, not a handler.)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with serve(args.db, args.users, args.replicas, args.port) as deployment:
            # flushed: whoever reads this through a pipe learns at once that they are up
            print(f"nginx at {deployment.url}, replicas at {', '.join(deployment.replicas)}")
            print("Ctrl-C stops them all.", flush=True)
            while True:
                signal.pause()
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        # one line: what failed and the last line of its log (where nginx and Streamlit say why)
        first, *log = str(error).splitlines()
        print(f"replicas: {first} {log[-1] if log else ''}".strip(), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
