"""The Scorecard tab: one row per figure of a partnership for a period, with the detail pane
under it. The scorecard paints first; the figures behind the sparklines and the national
benchmarks follow."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from dat.cli.tui.format import arrow, bench_text, rag_cell, rag_word, right, sparkline, target_text, value_text
from dat.cli.tui.messages import (
    BenchmarksLoaded,
    FiguresLoaded,
    IndicatorHighlighted,
    NothingHighlighted,
    ScorecardLoaded,
)
from dat.cli.tui.widgets.detail import DetailPane
from dat.cli.tui.widgets.table import BENCH_ORDER, RAG_ORDER, TRAVEL_ORDER, PagedTable, Row, SortFilterTab, period_order
from dat.cli.tui.workers import WorkerFailures
from dat.cli.widths import Fit

if TYPE_CHECKING:
    from dat.core.services.types import FiguresResult, ScorecardResult, ScorecardRow

#: the RAG filter's choices: (label, value)
RAG_FILTERS = [("All RAG", "all"), ("Red", "R"), ("Amber", "A"), ("Green", "G"),
               ("Not rated", "none")]
#: the headline of a failed benchmark look-up: the scorecard stays, its cells stay "–"
BENCH_FAILURE = "Benchmarks unavailable"
#: the columns: (header, key, how it fits; cli/widths.py): RAG and value never cut, the name
#: takes the spare width, the period and the code go first on a narrow screen
COLUMNS = [("RAG", "rag", Fit(priority=0, whole=True)),
           ("Indicator", "name", Fit(priority=0, min=12, grow=True)),
           ("Value", "value", Fit(priority=0, whole=True)),
           ("Target", "target", Fit(priority=1, min=9)),
           ("Travel", "travel", Fit(priority=1, whole=True)),
           ("vs national", "bench", Fit(priority=2, whole=True)),
           ("Trend", "trend", Fit(priority=3, whole=True)),
           ("Period", "period", Fit(priority=6, min=10)),
           ("Code", "code", Fit(priority=7, min=10))]


class ScorecardTab(SortFilterTab):
    """Loads a scorecard (:meth:`load`) and posts :class:`ScorecardLoaded` and
    :class:`FiguresLoaded`; the cursor's row goes out as :class:`IndicatorHighlighted`."""

    TABLE_ID = "score-table"
    NOUN = "figures"
    MAIN_COLUMN = 2  # y copies the row, Y the value (or the column sorted on)

    def __init__(self) -> None:
        super().__init__("1 Scorecard", id="scorecard")
        self.store: Any = None
        self.slug: str | None = None
        #: the scorecard on show (its actual period), and what arrived after it
        self.period: str | None = None
        self.card: ScorecardResult | None = None
        self.figures: FiguresResult | None = None
        self.bench: dict[str, str] = {}
        #: the RAG filter (a value of RAG_FILTERS); the search text is the view's
        self.rag_filter = "all"

    @property
    def search(self) -> str:
        return self.view.text

    def compose(self) -> ComposeResult:
        yield Static("", id="score-reason", classes="reason")
        yield self.info_line()
        yield PagedTable(id=self.TABLE_ID)
        yield DetailPane(id="detail")

    def on_mount(self) -> None:
        self.set_columns(COLUMNS)

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
        if self.view.sort_column == [key for _l, key, _f in COLUMNS].index("bench"):  # sorted on them
            self.fill()
            return
        self.view.rows = self._rows()  # what y copies
        table = self.table
        for code, value in event.found.items():
            table.update_value(code, "bench", bench_text(value))

    # -- the table ----------------------------------------------------------------------------
    def set_filter(self, *, rag: str | None = None, search: str | None = None) -> None:
        """Show only the rows with RAG ``rag`` (a value of RAG_FILTERS) whose code or name
        contains ``search``."""
        if rag is not None and rag != self.rag_filter:
            self.rag_filter = rag
            self._changed()
        if search is not None:
            self.set_text_filter(search)

    def keep_row(self, row: Row) -> bool:
        wanted = self.rag_filter
        rag = row.record[7]
        return wanted == "all" or (rag is None if wanted == "none" else rag == wanted)

    def extra_filters(self) -> list[str]:
        label = dict((v, k) for k, v in RAG_FILTERS)
        return [] if self.rag_filter == "all" else [label[self.rag_filter]]

    def clear_extra_filters(self) -> None:
        self.rag_filter = "all"

    def visible_rows(self) -> list[ScorecardRow]:
        by_code = {r["code"]: r for r in (self.card["rows"] if self.card else [])}
        return [by_code[r.key] for r in self.shown_rows()]

    def _rows(self) -> list[Row]:
        rows = self.card["rows"] if self.card else []
        figs = self.figures["figures"] if self.figures else {}
        out = []
        for r in rows:
            series = [v["value"] for v in figs.get(r["code"], {}).values()]
            numbers = [v for v in series if isinstance(v, (int, float))]
            bench = self.bench.get(r["code"])
            cells = (rag_cell(r["rag"]), r["name"], right(value_text(r)), target_text(r),
                     arrow(r["direction"]), bench_text(bench), sparkline(series), r["period"],
                     r["code"])
            texts = (f"{r['rag']} {rag_word(r['rag'])}" if r["rag"] else "–", r["name"],
                     value_text(r), target_text(r), arrow(r["direction"]), bench_text(bench),
                     sparkline(series), r["period"], r["code"])
            sort = (RAG_ORDER.get(r["rag"] or ""), r["name"],
                    r["value"] if r["value"] is not None else (r["text"] or None),
                    r["target"] if r["target"] is not None else (r.get("target_text") or None),
                    TRAVEL_ORDER.get(r["direction"] or ""), BENCH_ORDER.get(bench or ""),
                    numbers[-1] if numbers else None, period_order(r["period"]), r["code"])
            record = [r["code"], r["name"], r["period"], r["value"], r["text"], r["target"],
                      r["target_kind"], r["rag"], r["rag_basis"], r["direction"], bench]
            out.append(Row(r["code"], cells, texts, sort, record, search=f"{r['code']} {r['name']}"))
        return out

    def fill(self) -> None:
        self.show_rows(self._rows(), [
            "code", "name", "period", "value", "text", "target", "target_kind", "rag",
            "rag_basis", "direction", "vs_benchmark"])

    def rows_shown(self, rows: list[Row]) -> None:
        if self.card is not None and not rows:
            reason = ("No figures match the filter (x clears it)." if self.card.get("rows")
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
