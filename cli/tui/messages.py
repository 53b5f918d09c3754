"""The messages the panes of the TUI send: to the App, which routes them, or to themselves.

A pane never calls the App or another pane: it posts one of these. A worker thread posts its
result as a message too (``post_message`` is thread-safe); the pane that ran it handles it
first and, for the messages that bubble, the App then does the app-wide part (status line,
routing to the other panes). Messages marked ``bubble=False`` stay with the pane that posted
them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # the result shapes of the queries (importing them costs nothing at run time)
    from dat.core.services.types import (
        ActionsResult,
        CompareResult,
        FiguresResult,
        FundingResult,
        IndicatorInfo,
        PartnershipRow,
        ScorecardResult,
    )

# -- from the App's own workers ---------------------------------------------------------------


class DatabaseOpened(Message):
    """The database is open: what the App needs to lay out the tree and the indicator list."""

    def __init__(self, store: Any, partnerships: list[PartnershipRow], indicators: list[IndicatorInfo],
                 problems: list[str], first: str | None) -> None:
        super().__init__()
        self.store, self.partnerships, self.indicators = store, partnerships, indicators
        #: plugins that failed to load, one line each
        self.problems = problems
        #: the first partnership with figures (the one to open on), if any
        self.first = first


class MarksLoaded(Message):
    """After the first paint: which partnerships have figures, the report templates, and the
    plugin problems found while building the registry."""

    def __init__(self, latest: dict[str, bool], templates: list[dict], problems: list[str]) -> None:
        super().__init__()
        self.latest, self.templates, self.problems = latest, templates, problems


class ReportWritten(Message):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class WorkFailed(Message):
    """A worker failed: ``text`` (already one line, headline and error) goes in the status line."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


# -- the partnerships tree ------------------------------------------------------------------------


class PartnershipChosen(Message):
    """The user chose a partnership in the tree (enter)."""

    def __init__(self, slug: str) -> None:
        super().__init__()
        self.slug = slug


# -- the scorecard ------------------------------------------------------------------------------


class ScorecardLoaded(Message):
    """A partnership's scorecard (without national benchmarks) for ``period``, its actual period."""

    def __init__(self, slug: str, period: str | None, card: ScorecardResult) -> None:
        super().__init__()
        self.slug, self.period, self.card = slug, period, card


class FiguresLoaded(Message):
    """Every figure and target of a partnership (:func:`dat.core.services.figures`): the
    scorecard's sparklines and the detail pane's trend and targets."""

    def __init__(self, slug: str, figures: FiguresResult) -> None:
        super().__init__()
        self.slug, self.figures = slug, figures


class BenchmarksLoaded(Message, bubble=False):
    """Each figure of the scorecard against the national benchmark, by indicator code."""

    def __init__(self, slug: str, period: str, found: dict[str, str]) -> None:
        super().__init__()
        self.slug, self.period, self.found = slug, period, found


class IndicatorHighlighted(Message):
    """The scorecard's cursor is on indicator ``code``."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


class NothingHighlighted(Message):
    """The scorecard shows no rows; ``reason`` says why (filtered out, or no figures)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


# -- the other tabs and the detail pane -------------------------------------------------------


class FundingLoaded(Message, bubble=False):
    """A partnership's funding (:func:`dat.core.services.funding`) for the year of
    ``card_period`` or, when that year has none, the latest year with funding."""

    def __init__(self, slug: str, funding: FundingResult, card_period: str | None) -> None:
        super().__init__()
        self.slug, self.funding, self.card_period = slug, funding, card_period


class ActionsLoaded(Message, bubble=False):
    def __init__(self, slug: str, actions: ActionsResult) -> None:
        super().__init__()
        self.slug, self.actions = slug, actions


class CompareLoaded(Message):
    """Every partnership ranked on indicator ``code`` (:func:`dat.core.services.compare`)."""

    def __init__(self, code: str, result: CompareResult) -> None:
        super().__init__()
        self.code, self.result = code, result


class HistoryLoaded(Message, bubble=False):
    """The revision history line of indicator ``code`` for partnership ``slug``."""

    def __init__(self, slug: str, code: str, text: str) -> None:
        super().__init__()
        self.slug, self.code, self.text = slug, code, text
