"""North East Lincolnshire (seed 004, the 2003-06 Strategic Performance Framework): every
figure the seed states comes back through the services exactly; the derived figures it states
agree with what the stored figures give; both templates render through the real ``dat report``
in every format; bad input is refused with the choices named."""

from __future__ import annotations

import re
import zipfile

import pytest

SLUG = "ne_lincs"
FAMILY = ("bolton", "halton", "kirklees", "lancashire", "oldham", "rochdale", "salford",
          "sandwell", "sunderland", "tameside")
GROUP = "NE Lincs DAT family"
WAITS = {  # NTA maximum wait in weeks by modality (§3.4.3)
    "NTA.WAIT.INPATIENT_DETOX": 2, "NTA.WAIT.SPECIALIST_PRESCRIBING": 3,
    "NTA.WAIT.GP_PRESCRIBING": 2, "NTA.WAIT.STRUCTURED_COUNSELLING": 2,
    "NTA.WAIT.STRUCTURED_DAY_CARE": 3, "NTA.WAIT.RESIDENTIAL_REHAB": 3,
}


# -- one SQLite store for the whole table --------------------------------------------------------

@pytest.fixture(scope="module")
def seed(seed_store):
    """NE Lincs read back from the shared SQLite store of every plugin (conftest's ``seed_store``)."""
    from dat.core import services

    store = seed_store
    everything = services.figures(store, SLUG)
    return {
        "store": store, "host": store.host,
        "figures": everything["figures"], "targets": everything["targets"],
        "indicators": everything["indicators"],
        "actions": {a["ref"]: a for a in services.actions(store, SLUG)["actions"]},
        "partnerships": {p["slug"]: p for p in services.list_partnerships(store)},
    }


def _target(seed, code, period, kind, label=""):
    found = [t for t in seed["targets"].get(code, [])
             if t["period"] == period and t["kind"] == kind and t["label"] == label]
    assert len(found) == 1, f"{code} {period} {kind} {label!r}: {seed['targets'].get(code)}"
    return found[0]


def _get(seed, what, key, field):
    if what == "obs":
        code, period = key
        return seed["figures"][code][period][field]
    if what == "target":
        return _target(seed, *key)[field]
    if what == "action":
        value = seed["actions"][key][field]
        return " | ".join(value) if isinstance(value, list) else value
    if what == "partnership":
        return seed["partnerships"][key][field]
    raise AssertionError(what)


def obs(code, period, field, expected, id):
    return pytest.param("obs", (code, period), field, expected, id=id)


def tgt(code, period, kind, field, expected, id, label=""):
    return pytest.param("target", (code, period, kind, label), field, expected, id=id)


def act(ref, field, expected, id=None):
    return pytest.param("action", ref, field, expected, id=id or f"{ref}-{field}")


