"""What the tabs share: a table filled a page at a time, and a tab around one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static, TabPane

from dat.cli.tui.format import esc
from dat.cli.tui.workers import WorkerFailures
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


# -- sort, filter, copy and detail: what every tab's table shares ------------------------------


@dataclass
class Row:
    """One row of a tab's table, with what the table needs besides the rendered cells."""

    #: the database key (indicator code, stream and line, action reference, partnership slug)
    key: str
    #: the cells as rendered
    cells: tuple
    #: each cell as plain, uncut text: what ``/`` searches (unless ``search`` is given) and what
    #: ``y``/``Y`` copy
    texts: tuple[str, ...]
    #: each column's value to sort on: numbers as numbers, RAG as 0/1/2, periods as dates;
    #: ``None`` sorts last whichever way
    sort: tuple
    #: the CSV row ``e`` writes
    record: list[Any]
    #: what ``/`` matches instead of every cell (the scorecard: code and name)
    search: str | None = None


def _sort_key(value: Any) -> tuple:
    """Numbers before text, so a column mixing the two still sorts."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value).lower())


def period_order(text: str | None) -> tuple | None:
    """A period's place in time (start, then end), for sorting; ``None`` when it is not one."""
    from dat.core.periods import PeriodError, parse_period

    if not text:
        return None
    try:
        p = parse_period(text)
    except PeriodError:
        return None
    return (p.start.toordinal(), p.end.toordinal())


#: RAG in the order officers read it
RAG_ORDER = {"R": 0, "A": 1, "G": 2}
#: directions of travel and comparisons with the benchmark, worst first
TRAVEL_ORDER = {"worsened": 0, "lower": 1, "no change": 2, "higher": 3, "improved": 4}
BENCH_ORDER = {"worse": 0, "similar": 1, "better": 2}


@dataclass
class RowView:
    """A tab's rows with its own text filter and sort (filters belong to a tab)."""

    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    text: str = ""
    #: the column sorted on (an index of ``columns``), and whether it runs high to low
    sort_column: int | None = None
    reverse: bool = False

    def visible(self, keep: Callable[[Row], bool] | None = None) -> list[Row]:
        query = self.text.strip().lower()
        rows = [r for r in self.rows if (keep is None or keep(r)) and (
            not query or query in (r.search if r.search is not None else " ".join(r.texts)).lower())]
        col = self.sort_column
        if col is None:
            return rows
        known = [r for r in rows if col < len(r.sort) and r.sort[col] is not None]
        unknown = [r for r in rows if not (col < len(r.sort) and r.sort[col] is not None)]
        known.sort(key=lambda r: _sort_key(r.sort[col]), reverse=self.reverse)
        return known + unknown

    def sort_label(self) -> str:
        if self.sort_column is None or self.sort_column >= len(self.columns):
            return ""
        name = self.columns[self.sort_column] or "bar"
        return f"sorted by {name} {'▼' if self.reverse else '▲'}"


class FilterChanged(Message):
    """A tab's filter or sort changed (by the user): the status line says what is on show."""

    def __init__(self, tab: str, summary: str) -> None:
        super().__init__()
        self.tab, self.summary = tab, summary


