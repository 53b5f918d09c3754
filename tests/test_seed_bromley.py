"""Bromley's 2009/10 annual report (seed 002): every figure comes back out of dat exactly.

One row per figure of the seed, read back through the services (not SQL) from the SQLite
store the seed tests share (conftest's ``seed_store``); a document check that sets each derived figure the report states
beside the one worked out from the stored figures; the annual report template rendered by
the real ``dat report`` in every format on SQLite and PostgreSQL; and bad input.
"""

from __future__ import annotations

import json
import math
import tomllib
import zipfile
from decimal import Decimal
from importlib import resources

import pytest

SLUG = "bromley"
FORMATS = (".md", ".html", ".docx", ".xlsx")

# -- the seed's figures ---------------------------------------------------------------------
# (indicator, period, value exactly as the report states it, seed section)
FIGURES = [
    ("NTA.EFFECTIVE", "2009/10", 820, "3.4"),
    ("NTA.EFFECTIVE", "2008/09", 735, "3.4"),
    ("DIP.REFERRALS", "2009/10", 249, "3.6"),
    ("DIP.REFERRALS", "2008/09", 305, "3.6"),
    ("bromley.dip_triage_6wk", "2009/10", 40, "3.7"),
    ("bromley.dip_triage_6wk_change", "2009/10", 6, "3.7"),
    ("bromley.dip_triaged_started_6wk", "2009/10", 100, "3.7 (all of them)"),
    ("bromley.dip_in_treatment_at_referral_change", "2009/10", -6, "3.8"),
    ("bromley.waiting_list", "2009/10 Q2", 48, "3.9 (September 2009)"),
    ("bromley.waiting_list", "2009/10 Q3", 0, "3.9 (October 2009)"),
    ("YP.UNDER18_IN_TREATMENT", "2009/10", 221, "3.10"),
    ("YP.UNDER18_IN_TREATMENT", "2008/09", 144, "3.10"),
    ("bromley.yp_new_presentations", "2009/10", 164, "3.10"),
    ("bromley.yp_new_presentations", "2008/09", 107, "3.10"),
    ("bromley.yp_primary_cannabis", "2009/10", 57, "3.10"),
    ("bromley.yp_primary_cannabis_change", "2009/10", -6, "3.10"),
    ("bromley.yp_primary_cannabis_england", "2009/10", 56, "3.10 (national)"),
    ("bromley.yp_primary_alcohol", "2009/10", 41, "3.10"),
    ("bromley.yp_primary_alcohol_change", "2009/10", 10, "3.10"),
    ("bromley.ptb_baseline_cut", "2010/11", 30, "3.2 (2007 to 2011)"),
    ("bromley.funding_total_stated", "2009/10", 3109598, "5.1 (table total)"),
]

# (indicator, period, kind, value or None, words in the text target)
TARGETS = [
    ("bromley.dip_triage_6wk", "2009/10", "local", 100, None),
    ("bromley.waiting_list", "2009/10", "local", 0, None),
    ("NTA.EFFECTIVE", "2009/10", "local", None, "increasing the number of people in effective treatment"),
]

# (stream, line, amount in pounds as the table states it, banked by, words of "used for")
ALLOCATIONS = [
    ("PTB", "", "1,347,255", "PCT", "substitute prescribing"),
    ("ACS", "", "227,500", "LBB", "detoxification"),
    ("YPSMPG", "", "237,763", "LBB", "young people"),
    ("PCT", "drugs", "532,000", "PCT", "Drugs"),
    ("PCT", "alcohol", "505,811", "PCT", "Alcohol"),
    ("DIP", "", "259,269", "LBB", "specialist prescribing"),
]
STATED_TOTAL = "3,109,598"

