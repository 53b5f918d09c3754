"""``dat tui``: the Textual app for officers.

Partnerships (with their sub-areas) in a tree on the left; tabs for Scorecard, Funding,
Actions and Compare on the right; under the scorecard a detail pane with the highlighted
indicator's trend chart against its target, its targets and its revision history.

Everything on screen comes from ``dat.core`` service functions (the same calls as the CLI),
run in worker threads so the screen never blocks; a failure becomes a line in the status bar
and a notification, never a traceback. Row keys are database keys (indicator code, stream and
line, action reference, partnership slug), so a reload keeps the cursor where it was. Long
tables fill a page at a time. Keyboard first: the footer shows the main keys, ``?`` lists
them all and ``ctrl+p`` jumps to any partnership, indicator or report template.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)
from textual.worker import get_current_worker

from dat.cli.tui import keys
from dat.cli.tui.format import (
    arrow,
    bar,
    bench_text,
    fmt_money,
    fmt_num,
    fmt_pct,
    one_line,
    rag_cell,
    rag_word,
    sparkline,
    target_text,
    value_text,
)
from dat.cli.tui.palette import JumpProvider
from dat.cli.tui.screens import HelpScreen, ReportScreen

#: rows added to a table in one go; the rest follow on later ticks so a long table paints at once
PAGE = 100
RAG_FILTERS = [("All RAG", "all"), ("Red", "R"), ("Amber", "A"), ("Green", "G"),
               ("Not rated", "none")]
TABLES = {"scorecard": "#score-table", "funding": "#fund-table", "actions": "#action-table",
          "compare": "#compare-table"}


@dataclass
class State:
    partnership: str | None = None
    period: str | None = None
    rag_filter: str = "all"
    search: str = ""
    indicator: str | None = None
    compare: str | None = None



def _plugin_problems(store: Any) -> list[str]:
    return [f"{p.name}: {p.error or '; '.join(p.problems)}"
            for p in store.host.plugins.values() if p.status != "ok"]

class DatApp(App):
    """Browse scorecards, funding, action plans and comparisons of partnerships."""

    TITLE = "dat"
    SUB_TITLE = "Drug Action Team performance"
    CSS_PATH = "dat.tcss"
    COMMANDS = App.COMMANDS | {JumpProvider}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = keys.BINDINGS

    def __init__(self, db_url: str | None = None, out_dir: str | Path | None = None) -> None:
        super().__init__()
        self.db_url = db_url
        self.out_dir = Path(out_dir) if out_dir else Path.cwd()
        self.store: Any = None
        self.state = State()
        self.partnerships: list[dict] = []
        self.indicators: list[dict] = []
        self.templates: list[dict] = []
        self.problems: list[str] = []
        self.latest: dict[str, bool] = {}  # partnership -> has figures
        self._marks_due = False
        self.card: dict | None = None
        self.figures: dict | None = None
        self.funding_result: dict | None = None
        self.actions_result: dict | None = None
        self.compare_result: dict | None = None
        self.bench: dict[str, str] = {}
        #: what "export to CSV" writes for each tab: (header, rows of plain values)
        self.records: dict[str, tuple[list[str], list[list[Any]]]] = {}
        self._area_nodes: dict[str, Any] = {}
        self._fill_generation: dict[str, int] = {}
        self._tree_timer: Any = None
        # tree moves the app makes itself (to follow a selection) must not select anything,
        # and a selection made after a move wins over it (see _tree_moved)
        self._synced_nodes: set[int] = set()
        self._select_seq = 0

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Label("Partnerships", classes="pane-title")
                yield Tree("Partnerships", id="areas")
            with Vertical(id="right"):
                with Horizontal(id="controls"):
                    yield Select([], prompt="Period", id="period", allow_blank=True)
                    yield Select(RAG_FILTERS, value="all", id="rag", allow_blank=False)
                    yield Input(placeholder="/ search indicators", id="search")
                with TabbedContent(initial="scorecard", id="tabs"):
                    with TabPane("1 Scorecard", id="scorecard"):
                        yield DataTable(id="score-table", cursor_type="row", zebra_stripes=True)
                        with Horizontal(id="detail"):
                            with VerticalScroll(id="detail-scroll"):
                                yield Static("Highlight an indicator to see its trend, targets "
                                             "and history.", id="detail-text")
                            yield self._make_plot()
                    with TabPane("2 Funding", id="funding"):
                        yield DataTable(id="fund-table", cursor_type="row", zebra_stripes=True)
                        yield Static("", id="fund-total")
                    with TabPane("3 Actions", id="actions"):
                        yield DataTable(id="action-table", cursor_type="row", zebra_stripes=True)
                    with TabPane("4 Compare", id="compare"):
                        yield Select([], prompt="Indicator to compare (type to search)",
                                     id="compare-indicator")
                        yield Static("Pick an indicator, or press c on a scorecard row.",
                                     id="compare-title")
                        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="status")
        yield Footer()

    @staticmethod
    def _make_plot():
        try:
            from textual_plotext import PlotextPlot
        except ImportError:  # the chart is optional: the text trend still shows
            return Static("", id="trend")
        return PlotextPlot(id="trend")

    def on_mount(self) -> None:
        tree = self.query_one("#areas", Tree)
        tree.show_root = False
        tree.guide_depth = 2
        score = self.query_one("#score-table", DataTable)
        for label, key in [("RAG", "rag"), ("Indicator", "name"), ("Value", "value"),
                           ("Target", "target"), ("Travel", "travel"), ("vs national", "bench"),
                           ("Trend", "trend"), ("Period", "period"), ("Code", "code")]:
            score.add_column(label, key=key)
        self.query_one("#fund-table", DataTable).add_columns(
            "Stream", "Line", "Amount", "Share", "", "Banked by", "Used for")
        self.query_one("#action-table", DataTable).add_columns(
            "Ref", "Theme", "Action", "Lead", "Due", "Status")
        self.query_one("#compare-table", DataTable).add_columns(
            "Rank", "Partnership", "Value", "95% CI", "vs national", "Target", "RAG", "Travel",
            "Note")
        self.set_status("Opening the database…")
        self.load_everything()

    # -- messages -------------------------------------------------------------------------
    def set_status(self, text: str) -> None:
        """The status line; plugin problems stay on it until they are fixed."""
        if self.problems:
            n = len(self.problems)
            text += f"  [b]{n} plugin{'s' if n > 1 else ''} with problems:[/b] dat plugins"
        self.query_one("#status", Static).update(text)

    def show_error(self, message: str) -> None:
        from rich.text import Text

        self.query_one("#status", Static).update(Text(message, style="bold"))
        self.notify(_esc(message), title="Problem", severity="error", timeout=8)

    def _deliver(self, callback: Callable, *args: Any) -> None:
        """From a worker: hand results to the UI unless the worker was superseded."""
        if not get_current_worker().is_cancelled:
            self.call_from_thread(callback, *args)

    # -- opening ----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="open")
    def load_everything(self) -> None:
        try:
            from dat.core import services

            store = services.Store(self.db_url)
            parts = services.list_partnerships(store)
            inds = services.list_indicators(store)
            # open on the first partnership with figures (a cheap look per partnership; the
            # full map of latest periods, for marking the tree, follows in another worker)
            first = next((p["slug"] for p in parts if services.periods_with_data(store, p["slug"])),
                         None)
            # plugins that failed to load are known now; bad data in a plugin is found when
            # the registry is built, after the first paint (load_marks)
            problems = _plugin_problems(store)
        except Exception as exc:  # shown in the UI, never a traceback
            self._deliver(self.show_error, f"Cannot open the database: {one_line(exc)}")
            return
        self._deliver(self._loaded, store, parts, inds, problems, first)

    def _loaded(self, store, parts, inds, problems, first) -> None:
        self.store, self.partnerships, self.indicators = store, parts, inds
        self.problems = problems
        tree = self.query_one("#areas", Tree)
        tree.clear()
        nodes = self._area_nodes = {}
        for p in parts:
            parent = nodes.get(p["parent"], tree.root)
            label = self._tree_label(p, True)
            if p["sub_areas"]:
                node = parent.add(label, data=p["slug"], expand=True)
            else:
                node = parent.add_leaf(label, data=p["slug"])
            nodes[p["slug"]] = node
        compare = self.query_one("#compare-indicator", Select)
        with compare.prevent(Select.Changed):
            compare.set_options([(f"{i['code']}  {i['name']}"[:90], i["code"]) for i in inds])
        if not parts:
            message = ("The database has no partnerships yet: install a partnership plugin "
                       "or import figures with dat import.")
            self.query_one("#detail-text", Static).update(message)
            self.set_status(message)
            self.notify(_esc(message), severity="warning", timeout=8)
        else:
            self.set_status(f"{len(parts)} partnerships, {len(inds)} indicators. "
                            "Press ? for the keys.")
        if problems:
            text = "Plugins with problems (see dat plugins): " + "; ".join(problems)
            self.notify(_esc(text), title="Plugins", severity="warning", timeout=10)
        if parts:
            wanted = self.state.partnership if self.state.partnership in nodes else (first or parts[0]["slug"])
            self.select_partnership(wanted, self.state.period)
            tree.focus()
            self._marks_due = True  # started once the first scorecard is on screen

    @staticmethod
    def _tree_label(p: dict, has_figures: bool):
        from rich.text import Text

        label = Text(p["name"])
        if p["depth"]:
            label.append(f" {p['area_type']}", style="dim")
        if not has_figures:
            label.stylize("dim")
            label.append(" ·", style="dim")
        return label

    @work(thread=True, exclusive=True, group="marks")
    def load_marks(self) -> None:
        """After the first paint: dim the partnerships that have no figures, and load the
        templates (which builds the plugin registry, finding any plugin's bad data)."""
        try:
            from dat.core import services
            from dat.core.reports import list_templates

            latest = services.has_figures(self.store)
            templates = list_templates(self.store)
            problems = _plugin_problems(self.store)
        except Exception:  # only hints: without them every partnership looks the same
            return
        self._deliver(self._marks_loaded, latest, templates, problems)

    def _marks_loaded(self, latest: dict[str, bool], templates: list[dict],
                      problems: list[str]) -> None:
        self.templates = templates
        if problems != self.problems:
            self.problems = problems
            self.notify(_esc("Plugins with problems (see dat plugins): " + "; ".join(problems)),
                        title="Plugins", severity="warning", timeout=10)
            self.set_status("")
        self.latest = latest
        for p in self.partnerships:
            node = self._area_nodes.get(p["slug"])
            if node is not None and not latest.get(p["slug"]):
                node.set_label(self._tree_label(p, False))

    # -- a partnership ------------------------------------------------------------------------
    def select_partnership(self, slug: str, period: str | None = None) -> None:
        """Show ``slug``'s scorecard (for ``period``, default its latest), funding and actions."""
        if slug != self.state.partnership:
            self.state.indicator = None
        if self._tree_timer is not None:  # an explicit choice wins over a pending tree move
            self._tree_timer.stop()
            self._tree_timer = None
        self._select_seq += 1
        self.state.partnership = slug
        self.sub_title = next((p["name"] for p in self.partnerships if p["slug"] == slug), slug)
        self.query_one("#areas", Tree).call_after_refresh(self._sync_tree_cursor)
        self.set_status(f"Loading {self.sub_title}…")
        self.load_partnership(slug, period)

    @work(thread=True, exclusive=True, group="partnership")
    def load_partnership(self, slug: str, period: str | None) -> None:
        try:
            from dat.core import services
            from dat.core.periods import parse_period

            card = services.scorecard(self.store, slug, period, benchmarks=False)
            # the scorecard paints first (its national benchmarks follow: load_benchmarks); funding, actions and the history follow
            self._deliver(self._scorecard_loaded, slug, card)
            year = str(parse_period(card["period"]).fy) if card["period"] else None
            fund = services.funding(self.store, slug, year)
            if not fund["lines"] and year is not None:
                fund = services.funding(self.store, slug)  # the latest year with funding
            acts = services.actions(self.store, slug)
            figs = services.figures(self.store, slug)
        except Exception as exc:
            self._deliver(self.show_error, f"Cannot load {slug}: {one_line(exc)}")
            return
        self._deliver(self._rest_loaded, slug, fund, acts, figs)

    def _rest_loaded(self, slug, fund, acts, figs) -> None:
        if slug != self.state.partnership:
            return
        self.funding_result, self.actions_result, self.figures = fund, acts, figs
        self.fill_funding()
        self.fill_actions()
        self.fill_scorecard()  # now with sparklines from the history
        if self.state.indicator:
            self.show_detail(self.state.indicator)

    def _scorecard_loaded(self, slug, card) -> None:
        if slug != self.state.partnership:
            return
        self.card, self.figures = card, None
        self.funding_result = self.actions_result = None
        self.state.period = card["period"]
        if self._marks_due:  # after the first paint, not competing with it
            self._marks_due = False
            self.call_after_refresh(self.load_marks)
        self.bench = {}
        sel = self.query_one("#period", Select)
        with sel.prevent(Select.Changed):
            sel.set_options([(p, p) for p in _newest_first(card["periods_available"])])
            if card["period"] in card["periods_available"]:
                sel.value = card["period"]
        self.fill_scorecard()
        if card.get("reason"):
            self.set_status(_esc(f"{self.sub_title}: {card['reason']}."))
        else:
            rags = [r["rag"] for r in card["rows"]]
            self.set_status(
                f"{self.sub_title}, {card['period']}: {len(rags)} figures — "
                f"{rags.count('R')} Red, {rags.count('A')} Amber, {rags.count('G')} Green, "
                f"{rags.count(None)} not rated.")
            codes = [r["code"] for r in card["rows"] if r["value"] is not None]
            if codes:
                self.load_benchmarks(slug, card["period"], codes)
        if not card["rows"]:
            self._clear_detail(card.get("reason") or "No figures.")

    @work(thread=True, exclusive=True, group="bench")
    def load_benchmarks(self, slug: str, period: str, codes: list[str]) -> None:
        """Each numeric figure against the national benchmark (filled in after first paint)."""
        try:
            from dat.core import services

            card = services.scorecard(self.store, slug, period)
        except Exception:  # no benchmark is not an error: the cells stay "–"
            return
        found = {r["code"]: r["vs_benchmark"] for r in card["rows"] if r["code"] in set(codes)}
        self._deliver(self._benchmarks_loaded, slug, period, found)

    def _benchmarks_loaded(self, slug: str, period: str, found: dict[str, str]) -> None:
        if (slug, period) != (self.state.partnership, self.state.period):
            return
        self.bench = found
        table = self.query_one("#score-table", DataTable)
        for code, value in found.items():
            if code in table.rows:
                table.update_cell(code, "bench", bench_text(value))

    # -- tables -----------------------------------------------------------------------------
    def _fill(self, name: str, rows: list[tuple], keys: list[str]) -> None:
        """Replace a table's rows, keeping the cursor on the same key, a page at a time."""
        table = self.query_one(TABLES[name], DataTable)
        keep = None
        if table.row_count and 0 <= table.cursor_row < table.row_count:
            keep = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        generation = self._fill_generation.get(name, 0) + 1
        self._fill_generation[name] = generation
        table.clear()

        def add_page(start: int) -> None:
            if self._fill_generation.get(name) != generation:
                return  # a newer fill replaced this one
            for row, key in zip(rows[start:start + PAGE], keys[start:start + PAGE]):
                table.add_row(*row, key=key)
            if keep is not None and keep in keys[start:start + PAGE]:
                table.move_cursor(row=table.get_row_index(keep), animate=False)
            if start + PAGE < len(rows):
                self.call_later(add_page, start + PAGE)

        add_page(0)

    def _visible_rows(self) -> list[dict]:
        rows = (self.card or {}).get("rows", [])
        wanted, query = self.state.rag_filter, self.state.search.strip().lower()
        if wanted == "none":
            rows = [r for r in rows if not r["rag"]]
        elif wanted != "all":
            rows = [r for r in rows if r["rag"] == wanted]
        if query:
            rows = [r for r in rows if query in r["code"].lower() or query in r["name"].lower()]
        return rows

    def fill_scorecard(self) -> None:
        rows = self._visible_rows()
        figs = (self.figures or {}).get("figures", {})
        self._fill("scorecard", [(
            rag_cell(r["rag"]), _clip(r["name"], 34), _right(value_text(r)), target_text(r),
            arrow(r["direction"]), bench_text(self.bench.get(r["code"])),
            sparkline([v["value"] for v in figs.get(r["code"], {}).values()]), r["period"], r["code"],
        ) for r in rows], [r["code"] for r in rows])
        self.records["scorecard"] = (
            ["code", "name", "period", "value", "text", "target", "target_kind", "rag",
             "rag_basis", "direction", "vs_benchmark"],
            [[r["code"], r["name"], r["period"], r["value"], r["text"], r["target"],
              r["target_kind"], r["rag"], r["rag_basis"], r["direction"],
              self.bench.get(r["code"])] for r in rows])
        if self.card is not None and not rows:
            self._clear_detail("No figures match the filter." if self.card.get("rows")
                               else (self.card.get("reason") or "No figures."))

    def fill_funding(self) -> None:
        fund = self.funding_result or {"lines": [], "total": None}
        lines = fund["lines"]
        top = max((l["amount"] for l in lines if l["amount"] is not None), default=None)
        keys = []
        for l in lines:
            key = f"{l['stream']}|{l['line']}"
            keys.append(key if key not in keys else f"{key}|{len(keys)}")
        self._fill("funding", [(
            l["stream_name"], l["line"] or "", _right(fmt_money(l["amount"])), _right(fmt_pct(l["share"])),
            bar(l["amount"], top), l["banked_by"] or "", (l["used_for"] or "")[:50],
        ) for l in lines], keys)
        self.records["funding"] = (
            ["year", "stream", "stream_name", "line", "amount", "share", "banked_by", "used_for"],
            [[fund.get("year"), l["stream"], l["stream_name"], l["line"], l["amount"],
              l["share"], l["banked_by"], l["used_for"]] for l in lines])
        if fund.get("total") is not None:
            text = f"Total {fund['year']}: [b]{fmt_money(fund['total'])}[/b]"
            if fund.get("change_pct") is not None:
                text += f"   change on {fund['previous_year']}: {fund['change_pct']:+.1f}%"
            if fund.get("cost_per_person") is not None:
                text += f"   per person in effective treatment: {fmt_money(fund['cost_per_person'])}"
            if self.card and self.card.get("period") and fund["year"] and \
                    not self.card["period"].startswith(fund["year"]):
                text += f"\n(no funding recorded for {self.card['period'][:7]}: latest year shown)"
        else:
            text = (fund.get("reason") or "No amounts stated.").capitalize() + "."
        self.query_one("#fund-total", Static).update(text)

    def fill_actions(self) -> None:
        acts = (self.actions_result or {}).get("actions", [])
        self._fill("actions", [(
            a["ref"], a["theme"] or "", a["action"][:60], (a["lead"] or "")[:30], a["due"] or "",
            a["status"] or "",
        ) for a in acts], [a["ref"] for a in acts])
        self.records["actions"] = (
            ["ref", "theme", "action", "lead", "due", "status", "target_text", "outcome"],
            [[a["ref"], a["theme"], a["action"], a["lead"], a["due"], a["status"],
              a["target_text"], a["outcome"]] for a in acts])

    # -- detail pane ------------------------------------------------------------------------------
    def _clear_detail(self, message: str) -> None:
        self.query_one("#detail-text", Static).update(message)
        self._plot([], None, None)

    @on(DataTable.RowHighlighted, "#score-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self.show_detail(event.row_key.value)

    def show_detail(self, code: str) -> None:
        row = next((r for r in (self.card or {}).get("rows", []) if r["code"] == code), None)
        if row is None:
            return
        self.state.indicator = code
        unit = row["unit"]
        figs = (self.figures or {}).get("figures", {}).get(code, {})
        targets = (self.figures or {}).get("targets", {}).get(code, [])
        better = {"higher": "higher is better", "lower": "lower is better"}.get(
            row["polarity"], "no better or worse")
        lines = [f"[b]{code}[/b] {_esc(row['name'])}",
                 f"{unit}, {better}, {row['framework']}",
                 f"{row['period']}: [b]{_esc(value_text(row)) or '–'}[/b]   "
                 f"target {_esc(target_text(row)) or 'none'}   "
                 f"[b]{rag_word(row['rag'])}[/b] ({row['rag_basis']}: {_esc(row['rag_reason'] or '')})"]
        if targets:
            lines.append("[b]Targets[/b]")
            for t in targets:
                what = fmt_num(t["value"], unit) if t["value"] is not None else (t["text"] or "")
                label = f" — {t['label']}" if t.get("label") else ""
                lines.append(f"  {t['period']} {t['kind']}: {_esc(what)}{_esc(label)}")
        series = [(p, v["value"]) for p, v in figs.items() if v["value"] is not None]
        if series:
            lines.append("[b]Trend[/b] " + "  ".join(f"{p} {fmt_num(v, unit)}" for p, v in series)
                         + f"  {sparkline([v for _, v in series])}")
        if row.get("commentary"):
            lines.append(f"[b]Note[/b] {_esc(row['commentary'])}")
        lines.append(f"Source {_esc(row.get('source') or '–')}, revision {row.get('revision')}")
        self.query_one("#detail-text", Static).update("\n".join(lines))
        target = next((t["value"] for t in targets if t["value"] is not None), None)
        self._plot(series, target, unit)
        if self.state.partnership:
            self.load_history(self.state.partnership, code)

    def _plot(self, series: list[tuple[str, float]], target: float | None, unit: str | None) -> None:
        plot = self.query_one("#trend")
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

    @work(thread=True, exclusive=True, group="history")
    def load_history(self, slug: str, code: str) -> None:
        try:
            from dat.core.importer import history

            found = history(self.store, slug, code)
        except Exception as exc:
            self._deliver(self._history_loaded, slug, code, f"History unavailable: {one_line(exc)}")
            return
        revs = found["revisions"]
        older = [r for r in revs if not r["current"]]
        if not older:
            text = f"[b]History[/b] {len(revs)} figure(s), none revised."
        else:
            text = "[b]History[/b] " + "; ".join(
                f"{r['period']} rev {r['revision']}: {fmt_num(r['value'])} ({_esc(r['origin'] or '')}, "
                f"{r['recorded_at'][:10]})" for r in older[:6])
        self._deliver(self._history_loaded, slug, code, text)

    def _history_loaded(self, slug: str, code: str, text: str) -> None:
        if (slug, code) != (self.state.partnership, self.state.indicator):
            return
        widget = self.query_one("#detail-text", Static)
        widget.update(f"{widget.content}\n{text}")

    # -- compare ------------------------------------------------------------------------------------
    @on(Select.Changed, "#compare-indicator")
    def _compare_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.state.compare:
            self.state.compare = event.value
            self.load_compare(event.value)

    def compare_indicator(self, code: str) -> None:
        """Rank every partnership on ``code`` (the Compare tab)."""
        self.query_one("#tabs", TabbedContent).active = "compare"
        self.state.compare = code
        sel = self.query_one("#compare-indicator", Select)
        with sel.prevent(Select.Changed):
            sel.value = code
        self.query_one("#compare-table", DataTable).focus()
        self.load_compare(code)

    @work(thread=True, exclusive=True, group="compare")
    def load_compare(self, code: str) -> None:
        try:
            from dat.core import services

            result = services.compare(self.store, code)
        except Exception as exc:
            self._deliver(self.show_error, f"Cannot compare {code}: {one_line(exc)}")
            return
        self._deliver(self._compare_loaded, result)

    def _compare_loaded(self, result: dict) -> None:
        ind = result["indicator"]
        if ind["code"] != self.state.compare:
            return
        self.compare_result = result
        unit = ind["unit"]
        rows = result["rows"]

        def ci(r: dict) -> str:
            if r["ci_low"] is None or r["ci_high"] is None:
                return ""
            return f"{fmt_num(round(r['ci_low'], 1), unit)}–{fmt_num(round(r['ci_high'], 1), unit)}"

        self._fill("compare", [(
            _right(str(r["rank"] or "–")), r["name"], _right(fmt_num(r["value"], unit)), ci(r),
            bench_text(r["vs_benchmark"]), _right(fmt_num(r["target"], unit)), rag_cell(r["rag"]),
            arrow(r["direction"]), r["reason"] or "",
        ) for r in rows], [r["partnership"] for r in rows])
        self.records["compare"] = (
            ["indicator", "period", "rank", "partnership", "value", "ci_low", "ci_high",
             "vs_benchmark", "target", "rag", "direction", "reason"],
            [[ind["code"], result["period"], r["rank"], r["partnership"], r["value"], r["ci_low"],
              r["ci_high"], r["vs_benchmark"], r["target"], r["rag"], r["direction"], r["reason"]]
             for r in rows])
        bench = result.get("benchmark") or {}
        if result.get("reason"):
            title = f"{ind['code']} {_esc(ind['name'])}: {result['reason']}."
        else:
            title = (f"[b]{ind['code']}[/b] {_esc(ind['name'])}, {result['period']}: ranked best "
                     f"first; national {fmt_num(bench.get('value'), unit) or '–'} "
                     f"({_esc(bench.get('basis') or 'no benchmark')})")
        self.query_one("#compare-title", Static).update(title)
        ranked = sum(1 for r in rows if r["rank"])
        self.set_status(f"{ind['code']} across partnerships: {ranked} of {len(rows)} ranked.")

    # -- controls ---------------------------------------------------------------------------------
    def _sync_tree_cursor(self) -> None:
        """Put the tree's cursor on the partnership on show (after the tree has laid out)."""
        found = self.query("#areas")
        if not found:  # the app is closing
            return
        tree = found.first(Tree)
        node = self._area_nodes.get(self.state.partnership or "")
        if node is not None and tree.cursor_node is not node:
            self._synced_nodes.add(id(node))  # its NodeHighlighted is ours, not the user's
            tree.move_cursor(node, animate=False)

    @on(Tree.NodeSelected, "#areas")
    def _tree_selected(self, event: Tree.NodeSelected) -> None:
        slug = event.node.data
        if slug and slug != self.state.partnership:
            self.select_partnership(slug)

    @on(Tree.NodeHighlighted, "#areas")
    def _tree_moved(self, event: Tree.NodeHighlighted) -> None:
        """Moving through the tree opens each partnership once the cursor rests a moment."""
        if self._tree_timer is not None:
            self._tree_timer.stop()
            self._tree_timer = None
        if id(event.node) in self._synced_nodes:  # the app followed a selection: nothing to do
            self._synced_nodes.discard(id(event.node))
            return
        seq = self._select_seq
        self._tree_timer = self.set_timer(0.25, lambda: self._tree_settled(seq))

    def _tree_settled(self, seq: int | None = None) -> None:
        if seq is not None and seq != self._select_seq:
            return  # something else was selected since the cursor moved
        found = self.query("#areas")
        if not found:  # the timer fired while the app was closing
            return
        tree = found.first(Tree)
        node = tree.cursor_node
        if tree.has_focus and node is not None and node.data and node.data != self.state.partnership:
            self.select_partnership(node.data)

    @on(Select.Changed, "#period")
    def _period_changed(self, event: Select.Changed) -> None:
        if self.state.partnership and isinstance(event.value, str) and event.value != self.state.period:
            self.state.period = event.value
            self.set_status(f"Loading {self.sub_title}, {event.value}…")
            self.load_partnership(self.state.partnership, event.value)
            self._focus_current_table()

    @on(Select.Changed, "#rag")
    def _rag_changed(self, event: Select.Changed) -> None:
        self.state.rag_filter = str(event.value)
        self.fill_scorecard()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.state.search = event.value
        self.fill_scorecard()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "scorecard"
        self.query_one("#score-table", DataTable).focus()

    def show_indicator(self, code: str) -> None:
        """Put the scorecard cursor on ``code`` (clearing filters that hide it)."""
        self.query_one("#tabs", TabbedContent).active = "scorecard"
        table = self.query_one("#score-table", DataTable)
        if code not in table.rows:
            self.query_one("#rag", Select).value = "all"
            self.query_one("#search", Input).value = ""
            self.state.rag_filter, self.state.search = "all", ""
            self.fill_scorecard()
        if code in table.rows:
            table.move_cursor(row=table.get_row_index(code))
            table.focus()
            self.show_detail(code)

    # -- actions (key bindings) ---------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def _focus_current_table(self) -> None:
        """After choosing a period, back to the table of the tab on show."""
        tab = self.query_one("#tabs", TabbedContent).active
        self.query_one(TABLES.get(tab, "#score-table"), DataTable).focus()

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        self.query_one(TABLES[tab], DataTable).focus()

    def action_focus_tree(self) -> None:
        self.query_one("#areas", Tree).focus()

    def action_focus_period(self) -> None:
        self.query_one("#period", Select).focus()

    def action_focus_search(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "scorecard"
        self.query_one("#search", Input).focus()

    def action_cycle_rag(self) -> None:
        order = [value for _, value in RAG_FILTERS]
        self.query_one("#rag", Select).value = order[(order.index(self.state.rag_filter) + 1) % len(order)]

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme != "textual-light" else "textual-dark"
        self.set_status(f"Theme: {self.theme}.")

    def action_compare_current(self) -> None:
        code = self.state.indicator or self.state.compare
        if code is None:
            self.action_tab("compare")
            self.query_one("#compare-indicator", Select).focus()
            return
        self.compare_indicator(code)

    def action_reload(self) -> None:
        if self.store is None:
            self.set_status("Opening the database…")
            self.load_everything()
            return
        if self.state.partnership:
            self.set_status(f"Reloading {self.sub_title}…")
            self.load_partnership(self.state.partnership, self.state.period)
        if self.state.compare:
            self.load_compare(self.state.compare)

    def action_report(self) -> None:
        if not self.state.partnership or self.store is None:
            self.notify("Choose a partnership first.", severity="warning")
            return
        templates = [t for t in self.templates if t["partnership"] in (None, self.state.partnership)]

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer:
                self._render(answer[0], self.state.partnership, self.state.period, Path(answer[1]))

        self.push_screen(ReportScreen(self.state.partnership, self.state.period, templates,
                                      self.out_dir), chosen)

    def render_report(self, template: str) -> None:
        """Render ``template`` for the current partnership and period to the output folder."""
        if not self.state.partnership or self.store is None:
            self.notify("Choose a partnership first.", severity="warning")
            return
        period = (self.state.period or "latest").replace("/", "-").replace(" ", "_")
        path = self.out_dir / f"{self.state.partnership}-{template}-{period}.md"
        self._render(template, self.state.partnership, self.state.period, path)

    @work(thread=True, group="report")
    def _render(self, template: str, slug: str, period: str | None, path: Path) -> None:
        if not path.is_absolute():
            path = self.out_dir / path
        try:
            from dat.core.reports import write_report

            write_report(self.store, slug, path, template, period=period)
        except Exception as exc:
            self.call_from_thread(self.show_error, f"Report not written: {one_line(exc)}")
            return
        self.call_from_thread(self._told, f"Report written to {path}")

    def _told(self, message: str) -> None:
        self.set_status(_esc(message))
        self.notify(_esc(message))

    def action_export_table(self) -> None:
        tab = self.query_one("#tabs", TabbedContent).active
        header, rows = self.records.get(tab, ([], []))
        if not rows:
            self.notify("Nothing to export: the table is empty.", severity="warning")
            return
        name = self.state.compare if tab == "compare" else (self.state.partnership or "all")
        period = ""
        if tab == "scorecard" and self.state.period:
            period = "-" + self.state.period.replace("/", "-").replace(" ", "_")
        path = self.out_dir / f"{name}-{tab}{period}.csv"
        try:
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows([["" if v is None else v for v in row] for row in rows])
        except OSError as exc:
            self.show_error(f"Export failed: {exc.strerror or exc} ({path})")
            return
        self._told(f"Exported {len(rows)} rows to {path}")


def _newest_first(periods: list[str]) -> list[str]:
    """Latest first, a whole year before its quarters (so typing ``2009/10`` finds the year)."""
    from dat.core.periods import parse_period

    def key(text: str) -> tuple:
        p = parse_period(text)
        return (-p.fy.start.toordinal(), p.kind != "year", -p.start.toordinal(), -p.end.toordinal())

    return sorted(periods, key=key)


def _right(text: str):
    from rich.text import Text

    return Text(text, justify="right")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _esc(text: str) -> str:
    """Escape Textual markup in data (names may contain square brackets)."""
    from textual.markup import escape

    return escape(str(text))


def run(db_url: str | None = None, out_dir: str | Path | None = None) -> None:
    DatApp(db_url, out_dir=out_dir).run()
