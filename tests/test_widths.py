"""The one column-width rule of the CLI's and the TUI's tables (cli/widths.py), and how an
action's due date is read and judged overdue (dat.core.services.actions)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from dat.cli.widths import COMFORTABLE, NARROWEST, Fit, allocate, clip, wrap2
from dat.core.services.actions import due_date, due_text, is_overdue, wanted

SCORECARD = [("rag", Fit(priority=0, whole=True)), ("name", Fit(priority=0, min=12, grow=True)),
             ("value", Fit(priority=0, whole=True)), ("target", Fit(priority=1, min=9)),
             ("trend", Fit(priority=3, whole=True)), ("period", Fit(priority=6, min=10)),
             ("code", Fit(priority=7, min=10))]
NATURAL = {"rag": 9, "name": 60, "value": 12, "target": 20, "trend": 12, "period": 10, "code": 14}


def test_the_name_takes_the_spare_width_and_low_value_columns_go_first():
    wide = allocate(SCORECARD, NATURAL, 200)
    assert wide == NATURAL  # everything whole when there is room
    mid = allocate(SCORECARD, NATURAL, 90)
    assert list(mid) == ["rag", "name", "value", "target", "trend"]  # code and period went
    assert mid["name"] >= COMFORTABLE and mid["rag"] == 9 and mid["value"] == 12
    narrow = allocate(SCORECARD, NATURAL, 45)
    assert list(narrow) == ["rag", "name", "value"]
    assert narrow["name"] == 45 - 9 - 12 - 3 * 2


@given(natural=st.lists(st.integers(1, 80), min_size=7, max_size=7),
       width=st.integers(10, 300), gap=st.integers(0, 3))
def test_allocation_fits_and_never_cuts_a_whole_column(natural, width, gap):
    nat = dict(zip(NATURAL, natural, strict=True))
    widths = allocate(SCORECARD, nat, width, gap=gap)
    kept = [k for k, f in SCORECARD if f.priority == 0]
    assert all(k in widths for k in kept)  # priority 0 is never dropped
    for key, fit in SCORECARD:
        if key in widths:
            assert 1 <= widths[key] <= nat[key]  # never wider than needed
            if fit.whole:
                assert widths[key] == nat[key]
            else:  # a name gives way below its minimum only when the rest cannot
                assert widths[key] >= min(nat[key], NARROWEST if fit.grow else fit.min)
    needed = sum(nat[k] if f.whole else min(nat[k], NARROWEST if f.grow else f.min)
                 for k, f in SCORECARD if f.priority == 0)
    if needed + gap * len(kept) <= width:  # whenever the essentials fit, the table fits
        assert sum(widths.values()) + gap * len(widths) <= width
    # the columns dropped are the least valued ones
    dropped = [f.priority for k, f in SCORECARD if k not in widths]
    if dropped:
        assert max(f.priority for k, f in SCORECARD if k in widths) <= min(dropped)


@given(st.text(alphabet="abc de", max_size=120), st.integers(4, 40))
def test_wrap2_keeps_two_lines_within_the_width(text, width):
    out = wrap2(text, width)
    lines = out.split("\n")
    assert len(lines) <= 2 and all(len(line) <= width for line in lines)
    assert len(clip(text, width)) <= width


def test_due_dates_read_one_way_and_overdue_against_a_day():
    assert due_date("2003/04") == date(2004, 3, 31)
    assert due_date("2007/08 Q2") == date(2007, 9, 30)
    assert due_date("2006-03-31") == date(2006, 3, 31)
    assert due_date("ongoing") is None and due_date(None) is None and due_date(" ") is None
    assert due_text(date(2004, 3, 31)) == "31 Mar 2004" and due_text(None, "ongoing") == "ongoing"
    day = date(2005, 1, 1)
    assert is_overdue("planned", date(2004, 3, 31), day)
    assert not is_overdue("complete", date(2004, 3, 31), day)
    assert not is_overdue("dropped", date(2004, 3, 31), day)
    assert not is_overdue("planned", date(2005, 1, 1), day)  # due today is not late yet
    assert not is_overdue("planned", None, day)
    assert is_overdue("overdue", None, day)  # the plan says so
    assert wanted("planned", True, "overdue") and not wanted("planned", False, "overdue")
    assert wanted("in progress", False, "not done") and not wanted("complete", False, "not done")
    assert wanted("complete", False, "all") and wanted("complete", False, None)
    assert wanted("planned", False, "planned") and not wanted("planned", False, "complete")
