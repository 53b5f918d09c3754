"""The one place where dat writes output files and decides what a spreadsheet cell holds.

Cells
    :func:`safe_cell` neutralises a text cell that a spreadsheet would read as a formula
    (CSV injection, OWASP): text whose first character, or first character after leading
    whitespace, is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or a full-width
    ``＝ ＋ － ＠``) gets a single quote ``'`` in front. Numbers (``int``, ``float``,
    ``Decimal``) are never touched, so ``-2.5`` stays the number ``-2.5``; text that only
    looks like a number (a note ``"-5"``) is text and is quoted like any other.
    :func:`xlsx_cell` makes an openpyxl cell from a value that is never a formula. JSON,
    Markdown, HTML and Word output are not spreadsheets: their values are written exactly.

Files
    :func:`atomic_path` / :func:`atomic_text` / :func:`write_text` write ``-o PATH``: the
    folder must exist (it is never created), a symlink is refused (never followed), a
    folder or a device is refused, an existing file is replaced only with ``force`` (the
    ``--force`` of the command), and the write is atomic: a temporary file in the same
    folder, flushed and fsynced, then renamed over ``PATH``; on any error the temporary file
    is removed and an existing file is left as it was. Only the last component of ``PATH``
    is checked for a symlink: a symlinked folder on the way is followed, as every Unix tool
    does. :func:`atomic_folder` writes a folder of files (``dat new-partnership``) the same way.

    Temporary names carry the writer's process id (``.NAME.PID.XXXXXXXX.tmp.SUFFIX``): a
    writer killed with SIGKILL cannot remove its temporary file, so the next write to the
    same target removes those whose process no longer exists. A name too long for that
    (near the file system's 255 bytes) uses a hash of itself instead (``.dat-HASH.PID…``).

Standard output
    :func:`flush_stdout` flushes standard output where the CLI can still report a failure
    (a full disk is one line, exit 1; a reader that went away is exit 141).

This module imports only the standard library (and :mod:`dat.core.errors`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from dat.core.errors import DatError, shorten

#: the first characters that make a spreadsheet read a cell as a formula (or, for tab and
#: carriage return, that hide one after them), with their full-width forms, which some
#: spreadsheets fold into the ASCII ones
FORMULA_PREFIXES = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

#: leading whitespace looked through: a spreadsheet trims it before reading a formula
_LEADING_SPACE = " \t\r\n\x0b\x0c\u00a0\u2007\u202f\u3000"


class OutputError(DatError):
    """A file or standard output that dat refuses to write, or cannot (exit 1)."""


#: the characters a spreadsheet may split a CSV line on (by locale or choice): a text cell
#: holding one is always quoted, and each part after one is neutralised like a cell's start
SEPARATORS = ",;\t|"
#: what makes CsvWriter quote a text field: a separator, a quote or a line break
_QUOTED = re.compile("[" + re.escape(SEPARATORS) + '"\r\n]')
#: a separator, then optional leading space, then a formula character: a spreadsheet that
#: splits the line on that separator (even outside the quotes) starts a cell with a formula
_PART = re.compile("([" + re.escape(SEPARATORS) + "])(?=[" + re.escape(_LEADING_SPACE) + "]*["
                   + re.escape("".join(sorted(FORMULA_PREFIXES))) + "])")


def is_formula_like(text: str) -> bool:
    """True when ``text`` would be read by a spreadsheet as a formula."""
    if not text:
        return False
    if text[0] in FORMULA_PREFIXES:
        return True
    rest = text.lstrip(_LEADING_SPACE)
    return bool(rest) and rest[0] in FORMULA_PREFIXES


def safe_cell(value: Any, separators: bool = True) -> Any:
    """``value`` as it is safe to put in a CSV or spreadsheet cell: text that a spreadsheet
    would read as a formula gets a leading ``'``; with ``separators`` (CSV, the default), so
    does each part after a :data:`SEPARATORS` character (``x;=1+1`` is ``x;'=1+1``: a
    spreadsheet splitting on ``;`` would read ``=1+1`` as a formula even from a quoted
    field). An .xlsx cell is never split, so only its start counts there
    (``separators=False``). Anything else (numbers, ``None``, other text) is returned
    unchanged."""
    if not isinstance(value, str):
        return value
    if separators and _PART.search(value):
        value = _PART.sub(r"\1'", value)
    if is_formula_like(value):
        return "'" + value
    return value


def xlsx_text(value: str) -> str:
    """Text as an XLSX cell can hold it: neutralised (see :func:`safe_cell`), with the
    control characters that XML 1.0 cannot carry replaced by U+FFFD."""
    text = safe_cell(value, separators=False)
    if any(_not_xml(ch) for ch in text):
        text = "".join("\ufffd" if _not_xml(ch) else ch for ch in text)
    return text


def _not_xml(ch: str) -> bool:
    """A character XML 1.0 cannot carry: C0 controls but tab, LF and CR; lone surrogates;
    U+FFFE and U+FFFF (an imported note may hold them: r6 F01)."""
    o = ord(ch)
    return (o < 32 and ch not in "\t\n\r") or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF)


def xlsx_cell(ws: Any, value: Any) -> Any:
    """A write-only openpyxl cell for ``value``: text neutralised and typed as a string
    (never a formula), numbers kept as numbers (``Decimal`` as a float), ``None`` empty."""
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=xlsx_text(value))
        cell.data_type = "s"
        return cell
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, float) and math.isfinite(value):
        cell._value = repr(value)  # openpyxl writes "%.16g": 17 digits read back bit-identical
    return cell


def set_xlsx_row(cells: Any) -> None:
    """Make every text cell of an appended openpyxl row (normal, not write-only, mode) safe:
    neutralised and typed as a string, so it is never a formula."""
    for cell in cells:
        if isinstance(cell.value, str) or cell.data_type == "f":
            text = xlsx_text(str(cell.value))
            cell.value = text
            cell.data_type = "s"


class CsvWriter:
    """``csv.writer(out, lineterminator="\n")`` whose rows are safe to read back and to open
    in any spreadsheet: a text field holding a lone carriage return or any of
    :data:`SEPARATORS` (``;``, tab and ``|`` as well as ``,``) is quoted (the csv module
    quotes only its own delimiter and line terminator, so a spreadsheet splitting on ``;``
    would cut such a field in two). Cells are written as given: neutralise them with
    :func:`safe_cell` first."""

    def __init__(self, out: IO[str]) -> None:
        import csv

        self._out = out
        self._writer = csv.writer(out, lineterminator="\n")
        self._csv = csv

    def writerow(self, row: Any) -> None:
        row = list(row)
        if any(isinstance(v, str) and _QUOTED.search(v) for v in row):
            self._out.write(",".join(map(self._field, row)) + "\n")
        else:
            self._writer.writerow(row)

    def _field(self, value: Any) -> str:
        if isinstance(value, str) and _QUOTED.search(value):
            return '"' + value.replace('"', '""') + '"'
        if value is None or value == "":
            return ""
        buf = io.StringIO()
        self._csv.writer(buf, lineterminator="\n").writerow([value])
        return buf.getvalue()[:-1]

    def writerows(self, rows: Any) -> None:
        for row in rows:
            self.writerow(row)


# -- files ------------------------------------------------------------------------------------

def check_output(path: str | Path, *, force: bool = False) -> Path:
    """Refuse ``path`` now (before any work) if it cannot be written as asked: its folder
    does not exist, it is a symlink, a folder or not a regular file, or it exists and
    ``force`` is not given. Returns the path."""
    shown = shorten(path)  # the path 90 characters at the most, its folder 60: within 200
    if str(path).endswith(("/", os.sep)) or (os.altsep and str(path).endswith(os.altsep)):
        # Path("r.md/") is Path("r.md"): a name ending in a slash means a folder, never a file
        raise OutputError(f"cannot write {shown}: it ends in a slash, so it names a folder; "
                          "give a file name")
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {shown}: {shorten(parent, 60)} is not an existing folder")
    st = _lstat(path)
    if st is None:
        return path
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {shown}: it is a folder; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"cannot write {shown}: it is not a regular file")
    if not force:
        raise OutputError(f"cannot write {shown}: the file exists; use --force to replace it")
    return path


def _lstat(path: Path) -> os.stat_result | None:
    """``path``'s own status (``None`` when nothing is there); a symlink is refused."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"cannot write {shorten(path)}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"cannot write {shorten(path)}: it is a symbolic link, and dat never "
                          "writes through one; give the real path")
    return st


