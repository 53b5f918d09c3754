"""Importing figures: all or nothing. Every row a reader gives (:mod:`dat.core.readers`:
dat's long CSV, .xlsx, Fingertips CSV) is checked against the database first, and any
rejected row (reported with file, line, column and rule) means nothing is written. A figure
equal to the stored one is unchanged; a different one becomes a new revision and the old one
stays in history. The write happens in one transaction with bulk statements, not one ORM
object per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dat.core.audit import actor, record
from dat.core.periods import PeriodError, parse_period
from dat.core.readers import (  # noqa: F401 - re-exported: these were defined here
    DAT_COLUMNS,
    FINGERTIPS_COLUMNS,
    REQUIRED,
    ImportRefused,
    ImportReport,
    Rejection,
    Row,
    detect_format,
    load_mapping,
    quote,
    read_rows,
    stream_rows,
    written_beyond,
)

# -- checking and writing -----------------------------------------------------------------------

#: rows per bulk statement (executemany on SQLite, a COPY buffer on PostgreSQL)
BATCH = 20000

_OBS_COLUMNS = ("partnership_id", "indicator_id", "period", "revision", "is_current", "value",
                "numerator", "denominator", "ci_low", "ci_high", "status", "commentary",
                "source", "origin", "recorded_at", "recorded_by")


class _Writer:
    """Bulk writes into ``observation`` on one connection inside the caller's transaction:
    driver ``executemany`` of plain tuples on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL.
    No ORM object and no per-row SQLAlchemy parameter processing."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.buffer: list[tuple] = []
        self.pending: list[int] = []  # ids of current figures the buffered rows replace
        cols = ", ".join(_OBS_COLUMNS)
        self.insert_sql = f"INSERT INTO observation ({cols}) VALUES ({', '.join(['?'] * len(_OBS_COLUMNS))})"
        self.copy_sql = f"COPY observation ({cols}) FROM STDIN"
        # PostgreSQL refuses COPY into a table with row-level security for a user it applies
        # to (an editor): such a user's rows go in as batched INSERTs, checked row by row
        self.use_copy = False
        if self.dialect == "postgresql":
            from dat.core.roles import bypasses_row_security

            self.use_copy = bypasses_row_security(conn)
            self.insert_sql = self.insert_sql.replace("?", "%s")

    def add(self, row: tuple) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        # the figures these rows replace stop being current first: a figure has one current
        # revision at every moment (a unique index says so)
        if self.pending:
            self.retire(self.pending)
            self.pending.clear()
        if not self.buffer:
            return
        raw = self.conn.connection.driver_connection
        if self.use_copy:
            with raw.cursor() as cur, cur.copy(self.copy_sql) as copy:
                for row in self.buffer:
                    copy.write_row(row)
        elif self.dialect == "postgresql":
            with raw.cursor() as cur:
                cur.executemany(self.insert_sql, self.buffer)
        else:  # the driver's own call bypasses the engine's hooks: check for damage here
            from dat.core.db import check_intact

            check_intact(self.conn.engine.url.render_as_string(hide_password=False), raw)
            raw.cursor().executemany(self.insert_sql, self.buffer)
        self.buffer.clear()

    def retire(self, ids: list[int]) -> None:
        from sqlalchemy import update
        from sqlmodel import col

        from dat.core.models import Observation

        for chunk in (ids[i:i + 1000] for i in range(0, len(ids), 1000)):
            self.conn.execute(update(Observation).where(col(Observation.id).in_(chunk)).values(is_current=False))


#: units whose value may be written with a % sign, or with a £ sign
PERCENT_UNITS = ("percent", "pct_change")
MONEY_UNITS = ("gbp",)
#: units whose value is never negative (gbp and pct_change may be; rag and text are not checked)
NON_NEGATIVE_UNITS = ("count", "percent", "rate", "ratio", "weeks", "days")
#: value = factor * numerator / denominator for these units ("rate" uses the indicator's per)
PROPORTION_UNITS = ("percent", "rate", "ratio")
#: units whose figures are not numbers: a RAG judgement (R/A/G, the ``rag`` column) or a
#: qualitative text; an import file's value column cannot hold them, so a number is refused
NOT_NUMBER_UNITS = {"rag": "a RAG judgement (R, A or G)", "text": "a text entry"}
#: the rule of each unit dat knows for an imported value (every unit in dat.core.specs.UNITS
#: has one; an indicator of any other unit is refused)
UNIT_RULES = {
    "count": "a whole number, 0 or more; a numerator, if given, equals the value",
    "percent": "0 to 100; with a numerator and denominator, 100 x numerator / denominator",
    "pct_change": "any number (a change may be negative)",
    "rate": "0 or more; with a numerator and denominator, per x numerator / denominator",
    "gbp": "any number of pounds (a balance may be negative)",
    "weeks": "0 or more",
    "days": "0 or more",
    "ratio": "0 or more; with a numerator and denominator, numerator / denominator",
    "rag": "not imported: " + NOT_NUMBER_UNITS["rag"],
    "text": "not imported: " + NOT_NUMBER_UNITS["text"],
}


