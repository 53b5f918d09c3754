"""Seed 001 (Haringey, board briefing of 28 March 2008 on the 2008 National Drug Strategy):
every figure read back through the services, the document's own counts checked against the
stored data, the national NI/PSA sets, bad input, and the strategy briefing template rendered
by the real ``dat report`` in every format."""

from __future__ import annotations

import re
import zipfile

import pytest

SLUG = "haringey"
BOARD = "2008-03-28"  # the date of the board paper: the period of every listed PSA and NI


class Has(str):
    """Expected value: the stored text contains this."""


class Starts(str):
    """Expected value: the stored text starts with this (compared loosely, see _loose)."""


class Loose(str):
    """Expected value: the stored text equals this, ignoring case and commas."""


def _loose(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(",", "")).strip().casefold()


def _matches(actual, expected) -> bool:
    if isinstance(expected, Has):
        return actual is not None and str(expected) in actual
    if isinstance(expected, Starts):
        return actual is not None and _loose(actual).startswith(_loose(expected))
    if isinstance(expected, Loose):
        return actual is not None and _loose(actual) == _loose(expected)
    return actual == expected


# --- the table: one row per figure of the seed ------------------------------------------------
# (where, key, field, expected). where: "obs" (key = indicator, period BOARD), "ind" (an
# indicator's definition), "act" (an action by ref), "part" (the partnership).

# Appendix A, in the seed's order, with the names as the seed gives them
APPENDIX_A = [
    ("NI16", "Serious acquisitive crime rate"),
    ("NI17", "Perceptions of anti-social behaviour"),
    ("NI18", "Adult re-offending rates for those under probation supervision"),
    ("NI21", "Council and police dealing with local concerns about crime and anti-social behaviour"),
    ("NI28", "Knife crime rate"),
    ("NI29", "Gun crime rate"),
    ("NI30", "Re-offending rate of prolific and priority offenders"),
    ("NI32", "Repeat incidents of domestic violence"),
    ("NI38", "Drug related (Class A) offending rate"),
    ("NI50", "Emotional health of children"),
    ("NI58", "Emotional and behavioural health of children in care"),
    ("NI65", "Children made the subject of a Child Protection Plan again (second or later plan)"),
    ("NI68", "Referrals to children's social care going on to initial Assessment"),
    ("NI88", "Number of extended schools"),
    ("NI110", "Young people's participation in positive activities"),
    ("NI111", "Young people aged 10-17 entering the youth justice system for the first time"),
    ("NI114", "Rate of permanent exclusions from school"),
    ("NI115", "Substance misuse by young people"),
    ("NI117", "Young people aged 16-18 not in education, employment or training"),
    ("NI118", "Take up of formal childcare by low income working families"),
    ("NI119", "Self-reported measure of people's overall health and wellbeing"),
    ("NI40", "Drug users in effective treatment"),
    ("NI120", "All-age all-cause mortality rate"),
    ("NI128", "User reported measure of respect and dignity in their treatment"),
    ("NI140", "Fair treatment by local services"),
    *[(f"NI{n}", Starts("Socially excluded adults living in settled and suitable accommodation"))
      for n in (143, 145, 147, 149)],
    *[(f"NI{n}", Starts("Socially excluded adults in employment, education or training"))
      for n in (144, 146, 148, 150)],
    ("NI152", "Working-age people on out-of-work benefits"),
    ("NI156", "Number of households living in Temporary Accommodation"),
]

