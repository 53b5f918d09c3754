"""Importing figures: dat's long CSV, the same as .xlsx, and Fingertips "download data" CSV.

An import is all or nothing: every row is checked first and any rejected row (reported with
file, line, column and rule) means nothing is written. A figure equal to the stored one is
unchanged; a different one becomes a new revision and the old one stays in history. The
write happens in one transaction with bulk statements, not one ORM object per row.

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
import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from dat.core.periods import PeriodError, parse_period

DAT_COLUMNS = ("partnership", "indicator", "period", "value", "numerator", "denominator", "note")
REQUIRED = ("partnership", "indicator", "period", "value")
FINGERTIPS_COLUMNS = ("Indicator ID", "Area Code", "Time period", "Value")


class ImportError_(RuntimeError):
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

def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise ImportError_(f"{path}: the file is empty")
    if raw.startswith(b"PK\x03\x04"):
        raise ImportError_(f"{path}: this is a zip/xlsx file; give it an .xlsx suffix")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
                           "save it as CSV UTF-8") from None


def _csv_records(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportError_(f"{path}: no header row ({exc})") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for rec in reader:
                if any(c.strip() for c in rec):
                    yield reader.line_num, rec
        except csv.Error as exc:
            raise ImportError_(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None

    return [h.strip() for h in header], rows()


def _xlsx_records(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise ImportError_("reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:
        raise ImportError_(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    ws = wb.worksheets[0]
    if ws.merged_cells.ranges:
        first = sorted(str(r) for r in ws.merged_cells.ranges)[0]
        raise ImportError_(f"{path}: sheet {ws.title!r} has merged cells ({first}); "
                           "unmerge them so every row is one figure")
    it = ws.iter_rows(values_only=True)
    try:
        header = [str(c).strip() if c is not None else "" for c in next(it)]
    except StopIteration:
        raise ImportError_(f"{path}: the sheet {ws.title!r} is empty") from None

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
    raise ImportError_(
        "unrecognised header " + ", ".join(header[:8]) +
        f"; expected dat's columns ({', '.join(DAT_COLUMNS)}) or Fingertips' ({', '.join(FINGERTIPS_COLUMNS)}, ...)")


def _number(text: str, line: int, column: str, file: str, rejects: list[Rejection]) -> float | None:
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
    if math.isnan(value) or math.isinf(value):
        rejects.append(Rejection(file, line, column, f"{text!r} is not a finite number"))
        return None
    return value


def read_rows(path: Path, mapping: dict[str, dict[str, str]] | None = None) -> tuple[str, list[Row], list[Rejection], int]:
    """Parse a file into rows; return (format, rows, rejections, data row count)."""
    reader = _xlsx_records if path.suffix.lower() == ".xlsx" else _csv_records
    header, records = reader(path)
    fmt = detect_format(header)
    name = str(path)
    rejects: list[Rejection] = []
    rows: list[Row] = []
    count = 0
    if fmt == "dat":
        idx = {h.lower(): i for i, h in enumerate(header)}
        for line, rec in records:
            count += 1
            get = lambda c: rec[idx[c]].strip() if c in idx and idx[c] < len(rec) else ""  # noqa: E731
            if len(rec) > len(header):
                rejects.append(Rejection(name, line, "row", f"{len(rec)} fields, the header has {len(header)}"))
                continue
            rows.append(Row(line, get("partnership"), get("indicator"), get("period"),
                            _number(get("value"), line, "value", name, rejects),
                            _number(get("numerator"), line, "numerator", name, rejects),
                            _number(get("denominator"), line, "denominator", name, rejects),
                            note=get("note") or None))
    else:
        areas = (mapping or {}).get("areas", {})
        indicators = (mapping or {}).get("indicators", {})
        idx = {h: i for i, h in enumerate(header)}
        for line, rec in records:
            count += 1
            get = lambda c: rec[idx[c]].strip() if c in idx and idx[c] < len(rec) else ""  # noqa: E731
            area, ind_id = get("Area Code"), get("Indicator ID")
            if area not in areas:
                rejects.append(Rejection(name, line, "Area Code",
                                         f"{area!r} ({get('Area Name') or 'no name'}) is not mapped to a partnership"))
                continue
            if ind_id not in indicators:
                rejects.append(Rejection(name, line, "Indicator ID", f"{ind_id!r} is not mapped to an indicator"))
                continue
            rows.append(Row(line, areas[area], indicators[ind_id], get("Time period"),
                            _number(get("Value"), line, "Value", name, rejects),
                            _number(get("Count"), line, "Count", name, rejects),
                            _number(get("Denominator"), line, "Denominator", name, rejects),
                            ci_low=_number(get("Lower CI 95.0 limit"), line, "Lower CI 95.0 limit", name, rejects),
                            ci_high=_number(get("Upper CI 95.0 limit"), line, "Upper CI 95.0 limit", name, rejects),
                            note=get("Value note") or None))
    if count == 0:
        raise ImportError_(f"{path}: a header but no data rows")
    return fmt, rows, rejects, count


def load_mapping(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportError_(f"{path}: cannot read the mapping ({exc})") from None
    return {"areas": {str(k): str(v) for k, v in data.get("areas", {}).items()},
            "indicators": {str(k): str(v) for k, v in data.get("indicators", {}).items()}}


# -- checking and writing -----------------------------------------------------------------------

def import_file(store: Any, path: str | Path, *, dry_run: bool = False,
                mapping: str | Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check every row, then (unless ``dry_run`` or anything was rejected) write them all in
    one transaction. Returns the report; the database is untouched when ``written`` is False."""
    from sqlalchemy import insert, select, update

    from dat.core.models import Indicator, Observation, Partnership

    path = Path(path)
    fmt, rows, rejects, count = read_rows(path, load_mapping(Path(mapping) if mapping else None))
    report = ImportReport(file=str(path), format=fmt, rows=count, rejected=rejects)
    name = str(path)
    with store.session() as s:
        parts = dict(s.execute(select(Partnership.slug, Partnership.id)).all())
        inds = {code: (iid, unit) for code, iid, unit in
                s.execute(select(Indicator.code, Indicator.id, Indicator.unit)).all()}
    seen: dict[tuple, tuple[int, tuple]] = {}
    clean: list[tuple[Row, tuple]] = []
    for row in rows:
        bad = False
        if row.partnership not in parts:
            rejects.append(Rejection(name, row.line, "partnership", f"unknown partnership {row.partnership!r}"))
            bad = True
        if row.indicator not in inds:
            rejects.append(Rejection(name, row.line, "indicator", f"unknown indicator {row.indicator!r}"))
            bad = True
        try:
            period = str(parse_period(row.period))
        except PeriodError as exc:
            rejects.append(Rejection(name, row.line, "period", str(exc)))
            continue
        if bad:
            continue
        unit = inds[row.indicator][1]
        if row.value is None and row.numerator is None:
            if not any(r.line == row.line for r in rejects):  # not already rejected as non-numeric
                rejects.append(Rejection(name, row.line, "value", "no value"))
            continue
        if unit == "percent" and row.value is not None and not 0 <= row.value <= 100:
            rejects.append(Rejection(name, row.line, "value", f"{row.value:g} is not a percentage (0-100)"))
            continue
        if row.denominator is not None and row.denominator <= 0:
            rejects.append(Rejection(name, row.line, "denominator", f"{row.denominator:g} must be positive"))
            continue
        if row.numerator is not None and row.denominator is not None and row.numerator > row.denominator:
            rejects.append(Rejection(name, row.line, "numerator",
                                     f"{row.numerator:g} is larger than the denominator {row.denominator:g}"))
            continue
        key = (parts[row.partnership], inds[row.indicator][0], period)
        values = (row.value, row.numerator, row.denominator, row.ci_low, row.ci_high, row.note)
        if key in seen:
            first_line, first_values = seen[key]
            if first_values != values:
                rejects.append(Rejection(name, row.line, "row",
                                         f"duplicate of line {first_line} with a different value"))
            continue
        seen[key] = (row.line, values)
        clean.append((row, key))
    report.rejected.sort(key=lambda r: r.line)
    if report.rejected:
        return report

    with store.session() as s:
        current: dict[tuple, Any] = {}
        ind_ids = sorted({k[1] for _, k in clean})
        for chunk in (ind_ids[i:i + 500] for i in range(0, len(ind_ids), 500)):
            q = select(Observation.id, Observation.partnership_id, Observation.indicator_id,
                       Observation.period, Observation.revision, Observation.value,
                       Observation.numerator, Observation.denominator, Observation.ci_low,
                       Observation.ci_high, Observation.commentary).where(
                Observation.indicator_id.in_(chunk), Observation.is_current.is_(True))
            for r in s.execute(q):
                current[(r.partnership_id, r.indicator_id, r.period)] = r
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        new_rows: list[dict[str, Any]] = []
        retire: list[int] = []
        for n, (row, key) in enumerate(clean, 1):
            old = current.get(key)
            values = {"value": row.value, "numerator": row.numerator, "denominator": row.denominator,
                      "ci_low": row.ci_low, "ci_high": row.ci_high, "commentary": row.note}
            if old is not None and all(getattr(old, k) == v for k, v in values.items()):
                report.unchanged += 1
                continue
            revision = 1
            if old is not None:
                retire.append(old.id)
                revision = old.revision + 1
                report.changed += 1
            else:
                report.added += 1
            new_rows.append({"partnership_id": key[0], "indicator_id": key[1], "period": key[2],
                             "revision": revision, "is_current": True, "status": "final",
                             "source": f"import: {path.name}", "origin": f"import:{path.name}",
                             "recorded_at": now, **values})
            if progress and n % 10000 == 0:
                progress(n, len(clean))
        if dry_run:
            return report
        try:
            for chunk in (retire[i:i + 1000] for i in range(0, len(retire), 1000)):
                s.execute(update(Observation).where(Observation.id.in_(chunk)).values(is_current=False))
            for chunk in (new_rows[i:i + 5000] for i in range(0, len(new_rows), 5000)):
                s.execute(insert(Observation), chunk)
            s.commit()
        except Exception:
            s.rollback()
            raise
        report.written = True
    if progress:
        progress(len(clean), len(clean))
    return report


