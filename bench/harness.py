"""The benchmark harness: every performance budget (docs/performance.md) beside its baseline, one run.

Usage (from the repository root)::

    python -m bench                                 # 1/100, 1/10 and full size on SQLite
    python -m bench --scale 0.01                    # one size
    python -m bench --db postgresql+psycopg://dat@dbhost/postgres   # on a PostgreSQL server

Every ``dat`` figure is the whole process (``dat`` console script, wall clock), run with the
generated plugin on ``PYTHONPATH`` and only it (``DAT_LOAD_PLUGINS=bench_national``).
Peak memory is the child's ``ru_maxrss`` from ``os.wait4``. Times that are medians say so.
On PostgreSQL the harness creates (and re-creates) databases named ``dat_bench_<size>`` and
``dat_bench_<size>_base`` on the server of the ``--db`` URL; the URL's own database is used
only to issue ``CREATE DATABASE``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.generate import PLUGIN_NAME, Dataset, generate
from bench.probes import tui_pty

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024

#: "wall": elapsed time (the budgets' meaning, on an otherwise idle machine); "cpu": user +
#: system CPU time of the child, which a busy shared machine distorts far less
CLOCK = "wall"


@dataclass
class Figure:
    name: str
    measured: float | None
    unit: str  # "s" | "MB" | "" (text)
    baseline: float | None = None
    baseline_name: str = ""
    budget: str = ""
    ok: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline


@dataclass
class Run:
    scale: float
    rows: int
    engine: str
    figures: list[Figure] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)


def _dat_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("dat")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dat.cli.main"]


def run_child(cmd: list[str], env: dict[str, str], stdout: Path | None = None,
              cwd: Path | None = None) -> tuple[float, float, str, str]:
    """Run ``cmd``; return (seconds by :data:`CLOCK`, peak RSS in MB, stdout if not saved,
    stderr). Raises RuntimeError when it fails."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out_tmp:
        out_fh = stdout.open("wb") if stdout else out_tmp
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out_fh, stderr=err, env=env, cwd=cwd or ROOT)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            if CLOCK == "cpu":
                wall = usage.ru_utime + usage.ru_stime
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdout:
                out_fh.close()
        err.seek(0)
        err_text = err.read().decode("utf-8", "replace")
        out_text = ""
        if not stdout:
            out_tmp.seek(0)
            out_text = out_tmp.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {proc.returncode}: {err_text.strip()[-800:]}")
    return wall, usage.ru_maxrss / 1024, out_text, err_text  # ru_maxrss is KiB on Linux


def median_run(cmd: list[str], env: dict[str, str], repeat: int) -> tuple[float, float, str]:
    walls, peak, out = [], 0.0, ""
    for _ in range(repeat):
        wall, rss, out, _err = run_child(cmd, env)
        walls.append(wall)
        peak = max(peak, rss)
    return statistics.median(walls), peak, out


# -- databases --------------------------------------------------------------------------------

def _tag(scale: float) -> str:
    return {1.0: "full", 0.1: "tenth", 0.01: "hundredth"}.get(scale, f"s{str(scale).replace('.', '_')}")


