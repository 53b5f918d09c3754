"""An attacker of public exports that solves integer programmes (scipy's HiGHS), written
apart from dat's own checks: every count of a family (a count, or the numerators of a
percentage or rate) and every denominator is a whole-number unknown; the relations are
parent = sum of sub-areas and year or year-to-date range = sum of its quarters, for every
area of the tree and every period the rows touch; a count lies between 0 and its
denominator; what a row publishes fixes or bounds its cells (a value at its rounding and
a denominator give the numerator to a range). A hidden cell is pinned when its least and
greatest values over all solutions agree."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

STAR = "*"
BIG = 10**7


def _quarters(period: str) -> list[str]:
    from dat.core.periods import parse_period

    per = parse_period(period)
    return [str(q) for q in per.quarters] if per.kind in ("year", "range") else []


def _known(x: Any) -> Fraction | None:
    if x in (None, "", STAR):
        return None
    return Fraction(str(x))


def pinned(rows: Sequence[Mapping[str, Any]], truth: Mapping[tuple[str, str], tuple[int, int | None]],
           children: Mapping[str, Sequence[str]], *, unit: str, scale: int | None,
           classes: bool = True) -> dict[tuple[str, str, str], int]:
    """The hidden small cells (1-4) pinned: {(family, area, period): value}.

    ``rows``: one indicator's published rows (``_id`` or ``partnership``, ``period``,
    ``value``, ``numerator``, ``denominator``; ``*`` hidden); ``truth``: (area, period) ->
    (true count, true denominator or None); ``classes``: the attacker is granted each hidden
    cell's class (0, 1-4, or 5 and over), as dat's method assumes."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    up = {k: p for p, kids in children.items() for k in kids}
    areas: set[str] = set()
    periods: set[str] = set()
    for r in rows:
        a = r.get("_id") or r["partnership"]
        while a in up:
            a = up[a]
        stack = [a]
        while stack:
            x = stack.pop()
            areas.add(x)
            stack.extend(children.get(x, ()))
        periods.add(r["period"])
    periods |= {q for p in list(periods) for q in _quarters(p)}
    has_den = any(_known(r["denominator"]) is not None or r["denominator"] == STAR for r in rows)
    fams = ("N", "D") if has_den else ("N",)
    var = {(f, a, p): i for i, (f, a, p) in enumerate((f, a, p) for f in fams for a in sorted(areas)
                                                       for p in sorted(periods))}
    lo = np.zeros(len(var))
    hi = np.full(len(var), float(BIG))
    eq_rows: list[dict[int, float]] = []
    ineq_rows: list[tuple[dict[int, float], float, float]] = []
    for f in fams:
        for parent, kids in children.items():
            if parent not in areas:
                continue
            for p in periods:
                eq_rows.append({var[(f, parent, p)]: 1, **{var[(f, k, p)]: -1 for k in kids}})
        for a in areas:
            for p in periods:
                qs = _quarters(p)
                if qs:
                    eq_rows.append({var[(f, a, p)]: 1, **{var[(f, a, q)]: -1 for q in qs}})
    if has_den:
        for a in areas:
            for p in periods:
                ineq_rows.append(({var[("N", a, p)]: 1, var[("D", a, p)]: -1}, -np.inf, 0))

    def fix(k: tuple[str, str, str], a_: float, b_: float) -> None:
        i = var[k]
        lo[i], hi[i] = max(lo[i], a_), min(hi[i], b_)

    hidden: set[tuple[str, str, str]] = set()
    for r in rows:
        a, p = r.get("_id") or r["partnership"], r["period"]
        v, n, d = _known(r["value"]), _known(r["numerator"]), _known(r["denominator"])
        if scale is None:  # a count: its value is the count
            c = v if v is not None else n
            if c is not None:
                fix(("N", a, p), float(c), float(c))
            elif STAR in (r["value"], r["numerator"]):
                hidden.add(("N", a, p))
        else:
            if n is not None:
                fix(("N", a, p), float(n), float(n))
            elif v is not None and d is not None:
                raw = r["value"]
                text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
                dp = len(text.split(".")[1]) if "." in text else 0
                half = Fraction(1, 2 * 10**dp)
                fix(("N", a, p), math.ceil((v - half) * d / scale), math.floor((v + half) * d / scale))
            elif STAR in (r["value"], r["numerator"]):
                hidden.add(("N", a, p))
            elif v is not None and n is None and d is None:
                pass
        if has_den:
            if d is not None:
                fix(("D", a, p), float(d), float(d))
            elif r["denominator"] == STAR:
                hidden.add(("D", a, p))
    if classes:
        for k in hidden:
            t = truth.get((k[1], k[2]))
            if t is None:
                continue
            x = t[0] if k[0] == "N" else t[1]
            if x is None:
                continue
            fix(k, *((1, 4) if 1 <= x <= 4 else (0, 0) if x == 0 else (5, BIG)))
    n_var = len(var)
    cons = []
    if eq_rows:
        a_eq = np.zeros((len(eq_rows), n_var))
        for i, row in enumerate(eq_rows):
            for j, c in row.items():
                a_eq[i, j] = c
        cons.append(LinearConstraint(a_eq, 0, 0))
    if ineq_rows:
        a_in = np.zeros((len(ineq_rows), n_var))
        for i, (row, _l, _h) in enumerate(ineq_rows):
            for j, c in row.items():
                a_in[i, j] = c
        cons.append(LinearConstraint(a_in, -np.inf, 0))
    out: dict[tuple[str, str, str], int] = {}
    for k in sorted(hidden):
        t = truth.get((k[1], k[2]))
        x = None if t is None else (t[0] if k[0] == "N" else t[1])
        if x is None or not 1 <= x <= 4:
            continue
        ends = []
        for sign in (1, -1):
            cost = np.zeros(n_var)
            cost[var[k]] = sign
            res = milp(cost, constraints=cons, integrality=np.ones(n_var), bounds=Bounds(lo, hi))
            # the truth is a solution: no solution means the attacker's model is wrong
            assert res.status == 0, (k, res.message)
            ends.append(round(res.x[var[k]]))
        if len(ends) == 2 and ends[0] == ends[1]:
            out[k] = ends[0]
    return out
