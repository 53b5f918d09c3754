"""The one error model of dat.

Every error meant for the person at the keyboard is a :class:`DatError`: its message is one
line that says what is wrong and, where it can, what to do instead, and it carries the exit
code the CLI ends with. The CLI turns it into ``dat: <message>`` on stderr in exactly one
place (``dat.cli.main.LazyGroup.invoke``); the TUI shows the same message in a notification.

- :class:`UsageError` (exit 2): what was asked for does not exist or cannot be read as
  asked: an unknown partnership, indicator or template, a period that does not parse, a
  bad option value.
- :class:`DataError` (exit 1): the data is wrong: a file that cannot be imported, a plugin
  item that breaks a rule, a template that does not render, figures no statistic fits.
- :class:`DatabaseError` and :class:`PluginError` (exit 1): the run cannot go on: the
  database cannot be opened or used, a plugin failed in strict mode.

Anything else that escapes a command is a bug, reported as an internal error (exit 1, the
traceback with ``DAT_DEBUG=1``).

The older, more specific classes subclass these and keep their names and their builtin
bases, so code that catches them by either keeps working: ``ValueError`` for
``PeriodError``, ``SpecError``, ``DataFileError``, ``StatsError`` and ``TargetError``,
``LookupError`` for ``UnknownName``, ``RuntimeError`` for ``DatabaseError``,
``PluginError``, ``ReportError``, ``CopyError`` and ``ImportRefused`` (formerly
``ImportError_``). This module imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class DatError(Exception):
    """An error for the user: ``str(exc)`` is the message, ``exc.exit_code`` the exit code."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str = "", *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)


class UsageError(DatError):
    """Bad usage: an unknown name, a period or option value that cannot be read (exit 2)."""

    exit_code = EXIT_USAGE


class DataError(DatError):
    """Data that is wrong: an import, a plugin item, a template, a figure (exit 1)."""


class DatabaseError(DatError, RuntimeError):
    """The database cannot be opened or used; the message is one line for the user."""


class PluginError(DatError, RuntimeError):
    """A plugin problem that stops the run (strict mode: ``--strict-plugins``)."""


def printable(text: object) -> str:
    """``text`` as a one-line message can show it: every control character (a new line, a
    tab, an escape...) written as its escape (``\\n``, ``\\t``, ``\\x1b``), so a name is never
    cut or run together at one; other characters are kept as they are."""
    text = str(text)
    if not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text):
        return text
    return "".join(repr(ch)[1:-1] if ord(ch) < 32 or 127 <= ord(ch) < 160 else ch for ch in text)


def shorten(text: object, limit: int = 90) -> str:
    """A long name (a URL, a path) as a message shows it: :func:`printable`, and shortened
    in the middle to ``limit`` characters, so its start and end stay."""
    text = printable(text)
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[len(text) - (limit - 1 - half):]}"


class UnknownName(UsageError, LookupError):
    """A name (partnership, indicator, template...) that does not exist: the message names
    the closest match and the valid choices."""

    def __init__(self, kind: str, value: str, choices: Iterable[str]) -> None:
        from difflib import get_close_matches

        self.kind, self.value, self.choices = kind, value, sorted(choices)
        close = get_close_matches(value, self.choices, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        shown = ", ".join(self.choices[:30]) + (" …" if len(self.choices) > 30 else "")
        super().__init__(f"unknown {kind} {value!r}{hint}; choose from: {shown or '(none)'}")


__all__ = [
    "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE", "DatError", "UsageError", "DataError",
    "DatabaseError", "PluginError", "UnknownName", "printable", "shorten",
]