class RowDetailScreen(ModalScreen[None]):
    """The highlighted row of funding, actions or compare in full (``enter`` on the row)."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="row-detail"):
            yield Static(self.text + "\n\n[dim]escape or enter closes[/dim]", id="row-detail-text")


class SortFilterTab(DataTab):
    """A :class:`DataTab` whose rows go through :class:`RowView`: ``/`` filters on show, ``s``
    ``S`` and a click on a header sort, ``x`` clears the tab's filters, ``y``/``Y`` copy, and
    ``enter`` opens :meth:`detail_text` for the row. A tab fills itself with :meth:`show_rows`."""

    #: what a row is called in "3 of 40 figures shown"
    NOUN = "rows"
    #: the column ``Y`` copies when no column is sorted on
    MAIN_COLUMN = 0

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(title, id=id)
        self.view = RowView()
        self._header: list[str] = []
        self._keys: list[str] = []

    # the info line above the table: shown while a filter or a sort is on
    def info_line(self) -> Static:
        return Static("", id=f"{self.TABLE_ID}-info", classes="table-info")

    def set_columns(self, fits: list[ColumnFit]) -> None:
        """The tab's columns (label, key, :class:`~dat.cli.widths.Fit`): the table shows those
        that fit its width (PagedTable.set_fitted_columns); sorting and copying go by the
        column's place in this list, whichever are on show."""
        self.view.columns = [label for label, _key, _fit in fits]
        self._keys = [key for _label, key, _fit in fits]
        self.table.set_fitted_columns(fits)

    def _column_index(self, key: str | None) -> int | None:
        return self._keys.index(key) if key in self._keys else None

    def show_rows(self, rows: list[Row], header: list[str]) -> None:
        """Replace the rows (filter and sort stay) and show them."""
        self.view.rows, self._header = rows, header
        self.refill()

    # -- hooks a tab may override -------------------------------------------------------------
    def keep_row(self, row: Row) -> bool:
        """A filter of the tab's own besides the text (the scorecard's RAG)."""
        return True

    def extra_filters(self) -> list[str]:
        """The tab's own filters on, in words (``Red``)."""
        return []

    def clear_extra_filters(self) -> None:
        """Clear the tab's own filters (the text is cleared by :meth:`clear_filters`)."""

    def detail_text(self, key: str) -> str | None:
        """The row ``key`` in full, for the detail dialog; ``None``: no dialog."""
        return None

    def say_empty(self, text: str) -> None:
        self.view.rows = []  # a later filter or sort must not bring stale rows back
        super().say_empty(text)

    def rows_shown(self, rows: list[Row]) -> None:
        """Called after each refill with the rows now on show."""

    # -- filtering and sorting ----------------------------------------------------------------
    def shown_rows(self) -> list[Row]:
        return self.view.visible(self.keep_row)

    @property
    def records(self) -> Records:
        """What ``e`` exports: the rows on show, in their order."""
        return self._header, [r.record for r in self.shown_rows()]

    @records.setter
    def records(self, value: Records) -> None:
        pass  # DataTab's constructor sets an empty one; here it is made from the rows

    def refill(self) -> None:
        rows = self.shown_rows()
        self.table.fill([r.cells for r in rows], [r.key for r in rows])
        self._mark_header()  # a fill may have rebuilt the columns to fit the width
        self._update_info(len(rows))
        self.rows_shown(rows)

    def filter_words(self) -> list[str]:
        words = self.extra_filters()
        if self.view.text.strip():
            words.append(f"'{self.view.text.strip()}'")
        return words

    def shown_line(self) -> str:
        """``3 of 40 figures shown · filter: Red and 'ret' (x clears)``; empty with no filter."""
        words = self.filter_words()
        if not words:
            return ""
        return (f"{len(self.shown_rows())} of {len(self.view.rows)} {self.NOUN} shown · "
                f"filter: {' and '.join(words)} (x clears)")

    def summary(self) -> str:
        """:meth:`shown_line` (or ``40 figures``), and the sort: ``sorted by Value ▼``."""
        parts = [self.shown_line() or f"{len(self.view.rows)} {self.NOUN}"]
        if self.view.sort_label():
            parts.append(self.view.sort_label())
        return " · ".join(parts)

    def _update_info(self, shown: int) -> None:
        found = self.query(f"#{self.TABLE_ID}-info")
        if not found:
            return
        info = found.first(Static)
        on = bool(self.filter_words()) or self.view.sort_column is not None
        info.set_class(on, "-on")
        info.update(esc(self.summary()) if on else "")

    def _mark_header(self) -> None:
        """The column sorted on carries ▲ (low to high) or ▼ in its header."""
        from rich.text import Text

        table = self.table
        for column in table.ordered_columns:
            i = self._column_index(column.key.value)
            if i is None or i >= len(self.view.columns):
                continue
            label = self.view.columns[i]
            if i == self.view.sort_column:
                label = f"{label} {'▼' if self.view.reverse else '▲'}".strip()
            if column.label.plain != label:
                column.label = Text(label)
                column.content_width = max(column.content_width, len(label))
        table._require_update_dimensions = True
        table.refresh()

    def _changed(self) -> None:
        self._mark_header()
        self.refill()
        self.post_message(FilterChanged(self.id or "", self.summary()))

    def set_text_filter(self, text: str) -> None:
        if text != self.view.text:
            self.view.text = text
            self._changed()

    def clear_filters(self) -> None:
        """``x``: every filter of this tab off (the sort stays)."""
        self.view.text = ""
        self.clear_extra_filters()
        self._changed()

    def sort_by(self, column: int) -> None:
        """Sort on ``column``; again on the same column: the other way round."""
        if self.view.sort_column == column:
            self.view.reverse = not self.view.reverse
        else:
            self.view.sort_column, self.view.reverse = column, False
        self._changed()

    def cycle_sort(self) -> None:
        """``s``: sort on the next column (after the last: the tab's own order again)."""
        col = self.view.sort_column
        nxt = 0 if col is None else col + 1
        self.view.sort_column = nxt if nxt < len(self.view.columns) else None
        self.view.reverse = False
        self._changed()

    def reverse_sort(self) -> None:
        """``S``: the other way round (the first column when nothing was sorted)."""
        if self.view.sort_column is None:
            self.view.sort_column = 0
        else:
            self.view.reverse = not self.view.reverse
        self._changed()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        index = self._column_index(event.column_key.value)
        if index is not None:
            self.sort_by(index)

    # -- the row under the cursor -----------------------------------------------------------
    def current_row(self) -> Row | None:
        table = self.table
        if not table.row_count or not 0 <= table.cursor_row < table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((r for r in self.view.rows if r.key == key), None)

    def copy_text(self, what: str) -> tuple[str, str] | None:
        """(text, what it is) for ``y`` (``what`` "row": the row's cells, tab-separated) or
        ``Y`` ("cell": the sorted column's cell, else the tab's main one)."""
        row = self.current_row()
        if row is None:
            return None
        if what == "cell":
            col = self.view.sort_column if self.view.sort_column is not None else self.MAIN_COLUMN
            name = self.view.columns[col] if col < len(self.view.columns) else ""
            return row.texts[col], f"{name or 'cell'} of {row.key}"
        return "\t".join(row.texts), f"row {row.key}"

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key is None or event.row_key.value is None:
            return
        text = self.detail_text(event.row_key.value)
        if text is not None:
            event.stop()
            self.app.push_screen(RowDetailScreen(text))
