"""Seed 000 (Dudley, quarterly performance report for Q1 2007/08 to the Select Committee of
8 November 2007, with Annex H): every figure read back through the services, the document's
derived statements checked against the stored figures, and the quarterly template rendered by
the real ``dat report`` in every format."""

from __future__ import annotations

import re
import zipfile

import pytest

SLUG = "dudley"
Q1, Q2 = "2007/08 Q1", "2007/08 Q2"


class Has(str):
    """Expected value: the stored text (or each of a list's items joined) contains this."""


def _matches(actual, expected) -> bool:
    if isinstance(expected, Has):
        if isinstance(actual, list):
            actual = " | ".join(actual)
        return actual is not None and str(expected) in actual
    return actual == expected


# --- the table: one row per figure of the seed ------------------------------------------------
# ("obs", indicator, period, field, expected) / ("target", indicator, period, kind, value) /
# ("alloc", stream, year, field, expected) / ("act", ref, None, field, expected) /
# ("part", slug, None, field, expected)

ANNEX_H = [  # Annex H, in the seed's order: (indicator, field, stated value)
    ("YP.LOCAL_DELIVERY", "rag", "G"),
    ("YP.COMMISSIONING", "rag", "A"),
    ("YP.DATA_SYSTEMS", "rag", "A"),
    ("YP.SCREENING_PROTOCOLS", "rag", "A"),
    ("YP.INVOLVEMENT", "rag", "A"),
    ("YP.DIVERSITY", "rag", "A"),
    ("YP.UNDERSPEND_0506", "text", "Grant return"),
    ("YP.UNDERSPEND_0607", "text", "Grant return"),
    ("YP.HEALTHY_SCHOOLS", "rag", "G"),
    ("YP.SCHOOL_REFERRAL", "rag", "G"),
    ("YP.COMMUNICATIONS", "rag", "G"),
    ("YP.SOCIAL_INCLUSION", "rag", "A"),
    ("YP.VULNERABLE_ESTIMATE", "value", 4282),
    ("YP.CHILDREN_OF_MISUSERS", "rag", "A"),
    ("YP.CONNEXIONS", "rag", "G"),
    ("YP.TRUANTS", "rag", "A"),
    ("YP.EXCLUDEES", "rag", "A"),
    ("YP.LOOKED_AFTER", "rag", "A"),
    ("YP.YOT_SCREENED", "rag", "G"),
    ("YP.YOT_ASSESSED_5D", "rag", "R"),
    ("YP.YOT_TREATED_10D", "rag", "G"),
    ("YP.VULNERABLE_OTHER", "rag", "A"),
    ("YP.UNDER18_IN_TREATMENT", "value", 166),
    ("YP.UNDER18_SHARE", "value", 15),
    ("YP.UNDER18_SHARE", "rag", "G"),
    ("YP.IN_ADULT_SYSTEM", "value", 0.6),
    ("YP.IN_ADULT_SYSTEM", "rag", "G"),
    ("YP.RANGE_OF_SERVICES", "rag", "G"),
    ("YP.QUALITY", "rag", "G"),
    ("YP.WORKFORCE", "rag", "A"),
]

