"""``dat.core.services`` is a package of one module per resource: every name it exported as a
single module still imports from it, and :func:`scorecard_benchmarks` gives exactly the
benchmark columns of the full scorecard."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

PARTNERSHIPS = ("bromley", "cheshire", "dudley", "haringey", "ne_lincs")

#: every name the single-module ``dat.core.services`` defined or re-exported, private helpers too
OLD_NAMES = (
    "BadPeriod", "UnknownName", "Store",
    "list_partnerships", "get_partnership", "list_indicators", "get_indicator", "has_figures",
    "TARGET_PREFERENCE", "RAG_RANK", "direction_of_travel", "rate_figure", "periods_with_data",
    "default_period", "scorecard",
    "funding", "figures_for", "funding_compare", "actions", "figures",
    "BENCHMARKS", "MIN_POOL", "compare", "scenario_split", "scenario_merge",
    "_period", "_partnership_dict", "_indicator_dict", "_partnership_id", "_target_dict", "_applies",
    "_choose_targets", "_obs_dict", "_travel", "_periods_read", "_national_benchmarks",
    "_year_total", "_funding_analysis", "_stat_kind", "_bad_counts", "_pooled", "_too_few",
    "_compare_row", "_series", "_national_benchmark", "_benchmark_for",
)

BENCHMARK_KEYS = ("benchmark", "benchmark_basis", "vs_benchmark", "vs_benchmark_998",
                  "benchmark_reason", "ci_low", "ci_high")


def test_every_name_in_all_imports():
    services = importlib.import_module("dat.core.services")
    assert len(services.__all__) == len(set(services.__all__))
    for name in services.__all__:
        namespace: dict[str, object] = {}
        exec(f"from dat.core.services import {name}", namespace)
        # several modules share their name with their function: the package's name is the function
        assert not isinstance(namespace[name], ModuleType), name
        assert namespace[name] is getattr(services, name)


def test_old_names_still_import():
    from dat.core import errors, periods, services

    for name in OLD_NAMES:
        namespace: dict[str, object] = {}
        if name == "BadPeriod":  # deprecated: still there, with a warning
            with pytest.warns(DeprecationWarning, match="PeriodError"):
                exec(f"from dat.core.services import {name}", namespace)
        else:
            exec(f"from dat.core.services import {name}", namespace)
        assert not isinstance(namespace[name], ModuleType), name
    with pytest.warns(DeprecationWarning):
        assert services.BadPeriod is periods.PeriodError
    assert services.UnknownName is errors.UnknownName
    for name in ("scorecard", "funding", "actions", "figures", "compare"):
        assert callable(getattr(services, name)), name
    public = set(OLD_NAMES) - {n for n in OLD_NAMES if n.startswith("_")} - {"BadPeriod"}
    assert public <= set(services.__all__)


def test_scorecard_benchmarks_equal_the_scorecards_columns(store):
    from dat.core.services import scorecard, scorecard_benchmarks

    for slug in PARTNERSHIPS:
        card = scorecard(store, slug)
        assert card["rows"], slug
        expected = {r["code"]: {k: r[k] for k in BENCHMARK_KEYS} for r in card["rows"]}
        assert scorecard_benchmarks(store, slug, card["period"]) == expected, slug
        # no period: the scorecard's default period
        cells = scorecard_benchmarks(store, slug)
        assert cells == expected, slug
        assert list(cells) == [r["code"] for r in card["rows"]], slug  # in the scorecard's order
        assert all(list(c) == list(BENCHMARK_KEYS) for c in cells.values()), slug


def test_scorecard_benchmarks_where_figures_are_compared(fixture_plugins, db_url):
    # the five partnerships seldom have a benchmark to compare with; the compare fixture has a
    # national figure, a nation, sub-areas and pooled means, compared at 95% and 99.8%
    fixture_plugins({"compare_data": "compare_data"})
    from dat.core.services import Store, scorecard, scorecard_benchmarks

    store = Store(db_url)
    compared = 0
    for slug in ("england", "alpha", "beta", "gamma", "delta", "alpha_east", "alpha_west"):
        card = scorecard(store, slug)
        expected = {r["code"]: {k: r[k] for k in BENCHMARK_KEYS} for r in card["rows"]}
        assert scorecard_benchmarks(store, slug) == expected, slug
        compared += sum(r["vs_benchmark"] != "not compared" for r in card["rows"])
    assert compared >= 5
    ret = scorecard_benchmarks(store, "alpha")["FIX.RET"]
    assert (ret["benchmark"], ret["vs_benchmark"], ret["vs_benchmark_998"]) == (70, "better", "similar")
    assert scorecard_benchmarks(store, "england")["FIX.RET"]["benchmark_basis"] == "the national figure itself"


def test_scorecard_benchmarks_of_a_period_without_figures_and_an_unknown_name(store):
    from dat.core.services import UnknownName, scorecard, scorecard_benchmarks

    assert scorecard(store, "dudley", "1990/91")["rows"] == []
    assert scorecard_benchmarks(store, "dudley", "1990/91") == {}
    with pytest.raises(UnknownName):
        scorecard_benchmarks(store, "nowhere")
