"""The Compare tab: every partnership ranked on one indicator for its latest period."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Select, Static

from dat.cli.tui.format import arrow, bench_text, esc, fmt_num, rag_cell, rag_word, right
from dat.cli.tui.messages import CompareLoaded
from dat.cli.tui.widgets.pickers import Picker
from dat.cli.tui.widgets.table import BENCH_ORDER, RAG_ORDER, TRAVEL_ORDER, PagedTable, Row, SortFilterTab
from dat.cli.widths import Fit

if TYPE_CHECKING:
    from dat.core.services.types import CompareResult, CompareRow, IndicatorInfo


#: the columns (cli/widths.py): value and RAG never cut, the partnership takes the spare width
COLUMNS = [("Rank", "rank", Fit(priority=1, whole=True)),
           ("Partnership", "partnership", Fit(priority=0, min=12, grow=True)),
           ("Value", "value", Fit(priority=0, whole=True)),
           ("95% CI", "ci", Fit(priority=5, whole=True)),
           ("vs national", "bench", Fit(priority=2, whole=True)),
           ("Target", "target", Fit(priority=3, whole=True)),
           ("RAG", "rag", Fit(priority=0, whole=True)),
           ("Travel", "travel", Fit(priority=4, whole=True)),
           ("Note", "note", Fit(priority=3, min=12))]


class CompareTab(SortFilterTab):
    """Pick an indicator in the select, or have the App :meth:`compare` one; the ranking goes
    out as :class:`CompareLoaded` once it is on show."""

    TABLE_ID = "compare-table"
    NOUN = "partnerships"
    MAIN_COLUMN = 2  # Y copies the value (or the column sorted on)

    def __init__(self) -> None:
        super().__init__("4 Compare", id="compare")
        self.store: Any = None
        #: the indicator compared, and its ranking once loaded
        self.code: str | None = None
        self.result: CompareResult | None = None

    def compose(self) -> ComposeResult:
        yield Picker([], prompt="Indicator to compare (type part of a code or name)",
                     id="compare-indicator")
        yield Static("Pick an indicator, or press c on a scorecard row.", id="compare-title",
                     classes="reason")
        yield self.info_line()
        yield PagedTable(id=self.TABLE_ID)

    def on_mount(self) -> None:
        self.set_columns(COLUMNS)

    def set_indicators(self, store: Any, indicators: list[IndicatorInfo]) -> None:
        """The indicators to pick from (in the database ``store``; ``None``: none is open)."""
        self.store = store
        sel = self.query_one("#compare-indicator", Select)
        with sel.prevent(Select.Changed):
            sel.set_options([(f"{i['code']}  {i['name']}"[:90], i["code"]) for i in indicators])

    @on(Select.Changed, "#compare-indicator")
    def _picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.code:
            self.code = event.value
            self.table.focus()  # the ranking is what was asked for
            self.load(event.value)

    @on(Picker.Picked, "#compare-indicator")
    def _picked_again(self) -> None:
        self.table.focus()  # the ranking, even when the same indicator was picked

    def compare(self, code: str) -> None:
        """Rank every partnership on ``code``."""
        self.code = code
        sel = self.query_one("#compare-indicator", Select)
        with sel.prevent(Select.Changed):
            sel.value = code
        self.table.focus()
        self.load(code)

    def reload(self) -> None:
        if self.code:
            self.load(self.code)

    def load(self, code: str) -> None:
        if self.store is None:  # the database could not be opened: nothing to rank from
            self.show_failure(f"Cannot compare {code}: no database is open; fix it and press F5")
            return
        self.run_thread(partial(self._load, self.store, code), failure=f"Cannot compare {code}",
                        group="compare")

    def _load(self, store: Any, code: str) -> None:
        from dat.core import services

        self.post_result(CompareLoaded(code, services.compare(store, code)))

    @on(CompareLoaded)
    def _loaded(self, event: CompareLoaded) -> None:
        result = event.result
        ind = result["indicator"]
        if ind["code"] != self.code:
            event.stop()  # another indicator was picked since
            return
        self.result = result
        unit = ind["unit"]
        rows = result["rows"]

        def ci(r: CompareRow) -> str:
            if r["ci_low"] is None or r["ci_high"] is None:
                return ""
            return f"{fmt_num(round(r['ci_low'], 1), unit)}–{fmt_num(round(r['ci_high'], 1), unit)}"

        out = []
        for r in rows:
            texts = (str(r["rank"] or "–"), r["name"], fmt_num(r["value"], unit), ci(r),
                     bench_text(r["vs_benchmark"]), fmt_num(r["target"], unit),
                     f"{r['rag']} {rag_word(r['rag'])}" if r["rag"] else "–", arrow(r["direction"]),
                     r["reason"] or "")
            cells = (right(texts[0]), texts[1], right(texts[2]), texts[3], texts[4], right(texts[5]),
                     rag_cell(r["rag"]), texts[7], texts[8])
            sort = (r["rank"], r["name"], r["value"], r["ci_low"], BENCH_ORDER.get(r["vs_benchmark"] or ""),
                    r["target"], RAG_ORDER.get(r["rag"] or ""), TRAVEL_ORDER.get(r["direction"] or ""),
                    r["reason"] or None)
            record = [ind["code"], result["period"], r["rank"], r["partnership"], r["value"], r["ci_low"],
                      r["ci_high"], r["vs_benchmark"], r["target"], r["rag"], r["direction"], r["reason"]]
            out.append(Row(r["partnership"], cells, texts, sort, record))
        self.show_rows(out, ["indicator", "period", "rank", "partnership", "value", "ci_low", "ci_high",
                             "vs_benchmark", "target", "rag", "direction", "reason"])
        bench = result.get("benchmark") or {}
        if result.get("reason"):
            title = f"{ind['code']} {esc(ind['name'])}: {result['reason']}."
        else:
            title = (f"[b]{ind['code']}[/b] {esc(ind['name'])}, {result['period']}: ranked best "
                     f"first; national {fmt_num(bench.get('value'), unit) or '–'} "
                     f"({esc(bench.get('basis') or 'no benchmark')})")
        self.query_one("#compare-title", Static).update(title)

    def detail_text(self, key: str) -> str | None:
        """A partnership's place in the comparison: value, intervals, benchmark, target, RAG,
        rank (or why it has none)."""
        if self.result is None:
            return None
        r = next((r for r in self.result["rows"] if r["partnership"] == key), None)
        if r is None:
            return None
        ind = self.result["indicator"]
        unit = ind["unit"]

        def interval(low: float | None, high: float | None) -> str:
            if low is None or high is None:
                return "–"
            return f"{fmt_num(round(low, 1), unit)}–{fmt_num(round(high, 1), unit)}"

        value = fmt_num(r["value"], unit) or "no figure"
        if r["numerator"] is not None and r["denominator"]:
            value += f" ({fmt_num(r['numerator'])}/{fmt_num(r['denominator'])})"
        target = fmt_num(r["target"], unit)
        lines = [
            f"[b]{esc(r['name'])}[/b] — {ind['code']} {esc(ind['name'])}, {esc(self.result['period'] or '–')}",
            f"Value [b]{esc(value)}[/b]",
            f"95% interval {interval(r['ci_low'], r['ci_high'])}   99.8% interval "
            f"{interval(r['ci_low_998'], r['ci_high_998'])}" + (f" ({esc(r['ci_method'])})" if r["ci_method"] else ""),
            f"National benchmark {fmt_num(r['benchmark'], unit) or '–'}"
            + (f" ({esc(r['benchmark_basis'])})" if r["benchmark_basis"] else "")
            + f": {bench_text(r['vs_benchmark'])}",
            f"Target {esc(target + ' ' + (r['target_kind'] or '')) if target else 'none'}",
            f"RAG [b]{rag_word(r['rag'])}[/b] ({esc(r['rag_basis'])})",
            f"Rank {r['rank']}" + (f", quartile {r['quartile']}" if r["quartile"] else "")
            if r["rank"] else f"No rank: {esc(r['reason'] or 'no comparable figure')}",
        ]
        if r["previous_period"]:
            lines.append(f"Previous {esc(r['previous_period'])}: {fmt_num(r['previous_value'], unit)} "
                         f"({arrow(r['direction'])})")
        return "\n".join(lines)
