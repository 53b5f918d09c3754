"""The detail pane under the scorecard: the highlighted indicator's value, target and RAG with
the reason, its targets, trend, note and revision history, and beside it a chart of the trend
against the target (hidden on narrow terminals; the text trend stays)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from dat.cli.tui.format import esc, fmt_num, rag_word, sparkline, target_text, value_text
from dat.cli.tui.messages import HistoryLoaded
from dat.cli.tui.workers import WorkerFailures

if TYPE_CHECKING:
    from dat.core.services.types import FiguresResult, ScorecardResult, ScorecardRow

HINT = "Highlight an indicator to see its trend, targets and history."


def make_plot() -> Widget | None:
    """The chart, or None without textual-plotext (the text trend still shows)."""
    try:
        from textual_plotext import PlotextPlot
    except ImportError:
        return None
    return PlotextPlot()


class DetailPane(WorkerFailures, Horizontal):
    """Shows one row of the scorecard on show (:meth:`set_card`), with the figures and targets
    of :meth:`set_figures` once they arrive; loads the indicator's revision history itself."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.store: Any = None
        self.slug: str | None = None
        self.rows: list[ScorecardRow] = []
        self.figures: FiguresResult | None = None
        #: the indicator on show
        self.code: str | None = None
        self._history_for: tuple[str, str] | None = None
        #: what the chart shows, and whether it is being put in (see _plot)
        self._chart_args: tuple[list[tuple[str, float]], float | None, str | None] = ([], None, None)
        self._chart_due = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static(HINT, id="detail-text")
        # the chart goes in here on first use, after a refresh: importing plotext and drawing
        # an empty chart stay off the first paint (docs/performance.md)
        yield Container(id="trend")

    def set_card(self, store: Any, slug: str, card: ScorecardResult) -> None:
        """A new scorecard: its rows are what :meth:`show` can show; the figures follow."""
        self.store, self.slug, self.rows, self.figures = store, slug, card["rows"], None

    def set_figures(self, figures: FiguresResult) -> None:
        self.figures = figures
        if self.code:
            self.show(self.code)

    def forget(self) -> None:
        """Another partnership: no indicator is on show until one is highlighted."""
        self.code = None

    def say(self, text: str) -> None:
        self.query_one("#detail-text", Static).update(text)

    def clear(self, message: str) -> None:
        self.say(message)
        self._plot([], None, None)

    def show(self, code: str) -> None:
        row = next((r for r in self.rows if r["code"] == code), None)
        if row is None:
            return
        self.code = code
        unit = row["unit"]
        figs = self.figures["figures"].get(code, {}) if self.figures else {}
        targets = self.figures["targets"].get(code, []) if self.figures else []
        better = {"higher": "higher is better", "lower": "lower is better"}.get(
            row["polarity"], "no better or worse")
        lines = [f"[b]{code}[/b] {esc(row['name'])}",
                 f"{unit}, {better}, {row['framework']}",
                 f"{row['period']}: [b]{esc(value_text(row)) or '–'}[/b]   "
                 f"target {esc(target_text(row)) or 'none'}   "
                 f"[b]{rag_word(row['rag'])}[/b] ({row['rag_basis']}: {esc(row['rag_reason'] or '')})"]
        if targets:
            lines.append("[b]Targets[/b]")
            for t in targets:
                what = fmt_num(t["value"], unit) if t["value"] is not None else (t["text"] or "")
                label = f" — {t['label']}" if t.get("label") else ""
                lines.append(f"  {t['period']} {t['kind']}: {esc(what)}{esc(label)}")
        series = [(p, v["value"]) for p, v in figs.items() if v["value"] is not None]
        if series:
            lines.append("[b]Trend[/b] " + "  ".join(f"{p} {fmt_num(v, unit)}" for p, v in series)
                         + f"  {sparkline([v for _, v in series])}")
        if row["commentary"]:
            lines.append(f"[b]Note[/b] {esc(row['commentary'])}")
        lines.append(f"Source {esc(row['source'] or '–')}, revision {row.get('revision')}")
        self.say("\n".join(lines))
        target = next((t["value"] for t in targets if t["value"] is not None), None)
        self._plot(series, target, unit)
        if self.slug:
            self._history_for = (self.slug, code)
            self.run_thread(partial(self._load_history, self.store, self.slug, code),
                            failure="History unavailable", group="history")

    def _plot(self, series: list[tuple[str, float]], target: float | None, unit: str | None) -> None:
        self._chart_args = (series, target, unit)
        box = self.query_one("#trend", Container)
        if not box.children:
            if not self._chart_due:
                self._chart_due = True
                self.call_after_refresh(self._put_chart)
            return
        plot = box.children[0]
        plt = getattr(plot, "plt", None)
        if plt is None:
            return
        plt.clear_data()
        plt.clear_figure()
        if series:
            xs = list(range(1, len(series) + 1))
            ys = [float(v) for _, v in series]
            draw = plt.scatter if len(series) == 1 else plt.plot
            if target is not None:
                plt.plot([0.5, len(series) + 0.5], [float(target)] * 2, marker="─", label="target")
            draw(xs, ys, marker="●", label="value")
            plt.xticks(xs, [p for p, _ in series])
            low = min(ys + ([float(target)] if target is not None else []))
            high = max(ys + ([float(target)] if target is not None else []))
            pad = (high - low) * 0.15 or abs(high) * 0.15 or 1
            plt.ylim(low - pad, high + pad)
            plt.xlim(0.5, len(series) + 0.5)
            plt.title("trend" + (f" and target {fmt_num(target, unit)}" if target is not None else ""))
        else:
            plt.title("no trend to chart")
        plot.refresh()

    async def _put_chart(self) -> None:
        chart = make_plot()
        found = self.query("#trend")
        if chart is None or not found:  # no textual-plotext, or the app is closing
            return
        await found.first(Container).mount(chart)
        self._plot(*self._chart_args)

    # -- revision history ---------------------------------------------------------------------
    def _load_history(self, store: Any, slug: str, code: str) -> None:
        from dat.core.services import history

        revs = history(store, slug, code)["revisions"]
        older = [r for r in revs if not r["current"]]
        if not older:
            text = f"[b]History[/b] {len(revs)} figure(s), none revised."
        else:
            text = "[b]History[/b] " + "; ".join(
                f"{r['period']} rev {r['revision']}: {fmt_num(r['value'])} ({esc(r['origin'] or '')}, "
                f"{r['recorded_at'][:10]})" for r in older[:6])
        self.post_result(HistoryLoaded(slug, code, text))

    @on(HistoryLoaded)
    def _history_loaded(self, event: HistoryLoaded) -> None:
        if (event.slug, event.code) == (self.slug, self.code):
            self._append(event.text)

    def show_failure(self, text: str) -> None:
        """Only the history is loaded here: its failure is a line of the pane (not the status)."""
        if self._history_for == (self.slug, self.code):
            self._append(esc(text))

    def _append(self, text: str) -> None:
        widget = self.query_one("#detail-text", Static)
        widget.update(f"{widget.content}\n{text}")
