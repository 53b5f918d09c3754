"""Periods: known answers, accepted spellings, rejections with reasons, and properties."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dat.core.periods import (
    ACCEPTED_FORMS,
    Period,
    PeriodError,
    financial_year,
    parse_period,
    quarter,
    quarter_of,
    year,
    ytd,
)


def test_known_answers():
    fy = parse_period("2009/10")
    assert (fy.start, fy.end) == (date(2009, 4, 1), date(2010, 3, 31))
    q1 = parse_period("2007/08 Q1")
    assert (q1.start, q1.end) == (date(2007, 4, 1), date(2007, 6, 30))
    q4 = parse_period("2009/10 Q4")
    assert (q4.start, q4.end) == (date(2010, 1, 1), date(2010, 3, 31))
    assert str(parse_period("2009/10 Q1").previous()) == "2008/09 Q4"
    assert str(parse_period("2009/10 Q4").next()) == "2010/11 Q1"
    assert str(parse_period("2009/10 Q1-Q3").same_period_last_year()) == "2008/09 Q1-Q3"
    assert str(parse_period("2009/10").previous()) == "2008/09"
    assert str(parse_period("2008-02-29").same_period_last_year()) == "2007-02-28"
    assert parse_period("2009/10").contains(parse_period("2009/10 Q2-Q3"))
    assert parse_period("2009/10").contains(parse_period("2010-03-31"))
    assert not parse_period("2009/10").contains(parse_period("2010-04-01"))
    assert parse_period("2010-03-31").fy == parse_period("2009/10")
    assert [str(q) for q in parse_period("2009/10 Q2-Q3").quarters] == ["2009/10 Q2", "2009/10 Q3"]
    assert str(financial_year(date(2010, 3, 31))) == "2009/10"
    assert str(quarter_of(date(2010, 1, 15))) == "2009/10 Q4"
    assert str(year(1999)) == "1999/00"


def test_sorting_is_chronological():
    canon = ["2008/09 Q4", "2009/10 Q1", "2009/10 Q1-Q2", "2009/10", "2009/10 Q2",
             "2009-12-31", "2009/10 Q4", "2010/11"]
    shuffled = canon[:]
    random.Random(4).shuffle(shuffled)
    assert [str(p) for p in sorted(parse_period(s) for s in shuffled)] == canon


@pytest.mark.parametrize("text, canonical", [
    ("2009/10", "2009/10"), ("2009-10", "2009/10"), ("2009/2010", "2009/10"),
    ("2009-2010", "2009/10"), ("FY2009/10", "2009/10"), ("fy 2009-10", "2009/10"),
    ("  2009/10 ", "2009/10"), ("1999/00", "1999/00"), ("1999/2000", "1999/00"),
    ("2009/10 Q1", "2009/10 Q1"), ("Q1 2009/10", "2009/10 Q1"), ("2009-10 Q1", "2009/10 Q1"),
    ("q1 2009-10", "2009/10 Q1"), ("2009/10Q1", "2009/10 Q1"), ("FY2009/10 Q2", "2009/10 Q2"),
    ("2009/10 q3", "2009/10 Q3"), ("2009/10 Q1-Q3", "2009/10 Q1-Q3"),
    ("Q1-Q3 2009/10", "2009/10 Q1-Q3"), ("2009/10 Q1–Q3", "2009/10 Q1-Q3"),
    ("2009/10 Q1-3", "2009/10 Q1-Q3"), ("2009/10 Q1-Q4", "2009/10"), ("2009/10 Q2-Q2", "2009/10 Q2"),
    ("2010-03-31", "2010-03-31"), ("31/03/2010", "2010-03-31"), ("31 Mar 2010", "2010-03-31"),
    ("31 March 2010", "2010-03-31"), ("31st March 2010", "2010-03-31"), ("1 Sept 2009", "2009-09-01"),
])
def test_accepted_spellings(text, canonical):
    assert str(parse_period(text)) == canonical


@pytest.mark.parametrize("text, reason", [
    ("2009/11", "the second year must follow the first"),
    ("2009", "a bare year is ambiguous"),
    ("Q5 2009/10", "quarters are Q1-Q4"),
    ("2009/10 Q3-Q1", "runs backwards"),
    ("2010-02-30", "no such date"),
    ("March 2010", "a month is not a period"),
    ("31 Foo 2010", "unknown month"),
    ("", "it is empty"),
    ("last year", ""),
    ("1850/51", "out of range"),
])
def test_rejections_say_why_and_name_the_forms(text, reason):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    message = str(info.value)
    assert reason in message
    assert ACCEPTED_FORMS in message and repr(text) in message


def test_constructors_validate():
    assert str(ytd(2009, 1, 3)) == "2009/10 Q1-Q3"
    with pytest.raises(PeriodError):
        quarter(2009, 0)
    with pytest.raises(PeriodError):
        ytd(2009, 3, 2)


years = st.integers(min_value=1990, max_value=2099)
qs = st.integers(min_value=1, max_value=4)
periods = st.one_of(
    years.map(year),
    st.builds(quarter, years, qs),
    st.builds(lambda y, a, b: ytd(y, min(a, b), max(a, b)), years, qs, qs),
    st.dates(min_value=date(1990, 4, 1), max_value=date(2099, 12, 31)).map(
        lambda d: parse_period(d.isoformat())),
)


@given(periods)
def test_parse_format_round_trip(p):
    assert parse_period(str(p)) == p
    assert str(parse_period(str(p))) == str(p)


@given(st.builds(quarter, years, qs))
def test_previous_and_next_are_inverse_for_quarters(p):
    assert p.previous().next() == p and p.next().previous() == p
    assert p.previous() < p < p.next()


@given(years)
def test_quarters_cover_the_year_contiguously(y):
    fy = year(y)
    quarters = fy.quarters
    assert quarters[0].start == fy.start and quarters[-1].end == fy.end
    for a, b in zip(quarters, quarters[1:], strict=False):
        assert (b.start - a.end).days == 1
    assert fy.previous().next() == fy


@given(st.text(max_size=30))
def test_arbitrary_text_raises_only_period_error(text):
    try:
        p = parse_period(text)
    except PeriodError:
        return
    assert isinstance(p, Period)
    assert parse_period(str(p)) == p
