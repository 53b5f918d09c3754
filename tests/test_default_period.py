"""Which period a scorecard (dat status, dat report, the TUI) shows when none is given."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dat.core.periods import parse_period
from dat.core.services import default_period


def test_a_lone_later_figure_does_not_hide_the_last_full_period():
    periods = ["2009/10"] * 14 + ["2010/11"]  # Bromley: one planned 2010/11 budget cut
    assert str(default_period(periods)) == "2009/10"
    periods = ["2007/08 Q1"] * 40 + ["2007/08 Q2"] * 3  # Dudley: Q2 has only narrative moves
    assert str(default_period(periods)) == "2007/08 Q1"
    assert str(default_period(["2009/10 Q1"] * 10 + ["2009/10 Q2"] * 5)) == "2009/10 Q2"
    assert default_period([]) is None


QUARTERS = [f"{y}/{(y + 1) % 100:02d} Q{q}" for y in range(2003, 2011) for q in range(1, 5)]


@given(st.dictionaries(st.sampled_from(QUARTERS), st.integers(1, 50), min_size=1))
def test_default_is_a_well_filled_period_and_the_latest_such(counts):
    periods = [p for p, n in counts.items() for _ in range(n)]
    chosen = default_period(periods)
    busiest = max(counts.values())
    assert counts[str(chosen)] * 2 >= busiest
    later = [p for p in counts if parse_period(p) > chosen]
    assert all(counts[p] * 2 < busiest for p in later)


def test_status_and_report_default_to_the_seed_periods(dat, tmp_path):
    out = dat("status", "bromley", "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["period"] == "2009/10"
    out = dat("status", "dudley", "-f", "json")
    assert json.loads(out.stdout)["period"] == "2007/08 Q1"
