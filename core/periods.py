"""UK financial-year periods: years, quarters, year-to-date ranges and deadline dates.

Financial year 2009/10 runs 1 April 2009 – 31 March 2010; Q1 is April–June, Q2 July–September,
Q3 October–December, Q4 January–March. Canonical forms: ``2009/10``, ``2009/10 Q1``,
``2009/10 Q1-Q3``, ``2010-03-31``. :func:`parse_period` also accepts common spellings
(``2009-10``, ``2009/2010``, ``FY2009/10``, ``Q1 2009/10``, ``2009/10 Q1–3``, ``31/03/2010``,
``31 March 2010``) and raises :class:`PeriodError` for anything else.

Periods sort chronologically by (start, end): ``2009/10 Q1`` < ``2009/10 Q1-Q2`` < ``2009/10``
< ``2009/10 Q2``. Stdlib only: on the CLI start-up path.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, total_ordering

from dat.core.errors import UsageError

ACCEPTED_FORMS = ("a financial year (2009/10), a quarter (2009/10 Q1), a year-to-date range "
                  "(2009/10 Q1-Q3) or a date (2010-03-31)")

KINDS = ("year", "quarter", "range", "date")
_Q_START_MONTH = {1: 4, 2: 7, 3: 10, 4: 1}
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


class PeriodError(UsageError, ValueError):
    """A string that is not a period; the message says why and names the accepted forms."""


def _err(text: str, why: str | None = None) -> PeriodError:
    reason = f" ({why})" if why else ""
    return PeriodError(f"{text!r} is not a period{reason}. Use {ACCEPTED_FORMS}.")


@total_ordering
@dataclass(frozen=True)
class Period:
    # first_q and last_q are set for a quarter or a range, day for a date (the constructors
    # below guarantee it); the ``type: ignore`` comments in this class stand for that invariant
    kind: str
    year: int
    first_q: int | None = None
    last_q: int | None = None
    day: date | None = None

    # -- dates --------------------------------------------------------------------------------
    @property
    def start(self) -> date:
        if self.kind == "date":
            return self.day  # type: ignore[return-value]
        if self.kind == "year":
            return date(self.year, 4, 1)
        return _quarter_start(self.year, self.first_q)  # type: ignore[arg-type]

    @property
    def end(self) -> date:
        if self.kind == "date":
            return self.day  # type: ignore[return-value]
        if self.kind == "year":
            return date(self.year + 1, 3, 31)
        return _quarter_end(self.year, self.last_q)  # type: ignore[arg-type]

    @property
    def quarters(self) -> tuple[Period, ...]:
        if self.kind == "year":
            return tuple(Period("quarter", self.year, q, q) for q in range(1, 5))
        if self.kind == "range":
            return tuple(Period("quarter", self.year, q, q)
                         for q in range(self.first_q, self.last_q + 1))  # type: ignore[arg-type, operator]
        if self.kind == "quarter":
            return (self,)
        return (quarter_of(self.day),)  # type: ignore[arg-type]

    @property
    def n_quarters(self) -> int:
        return len(self.quarters) if self.kind != "date" else 0

    @property
    def fy(self) -> Period:
        return Period("year", self.year)

    @property
    def sort_key(self) -> tuple:
        return (self.start, self.end, KINDS.index(self.kind))

    # -- relations ----------------------------------------------------------------------------
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.sort_key < other.sort_key

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def previous(self) -> Period:
        if self.kind == "quarter":
            q = self.first_q - 1  # type: ignore[operator]
            return Period("quarter", self.year, q, q) if q >= 1 else Period("quarter", self.year - 1, 4, 4)
        return self.same_period_last_year()

    def next(self) -> Period:
        if self.kind == "quarter":
            q = self.first_q + 1  # type: ignore[operator]
            return Period("quarter", self.year, q, q) if q <= 4 else Period("quarter", self.year + 1, 1, 1)
        if self.kind == "date":
            return Period("date", self.year + 1, day=_shift_year(self.day, 1))  # type: ignore[arg-type]
        return Period(self.kind, self.year + 1, self.first_q, self.last_q)

    def same_period_last_year(self) -> Period:
        if self.kind == "date":
            d = _shift_year(self.day, -1)  # type: ignore[arg-type]
            return Period("date", _fy_of(d), day=d)
        return Period(self.kind, self.year - 1, self.first_q, self.last_q)

    # -- text ---------------------------------------------------------------------------------
    def __str__(self) -> str:
        if self.kind == "date":
            return self.day.isoformat()  # type: ignore[union-attr]
        fy = f"{self.year}/{(self.year + 1) % 100:02d}"
        if self.kind == "year":
            return fy
        if self.kind == "quarter":
            return f"{fy} Q{self.first_q}"
        return f"{fy} Q{self.first_q}-Q{self.last_q}"

    def __repr__(self) -> str:
        return f"Period({str(self)!r})"


def _shift_year(d: date, years: int) -> date:
    y = d.year + years
    return date(y, d.month, min(d.day, monthrange(y, d.month)[1]))


def _quarter_start(fy: int, q: int) -> date:
    return date(fy + (1 if q == 4 else 0), _Q_START_MONTH[q], 1)


def _quarter_end(fy: int, q: int) -> date:
    y = fy + (1 if q == 4 else 0)
    m = _Q_START_MONTH[q] + 2
    return date(y, m, monthrange(y, m)[1])


def _fy_of(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


# -- constructors ---------------------------------------------------------------------------

def _check_year(y: int, text: str) -> None:
    if not 1900 <= y <= 2199:
        raise _err(text, f"year {y} is out of range 1900-2199")


def year(y: int) -> Period:
    _check_year(y, str(y))
    return Period("year", y)


def quarter(y: int, q: int) -> Period:
    _check_year(y, f"{y} Q{q}")
    if q not in (1, 2, 3, 4):
        raise _err(f"Q{q}", "quarters are Q1-Q4")
    return Period("quarter", y, q, q)


def ytd(y: int, first: int, last: int) -> Period:
    text = f"{y} Q{first}-Q{last}"
    _check_year(y, text)
    if first not in (1, 2, 3, 4) or last not in (1, 2, 3, 4):
        raise _err(text, "quarters are Q1-Q4")
    if last < first:
        raise _err(text, "the range runs backwards")
    if (first, last) == (1, 4):
        return Period("year", y)
    if first == last:
        return Period("quarter", y, first, first)
    return Period("range", y, first, last)


def financial_year(d: date) -> Period:
    return Period("year", _fy_of(d))


def quarter_of(d: date) -> Period:
    q = {4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2, 10: 3, 11: 3, 12: 3}.get(d.month, 4)
    return Period("quarter", _fy_of(d), q, q)


# -- parsing --------------------------------------------------------------------------------

_FY = r"(?:fy\s*)?(\d{4})\s*[/\-]\s*(\d{2}|\d{4})"
_Q = r"q([0-9])"
_RANGE = r"q([0-9])\s*-\s*q?([0-9])"
_RE_YEAR = re.compile(rf"^{_FY}$", re.ASCII)
_RE_FY_Q = re.compile(rf"^{_FY}\s*{_Q}$", re.ASCII)
_RE_Q_FY = re.compile(rf"^{_Q}\s+{_FY}$", re.ASCII)
_RE_FY_R = re.compile(rf"^{_FY}\s*{_RANGE}$", re.ASCII)
_RE_R_FY = re.compile(rf"^{_RANGE}\s+{_FY}$", re.ASCII)
_RE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_RE_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_RE_TEXT_DATE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})$", re.ASCII)
_RE_BARE_YEAR = re.compile(r"^(?:fy\s*)?(\d{4})$", re.ASCII)
_MONTH_NAMES = {**MONTHS, "sept": 9, **{name: i for i, name in enumerate(
    "january february march april may june july august september october november december".split(), 1)}}
_RE_MONTH_YEAR = re.compile(r"^([a-z]+)\s+(\d{4})$", re.ASCII)


def _fy(text: str, a: str, b: str) -> int:
    y = int(a)
    _check_year(y, text)
    second = int(b)
    expected = y + 1
    if len(b) == 2:
        ok = second == expected % 100
    else:
        ok = second == expected
    if not ok:
        raise _err(text, f"the second year must follow the first: {y}/{expected % 100:02d}")
    return y


def _date(text: str, y: int, m: int, d: int) -> Period:
    try:
        day = date(y, m, d)
    except ValueError as exc:
        raise _err(text, f"no such date: {exc}") from None
    _check_year(_fy_of(day), text)
    return Period("date", _fy_of(day), day=day)


@lru_cache(maxsize=4096)
def _parse(text: str) -> Period:
    # ASCII digits and white space only: other scripts' digits and U+00A0 are refused, as in
    # a number (the en and em dashes are the one allowance: typed by word processors)
    s = re.sub(r"\s+", " ", text.strip(" \t\r\n\f\v").lower().replace("\u2013", "-").replace("\u2014", "-"),
               flags=re.ASCII)
    if not s:
        raise _err(text, "it is empty")
    if m := _RE_YEAR.match(s):
        return Period("year", _fy(text, m[1], m[2]))
    if m := _RE_FY_Q.match(s):
        return quarter(_fy(text, m[1], m[2]), int(m[3])) if int(m[3]) in (1, 2, 3, 4) else _bad_q(text, m[3])
    if m := _RE_Q_FY.match(s):
        return quarter(_fy(text, m[2], m[3]), int(m[1])) if int(m[1]) in (1, 2, 3, 4) else _bad_q(text, m[1])
    if m := _RE_FY_R.match(s):
        return _range(text, _fy(text, m[1], m[2]), int(m[3]), int(m[4]))
    if m := _RE_R_FY.match(s):
        return _range(text, _fy(text, m[3], m[4]), int(m[1]), int(m[2]))
    if m := _RE_ISO.match(s):
        return _date(text, int(m[1]), int(m[2]), int(m[3]))
    if m := _RE_DMY.match(s):
        return _date(text, int(m[3]), int(m[2]), int(m[1]))
    if m := _RE_TEXT_DATE.match(s):
        month = _MONTH_NAMES.get(m[2])
        if month is None:
            raise _err(text, f"unknown month {m[2]!r}")
        return _date(text, int(m[3]), month, int(m[1]))
    if m := _RE_BARE_YEAR.match(s):
        y = int(m[1])
        raise _err(text, f"a bare year is ambiguous: write the financial year, e.g. {y}/{(y + 1) % 100:02d}")
    if (m := _RE_MONTH_YEAR.match(s)) and m[1][:3] in MONTHS:
        raise _err(text, "a month is not a period: give a day, a quarter or a year")
    if re.search(r"q[05-9]", s):
        raise _err(text, "quarters are Q1-Q4")
    raise _err(text)


def _bad_q(text: str, q: str) -> Period:
    raise _err(text, f"Q{q}: quarters are Q1-Q4")


def _range(text: str, y: int, first: int, last: int) -> Period:
    if first not in (1, 2, 3, 4) or last not in (1, 2, 3, 4):
        raise _err(text, "quarters are Q1-Q4")
    if last < first:
        raise _err(text, "the range runs backwards")
    return ytd(y, first, last)


def parse_period(text: str) -> Period:
    """Parse a period; raise :class:`PeriodError` (never anything else) for bad text."""
    if not isinstance(text, str):
        raise PeriodError(f"{text!r} is not a period. Use {ACCEPTED_FORMS}.")
    return _parse(text)


def format_period(p: Period) -> str:
    return str(p)


def coerce_period(x: str | Period) -> Period:
    return x if isinstance(x, Period) else parse_period(x)
