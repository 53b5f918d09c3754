"""Rendering listings as table (rich), CSV, JSON or Markdown.

A listing is a list of row dicts plus the columns to show. JSON always carries the whole
result object the service returned (a documented, versioned ``schema`` key first); CSV and
Markdown carry the listed columns; the table is for people (RAG as letter, word and colour).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dat.cli.widths import Fit, allocate, clip, wrap2
from dat.core.files import CsvWriter, safe_cell
from dat.core.formatting import RAG_WORD, number  # noqa: F401 - commands import number from here

RAG_STYLE = {"R": "bold white on red", "A": "bold black on dark_orange", "G": "bold white on green4"}
ARROWS = {"improved": "▲ improved", "worsened": "▼ worsened", "no change": "► no change",
          "higher": "▲ higher", "lower": "▼ lower", "not comparable": "–"}

#: rich's JustifyMethod, spelt out so this module need not import rich at start-up
Justify = Literal["default", "left", "center", "right", "full"]


@dataclass
class Column:
    key: str
    header: str
    fmt: Callable[[Any, Mapping[str, Any]], str] | None = None  # for table/markdown display
    justify: Justify = "left"
    #: how the column fits a narrow terminal (cli/widths.py; tables for people only). A table
    #: none of whose columns has one is laid out by rich (long cells fold over lines)
    fit: Fit | None = None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def cell_text(col: Column, row: Mapping[str, Any]) -> str:
    value = row.get(col.key)
    if col.fmt is not None:
        return col.fmt(value, row)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return number(value)
    return str(value)


def emit(fmt: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, result: Any = None,
         title: str | None = None, caption: str | None = None, out: Any = None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        json.dump(result if result is not None else list(rows), out, indent=2,
                  default=_json_default, ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        writer = CsvWriter(out)
        writer.writerow([c.key for c in columns])
        for row in rows:
            writer.writerow(["" if row.get(c.key) is None else _csv_value(row.get(c.key)) for c in columns])
    elif fmt == "markdown":
        if title:
            out.write(f"## {title}\n\n")
        out.write("| " + " | ".join(c.header for c in columns) + " |\n")
        out.write("|" + "|".join("---:" if c.justify == "right" else "---" for c in columns) + "|\n")
        for row in rows:
            out.write("| " + " | ".join(cell_text(c, row).replace("|", "\\|").replace("\n", " ")
                                          for c in columns) + " |\n")
        if caption:
            out.write(f"\n{caption}\n")
    else:
        _rich_table(rows, columns, title, caption, out)


def _csv_value(value: Any) -> Any:
    """A CSV cell: lists joined, whole floats as integers, text neutralised (``safe_cell``)."""
    if isinstance(value, (list, tuple)):
        return safe_cell("; ".join(str(v) for v in value))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


#: cells that say nothing: a column of only these is left out of a table for people
EMPTY_CELLS = ("", "–", "-")


def table_width(out: Any) -> int:
    """The width a table for people may take: ``COLUMNS`` when set, else the terminal's
    width, else (output to a file or a pipe) 160."""
    import os

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if getattr(out, "isatty", lambda: False)():
        import shutil

        return shutil.get_terminal_size().columns
    return 160


def fit_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], width: int
              ) -> tuple[list[Column], list[list[str]], dict[str, int]]:
    """The columns a table for people shows at ``width`` (cli/widths.py), its cells fitted
    to them and each one's width. A column empty on every row is left out; the name column
    (``Fit.grow``) wraps to two lines, the others are cut with an ellipsis."""
    texts = [[cell_text(c, row).strip() for c in columns] for row in rows]
    fits = {c.key: c.fit or Fit() for c in columns}
    keep = [i for i, c in enumerate(columns)
            if not rows or any(t[i] not in EMPTY_CELLS for t in texts)]
    cols = [columns[i] for i in keep]
    natural = {}
    for i in keep:
        c = columns[i]
        longest = max((max(len(line) for line in t[i].split("\n")) for t in texts), default=0)
        natural[c.key] = max(len(c.header), longest, 1) + (2 if c.key == "rag" else 0)
    widths = allocate([(c.key, fits[c.key]) for c in cols], natural, width, gap=3, edge=1)
    shown = [c for c in cols if c.key in widths]
    fitted = []
    for t in texts:
        line = []
        for i, c in zip(keep, cols, strict=True):
            if c.key not in widths:
                continue
            w = widths[c.key] - (2 if c.key == "rag" else 0)
            line.append(wrap2(t[i], w) if fits[c.key].grow else clip(t[i], w))
        fitted.append(line)
    return shown, fitted, widths


def _rich_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], title: str | None,
                caption: str | None, out: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    rows = list(rows)
    width = table_width(out)
    console = Console(file=out, soft_wrap=False, width=width)
    table = Table(title=title, caption=caption, header_style="bold", show_lines=False)
    if any(c.fit for c in columns):
        shown, cells, widths = fit_table(rows, columns, width)
        for c in shown:
            grow = bool(c.fit and c.fit.grow)
            table.add_column(c.header, justify=c.justify, width=widths[c.key], no_wrap=not grow,
                             overflow="fold" if grow else "ellipsis")
    else:  # a listing without fits: rich lays it out, long cells fold over lines
        shown, cells = list(columns), [[cell_text(c, row) for c in columns] for row in rows]
        for c in shown:
            table.add_column(c.header, justify=c.justify, overflow="fold")
    for row, texts in zip(rows, cells, strict=True):
        line = []
        for c, text in zip(shown, texts, strict=True):
            if c.key == "rag" and row.get("rag") in RAG_STYLE:
                line.append(Text(f" {text} ", style=RAG_STYLE[row["rag"]]))
            else:
                line.append(Text(text))
        table.add_row(*line)
    console.print(table)


def rag_cell(value: Any, row: Mapping[str, Any]) -> str:
    return f"{value} {RAG_WORD[value]}" if value in RAG_WORD else "–"
