"""A throwaway PostgreSQL server on 127.0.0.1 for the tests (stdlib only).

As a module (tests/conftest.py loads it by path)::

    server = PgServer(); server.start(); server.url; server.stop()

As a script (.ci/run uses it)::

    eval "$(python3 tests/pgserver.py start --dir /tmp/pg)"   # exports DAT_TEST_POSTGRES_URL
    python3 tests/pgserver.py stop --dir /tmp/pg
    python3 tests/pgserver.py which                          # exit 1 when PostgreSQL is missing

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
(created by Debian's package) in a data folder owned by it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def find_pg_bin() -> Path | None:
    """The folder with initdb and pg_ctl: the newest /usr/lib/postgresql/<v>/bin, else PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: float(p.parent.name) if p.parent.name.replace(".", "").isdigit() else 0)
    for folder in reversed(candidates):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, folder: str | Path | None = None, port: int | None = None) -> None:
        self.bin = find_pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.owned_dir = folder is None
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="dat-pg-"))
        self.data = self.folder / "data"
        self.port = port or _free_port()
        self.as_root = os.geteuid() == 0
        self.url = f"postgresql+psycopg://dat:dat@127.0.0.1:{self.port}/dat_test"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, cwd="/")

    def start(self) -> PgServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
            os.chmod(self.folder, 0o755)
        result = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                           "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        result = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                           str(self.folder / "server.log"), "-o", options, "-w", "-t", "30",
                           "start", check=False)
        if result.returncode != 0:
            log = (self.folder / "server.log")
            tail = log.read_text()[-800:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr.strip()} {tail}")
        self._wait()
        self._psql("CREATE ROLE dat LOGIN SUPERUSER PASSWORD 'dat'")
        self._psql("CREATE DATABASE dat_test OWNER dat")
        (self.folder / "server.json").write_text(json.dumps(
            {"bin": str(self.bin), "port": self.port, "url": self.url, "data": str(self.data)}))
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not accept connections on port {self.port}")

    def _psql(self, sql: str, db: str = "postgres") -> None:
        result = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", db, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({sql}): {result.stderr.strip()}")

    def create_database(self, name: str) -> str:
        self._psql(f'CREATE DATABASE "{name}" OWNER dat')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop",
                      check=False)
        if self.owned_dir:
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("start", "stop", "which"):
        print("usage: pgserver.py start --dir DIR | stop --dir DIR | which", file=sys.stderr)
        return 2
    if argv[0] == "which":
        found = find_pg_bin()
        if found is None:
            print("pgserver: no PostgreSQL binaries found", file=sys.stderr)
            return 1
        print(found)
        return 0
    if len(argv) != 3 or argv[1] != "--dir":
        print(f"usage: pgserver.py {argv[0]} --dir DIR", file=sys.stderr)
        return 2
    folder = Path(argv[2])
    try:
        if argv[0] == "start":
            server = PgServer(folder).start()
            print(f"export DAT_TEST_POSTGRES_URL={server.url}")
        else:
            info = json.loads((folder / "server.json").read_text())
            server = PgServer(folder, port=info["port"])
            server.stop()
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"pgserver: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