def _pg_admin(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def _pg_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


def fresh_databases(db: str, out: Path, scale: float) -> tuple[str, str]:
    """(url for dat, url for the baseline's copy), both empty."""
    tag = _tag(scale)
    if db == "sqlite":
        main, base = out / f"dat-{tag}.sqlite3", out / f"baseline-{tag}.sqlite3"
        for p in (main, base):
            for suffix in ("", "-wal", "-shm"):
                Path(str(p) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{main}", f"sqlite:///{base}"
    name = f"dat_bench_{tag}"
    _pg_admin(db, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
              f'DROP DATABASE IF EXISTS "{name}_base" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return _pg_url(db, name), _pg_url(db, name + "_base")


def clone_database(db: str, src: str, dst: str) -> None:
    """Copy the set-up (migrated, synced, not yet imported) database for the baseline."""
    if src.startswith("sqlite"):
        import sqlite3

        s = sqlite3.connect(src.split("sqlite:///", 1)[1])
        d = sqlite3.connect(dst.split("sqlite:///", 1)[1])
        s.backup(d)
        d.execute("PRAGMA journal_mode=WAL")
        s.close()
        d.close()
        return
    _pg_admin(db, f'CREATE DATABASE "{dst.rsplit("/", 1)[1]}" TEMPLATE "{src.rsplit("/", 1)[1]}"')


def db_size(url: str) -> str:
    if url.startswith("sqlite"):
        p = Path(url.split("sqlite:///", 1)[1])
        size = sum(Path(str(p) + s).stat().st_size for s in ("", "-wal") if Path(str(p) + s).exists())
        return f"{size / MB:.0f} MB"
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return f"{size / MB:.0f} MB"


def count_rows(url: str, sql: str) -> int:
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split("sqlite:///", 1)[1]) as conn:
            return conn.execute(sql).fetchone()[0]
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        return conn.execute(sql).fetchone()[0]


# -- one size ---------------------------------------------------------------------------------

def run_scale(scale: float, db: str, out: Path, repeat: int, seed: int,
              log=lambda msg: None) -> Run:
    work = out / _tag(scale)
    t0 = time.perf_counter()
    ds: Dataset = generate(work, scale, seed)
    engine = "sqlite" if db == "sqlite" else "postgresql"
    run = Run(scale=scale, rows=ds.rows, engine=engine)
    run.info["generate"] = f"{time.perf_counter() - t0:.1f} s"
    log(f"[{_tag(scale)}] generated {ds.rows:,} observations in {run.info['generate']}")
    url, base_url = fresh_databases(db, work, scale)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ds.site), str(ROOT)]),
           "DAT_LOAD_PLUGINS": PLUGIN_NAME, "DAT_DATABASE_URL": url, "NO_COLOR": "1",
           "DAT_DATA_DIR": str(work / "datadir"), "COLUMNS": "120"}
    env.pop("DAT_STRICT_PLUGINS", None)
    # an installed dat has its bytecode compiled; let the first runs write the caches rather
    # than compile every module from source in every measured process
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    dat = _dat_cmd()
    py = [sys.executable]

    # first use: create, migrate, sync the plugin's reference data
    # (on PostgreSQL ordinary commands never write plugin data: `dat db sync` brings it in)
    first = ["partnerships", "--format", "csv"] if engine == "sqlite" else ["db", "sync", "--format", "csv"]
    wall, _, _, _ = run_child([*dat, *first], env)
    run.info["first use (migrate + sync)"] = f"{wall:.2f} s"
    clone_database(db, url, base_url)

    # import vs raw executemany of the same rows
    log(f"[{_tag(scale)}] import")
    base_wall, _, _, _ = run_child([*py, "-m", "bench.probes", "import-baseline", base_url, str(ds.csv)], env)
    wall, rss, _, err = run_child([*dat, "import", str(ds.csv)], env)
    imported = count_rows(url, "SELECT count(*) FROM observation WHERE origin LIKE 'import:%'")
    if imported != ds.rows:
        raise RuntimeError(f"dat import stored {imported} rows, expected {ds.rows}: {err.strip()}")
    run.figures.append(Figure("dat import", wall, "s", base_wall, "sqlite3 executemany" if engine == "sqlite"
                              else "psycopg executemany", "<= 2x", note=f"peak {rss:.0f} MB"))
    run.info["database size"] = db_size(url)
    run.info["rows/s imported"] = f"{ds.rows / wall:,.0f}"

    # dat compare, whole process, median; beside a bare python process running its SQL
    log(f"[{_tag(scale)}] compare")
    code = ds.compare_indicator
    base_med, base_rss, base_out = median_run(
        [*py, "-m", "bench.probes", "compare-baseline", url, code], env, repeat)
    try:
        med, rss, out_text = median_run([*dat, "compare", "-i", code, "--format", "csv"], env, repeat)
    except RuntimeError as exc:
        run.figures.append(Figure("dat compare (median)", None, "s", base_med, "bare python + SQL",
                                  "<= 0.5 s", ok=False, note=str(exc).splitlines()[-1][:120]))
        run.figures.append(Figure("dat compare peak memory", None, "MB", base_rss, "bare python + SQL",
                                  "<= 200 MB", ok=False, note="compare failed"))
    else:
        listed = max(0, out_text.count("\n") - 1)
        if listed != len(ds.partnerships):
            raise RuntimeError(f"dat compare listed {listed} partnerships, expected {len(ds.partnerships)}")
        run.figures.append(Figure("dat compare (median)", med, "s", base_med, "bare python + SQL",
                                  "<= 0.5 s", med <= 0.5))
        run.figures.append(Figure("dat compare peak memory", rss, "MB", base_rss, "bare python + SQL",
                                  "<= 200 MB", rss <= 200))
    imp = run.figures[0]
    if scale == 1.0:
        imp.ok = imp.ratio is not None and imp.ratio <= 2
    else:  # the budget is for the 1.2M-row file; smaller files are dominated by start-up
        imp.budget = "<= 2x at full size"

    # dat --help vs import click, and what --help imports
    log(f"[{_tag(scale)}] --help")
    click_med, _, _ = median_run([*py, "-c", "import click"], env, repeat)
    help_med, _, _ = median_run([*dat, "--help"], env, repeat)
    f = Figure("dat --help (median)", help_med, "s", click_med, "python -c 'import click'", "<= 2x")
    f.ok = f.ratio <= 2
    run.figures.append(f)
    _, _, mods, _ = run_child([*py, "-m", "bench.probes", "help-modules"], env)
    heavy = json.loads(mods.strip().splitlines()[-1])["heavy"]
    run.figures.append(Figure("dat --help heavy imports", None, "", budget="none of textual, sqlalchemy, jinja2",
                              ok=not {"textual", "sqlalchemy", "jinja2"} & set(heavy),
                              note=", ".join(heavy) or "none"))

    # TUI first paint and quit, in a real pseudo-terminal, beside importing Textual
    log(f"[{_tag(scale)}] tui")
    textual_med, _, _ = median_run([*py, "-c", "import textual.app"], env, repeat)
    base_name = "python -c 'import textual.app'"
    paints, quits, note = [], [], ""
    for _ in range(repeat):
        res = tui_pty([*dat, "tui"], env, "Synthetic measure")  # any indicator's name in a row
        if "error" in res or res["exit"] != 0:
            note = res.get("error") or f"dat tui exited {res['exit']}"
            break
        paints.append(res["paint_cpu"] if CLOCK == "cpu" and res["paint_cpu"] is not None else res["paint"])
        quits.append(res["quit"])
    if note:
        for name, budget in (("dat tui first paint", "<= 0.5 s"), ("dat tui quit", "<= 0.3 s")):
            run.figures.append(Figure(name, None, "s", textual_med, base_name, budget, ok=False,
                                      note=note[:160]))
    else:
        paint, quit_s = statistics.median(paints), statistics.median(quits)
        run.figures.append(Figure("dat tui first paint", paint, "s", textual_med, base_name, "<= 0.5 s",
                                  ok=paint <= 0.5, note=f"median of {len(paints)}, pty 120x40"
                                  + (", CPU time of dat at paint" if CLOCK == "cpu" else "")))
        run.figures.append(Figure("dat tui quit", quit_s, "s", textual_med, base_name, "<= 0.3 s",
                                  ok=quit_s <= 0.3, note=f"median of {len(quits)}, q to exit"))

    # dat export: streamed, peak memory
    log(f"[{_tag(scale)}] export")
    target = work / "export.csv"
    wall, rss, _, _ = run_child([*dat, "export", "-o", str(target)], env)
    with target.open("rb") as fh:
        exported = sum(1 for _ in fh) - 1
    run.figures.append(Figure("dat export peak memory", rss, "MB", budget="<= 200 MB", ok=rss <= 200,
                              note=f"{exported:,} rows in {wall:.1f} s"))
    target.unlink()
    if db != "sqlite":
        _pg_admin(db, f'DROP DATABASE IF EXISTS "{base_url.rsplit("/", 1)[1]}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(base_url.split("sqlite:///", 1)[1] + suffix).unlink(missing_ok=True)
    return run


# -- output -----------------------------------------------------------------------------------

def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g}"