def history(store: Any, partnership: str, indicator: str, period: str | None = None) -> dict[str, Any]:
    """Every revision of a partnership's figures for one indicator, newest first per period."""
    from sqlalchemy import select

    from dat.core.models import Indicator, Observation, Partnership
    from dat.core.services import get_indicator, get_partnership

    get_partnership(store, partnership)
    get_indicator(store, indicator)
    with store.session() as s:
        q = (select(Observation).join(Partnership, Partnership.id == Observation.partnership_id)
             .join(Indicator, Indicator.id == Observation.indicator_id)
             .where(Partnership.slug == partnership, Indicator.code == indicator))
        if period:
            q = q.where(Observation.period == str(parse_period(period)))
        obs = list(s.scalars(q))
    obs.sort(key=lambda o: (parse_period(o.period), -o.revision))
    return {"schema": "dat.history/1", "partnership": partnership, "indicator": indicator,
            "revisions": [{"period": o.period, "revision": o.revision, "current": o.is_current,
                           "value": o.value, "numerator": o.numerator, "denominator": o.denominator,
                           "rag": o.rag, "text": o.text, "commentary": o.commentary,
                           "origin": o.origin, "recorded_at": o.recorded_at.isoformat(timespec="seconds")}
                          for o in obs]}


__all__ = ["import_file", "history", "ImportReport", "ImportError_", "Rejection", "read_rows"]