# (what, key, field, expected). A str expected inside a text field is checked with "in";
# everything else is compared exactly.
ROWS = [
    # §2.2.1 needs analysis
    obs("ne_lincs.dependent_users", "2002/03", "value", 2600, "dependent users at least 2,600"),
    obs("ne_lincs.problem_user_share", "2002/03", "value", 50, "about half are problem users"),
    obs("ne_lincs.problem_user_share", "2002/03", "text", "about half", "about half (words)"),
    # §2.2.4 treatment plan goals by April 2004
    tgt("ne_lincs.drd_index", "2004-04-30", "national", "value_kind", "change", "DRD change kind"),
    tgt("ne_lincs.drd_index", "2004-04-30", "national", "stated", -20, "DRD -20%"),
    tgt("ne_lincs.drd_index", "2004-04-30", "national", "baseline", 100, "DRD index baseline"),
    tgt("ne_lincs.drd_index", "2004-04-30", "national", "value", 80, "DRD resolves to 80"),
    tgt("ne_lincs.drd_index", "2004-04-30", "national", "text", "1999", "DRD 1999 baseline"),
    tgt("NTA.GP_SHARED_CARE", "2004-04-30", "national", "stated", 30, "GP 30% by April 2004",
        label="treatment plan"),
    act("TP-05", "due", "2003-10-31", "triage system by October 2003"),
    act("TP-06", "due", "2003-10-31", "information sharing by October 2003"),
    act("TP-07", "due", "2003-10-31", "service directory by October 2003"),
    act("TP-08", "due", "2003-10-31", "SLAs and evidence base by October 2003"),
    act("TP-09", "due", "2004-04-30", "care pathways by April 2004"),
    act("TP-10", "due", "2004-04-30", "care co-ordination by April 2004"),
    act("TP-11", "due", "2004-04-30", "workforce strategy by April 2004"),
    act("TP-12", "target_text", "20%", "TP DRD 20%"),
    act("TP-12", "target_text", "1999", "TP DRD 1999"),
    act("TP-12", "target_text", "30%", "TP GPs 30%"),
    *[act(f"TP-0{n}", "due", "2003/04", f"treatment plan 2003/4 item {n}") for n in (1, 2, 3, 4)],
    # §3.2 young people
    obs("ne_lincs.yp_drug_education", "2000/01", "text", "secondary and special",
        "drug education better than national and family"),
    tgt("ne_lincs.yp_class_a_index", "2008-12-31", "national", "value_kind", "text",
        "YP class A national target by 2008"),
    tgt("ne_lincs.yp_class_a_index", "2008-12-31", "national", "stated", -50,
        "YP class A -50% aspiration", label="original aspiration"),
    act("NAT-1", "outcome", "£56k", "£56k per juvenile"),
    act("NAT-1", "outcome", "40,000-50,000", "40-50,000 young people a year"),
    act("NAT-1", "outcome", "from 2006", "from 2006 onwards"),
    act("NAT-1", "due", "2008-12-31", "YP aim by 2008"),
    act("YP-1", "lead", "Peter Elwis"),
    act("YP-2", "lead", "Peter Elwis"),
    act("YP-2", "due", "2004-03-31", "all schools by March 2004"),
    act("YP-2", "outcome", "by 2006", "good drug education by 2006"),
    *[act(f"YP-3.{n}", "lead", "Mark Fairhead (Deputy Director of Children's Services)")
      for n in (1, 2, 3)],
    # §3.3 communities
    tgt("ne_lincs.asro_completions", "2003/04", "local", "stated", 16, "ASRO 16 in 2003/04"),
    tgt("ne_lincs.dtto_orders", "2003/04", "local", "stated", 35, "DTTO 35 in 2003/04"),
    tgt("ne_lincs.dtto_orders", "2005-03-31", "national", "text", "Twice as many",
        "DTTOs doubled by March 2005"),
    tgt("ne_lincs.prison_leavers_treatment_eet", "2006-03-31", "local", "stated", 75,
        "75 prison leavers by 31 March 2006"),
    tgt("ne_lincs.accommodation_index", "2003/04", "national", "value_kind", "growth",
        "accommodation national growth kind"),
    tgt("ne_lincs.accommodation_index", "2003/04", "national", "stated", 10,
        "accommodation +10% annually from 2003/04"),
    tgt("ne_lincs.accommodation_index", "2003/04", "national", "baseline_period", "2002/03",
        "accommodation growth counted from 2002/03"),
    *[tgt("ne_lincs.accommodation_index", p, "local", "stated", 10, f"accommodation +10% {p}")
      for p in ("2003/04", "2004/05", "2005/06")],
    *[tgt("ne_lincs.accommodation_index", p, "local", "years", y, f"accommodation years {p}")
      for p, y in (("2003/04", 1), ("2004/05", 2), ("2005/06", 3))],
    act("NAT-2", "milestones", "March 2005", "DTTO doubling March 2005 (aim)"),
    act("NAT-2", "milestones", "10% more units", "accommodation 10% (aim)"),
    act("COM-1.1", "lead", "Anne Lawtey"),
    act("COM-1.2", "lead", "Voni Alexander"),
    act("COM-1.2", "target_text", "16", "ASRO 16 (action)"),
    act("COM-1.3", "lead", "Voni Alexander"),
    act("COM-1.3", "target_text", "35", "DTTO 35 (action)"),
    act("COM-1.4", "lead", "Sharon Fielding"),
    act("COM-1.4", "due", "2006-03-31", "prison leavers due 31 March 2006"),
    act("COM-1.4", "target_text", "75", "prison leavers 75 (action)"),
    act("COM-2", "lead", "Andrea Pope-Smith"),
    act("COM-2", "target_text", "10%", "accommodation 10% (action)"),
    # §3.4 treatment
    obs("NTA.GP_SHARED_CARE", "2003-04-14", "value", 12.3, "GP shared care currently 12.3%"),
    obs("NTA.GP_SHARED_CARE", "2001/02", "text", "below the national average",
        "GP shared care below national 2001/02"),
    obs("ne_lincs.drug_treatment_per_head", "2001/02", "text", "below the national average",
        "treatment per head below national"),
    tgt("NTA.GP_SHARED_CARE", "2004-03-31", "local", "stated", 18.5, "GP 18.5% by March 2004"),
    tgt("ne_lincs.gps_in_shared_care", "2004-03-31", "local", "stated", 15, "15 GPs by March 2004"),
    tgt("NTA.GP_SHARED_CARE", "2003-03-31", "national", "stated", 30, "shared care 30% by March 2003",
        label="national aim"),
    *[tgt(code, "2003/04", "national", "stated", weeks, f"{code} {weeks} weeks")
      for code, weeks in WAITS.items()],
    tgt("ne_lincs.treatment_participation_index", "2004-12-31", "national", "stated", 55,
        "participation +55% by 2004"),
    tgt("ne_lincs.treatment_participation_index", "2008-12-31", "national", "stated", 100,
        "participation +100% by 2008"),
    tgt("ne_lincs.treatment_participation_index", "2008-12-31", "national", "stated", 2,
        "NTA double in treatment by 2008", label="NTA"),
    act("NAT-3", "outcome", "250,000", "UK 250,000 problem users"),
    act("NAT-3", "outcome", "£45m in 2003/04", "£45m 2003/04"),
    act("NAT-3", "outcome", "£54m in 2004/05", "£54m 2004/05"),
    act("NAT-3", "outcome", "£115m in 2005/06", "£115m 2005/06"),
    act("NAT-3", "outcome", "200,000 people a year in treatment by 2008", "200,000 by 2008"),
    act("NAT-3", "target_text", "55% by 2004 and 100% by 2008", "participation (aim)"),
    act("NAT-3", "milestones", "30% by March 2003", "shared care 30% (aim)"),
    act("TRT-1", "lead", "Pauline Bambala"),
    act("TRT-1", "target_text", "30%", "GP 30% (action)"),
    act("TRT-1", "target_text", "12.3%", "GP 12.3% (action)"),
    act("TRT-1", "outcome", "15 GPs (18.5%)", "15 GPs 18.5% (action)"),
    act("TRT-1", "due", "2004-03-31", "GP target March 2004"),
    act("TRT-2", "lead", "DAT Strategy Manager"),
    act("TRT-3", "lead", "Strategy/Performance Manager, supported by Pauline Bambala"),
    *[act("TRT-3", "target_text", text, f"waits text {text}") for text in (
        "inpatient detox 2 weeks", "specialist community prescribing 3 weeks",
        "GP community prescribing 2 weeks", "structured counselling 2 weeks",
        "structured day care 3 weeks", "residential rehab 3 weeks")],
    act("TRT-4", "lead", "Cynthia Manson-Siddle"),
    act("TRT-4", "target_text", "20% below the 1999 baseline", "DRD (action)"),
    # §3.5 reducing supply
    obs("ne_lincs.class_a_offence_share", "2001/02", "text", "national", "class A share ~ national"),
    obs("ne_lincs.drug_offences", "2002/03 Q1-Q2", "value", 157, "157 drug offences Apr-Sep 2002"),
    obs("ne_lincs.drug_offences_increase", "2002/03 Q1-Q2", "value", 72, "72 more crimes"),
    obs("ne_lincs.drug_offences_increase_pct", "2002/03 Q1-Q2", "value", 84.7, "84.7% rise"),
    obs("ne_lincs.drug_offences_share", "2002/03 Q1-Q2", "value", 1, "1% of all crime"),
    obs("ne_lincs.crack_seizures", "2002/03", "value", 1, "1 crack seizure 2002/3"),
    tgt("ne_lincs.supply_arrests", "2003/04", "local", "stated", 57, "57 supply arrests"),
    act("SUP-1", "lead", "Sharon Fielding"),
    act("SUP-1", "target_text", "57", "57 arrests (action)"),
    act("SUP-2", "lead", "Sharon Fielding"),
    act("SUP-2", "target_text", "1 crack seizure in 2002/03", "crack seizure (action)"),
    # §3.6 infrastructure
    act("NAT-5", "outcome", "April 2004", "PCTs no earlier than April 2004"),
    *[act(f"INF-{n}", "lead", "DAT Strategic Manager") for n in range(1, 8)],
    # §3.1 overarching themes
    act("OT-1", "theme", "Overarching"),
    act("OT-2", "theme", "Overarching"),
    # the partnership and its comparator family (§3.2.1 footnote)
    pytest.param("partnership", SLUG, "comparator_group", GROUP, id="ne_lincs family group"),
    pytest.param("partnership", SLUG, "name", "North East Lincolnshire", id="ne_lincs name"),
    *[pytest.param("partnership", s, "comparator_group", GROUP, id=f"family {s}") for s in FAMILY],
]


