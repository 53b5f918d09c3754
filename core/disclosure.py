"""Disclosure control for public exports: which cells of one indicator's figures are published.

:func:`protect` takes every row one export publishes for ONE indicator (all its areas and
periods, so memory is bounded by the largest indicator, not the export) and replaces the
cells that must not be published by :data:`SUPPRESSED`. docs/disclosure.md explains the
method; in short:

* **Primary**: a non-zero count under 5 (the NDTMS/ONS "1-4" rule; 0 is published) is
  hidden, and so is every figure that would give it back: for a count indicator the value,
  the numerator and the confidence interval; for a percentage or rate the numerator (stored,
  or worked out as value x denominator / scale), the value and the interval. A denominator
  of 1-4 is hidden too, with the value and interval computed from it.
* **Complementary**: the counts of an indicator are tied by additive relations: a parent
  area is the sum of its sub-areas (every period), a year is the sum of its quarters and a
  year-to-date range the sum of its quarters. Numerators and denominators are two separate
  families of counts with the same relations. A hidden cell is safe only when the published
  cells do not determine it: checked exactly (Gaussian elimination over
  :class:`fractions.Fraction`) and against the simple bound attacks (interval propagation
  with every count >= 0 and the small ones in 1-4). Each hidden cell first gets the
  cheapest classic pattern that protects it (the rectangle (a, p), (a', p), (a, p'),
  (a', p') over an area and a time relation, or a second cell of its only relation),
  checked on the connected part of the relations it touches; while some hidden cell is
  still determined, a publishable cell of a relation containing it is hidden as well.

Stdlib only (the export imports it only with ``--public``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

SUPPRESSED = "*"
#: the primary rule: a non-zero count below this is hidden (NDTMS/ONS publish 0, hide 1-4)
SMALL_BELOW = 5
#: what an attacker may assume about a hidden small count
SMALL_LOW, SMALL_HIGH = Fraction(1), Fraction(4)
#: units whose value is numerator / denominator x scale
_SCALE = {"percent": 100, "ratio": 1}
INF = float("inf")
#: complementary patterns checked per hidden cell before the greedy takes over
_TRIES = 40

Key = tuple[Any, str]  # (partnership id, period string)


@dataclass
class Outcome:
    """What :func:`protect` hid: cells (columns) hidden by the primary rule and further
    cells hidden so that they cannot be worked back; ``unresolved`` counts hidden cells the
    algorithm could not protect (nothing left to hide; should stay 0)."""

    primary: int = 0
    secondary: int = 0
    unresolved: int = 0


def is_small(x: Any) -> bool:
    """A non-zero count under 5 (1-4; a non-integer such as 4.6 counts as small too)."""
    return isinstance(x, (int, float, Fraction)) and not isinstance(x, bool) and 0 < x < SMALL_BELOW


def _num(x: Any) -> Fraction | None:
    if x is None or isinstance(x, bool) or not isinstance(x, (int, float, Fraction)):
        return None
    if isinstance(x, float) and (x != x or x in (INF, -INF)):
        return None
    return Fraction(x)


def scale_of(unit: str | None, per: int | None) -> int | None:
    """value = numerator / denominator x scale for this unit, or None (no such relation)."""
    if unit == "rate":
        return per or None
    return _SCALE.get(unit or "")


def _small_in(lo: Any, hi: Any) -> bool:
    """Whether a whole number of 1-4 lies in [lo, hi]."""
    return lo <= SMALL_HIGH and hi >= SMALL_LOW and math.floor(min(hi, SMALL_HIGH)) >= max(lo, SMALL_LOW)


def _as_written(x: float | Fraction) -> tuple[Fraction, Fraction]:
    """A published figure as its text gives it: (the figure, half a unit of its last
    decimal). 1 (or 1.0) is 0.5-1.5, 33.3 is 33.25-33.35, 4.56 is 4.555-4.565."""
    text = repr(float(x))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return Fraction(f"{whole}.{frac}" if frac else whole), Fraction(1, 2 * 10 ** len(frac))


def numerator_range(value: float | Fraction, denominator: float | Fraction, scale: int) -> tuple[int, int]:
    """Every whole numerator a published ``value`` (at its rounding) of ``denominator`` can
    stand for, as (lowest, highest): 1% of 460 is 3 to 6 (0.5-1.5% of 460 is 2.3-6.9). A
    value that fits no whole number (not rounded as written) gives its nearest one."""
    v, half = _as_written(value)
    d = Fraction(denominator)
    lo = math.ceil(max(Fraction(0), (v - half) * d / scale))
    hi = math.floor((v + half) * d / scale)
    if lo > hi:
        lo = hi = round(Fraction(value) * d / scale)
    return lo, hi


def _decreasing_span(f: Any, low: float, high: float, first: int, last: int) -> tuple[int, int]:
    """The whole numbers n in [first, last] with low <= f(n) <= high, f decreasing in n
    (an empty span has its start after its end)."""
    a, b = first, last + 1  # the first n with f(n) <= high
    while a < b:
        m = (a + b) // 2
        if f(m) <= high:
            b = m
        else:
            a = m + 1
    start = a
    a, b = first - 1, last  # the last n with f(n) >= low
    while a < b:
        m = (a + b + 1) // 2
        if f(m) >= low:
            a = m
        else:
            b = m - 1
    return start, a


#: the largest denominator the interval inversion tries (a population)
_MAX_DENOMINATOR = 10 ** 10


def interval_gives_small(value: float | Fraction, ci_low: float | Fraction | None,
                         ci_high: float | Fraction | None, unit: str | None, scale: int) -> bool:
    """Whether a percentage or rate published with its 95% interval but no numerator and no
    denominator can stand for a small count, as an attacker inverting the interval would
    find: some numerator of 1-4 (or, for a proportion, a complement of 1-4, or a denominator
    of 1-4) and a denominator give the value and both limits at their rounding. Wilson's
    interval for a proportion, exact Poisson or Byar's for a rate (dat.core.stats), as the
    interval dat and Fingertips compute. 25.0 (4.56-69.94) is 1 of 4: True."""
    from dat.core import stats

    if ci_low is None or ci_high is None:
        return False
    (v, hv), (lo, hl), (hi, hh) = (_as_written(x) for x in (value, ci_low, ci_high))
    eps = 1e-9
    proportion = unit != "rate"
    if proportion:
        def methods(x: int, n: int) -> list[tuple[float, float]]:
            if x > n:
                return []
            a, b = stats.wilson(x, n)
            return [(a * scale, b * scale)]
    else:
        def methods(x: int, n: int) -> list[tuple[float, float]]:
            return [(a * scale / n, b * scale / n) for a, b in (stats.exact_poisson(x), stats.byar(x))]

    def fits(x: int, n: int, v: Fraction, lo: Fraction, hi: Fraction) -> bool:
        if not abs(Fraction(x * scale, n) - v) <= hv:
            return False
        return any(abs(a - float(lo)) <= float(hl) + eps and abs(b - float(hi)) <= float(hh) + eps
                   for a, b in methods(x, n))

    def any_fit(x: int, v: Fraction, lo: Fraction, hi: Fraction) -> bool:
        # the denominators the value allows (x / n decreasing in n), then those each limit
        # allows (decreasing in n for a fixed count), for each method
        by_value = _decreasing_span(lambda n: Fraction(x * scale, n), float(v - hv) - eps,
                                    float(v + hv) + eps, max(x, 1), _MAX_DENOMINATOR)
        for m in range(1 if proportion else 2):
            span = by_value
            for k in (0, 1):
                if span[0] > span[1]:
                    break
                span = _decreasing_span(lambda n, m=m, k=k: methods(x, n)[m][k] if methods(x, n) else INF,
                                        float((lo, hi)[k] - (hl, hh)[k]) - eps,
                                        float((lo, hi)[k] + (hl, hh)[k]) + eps, *span)
            if span[0] <= span[1] and (span[1] - span[0] > 2 or any(
                    fits(x, n, v, lo, hi) for n in {span[0], span[1], (span[0] + span[1]) // 2})):
                return True
        return False

    for x in range(1, SMALL_BELOW):
        if any_fit(x, v, lo, hi):
            return True
        if proportion and any_fit(x, scale - v, scale - hi, scale - lo):  # the complement
            return True
    if proportion:  # a denominator of 1-4 (0 of 3 included)
        return any(fits(x, n, v, lo, hi) for n in range(1, SMALL_BELOW) for x in range(n + 1))
    return False


# -- the additive relations -------------------------------------------------------------------

def _period(text: str) -> Any:
    from dat.core.periods import PeriodError, parse_period

    try:
        return parse_period(text)
    except PeriodError:
        return None


def _tree(areas: Iterable[Any], children: Mapping[Any, Sequence[Any]]) -> set[Any]:
    """Every area of the trees (parent/sub-area) that hold one of ``areas``: their roots and
    everything below them, so that the relations of every level are modelled."""
    parent_of = {k: p for p, kids in children.items() for k in kids}
    roots = set()
    for a in areas:
        seen = {a}
        while a in parent_of and parent_of[a] not in seen:
            a = parent_of[a]
            seen.add(a)
        roots.add(a)
    out: set[Any] = set()
    stack = list(roots)
    while stack:
        a = stack.pop()
        if a not in out:
            out.add(a)
            stack.extend(children.get(a, ()))
    return out


def relations(cells: Iterable[Key], children: Mapping[Any, Sequence[Any]]) -> list[dict[Key, int]]:
    """Every additive relation an attacker can write among ``cells`` (keys present) as {key:
    coefficient} summing to 0 (total +1, parts -1). Cells missing from ``cells`` are unknowns
    of the relation; a relation is written whether or not its own cells are present, for
    every area of the trees involved and every period (and quarter of one) the cells have:

    * parent = sum of its sub-areas, at every level of the tree;
    * a year = its four quarters, a year-to-date range = its quarters (same area), also
      for a year or range the file does not hold (the area relations may fix it).

    Relations that cannot tell anything (a total that is absent and in no other relation)
    are left out, so a big tree costs only where it touches the cells."""
    present = set(cells)
    periods = {p for _, p in present}
    parsed = {p: _period(p) for p in periods}
    quarters = {p: [str(q) for q in per.quarters] for p, per in parsed.items()
                if per is not None and per.kind in ("year", "range")}
    all_periods = sorted(periods | {q for qs in quarters.values() for q in qs})
    areas = _tree({a for a, _ in present}, children)
    out: list[dict[Key, int]] = []
    for parent in sorted(areas, key=repr):
        kids = list(children.get(parent, ()))
        if not kids:
            continue
        for p in all_periods:
            rel = {(parent, p): 1}
            for k in kids:
                rel[(k, p)] = rel.get((k, p), 0) - 1
            out.append(rel)
    for a in sorted(areas, key=repr):
        for p, qs in sorted(quarters.items(), key=lambda pq: repr(pq[0])):
            rel = {(a, p): 1}
            for q in qs:
                rel[(a, q)] = -1
            out.append(rel)
    return _prune(out, present)


def _prune(rels: list[dict[Key, int]], present: set[Key]) -> list[dict[Key, int]]:
    """Drop, until none is left, a relation whose total is absent and in no other relation
    (it says only that the absent total is the sum of its parts: nothing) or whose cells
    are all absent with one of them in no other relation."""
    uses: dict[Key, int] = {}
    for rel in rels:
        for k in rel:
            uses[k] = uses.get(k, 0) + 1
    alive = [True] * len(rels)
    by_cell: dict[Key, list[int]] = {}
    for i, rel in enumerate(rels):
        for k in rel:
            by_cell.setdefault(k, []).append(i)

    def useless(rel: dict[Key, int]) -> bool:
        free = [k for k in rel if k not in present and uses[k] == 1]
        return bool(free) and (any(rel[k] > 0 for k in free) or all(k not in present for k in rel))

    stack = [i for i, rel in enumerate(rels) if useless(rel)]
    while stack:
        i = stack.pop()
        if not alive[i] or not useless(rels[i]):
            continue
        alive[i] = False
        for k in rels[i]:
            uses[k] -= 1
            if uses[k] == 1 and k not in present:
                stack.extend(j for j in by_cell[k] if alive[j])
    return [rel for i, rel in enumerate(rels) if alive[i]]


# -- the attacker: exact linear algebra and bounds --------------------------------------------

def _components(rels: list[dict[Key, int]], unknown: set[Key]) -> list[list[int]]:
    """Relations grouped so that two share a group when they share an unknown."""
    parent: dict[Key, Key] = {}

    def find(x: Key) -> Key:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rel in rels:
        us = [k for k in rel if k in unknown]
        for u in us[1:]:
            ra, rb = find(us[0]), find(u)
            if ra != rb:
                parent[ra] = rb
    groups: dict[Key, list[int]] = {}
    for i, rel in enumerate(rels):
        us = [k for k in rel if k in unknown]
        if us:
            groups.setdefault(find(us[0]), []).append(i)
    return list(groups.values())


def _subtract(row: dict[Key, Fraction], c: Fraction, other: dict[Key, Fraction]) -> None:
    """row -= c x other, in place, dropping the coefficients that become 0."""
    for k, v in other.items():
        nv = row.get(k, 0) - c * v
        if nv:
            row[k] = nv
        else:
            row.pop(k, None)


def _reduce(rows: Iterable[tuple[Mapping[Key, Any], Fraction]]) -> list[tuple[Key, dict[Key, Fraction], Fraction]]:
    """Reduced row echelon form over Fractions of the system ``rows`` (each ({unknown:
    coefficient}, right-hand side)): one (pivot, row, right-hand side) per independent row;
    a row with its pivot alone fixes that unknown at its right-hand side."""
    pivots: list[tuple[Key, dict[Key, Fraction], Fraction]] = []
    for raw, raw_rhs in rows:
        row = {k: Fraction(v) for k, v in raw.items() if v}
        rhs = Fraction(raw_rhs)
        for pk, prow, prhs in pivots:
            c = row.get(pk)
            if c:
                _subtract(row, c, prow)
                rhs -= c * prhs
        if not row:
            continue  # dependent (or inconsistent: then it tells nothing exact)
        pk = min(row, key=repr)
        inv = 1 / row[pk]
        row = {k: v * inv for k, v in row.items()}
        rhs *= inv
        for j, (qk, qrow, qrhs) in enumerate(pivots):
            c = qrow.get(pk)
            if c:
                _subtract(qrow, c, row)
                pivots[j] = (qk, qrow, qrhs - c * rhs)
        pivots.append((pk, row, rhs))
    return pivots


def determined(rows: list[dict[Key, Fraction]]) -> set[Key]:
    """The unknowns fixed by the linear system ``rows`` (each {unknown: coefficient}; the
    constants do not matter): a pivot of the reduced form whose row has no free unknown."""
    return {pk for pk, row, _ in _reduce((r, Fraction(0)) for r in rows) if len(row) == 1}


def bound_pinned(rels: list[tuple[dict[Key, int], Fraction]],
                 bounds: dict[Key, tuple[Any, Any]], rounds: int = 25) -> set[Key]:
    """Unknowns whose interval collapses to one value under interval propagation through
    the relations (each ({unknown: +-1}, total) meaning sum(c x) = total)."""
    lo = {k: b[0] for k, b in bounds.items()}
    hi = {k: b[1] for k, b in bounds.items()}
    for _ in range(rounds):
        changed = False
        for rel, total in rels:
            # sum c_k x_k = total; for each k: c_k x_k = total - sum_{j != k} c_j x_j
            mins = {k: (lo[k] if c > 0 else -hi[k]) for k, c in rel.items()}
            maxs = {k: (hi[k] if c > 0 else -lo[k]) for k, c in rel.items()}
            smin, smax = sum(mins.values()), sum(maxs.values())
            for k, c in rel.items():
                rest_min = smin - mins[k] if mins[k] != -INF else _sum_except(mins, k)
                rest_max = smax - maxs[k] if maxs[k] != INF else _sum_except(maxs, k)
                t_lo, t_hi = total - rest_max, total - rest_min  # bounds on c_k x_k
                n_lo, n_hi = (t_lo, t_hi) if c > 0 else (-t_hi, -t_lo)
                if n_lo > lo[k]:
                    lo[k], changed = n_lo, True
                if n_hi < hi[k]:
                    hi[k], changed = n_hi, True
        if not changed:
            break
    return {k for k in bounds if lo[k] >= hi[k]}


def _sum_except(values: dict[Key, Any], skip: Key) -> Any:
    return sum(v for k, v in values.items() if k != skip)


# -- choosing what to hide --------------------------------------------------------------------

def protect_family(values: Mapping[Key, Fraction], hidden: set[Key], primary: set[Key],
                   children: Mapping[Any, Sequence[Any]], order: Mapping[Any, str],
                   ranges: Mapping[Key, tuple[Fraction, Fraction]] | None = None) -> tuple[set[Key], int]:
    """Hide more cells of one family of counts until no hidden cell is determined by the
    published ones. ``values``: every present cell; ``hidden``: the cells hidden so far
    (primary and forced); ``ranges``: what an attacker knows of a cell that is not a number:
    a published one only to a range (a numerator worked back from a rounded percentage: an
    unknown of the relations, within its range), a hidden one only within bounds (a
    complement: the denominator less 1-4). Returns (every hidden cell, how many could not
    be protected)."""
    hidden = set(hidden)
    ranges = ranges or {}
    if not hidden:
        return hidden, 0
    vague = {k for k in ranges if k in values and ranges[k][0] != ranges[k][1]}
    # a relation the stored figures do not satisfy (e.g. a year of distinct people, less than
    # the sum of its quarters) tells an attacker nothing exact: only those that hold are used;
    # one with a cell known only to a range is kept (the range is its bounds)
    rels = [rel for rel in relations(values, children)
            if not all(k in values and k not in vague for k in rel)
            or sum(c * values[k] for k, c in rel.items()) == 0]
    if not rels:
        return hidden, 0
    by_cell: dict[Key, list[int]] = {}
    for i, rel in enumerate(rels):
        for k in rel:
            by_cell.setdefault(k, []).append(i)

    def sort_key(k: Key) -> tuple:
        v = values[k]
        return (v == 0, v, order.get(k[0], repr(k[0])), k[1])

    cache: dict[tuple, set[Key]] = {}  # (relations, unknowns) of a component -> its leaks
    # unknowns besides the hidden cells: cells the file does not hold, and those it
    # publishes only to a range
    missing = {k for rel in rels for k in rel if k not in values or k in vague}

    def leaks_of(comp: list[int], unknown: set[Key] | None, with_bounds: bool) -> set[Key]:
        """The hidden cells of the component ``comp`` the attacker pins (``unknown``: the
        hidden and missing cells; None for the current ones)."""
        def unk(k: Key) -> bool:
            return k in unknown if unknown is not None else (k in hidden or k in missing)

        comp_unknown = frozenset(k for i in comp for k in rels[i] if unk(k))
        comp_hidden = {k for k in comp_unknown if k in hidden}
        if not comp_hidden:
            return set()
        key = (with_bounds, tuple(comp), comp_unknown)
        if key not in cache:
            if not with_bounds:
                system = [{k: Fraction(c) for k, c in rels[i].items() if k in comp_unknown} for i in comp]
                cache[key] = determined(system) & comp_hidden
            else:
                bounds: dict[Key, tuple[Any, Any]] = {}
                with_totals = []
                for i in comp:
                    rel = rels[i]
                    total = -sum((c * values[k] for k, c in rel.items() if k not in comp_unknown), Fraction(0))
                    us = {k: c for k, c in rel.items() if k in comp_unknown}
                    with_totals.append((us, total))
                    for k in us:
                        bounds[k] = _bounds(k, values, primary, ranges)
                cache[key] = bound_pinned(with_totals, bounds) & comp_hidden
        return cache[key]

    def component(seeds: Iterable[Key]) -> list[int]:
        """The relations joined to ``seeds`` through hidden or missing cells."""
        seen: set[Key] = set()
        comp: set[int] = set()
        stack = [k for k in seeds if k in hidden or k in missing]
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            for i in by_cell.get(k, ()):
                if i not in comp:
                    comp.add(i)
                    stack.extend(m for m in rels[i] if (m in hidden or m in missing) and m not in seen)
        return sorted(comp)

    def pinned_in(seeds: Iterable[Key], watch: set[Key]) -> set[Key]:
        """The cells of ``watch`` pinned in the component of ``seeds`` (exactly or by bounds)."""
        comp = component(seeds)
        return (leaks_of(comp, None, False) & watch) or (leaks_of(comp, None, True) & watch)

    # a relation is "area" (one period: parent = sub-areas) or "time" (one area: quarters)
    area_rel = [len({k[1] for k in rel}) == 1 for rel in rels]
    time_rel = [len({k[0] for k in rel}) == 1 for rel in rels]
    settled: set[Key] = set()  # hidden cells checked safe (they stay so: hiding more only helps)
    tried: set[Key] = set()

    def exposes(m: Key) -> int:
        # relations with no unknown yet that hiding m would open
        return sum(1 for j in by_cell[m] if not any(x in hidden or x in missing for x in rels[j]))

    def rectangle(c: Key) -> bool:
        """Protect the hidden cell ``c`` with the fewest new cells of the classic patterns: a
        second cell of its one relation, or the rectangle (a, p), (a', p), (a, p'), (a', p')
        over an area relation and a time relation of c; each candidate is checked exactly
        (and by bounds) on its component. False when none of them protects c."""
        tried.add(c)
        if not pinned_in([c], settled | {c}):
            settled.add(c)
            return True
        rs = by_cell.get(c, ())
        along_a = sorted({m for i in rs if area_rel[i] for m in rels[i] if m != c}, key=repr)
        along_t = sorted({m for i in rs if time_rel[i] for m in rels[i] if m != c}, key=repr)
        cands: set[tuple[Key, ...]] = {(m,) for m in (*along_a, *along_t)}
        for c2 in along_a:
            for c3 in along_t:
                c4 = (c2[0], c3[1])
                if c4 in values or c4 in missing:
                    cands.add(tuple(sorted({c2, c3, c4}, key=repr)))
        scored = []
        for cand in cands:
            new = [m for m in cand if m in values and m not in hidden]
            scored.append(((len(new), sum(exposes(m) for m in new), sum(values[m] == 0 for m in new),
                            sum(values[m] for m in new), sorted(sort_key(m) for m in new)), new))
        scored.sort(key=lambda t: t[0])
        for _, new in scored[:_TRIES]:
            hidden.update(new)
            if not pinned_in([c, *new], settled | {c} | set(new)):
                settled.add(c)
                settled.update(new)
                return True
            hidden.difference_update(new)
        return False

    for c in sorted(hidden, key=sort_key):
        rectangle(c)

    while True:
        unknown = hidden | missing
        comps = _components(rels, unknown)
        # exact leaks first; the (dearer) bound attacks once no hidden cell is determined
        leaks: set[Key] = set().union(*(leaks_of(c, unknown, False) for c in comps))
        if not leaks:
            leaks = set().union(*(leaks_of(c, unknown, True) for c in comps))
        if not leaks:
            return hidden, 0
        touched: set[int] = set()  # relations given a new hidden cell in this round
        for k in sorted(leaks, key=sort_key):
            if touched.intersection(by_cell.get(k, ())):
                continue  # wait and see whether that already protects it
            if k not in tried and rectangle(k):
                touched.update(by_cell.get(k, ()))
                continue
            cands = [i for i in by_cell.get(k, ())
                     if any(m in values and m not in hidden for m in rels[i])]
            if not cands:
                continue
            best = min(cands, key=lambda i: (sum(1 for m in rels[i] if m in unknown), i))

            pick = min((m for m in rels[best] if m in values and m not in hidden),
                       key=lambda m: (exposes(m), *sort_key(m)))
            hidden.add(pick)
            touched.update(by_cell[pick])
            touched.update(by_cell.get(k, ()))
        if not touched:
            # nothing publishable shares a relation with the leaking cells: hide the smallest
            # published cell of any relation that has a hidden cell, else give up
            pool = {m for rel in rels if any(x in hidden for x in rel) for m in rel
                    if m in values and m not in hidden}
            if not pool:
                return hidden, len(leaks)
            hidden.add(min(pool, key=sort_key))


def _bounds(k: Key, values: Mapping[Key, Fraction], primary: set[Key],
            ranges: Mapping[Key, tuple[Fraction, Fraction]]) -> tuple[Any, Any]:
    if k in ranges:  # known to a range, or a complement: its denominator less 1-4
        return ranges[k]
    if k not in values:  # not in this export: any count
        return (Fraction(0), INF)
    if k in primary:
        return (SMALL_LOW, SMALL_HIGH)
    v = values[k]
    if v < 0:
        return (-INF, INF)
    # an attacker may know a complementary cell is not small: 0, or 5 and over
    return (Fraction(SMALL_BELOW), INF) if v >= SMALL_BELOW else (Fraction(0), INF)


def implied(values: Mapping[Key, Fraction], children: Mapping[Any, Sequence[Any]]) -> dict[Key, Fraction]:
    """The cells NOT in ``values`` that the published ones give away on their own (exact
    elimination with the published cells moved to the right): a quarter missing between two
    year-to-date ranges, the fourth quarter of a year, the one sub-area left out of its
    parent. A small one must be protected as if it had been published."""
    rels = [rel for rel in relations(values, children) if any(k not in values for k in rel)]
    if not rels:
        return {}
    missing = {k for rel in rels for k in rel if k not in values}
    out: dict[Key, Fraction] = {}
    for comp in _components(rels, missing):
        system = [({k: c for k, c in rels[i].items() if k in missing},
                   -sum((c * values[k] for k, c in rels[i].items() if k not in missing), Fraction(0)))
                  for i in comp]
        out.update({pk: rhs for pk, row, rhs in _reduce(system) if len(row) == 1})
    return out


# -- one indicator's rows ---------------------------------------------------------------------

def protect(rows: list[dict[str, Any]], *, unit: str | None, per: int | None = None,
            children: Mapping[Any, Sequence[Any]] | None = None) -> Outcome:
    """Hide, in place, what ``rows`` (one indicator: keys ``_id`` (area), ``partnership``,
    ``period``, ``value``, ``numerator``, ``denominator``, ``_ci_low``, ``_ci_high``) must
    not publish. ``children``: area id -> its sub-areas' ids (every area, not only these)."""
    children = children or {}
    outcome = Outcome()
    scale = scale_of(unit, per)
    is_count = unit == "count"
    order = {r["_id"]: r["partnership"] for r in rows}
    index: dict[Key, dict[str, Any]] = {}
    counts: dict[Key, Fraction] = {}  # the count family: value of a count, else the numerator
    dens: dict[Key, Fraction] = {}
    derived: set[Key] = set()  # numerators published only through value x denominator
    ranges: dict[Key, tuple[Fraction, Fraction]] = {}  # what an attacker knows of a count
    p_counts: set[Key] = set()
    by_interval: set[Key] = set()  # value and interval alone give a small count away
    for r in rows:
        k = (r["_id"], r["period"])
        index[k] = r
        v, n, d = _num(r["value"]), _num(r["numerator"]), _num(r["denominator"])
        if is_count:
            c = v if v is not None else n
        else:
            c = n
            if c is None and scale and v is not None and d is not None:
                # every whole number the value gives at its rounding: 1% of 460 is 3 to 6
                lo, hi = numerator_range(v, d, scale)
                c = Fraction(round(v * d / scale))  # the estimate, for ordering
                derived.add(k)
                if lo != hi:
                    ranges[k] = (Fraction(lo), Fraction(hi))
                else:
                    c = Fraction(lo)
                if _small_in(lo, hi) or (d is not None and _small_in(d - hi, d - lo)):
                    p_counts.add(k)
            elif c is None and d is None and scale and v is not None and \
                    interval_gives_small(v, _num(r["_ci_low"]), _num(r["_ci_high"]), unit, scale):
                by_interval.add(k)
        if c is not None:
            counts[k] = c
        if d is not None:
            dens[k] = d
    p_counts |= {k for k, v in counts.items() if k not in ranges and is_small(v)}
    p_dens = {k for k, v in dens.items() if is_small(v)}
    # the complement, for every indicator with a denominator: 38 of 41 says 3 were not; an
    # attacker knows such a hidden count lies 1-4 below its denominator
    for k, v in counts.items():
        if k in dens and k not in ranges and is_small(dens[k] - v):
            p_counts.add(k)
            ranges[k] = (max(Fraction(0), dens[k] - SMALL_HIGH), dens[k] - SMALL_LOW)
    primary_cells = len(p_counts) + len(p_dens) + len(by_interval)  # one per small count
    # a small cell the file does not hold but gives away (a quarter between two published
    # year-to-date ranges) is protected like a published one: it joins as a hidden cell
    exact_counts = {k: v for k, v in counts.items() if not (k in derived and k in ranges)}
    virtual_c = {k: v for k, v in implied(exact_counts, children).items()
                 if is_small(v) and k not in counts}
    virtual_d = {k: v for k, v in implied(dens, children).items() if is_small(v)}
    counts.update(virtual_c)
    dens.update(virtual_d)
    p_counts |= set(virtual_c)
    p_dens |= set(virtual_d)
    for k in by_interval:
        _hide(index[k], ("value", "_ci_low", "_ci_high", "note"))
    if not p_counts and not p_dens:
        outcome.primary = primary_cells
        return outcome

    hidden_dens, bad_d = protect_family(dens, p_dens, p_dens, children, order)
    forced = set(p_counts)
    # value = num / den x scale: a hidden denominator hides a derived numerator
    forced |= {k for k in hidden_dens if k in derived and k in counts}
    hidden_counts, bad_c = protect_family(counts, forced, p_counts, children, order, ranges)
    outcome.unresolved = bad_d + bad_c

    hidden_cells = 0
    for k in hidden_counts:
        if k in index:  # not a virtual cell
            hidden_cells += _hide(index[k], ("value", "numerator", "_ci_low", "_ci_high"))
    for k in hidden_dens:
        if k not in index:
            continue
        cols = ("denominator",) if is_count else ("denominator", "value", "_ci_low", "_ci_high")
        hidden_cells += _hide(index[k], cols)
    # a published value with a hidden numerator or denominator would give it back; nothing
    # else may say more about a hidden count than the hidden cells do
    for r in rows:
        if SUPPRESSED in (r["numerator"], r["denominator"]) and not is_count:
            hidden_cells += _hide(r, ("value", "_ci_low", "_ci_high"))
    # a note beside a hidden figure may describe it ("a single seizure in the year")
    for r in rows:
        if any(r.get(c) == SUPPRESSED for c in ("value", "numerator", "denominator")):
            _hide(r, ("note",))
    outcome.primary = primary_cells
    outcome.secondary = max(0, hidden_cells - primary_cells)
    return outcome


def _hide(row: dict[str, Any], cols: Sequence[str]) -> int:
    n = 0
    for c in cols:
        if row.get(c) is not None and row[c] != SUPPRESSED:
            row[c] = SUPPRESSED
            n += 1
    return n
