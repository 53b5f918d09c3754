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

import functools
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    #: the count cells (area, period) hidden, for indicators protected jointly
    hidden: set[Key] = field(default_factory=set)


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
#: the 97.5% normal quantile (two-sided 95% intervals)
_Z = 1.959963984540054
#: a span of denominators wider than this is searched by bisection, not one by one
_ENUMERATE = 3000
_EPS = 1e-9

Written = tuple[Fraction, Fraction]  # a published figure and half a unit of its last decimal


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1.0 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 400):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-12:
            break
    return front * f


@functools.lru_cache(maxsize=65536)
def clopper_pearson(x: int, n: int) -> tuple[float, float]:
    """The exact (Clopper-Pearson) binomial 95% interval for x of n, as fractions 0-1."""
    def quantile(p: float, a: float, b: float) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(48):
            mid = (lo + hi) / 2
            if _betainc(a, b, mid) < p:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    lower = 0.0 if x == 0 else quantile(0.025, x, n - x + 1)
    upper = 1.0 if x == n else quantile(0.975, x + 1, n - x)
    return lower, upper


def _proportion_limits(x: int, n: int, exact: bool = True) -> list[tuple[float, float]]:
    """The 95% limits of x of n (fractions) by every method dat knows for a proportion:
    Wilson, Clopper-Pearson (``exact``) and Wald (normal approximation, as written and
    clipped to 0-1)."""
    from dat.core import stats

    if n < 1 or not 0 <= x <= n:
        return []
    p = x / n
    w = _Z * math.sqrt(p * (1 - p) / n)
    out = [stats.wilson(x, n), (p - w, p + w), (max(0.0, p - w), min(1.0, p + w))]
    if exact:
        out.append(clopper_pearson(x, n))
    return out


def _count_limits(x: int) -> list[tuple[float, float]]:
    """The 95% limits of a count of x events by every method dat knows for a rate: exact
    Poisson, Byar's, and the normal approximation x +- 1.96 sqrt(x) (as written and
    clipped at 0)."""
    from dat.core import stats

    w = _Z * math.sqrt(x)
    return [stats.exact_poisson(x), stats.byar(x), (x - w, x + w), (max(0.0, x - w), x + w)]


def _near(a: float, target: Written | None) -> bool:
    return target is None or abs(a - float(target[0])) <= float(target[1]) + _EPS


def interval_fits(x: int, n: int, low: Written | None, high: Written | None, *, proportion: bool,
                  scale: int, exact: bool = True) -> bool:
    """Whether ``x`` of ``n`` (a proportion) or ``x`` events in ``n`` (a rate per ``scale``)
    gives the written limits (either may be None: a one-sided interval) by some method
    dat knows."""
    if proportion:
        lims = [(a * scale, b * scale) for a, b in _proportion_limits(x, n, exact=exact)]
    else:
        if n < 1:
            return False
        lims = [(a * scale / n, b * scale / n) for a, b in _count_limits(x)]
    return any(_near(a, low) and _near(b, high) for a, b in lims)


def narrow(candidates: range, fits: Any) -> list[int] | None:
    """The candidates (whole numbers a row allows for a cell) an interval keeps: those
    ``fits`` accepts; None when there are too many to try (no narrowing)."""
    if len(candidates) > _ENUMERATE:
        return None
    return [c for c in candidates if fits(c)]


def _by_value(x: int, v: Written, scale: int) -> tuple[int, int]:
    """The denominators n (>= max(x, 1)) for which x of n (x in n, per scale) is written as v."""
    val, half = v
    first = max(x, 1)
    if x == 0:
        return (first, _MAX_DENOMINATOR) if val - half <= 0 else (1, 0)
    tiny = Fraction(1, 10 ** 12)
    lo = math.ceil(Fraction(x * scale) / (val + half) - tiny) if val + half > 0 else _MAX_DENOMINATOR + 1
    hi = math.floor(Fraction(x * scale) / (val - half) + tiny) if val - half > 0 else _MAX_DENOMINATOR
    return max(first, lo), min(hi, _MAX_DENOMINATOR)


def _rate_span(count_limit: float, target: Written | None, scale: int) -> tuple[float, float]:
    """The (real) populations for which ``count_limit`` events per population x scale is
    written as ``target``."""
    if target is None:
        return (0.0, INF)
    a, t, h = count_limit * scale, float(target[0]), float(target[1]) + _EPS
    if a == 0:
        return (0.0, INF) if abs(t) <= h else (1.0, 0.0)
    if a > 0:
        if t + h <= 0:
            return (1.0, 0.0)
        return (a / (t + h), a / (t - h) if t - h > 0 else INF)
    if t - h >= 0:
        return (1.0, 0.0)
    return (a / (t - h), a / (t + h) if t + h < 0 else INF)