# (ref, theme, status, due)
ACTIONS = [
    ("0.1", "Reporting", "complete", "2010-12-16"),
    ("0.2", "Reporting", "in progress", None),
    ("3.6a", "Numbers in treatment", "complete", "2009/10"),
    ("3.6b", "Numbers in treatment", "complete", "2009/10"),
    ("3.7", "Numbers in treatment", "in progress", None),
    ("3.9a", "Numbers in treatment", "complete", None),
    ("3.9b", "Numbers in treatment", "complete", None),
    ("3.10", "Young people", "complete", None),
    ("3.11a", "Outcomes and recovery", "complete", None),
    ("3.11b", "Outcomes and recovery", "complete", "2009/10 Q2"),
    ("3.11c", "Outcomes and recovery", "in progress", None),
    ("3.12", "Treatment system redesign", "in progress", None),
    ("3.13", "Treatment system redesign", "in progress", None),
    ("3.14", "Clinical governance", "complete", None),
    ("3.15", "Clinical governance", "in progress", None),
    ("3.16", "Service user and carer involvement", "in progress", None),
    ("3.17", "Service user and carer involvement", "in progress", None),
    ("3.18", "Communications", "complete", None),
    ("4.1a", "Priorities 2010/11", "planned", "2010/11"),
    ("4.1b", "Priorities 2010/11", "planned", "2010/11"),
    ("4.1c", "Priorities 2010/11", "planned", "2010/11"),
    ("4.1d", "Priorities 2010/11", "planned", "2010/11"),
    ("4.2a", "Delivery 2010/11", "planned", "2010/11"),
    ("4.2b", "Delivery 2010/11", "planned", "2010/11"),
    ("4.2c", "Delivery 2010/11", "planned", "2010/11"),
    ("4.2d", "Delivery 2010/11", "planned", "2010/11"),
    ("4.2e", "Delivery 2010/11", "planned", "2010/11"),
    ("4.2f", "Delivery 2010/11", "planned", "2010/11"),
    ("4.3", "Delivery 2010/11", "in progress", "2010/11"),
]


