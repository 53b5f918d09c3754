"""The Actions tab: a partnership's action plan, with a status filter; overdue actions are
marked (``⚠`` and the error colour) and every due date is shown one way (``31 Mar 2004``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Select, Static

from dat.cli.tui.format import esc
from dat.cli.tui.messages import ActionsLoaded
from dat.cli.tui.widgets.table import PagedTable, Row, SortFilterTab, period_order
from dat.cli.widths import Fit

if TYPE_CHECKING:
    from dat.core.services.types import ActionItem, ActionsResult

#: the columns (cli/widths.py): due date and status never cut, the action takes the spare width
COLUMNS = [("Ref", "ref", Fit(priority=2, min=8)),
           ("Theme", "theme", Fit(priority=5, min=8)),
           ("Action", "action", Fit(priority=0, min=14, grow=True)),
           ("Lead", "lead", Fit(priority=1, min=10)),
           ("Due", "due", Fit(priority=0, whole=True)),
           ("Status", "status", Fit(priority=0, whole=True))]
#: the status filter's fixed choices; the statuses the plan records follow them
STATUS_CHOICES = [("All statuses", "all"), ("Not done", "not done"), ("Overdue", "overdue")]
#: how an overdue action's due date and status are marked (a sign too, for NO_COLOR)
OVERDUE_STYLE = "bold #e53935"
OVERDUE_SIGN = "⚠ "


def due_cell(a: ActionItem):
    from datetime import date

    from rich.text import Text

    from dat.core.services.actions import due_text

    text = due_text(date.fromisoformat(a["due_date"]) if a["due_date"] else None, a["due"])
    return Text(text, style=OVERDUE_STYLE) if a["overdue"] else text


def status_cell(a: ActionItem):
    from rich.text import Text

    if a["overdue"]:
        return Text(OVERDUE_SIGN + ("overdue" if a["status"] == "overdue" else a["status"]),
                    style=OVERDUE_STYLE)
    return a["status"] or ""


def _due_order(due: str | None) -> Any:
    """A due date's place in time: a period (``2003/04``) by its end, a date as a date."""
    from datetime import date

    if not due:
        return None
    try:
        return date.fromisoformat(due.strip()[:10]).toordinal()
    except ValueError:
        pass
    found = period_order(due.strip())
    return found[1] if found else due