@pytest.mark.parametrize("what, key, field, expected", ROWS)
def test_seed_figure(seed, what, key, field, expected):
    got = _get(seed, what, key, field)
    if isinstance(expected, str) and field in ("text", "target_text", "outcome", "milestones"):
        assert got is not None and expected in got, f"{expected!r} not in {got!r}"
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        assert got == pytest.approx(expected, abs=1e-9), got
    else:
        assert got == expected


def test_every_item_names_its_seed_section(seed):
    reg = seed["host"].registry
    assert not [p.problems for p in seed["host"].plugins.values()
                if p.name in ("ne_lincs", "national") and p.problems]
    items = [*[s for k, s in reg.targets.items() if k[0] == SLUG],
             *[s for k, s in reg.observations.items() if k[0] == SLUG],
             *[s for k, s in reg.actions.items() if k[0] == SLUG]]
    assert len(items) > 70
    bad = [s.key() for s in items if not re.match(r"^004 (§\d|App \d)", s.source or "")]
    assert bad == []


def test_action_plan_shape(seed):
    acts = seed["actions"]
    assert len(acts) == 42
    by_prefix = {}
    for ref in acts:
        by_prefix[ref.split("-")[0]] = by_prefix.get(ref.split("-")[0], 0) + 1
    assert by_prefix == {"OT": 2, "TP": 12, "NAT": 5, "YP": 5, "COM": 5, "TRT": 4, "SUP": 2, "INF": 7}
    themes = [acts[f"NAT-{n}"]["theme"] for n in range(1, 6)]
    assert themes == ["Young people", "Communities", "Treatment", "Reducing supply", "Infrastructure"]
    # every local action belongs to one of the five themes and every linked code exists
    for ref, a in acts.items():
        if ref.split("-")[0] in ("YP", "COM", "TRT", "SUP", "INF"):
            assert a["theme"] in themes, ref
        for code in a["targets"]:
            assert code in seed["indicators"] or code.startswith("NTA.WAIT."), (ref, code)


