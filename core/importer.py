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
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dat.core.errors import DataError
from dat.core.periods import PeriodError, parse_period

DAT_COLUMNS = ("partnership", "indicator", "period", "value", "numerator", "denominator", "note")
REQUIRED = ("partnership", "indicator", "period", "value")
FINGERTIPS_COLUMNS = ("Indicator ID", "Area Code", "Time period", "Value")


class ImportRefused(DataError):
    """The file cannot be imported at all (unreadable, wrong header, wrong format)."""


#: the old name, kept for code written against it
ImportError_ = ImportRefused


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
        raise ImportError_(f"{path}: cannot read ({exc.strerror})") from None
    if not more and not head.strip():
        raise ImportError_(f"{path}: the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise ImportError_(f"{path}: this is a zip/xlsx file; give it an .xlsx suffix")


def _not_utf8(path: Path, line: int, exc: UnicodeDecodeError) -> ImportError_:
    return ImportError_(f"{path}: not UTF-8 text (near line {line}: {exc.object[exc.start:exc.start + 1]!r}); "
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
        raise ImportError_(f"{path}: no header row ({exc})") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for rec in reader:
                if any(rec) and (rec[0].strip() or any(c.strip() for c in rec)):
                    yield reader.line_num, rec
        except csv.Error as exc:
            raise ImportError_(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, reader.line_num + 1, exc) from None
        finally:
            fh.close()

    return [h.strip() for h in header], rows()


def _xlsx_records(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        import openpyxl  # type: ignore[import-untyped]  # no stubs: types-openpyxl is not a dependency
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
    except ImportError_ as exc:
        raise ImportError_(f"{path}:1: {exc}") from None
    known = ({c.lower() for c in DAT_COLUMNS} if fmt == "dat" else set(FINGERTIPS_COLUMNS))
    cols = [h.strip().lower() if fmt == "dat" else h.strip() for h in header]
    twice = sorted({c for c in cols if c in known and cols.count(c) > 1})
    if twice:
        raise ImportError_(f"{path}:1: the column {twice[0]!r} appears more than once in the header")
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
            raise ImportError_(f"{path}: a header but no data rows")

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
            raise ImportError_(f"{path}: a header but no data rows")

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
        raise ImportError_(f"{path}: cannot read the mapping ({exc})") from None
    unknown = sorted(set(data) - {"areas", "indicators"})
    if unknown:
        raise ImportError_(f"{path}: unknown mapping table {unknown[0]!r}; "
                           "a mapping has [areas] and [indicators]")
    out: dict[str, dict[str, str]] = {}
    for table, what in (("areas", "a partnership slug"), ("indicators", "an indicator code")):
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise ImportError_(f"{path}: {table} must be a table ([{table}]), not {type(section).__name__}")
        for k, v in section.items():
            if not isinstance(v, str):
                raise ImportError_(f"{path}: [{table}] {k!r}: expected {what} as a string, "
                                   f"got {v!r}")
        out[table] = {str(k): v for k, v in section.items()}
    return out


# -- checking and writing -----------------------------------------------------------------------

#: rows per bulk statement (executemany on SQLite, a COPY buffer on PostgreSQL)
BATCH = 20000

_OBS_COLUMNS = ("partnership_id", "indicator_id", "period", "revision", "is_current", "value",
                "numerator", "denominator", "ci_low", "ci_high", "status", "commentary",
                "source", "origin", "recorded_at")


class _Writer:
    """Bulk writes into ``observation`` on one connection inside the caller's transaction:
    driver ``executemany`` of plain tuples on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL.
    No ORM object and no per-row SQLAlchemy parameter processing."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.buffer: list[tuple] = []
        cols = ", ".join(_OBS_COLUMNS)
        self.insert_sql = f"INSERT INTO observation ({cols}) VALUES ({', '.join(['?'] * len(_OBS_COLUMNS))})"
        self.copy_sql = f"COPY observation ({cols}) FROM STDIN"

    def add(self, row: tuple) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        raw = self.conn.connection.driver_connection
        if self.dialect == "postgresql":
            with raw.cursor() as cur, cur.copy(self.copy_sql) as copy:
                for row in self.buffer:
                    copy.write_row(row)
        else:
            raw.cursor().executemany(self.insert_sql, self.buffer)
        self.buffer.clear()

    def retire(self, ids: list[int]) -> None:
        from sqlalchemy import update
        from sqlmodel import col

        from dat.core.models import Observation

        for chunk in (ids[i:i + 1000] for i in range(0, len(ids), 1000)):
            self.conn.execute(update(Observation).where(col(Observation.id).in_(chunk)).values(is_current=False))


def _check(rows: Iterable[Row], name: str, parts: dict[str, int], inds: dict[str, tuple[int, str]],
           rejects: list[Rejection], parsing_rejects: set[int]) -> Iterator[tuple[Row, tuple, tuple]]:
    """The rules every row must pass; yields (row, key, values) for the good ones. The key is
    (partnership id, indicator id, canonical period)."""
    periods: dict[str, str | PeriodError] = {}
    seen: dict[tuple, tuple[int, int]] = {}
    for row in rows:
        pid = parts.get(row.partnership)
        ind = inds.get(row.indicator)
        if pid is None:
            rejects.append(Rejection(name, row.line, "partnership", f"unknown partnership {row.partnership!r}"))
        if ind is None:
            rejects.append(Rejection(name, row.line, "indicator", f"unknown indicator {row.indicator!r}"))
        period = periods.get(row.period)
        if period is None:
            try:
                period = str(parse_period(row.period))
            except PeriodError as exc:
                period = exc
            periods[row.period] = period
        if isinstance(period, PeriodError):
            rejects.append(Rejection(name, row.line, "period", str(period)))
            continue
        if pid is None or ind is None:
            continue
        if row.value is None and row.numerator is None:
            if row.line not in parsing_rejects:  # not already rejected as non-numeric
                rejects.append(Rejection(name, row.line, "value", "no value"))
            continue
        if ind[1] == "percent" and row.value is not None and not 0 <= row.value <= 100:
            rejects.append(Rejection(name, row.line, "value", f"{row.value:g} is not a percentage (0-100)"))
            continue
        if row.denominator is not None and row.denominator <= 0:
            rejects.append(Rejection(name, row.line, "denominator", f"{row.denominator:g} must be positive"))
            continue
        if row.numerator is not None and row.denominator is not None and row.numerator > row.denominator:
            rejects.append(Rejection(name, row.line, "numerator",
                                     f"{row.numerator:g} is larger than the denominator {row.denominator:g}"))
            continue
        key = (pid, ind[0], period)
        values = (row.value, row.numerator, row.denominator, row.ci_low, row.ci_high, row.note)
        first = seen.get(key)
        if first is not None:
            # only a hash of the first row's values is kept, to hold 1M+ keys in little memory
            if first[1] != hash(values):
                rejects.append(Rejection(name, row.line, "row",
                                         f"duplicate of line {first[0]} with a different value"))
            continue
        seen[key] = (row.line, hash(values))
        yield row, key, values


def import_file(store: Any, path: str | Path, *, dry_run: bool = False,
                mapping: str | Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check every row and write the good ones in one transaction, streaming: rows are bulk
    inserted as they are checked, and the transaction is rolled back at the end when any row
    was rejected (or on ``dry_run``). Returns the report; the database is untouched when
    ``written`` is False."""
    from sqlalchemy import select
    from sqlmodel import col

    from dat.core.models import Indicator, Observation, Partnership

    path = Path(path)
    fmt, rows, rejects, counter = stream_rows(path, load_mapping(Path(mapping) if mapping else None))
    report = ImportReport(file=str(path), format=fmt, rejected=rejects)
    name = str(path)
    with store.session() as s:
        parts = dict(s.execute(select(col(Partnership.slug), col(Partnership.id))).all())
        inds = {code: (iid, unit) for code, iid, unit in
                s.execute(select(col(Indicator.code), col(Indicator.id), col(Indicator.unit))).all()}
    now = datetime.now(UTC).replace(tzinfo=None)
    source, origin = f"import: {path.name}", f"import:{path.name}"
    parsing_rejects: set[int] = set()
    n = 0
    with store.engine.connect() as conn:
        trans = conn.begin()
        try:
            writer = _Writer(conn)
            stamp: Any = now if writer.dialect != "sqlite" else now.isoformat(sep=" ", timespec="microseconds")
            current: dict[tuple, Any] = {}
            loaded: set[int] = set()
            retire: list[int] = []
            for _row, key, values in _check(_noting(rows, rejects, parsing_rejects), name, parts, inds,
                                           rejects, parsing_rejects):
                n += 1
                iid = key[1]
                if iid not in loaded:  # the current figures of each indicator, once
                    loaded.add(iid)
                    q = select(col(Observation.id), col(Observation.partnership_id), col(Observation.period),
                               col(Observation.revision), col(Observation.value), col(Observation.numerator),
                               col(Observation.denominator), col(Observation.ci_low), col(Observation.ci_high),
                               col(Observation.commentary)).where(
                        col(Observation.indicator_id) == iid, col(Observation.is_current).is_(True))
                    for r in conn.execute(q):
                        current[(r[1], iid, r[2])] = (r[0], r[3], tuple(r[4:]))
                old = current.get(key)
                if old is not None and old[2] == values:
                    report.unchanged += 1
                    continue
                revision = 1
                if old is not None:
                    retire.append(old[0])
                    revision = old[1] + 1
                    report.changed += 1
                else:
                    report.added += 1
                if not (dry_run or rejects):
                    writer.add((key[0], iid, key[2], revision, True, *values[:5], "final", values[5],
                                source, origin, stamp))
                if progress and n % 10000 == 0:
                    progress(n, n)
            report.rows = counter()
            report.rejected.sort(key=lambda r: r.line)
            if dry_run or report.rejected:
                trans.rollback()
                return report
            writer.flush()
            writer.retire(retire)
            trans.commit()
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
    report.written = True
    if progress:
        progress(n, n)
    return report


def _noting(rows: Iterable[Row], rejects: list[Rejection], lines: set[int]) -> Iterator[Row]:
    """Pass rows through, remembering which lines already have a parsing rejection (so a
    non-numeric value is not reported twice)."""
    seen = 0
    for row in rows:
        while seen < len(rejects):
            lines.add(rejects[seen].line)
            seen += 1
        yield row


def history(store: Any, partnership: str, indicator: str, period: str | None = None) -> dict[str, Any]:
    """Every revision of a partnership's figures for one indicator, newest first per period."""
    from sqlalchemy import select
    from sqlmodel import col

    from dat.core.models import Indicator, Observation, Partnership
    from dat.core.services import get_indicator, get_partnership

    get_partnership(store, partnership)
    get_indicator(store, indicator)
    with store.session() as s:
        q = (select(Observation).join(Partnership, col(Partnership.id) == col(Observation.partnership_id))
             .join(Indicator, col(Indicator.id) == col(Observation.indicator_id))
             .where(col(Partnership.slug) == partnership, col(Indicator.code) == indicator))
        if period:
            q = q.where(col(Observation.period) == str(parse_period(period)))
        obs = list(s.scalars(q))
    obs.sort(key=lambda o: (parse_period(o.period), -o.revision))
    return {"schema": "dat.history/1", "partnership": partnership, "indicator": indicator,
            "revisions": [{"period": o.period, "revision": o.revision, "current": o.is_current,
                           "value": o.value, "numerator": o.numerator, "denominator": o.denominator,
                           "rag": o.rag, "text": o.text, "commentary": o.commentary,
                           "origin": o.origin, "recorded_at": o.recorded_at.isoformat(timespec="seconds")}
                          for o in obs]}


__all__ = ["import_file", "history", "ImportReport", "ImportError_", "Rejection", "read_rows", "stream_rows"]