class ActionsTab(SortFilterTab):
    TABLE_ID = "action-table"
    NOUN = "actions"
    MAIN_COLUMN = 2  # Y copies the action's full text (or the column sorted on)

    def __init__(self) -> None:
        super().__init__("3 Actions", id="actions")
        self.slug: str | None = None
        self.actions: ActionsResult | None = None
        #: the status filter (a value of the select: all, not done, overdue or a status)
        self.status_filter = "all"
        self._by_ref: dict[str, ActionItem] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="action-bar"):
            yield Select(STATUS_CHOICES, value="all", allow_blank=False, id="action-status")
            yield Static("", id="action-count")
        yield Static("", id="action-reason", classes="reason")
        yield self.info_line()
        yield PagedTable(id=self.TABLE_ID)

    def on_mount(self) -> None:
        self.set_columns(COLUMNS)

    def load(self, store: Any, slug: str) -> None:
        self.slug = slug
        self.run_thread(partial(self._load, store, slug), failure=f"Cannot load {slug}", group="actions")

    def _load(self, store: Any, slug: str) -> None:
        from dat.core import services

        self.post_result(ActionsLoaded(slug, services.actions(store, slug)))

    @on(ActionsLoaded)
    def _loaded(self, event: ActionsLoaded) -> None:
        if event.slug == self.slug:
            self.actions = event.actions
            self._set_choices()
            self.fill()

    def _set_choices(self) -> None:
        """The filter offers the fixed choices and the statuses this plan records; a choice the
        new plan does not have goes back to all."""
        acts = self.actions["actions"] if self.actions else []
        recorded = sorted({a["status"] for a in acts if a["status"]})
        options = STATUS_CHOICES + [(s.capitalize(), s) for s in recorded
                                    if s not in ("overdue", "not done")]
        if self.status_filter not in {v for _l, v in options}:
            self.status_filter = "all"
        sel = self.query_one("#action-status", Select)
        with sel.prevent(Select.Changed):
            sel.set_options(options)
            sel.value = self.status_filter

    def set_status_filter(self, choice: str) -> None:
        """Show only the actions ``choice`` lets through (see dat.core.services.actions.wanted)."""
        self.status_filter = choice
        sel = self.query_one("#action-status", Select)
        if sel.value != choice:
            with sel.prevent(Select.Changed):
                sel.value = choice
        self._changed()

    @on(Select.Changed, "#action-status")
    def _status_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.status_filter:
            self.set_status_filter(event.value)

    def keep_row(self, row: Row) -> bool:
        """The status filter (see dat.core.services.actions.wanted)."""
        from dat.core.services.actions import wanted

        a = self._by_ref.get(row.key)
        return a is None or wanted(a["status"], a["overdue"], self.status_filter)

    def extra_filters(self) -> list[str]:
        return [] if self.status_filter == "all" else [f"status {self.status_filter}"]

    def clear_extra_filters(self) -> None:
        self.status_filter = "all"
        sel = self.query_one("#action-status", Select)
        with sel.prevent(Select.Changed):
            sel.value = "all"

    def visible_actions(self) -> list[ActionItem]:
        return [self._by_ref[r.key] for r in self.shown_rows() if r.key in self._by_ref]

    def fill(self) -> None:
        from datetime import date

        from dat.core.services.actions import due_text

        everything = self.actions["actions"] if self.actions else []
        self._by_ref = {a["ref"]: a for a in everything}
        rows = []
        for a in everything:
            due = due_text(date.fromisoformat(a["due_date"]) if a["due_date"] else None, a["due"])
            status = status_cell(a)
            texts = (a["ref"], a["theme"] or "", a["action"], a["lead"] or "", due,
                     status.plain if hasattr(status, "plain") else str(status))
            cells = (a["ref"], a["theme"] or "", a["action"], a["lead"] or "", due_cell(a), status)
            sort = (a["ref"], a["theme"], a["action"], a["lead"],
                    date.fromisoformat(a["due_date"]).toordinal() if a["due_date"] else _due_order(a["due"]),
                    a["status"] or None)
            record = [a["ref"], a["theme"], a["action"], a["lead"], a["due"], a["status"],
                      a["target_text"], a["outcome"], a["due_date"], a["overdue"]]
            rows.append(Row(a["ref"], cells, texts, sort, record))
        self.show_rows(rows, ["ref", "theme", "action", "lead", "due", "status", "target_text",
                              "outcome", "due_date", "overdue"])

    def rows_shown(self, rows: list[Row]) -> None:
        everything = self.actions["actions"] if self.actions else []
        overdue = sum(1 for a in everything if a["overdue"])
        count = f"{len(rows)} of {len(everything)} actions" if len(rows) != len(everything) \
            else f"{len(everything)} actions"
        as_of = self.actions["as_of"] if self.actions else ""
        self.query_one("#action-count", Static).update(
            f"{count}; {overdue} overdue as of {as_of}" if self.actions else "")
        self.show_reason(None if everything or self.actions is None
                         else f"No action plan recorded for {self.slug}.")

    def detail_text(self, key: str) -> str | None:
        """An action in full: its text, theme, lead, targets, milestones, dependencies, due
        date and status (and whether it is overdue, when the service says)."""
        acts = self.actions["actions"] if self.actions else []
        a: Mapping[str, Any] | None = next((a for a in acts if a["ref"] == key), None)
        if a is None:
            return None

        def listed(title: str, items: list[str]) -> list[str]:
            return [f"[b]{title}[/b]"] + [f"  • {esc(i)}" for i in items] if items else [f"{title}: none"]

        lines = [f"[b]{esc(a['ref'])}[/b]  {esc(a['theme'] or 'no theme')}",
                 esc(a["action"]),
                 f"Lead {esc(a['lead'] or '–')}",
                 f"Due {esc(a['due'] or '–')}   status [b]{esc(a['status'] or '–')}[/b]"
                 + (f"   overdue: {'yes' if a['overdue'] else 'no'}" if "overdue" in a else "")]
        if a.get("target_text"):
            lines.append(f"Target {esc(a['target_text'])}")
        lines += listed("Targets", a.get("targets") or [])
        if a.get("outcome"):
            lines.append(f"Outcome {esc(a['outcome'])}")
        lines += listed("Milestones", a.get("milestones") or [])
        lines += listed("Dependencies", a.get("dependencies") or [])
        lines.append(f"Source {esc(a.get('source') or '–')}")
        return "\n".join(lines)
