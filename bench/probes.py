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
``tui-paint URL LAUNCHED``
    starts the Textual app headless (``App.run_test``) and prints, as JSON, the seconds
    from ``LAUNCHED`` (the harness's ``time.time()`` just before it started this process)
    until the first table of the first screen has rows.
"""

from __future__ import annotations

import csv
import json
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


def tui_paint(url: str, launched: float) -> None:
    import asyncio

    try:
        from textual.widgets import DataTable

        from dat.cli.tui.app import DatApp
    except Exception as exc:  # textual missing or the app is being rewritten
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return

    async def run() -> dict:
        try:
            app = DatApp(url)
        except TypeError:
            app = DatApp()
        async with app.run_test(size=(160, 48), headless=True) as pilot:
            deadline = time.time() + 30
            while time.time() < deadline:
                tables = [(t.id, t.row_count) for t in app.screen.query(DataTable)]
                filled = [t for t in tables if t[1] > 0]
                if filled:
                    painted = time.time() - launched
                    return {"seconds": painted, "cpu": time.process_time(), "table": filled[0][0],
                            "rows": filled[0][1]}
                await pilot.pause(0.01)
            return {"error": f"no table got rows within 30 s (tables: {tables})"}

    print(json.dumps(asyncio.run(run())))


def main(argv: list[str]) -> None:
    name, args = argv[0], argv[1:]
    if name == "import-baseline":
        import_baseline(*args)
    elif name == "compare-baseline":
        compare_baseline(*args)
    elif name == "help-modules":
        help_modules()
    elif name == "tui-paint":
        tui_paint(args[0], float(args[1]))
    else:
        raise SystemExit(f"unknown probe {name!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
