"""Imports under kill -9 and concurrency (issue 11, item 7): nothing partial is ever visible.

- kill -9 while a large import is demonstrably writing (the SQLite WAL has grown, or
  PostgreSQL shows the COPY in pg_stat_activity) leaves the database digest as it was, and
  the same import run again succeeds;
- two imports at once both land, nothing lost;
- eight readers polling during an import see the row count before or after, never between.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import db_digest, run_dat

pytestmark = pytest.mark.slow

H = "partnership,indicator,period,value,numerator,denominator,note\n"


def _dat_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("dat")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dat.cli.main"]


def _periods() -> list[str]:
    out = []
    for y in range(1900, 2200):
        fy = f"{y}/{(y + 1) % 100:02d}"
        out += [fy, *(f"{fy} Q{q}" for q in range(1, 5)), f"{fy} Q1-Q2", f"{fy} Q1-Q3"]
    return out


def _count(url: str, sql: str = "SELECT count(*) FROM observation") -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def _targets(url: str) -> list[tuple[str, str]]:
    """(partnership, count indicator) pairs the file can use."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            slugs = [r[0] for r in conn.execute(text("SELECT slug FROM partnership ORDER BY slug"))]
            codes = [r[0] for r in conn.execute(text("SELECT code FROM indicator WHERE unit = 'count' ORDER BY code"))]
    finally:
        engine.dispose()
    return [(s, c) for s in slugs for c in codes]


def _write(path: Path, pairs: list[tuple[str, str]], rows: int, value: int = 7) -> int:
    periods = _periods()
    lines, n = [H], 0
    for slug, code in pairs:
        for p in periods:
            lines.append(f"{slug},{code},{p},{value},,,\n")
            n += 1
            if n == rows:
                path.write_text("".join(lines))
                return n
    path.write_text("".join(lines))
    return n


@pytest.fixture
def ready(db_url):
    out = run_dat("--db", db_url, "partnerships", "-f", "json")
    assert out.returncode == 0, out.stderr
    return db_url


def _writing(url: str, proc: subprocess.Popen) -> bool:
    if url.startswith("sqlite"):
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        return wal.exists() and wal.stat().st_size > 2 * 2**20
    return _count(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY observation%' "
                       "AND datname = current_database()") > 0


def test_kill_9_during_a_large_import_leaves_nothing_partial(ready, tmp_path):
    url = ready
    big = tmp_path / "big.csv"
    rows = _write(big, _targets(url), 150_000)
    assert rows == 150_000
    before, count_before = db_digest(url), _count(url)
    proc = subprocess.Popen([*_dat_cmd(), "--db", url, "import", str(big), "--allow-future"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not _writing(url, proc):
        assert proc.poll() is None, "the import ended before it was seen writing: make the file bigger"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert db_digest(url) == before
    again = run_dat("--db", url, "import", str(big), "--allow-future")
    assert again.returncode == 0, again.stderr
    assert _count(url) == count_before + rows


def test_two_concurrent_imports_lose_nothing(ready, tmp_path):
    url = ready
    pairs = _targets(url)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    na = _write(a, pairs[:1], 2000)
    nb = _write(b, pairs[1:2], 2000)
    start = _count(url)
    procs = [subprocess.Popen([*_dat_cmd(), "--db", url, "import", str(f), "--allow-future"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for f in (a, b)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "Traceback" not in err
    assert _count(url) == start + na + nb


def test_eight_readers_see_before_or_after(ready, tmp_path):
    url = ready
    f = tmp_path / "mid.csv"
    n = _write(f, _targets(url), 40_000)
    before = _count(url)
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                while not done.is_set():
                    seen.append(int(conn.execute(text("SELECT count(*) FROM observation")).scalar_one()))
                    conn.rollback()
                    time.sleep(0.01)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    out = run_dat("--db", url, "import", str(f), "--allow-future")
    time.sleep(0.1)
    done.set()
    for t in threads:
        t.join()
    assert out.returncode == 0, out.stderr
    assert not errors, errors
    assert set(seen) <= {before, before + n} and seen, sorted(set(seen))
    assert _count(url) == before + n
