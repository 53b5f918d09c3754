"""The ``dat`` command: a click group whose subcommands are imported only when used.

Start-up cost matters (``dat --help`` must stay within 2x of importing click), so this module
imports click and nothing heavy; database, rich and template code load inside commands.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

import click

# the exit codes of dat.core.errors, repeated so that `dat --help` imports nothing of dat's
# core (tests/test_error_model.py checks they agree)
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

#: command name -> "module:attribute" (modules under dat.cli)
LAZY_COMMANDS: dict[str, str] = {
    "plugins": "dat.cli.commands.listing:plugins_cmd",
    "partnerships": "dat.cli.commands.listing:partnerships_cmd",
    "indicators": "dat.cli.commands.listing:indicators_cmd",
    "status": "dat.cli.commands.status:status_cmd",
    "funding": "dat.cli.commands.plans:funding_cmd",
    "actions": "dat.cli.commands.plans:actions_cmd",
    "report": "dat.cli.commands.plans:report_cmd",
    "new-partnership": "dat.cli.commands.scaffold:new_partnership_cmd",
    "compare": "dat.cli.commands.compare:compare_cmd",
    "scenario": "dat.cli.commands.scenario:scenario_cmd",
    "import": "dat.cli.commands.data:import_cmd",
    "history": "dat.cli.commands.data:history_cmd",
    "audit": "dat.cli.commands.audit:audit_cmd",
    "export": "dat.cli.commands.data:export_cmd",
    "db": "dat.cli.commands.db:db_cmd",
    "tui": "dat.cli.commands.tui:tui_cmd",
}



class LazyGroup(click.Group):
    """A group that imports a command's module only when the command is asked for, and
    adds commands that plugins contribute through ``register_commands``."""

    _plugins_added = False
    #: command name -> the plugin that added it (filled when plugins are loaded)
    plugin_commands: dict[str, str] = {}

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command. This is the one place where an error becomes a message and an
        exit code: a :class:`DatError` is ``dat: <message>`` on stderr and its exit code; an
        OS or database error a one-line message and 1; anything else is a bug, reported in
        one line (exit 1) with the traceback only when ``DAT_DEBUG`` is set. Warnings that
        plugins earned during the command (a decision hook that failed) are printed last."""
        from dat.core.errors import DatError

        try:
            result = super().invoke(ctx)
            _flush_stdout()  # a full disk is reported here, not by the interpreter's exit
            return result
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt as exc:  # ctrl+c during a command: not click's "Aborted!" (exit 1)
            _interrupted(exc)
        except DatError as exc:
            if type(exc).__name__ == "ReadOnlyDatabase":  # the error says it: no sync warning too
                _forget_warnings("cannot write to the database")
            _stop(str(exc), exc.exit_code)
        except BrokenPipeError:
            _broken_pipe()
        except OSError as exc:
            import errno

            if exc.filename is None and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF):
                from dat.core.files import stdout_error  # a write to stdout failed (a full disk)

                _stop(str(stdout_error(exc)), EXIT_ERROR)
            where = f"{exc.filename}: " if exc.filename else ""
            _stop(f"{where}{exc.strerror or exc}", EXIT_ERROR)
        except Exception as exc:
            _stop_unexpected(exc)
        finally:
            _plugin_warnings(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        # Only the built-in commands: loading every plugin to list theirs would double the
        # start-up time of `dat --help` (docs/performance.md has the budget). Plugin commands still run by name,
        # have their own --help, and `dat plugins` lists them.
        return sorted(set(LAZY_COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(name)
        if target is not None:
            modname, attr = target.split(":")
            try:
                return getattr(importlib.import_module(modname), attr)
            except Exception as exc:  # one broken command must not take dat --help down
                return _unavailable(name, f"{type(exc).__name__}: {exc}")
        self._add_plugin_commands()
        return self.commands.get(name)

    def _add_plugin_commands(self) -> None:
        if LazyGroup._plugins_added:
            return
        LazyGroup._plugins_added = True
        from dat.core.plugins import get_plugin_manager

        for impl in get_plugin_manager().pm.hook.register_commands.get_hookimpls():
            before = set(self.commands)
            try:
                impl.function(cli=self)
            except Exception as exc:  # a plugin's command hook must not break dat
                click.echo(f"dat: plugin {impl.plugin_name}'s register_commands failed: {exc}",
                           err=True)
            for name in set(self.commands) - before:
                LazyGroup.plugin_commands[name] = impl.plugin_name


#: the longest error message printed (a 100,000-character argument is not echoed whole)
MAX_MESSAGE = 1000

#: the exit code when the reader of stdout went away (`dat export | head -1`): as if killed
#: by SIGPIPE, which is what a shell reports for other programs in that place
EXIT_BROKEN_PIPE = 141


class Terminated(KeyboardInterrupt):
    """SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 or SIGALRM, raised where the process is so that it unwinds like ctrl+c: every
    ``finally`` and context manager runs (an atomic write removes its temporary file)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: the signals caught by :func:`_catch_termination`
TERMINATING = ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM")


def _catch_termination() -> None:
    """The signals whose default action would kill dat (SIGTERM, SIGHUP, SIGUSR1, SIGUSR2,
    SIGALRM) end it as ctrl+c does, with exit 128 + the signal (143, 129, 138, 140, 142), so
    a file being written leaves no temporary file. SIGKILL cannot be caught: the next write
    to the same file removes what it left (see :mod:`dat.core.files`)."""
    import contextlib
    import signal

    def handler(signum: int, _frame: Any) -> None:
        for other in names:  # a second signal must not cut the clean-up short
            with contextlib.suppress(ValueError, OSError):
                signal.signal(other, signal.SIG_IGN)
        raise Terminated(signum)

    names = [sig for sig in (getattr(signal, n, None) for n in TERMINATING) if sig is not None]
    for sig in names:
        try:
            if signal.getsignal(sig) in (signal.SIG_DFL, None):  # not one the caller chose to ignore
                signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread
            pass


def _interrupted(exc: KeyboardInterrupt) -> NoReturn:
    if isinstance(exc, Terminated):
        import signal

        _stop(f"stopped by {signal.Signals(exc.signum).name}", 128 + exc.signum)
    _stop("interrupted", 130)


def _stop(message: str, code: int) -> NoReturn:
    """Print ``dat: <message>`` as one line on stderr and exit with ``code``."""
    from dat.core.reports import printable

    line = printable(" ".join(str(message).split()))  # no escape sequence reaches the terminal
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE - 1] + "…"
    try:
        click.echo(f"dat: {line}", err=True)
    except (OSError, ValueError):  # stderr itself is gone: the exit code still says it
        pass
    sys.exit(code)


def _flush_stdout() -> None:
    from dat.core.files import flush_stdout

    flush_stdout()


def _broken_pipe() -> NoReturn:
    """The reader of stdout stopped reading: stop quietly, without a message or a traceback
    when Python flushes stdout on the way out."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    sys.exit(EXIT_BROKEN_PIPE)


def _stop_unexpected(exc: Exception) -> NoReturn:
    import os

    if os.environ.get("DAT_DEBUG", "").strip() not in ("", "0"):
        raise exc
    from dat.core.db import describe_database_error

    described = describe_database_error(exc)
    if described is not None:  # a driver error: an unreachable server, a locked file...
        if described.startswith("cannot write to the database"):
            _forget_warnings("cannot write to the database")
        _stop(described, EXIT_ERROR)
    first = (str(exc).splitlines() or [""])[0][:500]
    _stop(f"internal error: {type(exc).__name__}: {first} (this is a bug in dat or a plugin; "
          "DAT_DEBUG=1 shows the traceback)", EXIT_ERROR)


def _plugin_warnings(ctx: click.Context) -> None:
    """The warnings the plugins and the sync earned during the command (see
    PluginHost.warn), each once, then one line when some plugin failed, has problems or a
    slow hook. ``-q`` silences them all; ``dat plugins`` lists the plugins instead."""
    from dat.core import plugins

    host = plugins.current_host()
    if host is None:
        return
    lines = host.take_warnings()
    if (ctx.obj or {}).get("quiet"):
        return
    if ctx.invoked_subcommand != "plugins":
        health = host.health_line(already=lines)
        if health is not None:
            lines.append(health)
    for line in lines:
        click.echo(f"dat: warning: {line}", err=True)


def _forget_warnings(prefix: str) -> None:
    from dat.core import plugins

    host = plugins.current_host()
    if host is not None:
        for line in host.take_warnings():
            if not line.startswith(prefix):
                host.warn(line)


def _unavailable(name: str, why: str) -> click.Command:
    def run() -> None:
        from dat.core.errors import DatError

        raise DatError(f"the {name} command is unavailable: {why}")

    return click.Command(name, callback=run, help=f"(unavailable: {why})",
                         context_settings={"ignore_unknown_options": True})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dat")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _print_version(ctx: click.Context, _param: Any, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"dat {_version()}")
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                              "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
@click.option("--db", "db_url", metavar="URL", envvar="DAT_DATABASE_URL",
              help="Database URL (default: $DAT_DATABASE_URL, else an SQLite file in your "
                   "user data folder, created and filled on first use). Examples: "
                   "sqlite:///dat.sqlite3, postgresql+psycopg://user@host/dat")
@click.option("--strict-plugins", is_flag=True, envvar="DAT_STRICT_PLUGINS",
              help="Fail (exit 1) when any plugin fails to load or registers bad data, "
                   "instead of skipping it.")
@click.option("--quiet", "-q", is_flag=True, envvar="DAT_QUIET",
              help="No warnings on stderr (plugin health, ownership, sync); errors still show.")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, strict_plugins: bool, quiet: bool) -> None:
    """dat: performance management for Drug Action Teams.

    Browse partnerships' indicators, targets and RAG ratings, compare partnerships and
    produce committee reports. Data comes from partnership plugins and imports.

    \b
    Examples:
      dat partnerships
      dat status dudley --period "2007/08 Q1"
      dat indicators --partnership dudley --format csv
      dat plugins

    Plugins may add commands of their own: `dat plugins` lists them.

    Results go to stdout, messages to stderr. Exit codes: 0 success, 1 an error in data
    or a run, 2 bad usage (unknown names are listed with the valid choices).
    """
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url
    ctx.obj["strict"] = strict_plugins
    ctx.obj["quiet"] = quiet


def main(argv: list[str] | None = None) -> None:
    """The ``dat`` console script. Errors inside a command are handled by
    :meth:`LazyGroup.invoke`; this catches what happens around it (writing ``--help`` to a
    full disk or a closed pipe, an interrupt)."""
    import os
    import warnings

    warnings.showwarning = _show_warning  # a library's warning is one line too, never raw
    if sys.stderr is None:  # started with stderr closed (`dat ... 2>&-`): the exit code says it
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stdout is None:  # started with stdout closed (`dat export >&-`): writing it fails
        from dat.core.files import closed_stdout

        sys.stdout = closed_stdout()
    _catch_termination()
    for var in ("DAT_QUIET", "DAT_STRICT_PLUGINS"):  # click's message names only the option
        value = os.environ.get(var, "").strip().lower()
        if value and value not in ("1", "0", "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"):
            _stop(f"{var} is {os.environ[var][:20]!r}; give 1 or 0 (true/false, yes/no, on/off)", EXIT_USAGE)
    try:
        cli.main(args=argv, prog_name="dat", standalone_mode=True)
    except SystemExit as exc:
        from click.utils import PacifyFlushWrapper

        # click's own answer to a closed pipe outside a command (`dat --help | true`): it
        # wraps stdout and exits 1; dat's answer everywhere is a quiet 141
        if exc.code == 1 and isinstance(sys.stdout, PacifyFlushWrapper):
            _broken_pipe()
        raise
    except KeyboardInterrupt as exc:  # pragma: no cover - interactive
        _interrupted(exc)
    except BrokenPipeError:
        _broken_pipe()
    except OSError as exc:
        _discard_stdout()
        _stop(f"cannot write the output: {exc.strerror or exc}", EXIT_ERROR)


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: str | None = None) -> None:
    """A warning from a library (SQLAlchemy's SAWarning...) as ``dat: warning: <first line>``."""
    text = " ".join(((str(message).strip().splitlines() or [category.__name__])[0]).split())
    if len(text) > 180:
        text = text[:179] + "…"
    try:
        click.echo(f"dat: warning: {text}", err=True)
    except (OSError, ValueError):
        pass


def _discard_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["cli", "main", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE"]
