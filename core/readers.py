"""Reading import files into rows: dat's long CSV, the same as .xlsx, and Fingertips
"download data" CSV. Nothing here touches the database: :mod:`dat.core.importer` checks the
rows against it and writes them.

dat's long CSV (header names are case-insensitive; ``note`` optional)::

    partnership,indicator,period,value,numerator,denominator,note
    bromley,NTA.EFFECTIVE,2009/10,820,,,annual report

Fingertips CSV: columns ``Indicator ID``, ``Area Code``, ``Area Name``, ``Time period``,
``Value``, ``Lower CI 95.0 limit``, ``Upper CI 95.0 limit``, ``Count``, ``Denominator``,
``Value note``; areas and indicator IDs are mapped to partnerships and indicators by a
mapping file (TOML: ``[areas] "E08000027" = "dudley"`` and ``[indicators] "90244" = "NI40"``).
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import IO, Any

from dat.core.errors import DataError, printable

DAT_COLUMNS = ("partnership", "indicator", "period", "value", "numerator", "denominator", "note")
REQUIRED = ("partnership", "indicator", "period", "value")
FINGERTIPS_COLUMNS = ("Indicator ID", "Area Code", "Time period", "Value")
#: the columns that say a Fingertips row is a breakdown, each with its value in the
#: headline figure (Persons, all ages, no category): see :func:`is_headline`
FINGERTIPS_HEADLINE = {"Sex": "Persons", "Age": "the indicator's own", "Category Type": "", "Category": ""}
#: the Fingertips columns dat reads (others in a download, such as "Area Type", are ignored)
FINGERTIPS_READ = (*FINGERTIPS_COLUMNS, "Area Name", "Lower CI 95.0 limit", "Upper CI 95.0 limit",
                   "Count", "Denominator", "Value note", *FINGERTIPS_HEADLINE)
#: other columns of a Fingertips download, never taken for a misspelling of one dat reads
FINGERTIPS_OTHER = ("Indicator Name", "Parent Code", "Parent Name", "Area Type",
                    "Lower CI 99.8 limit", "Upper CI 99.8 limit",
                    "Recent Trend", "Compared to England value or percentiles",
                    "Compared to percentiles", "Time period Sortable", "New data", "Compared to goal",
                    "Time period range")

# -- input limits (docs/cli.md, "dat import": import rules) --------------------------------------

#: the longest line of a CSV file, in characters (a longer one is refused before it is read whole)
MAX_LINE_CHARS = 100_000
#: the longest cell (CSV field or spreadsheet cell), in characters
MAX_CELL_CHARS = 10_000
#: the most columns a header may have
MAX_COLUMNS = 200
#: the largest .xlsx file, in bytes (compressed, as on disk)
MAX_XLSX_BYTES = 20 * 1024 * 1024
#: the most bytes an .xlsx may unpack to (the sum of its members' sizes in the zip directory)
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
#: the highest compression ratio of the whole .xlsx or of any member over 1 MiB
MAX_XLSX_RATIO = 100
#: the most members (files inside the zip) an .xlsx may have
MAX_XLSX_MEMBERS = 1000
#: the most cells one row of a sheet can have (column XFD)
XLSX_MAX_CELLS_IN_ROW = 16_384
#: the largest magnitude of a number (a figure, count or denominator); smaller non-zero
#: magnitudes than 1/MAX_MAGNITUDE are refused too
MAX_MAGNITUDE = 1e15
#: no message is longer than this; quoted file content is cut short with an ellipsis first
MAX_MESSAGE = 200


def quote(text: str, limit: int = 40) -> str:
    """``repr`` of a piece of the file, cut to ``limit`` characters with an ellipsis."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _clamp(message: str, limit: int = MAX_MESSAGE) -> str:
    return message if len(message) <= limit else message[:limit - 1] + "…"


class ImportRefused(DataError, RuntimeError):
    """The file cannot be imported at all (unreadable, wrong header, wrong format)."""

    def __init__(self, message: str = "", *, exit_code: int | None = None) -> None:
        # printed after "dat: ", so the whole line stays within MAX_MESSAGE
        super().__init__(_clamp(" ".join(message.split()), MAX_MESSAGE - 5), exit_code=exit_code)


@dataclass
class Rejection:
    file: str
    line: int
    column: str
    rule: str

    def __str__(self) -> str:
        # printed after "rejected: ", so the whole line stays within MAX_MESSAGE; a path too
        # long for the line gives way first (its folders become "…/"), so the rule stays whole
        limit = MAX_MESSAGE - 10
        where = f":{self.line}: {self.column}: {self.rule}"
        file = self.file
        if len(file) + len(where) > limit and "/" in file:
            file = "…/" + file.rsplit("/", 1)[1]
        return _clamp(file + where, limit)


@dataclass
class ImportReport:
    file: str
    format: str
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    written: bool = False
    #: the .xlsx sheet that was read (None for CSV)
    sheet: str | None = None
    #: Fingertips breakdown rows (by sex, age or category) read but not imported
    breakdowns: int = 0
    #: Fingertips suppressed rows (no Value, a Value note) read but not imported
    suppressed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"schema": "dat.import/1", "file": self.file, "format": self.format,
                "rows": self.rows, "added": self.added, "changed": self.changed,
                "unchanged": self.unchanged, "written": self.written, "sheet": self.sheet,
                "breakdowns": self.breakdowns, "suppressed": self.suppressed,
                "rejected": [r.__dict__ for r in self.rejected]}


class Reading:
    """What is known about a file while it is read: called, the number of data rows read so
    far; also the .xlsx sheet read and the Fingertips breakdown and suppressed rows left out."""

    def __init__(self) -> None:
        self.rows = 0
        self.sheet: str | None = None
        self.breakdowns = 0
        self.suppressed = 0

    def __call__(self) -> int:
        return self.rows


@dataclass(slots=True)
class Row:
    line: int
    partnership: str
    indicator: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str | None = None
    #: "%" or "£" when the value was written with one (the importer checks the unit allows it)
    value_mark: str = ""
    #: the decimals the value was written with (for the numerator/denominator agreement check)
    value_decimals: int = 0
    #: (role, text) of each number cell ("value", "numerator", "denominator") whose text has a
    #: non-zero fractional part: not a whole number, whatever the float it reads as
    fractions: tuple[tuple[str, str], ...] = ()
    #: the value, numerator, denominator, lower and upper CI cells as written (for messages,
    #: which quote the number as written, never rounded)
    written: tuple[str, ...] = ()

    def shown(self, i: int, number: float) -> str:
        """Number ``i`` of :attr:`written` as the file wrote it (cut short if long)."""
        text = self.written[i].strip(NUMBER_SPACES) if i < len(self.written) else ""
        if not text:
            return f"{number!r}".removesuffix(".0")
        return text if len(text) <= 30 else text[:29] + "…"


# -- numbers ------------------------------------------------------------------------------------

class NumberError(ValueError):
    """A cell that is not a number by dat's one rule (:func:`parse_number`)."""


# a grouped number's first group is 1-3 digits not starting with 0 ("0,123" is not 123)
_NUM_POINT = re.compile(r"([+-]?)(£?)([1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]*)(?:\.([0-9]+))?"
                        r"(?:[eE]([+-]?[0-9]{1,5}))?(%?)")
_NUM_COMMA = re.compile(r"([+-]?)(£?)([1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]*)(?:,([0-9]+))?"
                        r"(?:[eE]([+-]?[0-9]{1,5}))?(%?)")


#: the only spaces allowed round a number (NBSP and other Unicode spaces are not: a number
#: with one round it is refused, as one with it as a thousands mark is)
NUMBER_SPACES = " \t"
#: XML's white space, stripped from round a number saved in an .xlsx ``<v>`` (Excel does)
XML_SPACES = " \t\r\n"


def parse_number(text: str, decimal_comma: bool = False) -> tuple[float, int, str]:
    """Read one cell as a number: ``(value, decimals written, mark)``, mark being "", "%" or "£".
    :func:`parse_number_exact` also says whether the text is a whole number."""
    value, decimals, mark, _whole = parse_number_exact(text, decimal_comma)
    return value, decimals, mark


