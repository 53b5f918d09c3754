"""A select list that takes what you type: the period, the RAG filter, the indicator to compare.

Textual's ``Select`` searches its options only once its list is open; while it is closed a
letter falls through to the App, so typing ``under-18s`` into the Compare tab's picker ran
``e`` (export) and ``r`` (report). A :class:`Picker` claims every printable key: the first one
opens the list and starts the search (a part of the option's text: a code or a name), the
following ones go on with it, and ``enter`` picks the option found. Every pick (the same
option again too) posts :class:`Picker.Picked`, so the screen can move the focus on to what was
picked for (the table), and the next key is not typed into the picker again.
"""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.message import Message
from textual.widgets import Select
from textual.widgets._select import SelectOverlay


class Picker(Select[Any]):
    """A :class:`~textual.widgets.Select` whose letters never reach the App's key bindings."""

    class Picked(Message):
        """An option was picked from the open list (whether or not the value changed)."""

        def __init__(self, picker: Picker) -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> Picker:
            return self.picker

    @on(SelectOverlay.UpdateSelection)
    def _picked(self) -> None:
        self.post_message(self.Picked(self))

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        return character is not None and character.isprintable()

    async def _on_key(self, event: events.Key) -> None:
        if self.expanded or event.character is None or not event.is_printable:
            return
        event.stop()
        event.prevent_default()
        self.action_show_overlay()
        # the open list searches as you type: hand it this first character
        self.query_one(SelectOverlay).post_message(events.Key(event.key, event.character))