ROWS = [
    ("part", SLUG, None, "region", "West Midlands"),
    # header: the committee meeting and the plans
    ("act", "SC-Q1-REPORT", None, "due", "2007-11-08"),
    ("act", "SC-Q1-REPORT", None, "lead", "Chief Executive"),
    ("act", "SC-Q1-REPORT", None, "action", Has("Select Committee on Community Safety and Community Services")),
    ("act", "SC-UNDERPERFORMANCE", None, "lead", "Chief Executive"),
    ("act", "ADTP-2007/08", None, "due", "2007/08"),
    ("act", "ADTP-2007/08", None, "milestones", Has("Needs assessment: October 2006")),
    ("act", "ADTP-2007/08", None, "milestones", Has("Treatment Planning Day: November (as given in the report: 2007)")),
    ("act", "ADTP-2007/08", None, "milestones", Has("Plan in effect: April 2007")),
    ("act", "CYPSMP-2007/08", None, "milestones", Has("Work started: November 2006")),
    ("act", "CYPSMP-2007/08", None, "milestones", Has("Government Office West Midlands: April 2007")),
    ("act", "CYPSMP-2007/08", None, "milestones", Has("Annex H progress return: July 2007")),
    ("act", "CYPSMP-2007/08", None, "milestones", Has("Six-monthly")),
    ("act", "CYPSMP-2007/08", None, "outcome", Has("March 2005")),
    # §4: adult treatment, Q1 (April to June 2007)
    ("obs", "NTA.DOMAIN.SYSTEM_MANAGEMENT", Q1, "rag", "G"),
    ("obs", "NTA.DOMAIN.SYSTEM_DELIVERY", Q1, "rag", "A"),
    ("obs", "NTA.DOMAIN.DIP", Q1, "rag", "A"),
    ("obs", "NTA.DOMAIN.FINANCE", Q1, "rag", "G"),
    ("obs", "NTA.NIT", Q1, "rag", "R"),
    ("obs", "NTA.NIT", Q1, "commentary", Has("pro-rata")),
    ("obs", "NTA.RET12", Q1, "value", 70),
    ("target", "NTA.RET12", "2007/08", "local", 85),
    ("obs", "NTA.RET12", Q1, "commentary", Has("2006/07 Q4")),
    ("act", "RET-DATA", None, "status", "complete"),
    # §7: DIP, Q1: two of the four compact KPIs; KPI 2 and KPI 3; DIRWeb changes from 1 April 2007
    ("obs", "DIP.KPIS_MET", Q1, "numerator", 2),
    ("obs", "DIP.KPIS_MET", Q1, "denominator", 4),
    ("obs", "DIP.KPIS_MET", Q1, "commentary", Has("KPI 2")),
    ("obs", "DIP.KPIS_MET", Q1, "commentary", Has("1 April 2007")),
    ("obs", "DIP.NIT", Q1, "rag", "G"),
    ("act", "DIP-KPI3", None, "due", Q2),
    ("act", "DIP-KPI3", None, "lead", "DIP Data Manager"),
    # §9: Healthy Schools 57% against 55% national and 82% local stretch by December 2007
    ("obs", "YP.HEALTHY_SCHOOLS_PCT", Q1, "value", 57),
    ("target", "YP.HEALTHY_SCHOOLS_PCT", "2007-12-31", "national", 55),
    ("target", "YP.HEALTHY_SCHOOLS_PCT", "2007-12-31", "stretch", 82),
    # §9: The Zone: Green, 103 in treatment, 96% of them in young people's services
    ("obs", "dudley.zone_rating", Q1, "rag", "G"),
    ("obs", "dudley.zone_in_treatment", Q1, "value", 103),
    ("obs", "dudley.zone_yp_services_share", Q1, "value", 96),
    # §9: movements by Q2 (YOT 5 days Red -> Green, 10 days Green -> Amber; protocols Green)
    ("obs", "YP.YOT_ASSESSED_5D", Q2, "rag", "G"),
    ("obs", "YP.YOT_TREATED_10D", Q2, "rag", "A"),
    ("obs", "YP.SCREENING_PROTOCOLS", Q2, "rag", "G"),
    # §10-12: funding streams, no amounts stated
    ("alloc", "PTB", "2007/08", "amount", None),
    ("alloc", "PTB", "2007/08", "funders", ["Department of Health", "Home Office"]),
    ("alloc", "LOCAL", "2007/08", "line", "PCT, Social Services and Probation"),
    ("alloc", "DIP", "2007/08", "funders", ["Home Office"]),
    ("alloc", "YPSMPG", "2007/08", "funders", ["Department of Health", "Youth Justice Board",
                                               "Department for Children, Schools and Families",
                                               "Adult Pooled Treatment Budget"]),
    # Annex H, delivery status at Q1
    *[("obs", code, Q1, field, value) for code, field, value in ANNEX_H],
]


def _id(row) -> str:
    where, key, period, field, _ = row
    return f"{where}:{key}:{period or '-'}:{field}"


@pytest.fixture(scope="module")
def seed_data(seed_store):
    """Dudley read back from the shared SQLite store of every plugin (conftest's ``seed_store``)."""
    from dat.core import services

    everything = services.figures(seed_store, SLUG)
    return {
        "part": {SLUG: services.get_partnership(seed_store, SLUG)},
        "figures": everything["figures"],
        "targets": everything["targets"],
        "funding": services.funding(seed_store, SLUG, "2007/08"),
        "actions": {a["ref"]: a for a in services.actions(seed_store, SLUG)["actions"]},
        "scorecard": services.scorecard(seed_store, SLUG, Q1),
    }


