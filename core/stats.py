"""Confidence intervals, significance against a benchmark, ranks, quartiles and trends.

Pure functions, standard library only (no scipy): the inverse normal, the regularised
incomplete gamma function and its inverse are implemented here.

Methods (as used for England's public health indicators):

* **Proportions** (a numerator out of a denominator): Wilson's score interval.
* **Counts and rates** (events, or events per ``per`` of a denominator): Byar's
  approximation to the Poisson interval from 10 events up, the exact Poisson interval (from
  the chi-square / gamma distribution) below 10.
* **Levels**: 95% and 99.8% (roughly two and three standard deviations).
* **Comparison with a benchmark**: an area is significantly different from the benchmark at
  a level when the benchmark lies outside the area's interval (or, when the benchmark has an
  interval of its own, when the two intervals do not overlap). The result is ``better`` /
  ``similar`` / ``worse`` for indicators where higher is better, the same flipped where
  lower is better, and ``higher`` / ``similar`` / ``lower`` where neither is better.
  Missing or impossible data gives ``not compared`` with a reason; these functions never
  raise for bad figures.
* **Recent trend** over the last five points: the chi-square test for linear trend in
  proportions (Cochran-Armitage) at 99.8%; for counts and rates the Poisson score test for a
  log-linear trend at 99.8% (see :func:`trend`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from dat.core.errors import DataError

#: confidence levels used everywhere, by name
LEVELS = {"95": 0.95, "998": 0.998}
#: below this many events a count's interval is exact rather than Byar's approximation
EXACT_BELOW = 10
#: kinds of statistic :func:`interval` and :func:`compare_value` understand
KINDS = ("proportion", "rate", "count")
POLARITIES = ("higher", "lower", "none")
NOT_COMPARED = "not compared"
CANNOT = "cannot be calculated"
#: how many of the latest points the recent trend looks at
TREND_POINTS = 5


class StatsError(DataError, ValueError):
    """Figures that no interval can be computed for (the message says why)."""


class MissingData(StatsError):
    """A figure needed for an interval is not there (as opposed to being impossible)."""


# -- the normal distribution ------------------------------------------------------------------

# Wichura (1988), algorithm AS 241 (PPND16): rational approximations accurate to about 1e-16.
_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
      1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
      3.3430575583588128105e4, 2.5090809287301226727e3)
_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
      2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
      5.2264952788528545610e3)
_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
      3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
      2.27238449892691845833e-2, 7.74545014278341407640e-4)
_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
      1.05075007164441684324e-9)
_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
      2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
      2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
      7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
      2.04426310338993978564e-15)


def _poly(coeffs: Sequence[float], x: float) -> float:
    total = 0.0
    for c in reversed(coeffs):
        total = total * x + c
    return total


def normal_quantile(p: float) -> float:
    """The value below which a standard normal variable falls with probability ``p``
    (0 < p < 1), by Wichura's algorithm AS 241."""
    if not 0.0 < p < 1.0:
        raise StatsError(f"a probability strictly between 0 and 1 is needed, not {p!r}")
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = p if q < 0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        x = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        x = _poly(_E, r) / _poly(_F, r)
    return -x if q < 0 else x


def z_for(level: float) -> float:
    """The two-sided critical value for a confidence level: 1.95996... for 0.95."""
    _check_level(level)
    return normal_quantile(1.0 - (1.0 - level) / 2.0)


def _check_level(level: float) -> None:
    if not (isinstance(level, (int, float)) and 0.0 < level < 1.0):
        raise StatsError(f"a confidence level between 0 and 1 is needed (0.95, 0.998), not {level!r}")


# -- the gamma and chi-square distributions ----------------------------------------------------

