"""Small programs the harness runs in child processes (``python -m bench.probes NAME ...``).

Each one is a baseline or a measurement that must run in its own process so that its time
and peak memory are its own:

``import-baseline URL CSV``
    the "raw driver" import: read the same CSV with :mod:`csv`, map names to ids and insert
    every row with ``sqlite3`` ``executemany`` (or psycopg ``executemany`` on PostgreSQL) in
    one transaction. No checks, no revisions: the floor dat's import is held against.
``compare-baseline URL CODE``
    a bare Python process that opens the database and runs the SQL ``dat compare`` needs
    (partnerships, the latest period, that period's and the previous period's figures,
    the indicator's targets) and prints the rows.
``help-modules``
    runs ``dat --help`` in-process and prints which heavy modules it imported (JSON).
``tui-pty TEXT [RUNS]``
    runs the real ``dat tui`` (with the environment's database) in a pseudo-terminal
    ``RUNS`` times (:func:`tui_pty`) and prints each run's figures as JSON, one line each.

:func:`tui_pty` is also what the harness and tests/test_bench.py call directly.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time

HEAVY = ("textual", "sqlalchemy", "jinja2", "sqlmodel", "openpyxl", "rich.table")


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_path(url: str) -> str:
    return url.split("sqlite:///", 1)[1]


def import_baseline(url: str, path: str) -> None:
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    origin = "import:baseline"
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(_sqlite_path(url))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        ph = "?"
    else:
        import psycopg

        conn = psycopg.connect(_pg_dsn(url))
        ph = "%s"
    parts = dict(conn.execute("SELECT slug, id FROM partnership").fetchall())
    inds = dict(conn.execute("SELECT code, id FROM indicator").fetchall())

    def num(s: str):
        return float(s) if s else None

    def rows():
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for slug, code, period, value, numerator, denominator, note in reader:
                yield (parts[slug], inds[code], period, 1, True, num(value), num(numerator),
                       num(denominator), "final", note or None, origin, now)

    sql = ("INSERT INTO observation (partnership_id, indicator_id, period, revision, is_current, "
           "value, numerator, denominator, status, commentary, origin, recorded_at) VALUES ("
           + ", ".join([ph] * 12) + ")")
    if url.startswith("sqlite"):
        with conn:
            conn.executemany(sql, rows())
    else:
        with conn.cursor() as cur:
            cur.executemany(sql, list(rows()))
        conn.commit()
    conn.close()


def compare_baseline(url: str, code: str) -> None:
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(_sqlite_path(url))
        ph, true = "?", "1"
    else:
        import psycopg

        conn = psycopg.connect(_pg_dsn(url))
        ph, true = "%s", "true"
    iid = conn.execute(f"SELECT id FROM indicator WHERE code = {ph}", (code,)).fetchone()[0]
    parts = conn.execute("SELECT id, slug, name, region, parent_id, comparator_group, area_type "
                         "FROM partnership").fetchall()
    periods = sorted(r[0] for r in conn.execute(
        f"SELECT DISTINCT period FROM observation WHERE indicator_id = {ph} AND is_current = {true}",
        (iid,)))
    latest = periods[-1]
    previous = periods[-2] if len(periods) > 1 else latest
    figures = conn.execute(
        "SELECT partnership_id, period, value, numerator, denominator, ci_low, ci_high FROM observation "
        f"WHERE indicator_id = {ph} AND is_current = {true} AND period IN ({ph}, {ph})",
        (iid, latest, previous)).fetchall()
    targets = conn.execute(f"SELECT * FROM target WHERE indicator_id = {ph}", (iid,)).fetchall()
    names = {p[0]: p[1] for p in parts}
    out = csv.writer(sys.stdout)
    for f in figures:
        if f[1] == latest:
            out.writerow((names[f[0]], *f[2:]))
    sys.stdout.write(f"# {len(targets)} targets\n")
    conn.close()


def help_modules() -> None:
    import io
    from contextlib import redirect_stdout

    from dat.cli.main import main

    buf = io.StringIO()
    try:
        with redirect_stdout(buf):
            main(["--help"])
    except SystemExit:
        pass
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    print(json.dumps({"heavy": loaded, "help_lines": buf.getvalue().count("\n")}))


def tui_pty(cmd: list[str], env: dict[str, str], expect: str, *, size: tuple[int, int] = (120, 40),
            timeout: float = 30.0) -> dict:
    """Start ``cmd`` (``dat tui``) in a pseudo-terminal of ``size`` (columns, lines) and read
    what it draws through a VT100 emulator (pyte), as a terminal would. Returns, in seconds of
    wall-clock time from just before the process was started:

    - ``first_output``: the first bytes the app wrote (its first frame is on its way);
    - ``paint``: the arrival of the output after which a line of the screen holds ``expect``
      (text of a scorecard row, e.g. an indicator's name);

    - ``paint_cpu``: the CPU time (user + system, all threads) the process had used by then,
      from ``/proc`` (None elsewhere): steadier than wall time on a busy machine;

    then it presses ``q`` and gives ``quit``: from the key press until the process has exited,
    and ``exit``, its exit status. ``screen`` is the screen at first paint (text). On failure
    (nothing painted in ``timeout``), ``error`` says why and the process is killed."""
    import fcntl
    import select
    import struct
    import subprocess
    import termios

    try:
        import pyte
    except ImportError:
        return {"error": "the pty probe needs pyte (pip install -e '.[test]')"}
    cols, lines = size
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, cols, 0, 0))
    screen = pyte.Screen(cols, lines)
    stream = pyte.ByteStream(screen)
    env = {**env, "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)

    def take_terminal() -> None:  # in the child, after setsid: the pty is its terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, preexec_fn=take_terminal)
    os.close(slave)
    first: float | None = None
    paint: float | None = None
    paint_cpu: float | None = None

    def cpu_used() -> float | None:
        try:
            with open(f"/proc/{proc.pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def read(wait: float) -> bool:
        """Feed what has arrived to the emulator; False once the child closed the terminal."""
        nonlocal first
        ready, _, _ = select.select([master], [], [], wait)
        if not ready:
            return True
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: every copy of the terminal's other side is closed
            return False
        arrived = time.perf_counter() - started
        if first is None:
            first = arrived
        stream.feed(data)
        nonlocal paint, paint_cpu
        if paint is None and any(expect in line for line in screen.display):
            paint, paint_cpu = arrived, cpu_used()
        return bool(data)

    try:
        deadline = time.monotonic() + timeout
        while paint is None and time.monotonic() < deadline and read(0.05):
            pass
        shown = "\n".join(line.rstrip() for line in screen.display)
        if paint is None:
            return {"error": f"no line with {expect!r} within {timeout:g} s", "screen": shown,
                    "exit": proc.poll()}
        pressed = time.perf_counter()
        os.write(master, b"q")
        while proc.poll() is None and time.perf_counter() - pressed < timeout:
            if not read(0.005):
                proc.wait(timeout)
        quit_s = time.perf_counter() - pressed
        if proc.poll() is None:
            return {"error": f"still running {timeout:g} s after q", "screen": shown}
        return {"first_output": first, "paint": paint, "paint_cpu": paint_cpu, "quit": quit_s,
                "exit": proc.returncode, "screen": shown}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def main(argv: list[str]) -> None:
    name, args = argv[0], argv[1:]
    if name == "import-baseline":
        import_baseline(*args)
    elif name == "compare-baseline":
        compare_baseline(*args)
    elif name == "help-modules":
        help_modules()
    elif name == "tui-pty":
        dat = os.path.join(os.path.dirname(sys.executable), "dat")
        for _ in range(int(args[1]) if len(args) > 1 else 1):
            result = tui_pty([dat, "tui"], dict(os.environ), args[0])
            print(json.dumps({k: v for k, v in result.items() if k != "screen"}), flush=True)
    else:
        raise SystemExit(f"unknown probe {name!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
