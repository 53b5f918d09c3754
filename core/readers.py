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
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dat.core.errors import DataError

DAT_COLUMNS = ("partnership", "indicator", "period", "value", "numerator", "denominator", "note")
REQUIRED = ("partnership", "indicator", "period", "value")
FINGERTIPS_COLUMNS = ("Indicator ID", "Area Code", "Time period", "Value")


class ImportRefused(DataError, RuntimeError):
    """The file cannot be imported at all (unreadable, wrong header, wrong format)."""


@dataclass
class Rejection:
    file: str
    line: int
    column: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.rule}"


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

    def as_dict(self) -> dict[str, Any]:
        return {"schema": "dat.import/1", "file": self.file, "format": self.format,
                "rows": self.rows, "added": self.added, "changed": self.changed,
                "unchanged": self.unchanged, "written": self.written,
                "rejected": [r.__dict__ for r in self.rejected]}


@dataclass
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


# -- reading ----------------------------------------------------------------------------------

def _check_start(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
            more = bool(fh.read(1))
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot read ({exc.strerror})") from None
    if not more and not head.strip():
        raise ImportRefused(f"{path}: the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise ImportRefused(f"{path}: this is a zip/xlsx file; give it an .xlsx suffix")


def _not_utf8(path: Path, line: int, exc: UnicodeDecodeError) -> ImportRefused:
    return ImportRefused(f"{path}: not UTF-8 text (near line {line}: {exc.object[exc.start:exc.start + 1]!r}); "
                        "save it as CSV UTF-8")


def _csv_records(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and a stream of (line number, fields); the file is read as it goes, so a
    file of a million rows is never held in memory."""
    _check_start(path)
    fh = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(fh, strict=True)
    try:
        header = next(reader)
    except UnicodeDecodeError as exc:
        fh.close()
        raise _not_utf8(path, 1, exc) from None
    except (StopIteration, csv.Error) as exc:
        fh.close()
        raise ImportRefused(f"{path}: no header row ({exc})") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for rec in reader:
                if any(rec) and (rec[0].strip() or any(c.strip() for c in rec)):
                    yield reader.line_num, rec
        except csv.Error as exc:
            raise ImportRefused(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, reader.line_num + 1, exc) from None
        finally:
            fh.close()

    return [h.strip() for h in header], rows()


def _xlsx_records(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        import openpyxl  # type: ignore[import-untyped]  # no stubs: types-openpyxl is not a dependency
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise ImportRefused("reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:
        raise ImportRefused(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    ws = wb.worksheets[0]
    if ws.merged_cells.ranges:
        first = sorted(str(r) for r in ws.merged_cells.ranges)[0]
        raise ImportRefused(f"{path}: sheet {ws.title!r} has merged cells ({first}); "
                           "unmerge them so every row is one figure")
    it = ws.iter_rows(values_only=True)
    try:
        header = [str(c).strip() if c is not None else "" for c in next(it)]
    except StopIteration:
        raise ImportRefused(f"{path}: the sheet {ws.title!r} is empty") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        for n, rec in enumerate(it, 2):
            cells = ["" if c is None else (repr(c) if isinstance(c, float) else str(c)) for c in rec]
            if any(c.strip() for c in cells):
                yield n, cells

    return header, rows()


def detect_format(header: list[str]) -> str:
    lower = [h.lower() for h in header]
    if all(c in header for c in FINGERTIPS_COLUMNS):
        return "fingertips"
    if all(c in lower for c in REQUIRED):
        return "dat"
    raise ImportRefused(
        "unrecognised header " + ", ".join(header[:8]) +
        f"; expected dat's columns ({', '.join(DAT_COLUMNS)}) or Fingertips' ({', '.join(FINGERTIPS_COLUMNS)}, ...)")


_INF = (float("inf"), float("-inf"))


def _number(text: str, line: int, column: str, file: str, rejects: list[Rejection]) -> float | None:
    if not text:
        return None
    if "_" in text:  # float() would read "1_0" as 10
        rejects.append(Rejection(file, line, column, f"{text!r} is not a number"))
        return None
    try:
        value = float(text)
    except ValueError:
        s = text.strip().replace(",", "")
        if s == "":
            return None
        if s.endswith("%"):
            s = s[:-1]
        try:
            value = float(s)
        except ValueError:
            rejects.append(Rejection(file, line, column, f"{text!r} is not a number"))
            return None
    if value != value or value in _INF:
        rejects.append(Rejection(file, line, column, f"{text!r} is not a finite number"))
        return None
    return value


def stream_rows(path: Path, mapping: dict[str, dict[str, str]] | None = None
                ) -> tuple[str, Iterator[Row], list[Rejection], Callable[[], int]]:
    """Parse a file as it is read: (format, rows, rejections so far, a function giving the
    number of data rows read). Rejections are appended while the rows are consumed."""
    reader = _xlsx_records if path.suffix.lower() == ".xlsx" else _csv_records
    header, records = reader(path)
    try:
        fmt = detect_format(header)
    except ImportRefused as exc:
        raise ImportRefused(f"{path}:1: {exc}") from None
    known = ({c.lower() for c in DAT_COLUMNS} if fmt == "dat" else set(FINGERTIPS_COLUMNS))
    cols = [h.strip().lower() if fmt == "dat" else h.strip() for h in header]
    twice = sorted({c for c in cols if c in known and cols.count(c) > 1})
    if twice:
        raise ImportRefused(f"{path}:1: the column {twice[0]!r} appears more than once in the header")
    name = str(path)
    rejects: list[Rejection] = []
    count = 0

    def dat_rows() -> Iterator[Row]:
        nonlocal count
        idx = {h.lower(): i for i, h in enumerate(header)}
        width = len(header)
        ip, ii, iper, iv = (idx[c] for c in REQUIRED)
        inum, iden, inote = idx.get("numerator"), idx.get("denominator"), idx.get("note")
        for line, rec in records:
            count += 1
            n = len(rec)
            if n > width:
                rejects.append(Rejection(name, line, "row", f"{n} fields, the header has {width}"))
                continue
            if n < width:
                rec = rec + [""] * (width - n)
            note = rec[inote].strip() if inote is not None else ""
            yield Row(line, rec[ip].strip(), rec[ii].strip(), rec[iper].strip(),
                      _number(rec[iv], line, "value", name, rejects),
                      _number(rec[inum], line, "numerator", name, rejects) if inum is not None else None,
                      _number(rec[iden], line, "denominator", name, rejects) if iden is not None else None,
                      note=note or None)
        if count == 0:
            raise ImportRefused(f"{path}: a header but no data rows")

    def fingertips_rows() -> Iterator[Row]:
        nonlocal count
        areas = (mapping or {}).get("areas", {})
        indicators = (mapping or {}).get("indicators", {})
        idx = {h: i for i, h in enumerate(header)}
        for line, rec in records:
            count += 1

            def get(c: str, rec: list[str] = rec) -> str:
                return rec[idx[c]].strip() if c in idx and idx[c] < len(rec) else ""

            area, ind_id = get("Area Code"), get("Indicator ID")
            if area not in areas:
                rejects.append(Rejection(name, line, "Area Code",
                                         f"{area!r} ({get('Area Name') or 'no name'}) is not mapped to a partnership"))
                continue
            if ind_id not in indicators:
                rejects.append(Rejection(name, line, "Indicator ID", f"{ind_id!r} is not mapped to an indicator"))
                continue
            yield Row(line, areas[area], indicators[ind_id], get("Time period"),
                      _number(get("Value"), line, "Value", name, rejects),
                      _number(get("Count"), line, "Count", name, rejects),
                      _number(get("Denominator"), line, "Denominator", name, rejects),
                      ci_low=_number(get("Lower CI 95.0 limit"), line, "Lower CI 95.0 limit", name, rejects),
                      ci_high=_number(get("Upper CI 95.0 limit"), line, "Upper CI 95.0 limit", name, rejects),
                      note=get("Value note") or None)
        if count == 0:
            raise ImportRefused(f"{path}: a header but no data rows")

    return fmt, (dat_rows() if fmt == "dat" else fingertips_rows()), rejects, lambda: count


def read_rows(path: Path, mapping: dict[str, dict[str, str]] | None = None
              ) -> tuple[str, list[Row], list[Rejection], int]:
    """Parse a whole file into rows; return (format, rows, rejections, data row count)."""
    fmt, rows, rejects, counter = stream_rows(path, mapping)
    out = list(rows)
    return fmt, out, rejects, counter()


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
        out[table] = {str(k): v for k, v in section.items()}
    return out


__all__ = ["DAT_COLUMNS", "REQUIRED", "FINGERTIPS_COLUMNS", "ImportRefused", "Rejection",
           "ImportReport", "Row", "detect_format", "stream_rows", "read_rows", "load_mapping"]

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
