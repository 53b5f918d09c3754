"""Shared plumbing for commands: opening the store, stopping with an error, and the
``--format`` option. Imports nothing heavy at module level. Errors become messages and exit
codes in one place only: ``dat.cli.main.LazyGroup.invoke``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

FORMATS = ("table", "csv", "json", "markdown")


class OutputPath(click.Path):
    """A ``-o`` file: like ``click.Path(dir_okay=False)``, and a name that ends in a slash
    names a folder, so it is refused (exit 2) before ``Path`` drops the slash. Both folder
    refusals are one ``dat:`` line (a :class:`~dat.core.errors.UsageError`), like every other
    ``-o`` refusal, not Click's usage block."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=__import__("pathlib").Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os

        from dat.core.errors import UsageError, shorten

        text = os.fsdecode(value) if isinstance(value, (str, bytes)) else str(value)
        if text.endswith(("/", os.sep)) or (os.altsep and text.endswith(os.altsep)):
            raise UsageError(f"cannot write {shorten(text)}: it ends in a slash, so it names a folder; "
                             "give a file name")
        if os.path.isdir(text):
            raise UsageError(f"cannot write {shorten(text)}: is a directory (-o names a folder); "
                             "give a file name")
        if _is_the_database(text, ctx):
            raise UsageError(f"cannot write {shorten(text)}: it is the database this command reads "
                             "(--force does not overwrite it); give another file name")
        return super().convert(value, param, ctx)


def _is_the_database(text: str, ctx: click.Context | None) -> bool:
    """Whether ``text`` is the SQLite file the command uses (r6 F02: ``-o dat.sqlite3 --force``
    replaced the database with the export), through any link or relative path."""
    import os

    if not os.path.exists(text):
        return False
    try:
        from sqlalchemy.engine import make_url

        from dat.core.db import resolve_url

        root = ctx.find_root() if ctx is not None else None
        url, _ = resolve_url((root.obj or {}).get("db_url") if root is not None else None)
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database:
            return False
        return os.path.exists(parsed.database) and os.path.samefile(text, parsed.database)
    except Exception:  # an unusable URL is reported by the command itself
        return False


def format_option(func: Callable) -> Callable:
    return click.option(
        "--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
        help="Output format (default: table on a terminal, csv when piped).",
    )(func)


def resolve_format(fmt: str | None) -> str:
    if fmt:
        return fmt
    return "table" if sys.stdout.isatty() else "csv"


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop the command with a :class:`~dat.core.errors.DatError`: ``code`` 1 for an error in
    data or a run, 2 for bad usage. ``LazyGroup.invoke`` prints it and sets the exit code."""
    from dat.core.errors import DatError

    raise DatError(message, exit_code=code)


def open_store(ctx: click.Context) -> Any:
    from dat.core.plugins import get_plugin_manager
    from dat.core.services import Store

    obj = ctx.find_root().obj or {}
    host = get_plugin_manager(strict=bool(obj.get("strict")) or None)
    return Store(obj.get("db_url"), host=host)
