"""Targets and RAG rules (dat.core.targets): known answers and properties."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dat.core.errors
import dat.core.targets
from dat.core.targets import (
    DEFAULT_TOLERANCE,
    RAG,
    Polarity,
    Profile,
    RagResult,
    TargetError,
    TargetKind,
    decide,
    rate,
    rate_part_year,
    resolve_target,
)

RANK = {RAG.RED: 0, RAG.AMBER: 1, RAG.GREEN: 2}
SEASONAL = (0.31, 0.25, 0.23, 0.21)


# -- RAG, Polarity, TargetKind ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("green", RAG.GREEN), ("G", RAG.GREEN), (" r ", RAG.RED), ("Amber", RAG.AMBER),
    ("AMBER", RAG.AMBER), ("a", RAG.AMBER), ("Red", RAG.RED), (RAG.GREEN, RAG.GREEN),
])
def test_rag_parse(text, expected):
    assert RAG.parse(text) is expected


@pytest.mark.parametrize("bad", ["", "x", "gr", "Delivery status A", "amber-ish", None, 1, "RAG"])
def test_rag_parse_rejects_and_names_accepted_values(bad):
    with pytest.raises(TargetError) as err:
        RAG.parse(bad)
    msg = str(err.value)
    for accepted in ("R", "A", "G", "Red", "Amber", "Green"):
        assert accepted in msg


def test_rag_word_letter_and_value():
    assert [(r.word, r.letter, r.value) for r in RAG] == [
        ("Red", "R", "R"), ("Amber", "A", "A"), ("Green", "G", "G")]
    assert RAG.AMBER == "A"  # a str enum: compares with its letter
    assert issubclass(TargetError, ValueError)


@pytest.mark.parametrize("text, expected", [
    ("higher", Polarity.HIGHER), (" LOWER ", Polarity.LOWER), ("none", Polarity.NONE),
    ("Higher is better", Polarity.HIGHER), ("lower is better", Polarity.LOWER),
    (Polarity.LOWER, Polarity.LOWER),
])
def test_polarity_parse(text, expected):
    assert Polarity.parse(text) is expected


@pytest.mark.parametrize("bad", ["up", "", "better", None, 1])
def test_polarity_parse_rejects(bad):
    with pytest.raises(TargetError, match="higher, lower or none"):
        Polarity.parse(bad)


def test_target_kind_values_and_parse():
    assert [k.value for k in TargetKind] == ["absolute", "change", "growth", "multiple", "text"]
    assert TargetKind.parse(" Growth ") is TargetKind.GROWTH
    with pytest.raises(TargetError, match="absolute, change, growth, multiple, text"):
        TargetKind.parse("percent")


# -- resolve_target: the Dudley 2007/08 target kinds ------------------------------------------

def test_change_drug_related_deaths_reduced_20pct_from_1999_baseline():
    target = resolve_target("change", value=-20, baseline=10)
    assert target == pytest.approx(8.0)
    assert rate(8, target, "lower") is RAG.GREEN
    assert rate(8.3, target, "lower") is RAG.AMBER  # 8.3 <= 8 * 1.05 = 8.4
    assert rate(8.4, target, "lower") is RAG.AMBER  # the boundary is Amber
    assert rate(8.5, target, "lower") is RAG.RED
    assert rate(9, target, "lower") is RAG.RED


def test_growth_compounds_yearly():
    assert resolve_target(TargetKind.GROWTH, value=10, baseline=100, years=2) == pytest.approx(121.0)
    # compounded, not simple: 10%/yr for 2 years is not 120
    assert resolve_target("growth", value=10, baseline=100, years=2) > 120.5
    assert resolve_target("growth", value=-50, baseline=80, years=3) == pytest.approx(10.0)
    assert resolve_target("growth", value=10, baseline=100, years=0) == pytest.approx(100.0)


def test_multiple_double_by_2008():
    assert resolve_target("multiple", value=2, baseline=50) == 100.0


def test_absolute_gp_shared_care_target_30():
    target = resolve_target("absolute", value=30)
    assert target == 30.0 and isinstance(target, float)
    assert rate(12.3, target, "higher") is RAG.RED  # GP shared care 12.3% against 30%


def test_change_increase_and_no_rounding():
    assert resolve_target("change", value=15, baseline=200) == pytest.approx(230.0)
    # not rounded: a third off 10 keeps its decimals
    assert resolve_target("change", value=-100 / 3, baseline=10) == pytest.approx(6.666666666666667)


def test_text_target_is_none():
    assert resolve_target("text", text="Reduce the harm caused by drug misuse") is None
    assert resolve_target(TargetKind.TEXT) is None


@pytest.mark.parametrize("kwargs, field", [
    (dict(kind="absolute"), "value"),
    (dict(kind="change", value=-20), "baseline"),
    (dict(kind="change", baseline=10), "value"),
    (dict(kind="multiple", value=2), "baseline"),
    (dict(kind="growth", value=10, baseline=100), "years"),
    (dict(kind="growth", value=10, years=2), "baseline"),
    (dict(kind="growth", baseline=100, years=2), "value"),
])
def test_resolve_target_missing_field_is_named(kwargs, field):
    with pytest.raises(TargetError, match=f"^{field}:"):
        resolve_target(**kwargs)


def test_resolve_target_bad_kind_and_numbers():
    with pytest.raises(TargetError, match="not a target kind"):
        resolve_target("percent", value=5)
    with pytest.raises(TargetError, match="value"):
        resolve_target("absolute", value="lots")
    with pytest.raises(TargetError, match="baseline"):
        resolve_target("change", value=5, baseline=float("nan"))


# -- rate -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (70, RAG.RED), (80, RAG.RED), (80.74, RAG.RED), (80.75, RAG.AMBER), (81, RAG.AMBER),
    (84.99, RAG.AMBER), (85, RAG.GREEN), (92, RAG.GREEN),
])
def test_retention_12_weeks_against_partnership_target_85(value, expected):
    # Dudley 2007/08 Q1: retention in treatment 12+ weeks, 70% against a target of 85%
    assert rate(value, 85, Polarity.HIGHER) is expected
    assert rate(value, 85, "higher", DEFAULT_TOLERANCE) is expected


def test_default_tolerance_is_five_percent():
    assert DEFAULT_TOLERANCE == 0.05


def test_rate_custom_tolerance():
    assert rate(81, 85, "higher", 0.0) is RAG.RED
    assert rate(85, 85, "higher", 0.0) is RAG.GREEN
    assert rate(70, 85, "higher", 0.20) is RAG.AMBER  # 85 * 0.8 = 68
    assert rate(67, 85, "higher", 0.20) is RAG.RED


def test_rate_absolute_tolerance_replaces_relative():
    assert rate(81, 85, "higher", absolute_tolerance=4) is RAG.AMBER
    assert rate(80.9, 85, "higher", absolute_tolerance=4) is RAG.RED
    assert rate(70, 85, "higher", absolute_tolerance=15) is RAG.AMBER
    # relative tolerance ignored when the absolute one is given
    assert rate(84, 85, "higher", 0.5, absolute_tolerance=0.5) is RAG.RED
    assert rate(12, 10, "lower", absolute_tolerance=2) is RAG.AMBER
    assert rate(12.5, 10, "lower", absolute_tolerance=2) is RAG.RED


def test_rate_target_zero_uses_tolerance_as_absolute_amount():
    # e.g. "no drug-related deaths": lower is better, target 0
    assert rate(0, 0, "lower") is RAG.GREEN
    assert rate(0.05, 0, "lower") is RAG.AMBER
    assert rate(0.06, 0, "lower") is RAG.RED
    assert rate(1, 0, "lower") is RAG.RED
    assert rate(1, 0, "lower", 1.0) is RAG.AMBER
    assert rate(-0.04, 0, "higher") is RAG.AMBER
    assert rate(-0.1, 0, "higher") is RAG.RED


def test_rate_negative_target_uses_size_of_target():
    # a target of -10 (e.g. a net change): 5% of its size is 0.5
    assert rate(-10.4, -10, "higher") is RAG.AMBER
    assert rate(-10.6, -10, "higher") is RAG.RED
    assert rate(-9, -10, "higher") is RAG.GREEN


@pytest.mark.parametrize("value, target, polarity", [
    (None, 85, "higher"), (70, None, "higher"), (70, 85, "none"), (None, None, Polarity.NONE),
])
def test_rate_none(value, target, polarity):
    assert rate(value, target, polarity) is None


def test_rate_rejects_bad_inputs():
    with pytest.raises(TargetError):
        rate(70, 85, "sideways")
    with pytest.raises(TargetError, match="tolerance"):
        rate(70, 85, "higher", -0.1)
    with pytest.raises(TargetError, match="absolute_tolerance"):
        rate(70, 85, "higher", absolute_tolerance=-1)
    with pytest.raises(TargetError, match="value"):
        rate(float("nan"), 85, "higher")
    with pytest.raises(TargetError, match="value"):
        rate("seventy", 85, "higher")


def test_rate_forgives_float_round_off_only():
    assert rate(310, 310.00000000000006, "higher") is RAG.GREEN
    assert rate(0.3, 0.1 + 0.2, "higher") is RAG.GREEN  # 0.1 + 0.2 = 0.30000000000000004
    assert rate(309.99, 310, "higher") is RAG.AMBER  # a real shortfall is not round-off


# -- profiles ---------------------------------------------------------------------------------

def test_profile_equal():
    p = Profile.equal()
    assert p.weights == (0.25, 0.25, 0.25, 0.25)
    assert p.share([1]) == 0.25
    assert p.share([1, 2, 3]) == 0.75
    assert p.expected(1000, [1]) == 250.0
    assert p == Profile.parse(None) == Profile.parse("equal") == Profile.parse(" Equal ")


def test_profile_seasonal_normalises():
    p = Profile.seasonal(31, 25, 23, 21)
    assert p.weights == pytest.approx(SEASONAL)
    assert Profile.seasonal(2, 1, 1, 0).weights == (0.5, 0.25, 0.25, 0.0)
    assert Profile.seasonal(0, 0, 0, 7).share([1, 2, 3]) == 0.0
    assert Profile.parse([1, 1, 2, 4]).weights == (0.125, 0.125, 0.25, 0.5)
    assert Profile.parse((1, 1, 2, 4)) == Profile.seasonal(1, 1, 2, 4)
    assert Profile((1, 1, 1, 1)) == Profile.equal()  # direct construction normalises too
    assert Profile.seasonal(1, 2, 3, 4).share([2, 4]) == pytest.approx(0.6)
    assert Profile.seasonal(1, 2, 3, 4).expected(500, (1, 2)) == pytest.approx(150.0)


@pytest.mark.parametrize("weights", [(-1, 1, 1, 1), (0, 0, 0, 0), (1, 1, float("nan"), 1),
                                     (1, 1, float("inf"), 1), (0.5, -0.0001, 0.3, 0.2)])
def test_profile_rejects_bad_weights(weights):
    with pytest.raises(TargetError, match="weight"):
        Profile.seasonal(*weights)


@pytest.mark.parametrize("bad", ["seasonal", "1234", [1, 2, 3], [1, 2, 3, 4, 5], 7, ["a", 1, 1, 1]])
def test_profile_parse_rejects(bad):
    with pytest.raises(TargetError):
        Profile.parse(bad)


def test_profile_share_quarters_validated_and_counted_once():
    p = Profile.seasonal(*SEASONAL)
    assert p.share([1, 1]) == pytest.approx(0.31)
    assert p.share([]) == 0.0
    for bad in ([0], [5], [1.5], ["1"], [True]):
        with pytest.raises(TargetError, match="quarters"):
            p.share(bad)


def test_profile_is_frozen():
    p = Profile.equal()
    with pytest.raises(AttributeError):
        p.weights = (1, 0, 0, 0)  # type: ignore[misc]


# -- part-year: numbers into treatment --------------------------------------------------------

def test_numbers_into_treatment_met_pro_rata_but_red_on_seasonal_profile():
    # annual target 1000; Q1 cumulative 255
    assert Profile.equal().expected(1000, [1]) == 250.0
    assert Profile.seasonal(*SEASONAL).expected(1000, [1]) == pytest.approx(310.0)
    assert rate_part_year(255, 1000, Profile.equal(), [1], "higher") is RAG.GREEN
    assert rate_part_year(255, 1000, Profile.seasonal(*SEASONAL), [1], "higher") is RAG.RED
    # 295 is within 5% of 310 (294.5): Amber on the seasonal profile
    assert rate_part_year(295, 1000, Profile.seasonal(*SEASONAL), [1], "higher") is RAG.AMBER
    # Q1-Q2 cumulative against 56% of the year
    assert rate_part_year(560, 1000, SEASONAL, [1, 2], "higher") is RAG.GREEN
    assert rate_part_year(535, 1000, SEASONAL, [1, 2], "higher") is RAG.AMBER  # >= 532
    assert rate_part_year(530, 1000, SEASONAL, [1, 2], "higher") is RAG.RED
    assert rate_part_year(None, 1000, SEASONAL, [1], "higher") is None
    assert rate_part_year(255, None, SEASONAL, [1], "higher") is None


def test_part_year_tolerance_and_absolute_tolerance():
    assert rate_part_year(240, 1000, Profile.equal(), [1], "higher", 0.02) is RAG.RED
    assert rate_part_year(240, 1000, Profile.equal(), [1], "higher", 0.05) is RAG.AMBER
    assert rate_part_year(240, 1000, None, [1], "higher", absolute_tolerance=10) is RAG.AMBER


# -- decide -----------------------------------------------------------------------------------

def test_decide_retention_rule():
    r = decide(70, 85, "higher")
    assert r == RagResult(RAG.RED, "rule", 85.0, "70 vs target 85 (higher is better, amber within 5%)")
    assert decide(81, 85, "higher").rag is RAG.AMBER
    assert decide(85, 85, "higher").rag is RAG.GREEN


def test_decide_judgement_wins_over_rule():
    r = decide(70, 85, "higher", judgement="A")
    assert r.rag is RAG.AMBER and r.basis == "judgement"
    assert r.reason.startswith("judgement recorded")
    assert decide(85, 85, "higher", judgement=RAG.RED).rag is RAG.RED
    assert decide(None, None, "none", judgement="green").rag is RAG.GREEN
    # a blank judgement is no judgement
    assert decide(70, 85, "higher", judgement="  ").basis == "rule"
    with pytest.raises(TargetError, match="Amber"):
        decide(70, 85, "higher", judgement="on track")


def test_decide_text_target():
    text_target = resolve_target("text", text="Increase the participation of problem drug users")
    r = decide(42, text_target, "higher")
    assert r.rag is None and r.basis == "none" and r.expected is None
    assert "no quantified target" in r.reason


def test_decide_no_value_and_no_polarity():
    r = decide(None, 85, "higher")
    assert (r.rag, r.basis, r.expected, r.reason) == (None, "none", 85.0, "no value")
    r = decide(70, 85, "none")
    assert (r.rag, r.basis) == (None, "none")


def test_decide_part_year_uses_profile():
    r = decide(255, 1000, "higher", profile=SEASONAL, quarters=[1])
    assert r.rag is RAG.RED and r.basis == "rule"
    assert r.expected == pytest.approx(310.0)
    assert "pro rata for Q1" in r.reason and "31% of annual 1000" in r.reason
    r = decide(255, 1000, "higher", profile="equal", quarters=[1])
    assert (r.rag, r.expected) == (RAG.GREEN, 250.0)
    r = decide(535, 1000, "higher", profile=Profile.seasonal(*SEASONAL), quarters=range(1, 3))
    assert r.rag is RAG.AMBER and r.expected == pytest.approx(560.0)
    assert "Q1-Q2" in r.reason


def test_decide_whole_year_or_no_profile_rates_against_annual_target():
    # all four quarters: the annual target itself, whatever the profile
    r = decide(255, 1000, "higher", profile=SEASONAL, quarters=[4, 3, 2, 1])
    assert (r.rag, r.expected) == (RAG.RED, 1000.0)
    assert "pro rata" not in r.reason
    # quarters without a profile, or a profile without quarters: the rule against the target
    assert decide(255, 1000, "higher", quarters=[1]).expected == 1000.0
    assert decide(990, 1000, "higher", profile=SEASONAL).rag is RAG.AMBER


def test_decide_tolerance():
    assert decide(81, 85, "higher", tolerance=None).rag is RAG.AMBER
    r = decide(81, 85, "higher", tolerance=0.02)
    assert r.rag is RAG.RED and "amber within 2%" in r.reason
    r = decide(8.3, 8, "lower", tolerance=0.025)
    assert r.rag is RAG.RED and "lower is better, amber within 2.5%" in r.reason
    r = decide(0.03, 0, "lower")
    assert r.rag is RAG.AMBER and "within 0.05 of zero" in r.reason
    r = decide(81, 85, "higher", absolute_tolerance=3)
    assert r.rag is RAG.RED and "amber within 3)" in r.reason


def test_module_is_stdlib_only_and_cheap():
    # whatever the dat.core package itself imports, targets adds only standard-library modules
    code = ("import sys, dat.core; before = set(sys.modules); import dat.core.targets; "
            "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
            "print(sorted(new - set(sys.stdlib_module_names) - {'dat'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    source = open(dat.core.targets.__file__, encoding="utf-8").read()
    imported = re.findall(r"^(?:from|import) ([\w.]+)", source, re.M)
    # and, in source, only the standard library and the error model (itself stdlib-only)
    assert imported and all(m.split(".")[0] in sys.stdlib_module_names | {"__future__"}
                            or m == "dat.core.errors" for m in imported), imported
    errors = open(dat.core.errors.__file__, encoding="utf-8").read()
    assert all(m.split(".")[0] in sys.stdlib_module_names | {"__future__"}
               for m in re.findall(r"^(?:from|import) ([\w.]+)", errors, re.M))


# -- properties -------------------------------------------------------------------------------

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
tolerances = st.floats(min_value=0, max_value=0.99, allow_nan=False)


@given(a=finite, b=finite, target=finite, tol=tolerances)
def test_higher_is_monotone(a, b, target, tol):
    lo, hi = sorted((a, b))
    assert RANK[rate(hi, target, "higher", tol)] >= RANK[rate(lo, target, "higher", tol)]


@given(a=finite, b=finite, target=finite, tol=tolerances)
def test_lower_is_monotone_the_other_way(a, b, target, tol):
    lo, hi = sorted((a, b))
    assert RANK[rate(lo, target, "lower", tol)] >= RANK[rate(hi, target, "lower", tol)]


@given(value=st.integers(-10**6, 10**6), target=st.integers(-10**6, 10**6),
       tol=st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.25, 0.5]))
def test_mirroring_value_swaps_polarity(value, target, tol):
    mirrored = 2 * target - value  # exact for integers
    assert rate(value, target, "higher", tol) is rate(mirrored, target, "lower", tol)
    assert rate(value, target, "lower", tol) is rate(mirrored, target, "higher", tol)


@given(value=finite, target=finite, tol=tolerances)
def test_rule_bands(value, target, tol):
    """Green exactly when the target is met; Red only when short by more than the tolerance."""
    slack = abs(target) * tol if target else tol
    rag = rate(value, target, "higher", tol)
    if value >= target:
        assert rag is RAG.GREEN
    elif target - value > slack * (1 + 1e-6) + 1e-6:
        assert rag is RAG.RED
    if rag is RAG.RED:
        assert value < target - slack
    assert rate(value, target, "none", tol) is None


weight = st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False)


@given(ws=st.tuples(weight, weight, weight, weight))
def test_profile_weights_sum_to_one(ws):
    assume(any(w > 0 for w in ws))
    p = Profile.seasonal(*ws)
    assert abs(sum(p.weights) - 1) <= 1e-9
    assert abs(p.share(range(1, 5)) - 1) <= 1e-9
    assert all(w >= 0 for w in p.weights)
    # proportions kept: the largest input weight has the largest share (ties in floating
    # point allowed: 1e300 and 9.999999999999999e299 may both round to the same share)
    assert p.weights[ws.index(max(ws))] == max(p.weights)
    assert Profile.parse(list(ws)) == p


@settings(max_examples=50)
@given(ws=st.tuples(weight, weight, weight, weight), target=st.floats(0, 1e6),
       qs=st.sets(st.integers(1, 4)))
def test_expected_is_share_of_target(ws, target, qs):
    assume(any(w > 0 for w in ws))
    p = Profile.seasonal(*ws)
    assert p.expected(target, qs) == pytest.approx(target * sum(p.weights[q - 1] for q in qs))
    assert 0 <= p.share(qs) <= 1 + 1e-9
    assert math.isclose(p.share(qs) + p.share(set(range(1, 5)) - qs), 1, abs_tol=1e-9)