def _current_year() -> int:
    from datetime import date

    from dat.core.periods import financial_year

    return financial_year(date.today()).year


#: the units whose value must agree with its numerator and denominator, by file format: a
#: Fingertips rate or ratio is often standardised (age-standardised rates, SMRs scaled by
#: 100) and differs from the crude count/denominator, but a percentage is the proportion
AGREEMENT_UNITS = {"dat": PROPORTION_UNITS, "fingertips": ("percent",)}


def scale(unit: str, per: int | None) -> float:
    """value = scale x numerator / denominator for a proportion unit: 100 for a percentage,
    the indicator's ``per`` for a rate, 1 for a ratio."""
    return 100 if unit == "percent" else (per or 1) if unit == "rate" else 1


def _check(rows: Iterable[Row], name: str, parts: dict[str, int], inds: dict[str, tuple[int, str, int | None]],
           rejects: list[Rejection], parsing_rejects: set[int], *, allow_future: bool = False,
           agreement: tuple[str, ...] = PROPORTION_UNITS) -> Iterator[tuple[Row, tuple, tuple]]:
    """The rules every row must pass; yields (row, key, values) for the good ones. The key is
    (partnership id, indicator id, canonical period). ``agreement``: the units whose value
    must agree with numerator/denominator. docs/cli.md lists every rule."""
    periods: dict[str, tuple[str, int] | PeriodError] = {}
    seen: dict[tuple, tuple[int, tuple]] = {}
    this_year = _current_year()

    def no(row: Row, column: str, rule: str) -> None:
        rejects.append(Rejection(name, row.line, column, rule))

    for row in rows:
        pid = parts.get(row.partnership)
        ind = inds.get(row.indicator)
        if pid is None:
            no(row, "partnership", f"unknown partnership {quote(row.partnership)}")
        if ind is None:
            no(row, "indicator", f"unknown indicator {quote(row.indicator)}")
        period = periods.get(row.period)
        if period is None:
            try:
                parsed = parse_period(row.period)
                period = (str(parsed), parsed.year)
            except PeriodError as exc:
                period = exc
            periods[row.period] = period
        if isinstance(period, PeriodError):
            no(row, "period", str(period).split(". Use ")[0] if len(row.period) <= 40
               else f"{quote(row.period)} is not a period")
            continue
        if period[1] > this_year and not allow_future:
            no(row, "period", f"{period[0]} is after the current financial year "
                              f"({this_year}/{(this_year + 1) % 100:02d}); use --allow-future for a forecast")
            continue
        if pid is None or ind is None:
            continue
        unit = ind[1]
        value, num, den = row.value, row.numerator, row.denominator
        if unit not in UNIT_RULES:
            no(row, "indicator", f"{row.indicator} has the unit {quote(unit)}, which dat cannot import")
            continue
        if unit in NOT_NUMBER_UNITS:
            no(row, "value", f"{row.indicator} is a {unit} indicator ({NOT_NUMBER_UNITS[unit]}); "
                             "a number cannot be imported")
            continue
        fractions = dict(row.fractions)
        if value is None and (num is None or den is None):
            if row.line not in parsing_rejects:  # not already rejected as non-numeric
                no(row, "value", "no value: give a value, or both numerator and denominator")
            continue
        if value is None and unit not in PROPORTION_UNITS and unit != "count":
            no(row, "value", f"no value: a {unit} value is not worked out from a numerator and "
                             "denominator; give the value")
            continue
        if row.value_mark == "%" and unit not in PERCENT_UNITS:
            no(row, "value", f"a % sign on a {unit} indicator ({row.indicator}); % is only for percentages")
            continue
        if row.value_mark == "£" and unit not in MONEY_UNITS:
            no(row, "value", f"a £ sign on a {unit} indicator ({row.indicator}); £ is only for money")
            continue
        if value is not None:
            if unit == "percent" and (not 0 <= value <= 100 or (
                    value == 100 and row.written and written_beyond(row.written[0], 100))):
                no(row, "value", f"{row.shown(0, value)} is not a percentage (0-100)")
                continue
            if unit == "count" and (value < 0 or "value" in fractions):
                shown = quote(fractions["value"]) if "value" in fractions else row.shown(0, value)
                no(row, "value", f"{shown} is not a count (a whole number, 0 or more)")
                continue
            if unit == "count":
                value = float(round(value))  # a spreadsheet's 5.000000000000001 is 5
            if unit in NON_NEGATIVE_UNITS and value < 0:
                no(row, "value", f"{row.shown(0, value)} is negative; a {unit} is 0 or more")
                continue
        if num is not None and num < 0:
            no(row, "numerator", f"{row.shown(1, num)} is negative; a numerator is 0 or more")
            continue
        if den is not None and den <= 0:
            no(row, "denominator", f"{row.shown(2, den)} must be positive")
            continue
        if "numerator" in fractions:
            no(row, "numerator", f"{quote(fractions['numerator'])} is not a whole number; "
                                 "a numerator counts people")
            continue
        if "denominator" in fractions:
            no(row, "denominator", f"{quote(fractions['denominator'])} is not a whole number; "
                                   "a denominator counts people")
            continue
        if num is not None:
            num = float(round(num))
        if den is not None:
            den = float(round(den))
        if unit == "count" and num is not None and value is not None and num != value:
            no(row, "numerator", f"{row.shown(1, num)} is not the value {row.shown(0, value)}; "
                                 "a count's numerator is the count itself")
            continue
        if unit == "count" and num is None and value is not None and den is not None and value > den:
            # a count is its own numerator: 12 of 10 is refused with the column left empty too
            no(row, "value", f"{row.shown(0, value)} is larger than the denominator {row.shown(2, den)}; "
                             "a count is at most its denominator")
            continue
        if num is not None and den is not None:
            if num > den:
                no(row, "numerator", f"{row.shown(1, num)} is larger than the denominator {row.shown(2, den)}")
                continue
            if value is None:  # worked out: the count itself, or scale x n / d
                value = num if unit == "count" else scale(unit, ind[2]) * num / den
            elif unit in agreement:
                factor = scale(unit, ind[2])
                expected = factor * num / den
                # the value must be 100 * num / den (per * ..., or num / den) rounded to the
                # decimals it is written with: within half a unit of its last decimal
                if abs(value - expected) > 0.5 * 10.0 ** -row.value_decimals + 1e-9 * max(1.0, abs(expected)):
                    no(row, "value", f"{row.shown(0, value)} does not match numerator/denominator: "
                                     f"{factor:g} x {row.shown(1, num)} / {row.shown(2, den)} = {expected:.6g}")
                    continue
        if row.ci_low is not None and row.ci_high is not None and row.ci_low > row.ci_high:
            no(row, "Lower CI 95.0 limit", f"{row.shown(3, row.ci_low)} is above the upper limit "
                                           f"{row.shown(4, row.ci_high)}")
            continue
        if (value is not None and row.ci_low is not None and row.ci_high is not None
                and not row.ci_low <= value <= row.ci_high):
            no(row, "value", f"{row.shown(0, value)} is outside its confidence interval "
                             f"{row.shown(3, row.ci_low)} to {row.shown(4, row.ci_high)}")
            continue
        key = (pid, ind[0], period[0])
        values = (value, num, den, row.ci_low, row.ci_high, row.note)
        first = seen.get(key)
        if first is not None:
            # the exact values of the first row are kept (never a hash: hash(-1) == hash(-2))
            if first[1] != values:
                what = "note" if first[1][:5] == values[:5] else "value"
                no(row, "row", f"duplicate of line {first[0]} with a different {what}")
            continue
        seen[key] = (row.line, values)
        yield row, key, values


