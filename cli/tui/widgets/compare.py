"""The Compare tab: every partnership ranked on one indicator for its latest period."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Select, Static

from dat.cli.tui.format import arrow, bench_text, esc, fmt_num, rag_cell, right
from dat.cli.tui.messages import CompareLoaded
from dat.cli.tui.widgets.pickers import Picker
from dat.cli.tui.widgets.table import DataTab, PagedTable

if TYPE_CHECKING:
    from dat.core.services.types import CompareResult, CompareRow, IndicatorInfo


class CompareTab(DataTab):
    """Pick an indicator in the select, or have the App :meth:`compare` one; the ranking goes
    out as :class:`CompareLoaded` once it is on show."""

    TABLE_ID = "compare-table"

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
        yield PagedTable(id=self.TABLE_ID)

    def on_mount(self) -> None:
        self.table.add_columns("Rank", "Partnership", "Value", "95% CI", "vs national", "Target", "RAG",
                               "Travel", "Note")

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

        self.table.fill([(
            right(str(r["rank"] or "–")), r["name"], right(fmt_num(r["value"], unit)), ci(r),
            bench_text(r["vs_benchmark"]), right(fmt_num(r["target"], unit)), rag_cell(r["rag"]),
            arrow(r["direction"]), r["reason"] or "",
        ) for r in rows], [r["partnership"] for r in rows])
        self.records = (
            ["indicator", "period", "rank", "partnership", "value", "ci_low", "ci_high",
             "vs_benchmark", "target", "rag", "direction", "reason"],
            [[ind["code"], result["period"], r["rank"], r["partnership"], r["value"], r["ci_low"],
              r["ci_high"], r["vs_benchmark"], r["target"], r["rag"], r["direction"], r["reason"]]
             for r in rows])
        bench = result.get("benchmark") or {}
        if result.get("reason"):
            title = f"{ind['code']} {esc(ind['name'])}: {result['reason']}."
        else:
            title = (f"[b]{ind['code']}[/b] {esc(ind['name'])}, {result['period']}: ranked best "
                     f"first; national {fmt_num(bench.get('value'), unit) or '–'} "
                     f"({esc(bench.get('basis') or 'no benchmark')})")
        self.query_one("#compare-title", Static).update(title)