def _umask_mode(full: int = 0o666) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return full & ~mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit(tmp: Path, path: Path, force: bool) -> None:
    """Move the finished ``tmp`` to ``path``: a hard link when not replacing (so a file
    that appeared meanwhile is not clobbered), else an atomic rename."""
    check_output(path, force=force)  # again: the path may have changed while we wrote
    if not force:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise OutputError(f"cannot write {path}: the file exists; use --force to replace it") from None
        except OSError:  # a file system without hard links: the check above must do
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
    else:
        os.replace(tmp, path)
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder (same suffix) for a writer that wants a
    path (openpyxl, a renderer); when the block ends without an error, the file is fsynced
    and moved to ``path``. On any error the temporary file is removed and ``path`` is left
    as it was."""
    path = check_output(path, force=force)
    with _temporary(path, path.stem, f".tmp{path.suffix}", folder=False) as tmp:
        yield tmp
        os.chmod(tmp, _umask_mode())
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _commit(tmp, path, force)


@contextlib.contextmanager
def _temporary(path: Path, stem: str, tail: str, *, folder: bool) -> Iterator[Path]:
    """A temporary file (or folder) ``.STEM.PID.XXXXXXXX<tail>`` beside ``path``, removed on
    any error in the block (an OS error becomes an :class:`OutputError` naming ``path``;
    a closed pipe stays a :class:`BrokenPipeError`). Stale ones of writers that were killed
    are removed first."""
    stem, tail = _fitted(stem, tail)
    _remove_stale(path.parent, stem, tail, folder_kind=folder)
    prefix = f".{stem}.{os.getpid()}."
    # a terminating signal (SIGTERM, SIGHUP...) is held back from the moment the file is made
    # until the block that removes it is entered: one landing in between left it behind
    held = _hold_signals()
    try:
        if folder:
            tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=prefix, suffix=tail))
            try:
                (tmp / TEMP_MARKER).touch()
            except OSError:
                _remove(tmp)
                raise
        else:
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=tail)
            os.close(fd)
            tmp = Path(name)
    except OSError as exc:
        _let_signals_through(held)
        raise OutputError(f"cannot write {shorten(path)}: {exc.strerror or exc}") from None
    try:
        _let_signals_through(held)  # one held back is raised here, where the file is removed
        yield tmp
    except OSError as exc:
        _release(exc)
        _remove(tmp)
        if exc.errno == errno.EPIPE:
            raise
        raise OutputError(f"cannot write {shorten(path)}: {exc.strerror or exc}") from None
    except BaseException as exc:
        _release(exc)
        _remove(tmp)
        raise


def _hold_signals() -> Any:
    """Block the signals dat ends on (see cli.main's TERMINATING) in this thread; the old
    mask, or None where that cannot be done (Windows, not the main thread)."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        return None
    wanted = {getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT", "SIGUSR1", "SIGUSR2", "SIGALRM")
              if hasattr(signal, n)}
    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    except (ValueError, OSError):
        return None


def _let_signals_through(held: Any) -> None:
    if held is not None:
        import signal

        signal.pthread_sigmask(signal.SIG_SETMASK, held)


#: the longest file name, in bytes, on the file systems dat writes to (Linux, macOS, Windows)
NAME_MAX = 255
#: the bytes a temporary name adds to its stem and tail: "." "." PID (7 digits at most) "."
#: and 8 random characters
_TEMP_EXTRA = 3 + 7 + 8


def _fitted(stem: str, tail: str) -> tuple[str, str]:
    """``stem`` and ``tail`` of a temporary name, shortened when the name would be longer than
    :data:`NAME_MAX` bytes (an ``-o`` name near the limit is legal): the stem becomes a hash
    of itself (the same for every writer of that name, so stale files are still found), and a
    long tail just ``.tmp``."""
    size = len(stem.encode("utf-8", "surrogateescape")) + len(tail.encode("utf-8", "surrogateescape"))
    if size + _TEMP_EXTRA <= NAME_MAX:
        return stem, tail
    import hashlib

    if len(tail.encode("utf-8", "surrogateescape")) > 32:
        tail = ".tmp"
    return "dat-" + hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:16], tail


