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

Each pane (:mod:`dat.cli.tui.widgets`) owns its state and workers and posts the messages of
:mod:`dat.cli.tui.messages`; the App composes the panes, routes their messages and keeps what
is app-wide: the database, the partnership and period on show, the output folder, the lists.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, Select, Static, TabbedContent
from textual.worker import Worker, WorkerState

from dat.cli.tui import keys
from dat.cli.tui.format import esc, file_name
from dat.cli.tui.messages import (
    CompareLoaded,
    DatabaseOpened,
    FiguresLoaded,
    IndicatorHighlighted,
    MarksLoaded,
    NothingHighlighted,
    PartnershipChosen,
    ReportWritten,
    ScorecardLoaded,
    WorkFailed,
)
from dat.cli.tui.palette import JumpProvider
from dat.cli.tui.screens import ConfirmScreen, HelpScreen, ReportScreen
from dat.cli.tui.widgets.actions import ActionsTab
from dat.cli.tui.widgets.areas import AreasPane
from dat.cli.tui.widgets.compare import CompareTab
from dat.cli.tui.widgets.detail import DetailPane
from dat.cli.tui.widgets.funding import FundingTab
from dat.cli.tui.widgets.pickers import Picker
from dat.cli.tui.widgets.scorecard import RAG_FILTERS, ScorecardTab
from dat.cli.tui.widgets.table import DataTab, FilterChanged, SortFilterTab
from dat.cli.tui.workers import WorkerFailures, describe

if TYPE_CHECKING:
    from dat.core.services.types import IndicatorInfo, PartnershipRow

#: the tabs, by the id TabbedContent.active names them with
TABS = ("scorecard", "funding", "actions", "compare")
#: the filter box's hint on each tab (each tab keeps its own filter)
SEARCH_HINT = {"scorecard": "/ filter indicators (code or name)", "funding": "/ filter funding lines",
               "actions": "/ filter actions", "compare": "/ filter partnerships"}


@dataclass
class State:
    """What is on show: the partnership and the scorecard's period."""

    partnership: str | None = None
    period: str | None = None


def _plugin_problems(store: Any) -> list[str]:
    return [f"{p.name}: {p.error or '; '.join(p.problems)}"
            for p in store.host.plugins.values() if p.status != "ok"]