def _literal(sign: str, whole: str, frac: str | None, exp: str | None) -> str:
    """The number a matched cell writes, as plain decimal text (separators already removed)."""
    return f"{sign}{whole or '0'}.{frac or '0'}" + (f"e{exp}" if exp else "")


def written_beyond(text: str, limit: int) -> bool:
    """Whether the number ``text`` writes is more than ``limit`` although it reads as the
    float ``limit`` (``100.00000000000000001`` is more than 100): the text, not the float,
    decides a bound. Either separator rule is tried, as one of them read the cell."""
    from decimal import Decimal

    s = text.strip(NUMBER_SPACES)
    for rule, sep in ((_NUM_POINT, ","), (_NUM_COMMA, ".")):
        m = rule.fullmatch(s)
        if m is not None and (m[3] or m[4]):
            sign, _cur, whole, frac, exp, _pct = m.groups()
            return Decimal(_literal(sign, whole.replace(sep, ""), frac, exp)) > limit
    return False


def parse_number_exact(text: str, decimal_comma: bool = False) -> tuple[float, int, str, bool]:
    """Read one cell as a number: ``(value, decimals written, mark, whole)``; ``whole`` is
    decided by the text, not the float (``5.0000000000000001`` is not whole, ``5.00`` is).

    The rule (docs/cli.md): optional ASCII spaces or tabs round it; an optional sign; an optional ``£``;
    ASCII digits, with thousands separators only in proper groups of three (``1,234,567``);
    an optional decimal part (``.5``; with ``decimal_comma``, ``,5`` and ``.`` groups
    thousands); an optional exponent; an optional ``%``. Nothing else: no ``_``, hex, other
    scripts' digits, ``inf`` or ``nan``; magnitudes over :data:`MAX_MAGNITUDE` (or non-zero
    under its inverse) are refused. ``-0`` is 0. Raises :class:`NumberError` with the reason.
    """
    if text.isdigit() and text.isascii():  # the fast path: plain digits
        if len(text) < 16:
            return float(text), 0, "", True
    s = text.strip(NUMBER_SPACES)
    m = (_NUM_COMMA if decimal_comma else _NUM_POINT).fullmatch(s)
    if m is None or not (m[3] or m[4]):
        hint = ""
        if not decimal_comma and re.fullmatch(r"[+-]?[0-9]+(?:[.,][0-9]+)*", s) and "," in s:
            hint = " (use groups of three like 1,234,567, or --decimal-comma)"
        elif decimal_comma and re.fullmatch(r"[+-]?[0-9]+(?:[.,][0-9]+)*", s):
            hint = " (--decimal-comma reads 1.234,5 as 1234.5)"
        elif "\n" in s or "\r" in s:
            hint = " (a line break inside the cell)"
        elif s != s.strip():
            hint = " (a non-ASCII space round it)"
        raise NumberError(f"{quote(text)} is not a number{hint}")
    sign, cur, whole, frac, exp, pct = m.groups()
    if cur and pct:
        raise NumberError(f"{quote(text)} is not a number (both £ and %)")
    whole = whole.replace("." if decimal_comma else ",", "")
    frac = frac or ""
    literal = _literal(sign, whole, frac, exp)
    value = float(literal)
    if value != value or value in (float("inf"), float("-inf")):
        raise NumberError(f"{quote(text)} is not a finite number")
    magnitude = abs(value)
    if magnitude > MAX_MAGNITUDE:
        raise NumberError(f"{quote(text)} is too large (more than {MAX_MAGNITUDE:g})")
    if magnitude == 0:
        if (whole + frac).strip("0"):
            raise NumberError(f"{quote(text)} is too small to be stored (under {1 / MAX_MAGNITUDE:g})")
        value = 0.0  # -0 is 0
    elif magnitude < 1 / MAX_MAGNITUDE:
        raise NumberError(f"{quote(text)} is too small (under {1 / MAX_MAGNITUDE:g})")
    decimals = max(0, len(frac) - (int(exp) if exp else 0))
    if not frac.strip("0"):
        is_whole = not exp or int(exp) >= 0 or not whole.strip("0") or _exact_whole(literal)
    else:
        is_whole = bool(exp) and _exact_whole(literal)
    return value, decimals, cur or pct, is_whole


def _exact_whole(literal: str) -> bool:
    from decimal import Decimal

    d = Decimal(literal)
    return d == d.to_integral_value()


# -- reading ----------------------------------------------------------------------------------

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: control characters no cell may hold (tab, CR and LF are allowed): C0 controls, DEL, C1
#: controls, and the invisible format and bidi controls of "Trojan Source" (zero-width
#: spaces and joiners, LRM/RLM, line/paragraph separators, embeddings and overrides,
#: isolates, the Arabic letter mark and U+FEFF anywhere but the file's first character)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f"
                      "\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


#: the bytes read first, to tell what kind of file this is before it is parsed
_HEAD = 65536


def open_input(path: Path) -> tuple[IO[bytes], bool]:
    """The import file opened once, for one pass (``-`` is standard input): the binary
    stream and whether it is a regular file (seekable). A FIFO or ``<(process
    substitution)`` is read once, never opened again."""
    if str(path) == "-":
        return sys.stdin.buffer, False
    try:
        fh = path.open("rb")
        regular = stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot read ({exc.strerror})") from None
    return fh, regular


class _Replay(io.RawIOBase):
    """A stream that gives ``head`` (the bytes already read) and then the rest of ``rest``,
    so a pipe is never read twice; with ``cr_only`` (an old Mac file whose lines end in a
    lone CR) every CR is read as a line feed."""

    def __init__(self, head: bytes, rest: IO[bytes], cr_only: bool = False) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest
        self._cr_only = cr_only

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            data: bytes | memoryview = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._rest.read(len(b))
            n = len(data)
        if self._cr_only:
            data = bytes(data).replace(b"\r", b"\n")
        b[:n] = data
        return n

    def close(self) -> None:
        if self._rest is not sys.stdin.buffer:
            self._rest.close()
        super().close()


def _check_start(path: Path, fh: IO[bytes]) -> bytes:
    """Refuse a file that is empty or plainly not CSV text from its first bytes; return
    the bytes read (the caller reads on from there: see :class:`_Replay`)."""
    try:
        head = fh.read(_HEAD + 1)
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot read ({exc.strerror})") from None
    if len(head) <= _HEAD and not head.strip():
        raise ImportRefused(f"{path}: the file is empty")
    if head.startswith(b"PK\x03\x04"):
        if str(path) == "-" or not path.suffix:
            raise ImportRefused(f"{path}: this is a zip/xlsx workbook; standard input and names without "
                                "a suffix are read as CSV: save it to a file named .xlsx and import that")
        raise ImportRefused(f"{path}: this is a zip/xlsx file; give it an .xlsx suffix")
    if head.startswith(_OLE2):
        raise ImportRefused(f"{path}: this is an Excel .xls or password-protected workbook, not CSV; "
                            "save it as CSV UTF-8")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(f"{path}:1: not UTF-8 text: UTF-16 (it starts with a UTF-16 byte-order mark); "
                            "save it as CSV UTF-8")
    return head


def _not_utf8(path: Path, line: int, raw: bytes, exc: UnicodeDecodeError) -> ImportRefused:
    where = len(raw[:exc.start].decode("utf-8", "replace")) + 1
    return ImportRefused(f"{path}:{line}: not UTF-8 text (the byte {raw[exc.start:exc.start + 1]!r} at "
                         f"character {where} of the line); save it as CSV UTF-8")


def _bare_quote(line: str, quoted: bool) -> tuple[int, bool]:
    """RFC 4180's rule the csv module does not keep: a ``"`` only opens a field or sits
    (doubled) inside a quoted one. Returns (the 1-based column of a bare quote inside an
    unquoted field or 0, whether the line ends inside a quoted field)."""
    column, start, i, n = 1, True, 0, len(line)
    while i < n:
        ch = line[i]
        if quoted:
            if ch == '"':
                if i + 1 < n and line[i + 1] == '"':
                    i += 1
                else:
                    quoted = False
        elif ch == '"':
            if not start:
                return column, False
            quoted = True
        elif ch == ",":
            column += 1
            start = True
            i += 1
            continue
        start = False
        i += 1
    return 0, quoted