def _read(data, where, key, period, field):
    if where == "obs":
        return data["figures"][key][period][field]
    if where == "target":
        found = [t for t in data["targets"][key] if t["period"] == period and t["kind"] == field]
        assert len(found) == 1, found
        return found[0]["value"]
    if where == "alloc":
        found = [l for l in data["funding"]["lines"] if l["stream"] == key]
        assert len(found) == 1, found
        return found[0][field]
    if where == "act":
        return data["actions"][key][field]
    return data[where][key][field]


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_seed_figure(seed_data, row):
    where, key, period, field, expected = row
    actual = _read(seed_data, where, key, period, field)
    assert _matches(actual, expected), f"{_id(row)}: stored {actual!r}, seed {expected!r}"


def test_nothing_stored_that_the_table_does_not_cover(seed_data):
    """Every stored figure of Dudley is a row of the table (so the table is the whole seed)."""
    covered = {(r[1], r[2]) for r in ROWS if r[0] == "obs"}
    stored = {(code, p) for code, by in seed_data["figures"].items() for p in by}
    assert stored == covered
    assert len(ANNEX_H) == 30 and len({c for c, _, _ in ANNEX_H}) == 28  # 28 Annex H lines
    for code, by in seed_data["figures"].items():
        for p, o in by.items():
            assert o["source"].startswith("000 "), (code, p)


# --- document check: the report's derived statements against the stored figures --------------

def test_document_checks(seed_data):
    figs, card = seed_data["figures"], seed_data["scorecard"]
    rows = {r["code"]: r for r in card["rows"]}
    # "meeting two out of the four KPIs": 2 / 4 = 50% computed
    kpi = figs["DIP.KPIS_MET"][Q1]
    assert (kpi["numerator"], kpi["denominator"]) == (2, 4)
    assert kpi["numerator"] / kpi["denominator"] * 100 == 50.0
    # "Red 70% against a Partnership Target of 85%": 15 points short, Red by the core's rule
    assert rows["NTA.RET12"]["value"] == 70 and rows["NTA.RET12"]["target"] == 85
    assert rows["NTA.RET12"]["target"] - rows["NTA.RET12"]["value"] == 15
    assert rows["NTA.RET12"]["rag"] == "R" and rows["NTA.RET12"]["rag_basis"] != "judgement"
    # Healthy Schools: 57% achieved, 2 points over the national 55%, 25 short of the 82% stretch
    hs = figs["YP.HEALTHY_SCHOOLS_PCT"][Q1]["value"]
    targets = {t["kind"]: t["value"] for t in seed_data["targets"]["YP.HEALTHY_SCHOOLS_PCT"]}
    assert (hs - targets["national"], targets["stretch"] - hs) == (2, 25)
    # the rated lines: numbers into treatment and the domain ratings are judgements as stated
    assert rows["NTA.NIT"]["rag"] == "R" and rows["NTA.NIT"]["rag_basis"] == "judgement"
    # Annex H at Q1: 24 lines with a delivery status (11 Green, 12 Amber, 1 Red), two
    # "Grant return" lines and two counts: 28 lines in all
    rag_lines = [(c, v) for c, f, v in ANNEX_H if f == "rag"]
    stored = [figs[c][Q1]["rag"] for c, _ in rag_lines]
    assert (stored.count("G"), stored.count("A"), stored.count("R")) == (11, 12, 1)
    # YOT movements: Red -> Green and Green -> Amber between Q1 and Q2
    assert (figs["YP.YOT_ASSESSED_5D"][Q1]["rag"], figs["YP.YOT_ASSESSED_5D"][Q2]["rag"]) == ("R", "G")
    assert (figs["YP.YOT_TREATED_10D"][Q1]["rag"], figs["YP.YOT_TREATED_10D"][Q2]["rag"]) == ("G", "A")
    # the funding section names four sources and no amounts: no total can be worked out
    assert seed_data["funding"]["total"] is None and len(seed_data["funding"]["lines"]) == 4


# --- bad input ------------------------------------------------------------------------------------

