"""The real `dat` console script: Dudley's Q1 2007/08 scorecard end to end, formats, exit
codes, messages, and a start-up path free of heavy imports."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

#: Dudley, Q1 2007/08 (seed 000): code -> (value, RAG letter, basis)
DUDLEY_Q1 = {
    "NTA.DOMAIN.SYSTEM_MANAGEMENT": (None, "G", "judgement"),
    "NTA.DOMAIN.SYSTEM_DELIVERY": (None, "A", "judgement"),
    "NTA.DOMAIN.DIP": (None, "A", "judgement"),
    "NTA.DOMAIN.FINANCE": (None, "G", "judgement"),
    "NTA.NIT": (None, "R", "judgement"),
    "NTA.RET12": (70, "R", "rule"),
    "DIP.KPIS_MET": (2, None, "none"),  # 2 of 4: the report gives no RAG
    "DIP.NIT": (None, "G", "judgement"),
    "YP.HEALTHY_SCHOOLS_PCT": (57, "G", "rule"),
    "YP.HEALTHY_SCHOOLS": (None, "G", "judgement"),
    "YP.VULNERABLE_ESTIMATE": (4282, None, "none"),
    "YP.UNDER18_IN_TREATMENT": (166, None, "none"),
    "YP.UNDER18_SHARE": (15, "G", "judgement"),
    "YP.IN_ADULT_SYSTEM": (0.6, "G", "judgement"),
    "YP.YOT_ASSESSED_5D": (None, "R", "judgement"),
    "YP.YOT_TREATED_10D": (None, "G", "judgement"),
    "YP.COMMISSIONING": (None, "A", "judgement"),
    "YP.WORKFORCE": (None, "A", "judgement"),
    "dudley.zone_in_treatment": (103, "G", "judgement"),
    "dudley.zone_yp_services_share": (96, None, "none"),
}


@pytest.fixture
def dat_db(dat, db_url):
    def run(*args, env=None):
        return dat("--db", db_url, *args, env=env)
    return run


def test_dudley_q1_scorecard_json(dat_db):
    result = dat_db("status", "dudley", "--period", "2007/08 Q1", "--format", "json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["schema"] == "dat.scorecard/1"
    assert card["period"] == "2007/08 Q1"
    rows = {r["code"]: r for r in card["rows"]}
    for code, (value, rag, basis) in DUDLEY_Q1.items():
        assert rows[code]["value"] == value, code
        assert rows[code]["rag"] == rag, code
        assert rows[code]["rag_basis"] == basis, code
    ret = rows["NTA.RET12"]
    assert (ret["target"], ret["target_kind"]) == (85, "local")
    hs = rows["YP.HEALTHY_SCHOOLS_PCT"]
    assert hs["target"] == 55 and hs["target_kind"] == "national"
    assert [t["value"] for t in hs["targets"]] == [55, 82]
    assert rows["YP.UNDERSPEND_0506"]["text"] == "Grant return"
    assert rows["DIP.KPIS_MET"]["numerator"] == 2 and rows["DIP.KPIS_MET"]["denominator"] == 4
    assert len(rows) == 40  # 12 from the report body, 28 Annex H lines


def test_direction_of_travel_from_q1_to_q2(dat_db):
    card = json.loads(dat_db("status", "dudley", "-P", "Q2 2007-08", "-f", "json").stdout)
    rows = {r["code"]: r for r in card["rows"]}
    assert rows["YP.YOT_ASSESSED_5D"]["direction"] == "improved"  # R -> G
    assert rows["YP.YOT_TREATED_10D"]["direction"] == "worsened"  # G -> A
    assert rows["YP.SCREENING_PROTOCOLS"]["previous_value"] == "A"


def test_status_table_shows_rag_as_letter_and_word(dat_db):
    result = dat_db("status", "dudley", "--period", "2007/08 Q1", "--format", "table",
                    env={"COLUMNS": "160"})
    assert result.returncode == 0
    line = next(l for l in result.stdout.splitlines() if "NTA.RET12" in l)
    assert "70%" in line and "85% local" in line and "R Red" in line


def test_status_csv_and_markdown(dat_db):
    out = dat_db("status", "dudley", "-P", "2007/08 Q1", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    ret = next(r for r in rows if r["code"] == "NTA.RET12")
    assert (ret["value"], ret["target"], ret["rag"]) == ("70", "85", "R")
    md = dat_db("status", "dudley", "-P", "2007/08 Q1", "-f", "markdown").stdout
    assert "| NTA.RET12 |" in md and "R Red" in md
    under = next(r for r in rows if r["code"] == "YP.UNDERSPEND_0506")
    assert (under["value"], under["text"]) == ("", "Grant return")  # words in text, not value


def test_default_period_is_latest_well_filled_period(dat_db):
    card = json.loads(dat_db("status", "dudley", "-f", "json").stdout)
    assert card["period"] == "2007/08 Q1"  # Q2 holds only three narrative RAG moves
    assert card["periods_available"] == ["2007/08 Q1", "2007/08 Q2"]


def test_period_with_no_figures_says_so(dat_db):
    result = dat_db("status", "dudley", "-P", "2009/10", "-f", "json")
    assert result.returncode == 0
    assert "no figures for dudley in 2009/10" in result.stderr
    assert "2007/08 Q1" in result.stderr
    assert json.loads(result.stdout)["rows"] == []


@pytest.mark.parametrize("args, fragment", [
    (("status", "dudly"), "unknown partnership 'dudly' (did you mean dudley?); choose from: "),
    (("status", "dudley", "--period", "2007/09"), "2007/08"),
    (("status", "dudley", "--period", "Q5 2007/08"), "Q1-Q4"),
    (("indicators", "--partnership", "nope"), "unknown partnership 'nope'"),
    (("indicators", "--framework", "XX"), "choose from: NI, PSA, NTA, DIP, YP, FIN, local"),
    (("status",), "Missing argument"),
    (("nosuchcommand",), "No such command"),
    (("status", "dudley", "--format", "xml"), "'xml' is not one of"),
])
def test_bad_usage_exits_2_and_names_choices(dat_db, args, fragment):
    result = dat_db(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_partnerships_and_indicators(dat_db):
    parts = json.loads(dat_db("partnerships", "-f", "json").stdout)
    assert parts["schema"] == "dat.partnerships/1"
    dudley = next(p for p in parts["partnerships"] if p["slug"] == "dudley")
    assert dudley["region"] == "West Midlands"
    inds = json.loads(dat_db("indicators", "-p", "dudley", "-f", "json").stdout)["indicators"]
    codes = {i["code"] for i in inds}
    assert {"NTA.RET12", "YP.WORKFORCE", "dudley.zone_in_treatment"} <= codes
    assert "NTA.EFFECTIVE" not in codes  # registered nationally, but Dudley has no figures
    yp = dat_db("indicators", "--framework", "YP", "-f", "csv").stdout
    assert yp.splitlines()[0].startswith("code,name,unit")
    assert all(",YP," in line for line in yp.splitlines()[1:])


def test_plugins_listing_with_a_broken_plugin(fixture_plugins, dat):
    fixture_plugins({"broken": "broken_import", "bad": "bad_data"})
    result = dat("plugins", "-f", "json")
    assert result.returncode == 0
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert plugins["broken"]["status"] == "failed"
    assert "broken on purpose" in plugins["broken"]["error"]
    assert plugins["bad"]["status"] == "problems"
    assert plugins["dudley"]["status"] == "ok"
    # every other command still works
    assert dat("status", "dudley", "-P", "2007/08 Q1", "-f", "csv").returncode == 0
    strict = dat("--strict-plugins", "status", "dudley")
    assert strict.returncode == 1
    assert "plugin broken" in strict.stderr and "Traceback" not in strict.stderr


def test_version(dat):
    result = dat("--version")
    assert result.returncode == 0 and result.stdout.startswith("dat 0.")


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from dat.cli.main import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('textual', 'sqlalchemy', 'sqlmodel', 'jinja2', 'openpyxl', 'rich')\n"
        "         if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: dat" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY=", out.stdout


def test_help_teaches(dat):
    out = dat("status", "--help").stdout
    assert "Examples:" in out and "2009/10 Q1" in out


# -- tables that fit the terminal (cli/widths.py) ------------------------------------------------

def _table(dat_db, columns: int, *args: str) -> list[str]:
    result = dat_db(*args, "-f", "table", env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(l) for l in lines) <= columns, "the table is wider than the terminal"
    return lines


def test_status_table_fits_140_columns_names_on_one_line_empty_columns_left_out(dat_db):
    card = json.loads(dat_db("status", "dudley", "-P", "2007/08 Q1", "-f", "json").stdout)
    lines = _table(dat_db, 140, "status", "dudley", "-P", "2007/08 Q1")
    assert "Dudley scorecard, 2007/08 Q1" in lines[0]  # the partnership's name, not its slug
    ret = next(l for l in lines if "NTA.RET12" in l)
    assert "Retained in treatment 12 weeks or more" in ret and "R Red" in ret and "70%" in ret
    body = [l for l in lines if l.startswith("│")]
    assert len(body) <= 2 * len(card["rows"])  # a name takes two lines at most
    header = next(l for l in lines if l.startswith("┃"))
    for key, word in (("direction", "Travel"), ("trend", "Trend")):
        empty = all(r[key] in (None, "not comparable", "cannot be calculated") for r in card["rows"])
        assert (word not in header) == empty, word


def test_status_table_at_80_columns_drops_the_code_not_rag_or_value(dat_db):
    lines = _table(dat_db, 80, "status", "dudley", "-P", "2007/08 Q1")
    header = next(l for l in lines if l.startswith("┃"))
    assert "Indicator" not in header and "Name" in header and "RAG" in header
    ret = next(i for i, l in enumerate(lines) if "Retained in" in l)
    assert "70%" in lines[ret] and "R Red" in lines[ret] and "85% local" in lines[ret]


def test_funding_and_compare_tables_never_cut_money_at_60_columns(dat_db):
    lines = _table(dat_db, 60, "funding", "bromley", "--year", "2009/10")
    text = "\n".join(lines)
    assert "Bromley funding, 2009/10" in text
    assert "£1,347,255" in text and "£3,109,598" in text
    assert any("Total" in l and "£3,109,598" in l for l in lines)
    lines = _table(dat_db, 60, "compare", "-i", "NTA.RET12")
    assert any("70%" in l and "R Red" in l for l in lines)


def test_actions_mark_overdue_and_show_due_dates_one_way(dat_db):
    result = json.loads(dat_db("actions", "ne_lincs", "--as-of", "2007-01-01", "-f", "json").stdout)
    assert result["as_of"] == "2007-01-01"
    acts = {a["ref"]: a for a in result["actions"]}
    assert acts["TP-01"]["due"] == "2003/04" and acts["TP-01"]["due_date"] == "2004-03-31"
    assert acts["TP-01"]["overdue"] and not acts["NAT-1"]["overdue"]  # due 31 Dec 2008
    assert not acts["INF-1"]["overdue"]  # no due date
    overdue = {a["ref"] for a in result["actions"] if a["overdue"]}
    lines = _table(dat_db, 160, "actions", "ne_lincs", "--as-of", "2007-01-01")
    assert "North East Lincolnshire action plan" in lines[0]
    text = "\n".join(lines)
    assert "2003/04" not in text and "31 Mar 2004" in text and "31 Oct 2003" in text
    assert text.count("OVERDUE") == len(overdue)
    only = json.loads(dat_db("actions", "ne_lincs", "--as-of", "2007-01-01", "--status", "overdue",
                             "-f", "json").stdout)
    assert {a["ref"] for a in only["actions"]} == overdue
    not_done = json.loads(dat_db("actions", "dudley", "--status", "not done", "-f", "json").stdout)
    assert not_done["actions"] and all(a["status"] not in ("complete", "dropped")
                                       for a in not_done["actions"])
    # the CSV keeps its columns and the recorded words
    out = dat_db("actions", "ne_lincs", "-f", "csv").stdout
    assert out.splitlines()[0] == "ref,theme,action,lead,due,status,outcome"
    assert ",2003/04," in out
    bad = dat_db("actions", "ne_lincs", "--as-of", "soon")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