def test_waiting_time_indicators_are_national(seed):
    from dat.core import services

    for code in WAITS:
        ind = services.get_indicator(seed["store"], code)
        assert (ind["framework"], ind["unit"], ind["polarity"], ind["plugin"]) == (
            "NTA", "weeks", "lower", "national"), ind
        assert _target(seed, code, "2003/04", "national")["kind"] == "national"


def test_family_members_carry_only_the_group(seed):
    parts = seed["partnerships"]
    for slug in FAMILY:
        if slug == "halton":
            assert slug in parts  # registered by the cheshire plugin
            continue
        p = parts[slug]
        assert (p["area_type"], p["comparator_group"], p["region"], p["parent"]) == (
            "partnership", GROUP, None, None), p
    assert parts[SLUG]["sub_areas"] == []


# -- document check: derived figures the seed states vs the same worked out from stored ones --------

def _document_checks(seed):
    f, acts = seed["figures"], seed["actions"]
    offences = f["ne_lincs.drug_offences"]["2002/03 Q1-Q2"]["value"]
    rise = f["ne_lincs.drug_offences_increase"]["2002/03 Q1-Q2"]["value"]
    rise_pct = f["ne_lincs.drug_offences_increase_pct"]["2002/03 Q1-Q2"]["value"]
    before = offences - rise
    gp_pct = _target(seed, "NTA.GP_SHARED_CARE", "2004-03-31", "local")["stated"]
    gp_n = _target(seed, "ne_lincs.gps_in_shared_care", "2004-03-31", "local")["stated"]
    gps_total = round(gp_n / (gp_pct / 100))
    now_pct = f["NTA.GP_SHARED_CARE"]["2003-04-14"]["value"]
    dependent = f["ne_lincs.dependent_users"]["2002/03"]["value"]
    half = f["ne_lincs.problem_user_share"]["2002/03"]["value"]
    acc = _target(seed, "ne_lincs.accommodation_index", "2005/06", "local")
    change = _target(seed, "ne_lincs.treatment_participation_index", "2008-12-31", "national")
    double = _target(seed, "ne_lincs.treatment_participation_index", "2008-12-31", "national", "NTA")
    uk = [int(x.replace(",", "")) for x in re.findall(r"(\d{3},\d{3}) ", acts["NAT-3"]["outcome"])]
    # (what, stated in the seed, worked out from the stored figures, places compared)
    return [
        ("drug offences Apr-Sep 2001 (157 minus the rise of 72)", None, before, 0),
        ("rise in drug offences, % (72 on the year before)", rise_pct, rise / before * 100, 1),
        ("GPs in the area implied by 15 GPs = 18.5%", None, gps_total, 0),
        ("15 GPs as a % of the implied total", gp_pct, gp_n / gps_total * 100, 1),
        ("GPs in shared care now (12.3% of the implied total)", None, round(now_pct / 100 * gps_total), 0),
        ("12.3% rounded back from whole GPs", now_pct, round(now_pct / 100 * gps_total) / gps_total * 100, 1),
        ("problem drug users (about half of 2,600)", None, dependent * half / 100, 0),
        ("accommodation after three years of +10% (index)", None, acc["value"], 1),
        ("+100% by 2008 and 'double by 2008' agree", change["value"], double["value"], 6),
        ("UK problem drug users in treatment now (about half of 250,000)", None, uk[0] / 2, 0),
        ("2008 aim of 200,000 vs about half of 250,000, % rise", None, (uk[1] / (uk[0] / 2) - 1) * 100, 0),
    ]