def _csv_records(path: Path, _reading: Reading) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and a stream of (line number, fields); the file is read once, as it goes
    (a pipe or standard input too), so a file of a million rows is never held in memory, and
    no line longer than :data:`MAX_LINE_CHARS` is ever read whole. Each line is decoded on
    its own, so a byte that is not UTF-8 is reported on its own line."""
    raw_fh, _regular = open_input(path)
    try:
        head = _check_start(path, raw_fh)
    except BaseException:
        raw_fh.close()
        raise
    cr_only = b"\r" in head and b"\n" not in head
    first = head.split(b"\r" if cr_only else b"\n", 1)[0].decode("utf-8", "replace")
    sep = other_separator([first]) if "," not in first else None
    if sep is not None:
        raw_fh.close()
        raise ImportRefused(f"{path}:1: the file looks {OTHER_SEPARATORS[sep]}-separated; dat reads "
                            "comma-separated CSV (save it as CSV UTF-8)")
    fh = io.BufferedReader(_Replay(head, raw_fh, cr_only), _HEAD)
    long_line = [0]  # the number of the last line longer than MAX_CELL_CHARS
    in_quote = [False]  # the last line ended inside a quoted field
    record = [1, 0]  # the line the current record starts on, and its characters so far
    #: the most bytes a line of MAX_LINE_CHARS characters can take (4 a character in UTF-8)
    limit = 4 * MAX_LINE_CHARS + 1

    def lines() -> Iterator[str]:
        readline = fh.readline
        n = 0
        while True:
            raw = readline(limit + 1)
            if not raw:
                return
            n += 1
            if len(raw) > limit and raw[limit:] not in (b"\n", b"\r\n", b"\r"):
                raise ImportRefused(f"{path}:{n}: the line is longer than {MAX_LINE_CHARS:,} characters")
            if b"\x00" in raw:
                raise ImportRefused(f"{path}:{n}: a NUL byte in the line; this is not a CSV text file")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, n, raw, exc) from None
            if n == 1 and line.startswith("\ufeff"):
                line = line[1:]
            if len(line) > MAX_CELL_CHARS:
                if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:  # the line end is not counted
                    raise ImportRefused(f"{path}:{n}: the line is longer than {MAX_LINE_CHARS:,} characters")
                long_line[0] = n
            bad = _CONTROL.search(line)
            if bad:
                raise ImportRefused(f"{path}:{n}: a control character ({bad[0]!r}) in the line; "
                                    "this is not a clean CSV text file")
            if in_quote[0]:  # a quoted field over several lines: one record, within the line limit
                record[1] += len(line)
                if record[1] > MAX_LINE_CHARS:
                    raise ImportRefused(f"{path}:{record[0]}: malformed CSV: a quoted field runs on for more "
                                        f"than {MAX_LINE_CHARS:,} characters (an unbalanced quote?)")
            else:
                record[:] = [n, len(line)]
            if '"' in line or in_quote[0]:
                column, in_quote[0] = _bare_quote(line, in_quote[0])
                if column:
                    raise ImportRefused(f"{path}:{n}: malformed CSV: column {column}: a quote inside an "
                                        'unquoted field; quote the whole field and double the quote ("a""b")')
            yield line

    reader = csv.reader(lines(), strict=True)

    def fail(exc: BaseException, start: int) -> ImportRefused:
        if isinstance(exc, ImportRefused):
            return exc
        if "new-line character seen in unquoted field" in str(exc):  # csv's advice is for programmers
            return ImportRefused(f"{path}:{start}: malformed CSV: a carriage return (CR) inside an unquoted "
                                 "field; save the file with one kind of line end (CRLF or LF)")
        return ImportRefused(f"{path}:{start}: malformed CSV ({exc}; an unbalanced quote?)")

    def cells_ok(rec: list[str], start: int, every: bool = False) -> None:
        if every or long_line[0] >= start:
            for i, c in enumerate(rec, 1):
                if len(c) > MAX_CELL_CHARS:
                    raise ImportRefused(f"{path}:{start}: column {i}: a cell longer than "
                                        f"{MAX_CELL_CHARS:,} characters ({quote(c, 20)})")

    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        raise ImportRefused(f"{path}: no header row") from None
    except (csv.Error, ImportRefused) as exc:
        fh.close()
        raise fail(exc, 1) from None
    if reader.line_num != 1:
        fh.close()
        raise ImportRefused(f"{path}:1: malformed CSV: a quoted header field runs past the end of the line "
                            "(an unbalanced quote?)")
    cells_ok(header, 1)

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 2
        width = len(header)
        try:
            for rec in reader:
                end = reader.line_num
                if end != start:  # RFC 4180: a quoted field may hold line breaks (a note over lines)
                    if len(rec) != width:
                        raise ImportRefused(f"{path}:{start}: malformed CSV: a quoted field runs from line "
                                            f"{start} to {end}, and the row has {len(rec)} fields, the header "
                                            f"{width} (an unbalanced quote?)")
                    cells_ok(rec, start, True)
                elif long_line[0] >= start:
                    cells_ok(rec, start)
                if any(rec) and (rec[0].strip() or any(c.strip() for c in rec)):
                    yield start, rec
                start = end + 1
        except (csv.Error, ImportRefused) as exc:
            raise fail(exc, start) from None
        finally:
            fh.close()

    return [h.strip() for h in header], rows()


def check_workbook(path: Path, fh: IO[bytes] | None = None) -> None:
    """Refuse an .xlsx that is not a workbook or that is too big to open, from the zip's
    central directory alone (nothing is decompressed): the limits are the ``MAX_XLSX_*``
    constants. ``fh``: the file already open (seekable); else ``path`` is opened."""
    import zipfile

    if fh is None:
        with path.open("rb") as own:
            return check_workbook(path, own)
    try:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        magic = fh.read(8)
        fh.seek(0)
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot read ({exc.strerror})") from None
    if size == 0:
        raise ImportRefused(f"{path}: the file is empty")
    if magic.startswith(_OLE2):
        raise ImportRefused(f"{path}: not a readable .xlsx workbook: encrypted (password-protected) "
                            "or an old .xls; save it as .xlsx without a password")
    if size > MAX_XLSX_BYTES:
        raise ImportRefused(f"{path}: the workbook is {size / 2**20:.1f} MiB; the limit is "
                            f"{MAX_XLSX_BYTES // 2**20} MiB (MAX_XLSX_BYTES): import it as CSV")
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportRefused(f"{path}: not a readable .xlsx workbook (not a zip file: {exc})") from None
    if len(infos) > MAX_XLSX_MEMBERS:
        raise ImportRefused(f"{path}: not a readable .xlsx workbook: {len(infos):,} files inside; the limit "
                            f"is {MAX_XLSX_MEMBERS:,} (MAX_XLSX_MEMBERS)")
    names = {i.filename for i in infos}
    if len(names) != len(infos):  # spreadsheet programs differ on which copy they read
        from collections import Counter

        twice = next(name for name, n in Counter(i.filename for i in infos).items() if n > 1)
        raise ImportRefused(f"{path}: not a readable .xlsx workbook: {quote(twice)} is in the zip twice, "
                            "so programs may read different copies; open and save it in a spreadsheet program")
    if any(i.flag_bits & 0x1 for i in infos):
        raise ImportRefused(f"{path}: not a readable .xlsx workbook: the zip is encrypted; "
                            "save it without a password")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise ImportRefused(f"{path}: the workbook unpacks to {total / 2**20:,.0f} MiB; the limit is "
                            f"{MAX_XLSX_UNCOMPRESSED // 2**20} MiB (MAX_XLSX_UNCOMPRESSED): import it as CSV")
    for i in infos:
        if i.file_size > 2**20 and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
            raise ImportRefused(f"{path}: {quote(i.filename)} inside the workbook is compressed "
                                f"{i.file_size / max(i.compress_size, 1):,.0f}:1; the limit is "
                                f"{MAX_XLSX_RATIO}:1 (MAX_XLSX_RATIO), a zip bomb?")
    if total > 2**20 and total > MAX_XLSX_RATIO * max(packed, 1):
        raise ImportRefused(f"{path}: the workbook is compressed {total / max(packed, 1):,.0f}:1; the limit "
                            f"is {MAX_XLSX_RATIO}:1 (MAX_XLSX_RATIO), a zip bomb?")
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ImportRefused(f"{path}: not a readable .xlsx workbook: a zip file without xl/workbook.xml")


class _FloatCell(str):
    """The text of a spreadsheet cell holding a float (its ``repr``: the exact value)."""


class _DateCell(str):
    """The text of a spreadsheet cell holding a date or time."""

    when: Any = None


class _BadCell(str):
    """A spreadsheet cell dat refuses in whatever column it is: a formula never calculated,
    an error value (``#N/A``), a number, date, boolean or shared string the file writes
    wrongly. ``rule`` is the rejection; the row is rejected naming the cell's column."""

    rule: str = ""


def _bad(rule: str) -> _BadCell:
    out = _BadCell("")
    out.rule = rule
    return out


NO_RESULT_RULE = "a formula with no saved result; open and save the file in a spreadsheet program, or paste values"

#: a cell's own reference in a sheet's XML (``r="D2"``): letters then a row number, no ``$``
_CELL_REF = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")

#: the number a spreadsheet's XML may hold in ``<v>`` (xsd:double without inf and NaN):
#: ASCII digits, one optional point and exponent, nothing else (no ``_``, hex or other
#: scripts' digits, which Python's ``int()`` and ``float()`` would take)
_XLSX_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,5})?")