ROWS = [
    # header and §1, §6: the board paper
    ("part", SLUG, "name", "Haringey"),
    ("act", "SCEB-BRIEFING", "due", BOARD),
    ("act", "SCEB-BRIEFING", "lead", "Marion Morris"),
    ("act", "SCEB-BRIEFING", "action", Has("Safer Communities Executive Board")),
    ("act", "SCEB-BRIEFING", "status", "complete"),
    ("act", "SCEB-BRIEFING", "outcome", Has("note")),
    # §5.2: the LAA workshop later the same day
    ("act", "SCEB-LAA-WORKSHOP", "due", BOARD),
    # §2.1: replaces the ten-year strategy; three-year action plans
    ("act", "NDS-0", "action", Has("ten-year strategy Tackling Drugs to Build a Better Britain")),
    ("act", "NDS-0", "target_text", Has("three-year action plans")),
    ("act", "NDS-0", "action", Has("Drugs: protecting families and communities")),
    # §2.2: the four themes
    ("act", "NDS-1", "action", Has("drug supply, drug-related crime and anti-social behaviour")),
    ("act", "NDS-2", "action", Has("children, young people and families from the harm drug misuse does them")),
    ("act", "NDS-3", "action", Has("drug treatment and to social re-integration")),
    ("act", "NDS-4", "action", Has("communications and community engagement")),
    # §3.4: the RSA personalised budgets proposal
    ("act", "LR-3", "action", Has("personalised budgets")),
    ("act", "LR-3", "status", "in progress"),
    # §3.7-3.11: PSA 14 and PSA 25, and the three PSA 25 measures
    ("obs", "PSA14", "text", "Drug and alcohol PSA"),
    ("obs", "PSA25", "text", "Drug and alcohol PSA"),
    ("ind", "PSA14", "name", Has("More young people on the path to success")),
    ("ind", "PSA25", "name", Has("Reduce the harm caused by alcohol and drugs")),
    ("obs", "PSA14.SUBSTANCE_USE", "text", "PSA target measure"),
    ("ind", "PSA14.SUBSTANCE_USE", "source", "TellUs"),
    ("obs", "PSA25.TREATMENT", "text", "PSA target measure"),
    ("ind", "PSA25.TREATMENT", "name", "Problematic drug users recorded as being in effective treatment"),
    ("obs", "PSA25.OFFENDING", "text", "PSA target measure"),
    ("ind", "PSA25.OFFENDING", "name", "Rate of drug-related offending"),
    ("obs", "PSA25.PERCEPTION", "text", "PSA target measure"),
    ("ind", "PSA25.PERCEPTION", "source", "Place survey"),
    ("ind", "PSA25.PERCEPTION", "name",
     "Share of residents who see drug use or drug dealing as a problem where they live"),
    # §3.13: related PSAs 8, 13, 24, 21, 16, 18
    ("obs", "PSA8", "text", "Related PSA"),
    ("ind", "PSA8", "name", Has("Maximise employment opportunity for all")),
    ("obs", "PSA13", "text", "Related PSA"),
    ("obs", "PSA24", "text", "Related PSA"),
    ("obs", "PSA24", "commentary", Has("Drug Interventions Programme")),
    ("obs", "PSA21", "text", "Related PSA"),
    ("ind", "PSA21", "name", Has("Build more cohesive, empowered and active communities")),
    ("obs", "PSA16", "text", "Related PSA"),
    ("obs", "PSA16", "commentary", Has("four vulnerable groups")),
    ("obs", "PSA18", "text", "Related PSA"),
    ("ind", "PSA18", "name", Has("Promote better health and well-being for all")),
    # §4: other key concepts; the autumn 2008 DAAT review; prisons by 2011
    ("act", "KC1", "lead", "Cabinet Office"),
    ("act", "KC2", "lead", "National Audit Office"),
    ("act", "KC2.1", "due", "2008/09 Q2-Q3"),
    ("act", "KC2.1", "target_text", Has("autumn 2008")),
    ("act", "KC3", "lead", "Director of Children's Services"),
    ("act", "KC4", "target_text", Has("by 2011")),
    ("act", "KC4", "outcome", Has("only part of the strategy with new money")),
    # §5.1: the six summary points
    *[("act", f"SUM{n}", "theme", "Summary: local priorities") for n in range(1, 7)],
    # Appendix A: every related NI, listed for the LAA, with its name
    *[("obs", code, "text", "Related LAA indicator") for code, _ in APPENDIX_A],
    *[("ind", code, "name", name if isinstance(name, Starts) else Loose(name)) for code, name in APPENDIX_A],
    *[("ind", code, "framework", "NI") for code, _ in APPENDIX_A],
]


def _id(row) -> str:
    where, key, field, _ = row
    return f"{where}:{key}:{field}"


@pytest.fixture(scope="module")
def seed_data(seed_store):
    """Haringey read back from the shared SQLite store of every plugin (conftest's
    ``seed_store``) for the whole table (PostgreSQL is covered by the smaller tests)."""
    from dat.core import services

    return {
        "part": {SLUG: services.get_partnership(seed_store, SLUG)},
        "figures": services.figures(seed_store, SLUG),
        "actions": {a["ref"]: a for a in services.actions(seed_store, SLUG)["actions"]},
        "ind": {i["code"]: i for i in services.list_indicators(seed_store)},
    }


def _read(data, where, key, field):
    if where == "obs":
        return data["figures"]["figures"][key][BOARD][field]
    if where == "act":
        return data["actions"][key][field]
    return data[where][key][field]


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_seed_figure(seed_data, row):
    where, key, field, expected = row
    actual = _read(seed_data, where, key, field)
    assert _matches(actual, expected), f"{where} {key} {field}: stored {actual!r}, seed {expected!r}"


