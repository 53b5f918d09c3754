"""Disclosure control on a dense hierarchy: time and complementary cells (stdlib only).

``python -m bench.disclosure_bench [--old] [--sizes 126,630,4200] [--seed N]``

The data: parents with five sub-areas each; for every area and financial year the four
quarters, the year-to-date ranges Q1-Q2 and Q1-Q3 and the year (seven periods), so one
parent and three years is 126 cells; parent = sum of sub-areas and year/ranges = sum of
quarters hold exactly. A sub-area's quarter is a small count (1-4) with probability 5%.

For each size it prints the seconds :func:`dat.core.disclosure.protect` takes, the small
counts and the further cells hidden. ``--old`` runs, in the same process and on the same
data, the greedy of commit a2e0e3b (read with ``git show``) for the sizes up to
``--old-max`` cells (default 630: the old greedy needs minutes for 4,200).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

OLD_COMMIT = "a2e0e3b"
#: cells -> (parents, years)
SHAPES = {126: (1, 3), 630: (1, 15), 4200: (10, 10)}


def dataset(parents: int, years: int, seed: int, small: float = 0.05):
    """(rows, children) in the shape :func:`protect` takes for one count indicator."""
    rnd = random.Random(seed)
    rows: list[dict[str, Any]] = []
    children: dict[int, list[int]] = {}
    aid = 0
    for _ in range(parents):
        parent, aid = aid, aid + 1
        kids = list(range(aid, aid + 5))
        aid += 5
        children[parent] = kids
        for y in range(2000, 2000 + years):
            fy = f"{y}/{(y + 1) % 100:02d}"
            q = {(k, i): (rnd.randint(1, 4) if rnd.random() < small else rnd.randint(5, 40))
                 for k in kids for i in range(1, 5)}
            for a in [parent, *kids]:
                members = kids if a == parent else [a]
                for p, qs in ((" Q1", (1,)), (" Q2", (2,)), (" Q3", (3,)), (" Q4", (4,)),
                              (" Q1-Q2", (1, 2)), (" Q1-Q3", (1, 2, 3)), ("", (1, 2, 3, 4))):
                    v = sum(q[(m, i)] for m in members for i in qs)
                    rows.append({"_id": a, "partnership": f"a{a:03d}", "period": fy + p, "value": v,
                                 "numerator": None, "denominator": None, "_ci_low": None, "_ci_high": None})
    return rows, children


def old_module() -> Any:
    """core/disclosure.py as of OLD_COMMIT, imported under another name."""
    root = Path(__file__).resolve().parent.parent
    src = subprocess.run(["git", "-C", str(root), "show", f"{OLD_COMMIT}:core/disclosure.py"],
                         check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "disclosure_old.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("disclosure_old", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def run(protect: Any, cells: int, seed: int) -> tuple[float, int, int, int]:
    parents, years = SHAPES.get(cells, (max(1, cells // 420), 10))
    rows, children = dataset(parents, years, seed)
    t0 = time.perf_counter()
    out = protect(rows, unit="count", children=children)
    return time.perf_counter() - t0, out.primary, out.secondary, out.unresolved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="126,630,4200")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--old", action="store_true", help=f"also run the greedy of {OLD_COMMIT}")
    ap.add_argument("--old-max", type=int, default=630)
    args = ap.parse_args(argv)
    from dat.core.disclosure import protect

    old = old_module().protect if args.old else None
    print(f"{'cells':>6} {'small':>5} | {'new s':>7} {'extra':>5} {'/small':>6} | "
          f"{'old s':>7} {'extra':>5} {'/small':>6}")
    for cells in (int(s) for s in args.sizes.split(",")):
        t, prim, sec, bad = run(protect, cells, args.seed)
        line = f"{cells:>6} {prim:>5} | {t:>7.2f} {sec:>5} {sec / max(prim, 1):>6.1f}"
        if bad:
            line += f" ({bad} unresolved)"
        if old is not None and cells <= args.old_max:
            t2, _, sec2, _ = run(old, cells, args.seed)
            line += f" | {t2:>7.2f} {sec2:>5} {sec2 / max(prim, 1):>6.1f}"
        elif old is not None:
            line += " |  (not run: over --old-max)"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