def gamma_cdf(shape: float, x: float) -> float:
    """The regularised lower incomplete gamma function P(shape, x): the probability that a
    gamma(shape, 1) variable is at most ``x``. A power series below ``shape + 1``, a
    continued fraction (modified Lentz) above it."""
    if shape <= 0:
        raise StatsError(f"the gamma shape must be positive, not {shape!r}")
    if x <= 0:
        return 0.0
    log_front = shape * math.log(x) - x - math.lgamma(shape)
    if x < shape + 1.0:
        term = total = 1.0 / shape
        a = shape
        for _ in range(10_000):
            a += 1.0
            term *= x / a
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return min(1.0, total * math.exp(log_front))
    # Q(shape, x) as a continued fraction; P = 1 - Q
    tiny = 1e-300
    b = x + 1.0 - shape
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - shape)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def gamma_quantile(p: float, shape: float) -> float:
    """The ``x`` with ``gamma_cdf(shape, x) == p``, by bisection (the cdf is monotone), to
    a relative precision of about 1e-13."""
    if not 0.0 < p < 1.0:
        raise StatsError(f"a probability strictly between 0 and 1 is needed, not {p!r}")
    if shape <= 0:
        raise StatsError(f"the gamma shape must be positive, not {shape!r}")
    lo, hi = 0.0, max(1.0, shape)
    while gamma_cdf(shape, hi) < p:
        lo, hi = hi, hi * 2.0
    if lo == 0.0:  # bracket from below too, so tiny quantiles keep their precision
        lo = hi / 2.0
        while gamma_cdf(shape, lo) >= p:
            if lo < 1e-300:
                return 0.0
            hi, lo = lo, lo / 16.0
    for _ in range(400):
        mid = math.sqrt(lo * hi) if hi > 4.0 * lo else (lo + hi) / 2.0
        if gamma_cdf(shape, mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return (lo + hi) / 2.0


def chi2_quantile(p: float, df: float) -> float:
    """The chi-square quantile: ``chi2_quantile(0.975, 2)`` is 7.3778. A chi-square with
    ``df`` degrees of freedom is twice a gamma(df / 2) variable."""
    return 2.0 * gamma_quantile(p, df / 2.0)


def chi2_sf(x: float, df: float) -> float:
    """The probability that a chi-square variable with ``df`` degrees of freedom exceeds ``x``."""
    if x <= 0:
        return 1.0
    if df == 1:
        return math.erfc(math.sqrt(x / 2.0))
    return 1.0 - gamma_cdf(df / 2.0, x / 2.0)


# -- intervals ---------------------------------------------------------------------------------

def wilson(numerator: float, denominator: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for the proportion ``numerator / denominator``, as fractions
    (0 to 1). 81 of 100 at 95% gives (0.7222, 0.8749)."""
    _check_counts(numerator, denominator, proportion=True)
    z = z_for(level)
    n, o = float(denominator), float(numerator)
    p = o / n
    centre = 2.0 * o + z * z
    spread = z * math.sqrt(z * z + 4.0 * o * (1.0 - p))
    scale = 2.0 * (n + z * z)
    lower = 0.0 if o == 0 else max(0.0, (centre - spread) / scale)
    upper = 1.0 if o == n else min(1.0, (centre + spread) / scale)
    return lower, upper


def byar(events: float, level: float = 0.95) -> tuple[float, float]:
    """Byar's approximation to the Poisson interval for a count of ``events``."""
    _check_counts(events)
    z = z_for(level)
    o = float(events)
    if o == 0:
        lower = 0.0
    else:
        lower = o * (1.0 - 1.0 / (9.0 * o) - z / (3.0 * math.sqrt(o))) ** 3
    o1 = o + 1.0
    upper = o1 * (1.0 - 1.0 / (9.0 * o1) + z / (3.0 * math.sqrt(o1))) ** 3
    return max(0.0, lower), upper


def exact_poisson(events: float, level: float = 0.95) -> tuple[float, float]:
    """The exact (Garwood) Poisson interval for a count: the lower limit is half the
    chi-square quantile at (1 - level) / 2 on 2·events degrees of freedom (0 for no events),
    the upper half the quantile at (1 + level) / 2 on 2·events + 2. 0 events at 95% gives
    (0, 3.689)."""
    _check_counts(events)
    _check_level(level)
    alpha = 1.0 - level
    o = float(events)
    lower = 0.0 if o == 0 else gamma_quantile(alpha / 2.0, o)
    upper = gamma_quantile(1.0 - alpha / 2.0, o + 1.0)
    return lower, upper


def poisson_interval(events: float, level: float = 0.95) -> tuple[float, float]:
    """The interval for a count: exact below :data:`EXACT_BELOW` events, Byar's from there."""
    if events < EXACT_BELOW:
        return exact_poisson(events, level)
    return byar(events, level)


def _check_counts(numerator: Any, denominator: Any = None, *, proportion: bool = False) -> None:
    for name, v in (("numerator", numerator), ("denominator", denominator)):
        if v is None and name == "denominator":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise StatsError(f"the {name} {v!r} is not a number")
        if v < 0:
            raise StatsError(f"the {name} {_fmt(v)} is negative")
    if denominator is not None:
        if denominator == 0:
            raise StatsError("the denominator is zero")
        if proportion and numerator > denominator:
            raise StatsError(f"the numerator {_fmt(numerator)} is larger than its "
                             f"denominator {_fmt(denominator)}")


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def interval(kind: str, level: float = 0.95, *, value: float | None = None,
             numerator: float | None = None, denominator: float | None = None,
             per: float | None = None) -> tuple[float, float, str]:
    """The ``level`` interval of a figure on the figure's own scale, with the method's name.

    * ``proportion``: Wilson on ``numerator``/``denominator``, scaled by ``per`` (default 100,
      i.e. a percentage);
    * ``rate``: the Poisson interval of ``numerator`` events times ``per / denominator``
      (a numerator missing is worked back from ``value``);
    * ``count``: the Poisson interval of the count itself (``numerator`` when given, else
      ``value``).

    Raises :class:`StatsError` saying why when the figures do not allow it.
    """
    if kind not in KINDS:
        raise StatsError(f"no interval method for a {kind!r}; kinds: {', '.join(KINDS)}")
    if kind == "proportion":
        scale = 100.0 if per is None else float(per)
        if numerator is None and value is not None and denominator is not None:
            numerator = value * denominator / scale
        if numerator is None or denominator is None:
            raise MissingData("a numerator and denominator are needed for a proportion's interval")
        lo, hi = wilson(numerator, denominator, level)
        return lo * scale, hi * scale, "Wilson score"
    if kind == "rate":
        if denominator is None:
            raise MissingData("a denominator is needed for a rate's interval")
        scale = 1.0 if per is None else float(per)
        _check_counts(0, denominator)
        if numerator is None:
            if value is None:
                raise MissingData("a numerator (or value) is needed for a rate's interval")
            numerator = value * denominator / scale
        _check_counts(numerator)
        lo, hi = poisson_interval(numerator, level)
        method = "exact Poisson" if numerator < EXACT_BELOW else "Byar"
        return lo * scale / denominator, hi * scale / denominator, method
    events = numerator if numerator is not None else value
    if events is None:
        raise MissingData("no count to put an interval around")
    lo, hi = poisson_interval(events, level)
    return lo, hi, "exact Poisson" if events < EXACT_BELOW else "Byar"


# -- comparison with a benchmark ---------------------------------------------------------------

def judge(low: float | None, high: float | None, benchmark: float | None, polarity: str,
          benchmark_low: float | None = None, benchmark_high: float | None = None) -> str:
    """Where an interval lies against a benchmark: ``better``/``similar``/``worse`` (or
    ``higher``/``similar``/``lower`` for polarity ``none``), ``not compared`` without both."""
    if low is None or high is None or benchmark is None:
        return NOT_COMPARED
    b_low = benchmark if benchmark_low is None else benchmark_low
    b_high = benchmark if benchmark_high is None else benchmark_high
    if low > b_high:
        side = "higher"
    elif high < b_low:
        side = "lower"
    else:
        return "similar"
    if polarity == "higher":
        return "better" if side == "higher" else "worse"
    if polarity == "lower":
        return "better" if side == "lower" else "worse"
    return side


def compare_value(value: float | None, benchmark: float | None, polarity: str, *,
                  numerator: float | None = None, denominator: float | None = None,
                  kind: str = "proportion", per: float | None = None,
                  ci95: tuple[float, float] | None = None,
                  benchmark_ci95: tuple[float, float] | None = None,
                  benchmark_ci998: tuple[float, float] | None = None) -> dict[str, Any]:
    """Compare a figure with a benchmark at 95% and 99.8%.

    The figure's intervals come from its counts (see :func:`interval`); ``ci95`` is a
    recorded 95% interval used when the counts do not allow one (there is then no 99.8%
    comparison). Any other ``kind`` (a unit such as ``weeks`` or ``gbp``) has no interval
    method: only a recorded interval can be compared then.

    Returns ``{"value", "benchmark", "method", "low95", "high95", "low998", "high998",
    "at95", "at998", "reason"}``; ``at95``/``at998`` are ``better``/``similar``/``worse``
    (``higher``/``similar``/``lower`` for polarity ``none``) or ``not compared``, and
    ``reason`` says why whenever something could not be compared. Never raises for bad
    figures.
    """
    out: dict[str, Any] = {"value": value, "benchmark": benchmark, "method": None,
                           "low95": None, "high95": None, "low998": None, "high998": None,
                           "at95": NOT_COMPARED, "at998": NOT_COMPARED, "reason": None}
    if polarity not in POLARITIES:
        out["reason"] = f"unknown polarity {polarity!r}; one of {', '.join(POLARITIES)}"
        return out
    if value is None:
        out["reason"] = "no value"
        return out
    reason = None
    if kind in KINDS and (numerator is not None or denominator is not None or kind == "count"):
        try:
            lo95, hi95, method = interval(kind, 0.95, value=value, numerator=numerator,
                                          denominator=denominator, per=per)
            lo998, hi998, _ = interval(kind, 0.998, value=value, numerator=numerator,
                                       denominator=denominator, per=per)
            out.update(method=method, low95=lo95, high95=hi95, low998=lo998, high998=hi998)
        except MissingData as exc:
            reason = str(exc)
        except StatsError as exc:  # figures that are there but impossible: no fallback
            out["reason"] = str(exc)
            return out
    elif kind in ("proportion", "rate"):
        reason = f"no numerator and denominator to put an interval around the {kind}"
    else:
        reason = f"no interval method for figures in {kind}"
    if out["low95"] is None:
        if ci95 is None or ci95[0] is None or ci95[1] is None:
            out["reason"] = reason
            return out
        out.update(method="recorded", low95=float(ci95[0]), high95=float(ci95[1]))
        reason = "only a recorded 95% interval: no 99.8% comparison"
    if benchmark is None or not math.isfinite(benchmark):
        out["reason"] = "no benchmark value"
        return out
    b95 = benchmark_ci95 or (None, None)
    b998 = benchmark_ci998 or (None, None)
    out["at95"] = judge(out["low95"], out["high95"], benchmark, polarity, *b95)
    out["at998"] = judge(out["low998"], out["high998"], benchmark, polarity, *b998)
    out["reason"] = reason
    return out


# -- ranks and quartiles -----------------------------------------------------------------------

def rank(values: Sequence[float | None], polarity: str = "higher") -> list[int | None]:
    """Competition ranks, 1 = best by polarity (the highest value when higher is better or
    when there is no polarity, the lowest when lower is better); tied values share a rank
    and the next rank is skipped (1, 2, 2, 4); ``None`` for a missing value."""
    present = [v for v in values if v is not None]
    if polarity == "lower":
        ordered = sorted(present)
    else:
        ordered = sorted(present, reverse=True)
    first: dict[float, int] = {}
    for i, v in enumerate(ordered, start=1):
        first.setdefault(v, i)
    return [None if v is None else first[v] for v in values]


def quartile(values: Sequence[float | None], polarity: str = "higher") -> list[int | None]:
    """Quartiles by rank: 1 holds the best quarter of the areas with a value (by polarity,
    as :func:`rank`), 4 the worst; tied values share a quartile; ``None`` for a missing
    value. With ``n`` values, rank ``r`` falls in quartile ``1 + floor(4 (r - 1) / n)``."""
    ranks = rank(values, polarity)
    n = sum(r is not None for r in ranks)
    return [None if r is None else 1 + (4 * (r - 1)) // n for r in ranks]


# -- recent trend ------------------------------------------------------------------------------

def trend(points: Sequence[dict[str, Any]], kind: str, polarity: str = "none",
          level: float = 0.998) -> dict[str, Any]:
    """The recent trend over the last :data:`TREND_POINTS` consecutive points, oldest first.

    Each point is ``{"value", "numerator", "denominator"}``. The test, at ``level`` (99.8%
    as Fingertips):

    * ``proportion``: the chi-square test for linear trend (Cochran-Armitage) with scores
      1..5: ``X² = (Σ x·r − R·Σ x·n / N)² / (p(1 − p)·(Σ x²·n − (Σ x·n)² / N))`` on 1 degree
      of freedom, where r/n are each point's numerator/denominator and p = R/N;
    * ``rate``: the Poisson score test for a log-linear trend, each denominator the
      exposure: ``X² = (Σ x·O − O·Σ x·n / N)² / (O·(Σ x²·n / N − (Σ x·n / N)²))``;
    * ``count``: the same with equal exposure at every point (the counts themselves).

    Returns ``{"trend": "increasing" | "decreasing" | "no significant change" |
    "cannot be calculated", "assessment": "getting better" | "getting worse" | None,
    "points", "statistic", "p_value", "method", "reason"}``.
    """
    out: dict[str, Any] = {"trend": CANNOT, "assessment": None, "points": len(points),
                           "statistic": None, "p_value": None, "method": None, "reason": None}
    if len(points) < TREND_POINTS:
        out["reason"] = (f"{len(points)} consecutive point{'s' if len(points) != 1 else ''}; "
                         f"{TREND_POINTS} are needed")
        return out
    pts = list(points)[-TREND_POINTS:]
    out["points"] = TREND_POINTS
    xs = [float(i) for i in range(1, TREND_POINTS + 1)]
    try:
        if kind == "proportion":
            rs, ns = _pairs(pts)
            for r, n in zip(rs, ns, strict=True):
                _check_counts(r, n, proportion=True)
            big_n, big_r = sum(ns), sum(rs)
            p = big_r / big_n
            sxn = sum(x * n for x, n in zip(xs, ns, strict=True))
            sxxn = sum(x * x * n for x, n in zip(xs, ns, strict=True))
            u = sum(x * r for x, r in zip(xs, rs, strict=True)) - big_r * sxn / big_n
            v = p * (1.0 - p) * (sxxn - sxn * sxn / big_n)
            method = "chi-square test for trend"
        elif kind in ("rate", "count"):
            if kind == "rate":
                os_, ns = _pairs(pts)
                for o, n in zip(os_, ns, strict=True):
                    _check_counts(o, n)
            else:
                os_ = [p_.get("numerator") if p_.get("numerator") is not None and
                       p_.get("denominator") is None else p_.get("value") for p_ in pts]
                if any(o is None for o in os_):
                    raise StatsError("a point has no count")
                for o in os_:
                    _check_counts(o)
                ns = [1.0] * TREND_POINTS
            big_n, big_o = sum(ns), sum(os_)
            sxn = sum(x * n for x, n in zip(xs, ns, strict=True)) / big_n
            sxxn = sum(x * x * n for x, n in zip(xs, ns, strict=True)) / big_n
            u = sum(x * o for x, o in zip(xs, os_, strict=True)) - big_o * sxn
            v = big_o * (sxxn - sxn * sxn)
            method = "Poisson score test for trend"
        else:
            out["reason"] = f"no trend test for a {kind}"
            return out
    except StatsError as exc:
        out["reason"] = str(exc)
        return out
    out["method"] = method
    if v <= 0:
        out.update(trend="no significant change", statistic=0.0, p_value=1.0,
                   reason="no variation to test")
        return out
    stat = u * u / v
    out["statistic"] = stat
    out["p_value"] = chi2_sf(stat, 1)
    if stat > z_for(level) ** 2:
        out["trend"] = "increasing" if u > 0 else "decreasing"
        if polarity in ("higher", "lower"):
            good = (u > 0) == (polarity == "higher")
            out["assessment"] = "getting better" if good else "getting worse"
    else:
        out["trend"] = "no significant change"
    return out


def _pairs(points: Iterable[dict[str, Any]]) -> tuple[list, list]:
    nums, dens = [], []
    for p in points:
        if p.get("numerator") is None or p.get("denominator") is None:
            raise StatsError("every point needs a numerator and denominator")
        nums.append(p["numerator"])
        dens.append(p["denominator"])
    return nums, dens
