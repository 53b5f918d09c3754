"""What the tabs share: a table filled a page at a time, and a tab around one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static, TabPane

from dat.cli.tui.workers import WorkerFailures

#: rows added to a table in one go; the rest follow on later ticks so a long table paints at once
PAGE = 100

#: what "export to CSV" writes for a table: (header, rows of plain values)
Records = tuple[list[str], list[list[Any]]]


class PagedTable(DataTable):
    """A row-cursor table whose rows are keyed by database keys (indicator code, stream and line,
    action reference, partnership slug), so a refill keeps the cursor where it was."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._generation = 0

    def fill(self, rows: list[tuple], keys: list[str]) -> None:
        """Replace the rows, keeping the cursor on the same key, a page at a time."""
        keep = None
        if self.row_count and 0 <= self.cursor_row < self.row_count:
            keep = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        self._generation += 1
        generation = self._generation
        self.clear()

        def add_page(start: int) -> None:
            if self._generation != generation:
                return  # a newer fill replaced this one
            page_keys = keys[start:start + PAGE]
            for row, key in zip(rows[start:start + PAGE], page_keys, strict=False):
                self.add_row(*row, key=key)
            if keep is not None and keep in page_keys:
                self.move_cursor(row=self.get_row_index(keep), animate=False)
            if start + PAGE < len(rows):
                self.call_later(add_page, start + PAGE)

        add_page(0)


class DataTab(WorkerFailures, TabPane):
    """A tab around one :class:`PagedTable`; ``records`` is what ``e`` exports from it. Its
    workers' failures empty the table and say why in the tab (:meth:`show_failure`)."""

    TABLE_ID: ClassVar[str]

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(title, id=id)
        self.records: Records = ([], [])

    @property
    def table(self) -> PagedTable:
        return self.query_one(f"#{self.TABLE_ID}", PagedTable)

    # -- why the table is empty ------------------------------------------------------------------
    def show_reason(self, text: str | None) -> None:
        """The tab's reason line (its Static of class ``reason``): why the table is empty, or
        hidden (``None``) while it has rows. Funding and Compare use their summary line."""
        for note in self.query(".reason").results(Static):
            note.update(text or "")
            note.display = bool(text)

    def say_empty(self, text: str) -> None:
        """Nothing to show (the database could not be opened, a load failed): empty the table,
        so nothing stale stays on screen, and say why."""
        self.table.fill([], [])
        self.records = ([], [])
        self.show_reason(text)

    def show_failure(self, text: str) -> None:
        """A load of this tab failed: the table is emptied and its reason line says why; the
        status line says it too (the tabs are :class:`~dat.cli.tui.workers.WorkerFailures`)."""
        self.say_empty(text)
        super().show_failure(text)

    def write_csv(self, path: Path) -> int:
        """Write :attr:`records` to ``path`` (``None`` as an empty cell, text that a
        spreadsheet would read as a formula neutralised); the number of rows. The file is
        written atomically and never through a symlink; an earlier export of the same name
        is replaced (dat.core.files)."""
        from dat.core.files import CsvWriter, atomic_text, safe_cell

        header, rows = self.records
        with atomic_text(path, force=True) as fh:
            writer = CsvWriter(fh)
            writer.writerow(header)
            writer.writerows([["" if v is None else safe_cell(v) for v in row] for row in rows])
        return len(rows)
