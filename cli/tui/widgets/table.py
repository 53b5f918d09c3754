"""What the tabs share: a table filled a page at a time, and a tab around one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual.coordinate import Coordinate
from textual.widgets import DataTable, TabPane

from dat.cli.widths import Fit, allocate, clip

#: rows added to a table in one go; the rest follow on later ticks so a long table paints at once
PAGE = 100

#: what "export to CSV" writes for a table: (header, rows of plain values)
Records = tuple[list[str], list[list[Any]]]

#: a column of a fitted table: (header, key, how it fits a narrow screen)
ColumnFit = tuple[str, str, Fit]

#: what a column costs besides its text (DataTable's cell padding, one each side)
CELL_GAP = 2


class PagedTable(DataTable):
    """A row-cursor table whose rows are keyed by database keys (indicator code, stream and line,
    action reference, partnership slug), so a refill keeps the cursor where it was."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._generation = 0
        #: the columns the table can show (set_fitted_columns) and the rows last filled, whole
        self._fits: list[ColumnFit] = []
        self._whole_rows: list[tuple] = []
        self._whole_keys: list[str] = []
        #: the width the columns were last fitted to, and the keys and widths chosen then
        self._fitted: tuple[int, tuple[tuple[str, int], ...]] | None = None

    def fill(self, rows: list[tuple], keys: list[str]) -> None:
        """Replace the rows, keeping the cursor on the same key, a page at a time."""
        keep = None
        if self.row_count and 0 <= self.cursor_row < self.row_count:
            keep = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        if self._fits:
            rows = self._fit_rows(rows, keys)
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

    # -- widths from the terminal (cli/widths.py, the rule the CLI's tables follow too) --------
    def set_fitted_columns(self, fits: list[ColumnFit]) -> None:
        """The columns this table can show; each fill shows those that fit its width, at the
        widths :func:`dat.cli.widths.allocate` gives them, and a resize fits them again."""
        self._fits = fits
        self._fitted = None
        for label, key, _fit in fits:
            self.add_column(label, key=key)

    def shown_columns(self) -> list[str]:
        """The keys of the columns on show, left to right."""
        return [c.key.value or "" for c in self.ordered_columns]

    def _fit_width(self) -> int:
        width = self.size.width or max(self.app.size.width - 30, 20)
        return width - self.styles.scrollbar_size_vertical

    def _fit_rows(self, rows: list[tuple], keys: list[str]) -> list[tuple]:
        """Remember the rows whole, choose the columns and widths for the table's width (the
        columns are rebuilt only when those change) and return the rows cut to them."""
        from rich.cells import cell_len

        self._whole_rows, self._whole_keys = rows, keys
        width = self._fit_width()
        natural = {}
        for i, (label, key, _fit) in enumerate(self._fits):
            natural[key] = max([cell_len(label)] + [cell_len(_plain(r[i])) for r in rows])
        widths = allocate([(key, fit) for _l, key, fit in self._fits], natural, width, gap=CELL_GAP)
        chosen = (width, tuple(widths.items()))
        if self._fitted is None or chosen[1] != self._fitted[1]:
            self.clear(columns=True)
            for label, key, _fit in self._fits:
                if key in widths:
                    self.add_column(label, width=widths[key], key=key)
        self._fitted = chosen
        picks = [(i, widths[key]) for i, (_l, key, _f) in enumerate(self._fits) if key in widths]
        return [tuple(_cut(r[i], w) for i, w in picks) for r in rows]

    def update_value(self, row_key: str, column_key: str, value: Any) -> None:
        """Change one cell (in the rows kept whole too), if its row and column are on show."""
        index = next((i for i, (_l, k, _f) in enumerate(self._fits) if k == column_key), None)
        if index is not None and row_key in self._whole_keys:
            at = self._whole_keys.index(row_key)
            row = list(self._whole_rows[at])
            row[index] = value
            self._whole_rows[at] = tuple(row)
        column = next((c for c in self.ordered_columns if c.key.value == column_key), None)
        if row_key not in self.rows or column is None:
            return
        self.update_cell(row_key, column_key, _cut(value, column.width))

    def on_resize(self, event: events.Resize) -> None:
        if self._fits and self._fitted is not None and self._fit_width() != self._fitted[0]:
            self.fill(self._whole_rows, self._whole_keys)


def _plain(cell: Any) -> str:
    return cell.plain if hasattr(cell, "plain") else str(cell)


def _cut(cell: Any, width: int) -> Any:
    """A cell cut to ``width`` with an ellipsis (text as text, rich Text keeping its style)."""
    from rich.cells import cell_len

    if hasattr(cell, "plain"):
        if cell_len(cell.plain) <= width:
            return cell
        cut = cell.copy()
        cut.truncate(width, overflow="ellipsis")
        return cut
    text = str(cell)
    return text if cell_len(text) <= width else clip(text, width)


class DataTab(TabPane):
    """A tab around one :class:`PagedTable`; ``records`` is what ``e`` exports from it."""

    TABLE_ID: ClassVar[str]

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(title, id=id)
        self.records: Records = ([], [])

    @property
    def table(self) -> PagedTable:
        return self.query_one(f"#{self.TABLE_ID}", PagedTable)

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