def import_file(store: Any, path: str | Path, *, dry_run: bool = False,
                mapping: str | Path | None = None,
                progress: Callable[[int, int], None] | None = None,
                decimal_comma: bool = False, allow_future: bool = False) -> ImportReport:
    """Check every row and write the good ones in one transaction, streaming: rows are bulk
    inserted as they are checked, and the transaction is rolled back at the end when any row
    was rejected (or on ``dry_run``). Returns the report; the database is untouched when
    ``written`` is False. ``decimal_comma`` reads ``1.234,5`` as 1234.5 (and ``1.5`` is then
    refused); ``allow_future`` accepts periods after the current financial year."""
    from sqlalchemy import func, select
    from sqlmodel import col

    from dat.core.models import Indicator, Observation, Partnership

    path = Path(path)
    fmt, rows, rejects, reading = stream_rows(path, load_mapping(Path(mapping) if mapping else None),
                                             decimal_comma=decimal_comma)
    report = ImportReport(file=str(path), format=fmt, rejected=rejects, sheet=reading.sheet)
    name = str(path)
    with store.session() as s:
        parts = dict(s.execute(select(col(Partnership.slug), col(Partnership.id))).all())
        inds = {code: (iid, unit, per) for code, iid, unit, per in
                s.execute(select(col(Indicator.code), col(Indicator.id), col(Indicator.unit),
                                 col(Indicator.per))).all()}
    now = datetime.now(UTC).replace(tzinfo=None)
    label = "stdin" if str(path) == "-" else path.name
    source, origin = f"import: {label}", f"import:{label}"
    parsing_rejects: set[int] = set()
    n = 0
    with store.engine.connect() as conn:
        trans = conn.begin()
        try:
            writer = _Writer(conn)
            who = actor(conn)
            touched: set[int] = set()
            stamp: Any = now if writer.dialect != "sqlite" else now.isoformat(sep=" ", timespec="microseconds")
            current: dict[tuple, Any] = {}
            withdrawn: dict[tuple, int] = {}
            loaded: set[int] = set()
            retire = writer.pending
            for _row, key, values in _check(_noting(rows, rejects, parsing_rejects), name, parts, inds,
                                            rejects, parsing_rejects, allow_future=allow_future,
                                            agreement=AGREEMENT_UNITS[fmt]):
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
                    # the highest revision that is not current: a purge's withdrawn revision, or
                    # one a database client added, may be above the current one
                    past = select(col(Observation.partnership_id), col(Observation.period),
                                  func.max(col(Observation.revision))).where(
                        col(Observation.indicator_id) == iid, col(Observation.is_current).is_(False)).group_by(
                        col(Observation.partnership_id), col(Observation.period))
                    for r in conn.execute(past):
                        withdrawn[(r[0], iid, r[1])] = r[2]
                old = current.get(key)
                if old is not None and old[2] == values:
                    report.unchanged += 1
                    continue
                revision = withdrawn.get(key, 0) + 1
                if old is not None:
                    retire.append(old[0])
                    revision = max(revision, old[1] + 1)
                    report.changed += 1
                else:
                    report.added += 1
                touched.add(key[0])
                if not (dry_run or rejects):
                    writer.add((key[0], iid, key[2], revision, True, *values[:5], "final", values[5],
                                source, origin, stamp, who))
                if progress and n % 10000 == 0:
                    progress(n, n)
            report.rows = reading()
            report.breakdowns = reading.breakdowns
            report.suppressed = reading.suppressed
            report.rejected.sort(key=lambda r: r.line)
            _check_may_edit(conn, parts, touched, name)
            if dry_run or report.rejected:
                trans.rollback()
                return report
            writer.flush()
            if report.added or report.changed:
                slugs = sorted(slug for slug, pid in parts.items() if pid in touched)
                record(conn, "import", f"{path.name}: added {report.added}, changed {report.changed}, "
                                       f"unchanged {report.unchanged} ({', '.join(slugs[:10])}"
                                       f"{' …' if len(slugs) > 10 else ''})",
                       partnership=slugs[0] if len(slugs) == 1 else None, source=f"file:{path}", who=who)
            trans.commit()
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
    report.written = True
    if progress:
        progress(n, n)
    return report


