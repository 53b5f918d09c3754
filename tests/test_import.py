"""dat import: formats, all-or-nothing, idempotence, revisions, and a corpus of malformed files
each of which leaves the database exactly as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HEADER = "partnership,indicator,period,value,numerator,denominator,note\n"


def _snapshot(db_url: str) -> str:
    """A digest of every row of every table (works on both engines)."""
    from sqlalchemy import create_engine, text

    from dat.core.models import metadata

    engine = create_engine(db_url)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in sorted(metadata.tables):
            for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")):
                digest.update(repr(tuple(row)).encode())
    engine.dispose()
    return digest.hexdigest()


@pytest.fixture
def run(dat, db_url):
    def go(*args):
        return dat("--db", db_url, *args)
    go("partnerships")  # create and fill the database first
    return go


def test_import_then_reimport_then_correct(run, tmp_path):
    f = tmp_path / "figs.csv"
    f.write_text(HEADER + "dudley,NTA.RET12,2007/08 Q2,75,75,100,Q2 return\n"
                          "dudley,NTA.RET12,Q1 2007-08,71,,,corrected figure\n")
    first = run("import", str(f), "--format", "json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["added"], report["changed"], report["unchanged"]) == (1, 1, 0)
    again = json.loads(run("import", str(f), "-f", "json").stdout)
    assert (again["added"], again["changed"], again["unchanged"]) == (0, 0, 2)
    hist = json.loads(run("history", "dudley", "NTA.RET12", "-f", "json").stdout)["revisions"]
    q1 = [(h["revision"], h["value"], h["current"]) for h in hist if h["period"] == "2007/08 Q1"]
    assert q1 == [(2, 71.0, True), (1, 70.0, False)]
    card = json.loads(run("status", "dudley", "-P", "2007/08 Q2", "-f", "json").stdout)
    ret = next(r for r in card["rows"] if r["code"] == "NTA.RET12")
    assert ret["value"] == 75 and ret["numerator"] == 75


def test_dry_run_writes_nothing(run, tmp_path, db_url):
    f = tmp_path / "figs.csv"
    f.write_text(HEADER + "dudley,NTA.RET12,2007/08 Q3,80,,,\n")
    before = _snapshot(db_url)
    out = run("import", str(f), "--dry-run")
    assert out.returncode == 0 and "would add 1" in out.stderr
    assert _snapshot(db_url) == before


def test_xlsx_import(run, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["partnership", "indicator", "period", "value", "numerator", "denominator", "note"])
    ws.append(["dudley", "NTA.RET12", "2007/08 Q3", 82.5, None, None, "from Excel"])
    path = tmp_path / "figs.xlsx"
    wb.save(path)
    out = run("import", str(path), "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["added"] == 1


def test_fingertips_import_with_mapping(run, tmp_path):
    mapping = tmp_path / "map.toml"
    mapping.write_text('[areas]\n"E08000027" = "dudley"\n[indicators]\n"90244" = "NTA.RET12"\n')
    f = tmp_path / "ft.csv"
    f.write_text("Indicator ID,Indicator Name,Area Code,Area Name,Time period,Value,"
                 "Lower CI 95.0 limit,Upper CI 95.0 limit,Count,Denominator,Value note\n"
                 "90244,Retention,E08000027,Dudley,2008/09,80.5,77.1,83.6,322,400,\n")
    out = run("import", str(f), "--mapping", str(mapping), "-f", "json")
    assert out.returncode == 0, out.stderr
    hist = json.loads(run("history", "dudley", "NTA.RET12", "-P", "2008/09", "-f", "json").stdout)
    assert hist["revisions"][0]["value"] == 80.5


def _big_file(path: Path, bad_every: int | None) -> None:
    lines = [HEADER.strip()]
    n = 0
    for year in range(1990, 2090):
        for q in range(1, 5):
            for code in ("NTA.NIT", "NTA.EFFECTIVE", "YP.UNDER18_IN_TREATMENT"):
                n += 1
                value = "oops" if bad_every and n % bad_every == 0 else str(n)
                lines.append(f"dudley,{code},{year}/{(year + 1) % 100:02d} Q{q},{value},,,")
    path.write_text("\n".join(lines) + "\n")


MALFORMED = {
    "empty.csv": (b"", "the file is empty"),
    "header_only.csv": (HEADER.encode(), "no data rows"),
    "wrong_header.csv": (b"area,code,when,amount\nx,y,z,1\n", "unrecognised header"),
    "latin1.csv": (HEADER.encode() + "dudley,NTA.RET12,2007/08 Q3,80,,,caf\xe9\n".encode("latin-1"),
                   "not UTF-8"),
    "truncated.csv": (HEADER.encode() + b'dudley,NTA.RET12,2007/08 Q3,80,,,"unterminated note\n',
                      "malformed CSV"),
    "bad_rows.csv": ((HEADER + "dudley,NTA.RET12,2007/13,5,,,\n"
                               "nowhere,NTA.RET12,2007/08,5,,,\n"
                               "dudley,NTA.RET12,2007/08,150,,,\n"
                               "dudley,NTA.RET12,2007/08 Q1,abc,,,\n"
                               "dudley,DIP.KPIS_MET,2007/08 Q3,5,5,4,\n"
                               "dudley,NTA.NIT,2007/08 Q3,5,,,\n"
                               "dudley,NTA.NIT,2007/08 Q3,6,,,\n").encode(),
                     ["bad_rows.csv:2: period", "bad_rows.csv:3: partnership: unknown partnership 'nowhere'",
                      "bad_rows.csv:4: value: 150 is not a percentage",
                      "bad_rows.csv:5: value: 'abc' is not a number",
                      "bad_rows.csv:6: numerator: 5 is larger than the denominator 4",
                      "bad_rows.csv:8: row: duplicate of line 7 with a different value"]),
    "fingertips_unmapped.csv": (b"Indicator ID,Area Code,Area Name,Time period,Value,Count,Denominator\n"
                                b"90244,E09999999,Nowhere,2008/09,80,,\n",
                                "'E09999999' (Nowhere) is not mapped to a partnership"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_corpus_leaves_database_unchanged(name, run, tmp_path, db_url):
    content, expected = MALFORMED[name]
    path = tmp_path / name
    path.write_bytes(content)
    before = _snapshot(db_url)
    out = run("import", str(path))
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    for fragment in ([expected] if isinstance(expected, str) else expected):
        assert fragment in out.stderr, out.stderr
    assert _snapshot(db_url) == before


def test_excel_with_merged_cells_is_refused(run, tmp_path, db_url):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["partnership", "indicator", "period", "value"])
    ws.append(["dudley", "NTA.RET12", "2007/08 Q3", 80])
    ws.append(["dudley", "NTA.RET12", "2007/08 Q4", 81])
    ws.merge_cells("A2:A3")
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    before = _snapshot(db_url)
    out = run("import", str(path))
    assert out.returncode == 1 and "merged cells (A2:A3)" in out.stderr
    assert _snapshot(db_url) == before


def test_one_bad_row_in_a_thousand_rejects_the_whole_file(run, tmp_path, db_url):
    path = tmp_path / "big.csv"
    _big_file(path, bad_every=1000)
    before = _snapshot(db_url)
    # the file runs to 2089/90: periods after the current financial year need --allow-future
    out = run("import", str(path), "--allow-future")
    assert out.returncode == 1
    assert "big.csv:1001: value: 'oops' is not a number" in out.stderr
    assert "rejected 1;" in out.stderr and "nothing was written" in out.stderr
    assert _snapshot(db_url) == before
    _big_file(path, bad_every=None)
    ok = run("import", str(path), "--allow-future", "-f", "json")
    report = json.loads(ok.stdout)
    # two of the 1,200 rows replace Dudley's own 2007/08 Q1 figures (NTA.NIT, YP.UNDER18_IN_TREATMENT)
    assert (report["added"], report["changed"]) == (1198, 2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_reader_never_crashes_on_arbitrary_text(tmp_path, text):
    from dat.core.importer import ImportRefused, read_rows

    path = tmp_path / "fuzz.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    try:
        fmt, rows, rejects, count = read_rows(path)
    except ImportRefused:
        return
    assert fmt == "dat" and count >= len(rows)