#: the parts of a number format that are shown as written, never a placeholder: quoted
#: text, an escaped character (``\%``), the space of a character's width (``_%``) or a
#: repeated fill character (``*%``), and a ``[...]`` tag (colour, condition, ``[$%-809]``)
_FORMAT_LITERAL = re.compile(r'"[^"]*"?|\\.|[_*].|\[[^\]]*\]?', re.S)


def percent_count(code: str | None) -> int:
    """How many times a number format multiplies a number by 100 to show it: the ``%``
    signs of its first (positive) section outside :data:`_FORMAT_LITERAL`; 0 for a text
    section (``@``). ``0%`` is 1, ``0%%`` 2, ``0"%"``, ``0\\%``, ``[$%-809]0`` and ``0;0;0;@%`` 0."""
    section = _FORMAT_LITERAL.sub("", code or "").split(";", 1)[0]
    return 0 if "@" in section else section.count("%")


def _percent_styles(wb: Any) -> dict[int, int]:
    """The style ids of a workbook whose number format shows a number as a percentage, each
    with its :func:`percent_count`. A style naming a format the workbook does not define is
    General (as a spreadsheet shows it): never a percentage."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS  # type: ignore[import-untyped]

    custom = wb._number_formats
    out = {}
    for i, style in enumerate(wb._cell_styles):
        fid = style.numFmtId
        code = BUILTIN_FORMATS.get(fid) if fid < 164 else (
            custom[fid - 164] if fid - 164 < len(custom) else None)
        count = percent_count(code if isinstance(code, str) else None)
        if count:
            out[i] = count
    return out


#: a spreadsheet float this close to a whole number is that whole number (binary noise such
#: as 5.000000000000001 from a formula); anything further off is a fraction
XLSX_WHOLE_TOLERANCE = 1e-9


def _cell(c: Any, percent: int = 0) -> str:
    """The text of a spreadsheet cell. A number in a percentage format (``percent``: its
    :func:`percent_count`) is the fraction it holds written as the percentage it shows
    (0.123 is ``12.3%``, exactly: decimal, not float, arithmetic), so the % rule of a CSV
    value applies to it; a format with ``%%`` (which multiplies by 10,000) is refused."""
    import datetime as _dt

    if c is None:
        return ""
    if isinstance(c, str):
        return c  # a _BadCell stays one
    if isinstance(c, bool):
        return str(c)
    if percent > 1 and isinstance(c, (int, float)):
        return _bad(f"a number format with {percent} % signs; format it as 0% or as a plain number")
    if percent and isinstance(c, (int, float)):
        from decimal import Decimal

        return format(Decimal(repr(c)).scaleb(2), "f") + "%"
    if isinstance(c, float):
        return _FloatCell(repr(c))
    if isinstance(c, (_dt.date, _dt.time, _dt.timedelta)):
        out = _DateCell(str(c))
        out.when = c
        return out
    return str(c)


def _date_not_period(c: _DateCell) -> str:
    import datetime as _dt

    when = c.when
    if isinstance(when, _dt.date):
        day = when.date() if isinstance(when, _dt.datetime) else when
        fy = day.year if day.month >= 4 else day.year - 1
        quarter = (day.month - 4) % 12 // 3 + 1
        return (f"a date ({day.isoformat()}), not a period: write the period as text, such as "
                f"{fy}/{(fy + 1) % 100:02d} Q{quarter}")
    return f"a time ({c}), not a period: write the period as text, such as 2008/09 Q4"


def _column_letter(n: int) -> str:
    """The letters of the ``n``-th column of a sheet (1 is A, 27 is AA)."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _date_not_number(c: _DateCell) -> str:
    import datetime as _dt

    when = c.when
    if isinstance(when, _dt.datetime) and when.time() == _dt.time():
        shown = when.date().isoformat()
    else:
        shown = when.isoformat() if hasattr(when, "isoformat") else str(when)
    what = "a date" if isinstance(when, _dt.date) else "a time"
    return f"{what} ({shown}), not a number; give the cell a number format"


