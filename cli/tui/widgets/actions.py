"""The Actions tab: a partnership's action plan."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult

from dat.cli.tui.format import esc
from dat.cli.tui.messages import ActionsLoaded
from dat.cli.tui.widgets.table import PagedTable, Row, SortFilterTab, period_order
from dat.cli.tui.workers import WorkerFailures

if TYPE_CHECKING:
    from dat.core.services.types import ActionsResult

COLUMNS = ["Ref", "Theme", "Action", "Lead", "Due", "Status"]


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


class ActionsTab(WorkerFailures, SortFilterTab):
    TABLE_ID = "action-table"
    NOUN = "actions"
    MAIN_COLUMN = 2  # Y copies the action's full text (or the column sorted on)

    def __init__(self) -> None:
        super().__init__("3 Actions", id="actions")
        self.slug: str | None = None
        self.actions: ActionsResult | None = None

    def compose(self) -> ComposeResult:
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
            self.fill()

    def fill(self) -> None:
        acts = self.actions["actions"] if self.actions else []
        rows = []
        for a in acts:
            texts = (a["ref"], a["theme"] or "", a["action"], a["lead"] or "", a["due"] or "",
                     a["status"] or "")
            cells = (texts[0], texts[1], texts[2][:60], texts[3][:30], texts[4], texts[5])
            sort = (a["ref"], a["theme"], a["action"], a["lead"], _due_order(a["due"]), a["status"] or None)
            record = [a["ref"], a["theme"], a["action"], a["lead"], a["due"], a["status"],
                      a["target_text"], a["outcome"]]
            rows.append(Row(a["ref"], cells, texts, sort, record))
        self.show_rows(rows, ["ref", "theme", "action", "lead", "due", "status", "target_text",
                              "outcome"])

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