def _fit_count(x: int, v: Written, low: Written | None, high: Written | None, *,
               proportion: bool, scale: int, exact: bool = True) -> bool:
    """Whether some denominator gives x the value v and the written limits by a method dat
    knows."""
    first, last = _by_value(x, v, scale)
    if first > last:
        return False
    if not proportion:  # limits are count limits / population: monotone in the population
        for a, b in _count_limits(x):
            lo, hi = float(first) - _EPS, float(last) + _EPS
            for span in (_rate_span(a, low, scale), _rate_span(b, high, scale)):
                lo, hi = max(lo, span[0]), min(hi, span[1])
            if hi >= lo and math.floor(hi + _EPS) >= max(1, math.ceil(lo - _EPS)):
                return True
        return False
    if last - first <= _ENUMERATE:
        return any(interval_fits(x, n, low, high, proportion=True, scale=scale, exact=False)
                   for n in range(first, last + 1)) or (exact and any(
            interval_fits(x, n, low, high, proportion=True, scale=scale) for n in range(first, last + 1)))
    # many denominators: each method's limits decrease with n for a fixed x (bisection); a
    # limit whose direction is not sure (Wald's lower) is left out: more is found, not less
    for m in range(4):
        span = (first, last)
        if m == 3 and not exact:
            continue
        for k, target in ((1, high), (0, low)):
            if target is None or span[0] > span[1] or (m in (1, 2) and k == 0):
                continue
            lim = lambda n, m=m, k=k: _proportion_limits(x, n, exact=m == 3)[m][k] * scale  # noqa: E731
            span = _decreasing_span(lim, float(target[0] - target[1]) - _EPS,
                                    float(target[0] + target[1]) + _EPS, *span)
        if span[0] <= span[1]:
            return True
    return False


def _value_small(v: Written, proportion: bool, scale: int) -> bool:
    """Whether the value alone, at its rounding, can stand for a count of 1-4 (or, for a
    proportion, a complement or denominator of 1-4) for some denominator."""
    for x in range(1, SMALL_BELOW):
        first, last = _by_value(x, v, scale)
        if first <= last:
            return True
        if proportion:
            first, last = _by_value(x, (scale - v[0], v[1]), scale)
            if first <= last:
                return True
    if proportion:
        return any(abs(Fraction(x * scale, n) - v[0]) <= v[1] for n in range(1, SMALL_BELOW) for x in range(n + 1))
    return False


