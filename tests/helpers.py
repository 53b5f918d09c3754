"""Helpers shared by tests (tests/ is on sys.path via pytest's ``pythonpath``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_PLUGINS = Path(__file__).with_name("plugins")


def make_entry_points(tmp_path: Path, plugins: dict[str, str], dist: str = "dat-fixture-plugins") -> Path:
    """Write a real distribution (dist-info with entry_points.txt) declaring ``plugins``
    (entry-point name -> "module[:attr]") in the ``dat`` group; return the folder to put on
    ``sys.path``/``PYTHONPATH``. importlib.metadata finds it like any installed package."""
    site = tmp_path / "site"
    info = site / f"{dist.replace('-', '_')}-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in plugins.items())
    (info / "entry_points.txt").write_text(f"[dat]\n{lines}\n")
    return site


def run_dat(*args: str, env: dict | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``dat`` console script in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    exe = Path(sys.executable).with_name("dat")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "dat.cli.main"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env,
                          input=input, timeout=timeout)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def db_digest(url: str) -> str:
    """A SHA-256 over every row of every table in the database at ``url`` (tables and rows
    in a fixed order), so a test can assert that a refused command changed nothing."""
    import hashlib

    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        digest = hashlib.sha256()
        with engine.connect() as conn:
            for name in sorted(meta.tables):
                table = meta.tables[name]
                digest.update(f"\x00table {name}\x00".encode())
                rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for row in rows:
                    digest.update(row.encode())
                    digest.update(b"\x00")
        return digest.hexdigest()
    finally:
        engine.dispose()