def _xlsx_records(path: Path, reading: Reading) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and (row number, cells) of the sheet to read: the active sheet if it is
    visible, else the first visible one (a hidden sheet is never read). The sheet is parsed
    as a stream of the cells its XML holds, so a stray formatted cell at XFD1048576 costs one
    cell, not a grid up to it; the ``<dimension>`` the file claims is never used. A cell
    with formatting and no value is empty: it never makes a row or counts as a column."""
    raw_fh, regular = open_input(path)
    fh: IO[bytes] = raw_fh
    try:
        if not regular:  # a pipe: read once, no more than the limit, into memory
            data = raw_fh.read(MAX_XLSX_BYTES + 1)
            fh = io.BytesIO(data)
        check_workbook(path, fh)
        wb = _open_workbook(path, fh)
    except BaseException:
        raw_fh.close()
        raise
    try:
        sheets = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
        if not sheets:
            others = getattr(wb, "dat_others", [])
            if others and not wb.worksheets:
                name, kind = others[0]
                raise ImportRefused(f"{path}: the workbook has no worksheet, only a {kind} ({quote(name, 30)}); "
                                    "dat reads figures from a worksheet")
            raise ImportRefused(f"{path}: the workbook has no visible worksheet")
        active = getattr(wb, "dat_active", None)
        ws = next((w for w in sheets if w.title == active), sheets[0])
        reading.sheet = ws.title
        percent = _percent_styles(wb)
        try:
            shared = _shared_strings(fh)
        except MemoryError:
            raise ImportRefused(f"{path}: the workbook is too big to open; import it as CSV") from None
        except Exception as exc:
            raise _unreadable(path, "the workbook's shared strings (xl/sharedStrings.xml) could not be read",
                              exc) from None
    except BaseException:
        wb.close()
        raw_fh.close()
        raise
    from openpyxl.cell.text import Text  # type: ignore[import-untyped]
    from openpyxl.utils import coordinate_to_tuple, get_column_letter  # type: ignore[import-untyped]
    from openpyxl.utils.datetime import from_excel, from_ISO8601  # type: ignore[import-untyped]
    from openpyxl.worksheet._reader import (  # type: ignore[import-untyped]
        CELL_TAG,
        FORMULA_TAG,
        INLINE_STRING,
        MERGE_TAG,
        ROW_TAG,
        VALUE_TAG,
        WorkSheetParser,
    )

    class Parser(WorkSheetParser):
        """openpyxl's sheet parser with dat's rules for what a cell's XML holds: the raw
        ``<v>`` text is read by :data:`_XLSX_NUMBER` (never Python's lenient ``int()`` and
        ``float()``); a cell dat cannot take as written is a :class:`_BadCell`, refused in
        whatever column it is; a cell given twice, or placed in another row, is refused."""

        def parse(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
            """The rows, and the merged cells, and nothing else of the sheet: openpyxl's loop
            builds each element whole before it looks at it, so one row of a million cells
            (or a million ``<col>``) cost hundreds of MB before any rule ran. Here a row is
            refused at its 16,385th cell, and every element that is not part of a row or of
            the merged cells is dropped as soon as it ends."""
            from xml.etree.ElementTree import iterparse

            from openpyxl.worksheet.merge import MergeCells  # type: ignore[import-untyped]

            stack: list[Any] = []
            keep = 0  # inside a row or the merged cells: its children are needed whole
            cells = row_no = 0
            for event, element in iterparse(self.source, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    stack.append(element)
                    if tag == ROW_TAG:
                        keep += 1
                        cells = 0
                        r = element.get("r", "")
                        row_no = int(r) if r.isascii() and r.isdigit() else self.row_counter + 1
                    elif tag == MERGE_TAG:
                        keep += 1
                    elif tag == CELL_TAG:
                        cells += 1
                        if cells > XLSX_MAX_CELLS_IN_ROW:
                            raise ImportRefused(
                                f"{path}:{row_no}: a row of more than "
                                f"{XLSX_MAX_CELLS_IN_ROW:,} cells (the most a sheet has); "
                                "open and save the file in a spreadsheet program")
                    continue
                stack.pop()
                if tag == ROW_TAG:
                    keep -= 1
                    yield self.parse_row(element)
                elif tag == MERGE_TAG:
                    keep -= 1
                    self.merged_cells = MergeCells.from_tree(element)
                elif keep:
                    continue
                if stack:  # let go of it whole (its parent holds only it)
                    stack[-1].remove(element)

        def parse_row(self, row: Any) -> tuple[int, list[dict[str, Any]]]:
            n, cells = super().parse_row(row)
            if not 1 <= n <= 1_048_576:
                raise ImportRefused(f"{path}: a row numbered {n:,} in the sheet's XML (a sheet's rows are "
                                    "1 to 1,048,576); open and save the file in a spreadsheet program")
            seen: set[int] = set()
            for c in cells:
                ref = f"{get_column_letter(c['column'])}{c['row']}"
                if c["row"] != n:
                    raise ImportRefused(f"{path}:{n}: cell {ref} is inside row {n} in the sheet's XML; "
                                        "open and save the file in a spreadsheet program")
                if c["column"] in seen:
                    raise ImportRefused(f"{path}:{n}: cell {ref} appears twice in row {n} in the sheet's "
                                        "XML; open and save the file in a spreadsheet program")
                seen.add(c["column"])
            return n, cells

        def parse_cell(self, element: Any) -> dict[str, Any]:
            kind = element.get("t", "n")
            ref = element.get("r")
            style = element.get("s")
            style_id = int(style) if style else 0
            if ref:
                if not _CELL_REF.fullmatch(ref):
                    absolute = " ($ is for formulas)" if "$" in ref else ""
                    raise ImportRefused(f"{path}:{self.row_counter}: cell reference {quote(ref, 20)} is not a "
                                        f"cell like D2{absolute}; open and save it in a spreadsheet program")
                row, column = coordinate_to_tuple(ref)
                if column > XLSX_MAX_CELLS_IN_ROW or row > 1_048_576:
                    raise ImportRefused(f"{path}:{self.row_counter}: cell reference {quote(ref, 20)} is outside "
                                        "a sheet (A1 to XFD1048576); open and save it in a spreadsheet program")
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            saved = element.find(VALUE_TAG)
            raw = None if kind == "inlineStr" or saved is None else saved.text or None
            value: Any = None
            if element.find(FORMULA_TAG) is not None and raw is None and (saved is None or kind != "str"):
                value = _bad(NO_RESULT_RULE)  # an empty <v/> is a result only for a text formula
            elif kind == "inlineStr":
                child = element.find(INLINE_STRING)
                value = None if child is None else Text.from_tree(child).content
            elif raw is not None:
                value = self.value(kind, raw, style_id)
            return {"row": row, "column": column, "value": value, "style_id": style_id}

        def value(self, kind: str, raw: str, style_id: int) -> Any:
            if kind == "n":
                raw = raw.strip(XML_SPACES)  # XML's white space round a number, as Excel reads it
                if not _XLSX_NUMBER.fullmatch(raw):
                    return _bad(f"{quote(raw)} is not a number")
                try:
                    number = float(raw) if "." in raw or "e" in raw or "E" in raw else int(raw)
                except ValueError:  # Python's limit of 4,300 digits for int()
                    return _bad(f"{quote(raw)} is not a number (more than 4,300 digits)")
                if number in (float("inf"), float("-inf")):
                    return _bad(f"{quote(raw)} is not a finite number")
                if style_id not in self.date_formats:
                    return number
                try:
                    return from_excel(number, self.epoch, timedelta=style_id in self.timedelta_formats)
                except (OverflowError, ValueError):
                    return _bad(f"{quote(raw)} in a date format: a date outside Excel's range")
            if kind == "s":
                strings = self.shared_strings
                if not (raw.isascii() and raw.isdigit() and int(raw) < len(strings)):
                    return _bad(f"{quote(raw)} is not a shared-string index of the workbook")
                return strings[int(raw)]
            if kind == "str":
                return raw
            if kind == "e":
                return _bad(f"a spreadsheet error value {quote(raw, 20)}")
            if kind == "b":
                return raw == "1" if raw in ("0", "1") else _bad(f"{quote(raw)} is not a boolean (0 or 1)")
            if kind == "d":
                try:
                    return from_ISO8601(raw)
                except (OverflowError, ValueError):
                    return _bad(f"{quote(raw)} is not a date")
            return _bad(f"a cell of unknown type {quote(kind, 10)}")

    def check(cells: list[str], n: int) -> list[str]:
        for i, c in enumerate(cells, 1):
            if len(c) > MAX_CELL_CHARS:
                raise ImportRefused(f"{path}:{n}: column {i}: a cell longer than {MAX_CELL_CHARS:,} "
                                    f"characters ({quote(c, 20)})")
        return cells

    def records() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from parse()
        except (ImportRefused, GeneratorExit):
            raise
        except MemoryError:
            raise ImportRefused(f"{path}: the workbook is too big to open; import it as CSV") from None
        except Exception as exc:
            raise _unreadable(path, f"sheet {quote(ws.title, 30)} could not be read", exc) from None

    def parse() -> Iterator[tuple[int, list[str]]]:
        with ws._get_source() as src:
            parser = Parser(src, shared, data_only=True, epoch=wb.epoch,
                            date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            last = 0
            for n, cells in parser.parse():
                if n <= last:  # the format wants rows in order, each once
                    raise ImportRefused(f"{path}:{n}: row {n} comes after row {last} in the sheet's XML; "
                                        "open and save the file in a spreadsheet program")
                last = n
                got = {c["column"]: _cell(c["value"], percent.get(c["style_id"], 0)) for c in cells
                       if c["value"] is not None}
                got = {k: v for k, v in got.items() if v.strip() or v.__class__ is _BadCell}
                if got:
                    rec = [""] * max(got)
                    for k, v in got.items():
                        rec[k - 1] = v
                    yield n, check(rec, n)
            merged = parser.merged_cells
        if merged is not None and merged.mergeCell:
            first = sorted(str(m) for m in merged.mergeCell)[0]
            raise ImportRefused(f"{path}: sheet {quote(ws.title)} has merged cells ({first}); "
                                "unmerge them so every row is one figure")

    def close() -> None:
        wb.close()
        raw_fh.close()

    it = records()
    try:
        first = next(it, None)
        if first is None:
            raise ImportRefused(f"{path}: the sheet {quote(ws.title)} is empty")
        if first[0] != 1:
            raise ImportRefused(f"{path}:1: row 1 is empty: the header must be in the first row "
                                f"(sheet {quote(ws.title)})")
    except BaseException:
        close()
        raise
    for i, c in enumerate(first[1], 1):
        if c.__class__ is _BadCell:
            close()
            raise ImportRefused(f"{path}:1: column {i}: {c.rule}")
    header = [c.strip() for c in first[1]]
    sep = other_separator(header)
    if sep is not None:
        close()
        raise ImportRefused(f"{path}:1: the header is one cell of names split by {OTHER_SEPARATORS[sep]}s "
                            f"(sheet {quote(ws.title, 20)}); split it into columns (Data > Text to Columns)")
    if len(header) > MAX_COLUMNS:
        close()
        raise ImportRefused(f"{path}:1: {len(header):,} columns; the limit is {MAX_COLUMNS} (MAX_COLUMNS)")

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from it
        finally:
            close()

    return header, rows()


_XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape_xlsx(text: str) -> str:
    """ECMA-376's ``_xHHHH_`` escapes, decoded in one pass (``_x005F_`` is a literal ``_``,
    so ``_x005F_x000D_`` is the text ``_x000D_``); anything else, ``x005F_`` included, is kept."""
    return _XML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _shared_strings(fh: IO[bytes]) -> list[str]:
    """The workbook's shared strings, read by dat (openpyxl's reader deletes every
    ``x005F_`` from the text): each ``<si>``'s ``<t>`` and rich-text runs' ``<t>``, phonetic
    runs (``<rPh>``) left out, escapes decoded by :func:`_unescape_xlsx`."""
    import zipfile

    from openpyxl.packaging.manifest import Manifest  # type: ignore[import-untyped]
    from openpyxl.xml.constants import (  # type: ignore[import-untyped]
        ARC_CONTENT_TYPES,
        SHARED_STRINGS,
        SHEET_MAIN_NS,
    )
    from openpyxl.xml.functions import fromstring, iterparse  # type: ignore[import-untyped]

    si, t, r = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("si", "t", "r"))
    strings: list[str] = []
    with zipfile.ZipFile(fh) as zf:
        ct = Manifest.from_tree(fromstring(zf.read(ARC_CONTENT_TYPES))).find(SHARED_STRINGS)
        if ct is None:
            return strings
        with zf.open(ct.PartName.lstrip("/")) as src:
            for _, node in iterparse(src):
                if node.tag != si:
                    continue
                parts: list[str] = []
                for child in node:
                    if child.tag == t:
                        parts.append(child.text or "")
                    elif child.tag == r:
                        parts.extend(x.text or "" for x in child if x.tag == t)
                strings.append(_unescape_xlsx("".join(parts)))
                node.clear()
    return strings


def _open_workbook(path: Path, fh: IO[bytes]) -> Any:
    try:
        # no stubs: types-openpyxl is not a dependency
        from openpyxl.reader.excel import ExcelReader  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise ImportRefused("reading .xlsx needs openpyxl (pip install openpyxl)") from None

    from openpyxl.reader.excel import apply_stylesheet

    class Reader(ExcelReader):
        """openpyxl's reader without its shared-string table: dat reads that itself
        (:func:`_shared_strings`), and openpyxl's fails on a ``<rPh>`` without ``sb``/``eb``.
        Each step of reading is named, so a part that cannot be read is named in dat's words
        (:class:`_PartError`), never openpyxl's."""

        def read(self) -> None:
            steps: tuple[tuple[str, Callable[[], Any]], ...] = (
                ("list of parts ([Content_Types].xml)", self.read_manifest),
                ("sheet list (xl/workbook.xml)", self.read_workbook),
                ("properties (docProps)", self.read_properties),
                ("custom properties (docProps/custom.xml)", getattr(self, "read_custom", lambda: None)),
                ("theme (xl/theme)", self.read_theme),
                ("styles (xl/styles.xml)", lambda: apply_stylesheet(self.archive, self.wb)),
                ("sheets", self.read_worksheets),
                ("defined names (xl/workbook.xml)", lambda: self.parser.assign_names()),
            )
            self.read_strings()
            for what, step in steps:
                try:
                    step()
                except (ImportRefused, MemoryError):
                    raise
                except Exception as exc:
                    raise _PartError(what, exc) from None

        def read_strings(self) -> None:
            self.shared_strings: list[str] = []

        def read_worksheets(self) -> None:
            """The sheets, as openpyxl's read-only mode lists them, without asking each its
            size: openpyxl reads a sheet with no ``<dimension>`` whole to find it, and dat
            never uses it."""
            from openpyxl.worksheet._read_only import ReadOnlyWorksheet  # type: ignore[import-untyped]

            class Sheet(ReadOnlyWorksheet):
                def _get_size(self) -> None:
                    pass

            # the sheet the workbook opens at, by its place among all sheets (a chart sheet
            # included), before the others are left out
            sheets = list(self.parser.sheets)
            active = self.wb._active_sheet_index
            self.wb.dat_active = sheets[active].name if isinstance(active, int) and 0 <= active < len(
                sheets) else None
            self.wb.dat_others = []  # (name, kind) of each sheet that is not a worksheet
            for sheet, rel in self.parser.find_sheets():
                kind = rel.Type.rsplit("/", 1)[-1]
                if kind != "worksheet":  # a chart, dialog or macro sheet holds no figures
                    self.wb.dat_others.append((sheet.name, kind))
                    continue
                if rel.target not in self.valid_files:
                    continue
                ws = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                ws.sheet_state = sheet.state
                self.wb._sheets.append(ws)

    import warnings

    _no_doctype(path, fh)
    try:
        reader = Reader(fh, read_only=True, data_only=True)
        with warnings.catch_warnings():
            # openpyxl's notes on what it does not read (styles, validation, extensions)
            # say nothing about the figures dat reads
            warnings.simplefilter("ignore", UserWarning)
            reader.read()
        return reader.wb
    except MemoryError:
        raise ImportRefused(f"{path}: the workbook is too big to open; import it as CSV") from None
    except ImportRefused:
        raise
    except _PartError as exc:
        raise _unreadable(path, f"the workbook's {exc.what} could not be read", exc.cause) from None
    except Exception as exc:
        raise _unreadable(path, "not a readable .xlsx workbook", exc) from None