def _identified(v: Written, low: Written, high: Written, *, proportion: bool, scale: int) -> bool:
    """Whether a count of any size and a denominator give the value and both limits by a
    method dat knows (the interval is of a supported kind)."""
    width = float(high[0] - low[0]) / 2
    if width <= 0:
        return False
    p = float(v[0]) / scale
    if proportion:
        n_est = _Z * _Z * max(p * (1 - p), 1e-9) / (width / scale) ** 2
        x_est = p * n_est
    else:
        x_est = (_Z * float(v[0]) / width) ** 2 if v[0] > 0 else 0.0
    first = max(0, int(x_est / 3) - 5)
    last = min(int(3 * x_est) + 10, 10 ** 9)
    step = max(1, (last - first) // 400)
    xs = sorted(range(first, last + 1, step), key=lambda x: abs(x - x_est))
    # the cheap methods for every count tried, Clopper-Pearson for the likeliest 30
    return any(_fit_count(x, v, low, high, proportion=proportion, scale=scale, exact=False) for x in xs) or \
        (proportion and any(_fit_count(x, v, low, high, proportion=True, scale=scale) for x in xs[:30]))


def interval_gives_small(value: float | Fraction, ci_low: float | Fraction | None,
                         ci_high: float | Fraction | None, unit: str | None, scale: int) -> bool:
    """Whether a percentage or rate published with a 95% interval but no numerator and no
    denominator can stand for a small count, as an attacker inverting the interval would
    find: some numerator of 1-4 (or, for a proportion, a complement of 1-4, or a
    denominator of 1-4) and a denominator give the value and the limits at their rounding,
    by a method dat knows (for a proportion Wilson, Clopper-Pearson and Wald; for a rate
    exact Poisson, Byar's and the normal approximation). An interval of another kind (no
    known method fits it for any count) or with one limit only is judged by the value
    alone: hidden when the value can stand for a small count. 25.0 (4.56-69.94) is 1 of 4:
    True."""
    if ci_low is None and ci_high is None:
        return False
    proportion = unit != "rate"
    v = _as_written(value)
    if ci_low is None or ci_high is None:
        return _value_small(v, proportion, scale)
    low, high = _as_written(ci_low), _as_written(ci_high)
    for x in range(1, SMALL_BELOW):
        if _fit_count(x, v, low, high, proportion=proportion, scale=scale):
            return True
        if proportion and _fit_count(x, (scale - v[0], v[1]), (scale - high[0], high[1]),
                                     (scale - low[0], low[1]), proportion=True, scale=scale):
            return True  # the complement
    if proportion and any(abs(Fraction(x * scale, n) - v[0]) <= v[1] and
                          interval_fits(x, n, low, high, proportion=True, scale=scale)
                          for n in range(1, SMALL_BELOW) for x in range(n + 1)):
        return True  # a denominator of 1-4 (0 of 3 included)
    if not _identified(v, low, high, proportion=proportion, scale=scale):
        return _value_small(v, proportion, scale)
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
    spans = sorted(quarters.items(), key=lambda pq: repr(pq[0]))
    # a span holding another is it and the quarters between (year = Q1-Q3 + Q4): the
    # difference of two relations above, written out so that bounds see it too (a year equal
    # to its Q1-Q3 leaves a Q4 of 0, and so every sub-area's Q4 is 0)
    nested = [(p, r, [q for q in qs if q not in rs]) for p, qs in spans for r, rs in spans
              if r != p and set(rs) < set(qs)]
    for a in sorted(areas, key=repr):
        for p, qs in spans:
            rel = {(a, p): 1}
            for q in qs:
                rel[(a, q)] = -1
            out.append(rel)
        for p, r, rest in nested:
            out.append({(a, p): 1, (a, r): -1, **{(a, q): -1 for q in rest}})
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


#: the prime :func:`determined` reduces modulo (2^61 - 1)
_PRIME = (1 << 61) - 1


def _mod(v: Any) -> int:
    f = Fraction(v)
    return f.numerator * pow(f.denominator, -1, _PRIME) % _PRIME


def _subtract_mod(row: dict[Key, int], c: int, other: dict[Key, int]) -> None:
    for k, v in other.items():
        nv = (row.get(k, 0) - c * v) % _PRIME
        if nv:
            row[k] = nv
        else:
            row.pop(k, None)


def determined(rows: list[dict[Key, Fraction]]) -> set[Key]:
    """The unknowns fixed by the linear system ``rows`` (each {unknown: coefficient}; the
    constants do not matter): a pivot of the reduced form whose row has no free unknown.

    Which unknowns are fixed depends only on the coefficients, so the reduction is done in
    whole numbers modulo the prime 2^61 - 1 rather than in Fractions (ten times quicker).
    It agrees with the rational reduction unless the prime divides one of the minors met
    on the way; the minors of +-1 relations have no reason to hold that 61-bit prime as a
    factor, and the suite checks the two against each other on random systems."""
    rank = {k: i for i, k in enumerate(sorted({k for r in rows for k in r}, key=repr))}
    pivots: list[tuple[Key, dict[Key, int]]] = []
    for raw in rows:
        row = {k: m for k, v in raw.items() if (m := _mod(v))}
        for pk, prow in pivots:
            c = row.get(pk)
            if c:
                _subtract_mod(row, c, prow)
        if not row:
            continue
        pk = min(row, key=rank.__getitem__)
        inv = pow(row[pk], -1, _PRIME)
        row = {k: v * inv % _PRIME for k, v in row.items()}
        for _qk, qrow in pivots:
            c = qrow.get(pk)
            if c:
                _subtract_mod(qrow, c, row)
        pivots.append((pk, row))
    return {pk for pk, row in pivots if len(row) == 1}


def _propagate(rels: list[tuple[dict[Key, int], Any]], lo: dict[Key, Any], hi: dict[Key, Any],
               whole: bool, rounds: int = 25, by_var: Mapping[Key, list[int]] | None = None) -> bool:
    """Interval propagation through the relations (each ({unknown: +-1}, total) meaning
    sum(c x) = total), narrowing ``lo`` and ``hi`` in place; with ``whole`` every unknown is
    a whole number (the bounds and totals are ints then), so a bound is rounded inwards.
    A relation is looked at again only when one of its unknowns narrowed, at most
    ``rounds`` times the relations in all. False when some interval empties: the bounds
    given cannot all hold."""
    if by_var is None:
        by_var = {}
        for i, (rel, _) in enumerate(rels):
            for k in rel:
                by_var.setdefault(k, []).append(i)
    queue = deque(range(len(rels)))
    queued = [True] * len(rels)
    budget = rounds * len(rels)
    while queue and budget:
        budget -= 1
        i = queue.popleft()
        queued[i] = False
        rel, total = rels[i]
        # sum c_k x_k = total; for each k: c_k x_k = total - sum_{j != k} c_j x_j
        mins = {k: (lo[k] if c > 0 else -hi[k]) for k, c in rel.items()}
        maxs = {k: (hi[k] if c > 0 else -lo[k]) for k, c in rel.items()}
        smin, smax = sum(mins.values()), sum(maxs.values())
        for k, c in rel.items():
            rest_min = smin - mins[k] if mins[k] != -INF else _sum_except(mins, k)
            rest_max = smax - maxs[k] if maxs[k] != INF else _sum_except(maxs, k)
            t_lo, t_hi = total - rest_max, total - rest_min  # bounds on c_k x_k
            n_lo, n_hi = (t_lo, t_hi) if c > 0 else (-t_hi, -t_lo)
            narrowed = False
            if n_lo > lo[k]:
                lo[k], narrowed = n_lo, True
            if n_hi < hi[k]:
                hi[k], narrowed = n_hi, True
            if lo[k] > hi[k]:
                return False
            if narrowed:
                for j in by_var[k]:
                    if not queued[j]:
                        queued[j] = True
                        queue.append(j)
    return True


def _whole(x: Any, up: bool) -> Any:
    """``x`` as an int bound for a whole-number unknown (rounded inwards), infinity kept."""
    if x in (INF, -INF):
        return x
    return math.ceil(x) if up else math.floor(x)


#: a hidden cell left with at most this many whole values by propagation is probed: each
#: value is tried, and one that makes the bounds impossible is no longer a candidate
PROBE_VALUES = 8
#: probing is done on components of at most this many relations (it costs a propagation
#: per value tried)
PROBE_RELATIONS = 400


def bound_pinned(rels: list[tuple[dict[Key, int], Any]],
                 bounds: dict[Key, tuple[Any, Any]], rounds: int = 25, *,
                 whole: bool = False, probe: Iterable[Key] = ()) -> set[Key]:
    """Unknowns whose interval collapses to one value under interval propagation through
    the relations (each ({unknown: +-1}, total) meaning sum(c x) = total). With ``whole``
    the unknowns are whole numbers, and each cell of ``probe`` left with a few values is
    probed: a value is kept only if the bounds still hold with the cell fixed at it, which
    catches what an integer programme over rounded ranges would find (r4 F02)."""
    whole = whole and all(Fraction(total).denominator == 1 for _, total in rels)
    if whole:  # ints: a tenth of the cost of Fractions, and rounded inwards
        rels = [(rel, int(total)) for rel, total in rels]
        lo = {k: _whole(b[0], True) for k, b in bounds.items()}
        hi = {k: _whole(b[1], False) for k, b in bounds.items()}
    else:
        lo = {k: b[0] for k, b in bounds.items()}
        hi = {k: b[1] for k, b in bounds.items()}
    by_var: dict[Key, list[int]] = {}
    for i, (rel, _) in enumerate(rels):
        for k in rel:
            by_var.setdefault(k, []).append(i)
    if not _propagate(rels, lo, hi, whole, rounds, by_var):
        return {k for k in bounds if lo[k] >= hi[k]}
    pinned = {k for k in bounds if lo[k] >= hi[k]}
    if not whole or len(rels) > PROBE_RELATIONS:
        return pinned
    for k in sorted(set(probe) - pinned, key=repr):
        if k not in lo or lo[k] in (INF, -INF) or hi[k] in (INF, -INF) or hi[k] - lo[k] >= PROBE_VALUES:
            continue
        possible = []
        for v in range(int(lo[k]), int(hi[k]) + 1):
            trial_lo, trial_hi = dict(lo), dict(hi)
            trial_lo[k] = trial_hi[k] = v
            if _propagate(rels, trial_lo, trial_hi, whole, rounds, by_var):
                possible.append(v)
                if len(possible) > 1:
                    break
        if len(possible) <= 1:
            pinned.add(k)
    return pinned


def _sum_except(values: dict[Key, Any], skip: Key) -> Any:
    return sum(v for k, v in values.items() if k != skip)


# -- choosing what to hide --------------------------------------------------------------------

def protect_family(values: Mapping[Key, Fraction], hidden: set[Key], primary: set[Key],
                   children: Mapping[Any, Sequence[Any]], order: Mapping[Any, str],
                   ranges: Mapping[Key, tuple[Any, Any]] | None = None,
                   bounds: Mapping[Key, tuple[Any, Any]] | None = None,
                   whole: bool = False) -> tuple[set[Key], int]:
    """Hide more cells of one family of counts until no hidden cell is determined by the
    published ones. ``values``: every present cell; ``hidden``: the cells hidden so far
    (primary and forced); ``ranges``: what an attacker knows of a cell that is not a number:
    a published one only to a range (a numerator worked back from a rounded percentage: an
    unknown of the relations, within its range), a hidden one only within bounds (a
    complement: the denominator less 1-4); ``bounds``: what an attacker knows of a cell once
    it is hidden (from what its row still publishes; by default its class: 1-4, 0, or 5 and
    over). A hidden cell an attacker knows to be 0 is no leak (0 is published) but protects
    nothing; and the hidden cells of one relation, all on one side, must not add up to 1-4
    (a group of 1-4 people). ``whole``: every cell is a whole number (people), so an
    attacker rounds bounds and may try each value a hidden cell has left (see
    :func:`bound_pinned`). Returns (every hidden cell, how many could not be protected)."""
    hidden = set(hidden)
    ranges = ranges or {}
    bounds = bounds or {}

    def hidden_bounds(k: Key) -> tuple[Any, Any]:
        if k in bounds:
            return bounds[k]
        return (SMALL_LOW, SMALL_HIGH) if k in primary else _granted(values[k])

    # cells an attacker knows whether hidden or not: a zero, and a count its own bounds fix
    # (5 of a published denominator of 5, when a hidden count is granted "5 and over") that
    # is not itself to be protected (a complement of 1 below 6 is); hiding one protects
    # nothing, and finding it is no leak
    zeros = {k for k in values if hidden_bounds(k)[0] == hidden_bounds(k)[1]
             and (hidden_bounds(k)[0] == 0 or (k not in primary and not is_small(hidden_bounds(k)[0])))}
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
    offending: dict[tuple, set[int]] = {}  # ... -> relations whose hidden cells add up to 1-4
    # unknowns besides the hidden cells: cells the file does not hold, and those it
    # publishes only to a range
    missing = {k for rel in rels for k in rel if k not in values or k in vague}

    def leaks_of(comp: list[int], unknown: set[Key] | None, with_bounds: bool) -> set[Key]:
        """The hidden cells of the component ``comp`` the attacker pins (``unknown``: the
        hidden and missing cells; None for the current ones)."""
        def unk(k: Key) -> bool:
            return k in unknown if unknown is not None else (k in hidden or k in missing)

        comp_unknown = frozenset(k for i in comp for k in rels[i] if unk(k))
        comp_hidden = {k for k in comp_unknown if k in hidden} - zeros
        if not comp_hidden:
            return set()
        # a cell known to a range is an unknown both published and hidden: which it is now
        # belongs in the key, or a hidden cell keeps its published range's result (O3)
        now = frozenset(k for k in comp_unknown if k in hidden or (unknown is not None and k not in missing))
        key = (with_bounds, tuple(comp), comp_unknown, now)
        if key not in cache:
            if not with_bounds:
                system = [{k: Fraction(c) for k, c in rels[i].items() if k in comp_unknown} for i in comp]
                cache[key] = determined(system) & comp_hidden
            else:
                cell_bounds: dict[Key, tuple[Any, Any]] = {}
                with_totals = []
                groups: set[Key] = set()
                bad_rels: set[int] = set()
                for i in comp:
                    rel = rels[i]
                    total = -sum((c * values[k] for k, c in rel.items() if k not in comp_unknown), Fraction(0))
                    us = {k: c for k, c in rel.items() if k in comp_unknown}
                    with_totals.append((us, total))
                    for k in us:
                        # a cell hidden, or hidden in this trial, is granted only what its row
                        # still publishes, never the range of its own hidden value (O3)
                        cell_bounds[k] = (hidden_bounds(k) if k in now and k in values
                                          else ranges.get(k, (Fraction(0), INF)))
                    # hidden cells all on one side of a relation, adding up to 1-4: a group
                    # of 1-4 people (a hidden 4 beside a hidden 0)
                    if all(k in hidden and k in values and k not in ranges for k in us) and \
                            len({c > 0 for c in us.values()}) == 1 and SMALL_LOW <= abs(total) <= SMALL_HIGH:
                        groups.update(us)
                        bad_rels.add(i)
                offending[key] = bad_rels
                cache[key] = (bound_pinned(with_totals, cell_bounds, whole=whole, probe=comp_hidden)
                              | groups) & comp_hidden
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
            if any(m in zeros for m in new):
                continue  # a cell an attacker knows anyway protects nothing
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

    # the components looked at in a round: every one, then only those a round changed
    # (the rest were clean and stay so), then every one again before saying all is safe
    active: list[list[int]] | None = None
    while True:
        unknown = hidden | missing
        comps = _components(rels, unknown) if active is None else active
        # exact leaks first; the (dearer) bound attacks once no hidden cell is determined
        leaks: set[Key] = set().union(*(leaks_of(c, unknown, False) for c in comps))
        if not leaks:
            leaks = set().union(*(leaks_of(c, unknown, True) for c in comps))
        if not leaks:
            if active is None:
                return hidden, 0
            active = None
            continue
        before = set(hidden)
        touched: set[int] = set()  # relations given a new hidden cell in this round
        for k in sorted(leaks, key=sort_key):
            if touched.intersection(by_cell.get(k, ())):
                continue  # wait and see whether that already protects it
            if k not in tried and rectangle(k):
                touched.update(by_cell.get(k, ()))
                continue
            # a zero, or a cell its own row fixes, protects nothing: never one of those
            cands = [i for i in by_cell.get(k, ())
                     if any(m in values and m not in hidden and m not in zeros for m in rels[i])]
            if not cands:
                continue
            bad = set().union(*offending.values())
            best = min(cands, key=lambda i: (i not in bad, sum(1 for m in rels[i] if m in unknown), i))
            pick = min((m for m in rels[best] if m in values and m not in hidden and m not in zeros),
                       key=lambda m: (exposes(m), *sort_key(m)))
            hidden.add(pick)
            touched.update(by_cell[pick])
            touched.update(by_cell.get(k, ()))
        if not touched:
            # nothing publishable shares a relation with the leaking cells: hide the smallest
            # published cell of any relation that has a hidden cell, else give up
            pool = {m for rel in rels if any(x in hidden for x in rel) for m in rel
                    if m in values and m not in hidden and m not in zeros}
            if not pool:
                return hidden, len(leaks)
            hidden.add(min(pool, key=sort_key))
        active = []
        covered: set[int] = set()
        for seed in sorted((hidden - before) | leaks, key=sort_key):
            if covered.isdisjoint(by_cell.get(seed, ())):
                comp = component([seed])
                covered.update(comp)
                if comp:
                    active.append(comp)


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

def _granted(x: Fraction) -> tuple[Any, Any]:
    """What an attacker is granted about a hidden count of ``x``: a small one is 1-4, a
    zero is 0 (a hidden zero protects nothing), any other 5 and over."""
    if x < 0:
        return (-INF, INF)
    if x == 0:
        return (Fraction(0), Fraction(0))
    return (SMALL_LOW, SMALL_HIGH) if is_small(x) else (Fraction(SMALL_BELOW), INF)


def _hull(lo: Fraction, hi: Fraction) -> tuple[Any, Any]:
    """What an attacker is granted about a hidden count known (before it was hidden) only
    to lie in lo-hi: the hull of what each of those numbers grants."""
    return _granted(lo)[0], _granted(hi)[1]


def _upper_bounds(values: Mapping[Key, Fraction], children: Mapping[Any, Sequence[Any]]) -> dict[Key, Any]:
    """The most each cell of the relations can be, given the published ``values`` and that
    no cell is negative (interval propagation): a published cell is its value; a quarter's
    denominator is at most its range's less the other quarter's, and two sub-areas whose
    parent's Q4 is all in a third are 0 (r4v). Cells with no finite bound are left out."""
    rels = relations(values, children)
    keys = {k for rel in rels for k in rel} | set(values)
    whole = all(Fraction(v).denominator == 1 for v in values.values())
    lo: dict[Key, Any] = {k: 0 for k in keys}
    hi: dict[Key, Any] = {k: INF for k in keys}
    for k, v in values.items():
        lo[k] = hi[k] = int(v) if whole else v
    if not _propagate([(rel, 0) for rel in rels], lo, hi, whole):
        return dict(values)  # figures that do not add up: only what is published is known
    return {k: Fraction(h) for k, h in hi.items() if h != INF}


def denominator_range(value: float | Fraction, numerator: float | Fraction, scale: int) -> tuple[int, Any]:
    """Every whole denominator a published ``value`` (at its rounding) of ``numerator``
    can stand for, as (lowest, highest; INF when unbounded): 71.4% of 10 is 14 only."""
    v, half = _as_written(value)
    x = Fraction(numerator)
    if x == 0:
        return (1, INF) if v - half <= 0 else (1, 0)
    lo = max(math.ceil(x * scale / (v + half)), max(1, math.ceil(x))) if v + half > 0 else 1
    hi = math.floor(x * scale / (v - half)) if v - half > 0 else INF
    return lo, hi


def protect(rows: list[dict[str, Any]], *, unit: str | None, per: int | None = None,
            children: Mapping[Any, Sequence[Any]] | None = None,
            force: Iterable[Key] = (), known: Mapping[Key, tuple[Fraction, Fraction]] | None = None) -> Outcome:
    """Hide, in place, what ``rows`` (one indicator: keys ``_id`` (area), ``partnership``,
    ``period``, ``value``, ``numerator``, ``denominator``, ``_ci_low``, ``_ci_high``) must
    not publish. ``children``: area id -> its sub-areas' ids (every area, not only these).
    ``force``: count cells to hide whatever their size (a linked indicator hid them).
    ``known``: the count cells of linked indicators (the same people) this indicator does not
    hold, as (lowest, highest): they join its relations as cells of one combined table, so a
    total one of them publishes is a known value here; ``Outcome.hidden`` names them too."""
    children = children or {}
    outcome = Outcome()
    scale = scale_of(unit, per)
    is_count = unit == "count"
    proportion = unit != "rate"
    order = {r["_id"]: r["partnership"] for r in rows}
    index: dict[Key, dict[str, Any]] = {}
    counts: dict[Key, Fraction] = {}  # the count family: value of a count, else the numerator
    dens: dict[Key, Fraction] = {}
    derived: set[Key] = set()  # numerators published only through value x denominator
    derived_den: set[Key] = set()  # denominators published only through numerator / value
    ranges: dict[Key, tuple[Fraction, Fraction]] = {}  # what an attacker knows of a published count
    den_ranges: dict[Key, tuple[Any, Any]] = {}
    complement: dict[Key, tuple[Fraction, Fraction]] = {}  # a hidden count 1-4 below its denominator
    p_counts: set[Key] = set()
    p_dens: set[Key] = set()
    by_interval: set[Key] = set()  # value and interval alone give a small count away
    odd_interval: set[Key] = set()  # an interval of no known kind beside a numerator's range
    for r in rows:
        k = (r["_id"], r["period"])
        index[k] = r
        v, n, d = _num(r["value"]), _num(r["numerator"]), _num(r["denominator"])
        lo_ci, hi_ci = _num(r.get("_ci_low")), _num(r.get("_ci_high"))
        has_ci = lo_ci is not None or hi_ci is not None
        low = _as_written(lo_ci) if lo_ci is not None else None
        high = _as_written(hi_ci) if hi_ci is not None else None
        if is_count:
            c = v if v is not None else n
        else:
            c = n
            if c is None and scale and v is not None and d is not None:
                # every whole number the value gives at its rounding (1% of 460 is 3 to 6),
                # narrowed by every other figure of the row: the interval keeps only the
                # numerators that give it by a method dat knows (N1)
                lo, hi = numerator_range(v, d, scale)
                if has_ci and d.denominator == 1:
                    kept = narrow(range(lo, hi + 1), lambda x, d=int(d), low=low, high=high: interval_fits(
                        x, d, low, high, proportion=proportion, scale=scale))
                    if kept == []:
                        odd_interval.add(k)  # an attacker may know its kind: it is not published
                    elif kept:
                        lo, hi = min(kept), max(kept)
                c = Fraction(round(v * d / scale))  # the estimate, for ordering
                derived.add(k)
                if lo != hi:
                    ranges[k] = (Fraction(lo), Fraction(hi))
                else:
                    c = Fraction(lo)
                if _small_in(lo, hi) or _small_in(d - hi, d - lo):
                    p_counts.add(k)
            elif c is None and d is None and scale and v is not None and has_ci and \
                    interval_gives_small(v, lo_ci, hi_ci, unit, scale):
                by_interval.add(k)
            elif c is not None and d is None and scale and v is not None:
                # numerator and value give the denominator (10 of 71.4% is 14), narrowed
                # by the interval: a small denominator or complement is hidden (N2)
                dlo, dhi = denominator_range(v, c, scale)
                if has_ci and c.denominator == 1 and dhi != INF:
                    kept = narrow(range(dlo, int(dhi) + 1), lambda m, x=int(c), low=low, high=high: interval_fits(
                        x, m, low, high, proportion=proportion, scale=scale))
                    if kept:
                        dlo, dhi = min(kept), max(kept)
                if dlo <= dhi:
                    if _small_in(dlo, dhi):
                        p_dens.add(k)
                    if _small_in(dlo - c, dhi - c):
                        p_counts.add(k)
                    if dlo == dhi:
                        d = Fraction(dlo)
                        derived_den.add(k)
                    else:
                        d = Fraction(round(c * scale / v)) if v else Fraction(dlo)  # for ordering
                        den_ranges[k] = (Fraction(dlo), dhi)
        if c is not None:
            counts[k] = c
        if d is not None:
            dens[k] = d
    extra: set[Key] = set()
    for k, (k_lo, k_hi) in (known or {}).items():
        if k in counts:
            continue
        extra.add(k)
        counts[k] = Fraction(round((k_lo + k_hi) / 2)) if k_lo != k_hi else Fraction(k_lo)
        if k_lo != k_hi:
            ranges[k] = (Fraction(k_lo), Fraction(k_hi))
            derived.add(k)
            if _small_in(k_lo, k_hi):
                p_counts.add(k)
    p_counts |= {k for k, v in counts.items() if k not in ranges and is_small(v)}
    p_dens |= {k for k, v in dens.items() if is_small(v)}
    # the complement, for every indicator with a denominator: 38 of 41 says 3 were not; an
    # attacker knows such a hidden count lies 1-4 below its denominator
    for k, v in counts.items():
        if k in dens and k not in ranges and is_small(dens[k] - v):
            p_counts.add(k)
            complement[k] = (max(Fraction(0), dens[k] - SMALL_HIGH), dens[k] - SMALL_LOW)
    forced_rows = {k for k in force if k in counts} - p_counts
    primary_cells = len(p_counts - extra) + len(p_dens) + len(by_interval)  # one per small count
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
    for k in odd_interval:
        _hide(index[k], ("_ci_low", "_ci_high"))
    if not p_counts and not p_dens and not forced_rows:
        outcome.primary = primary_cells
        return outcome

    den_bounds = {k: _granted(v) for k, v in dens.items()}
    den_bounds.update({k: _hull(Fraction(0) if r[0] == 0 else r[0], Fraction(10 ** 12) if r[1] == INF else r[1])
                       for k, r in den_ranges.items()})
    hidden_dens, bad_d = protect_family(dens, p_dens, p_dens, children, order,
                                        {k: r for k, r in den_ranges.items() if r[1] != INF}, bounds=den_bounds,
                                        whole=all(v.denominator == 1 for v in dens.values()))
    forced = set(p_counts) | forced_rows
    # value = num / den x scale: a hidden denominator hides a derived numerator
    forced |= {k for k in hidden_dens if k in derived and k in counts}
    # what an attacker can still know of a hidden count, from what its row still publishes:
    # not the range its (hidden) value gave, but its class and its published denominator
    # every denominator an attacker knows exactly: those published, and those they give
    # away (a quarter's is its range's less the other quarter's: 25 - 25 = 0), each an
    # upper bound on its count, which a count the file does not hold gets too (r4 F01)
    known_den = _upper_bounds({k: v for k, v in dens.items()
                               if k not in hidden_dens and k not in derived_den and k not in den_ranges}, children)
    bounds: dict[Key, tuple[Any, Any]] = {}
    for k, v in counts.items():
        b = _hull(*ranges[k]) if k in ranges else _granted(v)
        if k in complement and v != 0:  # a hidden 0 of 1-4 is known: its denominator is hidden
            b = (max(b[0], complement[k][0]), min(b[1], complement[k][1]))
        if k in known_den and known_den[k] < b[1]:
            b = (b[0], known_den[k])
        if b[0] > b[1]:
            b = _granted(v)
        bounds[k] = b
    below_den = {k: (Fraction(0), d) for k, d in known_den.items() if k not in counts and d >= 0}
    hidden_counts, bad_c = protect_family(counts, forced, p_counts, children, order, {**below_den, **ranges},
                                          bounds=bounds, whole=all(v.denominator == 1 for v in counts.values()))
    outcome.unresolved = bad_d + bad_c
    outcome.hidden = {k for k in hidden_counts if k in index or k in extra}

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