def test_every_observation_names_its_seed_section(seed_data):
    figs = seed_data["figures"]["figures"]
    assert len(figs) == 35 + 12  # 35 NIs, 8 PSAs, 4 PSA measures
    for code, by_period in figs.items():
        assert list(by_period) == [BOARD], code
        assert by_period[BOARD]["source"].startswith("001 "), code
    for ref, a in seed_data["actions"].items():
        assert a["source"].startswith("001 §"), ref


# --- document check: counts the briefing states, against the stored data ----------------------

def test_document_counts(seed_data):
    acts = seed_data["actions"].values()
    figs = seed_data["figures"]["figures"]
    # stated -> computed from what is stored
    themes = [a for a in acts if a["theme"] == "National Drug Strategy 2008" and a["ref"] != "NDS-0"]
    assert ("four themes", 4) == ("four themes", len(themes))  # §2.2
    key_points = [a for a in acts if "key point" in (a["source"] or "")]
    assert ("two key things", 2) == ("two key things", len(key_points))  # §3.2
    drug_psas = sorted(c for c in figs if figs[c][BOARD]["text"] == "Drug and alcohol PSA")
    assert drug_psas == ["PSA14", "PSA25"]  # §3.7: "14 and 25"
    assert len([c for c in figs if c.startswith("PSA25.")]) == 3  # §3.11: three measures
    related = sorted((c for c in figs if figs[c][BOARD]["text"] == "Related PSA"), key=lambda c: int(c[3:]))
    assert related == ["PSA8", "PSA13", "PSA16", "PSA18", "PSA21", "PSA24"]  # §3.13: six
    summary = [a for a in acts if a["theme"] == "Summary: local priorities"]
    assert len(summary) == 6  # §5.1
    ni = sorted((c for c in figs if c.startswith("NI")), key=lambda c: int(c[2:]))
    assert ni == sorted((c for c, _ in APPENDIX_A), key=lambda c: int(c[2:]))
    assert len(ni) == 35  # NI 143-150 are eight separate indicators
    housing = [c for c in ni if "settled and suitable accommodation" in seed_data["ind"][c]["name"]]
    work = [c for c in ni if "employment, education or training" in seed_data["ind"][c]["name"]]
    assert housing == ["NI143", "NI145", "NI147", "NI149"]
    assert work == ["NI144", "NI146", "NI148", "NI150"]


def test_psa_measures_point_at_their_national_indicators(seed_data):
    """§3.8/§3.11 and Appendix A describe the same measures as PSAs and as NIs: the NI rows
    say which PSA measure they report, and the indicators agree on unit and source."""
    ind = seed_data["ind"]
    figs = seed_data["figures"]["figures"]
    for ni, psa in (("NI40", "PSA25.TREATMENT"), ("NI38", "PSA25.OFFENDING"), ("NI115", "PSA14.SUBSTANCE_USE")):
        assert ind[ni]["unit"] == ind[psa]["unit"], (ni, psa)
        assert ind[ni]["polarity"] == ind[psa]["polarity"], (ni, psa)
        assert ind[ni]["source"] == ind[psa]["source"], (ni, psa)
        assert psa.split(".")[0][3:] in figs[ni][BOARD]["commentary"], ni
    assert ind["NI40"]["unit"] == "count" and ind["NI40"]["polarity"] == "higher"


def test_partnership(seed_data):
    p = seed_data["part"][SLUG]
    assert p["region"] == "London" and p["parent"] is None and p["sub_areas"] == []
    assert p["accountable_bodies"] == ["Haringey Council", "Haringey Primary Care Trust"]


# --- national sets: every entry complete and loaded without problems --------------------------

def test_national_sets_load_cleanly():
    from dat.core.plugins import get_plugin_manager, reset_plugin_manager

    reset_plugin_manager()
    host = get_plugin_manager()
    reg = host.registry
    for name in ("national", SLUG):
        assert host.plugins[name].status == "ok", host.plugins[name].problems
    ni = {c: s for c, s in reg.indicators.items() if c.startswith("NI")}
    psa = {c: s for c, s in reg.indicators.items() if c.startswith("PSA")}
    assert len(ni) >= 35 and len(psa) == 12
    for code, spec in {**ni, **psa}.items():
        assert spec.framework == ("NI" if code.startswith("NI") else "PSA"), code
        assert spec.unit and spec.polarity and spec.source, code
    assert all(re.fullmatch(r"NI\d+", c) for c in ni)
    assert all(re.fullmatch(r"PSA\d+(\.[A-Z_]+)?", c) for c in psa)


# --- bad input: the seed's own spellings that the schema refuses ------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("due", "Autumn 08", "is not a period"),  # §4.4: stored as the range 2008/09 Q2-Q3
    ("due", "2011", "is not a period"),  # §4.8 "by 2011": kept as target text
    ("status", "noted", "status"),
])
def test_bad_action_fields_are_refused(field, value, message):
    from dat.core.specs import ActionSpec, SpecError, build_spec

    item = {"partnership": SLUG, "ref": "X", "action": "test", field: value}
    with pytest.raises(SpecError, match=message):
        build_spec(ActionSpec, item)