class _PartError(Exception):
    """A step of reading a workbook failed: ``what`` names the part, ``cause`` is why."""

    def __init__(self, what: str, cause: BaseException) -> None:
        super().__init__(what)
        self.what, self.cause = what, cause


def _unreadable(path: Path, what: str, exc: BaseException) -> ImportRefused:
    """``{path}: {what}``, with the XML parser's reason when it is one (it names the line and
    column of the part's XML) and never a library's internal text (``TypeError: expected
    <class 'openpyxl...'>``), then what to do."""
    from xml.etree.ElementTree import ParseError

    reason = ""
    if isinstance(exc, ParseError) or type(exc).__name__ == "XMLSyntaxError":
        reason = f" (its XML is malformed: {printable(str(exc))[:60]})"
    return ImportRefused(f"{path}: {what}{reason}; open and save it in a spreadsheet program")


def _no_doctype(path: Path, fh: IO[bytes]) -> None:
    """Refuse a workbook any XML part of which has a DOCTYPE: spreadsheet programs never
    write one, and its entities could replace or hide text (an external entity is read as
    nothing at all). Each part is read only up to its first element (a DOCTYPE must come
    before it), by expat, so any encoding the XML declares is understood."""
    import zipfile
    from xml.parsers import expat

    class Done(Exception):
        pass

    def doctype(*_args: Any) -> None:
        raise Done(True)

    def element(*_args: Any) -> None:
        raise Done(False)

    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        for info in zf.infolist():
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            parser = expat.ParserCreate()
            parser.StartDoctypeDeclHandler = doctype
            parser.StartElementHandler = element
            found = False
            try:
                with zf.open(info) as src:
                    while chunk := src.read(65536):
                        parser.Parse(chunk, False)
                    parser.Parse(b"", True)
            except Done as done:
                found = bool(done.args[0])
            except Exception:  # not XML, or damaged: the part's own reader says so
                pass
            if found:
                raise ImportRefused(f"{path}: {quote(info.filename, 40)} has a DOCTYPE; open and save it in a "
                                    "spreadsheet program")
    fh.seek(0)


