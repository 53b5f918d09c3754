"""The shapes of the query results: every result and row is a plain ``dict`` (so JSON output
is exactly what the dict holds), described here as a :class:`~typing.TypedDict` for type
checkers and readers. docs/cli.md documents the JSON of each ``schema``.

Fields are listed in the order the queries fill them, which is the order of the JSON keys.
``NotRequired`` keys are present only sometimes (``reason`` when a result is empty).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, NotRequired, TypedDict

# -- partnerships, indicators, figures and targets -----------------------------------------------


class PartnershipInfo(TypedDict):
    slug: str
    name: str
    region: str | None
    area_type: str
    parent: str | None  # the parent's slug
    comparator_group: str | None
    accountable_bodies: list[str]
    sub_areas: list[str]  # slugs, alphabetical
    description: str | None
    plugin: str | None


class PartnershipRow(PartnershipInfo):
    """A partnership in :func:`list_partnerships` (``dat.partnerships/1``)."""

    depth: int  # 0 for a top-level partnership, 1 for its sub-areas...


class IndicatorInfo(TypedDict):
    code: str
    name: str
    unit: str  # percent, rate, count, weeks, days, gbp, ratio, rag, text...
    polarity: str  # higher, lower, none
    framework: str
    source: str | None
    numerator: str | None  # what the numerator counts
    denominator: str | None
    per: int | None  # a rate's multiplier (per 1,000...)
    tolerance: float | None
    plugin: str | None


class TargetInfo(TypedDict):
    period: str
    kind: str  # local, compact, national, stretch...
    label: str
    value_kind: str
    value: float | None  # the resolved absolute target; None for a text target
    stated: float | None  # the value as stated (a change, a percentage...)
    baseline: float | None
    baseline_period: str | None
    years: float | None
    text: str | None
    profile: list[float] | None  # quarterly weights
    tolerance: float | None
    source: str | None


class ObservationInfo(TypedDict):
    """One current figure."""

    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    ci_low: float | None
    ci_high: float | None
    rag: str | None  # a recorded judgement
    status: str
    text: str | None
    commentary: str | None
    source: str | None
    revision: int


class FiguresResult(TypedDict):
    """Everything a partnership has (:func:`figures`)."""

    figures: dict[str, dict[str, ObservationInfo]]  # indicator code -> period -> figure
    targets: dict[str, list[TargetInfo]]  # indicator code -> targets, by period
    indicators: dict[str, IndicatorInfo]  # every indicator with a figure or target


# -- rating, travel and comparison: the parts of a scorecard or compare row -----------------------


class Rating(TypedDict):
    """How a figure was rated (:func:`rate_figure`)."""

    rag: str | None  # R, A, G
    basis: str  # judgement, plugin, rule, none
    expected: float | None
    reason: str


class Travel(TypedDict):
    """Direction of travel and the recent trend of one figure."""

    previous_period: str | None
    previous_value: float | str | None  # a RAG letter for judgement-only indicators
    direction: str
    last_year_period: str | None
    last_year_value: float | str | None
    direction_last_year: str
    trend: str
    trend_assessment: str | None
    trend_reason: str | None


class Counts(TypedDict):
    """A figure as benchmarks pool it."""

    value: float | None
    numerator: float | None
    denominator: float | None


class Comparison(TypedDict):
    """A figure's intervals and its comparison with a benchmark."""

    ci_low: float | None
    ci_high: float | None
    ci_low_998: float | None
    ci_high_998: float | None
    ci_method: str | None
    vs_benchmark: str
    vs_benchmark_998: str
    reason: str | None


class BenchmarkCell(TypedDict):
    """The benchmark columns of one scorecard row (:func:`scorecard_benchmarks`)."""

    benchmark: float | None
    benchmark_basis: str
    vs_benchmark: str
    vs_benchmark_998: str
    benchmark_reason: str | None
    ci_low: float | None
    ci_high: float | None


# -- scorecard: dat.scorecard/1 -----------------------------------------------------------------


class ScorecardRow(TypedDict):
    code: str
    name: str
    unit: str
    polarity: str
    framework: str
    period: str
    value: float | None
    text: str | None
    numerator: float | None
    denominator: float | None
    target: float | None
    target_text: str | None
    target_kind: str | None
    target_period: str | None
    targets: list[TargetInfo]  # every applicable target, preferred first
    rag: str | None
    rag_word: str | None
    rag_basis: str
    rag_reason: str
    expected: float | None
    previous_period: str | None
    previous_value: float | str | None
    direction: str
    last_year_period: str | None
    last_year_value: float | str | None
    direction_last_year: str
    trend: str
    trend_assessment: str | None
    trend_reason: str | None
    ci_low: float | None
    ci_high: float | None
    benchmark: float | None
    benchmark_basis: str
    vs_benchmark: str
    vs_benchmark_998: str
    benchmark_reason: str | None
    commentary: str | None
    source: str | None
    revision: int


class ScorecardResult(TypedDict):
    schema: Literal["dat.scorecard/1"]
    partnership: str
    period: str | None
    periods_available: list[str]
    rows: list[ScorecardRow]
    reason: NotRequired[str]


# -- compare: dat.compare/1 ---------------------------------------------------------------------


class CompareRow(TypedDict):
    partnership: str
    name: str
    region: str | None
    parent: str | None
    comparator_group: str | None
    value: float | None
    numerator: float | None
    denominator: float | None
    ci_low: float | None
    ci_high: float | None
    ci_low_998: float | None
    ci_high_998: float | None
    ci_method: str | None
    target: float | None
    target_kind: str | None
    rag: str | None
    rag_basis: str
    rank: int | None
    quartile: int | None
    benchmark: float | None
    benchmark_basis: str | None
    vs_benchmark: str
    vs_benchmark_998: str
    previous_period: str | None
    previous_value: float | str | None
    direction: str
    last_year_period: str | None
    last_year_value: float | str | None
    direction_last_year: str
    trend: str
    trend_assessment: str | None
    trend_reason: str | None
    reason: str | None


