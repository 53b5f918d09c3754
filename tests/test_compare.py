"""dat compare, funding analysis and scenarios on a fixture dataset with known answers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest


@pytest.fixture
def fixture_store(fixture_plugins, db_url):
    fixture_plugins({"compare_data": "compare_data"})
    from dat.core.services import Store

    return Store(db_url)


def test_compare_known_answers(fixture_store):
    from dat.core.services import compare

    result = compare(fixture_store, "FIX.RET", period="2009/10")
    assert result["benchmark"]["value"] == 70
    assert "England" in result["benchmark"]["basis"]
    rows = {r["partnership"]: r for r in result["rows"]}
    assert [r["partnership"] for r in result["rows"]][:3] == ["alpha", "gamma", "beta"]
    assert [rows[s]["rank"] for s in ("alpha", "gamma", "beta")] == [1, 2, 3]
    a = rows["alpha"]
    # Wilson 95% for 81/100 is 72.22%-87.49%: excludes 70 (better); at 99.8% 66.40%-90.19% does not
    assert a["ci_low"] == pytest.approx(72.22, abs=0.01)
    assert a["ci_high"] == pytest.approx(87.49, abs=0.01)
    assert (a["ci_low_998"], a["ci_high_998"]) == (pytest.approx(66.40, abs=0.01), pytest.approx(90.19, abs=0.01))
    assert (a["vs_benchmark"], a["vs_benchmark_998"]) == ("better", "similar")
    assert (a["target"], a["rag"]) == (85, "A")  # 81 within 5% of 85
    assert (a["previous_value"], a["direction"]) == (75, "improved")
    assert rows["beta"]["vs_benchmark"] == "worse"
    assert rows["gamma"]["vs_benchmark"] == "similar"
    d = rows["delta"]
    assert d["value"] is None and d["rank"] is None and d["reason"] == "no figure for 2009/10"
    assert "alpha_east" not in rows  # sub-areas only on request


def test_compare_benchmarks_and_sub_areas(fixture_store):
    from dat.core.services import compare

    group = {r["partnership"]: r for r in compare(fixture_store, "FIX.RET", benchmark="group",
                                                     include_sub_areas=True)["rows"]}
    # G1 pooled: (81 + 50 + 70) / 300 = 67%
    assert group["alpha"]["benchmark"] == pytest.approx(67.0)
    assert group["alpha_east"]["benchmark"] is None  # no comparator group
    parent = {r["partnership"]: r for r in compare(fixture_store, "FIX.RET", ["alpha_east", "alpha_west"],
                                                      benchmark="parent")["rows"]}
    assert parent["alpha_east"]["benchmark"] == 81
    region = {r["partnership"]: r for r in compare(fixture_store, "FIX.RET", benchmark="region")["rows"]}
    assert region["alpha"]["benchmark"] == pytest.approx(65.5)  # North: (81 + 50) / 200
    mean = compare(fixture_store, "FIX.RET", ["alpha"], benchmark="mean")["rows"][0]
    # top-level areas only: the nation is the benchmark's alternative and alpha's sub-areas
    # are already inside alpha's figure
    assert mean["benchmark"] == pytest.approx((81 + 50 + 70) / 3)


def test_compare_cli_json_and_errors(fixture_plugins, dat, db_url):
    fixture_plugins({"compare_data": "compare_data"})
    out = dat("--db", db_url, "compare", "--indicator", "FIX.RET", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["schema"] == "dat.compare/1" and data["period"] == "2009/10"
    bad = dat("--db", db_url, "compare", "-i", "NOPE.X")
    assert bad.returncode == 2 and "unknown indicator 'NOPE.X'" in bad.stderr
    bad = dat("--db", db_url, "compare", "zeta", "-i", "FIX.RET")
    assert bad.returncode == 2 and "unknown partnership 'zeta'" in bad.stderr
    csv_out = dat("--db", db_url, "compare", "-i", "FIX.RET", "-f", "csv").stdout.splitlines()
    assert csv_out[0].startswith("partnership,value,numerator,denominator,ci_low,ci_high")
    assert csv_out[1].startswith("alpha,81,81,100,72.2")


def test_funding_analysis(fixture_store):
    from dat.core.services import funding

    f = funding(fixture_store, "alpha", "2009/10")
    assert f["total"] == Decimal("1260000.00")
    assert f["previous_total"] == Decimal("1100000.00")
    assert f["change_pct"] == pytest.approx(14.545454, rel=1e-6)
    assert f["management_admin_share"] == pytest.approx(60000 / 1260000 * 100)
    assert f["cost_per_person"] == Decimal("3150.00")  # 1,260,000 / 400 people
    assert [l["share"] for l in f["lines"]][0] == pytest.approx(1000000 / 1260000)
    beta = funding(fixture_store, "beta")
    assert beta["total"] == Decimal("500000.01") and beta["change_pct"] is None
    assert any("2008/09" in n for n in beta["notes"])


def test_funding_side_by_side_cli(fixture_plugins, dat, db_url):
    fixture_plugins({"compare_data": "compare_data"})
    out = dat("--db", db_url, "funding", "alpha", "beta", "-f", "json")
    data = json.loads(out.stdout)
    ptb = next(s for s in data["streams"] if s["stream"] == "PTB")
    assert (ptb["alpha"], ptb["beta"]) == ("1000000.00", "500000.01")
    assert [p["total"] for p in data["partnerships"]] == ["1260000.00", "500000.01"]


def test_scenario_split_and_merge(fixture_store, fixture_plugins, dat, db_url):
    from dat.core.services import scenario_merge, scenario_split

    split = scenario_split(fixture_store, "alpha", "2009/10", by="NTA.EFFECTIVE", floor=60000)
    assert split["shares"] == {"alpha_east": 0.75, "alpha_west": 0.25}
    ptb = next(l for l in split["lines"] if l["stream"] == "PTB")
    assert ptb["successors"] == {"alpha_east": Decimal("750000.00"), "alpha_west": Decimal("250000.00")}
    dip = next(l for l in split["lines"] if l["stream"] == "DIP")
    assert dip["below_floor"] == ["alpha_west"]  # 50,000 < 60,000
    assert sum(split["totals"].values()) == Decimal("1260000.00")
    given = scenario_split(fixture_store, "alpha", shares={"alpha_east": 1, "alpha_west": 1})
    assert given["shares"] == {"alpha_east": 0.5, "alpha_west": 0.5}
    merged = scenario_merge(fixture_store, ["alpha", "beta"], "2009/10", floor=300000)
    m = {l["stream"]: l for l in merged["lines"]}
    assert m["PTB"]["amount"] == Decimal("1500000.01") and not m["PTB"]["below_floor"]
    assert m["DIP"]["below_floor"]
    bad = dat("--db", db_url, "scenario", "split", "beta")
    assert bad.returncode == 2 and "partnership with sub-areas" in bad.stderr
    bad = dat("--db", db_url, "scenario", "split", "alpha", "--share", "alpha_east=x")
    assert bad.returncode == 2


# -- trends, direction of travel and bad input (figures written straight to the database,
#    as an older tool or a hand edit could leave them: the plugin and import paths reject
#    impossible counts, compare must still cope) ---------------------------------------------

def _put(store, rows):
    """Add current observations: (slug, code, period, value, numerator, denominator)."""
    from sqlalchemy import select

    from dat.core.models import Indicator, Observation, Partnership

    with store.session() as s:
        pid = dict(s.execute(select(Partnership.slug, Partnership.id)).all())
        iid = dict(s.execute(select(Indicator.code, Indicator.id)).all())
        for slug, code, period, value, num, den in rows:
            s.add(Observation(partnership_id=pid[slug], indicator_id=iid[code], period=period,
                              value=value, numerator=num, denominator=den, origin="import:test"))
        s.commit()


def test_compare_recent_trend_and_last_year(fixture_store):
    from dat.core.services import compare

    # alpha: 60, 65, 70, then the fixture's 75 and 81 out of 100: chi-square for trend 12.93
    _put(fixture_store, [("alpha", "FIX.RET", p, v, v, 100)
                         for p, v in (("2005/06", 60), ("2006/07", 65), ("2007/08", 70))])
    _put(fixture_store, [("beta", "FIX.RET", p, v, v, 100)
                         for p, v in (("2006/07", 52), ("2007/08", 49), ("2008/09", 51))])
    rows = {r["partnership"]: r for r in compare(fixture_store, "FIX.RET")["rows"]}
    a = rows["alpha"]
    assert (a["trend"], a["trend_assessment"], a["trend_reason"]) == ("increasing", "getting better", None)
    assert (a["last_year_period"], a["last_year_value"], a["direction_last_year"]) == ("2008/09", 75, "improved")
    b = rows["beta"]  # 52, 49, 51, 50: only four years in a row
    assert b["trend"] == "cannot be calculated"
    assert b["trend_reason"] == "figures for 4 consecutive periods up to 2009/10; 5 are needed"
    assert (b["previous_value"], b["direction"]) == (51, "worsened")
    assert rows["gamma"]["trend_reason"].startswith("figures for 1 consecutive period up")
    assert rows["delta"]["trend"] == "cannot be calculated"


def test_compare_quarters_previous_period_and_same_quarter_last_year(fixture_store):
    from dat.core.services import compare

    figures = {"2008/09 Q3": 40, "2008/09 Q4": 44, "2009/10 Q1": 48, "2009/10 Q2": 50, "2009/10 Q3": 38}
    _put(fixture_store, [("gamma", "FIX.RET", p, v, v, 100) for p, v in figures.items()])
    _put(fixture_store, [("beta", "FIX.RET", "2009/10 Q3", 45, 45, 100)])
    result = compare(fixture_store, "FIX.RET", ["gamma", "beta"], period="Q3 2009/10")
    assert result["period"] == "2009/10 Q3"
    g = {r["partnership"]: r for r in result["rows"]}["gamma"]
    assert (g["previous_period"], g["previous_value"], g["direction"]) == ("2009/10 Q2", 50, "worsened")
    assert (g["last_year_period"], g["last_year_value"], g["direction_last_year"]) == ("2008/09 Q3", 40, "worsened")
    assert g["trend"] == "no significant change"  # 40, 44, 48, 50, 38 of 100: X² = 0.13
    # with a national figure missing for the quarter, the benchmark is pooled from the two
    assert result["benchmark"]["value"] == pytest.approx((38 + 45) / 2)
    assert result["benchmark"]["basis"] == "pooled from 2 areas"


def test_compare_bad_figures_are_reasons_not_crashes(fixture_store, dat, db_url):
    from dat.core.services import compare, scorecard

    _put(fixture_store, [("beta", "FIX.RET", "2010/11", 120, 120, 100),  # more than the denominator
                         ("gamma", "FIX.RET", "2010/11", 0, 0, 0),  # zero denominator
                         ("alpha", "FIX.RET", "2010/11", 80, None, None),  # no counts
                         ("delta", "FIX.RET", "2010/11", 64, 64, 100)])
    result = compare(fixture_store, "FIX.RET", period="2010/11")
    rows = {r["partnership"]: r for r in result["rows"]}
    assert rows["beta"]["reason"] == "the numerator 120 is larger than its denominator 100"
    assert rows["gamma"]["reason"] == "the denominator is zero"
    assert rows["alpha"]["reason"] == "no numerator and denominator to put an interval around the proportion"
    for slug in ("beta", "gamma", "alpha"):
        assert rows[slug]["vs_benchmark"] == rows[slug]["vs_benchmark_998"] == "not compared"
    # impossible figures are neither ranked nor pooled into the benchmark
    assert rows["beta"]["rank"] is None and rows["gamma"]["rank"] is None
    assert (rows["alpha"]["rank"], rows["delta"]["rank"]) == (1, 2)
    assert result["benchmark"]["basis"] == "mean of 2 areas"  # alpha has no counts to pool
    assert result["benchmark"]["value"] == pytest.approx(72)
    assert rows["delta"]["vs_benchmark"] == "similar"  # 64/100 is 54.2-72.9
    # the scorecard sums its national benchmarks in the database: the same answer
    card = next(r for r in scorecard(fixture_store, "delta", "2010/11")["rows"] if r["code"] == "FIX.RET")
    assert (card["benchmark"], card["benchmark_basis"]) == (pytest.approx(72), "mean of 2 areas")
    assert card["vs_benchmark"] == "similar"
    beta = next(r for r in scorecard(fixture_store, "beta", "2010/11")["rows"] if r["code"] == "FIX.RET")
    assert (beta["vs_benchmark"], beta["benchmark_reason"]) == ("not compared", rows["beta"]["reason"])
    out = dat("--db", db_url, "compare", "-i", "FIX.RET", "-P", "2010/11", "-f", "csv")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert "the denominator is zero" in out.stdout


def test_compare_period_with_no_data_and_indicator_not_reported(fixture_store, fixture_plugins, dat, db_url):
    from dat.core.services import compare

    result = compare(fixture_store, "FIX.RET", period="2005/06")
    assert result["reason"] == "no figures for FIX.RET in 2005/06; periods with figures: 2008/09, 2009/10"
    assert [r["partnership"] for r in result["rows"]] == ["alpha", "beta", "delta", "gamma"]
    assert {r["reason"] for r in result["rows"]} == {"no figure for 2005/06"}
    assert all(r["rank"] is None for r in result["rows"])
    assert "dudley" in result["not_reporting"] and "alpha" not in result["not_reporting"]
    eff = compare(fixture_store, "NTA.EFFECTIVE", ["alpha", "beta"])
    rows = {r["partnership"]: r for r in eff["rows"]}
    assert rows["beta"]["reason"] == "beta does not report NTA.EFFECTIVE"
    # a count (Byar: 361.8-441.2 around 400) against the mean of alpha's 400 and Bromley's 820
    assert (eff["benchmark"]["value"], eff["benchmark"]["basis"]) == (610, "mean of 2 areas")
    a = rows["alpha"]
    assert (round(a["ci_low"], 1), round(a["ci_high"], 1), a["ci_method"]) == (361.8, 441.2, "Byar")
    assert (a["vs_benchmark"], a["vs_benchmark_998"], a["reason"]) == ("worse", "worse", None)
    one = compare(fixture_store, "NTA.EFFECTIVE", period="2008/09")  # only Bromley's 735
    assert one["benchmark"]["value"] is None
    assert one["rows"][0]["reason"] == ("no benchmark: no national figure and only 1 area with a "
                                        "figure to pool, 2 needed")
    out = dat("--db", db_url, "compare", "-i", "FIX.RET", "-P", "2005/06", "-f", "json")
    assert out.returncode == 0 and "no figures for FIX.RET in 2005/06" in out.stderr
    assert "not listed, with no figures or targets for FIX.RET: bolton," in out.stderr


@pytest.mark.parametrize("args, fragment", [
    (("-i", "FIX.RET", "--benchmark", "county"),
     "'county' is not one of 'national', 'group', 'region', 'parent', 'mean'"),
    (("-i", "FIX.RET", "-P", "2009/1"), "2009/10"),
    (("-i", "FIX.RE"), "unknown indicator 'FIX.RE' (did you mean FIX.RET?)"),
    (("alpah", "-i", "FIX.RET"), "unknown partnership 'alpah' (did you mean alpha?); choose from: alpha,"),
    ((), "Missing option '--indicator'"),
])
def test_compare_bad_usage_exits_2(fixture_plugins, dat, db_url, args, fragment):
    fixture_plugins({"compare_data": "compare_data"})
    out = dat("--db", db_url, "compare", *args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert fragment in out.stderr and "Traceback" not in out.stderr


def test_compare_table_markdown_and_json_schema(fixture_plugins, dat, db_url):
    fixture_plugins({"compare_data": "compare_data"})
    md = dat("--db", db_url, "compare", "-i", "FIX.RET", "--include-sub-areas", "-f", "markdown").stdout
    lines = md.splitlines()
    assert lines[0] == "## FIX.RET Fixture retention, 2009/10"
    alpha = next(l for l in lines if l.startswith("| 2 | alpha |"))  # alpha_east's 90% is first
    assert "72.22% – 87.49%" in alpha and "85%" in alpha and "A Amber" in alpha and "better" in alpha
    assert any(l.startswith("| 1 |   alpha_east | 90% | 45 | 50 |") for l in lines)
    assert "Benchmark: national 70% (national figure (England))" in md
    table = dat("--db", db_url, "compare", "-i", "FIX.RET", "-f", "table", env={"COLUMNS": "160"}).stdout
    assert "vs national (95%)" in table and "▲ improved" in table
    data = json.loads(dat("--db", db_url, "compare", "alpha", "-i", "FIX.RET", "-f", "json").stdout)
    assert list(data) == ["schema", "indicator", "period", "periods_available", "benchmark",
                          "not_reporting", "rows"]
    row = data["rows"][0]
    assert set(row) >= {"partnership", "value", "numerator", "denominator", "ci_low", "ci_high",
                        "ci_low_998", "ci_high_998", "ci_method", "target", "target_kind", "rag",
                        "rag_basis", "rank", "quartile", "benchmark", "benchmark_basis",
                        "vs_benchmark", "vs_benchmark_998", "previous_period", "previous_value",
                        "direction", "last_year_period", "last_year_value", "direction_last_year",
                        "trend", "trend_assessment", "trend_reason", "reason"}
    assert (row["ci_method"], row["quartile"]) == ("Wilson score", 1)


def test_status_shows_benchmark_and_travel(fixture_store, fixture_plugins, dat, db_url):
    from dat.core.services import compare, scorecard

    card = scorecard(fixture_store, "alpha")
    assert card["period"] == "2009/10"
    ret = next(r for r in card["rows"] if r["code"] == "FIX.RET")
    assert (ret["rag"], ret["vs_benchmark"], ret["vs_benchmark_998"]) == ("A", "better", "similar")
    assert (ret["benchmark"], ret["benchmark_basis"]) == (70, "national figure (England)")
    assert ret["ci_low"] == pytest.approx(72.22, abs=0.01)
    assert (ret["direction"], ret["direction_last_year"], ret["trend"]) == ("improved", "improved",
                                                                           "cannot be calculated")
    eff = next(r for r in card["rows"] if r["code"] == "NTA.EFFECTIVE")
    assert (eff["benchmark"], eff["vs_benchmark"]) == (610, "worse")  # mean of alpha and Bromley
    east = next(r for r in scorecard(fixture_store, "alpha_east")["rows"] if r["code"] == "NTA.EFFECTIVE")
    assert (east["value"], east["benchmark"], east["vs_benchmark"]) == (300, 610, "worse")
    england = next(r for r in scorecard(fixture_store, "england")["rows"] if r["code"] == "FIX.RET")
    assert (england["benchmark"], england["vs_benchmark"]) == (None, "not compared")
    assert england["benchmark_basis"] == "the national figure itself"
    named = compare(fixture_store, "FIX.RET", ["england"])["rows"][0]
    assert (named["benchmark"], named["benchmark_basis"]) == (None, "the national figure itself")
    beta = next(r for r in scorecard(fixture_store, "beta")["rows"] if r["code"] == "FIX.RET")
    assert (beta["vs_benchmark"], beta["vs_benchmark_998"]) == ("worse", "worse")  # 50/100 vs 70
    out = dat("--db", db_url, "status", "alpha", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert list(rows[0]) == ["code", "name", "period", "value", "target", "rag", "rag_basis", "direction",
                             "vs_benchmark", "vs_benchmark_998", "direction_last_year", "trend",
                             "text", "target_text"]
    fix = next(r for r in rows if r["code"] == "FIX.RET")
    assert (fix["value"], fix["rag"], fix["vs_benchmark"], fix["direction"]) == ("81", "A", "better", "improved")
    table = dat("--db", db_url, "status", "beta", "-f", "table", env={"COLUMNS": "160"}).stdout
    line = next(l for l in table.splitlines() if "FIX.RET" in l)
    assert "worse (99.8%)" in line


def test_seed_compare_bromley_effective_treatment(dat, db_url):
    out = dat("--db", db_url, "compare", "-i", "NTA.EFFECTIVE", "-f", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["period"] == "2009/10"
    rows = {r["partnership"]: r for r in data["rows"]}
    b = rows["bromley"]  # 820 in effective treatment, 735 the year before (seed 002)
    assert (b["value"], b["previous_value"], b["direction"], b["rank"]) == (820, 735, "improved", 1)
    assert (round(b["ci_low"], 1), round(b["ci_high"], 1), b["ci_method"]) == (764.8, 878.1, "Byar")
    assert "dudley" in data["not_reporting"]
    named = json.loads(dat("--db", db_url, "compare", "dudley", "-i", "NTA.EFFECTIVE", "-f", "json").stdout)
    assert named["rows"][0]["reason"] == "dudley does not report NTA.EFFECTIVE"
    ni40 = json.loads(dat("--db", db_url, "compare", "-i", "NI40", "-f", "json").stdout)
    assert ni40["schema"] == "dat.compare/1" and ni40["rows"]


def test_direction_of_travel():
    from dat.core.services import direction_of_travel as dot

    assert dot(81, 75, "higher") == "improved" and dot(81, 75, "lower") == "worsened"
    assert dot(70, 75, "none") == "lower" and dot(75, 75, "higher") == "no change"
    assert dot("G", "R", "none") == "improved" and dot("A", "G", "higher") == "worsened"
    assert dot(None, 3, "higher") == dot(3, None, "higher") == dot("X", "G", "higher") == "not comparable"


def test_seed_scorecard_travel_and_benchmark_reasons(store):
    from dat.core.services import scorecard

    rows = {r["code"]: r for r in scorecard(store, "dudley", "2007/08 Q2")["rows"]}
    yot = rows["YP.YOT_ASSESSED_5D"]  # R in Q1, G in Q2 (seed 000): judged, not measured
    assert (yot["direction"], yot["direction_last_year"]) == ("improved", "not comparable")
    assert yot["trend"] == "cannot be calculated"
    assert yot["trend_reason"] == "no significance test for a trend in figures of unit 'rag'"
    assert (yot["vs_benchmark"], yot["benchmark_reason"]) == ("not compared", "a judgement, not a value")
    ret = {r["code"]: r for r in scorecard(store, "dudley", "2007/08 Q1")["rows"]}["NTA.RET12"]
    assert ret["value"] == 70 and ret["vs_benchmark"] == "not compared"  # 70% with no counts
    assert ret["benchmark_reason"] == "no numerator and denominator to put an interval around the proportion"