#: separators other than the comma that CSV files are saved with, as messages name them
OTHER_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def other_separator(first: list[str]) -> str | None:
    """The separator (``;``, tab or ``|``) a header row was written with when it is not a
    comma: the row is one field (as a comma-separated reader splits it) that the other
    separator splits into two or more names, at least one of them a column dat reads (quotes
    round each name allowed); None otherwise. :data:`OTHER_SEPARATORS` names it."""
    cells = [c for c in first if c.strip()]
    if len(cells) != 1:
        return None
    known = {c.lower() for c in DAT_COLUMNS} | {c.lower() for c in FINGERTIPS_READ}
    for sep in OTHER_SEPARATORS:
        names = [n.strip().strip('"').strip().lower() for n in cells[0].lstrip("\ufeff").split(sep)]
        if len(names) >= 2 and any(n in known for n in names):
            return sep
    return None


def detect_format(header: list[str]) -> str:
    """"dat" or "fingertips", by which columns the header has most of."""
    lower = [h.strip().lower() for h in header]
    dat = sum(1 for c in DAT_COLUMNS if c in lower)
    ft = sum(1 for c in FINGERTIPS_READ if c in header)
    if dat == 0 and ft == 0:
        raise ImportRefused(
            "unrecognised header " + ", ".join(quote(h, 20) for h in header[:3]) +
            "; expected dat's columns (partnership, indicator, period, value, ...) or Fingertips' "
            "(Indicator ID, Area Code, ...)")
    return "fingertips" if ft > dat else "dat"


def _check_header(path: Path, header: list[str], fmt: str) -> None:
    """Every header rule: no empty, duplicated or unknown column (dat's format knows all its
    columns; a Fingertips download has many dat ignores, so there only a near miss of a
    column dat reads is an error), no required column missing."""
    if len(header) > MAX_COLUMNS:
        raise ImportRefused(f"{path}:1: {len(header):,} columns; the limit is {MAX_COLUMNS} (MAX_COLUMNS)")
    names = [h.strip().lower() for h in header] if fmt == "dat" else [h.strip() for h in header]
    wanted = DAT_COLUMNS if fmt == "dat" else FINGERTIPS_READ
    required = REQUIRED if fmt == "dat" else FINGERTIPS_COLUMNS
    for i, h in enumerate(names, 1):
        if not h:
            raise ImportRefused(f"{path}:1: column {i} has no name; every column needs a header")
        if h not in wanted and not (fmt == "fingertips" and (h in FINGERTIPS_OTHER or h.startswith("Compared to"))):
            lowered = [w.lower() for w in wanted]
            close = get_close_matches(h.lower(), lowered, n=1, cutoff=0.75 if fmt == "dat" else 0.8)
            guess = wanted[lowered.index(close[0])] if close else None
            if fmt == "dat" or (guess is not None and guess not in names):
                where = f"{path}:1: column {i} {quote(header[i - 1], 30)}: unknown column"
                if guess is not None:
                    raise ImportRefused(f"{where} (did you mean {guess!r}?)")
                raise ImportRefused(f"{where}; the columns are {', '.join(wanted)}")
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise ImportRefused(f"{path}:1: the column {quote(twice[0], 30)} appears more than once in the header")
    missing = [c for c in required if c not in names]
    if missing:
        raise ImportRefused(f"{path}:1: the header has no {missing[0]!r} column; required: {', '.join(required)}")


def stream_rows(path: Path, mapping: dict[str, dict[str, str]] | None = None, *,
                decimal_comma: bool = False,
                ) -> tuple[str, Iterator[Row], list[Rejection], Reading]:
    """Parse a file as it is read: (format, rows, rejections so far, a :class:`Reading`:
    called, the number of data rows read). Rejections are appended while the rows are
    consumed."""
    reader = _xlsx_records if path.suffix.lower() == ".xlsx" else _csv_records
    reading = Reading()
    header, records = reader(path, reading)
    try:
        fmt = detect_format(header)
    except ImportRefused as exc:
        raise ImportRefused(f"{path}:1: {exc}") from None
    _check_header(path, header, fmt)
    name = str(path)
    rejects: list[Rejection] = []
    xlsx = reader is _xlsx_records
    bad = _CONTROL

    def bad_cells(rec: list[str], line: int, names: list[str]) -> bool:
        """Reject every :class:`_BadCell` of an .xlsx row, in whatever column; True if any."""
        bad_ones = [(i, c) for i, c in enumerate(rec) if c.__class__ is _BadCell]
        for i, c in bad_ones:
            rejects.append(Rejection(name, line, names[i] if i < len(names) else f"column {i + 1}",
                                     c.rule))
        return bool(bad_ones)

    def num(text: str, line: int, column: str, marks: bool = False, role: str = "",
            fractions: list[tuple[str, str]] | None = None) -> tuple[float | None, int, str]:
        """The number in a cell; ``role`` and ``fractions``: note the text when it is not whole."""
        if not text:
            return None, 0, ""
        if text.__class__ is _DateCell:  # an .xlsx cell in a date format: never its str()
            i = next((i for i, h in enumerate(header) if h.strip().lower() == column.lower()), None)
            cell = f"cell {_column_letter(i + 1)}{line}: " if i is not None else ""
            rejects.append(Rejection(name, line, column, cell + _date_not_number(text)))
            return None, 0, ""
        if len(text) < 16 and text.isascii():  # fast paths of parse_number's rule: 123 and 12.34
            if text.isdigit():
                return float(text), 0, ""
            dot = text.find(".")
            if dot >= 0 and text[-1] != "." and (text[:dot] + text[dot + 1:]).isdigit() and not decimal_comma:
                value = float(text)
                if fractions is not None and text[dot + 1:].strip("0") and not (
                        isinstance(text, _FloatCell) and abs(value - round(value)) <= XLSX_WHOLE_TOLERANCE):
                    fractions.append((role, text))
                return value, len(text) - dot - 1, ""
        if not text.strip(NUMBER_SPACES):
            return None, 0, ""
        try:
            value, decimals, mark, whole = parse_number_exact(text, decimal_comma)
        except NumberError as exc:
            rejects.append(Rejection(name, line, column, str(exc)))
            return None, 0, ""
        if mark and not marks:
            rejects.append(Rejection(name, line, column, f"{quote(text)}: a {mark} sign is allowed only "
                                                         "in the value column"))
            return None, 0, ""
        if fractions is not None and not whole and not (
                isinstance(text, _FloatCell) and abs(value - round(value)) <= XLSX_WHOLE_TOLERANCE):
            fractions.append((role, text))
        return value, decimals, mark

    def text(value: str, line: int, column: str) -> str:
        if bad.search(value):  # .xlsx cells (a CSV line with one is refused as it is read)
            rejects.append(Rejection(name, line, column, f"{quote(value)} has a control character"))
        return value.strip()

    def dat_rows() -> Iterator[Row]:
        idx = {h.strip().lower(): i for i, h in enumerate(header)}
        width = len(header)
        ip, ii, iper, iv = (idx[c] for c in REQUIRED)
        inum, iden, inote = idx.get("numerator"), idx.get("denominator"), idx.get("note")
        for line, rec in records:
            reading.rows += 1
            n = len(rec)
            if n > width:
                rejects.append(Rejection(name, line, "row", f"{n} fields, the header has {width}"))
                continue
            if n < width:
                rec = rec + [""] * (width - n)
            if xlsx:
                if bad_cells(rec, line, header):
                    continue
                for column, i in (("partnership", ip), ("indicator", ii), ("period", iper), ("note", inote)):
                    if i is not None:
                        text(rec[i], line, column)
                when = rec[iper]
                if isinstance(when, _DateCell):
                    rejects.append(Rejection(name, line, "period", _date_not_period(when)))
                    continue
            note = rec[inote].strip() if inote is not None else ""
            fractions: list[tuple[str, str]] = []
            value, decimals, mark = num(rec[iv], line, "value", True, "value", fractions)
            numerator = rec[inum] if inum is not None else ""
            denominator = rec[iden] if iden is not None else ""
            yield Row(line, rec[ip].strip(), rec[ii].strip(), rec[iper].strip(), value,
                      num(numerator, line, "numerator", False, "numerator", fractions)[0],
                      num(denominator, line, "denominator", False, "denominator", fractions)[0],
                      note=note or None, value_mark=mark, value_decimals=decimals,
                      fractions=tuple(fractions), written=(rec[iv], numerator, denominator))
        if reading.rows == 0:
            raise ImportRefused(f"{path}:1: a header but no data rows")

    def fingertips_rows() -> Iterator[Row]:
        areas = (mapping or {}).get("areas", {})
        indicators = (mapping or {}).get("indicators", {})
        idx = {h.strip(): i for i, h in enumerate(header)}
        width = len(header)
        headline_ages: dict[str, str] = {}  # indicator ID -> its headline age (see is_headline)
        for line, rec in records:
            reading.rows += 1
            if len(rec) > width:
                rejects.append(Rejection(name, line, "row", f"{len(rec)} fields, the header has {width}"))
                continue
            if xlsx and bad_cells(rec, line, header):
                continue

            def get(c: str, rec: list[str] = rec) -> str:
                if c not in idx or idx[c] >= len(rec):
                    return ""
                cell = rec[idx[c]]  # kept as it is when clean: a _FloatCell or _DateCell stays one
                return cell if cell == cell.strip() else cell.strip()

            if not is_headline(get, headline_ages):
                reading.breakdowns += 1
                continue
            area, ind_id = get("Area Code"), get("Indicator ID")
            if area not in areas:
                rejects.append(Rejection(name, line, "Area Code",
                                         f"{quote(area)} ({get('Area Name')[:30] or 'no name'}) "
                                         "is not mapped to a partnership"))
                continue
            if ind_id not in indicators:
                rejects.append(Rejection(name, line, "Indicator ID", f"{quote(ind_id)} is not mapped to an indicator"))
                continue
            if not get("Value") and get("Value note"):
                # suppressed (a small count, unreliable data): no figure to store, never 0
                reading.suppressed += 1
                continue
            when = get("Time period")
            if isinstance(when, _DateCell):
                rejects.append(Rejection(name, line, "Time period", _date_not_period(when)))
                continue
            fractions: list[tuple[str, str]] = []
            written = tuple(get(c) for c in ("Value", "Count", "Denominator", "Lower CI 95.0 limit",
                                             "Upper CI 95.0 limit"))
            value, decimals, mark = num(written[0], line, "Value", True, "value", fractions)
            yield Row(line, areas[area], indicators[ind_id], text(get("Time period"), line, "Time period"),
                      value, num(written[1], line, "Count", False, "numerator", fractions)[0],
                      num(written[2], line, "Denominator", False, "denominator", fractions)[0],
                      fractions=tuple(fractions),
                      ci_low=num(written[3], line, "Lower CI 95.0 limit")[0],
                      ci_high=num(written[4], line, "Upper CI 95.0 limit")[0],
                      note=text(get("Value note"), line, "Value note") or None,
                      value_mark=mark, value_decimals=decimals, written=written)
        if reading.rows == 0:
            raise ImportRefused(f"{path}:1: a header but no data rows")

    return fmt, (dat_rows() if fmt == "dat" else fingertips_rows()), rejects, reading