def test_report_bad_usage(dat, tmp_path):
    db = f"sqlite:///{tmp_path / 'bad.sqlite3'}"
    res = dat("--db", db, "report", SLUG, "--template", "quartely", "-o", str(tmp_path / "x.md"))
    assert res.returncode == 2 and "quarterly" in res.stderr and "Traceback" not in res.stderr
    res = dat("--db", db, "report", SLUG, "--template", "quarterly", "-P", "Q5 2007/08",
              "-o", str(tmp_path / "x.md"))
    assert res.returncode == 2 and "is not a period" in res.stderr
    res = dat("--db", db, "report", SLUG, "--template", "quarterly", "-o", str(tmp_path / "x.pdfx"))
    assert res.returncode == 2 and ".docx" in res.stderr


# --- both databases: the real CLI ------------------------------------------------------------------

def test_quarterly_renders_in_every_format(dat, db_url, tmp_path):
    for suffix in (".md", ".html", ".docx", ".xlsx"):
        out = tmp_path / f"q1{suffix}"
        res = dat("--db", db_url, "report", SLUG, "--template", "quarterly", "-P", Q1, "-o", str(out))
        assert res.returncode == 0, res.stderr
        assert out.stat().st_size > 100
    md = (tmp_path / "q1.md").read_text()
    headings = [line for line in md.splitlines() if line.startswith("#")]
    order = ["# Dudley: quarterly performance report, 2007/08 Q1", "## Purpose of the report",
             "## Background", "## Adult drug treatment: performance in 2007/08 Q1",
             "### Domain ratings", "### Numbers into treatment",
             "### Retained in treatment 12 weeks or more", "## Drug Interventions Programme",
             "## Children and young people's substance misuse plan", "### Healthy Schools",
             "## Finance, 2007/08", "## Recommendations",
             "## Annex H: young people's plan, delivery status in 2007/08 Q1"]
    assert [h for h in headings if h in order] == order
    assert "committee meeting of 8 November 2007" in md
    assert "| Drug treatment system delivery (domain rating) | Amber |" in md
    assert "Rating: **Red**." in md
    assert "| 70% | 85% (local) | Red |" in md
    assert "**2 of 4**" in md
    assert "| 57% | 55% | national | 31 December 2007 |" in md and "| 82% | stretch |" in md
    assert "Young people in treatment at The Zone: 103 (Green)" in md
    assert "| Local estimate of the population of vulnerable young people | 4,282 |" in md
    assert "| Under-18s receiving treatment | 166 |" in md
    assert "| Under-18s as a share of the treatment population | 15% (Green) |" in md
    assert "| Young people treated in the adult system | 0.6% (Green) |" in md
    assert re.search(r"assessed within 5 days \| Red \| Green in 2007/08 Q2", md)
    assert "| Pooled Treatment Budget | Department of Health, Home Office | not stated |" in md
    annex = md.split("## Annex H")[1]
    assert len(re.findall(r"^\| (?!Line|---)", annex, flags=re.M)) == 28
    html = (tmp_path / "q1.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Annex H" in html
    with zipfile.ZipFile(tmp_path / "q1.docx") as z:
        assert "Workforce" in z.read("word/document.xml").decode()
    from openpyxl import load_workbook

    assert load_workbook(tmp_path / "q1.xlsx").sheetnames[:3] == ["Scorecard", "Funding", "Actions"]


def test_quarterly_without_period_uses_latest_quarter_with_treatment_figures(dat, tmp_path):
    db = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    out = tmp_path / "latest.md"
    # no --period: the default period is Q1 (Q2 holds only three narrative RAG moves)
    res = dat("--db", db, "report", SLUG, "--template", "quarterly", "-o", str(out))
    assert res.returncode == 0, res.stderr
    md = out.read_text()
    assert "There are no adult treatment figures" not in md and "**2 of 4**" in md
    # asked for Q2, the template falls back to the latest quarter with treatment figures
    res = dat("--db", db, "report", SLUG, "--template", "quarterly", "-P", "2007/08 Q2", "-o", str(out), "--force")
    assert res.returncode == 0, res.stderr
    md = out.read_text()
    assert "There are no adult treatment figures for 2007/08 Q2; this report covers 2007/08 Q1" in md
    assert "**2 of 4**" in md


def test_dudley_data_loads_without_problems():
    from dat.core.plugins import get_plugin_manager, reset_plugin_manager

    reset_plugin_manager()
    host = get_plugin_manager()
    assert host.plugins[SLUG].status == "ok", host.plugins[SLUG].problems
    spec = host.registry.templates[(SLUG, "quarterly")]
    assert spec.package == "dat.partnerships.dudley" and spec.path == "templates/quarterly.md.j2"