def _check_may_edit(conn: Any, parts: dict[str, int], touched: set[int], name: str) -> None:
    """On a shared server, refuse (nothing written) an import that changes figures of a
    partnership the login does not edit. The database enforces the same rule with row-level
    security; this says it in one clear line before anything is sent."""
    from dat.core.roles import editable, session_login

    allowed = editable(conn) if conn.dialect.name == "postgresql" else None
    if allowed is None:
        return
    forbidden = sorted(slug for slug, pid in parts.items() if pid in touched and pid not in allowed)
    if forbidden:
        mine = sorted(slug for slug, pid in parts.items() if pid in allowed)
        shown = ", ".join(forbidden[:5]) + (f" and {len(forbidden) - 5} more" if len(forbidden) > 5 else "")
        raise ImportRefused(f"{Path(name).name}: your login {session_login(conn)!r} may not change figures of "
                            f"{shown} (you edit: {', '.join(mine[:5]) or 'none'}); nothing was written")


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
    """Every revision of a figure (moved to :func:`dat.core.services.history`)."""
    from dat.core.services import history as _history

    return dict(_history(store, partnership, indicator, period))


__all__ = ["import_file", "history", "ImportReport", "ImportRefused", "Rejection", "read_rows",
           "stream_rows", "load_mapping"]

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
