"""The Scorecard tab: one row per figure of a partnership for a period, with the detail pane
under it. The scorecard paints first; the figures behind the sparklines and the national
benchmarks follow."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from dat.cli.tui.format import arrow, bench_text, clip, rag_cell, right, sparkline, target_text, value_text
from dat.cli.tui.messages import (
    BenchmarksLoaded,
    FiguresLoaded,
    IndicatorHighlighted,
    NothingHighlighted,
    ScorecardLoaded,
)
from dat.cli.tui.widgets.detail import DetailPane
from dat.cli.tui.widgets.table import DataTab, PagedTable
from dat.cli.tui.workers import WorkerFailures

if TYPE_CHECKING:
    from dat.core.services.types import FiguresResult, ScorecardResult, ScorecardRow

#: the RAG filter's choices: (label, value)
RAG_FILTERS = [("All RAG", "all"), ("Red", "R"), ("Amber", "A"), ("Green", "G"),
               ("Not rated", "none")]
#: the headline of a failed benchmark look-up: the scorecard stays, its cells stay "–"
BENCH_FAILURE = "Benchmarks unavailable"
COLUMNS = [("RAG", "rag"), ("Indicator", "name"), ("Value", "value"), ("Target", "target"),
           ("Travel", "travel"), ("vs national", "bench"), ("Trend", "trend"), ("Period", "period"),
           ("Code", "code")]


class ScorecardTab(DataTab):
    """Loads a scorecard (:meth:`load`) and posts :class:`ScorecardLoaded` and
    :class:`FiguresLoaded`; the cursor's row goes out as :class:`IndicatorHighlighted`."""

    TABLE_ID = "score-table"

    def __init__(self) -> None:
        super().__init__("1 Scorecard", id="scorecard")
        self.store: Any = None
        self.slug: str | None = None
        #: the scorecard on show (its actual period), and what arrived after it
        self.period: str | None = None
        self.card: ScorecardResult | None = None
        self.figures: FiguresResult | None = None
        self.bench: dict[str, str] = {}
        #: the RAG filter (a value of RAG_FILTERS) and the search text
        self.rag_filter = "all"
        self.search = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="score-reason", classes="reason")
        yield PagedTable(id=self.TABLE_ID)
        yield DetailPane(id="detail")

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)

    # -- loading ----------------------------------------------------------------------------
    def load(self, store: Any, slug: str, period: str | None) -> None:
        """``slug``'s scorecard for ``period`` (default: its latest), then its figures."""
        self.store, self.slug = store, slug
        self.run_thread(partial(self._load, store, slug, period), failure=f"Cannot load {slug}",
                        group="scorecard")

    def _load(self, store: Any, slug: str, period: str | None) -> None:
        from dat.core import services

        card = services.scorecard(store, slug, period, benchmarks=False)
        # the scorecard paints first; its national benchmarks follow (_load_benchmarks)
        self.post_result(ScorecardLoaded(slug, card["period"], card))
        self.post_result(FiguresLoaded(slug, services.figures(store, slug)))

    @on(ScorecardLoaded)
    def _loaded(self, event: ScorecardLoaded) -> None:
        if event.slug != self.slug:
            event.stop()  # a partnership chosen before this one
            return
        card = event.card
        self.card, self.figures, self.bench, self.period = card, None, {}, event.period
        self.fill()
        codes = [r["code"] for r in card["rows"] if r["value"] is not None]
        if not card.get("reason") and codes and card["period"]:
            self.run_thread(partial(self._load_benchmarks, self.store, event.slug, card["period"], codes),
                            failure=BENCH_FAILURE, group="bench")

    @on(FiguresLoaded)
    def _figures_loaded(self, event: FiguresLoaded) -> None:
        if event.slug != self.slug:
            event.stop()
            return
        self.figures = event.figures
        self.fill()  # now with sparklines from the history

    def _load_benchmarks(self, store: Any, slug: str, period: str, codes: list[str]) -> None:
        """Each numeric figure against the national benchmark (filled in after first paint)."""
        from dat.core import services

        # only the benchmark cells, not the whole scorecard again (a failure goes to the one
        # worker-failure handler as "Benchmarks unavailable"; the cells stay "–")
        cells = services.scorecard_benchmarks(store, slug, period)
        wanted = set(codes)
        found = {code: cell["vs_benchmark"] for code, cell in cells.items() if code in wanted}
        self.post_result(BenchmarksLoaded(slug, period, found))

    @on(BenchmarksLoaded)
    def _benchmarks_loaded(self, event: BenchmarksLoaded) -> None:
        if (event.slug, event.period) != (self.slug, self.period):
            return
        self.bench = event.found
        table = self.table
        for code, value in event.found.items():
            if code in table.rows:
                table.update_cell(code, "bench", bench_text(value))

    # -- the table ----------------------------------------------------------------------------
    def set_filter(self, *, rag: str | None = None, search: str | None = None) -> None:
        """Show only the rows with RAG ``rag`` (a value of RAG_FILTERS) whose code or name
        contains ``search``."""
        if rag is not None:
            self.rag_filter = rag
        if search is not None:
            self.search = search
        self.fill()

    def visible_rows(self) -> list[ScorecardRow]:
        rows = self.card["rows"] if self.card else []
        wanted, query = self.rag_filter, self.search.strip().lower()
        if wanted == "none":
            rows = [r for r in rows if not r["rag"]]
        elif wanted != "all":
            rows = [r for r in rows if r["rag"] == wanted]
        if query:
            rows = [r for r in rows if query in r["code"].lower() or query in r["name"].lower()]
        return rows

    def fill(self) -> None:
        rows = self.visible_rows()
        figs = self.figures["figures"] if self.figures else {}
        self.table.fill([(
            rag_cell(r["rag"]), clip(r["name"], 34), right(value_text(r)), target_text(r),
            arrow(r["direction"]), bench_text(self.bench.get(r["code"])),
            sparkline([v["value"] for v in figs.get(r["code"], {}).values()]), r["period"], r["code"],
        ) for r in rows], [r["code"] for r in rows])
        self.records = (
            ["code", "name", "period", "value", "text", "target", "target_kind", "rag",
             "rag_basis", "direction", "vs_benchmark"],
            [[r["code"], r["name"], r["period"], r["value"], r["text"], r["target"],
              r["target_kind"], r["rag"], r["rag_basis"], r["direction"],
              self.bench.get(r["code"])] for r in rows])
        if self.card is not None and not rows:
            reason = ("No figures match the filter." if self.card.get("rows")
                      else (self.card.get("reason") or "No figures."))
            self.show_reason(reason)
            self.post_message(NothingHighlighted(reason))
        else:
            self.show_reason(None)

    def say_empty(self, text: str) -> None:
        """No scorecard (the database could not be opened, the load failed): the table is
        emptied, and its reason line and the detail pane say why."""
        self.card, self.figures, self.bench = None, None, {}
        super().say_empty(text)
        self.post_message(NothingHighlighted(text))

    def show_failure(self, text: str) -> None:
        if text.startswith(BENCH_FAILURE):  # the figures stay; only the status line says it
            WorkerFailures.show_failure(self, text)
        else:
            super().show_failure(text)

    def move_to(self, code: str) -> bool:
        """Put the cursor on ``code``'s row (if it is on show) and focus the table."""
        table = self.table
        if code not in table.rows:
            return False
        table.move_cursor(row=table.get_row_index(code))
        table.focus()
        return True

    @on(DataTable.RowHighlighted, "#score-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self.post_message(IndicatorHighlighted(event.row_key.value))
