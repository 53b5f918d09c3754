"""Plain-text formatting for the TUI: numbers, money, RAG cells, arrows and sparklines.

Everything here returns text that reads the same without colour (``NO_COLOR``): a RAG cell
is a letter and a word as well as a colour, a direction of travel is an arrow and a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

# one formatter for every output (CLI, TUI, reports)
from dat.core.formatting import RAG_WORD, number, rag_word  # noqa: F401 - the panes use rag_word
from dat.core.formatting import money as fmt_money  # noqa: F401 - the panes use fmt_money

#: background colours chosen to keep white/black text readable on light and dark themes
RAG_STYLE = {"R": "bold #ffffff on #b3261e", "A": "bold #000000 on #f0a020",
             "G": "bold #ffffff on #2e7d32"}
ARROW = {"improved": "▲ better", "worsened": "▼ worse", "no change": "► same",
         "higher": "▲ higher", "lower": "▼ lower", "not comparable": "–"}
BENCH = {"better": "▲ better", "similar": "● similar", "worse": "▼ worse",
         "not compared": "–"}
BLOCKS = "▁▂▃▄▅▆▇█"


def fmt_num(value: Any, unit: str | None = None) -> str:
    """A figure in its unit, as the CLI shows it (:func:`dat.core.formatting.number`)."""
    if isinstance(value, Decimal) and unit != "gbp":
        value = float(value)
    return number(value, unit)


def fmt_pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}%"


def rag_cell(letter: str | None):
    """A RAG rating as a coloured ``R Red`` cell (a dash when not rated)."""
    from rich.text import Text

    if not letter or letter not in RAG_WORD:
        return Text("–")
    return Text(f" {letter} {RAG_WORD[letter]} ", style=RAG_STYLE[letter])


def right(text: str):
    """A right-aligned table cell (numbers)."""
    from rich.text import Text

    return Text(text, justify="right")


def esc(text: str) -> str:
    """Escape Textual markup in data (names may contain square brackets)."""
    from textual.markup import escape

    return escape(str(text))


def arrow(direction: str | None) -> str:
    return ARROW.get(direction or "", direction or "")


def bench_text(value: str | None) -> str:
    return BENCH.get(value or "not compared", value or "–")


def sparkline(values: list[Any], width: int = 12) -> str:
    """The last ``width`` values as block characters (empty with fewer than two numbers)."""
    nums = [float(v) for v in values if isinstance(v, (int, float, Decimal))]
    if len(nums) < 2:
        return ""
    nums = nums[-width:]
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    return "".join(BLOCKS[round((v - lo) / span * 7)] for v in nums)


def bar(amount: Any, top: Any, width: int = 12) -> str:
    """A horizontal bar of ``amount`` out of ``top``, in whole and partial blocks."""
    if amount is None or not top:
        return ""
    eighths = round(float(amount) / float(top) * width * 8)
    full, part = divmod(max(eighths, 0), 8)
    return "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")


def target_text(row: Mapping[str, Any]) -> str:
    """A scorecard row's target: ``85% local`` or the words of an unquantified target."""
    if row.get("target") is not None:
        return f"{fmt_num(row['target'], row['unit'])} {row.get('target_kind') or ''}".strip()
    return (row.get("target_text") or "")[:28]


def value_text(row: Mapping[str, Any]) -> str:
    value = fmt_num(row.get("value"), row.get("unit"))
    if value and row.get("numerator") is not None and row.get("denominator"):
        value += f" ({fmt_num(row['numerator'])}/{fmt_num(row['denominator'])})"
    return value or (row.get("text") or "")[:20]


def one_line(exc: BaseException) -> str:
    """An exception as one readable line (no traceback)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def file_name(*parts: str | None, suffix: str) -> str:
    """A default file name from its parts (partnership or indicator, what, period): the parts
    that are given, joined by ``-``, a period's ``/`` as ``-`` and spaces as ``_``
    (``dudley``, ``scorecard``, ``2007/08 Q1`` -> ``dudley-scorecard-2007-08_Q1.csv``)."""
    named = [p.replace("/", "-").replace(" ", "_") for p in parts if p]
    return "-".join(named) + suffix
