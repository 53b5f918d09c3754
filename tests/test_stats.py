"""dat.core.stats: known answers to 4 significant figures, identities, comparison with a
benchmark, ranks, quartiles, the recent trend, bad input and property tests."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dat.core import stats


def sig4(x: float) -> float:
    """``x`` to 4 significant figures."""
    return float(f"{x:.4g}")


# -- the normal, gamma and chi-square distributions -------------------------------------------

@pytest.mark.parametrize("p, z", [
    (0.975, 1.960), (0.999, 3.090), (0.5, 0.0), (0.025, -1.960), (0.9, 1.282),
    (1e-10, -6.361),  # the tail branch of AS 241
    (1e-300, -37.05),  # the far tail branch
])
def test_normal_quantile_known_values(p, z):
    assert sig4(stats.normal_quantile(p)) == z


def test_z_for_levels():
    assert stats.z_for(0.95) == pytest.approx(1.959963985, abs=1e-9)
    assert stats.z_for(0.998) == pytest.approx(3.090232306, abs=1e-9)


@given(st.floats(min_value=1e-12, max_value=1 - 1e-12))
def test_normal_quantile_agrees_with_the_standard_library(p):
    assert stats.normal_quantile(p) == pytest.approx(statistics.NormalDist().inv_cdf(p), abs=1e-9)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, float("nan")])
def test_normal_quantile_rejects_impossible_probabilities(bad):
    with pytest.raises(stats.StatsError, match="between 0 and 1"):
        stats.normal_quantile(bad)


@pytest.mark.parametrize("x", [0.001, 0.3, 1.0, 2.5, 7.0, 40.0])
def test_gamma_cdf_identities(x):
    # shape 1 is the exponential distribution; shape 1/2 gives erf(sqrt(x))
    assert stats.gamma_cdf(1.0, x) == pytest.approx(1 - math.exp(-x), rel=1e-12, abs=1e-15)
    assert stats.gamma_cdf(0.5, x) == pytest.approx(math.erf(math.sqrt(x)), rel=1e-12, abs=1e-15)


def test_gamma_cdf_integer_shape_is_a_poisson_tail():
    # P(k, x) = P(Poisson(x) >= k)
    for k in (2, 5, 9, 30):
        for x in (0.5, 4.0, 12.0, 35.0):
            tail = 1 - sum(math.exp(-x) * x ** j / math.factorial(j) for j in range(k))
            assert stats.gamma_cdf(k, x) == pytest.approx(tail, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("p, df, q", [
    (0.975, 2, 7.378), (0.95, 1, 3.841), (0.998, 1, 9.550), (0.025, 20, 9.591),
    (0.95, 10, 18.31), (0.001, 4, 0.09080),
])
def test_chi2_quantile_known_values(p, df, q):
    assert sig4(stats.chi2_quantile(p, df)) == q


def test_chi2_sf():
    assert stats.chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, abs=1e-12)
    assert stats.chi2_sf(18.307038053275146, 10) == pytest.approx(0.05, abs=1e-10)
    assert stats.chi2_sf(0, 3) == 1.0


@given(st.floats(min_value=0.001, max_value=0.999), st.floats(min_value=0.2, max_value=500))
@settings(max_examples=60, deadline=None)
def test_gamma_quantile_inverts_the_cdf(p, shape):
    x = stats.gamma_quantile(p, shape)
    assert stats.gamma_cdf(shape, x) == pytest.approx(p, abs=1e-9)


# -- intervals: published reference values ---------------------------------------------------

def test_wilson_81_of_100():
    lo, hi = stats.wilson(81, 100)
    assert (sig4(lo * 100), sig4(hi * 100)) == (72.22, 87.49)
    lo, hi = stats.wilson(81, 100, 0.998)
    assert (sig4(lo * 100), sig4(hi * 100)) == (66.40, 90.19)


def test_wilson_at_the_edges():
    assert tuple(map(sig4, stats.wilson(0, 10))) == (0.0, 0.2775)
    assert tuple(map(sig4, stats.wilson(10, 10))) == (0.7225, 1.0)


#: exact (Garwood) 95% limits for 0..9 events, as tabulated in the APHO/PHE guidance
EXACT_95 = {0: (0.0, 3.689), 1: (0.02532, 5.572), 2: (0.2422, 7.225), 3: (0.6187, 8.767),
            4: (1.090, 10.24), 5: (1.623, 11.67), 6: (2.202, 13.06), 7: (2.814, 14.42),
            8: (3.454, 15.76), 9: (4.115, 17.08)}


@pytest.mark.parametrize("events", sorted(EXACT_95))
def test_exact_poisson_0_to_9(events):
    lo, hi = stats.exact_poisson(events)
    assert (sig4(lo), sig4(hi)) == EXACT_95[events]
    assert stats.poisson_interval(events) == (lo, hi)  # below 10 the count's interval is exact


def test_exact_poisson_identities_for_no_events():
    # with no events the upper limit solves exp(-u) = alpha / 2
    assert stats.exact_poisson(0)[1] == pytest.approx(-math.log(0.025), rel=1e-12)
    assert stats.exact_poisson(0, 0.998)[1] == pytest.approx(-math.log(0.001), rel=1e-12)
    # with one event the lower limit solves 1 - exp(-l) = alpha / 2
    assert stats.exact_poisson(1)[0] == pytest.approx(-math.log(1 - 0.025), rel=1e-10)


@pytest.mark.parametrize("events, level, expected", [
    (10, 0.95, (4.787, 18.39)), (100, 0.95, (81.36, 121.6)),
    (10, 0.998, (2.916, 24.19)), (100, 0.998, (71.90, 134.9)),
    (820, 0.95, (764.8, 878.1)),  # Bromley's 820 in effective treatment, 2009/10
])
def test_byar_known_values(events, level, expected):
    lo, hi = stats.byar(events, level)
    assert (sig4(lo), sig4(hi)) == expected
    assert stats.poisson_interval(events, level) == (lo, hi)  # from 10 up it is Byar's


@pytest.mark.parametrize("events", [10, 11, 15, 25, 50, 100, 389, 1000])
def test_byar_is_within_a_fifth_of_a_percent_of_exact_from_10_events(events):
    for got, exact in zip(stats.byar(events), stats.exact_poisson(events), strict=True):
        assert abs(got - exact) / exact < 0.002


def test_interval_scales_to_the_figure():
    lo, hi, method = stats.interval("proportion", numerator=81, denominator=100)
    assert (sig4(lo), sig4(hi), method) == (72.22, 87.49, "Wilson score")
    lo, hi, _ = stats.interval("proportion", numerator=81, denominator=100, per=1)
    assert sig4(hi) == 0.8749
    # a proportion with only its value and denominator: the numerator is worked back
    assert stats.interval("proportion", value=81, denominator=100)[:2] == pytest.approx((lo * 100, hi * 100))
    # 100 deaths in a population of 50,000, per 100,000: Byar's limits times 2
    lo, hi, method = stats.interval("rate", numerator=100, denominator=50_000, per=100_000)
    assert (sig4(lo), sig4(hi), method) == (162.7, 243.3, "Byar")
    lo, hi, method = stats.interval("rate", value=8, denominator=100_000, per=100_000)
    assert (sig4(lo), sig4(hi), method) == (3.454, 15.76, "exact Poisson")
    assert stats.interval("count", value=4)[2] == "exact Poisson"


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="proportion", numerator=5, denominator=0), "the denominator is zero"),
    (dict(kind="proportion", numerator=120, denominator=100), "numerator 120 is larger than its denominator 100"),
    (dict(kind="proportion", numerator=-1, denominator=100), "numerator -1 is negative"),
    (dict(kind="proportion", numerator=5), "numerator and denominator are needed"),
    (dict(kind="rate", numerator=5, denominator=-10), "denominator -10 is negative"),
    (dict(kind="rate", numerator=5), "denominator is needed"),
    (dict(kind="count", value=-3), "numerator -3 is negative"),
    (dict(kind="count", value=float("nan")), "is not a number"),
    (dict(kind="count"), "no count"),
    (dict(kind="weeks", value=3), "no interval method"),
])
def test_interval_bad_input_says_why(kwargs, message):
    kind = kwargs.pop("kind")
    with pytest.raises(stats.StatsError, match=message):
        stats.interval(kind, **kwargs)


def test_bad_level():
    with pytest.raises(stats.StatsError, match="confidence level"):
        stats.wilson(1, 2, level=95)


# -- comparison with a benchmark --------------------------------------------------------------

def test_compare_proportion_with_benchmark_at_both_levels():
    # 81/100 (72.2-87.5 at 95%, 66.4-90.2 at 99.8%) against 70
    r = stats.compare_value(81, 70, "higher", numerator=81, denominator=100)
    assert (r["at95"], r["at998"], r["reason"]) == ("better", "similar", None)
    assert (sig4(r["low95"]), sig4(r["high998"]), r["method"]) == (72.22, 90.19, "Wilson score")
    assert stats.compare_value(81, 70, "lower", numerator=81, denominator=100)["at95"] == "worse"
    assert stats.compare_value(81, 70, "none", numerator=81, denominator=100)["at95"] == "higher"
    r = stats.compare_value(50, 70, "higher", numerator=50, denominator=100)
    assert (r["at95"], r["at998"]) == ("worse", "worse")
    r = stats.compare_value(50, 70, "none", numerator=50, denominator=100)
    assert (r["at95"], r["at998"]) == ("lower", "lower")
    assert stats.compare_value(70, 70, "higher", numerator=70, denominator=100)["at95"] == "similar"


def test_compare_counts_and_rates():
    # 100 events: 81.4-121.6 at 95%; 71.9-134.9 at 99.8%
    r = stats.compare_value(100, 70, "lower", kind="count")
    assert (r["at95"], r["at998"], r["method"]) == ("worse", "worse", "Byar")
    r = stats.compare_value(100, 78, "lower", kind="count")
    assert (r["at95"], r["at998"]) == ("worse", "similar")
    r = stats.compare_value(200, 150, "higher", kind="rate", numerator=100, denominator=50_000, per=100_000)
    assert (r["at95"], r["at998"]) == ("better", "similar")
    # a count below 10 uses the exact interval: 3 events (0.62-8.77) against 9
    r = stats.compare_value(3, 9, "lower", kind="count")
    assert (r["at95"], r["method"]) == ("better", "exact Poisson")


def test_compare_with_a_benchmark_interval_uses_overlap():
    # 81/100 at 95% is 72.2-87.5: a benchmark of 70 (68-71.9) does not overlap, (68-73) does
    r = stats.compare_value(81, 70, "higher", numerator=81, denominator=100, benchmark_ci95=(68, 71.9))
    assert r["at95"] == "better"
    r = stats.compare_value(81, 70, "higher", numerator=81, denominator=100, benchmark_ci95=(68, 73))
    assert r["at95"] == "similar"


def test_compare_with_a_recorded_interval_only():
    r = stats.compare_value(12.0, 20.0, "lower", kind="weeks", ci95=(9.5, 14.5))
    assert (r["at95"], r["at998"], r["method"]) == ("better", "not compared", "recorded")
    assert "no 99.8%" in r["reason"]
    r = stats.compare_value(12.0, 20.0, "lower", kind="proportion", ci95=(9.5, 14.5))
    assert r["at95"] == "better"


@pytest.mark.parametrize("args, kwargs, reason", [
    ((None, 70, "higher"), {}, "no value"),
    ((81, 70, "higher"), dict(numerator=81, denominator=0), "the denominator is zero"),
    ((120, 70, "higher"), dict(numerator=120, denominator=100), "larger than its denominator"),
    ((-5, 70, "higher"), dict(kind="count"), "negative"),
    ((81, 70, "higher"), dict(numerator=-81, denominator=100), "negative"),
    ((81, 70, "higher"), {}, "no numerator and denominator"),
    ((81, 70, "sideways"), {}, "unknown polarity"),
    ((3.5, 4, "lower"), dict(kind="weeks"), "no interval method for figures in weeks"),
    ((81, float("nan"), "higher"), dict(numerator=81, denominator=100), "no benchmark value"),
    ((81, None, "higher"), dict(numerator=81, denominator=100), "no benchmark value"),
])
def test_not_compared_says_why(args, kwargs, reason):
    r = stats.compare_value(*args, **kwargs)
    assert (r["at95"], r["at998"]) == ("not compared", "not compared")
    assert reason in r["reason"]


def test_impossible_counts_do_not_fall_back_to_a_recorded_interval():
    r = stats.compare_value(120, 70, "higher", numerator=120, denominator=100, ci95=(110, 130))
    assert r["at95"] == "not compared" and "larger than its denominator" in r["reason"]


@given(value=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
       bench=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
       num=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 10**6)),
       den=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 10**6)),
       kind=st.sampled_from(["proportion", "rate", "count", "weeks", "bogus"]),
       polarity=st.sampled_from(["higher", "lower", "none", "x"]))
@settings(max_examples=300, deadline=None)
def test_compare_value_never_raises(value, bench, num, den, kind, polarity):
    r = stats.compare_value(value, bench, polarity, numerator=num, denominator=den, kind=kind, per=100)
    assert r["at95"] in ("better", "similar", "worse", "higher", "lower", "not compared")
    if r["at95"] == "not compared":
        assert r["reason"]


# -- properties of the intervals --------------------------------------------------------------

@given(st.integers(0, 100_000), st.integers(1, 100_000))
@settings(max_examples=200)
def test_wilson_contains_the_value_and_998_contains_95(num, den):
    assume(num <= den)
    p = num / den
    lo95, hi95 = stats.wilson(num, den)
    lo998, hi998 = stats.wilson(num, den, 0.998)
    assert 0 <= lo998 <= lo95 <= p + 1e-12 and p - 1e-12 <= hi95 <= hi998 <= 1


@given(st.integers(0, 50_000))
@settings(max_examples=150, deadline=None)
def test_poisson_interval_contains_the_count_and_998_contains_95(events):
    lo95, hi95 = stats.poisson_interval(events)
    lo998, hi998 = stats.poisson_interval(events, 0.998)
    assert 0 <= lo998 <= lo95 <= events <= hi95 <= hi998


@given(st.floats(min_value=0, max_value=9.99))
@settings(max_examples=50, deadline=None)
def test_exact_interval_for_small_counts_contains_count(events):
    lo, hi = stats.exact_poisson(events)
    assert 0 <= lo <= events <= hi


# -- ranks and quartiles ----------------------------------------------------------------------

def test_rank_best_first_ties_share_missing_none():
    values = [81, 50, None, 70, 70, 90]
    assert stats.rank(values, "higher") == [2, 5, None, 3, 3, 1]
    assert stats.rank(values, "lower") == [4, 1, None, 2, 2, 5]
    assert stats.rank(values, "none") == stats.rank(values, "higher")
    assert stats.rank([], "higher") == [] and stats.rank([None], "higher") == [None]


def test_quartile_follows_rank():
    assert stats.quartile([8, 7, 6, 5, 4, 3, 2, 1], "higher") == [1, 1, 2, 2, 3, 3, 4, 4]
    assert stats.quartile([8, 7, 6, 5, 4, 3, 2, 1], "lower") == [4, 4, 3, 3, 2, 2, 1, 1]
    assert stats.quartile([10, None, 30, 20], "higher") == [3, None, 1, 2]
    assert stats.quartile([5, 5, 5, 1], "higher") == [1, 1, 1, 4]
    assert stats.quartile([None, None]) == [None, None]


@given(st.lists(st.one_of(st.none(), st.integers(-50, 50)), max_size=40),
       st.sampled_from(["higher", "lower", "none"]))
def test_rank_and_quartile_properties(values, polarity):
    ranks = stats.rank(values, polarity)
    quarts = stats.quartile(values, polarity)
    present = [v for v in values if v is not None]
    for v, r, q in zip(values, ranks, quarts, strict=True):
        assert (r is None) == (v is None) == (q is None)
        if v is not None:
            better = [w for w in present if (w < v if polarity == "lower" else w > v)]
            assert r == len(better) + 1
            assert 1 <= q <= 4


# -- recent trend ------------------------------------------------------------------------------

def _points(nums, dens=None):
    dens = dens or [100] * len(nums)
    return [{"value": n / d * 100 if d else 0.0, "numerator": n, "denominator": d}
            for n, d in zip(nums, dens, strict=True)]


def test_trend_for_proportions_chi_square_test():
    # 60, 65, 70, 75, 81 out of 100: X² = 12.93 (> 9.550, the 99.8% point on 1 df)
    t = stats.trend(_points([60, 65, 70, 75, 81]), "proportion", "higher")
    assert (t["trend"], t["assessment"], t["method"]) == ("increasing", "getting better",
                                                          "chi-square test for trend")
    assert sig4(t["statistic"]) == 12.93 and t["p_value"] < 0.002
    t = stats.trend(_points([81, 75, 70, 65, 60]), "proportion", "higher")
    assert (t["trend"], t["assessment"]) == ("decreasing", "getting worse")
    t = stats.trend(_points([81, 75, 70, 65, 60]), "proportion", "lower")
    assert t["assessment"] == "getting better"
    # significant at 95% (X² = 5.279, p = 0.022) but not at 99.8%
    t = stats.trend(_points([30, 35, 33, 40, 45]), "proportion", "higher")
    assert (t["trend"], sig4(t["statistic"])) == ("no significant change", 5.279)
    # unequal denominators
    t = stats.trend(_points([30, 35, 33, 40, 45], [120, 110, 100, 105, 95]), "proportion", "none")
    assert (t["trend"], sig4(t["statistic"]), t["assessment"]) == ("increasing", 12.06, None)


def test_trend_uses_the_last_five_points():
    t = stats.trend(_points([10, 90, 60, 65, 70, 75, 81]), "proportion", "higher")
    assert t["points"] == 5 and sig4(t["statistic"]) == 12.93


def test_trend_for_counts_and_rates_poisson_score_test():
    # 10, 12, 14, 16, 18: X² = 20² / (70 × 2) = 2.857
    t = stats.trend([{"value": v} for v in (10, 12, 14, 16, 18)], "count", "higher")
    assert (t["trend"], sig4(t["statistic"])) == ("no significant change", 2.857)
    t = stats.trend([{"value": v} for v in (100, 120, 140, 160, 180)], "count", "lower")
    assert (t["trend"], t["assessment"], sig4(t["statistic"])) == ("increasing", "getting worse", 28.57)
    # a rate whose denominator grows as fast as its numerator has no trend
    pts = [{"value": 10.0, "numerator": 10 * k, "denominator": 1000 * k} for k in (1, 2, 3, 4, 5)]
    t = stats.trend(pts, "rate", "higher")
    assert t["trend"] == "no significant change" and t["statistic"] == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("points, kind, reason", [
    (_points([60, 65, 70, 75]), "proportion", "4 consecutive points; 5 are needed"),
    ([], "count", "0 consecutive points"),
    ([{"value": 60}] * 5, "proportion", "needs a numerator and denominator"),
    (_points([60, 65, 70, 75, 81], [100, 100, 0, 100, 100]), "proportion", "denominator is zero"),
    (_points([60, 65, 170, 75, 81]), "proportion", "larger than its denominator"),
    ([{"value": v} for v in (1, 2, -3, 4, 5)], "count", "negative"),
    (_points([60, 65, 70, 75, 81]), "weeks", "no trend test"),
])
def test_trend_cannot_be_calculated_says_why(points, kind, reason):
    t = stats.trend(points, kind)
    assert t["trend"] == "cannot be calculated" and reason in t["reason"]


def test_trend_with_no_variation():
    t = stats.trend(_points([0, 0, 0, 0, 0]), "proportion")
    assert t["trend"] == "no significant change"


# -- the module itself ------------------------------------------------------------------------

def test_stats_is_standard_library_only():
    code = ("import sys; import dat.core.stats\n"
            "print(sorted(m for m in ('scipy', 'numpy', 'sqlalchemy', 'mpmath') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