class CompareBenchmark(TypedDict):
    kind: str  # national, group, region, parent, mean
    value: float | None  # set for national and mean; the other kinds differ by row
    basis: str | None


class CompareResult(TypedDict):
    schema: Literal["dat.compare/1"]
    indicator: IndicatorInfo
    period: str | None
    periods_available: list[str]
    benchmark: CompareBenchmark
    not_reporting: list[str]  # slugs
    rows: list[CompareRow]
    reason: NotRequired[str]


# -- funding: dat.funding/1 and dat.funding-compare/1 ---------------------------------------------


class FundingLine(TypedDict):
    stream: str
    stream_name: str
    line: str
    funders: list[str]
    ring_fenced: bool
    amount: Decimal | None  # None when the document does not state it
    banked_by: str | None
    used_for: str | None
    approximate: bool
    management_admin: bool
    is_total: bool  # the document's own total: the other lines are parts of it
    source: str | None
    share: float | None  # of the total


class FundingAnalysis(TypedDict):
    previous_year: str | None
    previous_total: Decimal | None
    change: Decimal | None
    change_pct: float | None
    management_admin: Decimal | None
    management_admin_share: float | None
    in_effective_treatment: float | None
    cost_per_person: Decimal | None
    notes: list[str]


class FundingResult(TypedDict):
    schema: Literal["dat.funding/1"]
    partnership: str
    year: str | None
    years_available: list[str]
    lines: list[FundingLine]
    total: Decimal | None
    total_basis: str | None  # "stated total", "sum of lines"
    total_approximate: bool
    itemised_total: Decimal | None
    previous_year: str | None
    previous_total: Decimal | None
    change: Decimal | None
    change_pct: float | None
    management_admin: Decimal | None
    management_admin_share: float | None
    in_effective_treatment: float | None
    cost_per_person: Decimal | None
    notes: list[str]
    reason: NotRequired[str]


class FundingSummary(TypedDict):
    partnership: str
    year: str | None
    total: Decimal | None
    change_pct: float | None
    management_admin_share: float | None
    cost_per_person: Decimal | None


#: one stream side by side: ``{"stream", "stream_name", "<slug>": amount, ...}``, a key per
#: partnership with a line in that stream (a TypedDict cannot name keys that are data)
FundingStreamColumns = dict[str, Any]


class FundingCompareResult(TypedDict):
    schema: Literal["dat.funding-compare/1"]
    year: str | None  # the year asked for (each partnership's own is in partnerships)
    partnerships: list[FundingSummary]
    streams: list[FundingStreamColumns]
    detail: list[FundingResult]


# -- actions: dat.actions/1 ---------------------------------------------------------------------


class ActionItem(TypedDict):
    ref: str
    theme: str | None
    action: str
    lead: str | None
    target_text: str | None
    targets: list[str]
    outcome: str | None
    due: str | None
    milestones: list[str]
    dependencies: list[str]
    status: str
    source: str | None
    #: ``due`` read as a date (ISO; the end of a financial year or quarter), else None
    due_date: str | None
    overdue: bool


class ActionsResult(TypedDict):
    schema: Literal["dat.actions/1"]
    partnership: str
    #: the day overdue is judged against (ISO)
    as_of: str
    actions: list[ActionItem]


# -- scenarios: dat.scenario/1 ------------------------------------------------------------------


class SplitLine(TypedDict):
    stream: str
    stream_name: str
    line: str
    amount: Decimal | None
    is_total: bool
    successors: dict[str, Decimal | None]  # sub-area slug -> its share of the amount
    below_floor: list[str]  # sub-areas whose share is below the floor


class ScenarioSplit(TypedDict):
    schema: Literal["dat.scenario/1"]
    scenario: Literal["split"]
    partnership: str
    year: str | None
    basis: str
    shares: dict[str, float]  # sub-area slug -> fraction, adding up to 1
    floor: Decimal | None
    successors: list[str]
    lines: list[SplitLine]
    totals: dict[str, Decimal]
    figures: dict[str, dict[str, dict[str, ObservationInfo]]]  # sub-area -> code -> period -> figure


class MergeLine(TypedDict):
    stream: str
    stream_name: str
    by_partnership: dict[str, Decimal | None]
    amount: Decimal | None
    below_floor: bool


class ScenarioMerge(TypedDict):
    schema: Literal["dat.scenario/1"]
    scenario: Literal["merge"]
    partnerships: list[str]
    years: dict[str, str | None]  # slug -> the year of its funding
    floor: Decimal | None
    lines: list[MergeLine]
    total: Decimal | None


# -- history -----------------------------------------------------------------------------------


class Revision(TypedDict):
    period: str
    revision: int
    current: bool
    value: float | None
    numerator: float | None
    denominator: float | None
    rag: str | None
    text: str | None
    commentary: str | None
    origin: str | None
    status: str  # final, provisional ... or withdrawn (its plugin was purged)
    recorded_by: str | None  # the PostgreSQL login or the OS user who wrote it
    recorded_at: str


class HistoryResult(TypedDict):
    """``dat.history/1``: every revision of one partnership's figures for one indicator."""

    schema: Literal["dat.history/1"]
    partnership: str
    indicator: str
    revisions: list[Revision]


class AuditRow(TypedDict):
    at: str
    actor: str
    action: str
    partnership: str | None
    detail: str
    source: str | None


class AuditResult(TypedDict):
    schema: str
    partnership: str | None
    since: str | None
    events: list[AuditRow]