def _release(exc: BaseException) -> None:
    """Let go now, quietly, of what a failed writer left open: openpyxl and python-docx
    leave a ``ZipFile`` in their frames whose finaliser, on a full disk, would print an
    "Exception ignored" traceback when it runs later. Clearing the finished frames of the
    error runs it here, with that report silenced (the error itself is reported)."""
    import gc
    import traceback

    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        seen: BaseException | None = exc
        while seen is not None:
            traceback.clear_frames(seen.__traceback__)
            seen = seen.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _remove(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            import shutil

            shutil.rmtree(tmp)
        else:
            os.unlink(tmp)


#: the empty file in each temporary folder dat makes (removed before the folder moves into
#: place): a stale folder is removed only when it holds it, never a user's folder of that name
TEMP_MARKER = ".dat-temporary-folder"


def _remove_stale(folder: Path, stem: str, tail: str, *, folder_kind: bool = False) -> None:
    """Remove the temporary files ``.STEM.PID.XXXXXXXX<tail>`` in ``folder`` whose writer
    process no longer exists on this machine (it was killed with SIGKILL, or the machine
    stopped); those of a live process are left alone. Only regular files are removed, or
    with ``folder`` only real folders holding :data:`TEMP_MARKER`: anything else of such a
    name is the user's."""
    import re

    pattern = re.compile(rf"\.{re.escape(stem)}\.(\d+)\.[a-z0-9_]{{8}}{re.escape(tail)}")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = pattern.fullmatch(name)
        if m is None or _alive(int(m.group(1))):
            continue
        try:
            st = os.lstat(folder / name)
            marker = os.lstat(folder / name / TEMP_MARKER) if folder_kind and stat.S_ISDIR(st.st_mode) else None
        except OSError:
            continue
        if folder_kind:
            if stat.S_ISDIR(st.st_mode) and marker is not None and stat.S_ISREG(marker.st_mode):
                _remove(folder / name)
        elif stat.S_ISREG(st.st_mode):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process, or not a pid at all
        return True
    return True


@contextlib.contextmanager
def atomic_text(path: str | Path, *, force: bool = False, encoding: str = "utf-8",
                newline: str | None = "") -> Iterator[IO[str]]:
    """A text stream whose content becomes ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, force=force) as tmp, tmp.open("w", encoding=encoding, newline=newline) as fh:
        yield fh
        fh.flush()


def write_text(path: str | Path, text: str, *, force: bool = False, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, with the checks of :func:`check_output`."""
    with atomic_text(path, force=force, encoding=encoding, newline=None) as fh:
        fh.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, force: bool = False) -> Iterator[Callable[[str, str], None]]:
    """Yield ``write(relative_name, text)`` for a writer of several files, which writes them
    atomically into a temporary folder beside ``path``; when the block ends without an
    error they move to ``path``: the whole folder is renamed into place when ``path`` does
    not exist; an existing folder (only with ``force``) gets them file by file, each
    replaced atomically, its other files kept. ``path``'s folder must exist; ``path``, and
    every file or folder in it that would be replaced, must not be a symlink (checked before
    anything moves). On any error, a full disk included, the temporary folder is removed and
    ``path`` is left as it was."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {shorten(path)}: {shorten(path.parent, 60)} is not an existing folder")
    st = _lstat(path)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {shorten(path)}: it exists and is not a folder")
    if st is not None and not force:
        raise OutputError(f"{shorten(path)} already exists (use --force to write into it)")
    with _temporary(path, path.name, ".tmp", folder=True) as tmp:

        def write(rel: str, text: str) -> None:
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                write_text(dest, text)
            except OutputError as exc:  # named where it was going, not where it was
                cause = exc.__context__
                why = cause.strerror if isinstance(cause, OSError) and cause.strerror else \
                    str(exc).rpartition(": ")[2]
                raise OutputError(f"cannot write {shorten(path / rel)}: {why}") from None

        yield write
        os.unlink(tmp / TEMP_MARKER)
        if _lstat(path) is None:
            os.chmod(tmp, _umask_mode(0o777))  # mkdtemp made it private
            os.rename(tmp, path)
        else:
            _merge(tmp, path, force)
            _remove(tmp)
        _fsync_dir(path.parent)


def _merge(tmp: Path, path: Path, force: bool) -> None:
    """Move every file of ``tmp`` to the same place in the existing folder ``path``, after
    checking that no folder on the way and no file replaced is a symlink or in the way."""
    if not force:
        raise OutputError(f"{shorten(path)} already exists (use --force to write into it)")
    files = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if not p.is_dir())
    for rel in files:
        for part in [*reversed(rel.parents[:-1]), rel]:
            st = _lstat(path / part)
            is_file = part == rel
            if st is not None and stat.S_ISDIR(st.st_mode) == is_file:
                kind = "a folder" if is_file else "a file"
                raise OutputError(f"cannot write {shorten(path / part)}: {kind} is in the way")
    for rel in files:
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, path / rel)


# -- standard output --------------------------------------------------------------------------

def stdout_error(exc: OSError) -> OutputError:
    """The one-line error for a failed write to standard output (not a closed pipe)."""
    discard_stdout()
    return OutputError(f"cannot write the output: {exc.strerror or exc}")


class _ClosedStdout(io.RawIOBase):
    """Standard output when the command was started with it closed (``dat export >&-``): it
    holds file descriptor 1 (on /dev/null, so no file opened later lands there) and every
    write fails, so a command that writes stdout reports it instead of claiming success."""

    def __init__(self) -> None:
        super().__init__()
        self._fd = os.open(os.devnull, os.O_WRONLY)

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, _data: Any) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def closed_stdout() -> IO[str]:
    """A text stream for a closed standard output: see :class:`_ClosedStdout`."""
    return io.TextIOWrapper(_ClosedStdout(), encoding="utf-8", write_through=True)  # type: ignore[type-var]


def discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so the interpreter's last flush of what is
    still buffered cannot fail again (with a traceback) after the error was reported."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def flush_stdout(text: str | None = None) -> None:
    """Flush standard output now (after writing ``text`` to it, if given), so that a full
    disk is reported by the CLI (a :class:`OutputError`) and a closed pipe raises
    :class:`BrokenPipeError` where it is handled, not at the interpreter's exit."""
    try:
        if text is not None:
            sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise stdout_error(exc) from None
    except ValueError:  # stdout was closed by the command itself
        pass


__all__ = [
    "FORMULA_PREFIXES", "SEPARATORS", "CsvWriter", "OutputError", "is_formula_like", "safe_cell", "xlsx_text",
    "xlsx_cell",
    "set_xlsx_row", "check_output", "atomic_path", "atomic_text", "write_text", "flush_stdout",
    "stdout_error", "discard_stdout", "closed_stdout", "atomic_folder",
]
