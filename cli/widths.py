"""Column widths from the width of the terminal: the one rule the CLI's tables (rich) and the
TUI's tables (Textual's DataTable) share.

Each column has a :class:`Fit`: a priority (0 is never dropped; the highest number goes first
when the screen is narrow), a minimum width below which it is not cut, whether it is never cut
at all (money, RAG: always its full width) and whether it takes the spare width (the name
column: Indicator, Line, Action). :func:`allocate` gives each column its minimum, drops the
least valued columns until the minimums fit, drops the low-value ones (priority 5 and over:
codes, periods) while the name column would be narrower than a comfortable width, then hands
out what is left: the name column up
to a comfortable width first, then the most valued columns (priority 0 and 1) up to their full
width, then the name column up to its full width, then the other columns in order of value.

This module imports neither rich nor Textual (``dat --help`` must stay fast).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: the width the name column reaches before the other columns get more than their minimum
COMFORTABLE = 28
#: columns of this priority or better reach their full width before the name column does
FIRST = 1
#: the narrowest a name column is squeezed to when the columns that are never dropped do not fit
NARROWEST = 4
#: columns of this priority or worse (codes, periods) are shown only when the name column
#: can still have its comfortable width
LOW = 5


@dataclass(frozen=True)
class Fit:
    #: 0: never dropped; higher numbers are dropped first on narrow screens
    priority: int = 5
    #: the narrowest the column is cut to (its full width if that is less)
    min: int = 8
    #: never cut (money, RAG): always at its full width
    whole: bool = False
    #: takes the spare width (the name column)
    grow: bool = False


def _floor(fit: Fit, natural: int) -> int:
    return natural if fit.whole else min(natural, fit.min)


def allocate(columns: Sequence[tuple[str, Fit]], natural: Mapping[str, int], width: int, *,
             gap: int = 2, edge: int = 0) -> dict[str, int]:
    """The width of each column shown, by key, in the order of ``columns`` (the columns left
    out are missing). ``natural``: each column's full width (its widest cell or header);
    ``gap``: what each column costs besides its text (padding, rules); ``edge``: what the table
    costs once (its outer border)."""
    shown = list(columns)

    def need(cols: Sequence[tuple[str, Fit]]) -> int:
        return sum(_floor(f, natural[k]) for k, f in cols) + gap * len(cols) + edge

    while need(shown) > width:
        droppable = [i for i, (_k, f) in enumerate(shown) if f.priority > 0]
        if not droppable:
            break
        # the least valued column; of equal ones, the rightmost
        shown.pop(max(droppable, key=lambda i: (shown[i][1].priority, i)))

    def comfortable(cols: Sequence[tuple[str, Fit]]) -> int:
        return need(cols) + sum(max(0, min(natural[k], COMFORTABLE) - _floor(f, natural[k]))
                                for k, f in cols if f.grow)

    while comfortable(shown) > width:
        low = [i for i, (_k, f) in enumerate(shown) if f.priority >= LOW]
        if not low:
            break
        shown.pop(max(low, key=lambda i: (shown[i][1].priority, i)))
    widths = {k: _floor(f, natural[k]) for k, f in shown}
    fits = dict(shown)
    spare = width - need(shown)

    def give(key: str, upto: int) -> None:
        nonlocal spare
        more = max(0, min(spare, upto - widths[key]))
        widths[key] += more
        spare -= more

    growing = [k for k, f in shown if f.grow]
    for key in growing:  # still too wide with nothing left to drop: the names give way first
        if spare < 0:
            less = min(-spare, max(0, widths[key] - NARROWEST))
            widths[key] -= less
            spare += less
    by_value = [k for k, f in sorted(shown, key=lambda kf: kf[1].priority) if not f.grow]
    for key in growing:
        give(key, min(natural[key], COMFORTABLE))
    for key in by_value:
        if fits[key].priority <= FIRST:
            give(key, natural[key])
    for key in growing:
        give(key, natural[key])
    for key in by_value:
        give(key, natural[key])
    return widths


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[:width - 1] + "…"


def wrap2(text: str, width: int) -> str:
    """``text`` wrapped to ``width`` on at most two lines, an ellipsis marking a cut."""
    import textwrap

    if len(text) <= width or width < 4:
        return clip(text, width)
    lines = textwrap.wrap(text, width, break_long_words=True)
    if len(lines) <= 2:
        return "\n".join(lines)
    rest = " ".join(lines[1:])
    return lines[0] + "\n" + clip(rest, width)