def test_document_check(seed):
    checks = _document_checks(seed)
    side_by_side = {what: (stated, round(computed, places)) for what, stated, computed, places in checks}
    # the seed's own derived figures agree with the stored ones at the seed's precision
    for what, (stated, computed) in side_by_side.items():
        if stated is not None:
            assert stated == pytest.approx(computed), (what, stated, computed)
    # and the worked-out values themselves are known answers
    assert side_by_side["drug offences Apr-Sep 2001 (157 minus the rise of 72)"] == (None, 85)
    assert side_by_side["rise in drug offences, % (72 on the year before)"] == (84.7, 84.7)
    assert side_by_side["GPs in the area implied by 15 GPs = 18.5%"] == (None, 81)
    assert side_by_side["15 GPs as a % of the implied total"] == (18.5, 18.5)
    assert side_by_side["GPs in shared care now (12.3% of the implied total)"] == (None, 10)
    assert side_by_side["12.3% rounded back from whole GPs"] == (12.3, 12.3)
    assert side_by_side["problem drug users (about half of 2,600)"] == (None, 1300)
    assert side_by_side["accommodation after three years of +10% (index)"] == (None, 133.1)
    assert side_by_side["+100% by 2008 and 'double by 2008' agree"] == (200, 200)
    assert side_by_side["UK problem drug users in treatment now (about half of 250,000)"] == (None, 125000)
    assert side_by_side["2008 aim of 200,000 vs about half of 250,000, % rise"] == (None, 60)


# -- templates through the real CLI ---------------------------------------------------------------

KEY_FIGURES = ("12.3%", "18.5%", "| 15 |", "30%", "2,600", "| 157 |", "84.7%", "| 16 |", "| 35 |",
               "| 75 |", "2006-03-31", "133.1", "-20% on the baseline", "2 weeks", "3 weeks",
               "Peter Elwis", "Cynthia Manson-Siddle", "£56k", "250,000", "£115m", "| 57 |",
               # the comparator family, from the report context's peers
               "(NE Lincs DAT family), 10 areas", "Halton, Kirklees")


