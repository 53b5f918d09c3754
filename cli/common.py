"""Shared plumbing for commands: opening the store, mapping errors to exit codes, and the
``--format`` option. Imports nothing heavy at module level."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

FORMATS = ("table", "csv", "json", "markdown")


def format_option(func: Callable) -> Callable:
    return click.option(
        "--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
        help="Output format (default: table on a terminal, csv when piped).",
    )(func)


def resolve_format(fmt: str | None) -> str:
    if fmt:
        return fmt
    return "table" if sys.stdout.isatty() else "csv"


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit with ``code`` (1 data/run error, 2 bad usage)."""
    click.echo(f"dat: {message}", err=True)
    sys.exit(code)


def open_store(ctx: click.Context) -> Any:
    from dat.core.plugins import get_plugin_manager
    from dat.core.services import Store

    obj = ctx.find_root().obj or {}
    host = get_plugin_manager(strict=bool(obj.get("strict")) or None)
    return Store(obj.get("db_url"), host=host)


def handle_errors(func: Callable) -> Callable:
    """Turn the core's exceptions into one clear line and the right exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from dat.core.db import DatabaseError
        from dat.core.periods import PeriodError
        from dat.core.plugins import PluginError
        from dat.core.services import BadPeriod, UnknownName

        try:
            return func(*args, **kwargs)
        except (UnknownName, BadPeriod, PeriodError) as exc:
            fail(str(exc), 2)
        except (DatabaseError, PluginError) as exc:
            fail(str(exc), 1)

    return wrapper