def test_bad_observation_is_refused():
    from dat.core.specs import ObservationSpec, SpecError, build_spec

    with pytest.raises(SpecError, match="needs a value, a rag judgement or a text"):
        build_spec(ObservationSpec, {"partnership": SLUG, "indicator": "NI40", "period": BOARD})
    with pytest.raises(SpecError, match="unknown field"):
        build_spec(ObservationSpec, {"partnership": SLUG, "indicator": "NI40", "period": BOARD,
                                     "text": "x", "laa": True})


def test_report_bad_usage(dat, tmp_path):
    db = f"sqlite:///{tmp_path / 'bad.sqlite3'}"
    res = dat("--db", db, "report", SLUG, "--template", "strategy_briefng", "-o", str(tmp_path / "x.md"))
    assert res.returncode == 2
    assert "strategy_briefing" in res.stderr and "Traceback" not in res.stderr
    res = dat("--db", db, "report", SLUG, "--template", "strategy_briefing", "-P", "Autumn 08",
              "-o", str(tmp_path / "x.md"))
    assert res.returncode == 2 and "is not a period" in res.stderr
    assert not (tmp_path / "x.md").exists()


# --- both databases: the services and the real CLI ------------------------------------------------

def test_readback_on_each_backend(store):
    from dat.core import services

    figs = services.figures(store, SLUG)["figures"]
    assert figs["NI40"][BOARD]["text"] == "Related LAA indicator"
    assert figs["PSA25"][BOARD]["text"] == "Drug and alcohol PSA"
    acts = {a["ref"]: a for a in services.actions(store, SLUG)["actions"]}
    assert acts["SCEB-BRIEFING"]["due"] == BOARD and acts["KC2.1"]["due"] == "2008/09 Q2-Q3"
    card = services.scorecard(store, SLUG)
    assert card["period"] == BOARD and len(card["rows"]) == 47
    assert services.funding(store, SLUG)["lines"] == []  # the briefing gives no money


def test_strategy_briefing_renders_in_every_format(dat, db_url, tmp_path):
    for suffix in (".md", ".html", ".docx", ".xlsx"):
        out = tmp_path / f"briefing{suffix}"
        res = dat("--db", db_url, "report", SLUG, "--template", "strategy_briefing", "-o", str(out))
        assert res.returncode == 0, res.stderr
        assert out.stat().st_size > 100
    md = (tmp_path / "briefing.md").read_text()
    # the structure of the paper, in order
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings[0] == "# Haringey: briefing on the national drug strategy"
    order = ["## 1. Purpose", "## 2. Background", "## 3. Main changes and challenges",
             "### 3.1 Localism and re-integration", "### 3.2 The drug and alcohol PSAs",
             "### 3.3 Related PSAs", "## 4. Other key concepts", "## 5. Summary",
             "## 6. Recommendation", "## Appendix A: related indicators", "### PSA target measures"]
    assert [h for h in headings if h in order] == order
    # key figures, from the data
    assert "| Date | 28 March 2008 |" in md and "| Author | Marion Morris |" in md
    assert "The strategy has 4 themes:" in md
    assert "makes 2 key points" in md
    assert "The new PSAs for drugs and alcohol are PSA 14 and PSA 25." in md
    assert "| PSA 24 | Deliver a more effective" in md
    assert "Due: 2008/09 Q2-Q3" in md and "by 2011" in md
    appendix = md.split("## Appendix A")[1]
    rows = re.findall(r"^\| NI (\d+) \|", appendix, flags=re.M)
    assert rows == sorted(rows, key=int) and len(rows) == 35
    assert "| NI 40 | Drug users in effective treatment |" in appendix
    assert "| NI 111 | Young people aged 10-17 entering the youth justice system for the first time |" in appendix
    assert "| PSA 25 | Share of residents who see drug use or drug dealing" in appendix
    html = (tmp_path / "briefing.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Marion Morris" in html
    assert zipfile.is_zipfile(tmp_path / "briefing.docx")
    with zipfile.ZipFile(tmp_path / "briefing.docx") as z:
        assert "Knife crime rate" in z.read("word/document.xml").decode()
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "briefing.xlsx")
    assert wb.sheetnames[:3] == ["Scorecard", "Funding", "Actions"]
    codes = {r[0] for r in wb["Scorecard"].iter_rows(min_row=1, values_only=True)}
    assert {"NI40", "PSA25"} <= codes
