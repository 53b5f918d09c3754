"""The Actions tab: a partnership's action plan."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from dat.cli.tui.messages import ActionsLoaded
from dat.cli.tui.widgets.table import DataTab, PagedTable

if TYPE_CHECKING:
    from dat.core.services.types import ActionsResult


class ActionsTab(DataTab):
    TABLE_ID = "action-table"

    def __init__(self) -> None:
        super().__init__("3 Actions", id="actions")
        self.slug: str | None = None
        self.actions: ActionsResult | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="action-reason", classes="reason")
        yield PagedTable(id=self.TABLE_ID)

    def on_mount(self) -> None:
        self.table.add_columns("Ref", "Theme", "Action", "Lead", "Due", "Status")

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
        self.table.fill([(
            a["ref"], a["theme"] or "", a["action"][:60], (a["lead"] or "")[:30], a["due"] or "",
            a["status"] or "",
        ) for a in acts], [a["ref"] for a in acts])
        self.show_reason(None if acts or self.actions is None
                         else f"No action plan recorded for {self.slug}.")
        self.records = (
            ["ref", "theme", "action", "lead", "due", "status", "target_text", "outcome"],
            [[a["ref"], a["theme"], a["action"], a["lead"], a["due"], a["status"],
              a["target_text"], a["outcome"]] for a in acts])