class DatApp(WorkerFailures, App, inherit_bindings=False):
    """Browse scorecards, funding, action plans and comparisons of partnerships.

    Every binding is one of :data:`dat.cli.tui.keys.KEYS` (Textual's own App bindings, ctrl+q
    and ctrl+c's "press ctrl+q to quit" notice, are replaced by ours, not inherited)."""

    TITLE = "dat"
    SUB_TITLE = "Drug Action Team performance"
    CSS_PATH = "dat.tcss"
    COMMANDS = App.COMMANDS | {JumpProvider}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-tiny"), (20, "-short"), (32, "-tall")]
    BINDINGS = keys.BINDINGS

    def __init__(self, db_url: str | None = None, out_dir: str | Path | None = None) -> None:
        super().__init__()
        self.db_url = db_url
        # absolute, so every message and question names the whole path
        self.out_dir = Path(os.path.abspath(out_dir)) if out_dir else Path.cwd()
        self.store: Any = None
        self.state = State()
        self.partnerships: list[PartnershipRow] = []
        self.indicators: list[IndicatorInfo] = []
        self.templates: list[dict] = []
        self.problems: list[str] = []
        self._marks_due = False
        self._first_open = True

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield AreasPane(id="left")
            with Vertical(id="right"):
                with Horizontal(id="controls"):
                    yield Picker([], prompt="Period", id="period", allow_blank=True)
                    yield Picker(RAG_FILTERS, value="all", id="rag", allow_blank=False)
                    yield Input(placeholder=SEARCH_HINT["scorecard"], id="search")
                with TabbedContent(initial="scorecard", id="tabs"):
                    yield ScorecardTab()
                    yield FundingTab()
                    yield ActionsTab()
                    yield CompareTab()
        yield Static("", id="status")
        yield Footer()

    @property
    def areas(self) -> AreasPane:
        return self.query_one(AreasPane)

    @property
    def scorecard(self) -> ScorecardTab:
        return self.query_one(ScorecardTab)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def compare_tab(self) -> CompareTab:
        return self.query_one(CompareTab)

    def _tab(self, tab: str) -> DataTab:
        return self.query_one(f"#{tab if tab in TABS else 'scorecard'}", DataTab)

    def on_resize(self, event: events.Resize) -> None:
        self.areas.fit_width(event.size.width)

    def on_mount(self) -> None:
        self.set_status("Opening the database…")
        self.open_database()

    # -- the status line ----------------------------------------------------------------------
    def set_status(self, text: str) -> None:
        """The status line; plugin problems stay on it until they are fixed."""
        if self.problems:
            n = len(self.problems)
            text += f"  [b]{n} plugin{'s' if n > 1 else ''} with problems:[/b] dat plugins"
        self.query_one("#status", Static).update(text)

    def show_error(self, message: str) -> None:
        self._status_error(message)
        self.notify(esc(message), title="Problem", severity="error", timeout=8)

    def _status_error(self, message: str) -> None:
        from rich.text import Text

        self.query_one("#status", Static).update(Text(message, style="bold"))

    @on(WorkFailed)
    def _work_failed(self, event: WorkFailed) -> None:
        self._status_error(event.text)  # the notification is WorkerFailures' already

    def _told(self, message: str) -> None:
        self.set_status(esc(message))
        self.notify(esc(message))

    # -- opening ----------------------------------------------------------------------------
    def open_database(self) -> None:
        self.run_thread(self._open, failure="Cannot open the database", group="open")

    def _open(self) -> None:
        from dat.core import services

        if self.store is not None:  # F5: open afresh, never recreating a file that went away
            self._reopen_check(self.store)
        store = services.Store(self.db_url)
        parts = services.list_partnerships(store)
        inds = services.list_indicators(store)
        # open on the first partnership with figures (a cheap look per partnership; the full
        # map of latest periods, for marking the tree, follows in another worker)
        first = next((p["slug"] for p in parts if services.periods_with_data(store, p["slug"])), None)
        # plugins that failed to load are known now; bad data in a plugin is found when the
        # registry is built, after the first paint (load_marks)
        self.post_result(DatabaseOpened(store, parts, inds, _plugin_problems(store), first))

    @on(DatabaseOpened)
    def _opened(self, event: DatabaseOpened) -> None:
        parts, inds = event.partnerships, event.indicators
        self.store, self.partnerships, self.indicators = event.store, parts, inds
        self.problems = event.problems
        areas = self.areas
        areas.show_partnerships(parts)
        self.compare_tab.set_indicators(event.store, inds)
        if not parts:
            message = ("The database has no partnerships yet: install a partnership plugin "
                       "or import figures with dat import.")
            self.detail.say(message)
            self.set_status(message)
            self.notify(esc(message), severity="warning", timeout=8)
        else:
            self.set_status(f"{len(parts)} partnerships, {len(inds)} indicators. "
                            "Press ? for the keys.")
        if event.problems:
            text = "Plugins with problems (see dat plugins): " + "; ".join(event.problems)
            self.notify(esc(text), title="Plugins", severity="warning", timeout=10)
        if parts:
            wanted = (self.state.partnership if self.state.partnership in areas.nodes
                      else (event.first or parts[0]["slug"]))
            self.select_partnership(wanted, self.state.period)
            if self._first_open:
                areas.focus_tree()
            self._marks_due = True  # started once the first scorecard is on screen
        self._first_open = False
        self.compare_tab.reload()

    @staticmethod
    def _reopen_check(old: Any) -> None:
        """Before F5 reopens the database: drop the old connections (an SQLite file deleted
        under them would still be read through them) and refuse to create an SQLite file that
        went away (a new empty file is not the database that was on show)."""
        from dat.core.db import get_engine

        old.engine.dispose()
        get_engine(old.url, must_exist=True)

    @on(Worker.StateChanged)
    def _open_failed(self, event: Worker.StateChanged) -> None:
        """The database could not be opened (or reopened): no pane keeps stale data, each says
        why it is empty. (The mixin's handler shows the error itself.)"""
        worker = event.worker
        if worker.group == "open" and event.state is WorkerState.ERROR and not worker.is_cancelled:
            self.clear_panes(f"{worker.name}: {describe(worker.error)}" if worker.error
                             else str(worker.name))

    def clear_panes(self, reason: str) -> None:
        """Nothing can be shown: empty the tree and every tab, and say ``reason`` in each."""
        text = f"{reason}. Fix it and press F5."
        self.store, self.partnerships = None, []
        self.areas.show_partnerships([])
        self.sub_title = "no database"
        period = self.query_one("#period", Select)
        with period.prevent(Select.Changed):
            period.set_options([])
        self.compare_tab.set_indicators(None, self.indicators)
        for tab in TABS:
            self._tab(tab).say_empty(text)
        self.detail.forget()
        self.detail.clear(text)

    def load_marks(self) -> None:
        """After the first paint: dim the partnerships that have no figures, and load the
        templates (which builds the plugin registry, finding any plugin's bad data)."""
        self.run_thread(self._load_marks, failure="Cannot mark the partnerships", group="marks")

    def _load_marks(self) -> None:
        try:
            from dat.core import services
            from dat.core.reports import list_templates

            latest = services.has_figures(self.store)
            templates = list_templates(self.store)
            problems = _plugin_problems(self.store)
        except Exception:  # only hints: without them every partnership looks the same
            return
        self.post_result(MarksLoaded(latest, templates, problems))

    @on(MarksLoaded)
    def _marks_loaded(self, event: MarksLoaded) -> None:
        self.templates = event.templates
        if event.problems != self.problems:
            self.problems = event.problems
            self.notify(esc("Plugins with problems (see dat plugins): " + "; ".join(event.problems)),
                        title="Plugins", severity="warning", timeout=10)
            self.set_status("")
        self.areas.mark(event.latest)

    # -- a partnership ------------------------------------------------------------------------
    def select_partnership(self, slug: str, period: str | None = None) -> None:
        """Show ``slug``'s scorecard (for ``period``, default its latest), funding and actions."""
        if self.store is None:
            self.show_error("No database is open: fix it and press F5.")
            return
        if slug != self.state.partnership:
            self.detail.forget()
        self.areas.follow(slug)
        self.state.partnership = slug
        self.sub_title = next((p["name"] for p in self.partnerships if p["slug"] == slug), slug)
        self.set_status(f"Loading {self.sub_title}…")
        self.scorecard.load(self.store, slug, period)

    def open_partnership(self, slug: str, period: str | None = None) -> None:
        """A jump to ``slug`` (the tree's enter, the palette): its scorecard, with the focus in
        the scorecard table, so the next arrow key moves through its figures."""
        if slug != self.state.partnership or period is not None:
            self.select_partnership(slug, period)
        self.action_tab("scorecard")

    @on(PartnershipChosen)
    def _partnership_chosen(self, event: PartnershipChosen) -> None:
        self.open_partnership(event.slug)

    @on(ScorecardLoaded)
    def _scorecard_loaded(self, event: ScorecardLoaded) -> None:
        """The scorecard is on show: its period, and the funding and actions to go with it."""
        if event.slug != self.state.partnership:
            return
        card, slug = event.card, event.slug
        self.state.period = event.period
        if self._marks_due:  # after the first paint, not competing with it
            self._marks_due = False
            self.call_after_refresh(self.load_marks)
        sel = self.query_one("#period", Select)
        with sel.prevent(Select.Changed):
            sel.set_options([(p, p) for p in _newest_first(card["periods_available"])])
            if card["period"] in card["periods_available"]:
                sel.value = card["period"]
        self.detail.set_card(self.store, slug, card)
        self.query_one(FundingTab).load(self.store, slug, event.period)
        self.query_one(ActionsTab).load(self.store, slug)
        if card.get("reason"):
            self.set_status(esc(f"{self.sub_title}: {card['reason']}."))
        else:
            rags = [r["rag"] for r in card["rows"]]
            # with a filter on: "3 of 40 figures shown · filter: Red (x clears)", never "40 figures"
            shown = self.scorecard.shown_line() or f"{len(rags)} figures"
            self.set_status(
                f"{self.sub_title}, {card['period']}: {esc(shown)} — "
                f"{rags.count('R')} Red, {rags.count('A')} Amber, {rags.count('G')} Green, "
                f"{rags.count(None)} not rated.")

    @on(FiguresLoaded)
    def _figures_loaded(self, event: FiguresLoaded) -> None:
        if event.slug == self.state.partnership:
            self.detail.set_figures(event.figures)

    @on(IndicatorHighlighted)
    def _indicator_highlighted(self, event: IndicatorHighlighted) -> None:
        self.detail.show(event.code)

    @on(NothingHighlighted)
    def _nothing_highlighted(self, event: NothingHighlighted) -> None:
        self.detail.clear(event.reason)

    def show_indicator(self, code: str) -> None:
        """Put the scorecard cursor on ``code`` (clearing filters that hide it)."""
        self.query_one("#tabs", TabbedContent).active = "scorecard"
        scorecard = self.scorecard
        if code not in scorecard.table.rows:
            scorecard.clear_filters()
            self._sync_filter_controls()
        if scorecard.move_to(code):
            self.detail.show(code)

    # -- compare ------------------------------------------------------------------------------------
    def compare_indicator(self, code: str) -> None:
        """Rank every partnership on ``code`` (the Compare tab, its table focused)."""
        self.query_one("#tabs", TabbedContent).active = "compare"
        self.compare_tab.compare(code)
        self.compare_tab.table.focus()

    @on(CompareLoaded)
    def _compare_loaded(self, event: CompareLoaded) -> None:
        rows = event.result["rows"]
        ranked = sum(1 for r in rows if r["rank"])
        self.set_status(f"{event.code} across partnerships: {ranked} of {len(rows)} ranked.")

    # -- controls ---------------------------------------------------------------------------------
    @on(Select.Changed, "#period")
    def _period_changed(self, event: Select.Changed) -> None:
        if self.state.partnership and isinstance(event.value, str) and event.value != self.state.period:
            self.state.period = event.value
            self.set_status(f"Loading {self.sub_title}, {event.value}…")
            self.scorecard.load(self.store, self.state.partnership, event.value)
            self._focus_current_table()

    @on(Picker.Picked, "#period, #rag")
    def _picked(self) -> None:
        """A period or RAG filter picked: back to the table, whose figures it chose."""
        self._focus_current_table()

    @on(Select.Changed, "#rag")
    def _rag_changed(self, event: Select.Changed) -> None:
        self.scorecard.set_filter(rag=str(event.value))

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._current_tab().set_text_filter(event.value)

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.screen.set_focus(self._current_tab().table)

    # -- sort, filter, copy (every tab) ----------------------------------------------------------
    def _current_tab(self) -> SortFilterTab:
        tab = self._tab(self.query_one("#tabs", TabbedContent).active)
        assert isinstance(tab, SortFilterTab)
        return tab

    def _sync_filter_controls(self) -> None:
        """The filter box and the RAG select show the filters of the tab on show."""
        tab = self._current_tab()
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = tab.view.text
        search.placeholder = SEARCH_HINT.get(tab.id or "", "/ filter")
        rag = self.query_one("#rag", Select)
        with rag.prevent(Select.Changed):
            rag.value = self.scorecard.rag_filter

    @on(TabbedContent.TabActivated, "#tabs")
    def _tab_activated(self) -> None:
        """A tab chosen with the mouse (the keys sync at once, in action_tab). This message can
        arrive after keys typed since: never overwrite the box while the user is typing in it."""
        if self.focused is not self.query_one("#search", Input):
            self._sync_filter_controls()

    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        if event.tab == self.query_one("#tabs", TabbedContent).active:
            name = "" if event.tab == "scorecard" else f" {event.tab}"
            self.set_status(esc(f"{self.sub_title}{name}: {event.summary}"))

    def action_clear_filters(self) -> None:
        self._current_tab().clear_filters()
        self._sync_filter_controls()

    def action_sort(self, reverse: bool = False) -> None:
        tab = self._current_tab()
        if reverse:
            tab.reverse_sort()
        else:
            tab.cycle_sort()

    def action_copy(self, what: str = "row") -> None:
        """Copy the highlighted row (``what`` "row") or one cell ("cell") of the table on show:
        to the clipboard (OSC 52) and to ``dat-clipboard.txt`` in the output folder, for
        terminals that do not pass OSC 52 on."""
        found = self._current_tab().copy_text(what)
        if found is None:
            self.notify("Nothing to copy: the table is empty.", severity="warning")
            return
        text, label = found
        self.copy_to_clipboard(text)
        path = self.out_dir / "dat-clipboard.txt"
        from dat.core.errors import DatError
        from dat.core.files import write_text

        try:
            write_text(path, text + "\n", force=True)
        except (OSError, DatError) as exc:
            self.set_status(esc(f"Copied {label} to the clipboard (not to {path}: {exc})"))
            return
        self.set_status(esc(f"Copied {label}: {text[:60]}{'…' if len(text) > 60 else ''} "
                            f"(also in {path})"))

    # -- actions (key bindings) ---------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def _focus_current_table(self) -> None:
        """After choosing a period, back to the table of the tab on show."""
        self._tab(self.query_one("#tabs", TabbedContent).active).table.focus()

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        self._sync_filter_controls()
        self._tab(tab).table.focus()

    def action_step_tab(self, step: int) -> None:
        """``[`` and ``]``: the previous or next tab (round the end), its table focused."""
        now = self.query_one("#tabs", TabbedContent).active
        at = TABS.index(now) if now in TABS else 0
        self.action_tab(TABS[(at + step) % len(TABS)])

    def action_focus_tree(self) -> None:
        self.areas.focus_tree()

    def action_focus_period(self) -> None:
        self.query_one("#period", Select).focus()

    def action_focus_search(self) -> None:
        """The filter box, for the tab on show (each tab keeps its own filter)."""
        self._sync_filter_controls()
        # at once, not after the messages already queued (Widget.focus is deferred): the text
        # typed straight after "/" must land in the box, not fire the letters' commands
        self.screen.set_focus(self.query_one("#search", Input))

    def action_cycle_rag(self) -> None:
        """The RAG filter is the scorecard's: from another tab, ``f`` goes there too."""
        tabs = self.query_one("#tabs", TabbedContent)
        if tabs.active != "scorecard":
            self.action_tab("scorecard")
        order = [value for _, value in RAG_FILTERS]
        now = order.index(self.scorecard.rag_filter)
        self.query_one("#rag", Select).value = order[(now + 1) % len(order)]

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme != "textual-light" else "textual-dark"
        self.set_status(f"Theme: {self.theme}.")

    def action_compare_current(self) -> None:
        code = self.detail.code or self.compare_tab.code
        if code is None:
            self.action_tab("compare")
            self.query_one("#compare-indicator", Select).focus()
            return
        self.compare_indicator(code)

    def action_reload(self) -> None:
        """F5: reopen the database (its errors show, and no pane keeps stale data), then the
        partnership, period and comparison on show again, the cursors on the same rows."""
        self.set_status("Reopening the database…")
        self.open_database()

    def action_report(self) -> None:
        if not self.state.partnership or self.store is None:
            self.notify("Choose a partnership first.", severity="warning")
            return
        slug = self.state.partnership
        templates = [t for t in self.templates if t["partnership"] in (None, slug)]

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer:
                self._render(answer[0], slug, self.state.period, Path(answer[1]))

        self.push_screen(ReportScreen(slug, self.state.period, templates, self.out_dir), chosen)

    def render_report(self, template: str) -> None:
        """Render ``template`` for the current partnership and period to the output folder."""
        if not self.state.partnership or self.store is None:
            self.notify("Choose a partnership first.", severity="warning")
            return
        path = self.out_dir / file_name(self.state.partnership, template, self.state.period or "latest",
                                        suffix=".md")
        self._render(template, self.state.partnership, self.state.period, path)

    def _render(self, template: str, slug: str, period: str | None, path: Path) -> None:
        if not path.is_absolute():
            path = self.out_dir / path
        self.unless_kept(path, "report", lambda: self.run_thread(
            lambda: self._write_report(template, slug, period, path),
            failure="Report not written", group="report", exclusive=False, finish_on_quit=True))
    def unless_kept(self, path: Path, what: str, write: Callable[[], object]) -> None:
        """Run ``write`` at once, or, when ``path`` exists, after the user says to replace it
        (:class:`ConfirmScreen`, with the whole path); a file kept is said in the status line."""
        if not path.exists():
            write()
            return

        def answered(replace: bool | None) -> None:
            if replace:
                write()
            else:
                self._told(f"Kept {path}; nothing written.")

        self.push_screen(ConfirmScreen(path, what), answered)

    def _write_report(self, template: str, slug: str, period: str | None, path: Path) -> None:
        from dat.core.reports import write_report

        # the TUI replaces its own earlier file of the same name (no --force to ask for), but
        # still never writes through a symlink and writes atomically (dat.core.files)
        write_report(self.store, slug, path, template, period=period, force=True)
        self.post_result(ReportWritten(path))

    @on(ReportWritten)
    def _report_written(self, event: ReportWritten) -> None:
        self._told(f"Report written to {event.path}")

    def action_export_table(self) -> None:
        tab = self.query_one("#tabs", TabbedContent).active
        if tab not in TABS or not self._tab(tab).records[1]:
            self.notify("Nothing to export: the table is empty.", severity="warning")
            return
        path = self.out_dir / self.export_name(tab)
        self.unless_kept(path, "export", lambda: self._export(tab, path))

    def export_name(self, tab: str) -> str:
        """The default CSV name: who, what and the period on show (``dudley-scorecard-2007-08_Q1.csv``,
        ``bromley-funding-2009-10.csv`` for the financial year shown, ``NTA.RET12-compare-<period>.csv``,
        ``dudley-actions.csv``)."""
        period: str | None = None
        if tab == "compare":
            result = self.compare_tab.result
            return file_name(self.compare_tab.code, tab, result["period"] if result else None, suffix=".csv")
        if tab == "scorecard":
            period = self.state.period
        elif tab == "funding":
            funding = self.query_one(FundingTab).funding
            period = funding.get("year") if funding else None
        return file_name(self.state.partnership or "all", tab, period, suffix=".csv")

    def _export(self, tab: str, path: Path) -> None:
        from dat.core.errors import DatError

        try:
            rows = self._tab(tab).write_csv(path)
        except OSError as exc:
            self.show_error(f"Export failed: {exc.strerror or exc} ({path})")
            return
        except DatError as exc:  # a symlink, a folder in the way, a full disk (dat.core.files)
            self.show_error(f"Export failed: {exc}")
            return
        self._told(f"Exported {rows} rows to {path}")


def _newest_first(periods: list[str]) -> list[str]:
    """Latest first, a whole year before its quarters (so typing ``2009/10`` finds the year)."""
    from dat.core.periods import parse_period

    def key(text: str) -> tuple:
        p = parse_period(text)
        return (-p.fy.start.toordinal(), p.kind != "year", -p.start.toordinal(), -p.end.toordinal())

    return sorted(periods, key=key)


def run(db_url: str | None = None, out_dir: str | Path | None = None) -> int:
    """Run the app in this terminal; the exit status (see :func:`dat.cli.tui.quick.run_then_exit`)."""
    from dat.cli.tui.quick import run_then_exit

    return run_then_exit(DatApp(db_url, out_dir=out_dir))