def is_headline(get: Callable[[str], str], ages: dict[str, str] | None = None) -> bool:
    """Whether a Fingertips row is its area's headline figure rather than a breakdown by sex,
    age or category; ``get(column)`` gives a cell ("" for a column the file does not have).
    The one place that decides: dat stores only the headline figure for now (breakdowns are
    counted and left out).

    Headline: Sex "Persons" and no Category Type or Category, at the indicator's own age.
    Each indicator has one standard age in Fingertips ("All ages", "18+ yrs", "15-64 yrs"...),
    so with ``ages`` (indicator ID -> its headline age, filled as the file is read) the first
    age a Persons, no-category row of an indicator gives is that indicator's headline age
    and rows at other ages are breakdowns. Without ``ages`` only "All ages" is headline."""
    if get("Sex") not in ("Persons", "") or get("Category Type") or get("Category"):
        return False
    age = get("Age")
    if ages is None:
        return age in ("All ages", "")
    return ages.setdefault(get("Indicator ID"), age) == age


def read_rows(path: Path, mapping: dict[str, dict[str, str]] | None = None, *,
              decimal_comma: bool = False) -> tuple[str, list[Row], list[Rejection], int]:
    """Parse a whole file into rows; return (format, rows, rejections, data row count)."""
    fmt, rows, rejects, reading = stream_rows(path, mapping, decimal_comma=decimal_comma)
    out = list(rows)
    return fmt, out, rejects, reading()


def load_mapping(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportRefused(f"{path}: cannot read the mapping ({exc})") from None
    unknown = sorted(set(data) - {"areas", "indicators"})
    if unknown:
        raise ImportRefused(f"{path}: unknown mapping table {unknown[0]!r}; "
                           "a mapping has [areas] and [indicators]")
    out: dict[str, dict[str, str]] = {}
    for table, what in (("areas", "a partnership slug"), ("indicators", "an indicator code")):
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise ImportRefused(f"{path}: {table} must be a table ([{table}]), not {type(section).__name__}")
        for k, v in section.items():
            if not isinstance(v, str):
                raise ImportRefused(f"{path}: [{table}] {k!r}: expected {what} as a string, "
                                   f"got {v!r}")
        _no_duplicates(path, table, section)
        out[table] = {str(k): v for k, v in section.items()}
    return out


def _no_duplicates(path: Path, table: str, section: dict[str, str]) -> None:
    """Refuse a mapping table that names one code twice: two Fingertips codes that are the
    same but for case or spaces (the file's code matches at most one of them), or two codes
    mapped to one partnership or indicator (their figures would land on each other)."""
    seen: dict[str, str] = {}
    for k in section:
        key = k.strip().casefold()
        if key in seen:
            raise ImportRefused(f"{path}: [{table}] {quote(seen[key], 30)} and {quote(k, 30)} are the same code "
                                "written twice; keep one")
        seen[key] = k
    target: dict[str, str] = {}
    for k, v in section.items():
        dest = v.strip().casefold()
        if dest in target:
            raise ImportRefused(f"{path}: [{table}] {quote(target[dest], 30)} and {quote(k, 30)} both map to "
                                f"{quote(v, 30)}; map each {'area' if table == 'areas' else 'indicator'} once")
        target[dest] = k


__all__ = ["DAT_COLUMNS", "REQUIRED", "FINGERTIPS_COLUMNS", "FINGERTIPS_READ", "FINGERTIPS_OTHER",
           "ImportRefused", "Rejection",
           "ImportReport", "Reading", "Row", "NumberError", "is_headline", "open_input", "FINGERTIPS_HEADLINE",
           "parse_number", "parse_number_exact", "NUMBER_SPACES",
           "XLSX_WHOLE_TOLERANCE", "check_workbook", "detect_format",
           "stream_rows", "read_rows", "load_mapping", "MAX_LINE_CHARS", "MAX_CELL_CHARS", "MAX_COLUMNS",
           "MAX_XLSX_BYTES", "MAX_XLSX_UNCOMPRESSED", "MAX_XLSX_RATIO", "MAX_XLSX_MEMBERS",
           "MAX_MAGNITUDE", "MAX_MESSAGE"]

#: old name -> (the name to use instead, the object)
_DEPRECATED = {"ImportError_": ("dat.core.importer.ImportRefused", ImportRefused)}


def __getattr__(name: str) -> Any:
    # deprecated names (CHANGELOG.md, "Deprecated"): they still work, with a warning
    if name in _DEPRECATED:
        import warnings

        new, value = _DEPRECATED[name]
        warnings.warn(f"{__name__}.{name} is deprecated; use {new}", DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