def _pounds(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


# -- one store for the table ----------------------------------------------------------------

@pytest.fixture(scope="module")
def seed(seed_store):
    """Bromley read back through the services from the shared SQLite database filled from
    the plugins (conftest's ``seed_store``): ``{"store", "figures", "funding", "actions",
    "partnership"}``."""
    from dat.core import services

    return {
        "store": seed_store,
        "figures": services.figures(seed_store, SLUG),
        "funding": services.funding(seed_store, SLUG, "2009/10"),
        "actions": {a["ref"]: a for a in services.actions(seed_store, SLUG)["actions"]},
        "partnership": services.get_partnership(seed_store, SLUG),
    }


@pytest.mark.parametrize("code, period, expected, section", FIGURES,
                         ids=[f"{c}@{p}" for c, p, _, _ in FIGURES])
def test_figure(seed, code, period, expected, section):
    row = seed["figures"]["figures"][code][period]
    assert row["value"] == expected
    assert row["source"].startswith("002 §" + section.split()[0])
    assert seed["figures"]["indicators"][code]["code"] == code


@pytest.mark.parametrize("code, period, kind, value, words", TARGETS,
                         ids=[f"{c}@{p}" for c, p, _, _, _ in TARGETS])
def test_target(seed, code, period, kind, value, words):
    (target,) = [t for t in seed["figures"]["targets"][code] if t["period"] == period]
    assert target["kind"] == kind
    assert target["value"] == value
    if words is None:
        assert target["value_kind"] == "absolute"
    else:
        assert target["value_kind"] == "text" and words in target["text"]


@pytest.mark.parametrize("stream, line, amount, banked_by, used_for", ALLOCATIONS,
                         ids=[f"{s}{'-' + l if l else ''}" for s, l, _, _, _ in ALLOCATIONS])
def test_allocation(seed, stream, line, amount, banked_by, used_for):
    (got,) = [l for l in seed["funding"]["lines"] if l["stream"] == stream and l["line"] == line]
    assert isinstance(got["amount"], Decimal) and got["amount"] == _pounds(amount)
    assert got["banked_by"] == banked_by
    assert used_for in got["used_for"]
    assert got["source"] == "002 §5.1" and not got["approximate"]


def test_funding_table_has_exactly_the_seed_lines(seed):
    fund = seed["funding"]
    assert fund["year"] == "2009/10" and fund["years_available"] == ["2009/10"]
    assert sorted((l["stream"], l["line"]) for l in fund["lines"]) == \
        sorted((s, l) for s, l, _, _, _ in ALLOCATIONS)
    assert {l["stream"] for l in fund["lines"]} == {"PTB", "ACS", "YPSMPG", "PCT", "DIP"}
    ptb = next(l for l in fund["lines"] if l["stream"] == "PTB")
    assert ptb["ring_fenced"] and ptb["funders"] == ["Department of Health", "Home Office"]


@pytest.mark.parametrize("ref, theme, status, due", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_action(seed, ref, theme, status, due):
    a = seed["actions"][ref]
    assert (a["theme"], a["status"], a["due"]) == (theme, status, due)
    assert a["action"] and a["lead"]
    assert a["source"].startswith("002 ")


def test_no_actions_beyond_the_table(seed):
    assert sorted(seed["actions"]) == sorted(r for r, _, _, _ in ACTIONS)
    priorities = [a for a in seed["actions"].values() if a["theme"] == "Priorities 2010/11"]
    delivery = [a for a in seed["actions"].values() if a["theme"] == "Delivery 2010/11"]
    assert len(priorities) == 4 and len(delivery) == 7  # 4.1's four aims; 4.2's six + 4.3


def test_partnership(seed):
    p = seed["partnership"]
    assert (p["slug"], p["name"], p["region"], p["parent"]) == ("bromley", "Bromley", "London", None)
    assert p["accountable_bodies"] == ["London Borough of Bromley", "Bromley Primary Care Trust"]
    assert p["sub_areas"] == [] and p["comparator_group"] is None  # the report names neither


def test_every_seed_figure_is_in_the_table(seed):
    """Nothing stored for Bromley is left out of FIGURES (and so untested)."""
    stored = {(code, period) for code, by_period in seed["figures"]["figures"].items()
              for period in by_period}
    assert stored == {(c, p) for c, p, _, _ in FIGURES}


# -- document check: derived figures the report states, beside the ones worked out -----------

def _pct_change(before: float, after: float) -> float:
    return (after - before) / before * 100


def _value(seed, code, period):
    return seed["figures"]["figures"][code][period]["value"]


# (label, the report's figure, how it is worked out from the stored figures, how the report
#  rounded it). The side-by-side record is in each test id and in the assertion message.
DOC_CHECKS = [
    ("effective treatment 735 -> 820", 11.5,
     lambda s: _pct_change(_value(s, "NTA.EFFECTIVE", "2008/09"), _value(s, "NTA.EFFECTIVE", "2009/10")),
     "truncated to 1 dp"),  # computed +11.56%, +11.6% rounded: the report truncates
    ("DIP referrals 305 -> 249", -18,
     lambda s: _pct_change(_value(s, "DIP.REFERRALS", "2008/09"), _value(s, "DIP.REFERRALS", "2009/10")),
     "rounded to a whole number"),  # computed -18.36%
    ("waiting list 48 -> nil", -100,
     lambda s: _pct_change(_value(s, "bromley.waiting_list", "2009/10 Q2"),
                           _value(s, "bromley.waiting_list", "2009/10 Q3")),
     "exact"),
    ("funding total (sum of the six lines)", 3109598,
     lambda s: float(sum(l["amount"] for l in s["funding"]["lines"])), "exact"),
]


@pytest.mark.parametrize("label, stated, compute, rounding", DOC_CHECKS,
                         ids=[d[0] for d in DOC_CHECKS])
def test_document_check(seed, label, stated, compute, rounding):
    computed = compute(seed)
    record = f"{label}: stated {stated}, computed {computed:.4f} ({rounding})"
    if rounding == "truncated to 1 dp":
        assert math.trunc(computed * 10) / 10 == stated, record
        assert round(computed, 1) != stated, record  # rounding would have given another figure
    elif rounding == "rounded to a whole number":
        assert round(computed) == stated, record
    else:
        assert computed == stated, record


def test_effective_treatment_rise_stated_and_computed(seed):
    computed = _pct_change(735, 820)
    assert f"{computed:+.1f}%" == "+11.6%"  # what dat shows
    assert f"{math.trunc(computed * 10) / 10:+.1f}%" == "+11.5%"  # what the report says
    assert _pct_change(_value(seed, "NTA.EFFECTIVE", "2008/09"),
                       _value(seed, "NTA.EFFECTIVE", "2009/10")) == pytest.approx(computed)


def test_funding_total_is_computed_and_equals_the_stated_one(seed):
    fund = seed["funding"]
    lines_sum = sum((l["amount"] for l in fund["lines"]), Decimal("0"))
    assert fund["total"] == lines_sum == _pounds(STATED_TOTAL)
    assert Decimal(str(_value(seed, "bromley.funding_total_stated", "2009/10"))) == fund["total"]
    # shares of the total add up to one; the PTB is the largest line
    assert math.fsum(l["share"] for l in fund["lines"]) == pytest.approx(1.0)
    assert fund["lines"][0]["stream"] == "PTB"
    assert fund["lines"][0]["share"] == pytest.approx(1347255 / 3109598)


def test_cost_per_person_in_effective_treatment(seed):
    # not in the report: dat works it out from the total and NTA.EFFECTIVE for the year
    fund = seed["funding"]
    assert fund["in_effective_treatment"] == 820
    assert fund["cost_per_person"] == Decimal("3792.19")  # 3,109,598 / 820 = 3,792.1927


def test_primary_drug_shares_are_consistent(seed):
    cannabis = _value(seed, "bromley.yp_primary_cannabis", "2009/10")
    alcohol = _value(seed, "bromley.yp_primary_alcohol", "2009/10")
    england = _value(seed, "bromley.yp_primary_cannabis_england", "2009/10")
    assert cannabis + alcohol <= 100  # shares of one population
    assert alcohol < cannabis  # alcohol is the second most reported main substance
    assert abs(cannabis - england) <= 1  # "in line with the national trends"


def test_young_people_figures_rose(seed):
    for code in ("YP.UNDER18_IN_TREATMENT", "bromley.yp_new_presentations"):
        assert _value(seed, code, "2009/10") > _value(seed, code, "2008/09")
    # new presentations are part of everyone in treatment in the same year
    for year in ("2008/09", "2009/10"):
        assert _value(seed, "bromley.yp_new_presentations", year) <= _value(seed, "YP.UNDER18_IN_TREATMENT", year)


# -- ratings and direction of travel through the scorecard -----------------------------------

def test_scorecard_2009_10(seed):
    from dat.core.services import scorecard

    rows = {r["code"]: r for r in scorecard(seed["store"], SLUG, "2009/10")["rows"]}
    assert rows["bromley.dip_triage_6wk"]["rag"] == "R"  # 40% against every client (100%)
    assert rows["bromley.dip_triage_6wk"]["target"] == 100
    assert rows["NTA.EFFECTIVE"]["direction"] == "improved"
    assert rows["NTA.EFFECTIVE"]["previous_value"] == 735
    assert rows["NTA.EFFECTIVE"]["target_text"].startswith("Keep increasing")
    assert rows["DIP.REFERRALS"]["direction"] == "lower"  # no polarity: referrals follow arrests


@pytest.mark.parametrize("period, value, rag, direction",
                         [("2009/10 Q2", 48, "R", "not comparable"), ("2009/10 Q3", 0, "G", "improved")])
def test_waiting_list_rated_by_quarter(seed, period, value, rag, direction):
    from dat.core.services import scorecard

    (row,) = [r for r in scorecard(seed["store"], SLUG, period)["rows"] if r["code"] == "bromley.waiting_list"]
    assert (row["value"], row["rag"], row["direction"]) == (value, rag, direction)


# -- the data file itself ---------------------------------------------------------------------

def _raw_toml() -> dict:
    text = resources.files("dat.partnerships.bromley").joinpath("data/bromley.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_data_file_amounts_are_exact_and_every_item_has_a_seed_source():
    doc = _raw_toml()
    for a in doc["allocations"]:
        assert isinstance(a["amount"], (str, int)) and not isinstance(a["amount"], bool)
    year_default = doc["defaults"].get("allocations", {}).get("source", "")
    for kind in ("observations", "targets", "actions", "allocations"):
        for item in doc[kind]:
            assert (item.get("source") or year_default).startswith("002 "), (kind, item)
    for ind in doc["indicators"]:
        assert ind["code"].startswith("bromley."), ind["code"]


def test_plugin_checks_clean(tmp_path):
    from dat.core.testing import check_plugin

    result = check_plugin("bromley", tmp_path)
    assert result.ok, result.text()
    assert "bromley/annual_report" in result.rendered


# -- through the real CLI, on SQLite and PostgreSQL ------------------------------------------

KEY_FIGURES_MD = ["| 735 | 820 | +11.6% (worked out)", "| 305 | 249 | -18.4% (worked out)",
                  "| 40% | +6% (as reported) | 100% (local)", "| 144 | 221 |", "| 107 | 164 |",
                  "| 57% | -6% (as reported)", "| 41% | +10% (as reported)", "| 56% |",
                  "From 48 in 2009/10 Q2", "to 0 in 2009/10 Q3", "**30%**",
                  "| PCT | £1,347,255 |", "| LBB | £227,500 |", "| LBB | £237,763 |",
                  "| PCT | £532,000 |", "| PCT | £505,811 |", "| LBB | £259,269 |",
                  "**£3,109,598**", "£3,792.19", "## 4 Priorities for 2010/11",
                  "## 5 Financial implications", "2010-12-16"]


def test_annual_report_every_format_through_cli(dat, db_url, tmp_path):
    for suffix in FORMATS:
        out = tmp_path / f"annual{suffix}"
        res = dat("--db", db_url, "report", SLUG, "--template", "annual_report", "-P", "2009/10",
                  "-o", str(out))
        assert res.returncode == 0, res.stderr
        assert out.stat().st_size > 1000, suffix
    md = (tmp_path / "annual.md").read_text(encoding="utf-8")
    for text in KEY_FIGURES_MD:
        assert text in md, text
    # the sections come in the report's order
    heads = [line for line in md.splitlines() if line.startswith("## ")]
    assert [h.split()[1] for h in heads] == ["1", "2", "3", "4", "5"]
    # the funding table keeps the report's row order, PCT's drugs line before alcohol
    table = [line for line in md.splitlines() if line.startswith("| ") and "| £" in line]
    assert [row.split("|")[1].split("(")[0].split(":")[0].strip() for row in table[:6]] == [
        "Pooled Treatment Budget", "Adult & Community Services",
        "Young People's Substance Misuse Partnership Grant", "Primary Care Trust mainstream",
        "Primary Care Trust mainstream", "Drug Interventions Programme grant"]
    html = (tmp_path / "annual.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "£3,109,598" in html and "Financial implications" in html
    with zipfile.ZipFile(tmp_path / "annual.docx") as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert "£3,109,598" in body and "£1,347,255" in body
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "annual.xlsx")
    assert wb.sheetnames[:3] == ["Scorecard", "Funding", "Actions"]
    amounts = [c for row in wb["Funding"].iter_rows(values_only=True) for c in row]
    assert 1347255 in amounts and 505811 in amounts and 3109598 in amounts


def test_annual_report_default_period_and_funding_json(dat, db_url, tmp_path):
    out = tmp_path / "plain.md"
    res = dat("--db", db_url, "report", SLUG, "--template", "annual_report", "-o", str(out))
    assert res.returncode == 0, res.stderr
    md = out.read_text(encoding="utf-8")
    assert "annual report for 2009/10" in md and "**£3,109,598**" in md and "| 735 | 820 |" in md
    res = dat("--db", db_url, "funding", SLUG, "--year", "2009/10", "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert Decimal(str(doc["total"])) == _pounds(STATED_TOTAL)
    assert sorted(Decimal(str(l["amount"])) for l in doc["lines"]) == \
        sorted(_pounds(a) for _, _, a, _, _ in ALLOCATIONS)


def test_services_on_each_backend(store):
    """The same figures come back on PostgreSQL as on SQLite."""
    from dat.core import services

    figs = services.figures(store, SLUG)["figures"]
    for code, period, expected, _ in FIGURES:
        assert figs[code][period]["value"] == expected, (code, period)
    fund = services.funding(store, SLUG, "2009/10")
    assert fund["total"] == _pounds(STATED_TOTAL)
    assert len(services.actions(store, SLUG)["actions"]) == len(ACTIONS)


# -- bad input --------------------------------------------------------------------------------

def test_bad_input_is_refused_with_the_choices(dat, tmp_path):
    db = f"sqlite:///{tmp_path / 'bad.sqlite3'}"
    res = dat("--db", db, "report", SLUG, "--template", "annual_reprot")
    assert res.returncode == 2 and "annual_report" in res.stderr and "Traceback" not in res.stderr
    res = dat("--db", db, "report", SLUG, "--template", "annual_report", "-P", "2009/13")
    assert res.returncode == 2 and "2009/10" in res.stderr and "Traceback" not in res.stderr
    res = dat("--db", db, "report", SLUG, "--template", "annual_report", "-o", str(tmp_path / "x.pdf"))
    assert res.returncode == 2 and ".docx" in res.stderr and not (tmp_path / "x.pdf").exists()
    res = dat("--db", db, "funding", SLUG, "--year", "2009/10 Q1")
    assert res.returncode == 2 and "financial year" in res.stderr


def test_a_float_amount_in_bromley_data_is_refused():
    from dat.core.specs import AllocationSpec, SpecError, build_spec

    item = dict(partnership=SLUG, stream="PTB", year="2009/10", amount=1347255.0)
    with pytest.raises(SpecError, match="amount: .* not a float"):
        build_spec(AllocationSpec, item)
    assert build_spec(AllocationSpec, {**item, "amount": "1,347,255"}).amount == Decimal("1347255.00")
