"""How figures read as text, for every output: CLI tables, the TUI and report templates.

Kept free of heavy imports: the CLI's start-up path uses it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

#: units shown with a per cent sign
PERCENT_UNITS = ("percent", "pct_change")
#: a RAG letter as a word: RAG is always shown as text as well as colour
RAG_WORD = {"R": "Red", "A": "Amber", "G": "Green"}


def rag_word(letter: Any) -> str:
    """``R`` -> ``Red``; anything else -> ``not rated``."""
    return RAG_WORD.get(letter or "", "not rated")


def money(value: Any, missing: str = "not stated") -> str:
    """Exact pounds: ``£3,109,598``, or ``£40,000.50`` when there are pence."""
    if value is None:
        return missing
    text = f"{Decimal(str(value)):,.2f}"
    return "£" + (text[:-3] if text.endswith(".00") else text)


def number(value: Any, unit: str | None = None, missing: str = "") -> str:
    """A figure in its unit: ``1,234``, ``57%``, ``0.613``, money via :func:`money`."""
    if value is None:
        return missing
    if isinstance(value, Decimal) or unit == "gbp":
        return money(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = f"{value:,}"
    else:
        text = f"{value:,.4g}" if abs(value) >= 1 else f"{value:.3g}"
    return text + ("%" if unit in PERCENT_UNITS else "")