@pytest.mark.parametrize("template", ["framework", "project_proforma"])
def test_templates_render_in_every_format(dat, tmp_path, template):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    for suffix in (".md", ".html", ".docx", ".xlsx"):
        out = tmp_path / f"{template}{suffix}"
        res = dat("--db", url, "report", SLUG, "--template", template, "-o", str(out))
        assert res.returncode == 0, res.stderr
        assert out.stat().st_size > 1000, out
    md = (tmp_path / f"{template}.md").read_text()
    assert "{{" not in md and "{%" not in md
    html = (tmp_path / f"{template}.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert zipfile.is_zipfile(tmp_path / f"{template}.docx")
    from openpyxl import load_workbook

    assert "Actions" in load_workbook(tmp_path / f"{template}.xlsx").sheetnames
    if template == "framework":
        for figure in KEY_FIGURES:
            assert figure in md, figure
        heads = [line for line in md.splitlines() if line.startswith("#")]
        order = ["## 1 ", "## 2 ", "### 2.2", "#### 2.2.4", "## 3 ", "### 3.1", "### 3.2 Young people",
                 "### 3.3 Communities", "### 3.4 Treatment", "### 3.5 Reducing supply",
                 "### 3.6 Infrastructure", "## 4 ", "## Appendix 1", "## Appendix 2"]
        at = [next(i for i, h in enumerate(heads) if h.startswith(o)) for o in order]
        assert at == sorted(at), heads
        assert "<td>Pauline Bambala</td>" in html
    else:
        sections = re.findall(r"^## (\S+):", md, flags=re.M)
        assert len(sections) == 23 and "TRT-1" in sections and "NAT-1" not in sections
        trt1 = md.split("## TRT-1:")[1].split("\n## ")[0]
        for heading in ("**Action:**", "**Lead:** Pauline Bambala", "**Description:**",
                        "**Target:** Reach the 30% level (12.3% now)",
                        "**Resource and performance management channel:**", "**Milestones:** due 2004-03-31",
                        "**Dependencies and links to other priorities:**"):
            assert heading in trt1, heading
        assert "local target 18.5% by 2004-03-31" in trt1 and "local target 15 by 2004-03-31" in trt1


def test_both_backends_read_back_and_report(dat, db_url, tmp_path):
    """The same figures through PostgreSQL and SQLite: services, the CLI and a report."""
    import json

    from dat.core import services

    store = services.Store(db_url)
    figs = services.figures(store, SLUG)
    assert figs["figures"]["NTA.GP_SHARED_CARE"]["2003-04-14"]["value"] == 12.3
    drd = figs["targets"]["ne_lincs.drd_index"][0]
    assert (drd["value_kind"], drd["stated"], drd["value"]) == ("change", -20, 80)
    acc = [t for t in figs["targets"]["ne_lincs.accommodation_index"] if t["period"] == "2005/06"][0]
    assert acc["value"] == pytest.approx(133.1)
    res = dat("--db", db_url, "actions", SLUG, "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    rows = rows["actions"] if isinstance(rows, dict) else rows
    assert len(rows) == 42
    assert {r["ref"]: r["lead"] for r in rows}["COM-1.4"] == "Sharon Fielding"
    out = tmp_path / "fw.md"
    res = dat("--db", db_url, "report", SLUG, "--template", "framework", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "| 18.5% | 2004-03-31 |" in out.read_text()


# -- bad input ----------------------------------------------------------------------------------

def test_unknown_template_names_the_choices(dat, tmp_path):
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    res = dat("--db", url, "report", SLUG, "--template", "framwork", "-o", str(tmp_path / "x.md"))
    assert res.returncode == 2
    assert "framework" in res.stderr and "project_proforma" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x.md").exists()
    res = dat("--db", url, "report", SLUG, "--template", "framework", "-o", str(tmp_path / "x.pdf"))
    assert res.returncode == 2 and ".docx" in res.stderr and "Traceback" not in res.stderr


def test_change_target_without_baseline_is_refused():
    """Why the framework's relative targets sit on index indicators: the core refuses a change
    target with no baseline value, naming the field."""
    from dat.core.specs import SpecError, TargetSpec, build_spec

    with pytest.raises(SpecError, match="baseline"):
        build_spec(TargetSpec, partnership=SLUG, indicator="ne_lincs.drd_index",
                   period="2004-04-30", target_kind="national", value_kind="change", value=-20)
    with pytest.raises(SpecError, match="years"):
        build_spec(TargetSpec, partnership=SLUG, indicator="ne_lincs.accommodation_index",
                   period="2003/04", value_kind="growth", value=10, baseline=100)
    with pytest.raises(SpecError, match="bare year"):
        build_spec(TargetSpec, partnership=SLUG, indicator="ne_lincs.drd_index", period="2004-04-30",
                   value_kind="change", value=-20, baseline=100, baseline_period="1999")