def table(run: Run) -> str:
    head = (f"### {run.engine}, scale {run.scale:g} ({run.rows:,} observations), {CLOCK} clock\n\n"
            "| figure | measured | baseline (same run) | ratio | budget | result |\n"
            "|---|---|---|---|---|---|\n")
    lines = []
    for f in run.figures:
        measured = f.note if f.unit == "" else _fmt(f.measured, f.unit)
        base = f"{_fmt(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        result = {True: "pass", False: "FAIL", None: "-"}[f.ok]
        note = f"; {f.note}" if f.note and f.unit else ""
        lines.append(f"| {f.name} | {measured}{note} | {base} | {ratio} | {f.budget} | {result} |")
    info = "".join(f"- {k}: {v}\n" for k, v in run.info.items())
    return head + "\n".join(lines) + "\n\n" + info


def growth(runs: list[Run]) -> str:
    runs = sorted(runs, key=lambda r: r.scale)
    if len(runs) < 2:
        return ""
    names = [f.name for f in runs[-1].figures if f.unit]
    head = ("| figure | " + " | ".join(f"{r.rows:,} rows" for r in runs) + " | growth per 10x rows |\n"
            "|---|" + "---|" * len(runs) + "---|\n")
    lines = []
    for name in names:
        vals = [r.get(name) for r in runs]
        cells = [_fmt(v.measured, v.unit) if v else "-" for v in vals]
        steps = []
        for a, b in zip(vals, vals[1:], strict=False):
            if a and b and a.measured and b.measured:
                steps.append(f"{b.measured / a.measured:.2f}x")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {', '.join(steps) or '-'} |")
    return "### growth\n\n" + head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, action="append", choices=(1.0, 0.1, 0.01),
                    help="dataset size: 1 (1.2M observations), 0.1 or 0.01; repeat for several "
                         "(default: all three, smallest first, with a growth table)")
    ap.add_argument("--db", default="sqlite", metavar="URL",
                    help="'sqlite' (default: files under --out) or a postgresql+psycopg:// URL of a "
                         "server where the harness may create databases")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out",
                    help="working folder (default bench/out/, git-ignored)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per median (default 5)")
    ap.add_argument("--seed", type=int, default=2008)
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="time figures as elapsed wall-clock time (default) or the child's user+system "
                         "CPU time (steadier on a busy shared machine)")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = args.clock
    scales = sorted(set(args.scale or (0.01, 0.1, 1.0)))
    if args.db != "sqlite" and not args.db.startswith("postgresql"):
        ap.error("--db must be 'sqlite' or a postgresql+psycopg:// URL")
    args.out.mkdir(parents=True, exist_ok=True)
    log = lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True)  # noqa: E731
    runs = []
    for scale in scales:
        runs.append(run_scale(scale, args.db, args.out, max(1, args.repeat), args.seed, log))
        print(table(runs[-1]), flush=True)
    g = growth(runs)
    if g:
        print(g)
    if args.json:
        args.json.write_text(json.dumps([{
            "scale": r.scale, "rows": r.rows, "engine": r.engine, "info": r.info,
            "figures": [{**f.__dict__, "ratio": f.ratio} for f in r.figures]} for r in runs], indent=2))
    failed = [f.name for r in runs for f in r.figures if f.ok is False]
    if failed:
        print(f"budgets missed: {', '.join(sorted(set(failed)))}", file=sys.stderr)
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
