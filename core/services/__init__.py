"""The query API that the CLI and the TUI both call. Results are plain dicts and lists
(JSON-ready: numbers as ``float``/``int``, money as ``Decimal`` strings in JSON), never ORM
objects, so front ends cannot reach into the database behind the core's back.

Usage::

    store = Store()                       # DAT_DATABASE_URL or the default SQLite file
    scorecard(store, "dudley", "2007/08 Q1")

One module per resource: :mod:`.store` (the :class:`Store` handle), :mod:`.areas`
(partnerships and indicators), :mod:`.figures`, :mod:`.scorecard`, :mod:`.benchmarks`
(intervals and benchmarks shared by the scorecard and compare), :mod:`.compare`,
:mod:`.funding`, :mod:`.actions`, :mod:`.history` (the revisions of a figure) and
:mod:`.scenarios`; :mod:`.types` describes every result as a ``TypedDict`` (the results stay
plain dicts). Import from this package, not from the modules: several modules share their
name with the function they hold (``scorecard``, ``funding``, ``actions``, ``figures``,
``compare``, ``history``), and here the name is the function.

The underscore names re-exported below are the old module's helpers, kept importable from
here for code written against ``dat.core.services`` before it was split; they are not API.
"""

from __future__ import annotations

from typing import Any

from dat.core.errors import UnknownName
from dat.core.periods import PeriodError
from dat.core.services.actions import actions
from dat.core.services.areas import _indicator_dict as _indicator_dict
from dat.core.services.areas import _partnership_dict as _partnership_dict
from dat.core.services.areas import _partnership_id as _partnership_id
from dat.core.services.areas import get_indicator, get_partnership, has_figures, list_indicators, list_partnerships
from dat.core.services.benchmarks import BENCHMARKS, MIN_POOL
from dat.core.services.benchmarks import _bad_counts as _bad_counts
from dat.core.services.benchmarks import _benchmark_for as _benchmark_for
from dat.core.services.benchmarks import _compare_row as _compare_row
from dat.core.services.benchmarks import _national_benchmark as _national_benchmark
from dat.core.services.benchmarks import _pooled as _pooled
from dat.core.services.benchmarks import _stat_kind as _stat_kind
from dat.core.services.benchmarks import _too_few as _too_few
from dat.core.services.compare import _series as _series
from dat.core.services.compare import compare
from dat.core.services.figures import _obs_dict as _obs_dict
from dat.core.services.figures import _target_dict as _target_dict
from dat.core.services.figures import figures, figures_for, periods_with_data
from dat.core.services.funding import _funding_analysis as _funding_analysis
from dat.core.services.funding import _year_total as _year_total
from dat.core.services.funding import funding, funding_compare
from dat.core.services.history import audit_log, history
from dat.core.services.scenarios import scenario_merge, scenario_split
from dat.core.services.scorecard import (
    RAG_RANK,
    TARGET_PREFERENCE,
    default_period,
    direction_of_travel,
    rate_figure,
    scorecard,
    scorecard_benchmarks,
)
from dat.core.services.scorecard import _applies as _applies
from dat.core.services.scorecard import _choose_targets as _choose_targets
from dat.core.services.scorecard import _national_benchmarks as _national_benchmarks
from dat.core.services.scorecard import _periods_read as _periods_read
from dat.core.services.scorecard import _travel as _travel
from dat.core.services.store import Store
from dat.core.services.store import _period as _period
from dat.core.services.types import (
    ActionItem,
    ActionsResult,
    BenchmarkCell,
    CompareBenchmark,
    CompareResult,
    CompareRow,
    FiguresResult,
    FundingAnalysis,
    FundingCompareResult,
    FundingLine,
    FundingResult,
    FundingStreamColumns,
    FundingSummary,
    HistoryResult,
    IndicatorInfo,
    MergeLine,
    ObservationInfo,
    PartnershipInfo,
    PartnershipRow,
    Rating,
    Revision,
    ScenarioMerge,
    ScenarioSplit,
    ScorecardResult,
    ScorecardRow,
    SplitLine,
    TargetInfo,
    Travel,
)

__all__ = [
    "UnknownName", "PeriodError", "Store", "get_indicator", "get_partnership", "has_figures",
    "list_indicators", "list_partnerships", "figures", "figures_for", "periods_with_data",
    "RAG_RANK", "TARGET_PREFERENCE", "default_period", "direction_of_travel", "rate_figure",
    "scorecard", "scorecard_benchmarks", "BENCHMARKS", "MIN_POOL", "compare", "funding",
    "funding_compare", "actions", "history", "audit_log", "scenario_merge", "scenario_split",
    # the result types
    "ActionItem", "ActionsResult", "BenchmarkCell", "CompareBenchmark", "CompareResult",
    "CompareRow", "FiguresResult", "FundingAnalysis", "FundingCompareResult", "FundingLine",
    "FundingResult", "FundingStreamColumns", "FundingSummary", "IndicatorInfo", "MergeLine",
    "ObservationInfo", "PartnershipInfo", "PartnershipRow", "Rating", "ScenarioMerge",
    "ScenarioSplit", "ScorecardResult", "ScorecardRow", "SplitLine", "TargetInfo", "Travel",
    "HistoryResult", "Revision",
]

#: old name -> (the name to use instead, the object)
_DEPRECATED = {"BadPeriod": ("dat.core.periods.PeriodError", PeriodError)}


def __getattr__(name: str) -> Any:
    # deprecated names (CHANGELOG.md, "Deprecated"): they still work, with a warning
    if name in _DEPRECATED:
        import warnings

        new, value = _DEPRECATED[name]
        warnings.warn(f"{__name__}.{name} is deprecated; use {new}", DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
