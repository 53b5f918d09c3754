"""Hostile and careless import files (issue 11, items 1 and 2).

Each case is a file and what must come of it: a refusal (exit code, one clear line of at most
200 characters naming the file, line and column, no traceback, the database digest unchanged)
or an acceptance with the exact value stored. The cases run in-process through click's
CliRunner on one database per backend for the module (a refusal changes nothing, so they can
share it; each acceptance writes its own partnership/period and the expected digest is taken
again after it).
"""

from __future__ import annotations

import os
import time
import tracemalloc
import uuid
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import db_digest, raw_xlsx, xlsx_inline, xlsx_styles
from hypothesis import given, settings
from hypothesis import strategies as st

H = "partnership,indicator,period,value,numerator,denominator,note\n"


# -- the module's databases ---------------------------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def mdb(request, tmp_path_factory):
    """A migrated, synced database for the module: {"url", "digest"}."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('imports') / 'dat.sqlite3'}"
        name = None
    else:
        import psycopg

        base = request.getfixturevalue("pg_server_url")
        name = f"dat_imp_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        url = base.rsplit("/", 1)[0] + "/" + name
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAT_DATA_DIR", str(tmp_path_factory.mktemp("imports-data")))
        for var in ("DAT_DATABASE_URL", "DAT_LOAD_PLUGINS", "DAT_STRICT_PLUGINS"):
            mp.delenv(var, raising=False)
        from dat.cli.main import cli

        res = CliRunner().invoke(cli, ["--db", url, "partnerships", "-f", "json"], catch_exceptions=False)
        assert res.exit_code == 0, res.stderr
    state = {"url": url, "digest": db_digest(url)}
    yield state
    from dat.core.db import dispose_engines

    dispose_engines()
    if name:
        import psycopg

        with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_import(mdb, tmp_path: Path, content: str | bytes, *args: str, name: str = "f.csv"):
    from dat.cli.main import cli

    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path, CliRunner().invoke(cli, ["--db", mdb["url"], "import", str(path), *args])


def refused(mdb, tmp_path, content, fragment, line: int | None, *args, name="f.csv", code=1):
    if mdb["digest"] is None:
        mdb["digest"] = db_digest(mdb["url"])
    path, res = run_import(mdb, tmp_path, content, *args, name=name)
    err = res.stderr
    assert res.exit_code == code, (res.exit_code, err, res.output)
    assert "Traceback" not in err + res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("dat: "), err
    assert all(len(ln) <= 200 for ln in lines), max(lines, key=len)
    assert fragment in err, err
    if line is not None:
        assert f"{path}:{line}:" in err, err
    assert db_digest(mdb["url"]) == mdb["digest"]
    return err


def stored(url: str, partnership: str, indicator: str, period: str):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT o.value, o.numerator, o.denominator FROM observation o "
                "JOIN partnership p ON p.id = o.partnership_id JOIN indicator i ON i.id = o.indicator_id "
                "WHERE p.slug = :p AND i.code = :i AND o.period = :per AND o.is_current = :t"),
                {"p": partnership, "i": indicator, "per": period, "t": True}).all()
    finally:
        engine.dispose()


def accepted(mdb, tmp_path, content, where: tuple[str, str, str], expected: tuple, *args, name="f.csv"):
    _, res = run_import(mdb, tmp_path, content, *args, name=name)
    assert res.exit_code == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert stored(mdb["url"], *where) == [expected]
    mdb["digest"] = None  # taken again by the next refusal


# -- refusals: (content, fragment, line, extra args) ----------------------------------------------

R = "dudley,NTA.RET12,2007/08 Q1"   # a percentage
C = "dudley,NI40,2007/08"           # a count
REFUSALS = {
    # header
    "misspelt numerater": ("partnership,indicator,period,value,numerater\n" + R + ",5,5\n",
                           "did you mean 'numerator'?", 1),
    "unknown column": ("partnership,indicator,period,value,colour\n" + R + ",5,red\n", "unknown column", 1),
    "duplicate column": ("partnership,indicator,period,value,value\n" + R + ",5,6\n", "more than once", 1),
    "duplicate unknown-case column": ("partnership,indicator,period,value,Value\n" + R + ",5,6\n",
                                      "more than once", 1),
    "empty column name": ("partnership,indicator,,period,value\ndudley,NTA.RET12,,2007/08 Q1,5\n",
                          "has no name", 1),
    "trailing empty header": ("partnership,indicator,period,value,\n" + R + ",5,\n", "has no name", 1),
    "header only": (H, "no data rows", 1),
    "bom and misspelling": ("\ufeffpartnership,indicatr,period,value\n" + R + ",5\n",
                            "did you mean 'indicator'?", 1),
    "missing value column": ("partnership,indicator,period,note\n" + "dudley,NTA.RET12,2007/08 Q1,x\n",
                             "no 'value' column", 1),
    "5000 columns": ("partnership,indicator,period,value," + ",".join(f"c{i}" for i in range(5000)) + "\n"
                     + R + ",5\n", "the limit is 200", 1),
    "not a header at all": ("foo,bar\n1,2\n", "unrecognised header", 1),
    # fix11: a file saved with another separator says so, not "unrecognised header"
    "semicolon-separated": ("partnership;indicator;period;value\ndudley;NI40;2007/08;5\n",
                            "the file looks semicolon-separated", 1),
    "semicolon-separated, quoted, CRLF": ('"partnership";"indicator";"period";"value"\r\n'
                                          '"dudley";"NI40";"2007/08";"5"\r\n', "looks semicolon-separated", 1),
    "tab-separated": ("partnership\tindicator\tperiod\tvalue\ndudley\tNI40\t2007/08\t5\n",
                      "the file looks tab-separated", 1),
    "pipe-separated": ("partnership|indicator|period|value\ndudley|NI40|2007/08|5\n", "looks pipe-separated", 1),
    "semicolon-separated with a BOM": ("\ufeffPartnership;Indicator;Period;Value\ndudley;NI40;2007/08;5\n",
                                       "dat reads comma-separated CSV", 1),
    "semicolon-separated Fingertips": ("Indicator ID;Area Code;Time period;Value\n90244;E08000027;2009/10;5\n",
                                       "looks semicolon-separated", 1),
    # CSV structure
    "unbalanced quote swallows rows": (H + '"dudley,NTA.RET12,2007/08 Q1,5,,,\n' + R.replace("Q1", "Q2")
                                       + ',6,,,\n' + R.replace("Q1", "Q3") + ',7,,,"\n',
                                       "malformed CSV", 2),
    "quoted field over lines, wrong field count": (H + R + ',5,,,"first\nsecond",extra\n',
                                                   "runs from line 2 to 3, and the row has 8 fields", 2),
    "quoted field over lines past the line limit": (H + R + ',5,,,"' + ("x" * 9_000 + "\n") * 12 + '"\n',
                                                    "runs on for more than 100,000 characters", 2),
    "unbalanced quote at the end": (H + R + ',5,,,"never closed\n', "malformed CSV", 2),
    "NUL byte": (H + R + ",5,,,\n" + R.replace("Q1", "Q2") + ",6,,,a\x00b\n", "NUL byte", 3),
    "control character": (H + R + ",5,,,bell\x07\n", "control character", 2),
    "ragged row": (H + R + ",5,,,,extra,cells\n", "9 fields, the header has 7", 2),
    "cell over 10,000 chars": (H + R + ",5,,," + "n" * 10_001 + "\n", "longer than 10,000", 2),
    "not UTF-8": ((H + R + ",5,,,caf\xe9\n").encode("latin-1"), "not UTF-8", None),
    "empty file": ("", "the file is empty", None),
    # numbers
    "decimal comma": (H + R + ',"1,5",,,\n', "--decimal-comma", 2),
    "1.234,5 without the option": (H + R + ',"1.234,5",,,\n', "is not a number", 2),
    "1,23": (H + C + ',"1,23",,,\n', "is not a number", 2),
    "indian grouping 12,34,567": (H + C + ',"12,34,567",,,\n', "is not a number", 2),
    "1.5 with --decimal-comma": (H + R + ",1.5,,,\n", "is not a number", 2, "--decimal-comma"),
    "hex": (H + C + ",0x10,,,\n", "'0x10' is not a number", 2),
    "underscore": (H + C + ",1_000,,,\n", "'1_000' is not a number", 2),
    "arabic-indic digits": (H + C + ",١٢,,,\n", "is not a number", 2),
    "fullwidth digits": (H + C + ",１２,,,\n", "is not a number", 2),
    "NaN": (H + R + ",NaN,,,\n", "'NaN' is not a number", 2),
    "inf": (H + R + ",inf,,,\n", "'inf' is not a number", 2),
    "1e-400": (H + R + ",1e-400,,,\n", "too small", 2),
    "1e308": (H + C + ",1e308,,,\n", "too large", 2),
    "1e400": (H + C + ",1e400,,,\n", "not a finite number", 2),
    "1e16 count": (H + C + ",10000000000000000,,,\n", "too large", 2),
    "space inside": (H + C + ",1 000,,,\n", "is not a number", 2),
    "5.": (H + C + ",5.,,,\n", "is not a number", 2),
    "percent on a numerator": (H + R + ",50,5%,10,\n", "only in the value column", 2),
    # a count is whole by its text, not its float (attack 2026-12-02)
    "count 5.0000000000000001": (H + C + ",5.0000000000000001,,,\n", "'5.0000000000000001' is not a count", 2),
    "count 5. 3000 zeros 1": (H + C + ",5." + "0" * 3000 + "1,,,\n", "is not a count", 2),
    "count 5.5e0": (H + C + ",5.5e0,,,\n", "'5.5e0' is not a count", 2),
    "count 51e-1": (H + C + ",51e-1,,,\n", "'51e-1' is not a count", 2),
    "count 1,234.000001": (H + C + ',"1,234.000001",,,\n', "is not a count", 2),
    # numerators and denominators count people
    "numerator 2.5": (H + "dudley,NTA.RET12,2009/10,25,2.5,10,\n", "'2.5' is not a whole number", 2),
    "denominator 10.5": (H + "dudley,NTA.RET12,2009/10,,2,10.5,\n", "'10.5' is not a whole number", 2),
    "numerator 2.0000000000000001": (H + "dudley,NTA.RET12,2009/10,20,2.0000000000000001,10,\n",
                                     "is not a whole number", 2),
    # a count's numerator is the count
    "count with disagreeing numerator": (H + "dudley,NI40,2009/10,5,7,10,\n", "a count's numerator", 2),
    # figures that are not numbers
    "number on a rag indicator": (H + "dudley,NTA.DOMAIN.DIP,2009/10,5,,,\n", "is a rag indicator", 2),
    "0 on a rag indicator": (H + "dudley,NTA.DOMAIN.DIP,2009/10,0,,,\n", "is a rag indicator", 2),
    # a leading group never starts with 0
    "0,123": (H + C + ',"0,123",,,\n', "'0,123' is not a number", 2),
    "00,123": (H + C + ',"00,123",,,\n', "'00,123' is not a number", 2),
    "012,345": (H + C + ',"012,345",,,\n', "'012,345' is not a number", 2),
    "0.123 with --decimal-comma": (H + C + ",0.123,,,\n", "is not a number", 2, "--decimal-comma"),
    # only ASCII spaces round a number
    "NBSP round a number": (H + C + ",\u00a05\u00a0,,,\n", "non-ASCII space", 2),
    "em space round a number": (H + C + ",5\u2003,,,\n", "is not a number", 2),
    "ideographic space round a numerator": (H + R + ",50,\u30005,10,\n", "is not a number", 2),
    # RFC 4180 quotes
    "bare quote in a note": (H + C + ',5,,,a"b\n', "a quote inside an unquoted field", 2),
    "bare quote at a note's end": (H + C + ',5,,,ab"\n', "a quote inside an unquoted field", 2),
    "bare quote in a partnership": (H + 'dud"ley,NI40,2007/08,5,,,\n', "column 1: a quote", 2),
    # C1 and invisible format/bidi controls (Trojan Source)
    "C1 control NEL": (H + C + ",5,,,a\x85b\n", "control character ('\\x85')", 2),
    "C1 control CSI": (H + C + ",5,,,a\x9bb\n", "control character", 2),
    "RLO bidi override": (H + C + ",5,,,a\u202eb\n", "control character ('\\u202e')", 2),
    "LRI bidi isolate": (H + C + ",5,,,a\u2066b\u2069\n", "control character", 2),
    "RLM in an indicator": (H + "dudley,NI40\u200f,2007/08,5,,,\n", "control character", 2),
    "zero-width joiner": (H + C + ",5,,,a\u200db\n", "control character", 2),
    "BOM inside a note": (H + C + ",5,,,a\ufeffb\n", "control character", 2),
    "line separator": (H + C + ",5,,,a\u2028b\n", "control character", 2),
    # rules of the unit
    "negative count": (H + C + ",-3,,,\n", "is not a count", 2),
    "fractional count": (H + C + ",2.5,,,\n", "is not a count", 2),
    "negative numerator": (H + R + ",,-1,10,\n", "numerator is 0 or more", 2),
    "zero denominator": (H + R + ",,0,0,\n", "must be positive", 2),
    "numerator over denominator": (H + R + ",,11,10,\n", "larger than the denominator", 2),
    "12% on a count": (H + C + ",12%,,,\n", "a % sign on a count indicator", 2),
    "£ on a percentage": (H + R + ",£5,,,\n", "a £ sign on a percent indicator", 2),
    "percentage over 100": (H + R + ",101,,,\n", "is not a percentage", 2),
    "negative percentage": (H + R + ",-0.5,,,\n", "is not a percentage", 2),
    "90 with 1/10": (H + R + ",90,1,10,\n", "does not match numerator/denominator", 2),
    "33.4 with 1/3": (H + R + ",33.4,1,3,\n", "does not match", 2),
    "rate 6 with 5/1000 per 1000": (H + "dudley,NI16,2007/08,6,5,1000,\n", "does not match", 2),
    "negative rate": (H + "dudley,NI16,2007/08,-1,,,\n", "is negative", 2),
    # periods
    "future 2099/00": (H + "dudley,NTA.RET12,2099/00,5,,,\n", "--allow-future", 2),
    "Q5": (H + "dudley,NTA.RET12,2007/08 Q5,5,,,\n", "quarters are Q1-Q4", 2),
    "2007/09": (H + "dudley,NTA.RET12,2007/09,5,,,\n", "second year must follow", 2),
    "far past 1066/67": (H + "dudley,NTA.RET12,1066/67,5,,,\n", "out of range", 2),
    "very long period text": (H + "dudley,NTA.RET12," + "Q" * 5000 + ",5,,,\n", "is not a period", 2),
    # duplicates
    "-1 and -2 duplicates": (H + "bromley,bromley.dip_triage_6wk_change,2008/09 Q1,-1,,,\n"
                             "bromley,bromley.dip_triage_6wk_change,2008/09 Q1,-2,,,\n",
                             "duplicate of line 2 with a different value", 3),
    "duplicate through another period spelling": (H + R + ",5,,,\ndudley,NTA.RET12,Q1 2007-08,6,,,\n",
                                                  "duplicate of line 2", 3),
    # names
    "unicode partnership": (H + "düdley,NTA.RET12,2007/08 Q1,5,,,\n", "unknown partnership 'düdley'", 2),
    "zero-width space": (H + "dud\u200bley,NTA.RET12,2007/08 Q1,5,,,\n", "control character ('\\u200b')", 2),
    "fullwidth indicator": (H + "dudley,NTA.RET１２,2007/08 Q1,5,,,\n", "unknown indicator", 2),
    "5000-char partnership": (H + "d" * 5000 + ",NTA.RET12,2007/08 Q1,5,,,\n", "…", 2),
    "line break in a quoted value": (H + 'dudley,NTA.RET12,2007/08 Q1,"40\n",,,\n',
                                     "(a line break inside the cell)", 2),
    # r4 F1: the text, not the float, decides the 0-100 bound
    "percentage a hair over 100": (H + "dudley,NTA.RET12,2007/08 Q1,100.00000000000000001,,,\n",
                                   "100.00000000000000001 is not a percentage (0-100)", 2),
    # r4 F2: a period in ASCII digits and spaces only, as a number
    "arabic-indic period": (H + "dudley,NTA.RET12,\u0662\u0660\u0661\u0660/\u0661\u0661,40,,,\n", "is not a period", 2),
    "fullwidth period": (H + "dudley,NTA.RET12,\uff12\uff10\uff11\uff10/11,40,,,\n", "is not a period", 2),
    "no-break space in a period": (H + "dudley,NTA.RET12,2010/11\u00a0Q1,40,,,\n", "is not a period", 2),
    # r5 F01: a count is its own numerator, so at most its denominator with the column empty too
    "count over its denominator, numerator empty": (H + "dudley,NI40,2007/08,12,,10,\n",
                                                    "12 is larger than the denominator 10", 2),
    # r4 I8: which of the two differs
    "duplicate with another note": (H + "dudley,NTA.RET12,2007/08 Q1,40,,,a\ndudley,NTA.RET12,2007/08 Q1,40,,,b\n",
                                    "duplicate of line 2 with a different note", 3),
    # r4 I3: Python's csv advice is not the officer's
    "lone CR inside a CRLF file": (H.replace("\n", "\r\n") + "dudley,NTA.RET12,2007/08 Q1,4\r0,,,\r\n",
                                   "a carriage return (CR) inside an unquoted field", None),
    # Fingertips
    "fingertips misspelt Count": ("Indicator ID,Area Code,Time period,Value,Cuont,Denominator\n"
                                  "90244,E08000027,2009/10,5,1,20\n", "did you mean 'Count'?", 1),
    "fingertips missing Area Code": ("Indicator ID,Area Name,Time period,Value\n90244,Dudley,2009/10,5\n",
                                     "no 'Area Code' column", 1),
}


#: refused while the file is read, before any row meets the database: the reading does not
#: depend on the backend, so these run on SQLite only (the row rules run on both)
READ_ONLY = {name for name, (_c, _f, line, *_a) in REFUSALS.items() if line in (1, None)} | {
    "unbalanced quote swallows rows", "quoted note over a line end", "unbalanced quote at the end",
    "NUL byte", "control character", "cell over 10,000 chars", "zero-width space", "bare quote in a note",
    "bare quote at a note's end", "bare quote in a partnership", "C1 control NEL", "C1 control CSI",
    "RLO bidi override", "LRI bidi isolate", "RLM in an indicator", "zero-width joiner", "BOM inside a note",
    "line separator", "lone CR inside a CRLF file"}


def sqlite_only(mdb) -> None:
    if not mdb["url"].startswith("sqlite"):
        pytest.skip("reading only: the same on every backend, run on SQLite")


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused(case, mdb, tmp_path):
    if case in READ_ONLY:
        sqlite_only(mdb)
    content, fragment, line, *args = REFUSALS[case]
    refused(mdb, tmp_path, content, fragment, line, *args)


def test_fingertips_rules(mdb, tmp_path):
    (tmp_path / "map.toml").write_text('[areas]\n"E08000027" = "dudley"\n[indicators]\n"90244" = "NTA.RET12"\n')
    head = ("Indicator ID,Area Code,Area Name,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
            "Count,Denominator,Sex\n")
    m = ("--mapping", str(tmp_path / "map.toml"))
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,2009/10,5,,,-1,20,Persons\n",
            "numerator is 0 or more", 2, *m)
    refused(mdb, tmp_path, head + 'E08000027,90244,Dudley,2009/10,"1,5",,,1,20,Persons\n', "", 2, *m)
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,2009/10,5,9,3,1,20,Persons\n", "above the upper limit", 2, *m)
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,2009/10,12%x,,,1,20,Persons\n", "is not a number", 2, *m)
    # the value lies within its interval (ends included)
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,2009/10,50,1,3,10,20,Persons\n",
            "50 is outside its confidence interval 1 to 3", 2, *m)
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,2009/10,0.5,1,3,1,200,Persons\n",
            "outside its confidence interval", 2, *m)
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,2009/10,5,1,3,1.5,20,Persons\n",
            "'1.5' is not a whole number", 2, *m)
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,2009/10,5,1,9,1,20.5,Persons\n",
            "'20.5' is not a whole number", 2, *m)
    accepted(mdb, tmp_path, head + "90244,E08000027,Dudley,1995/96,5,1,9,1,20,Persons\n",
             ("dudley", "NTA.RET12", "1995/96"), (5.0, 1.0, 20.0), *m)


def test_every_unit_has_an_import_rule():
    from dat.core.importer import UNIT_RULES
    from dat.core.specs import UNITS

    assert set(UNIT_RULES) == set(UNITS)


# -- spreadsheets ----------------------------------------------------------------------------------

def _zip(path: Path, members: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return path.read_bytes()


def test_zip_bomb_named_xlsx_is_refused_from_the_directory(mdb, tmp_path):
    bomb = _zip(tmp_path / "b.zip", {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>",
                                     "xl/worksheets/sheet1.xml": b"\0" * (120 * 2**20)})
    assert len(bomb) < 2**20
    t = time.perf_counter()
    err = refused(mdb, tmp_path, bomb, "MAX_XLSX_UNCOMPRESSED", None, name="bomb.xlsx")
    assert time.perf_counter() - t < 5
    assert "unpacks to 120 MiB" in err


def test_high_ratio_member_is_refused(mdb, tmp_path):
    sqlite_only(mdb)
    data = _zip(tmp_path / "r.zip", {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>",
                                     "xl/worksheets/sheet1.xml": b"a" * (30 * 2**20)})
    refused(mdb, tmp_path, data, "MAX_XLSX_RATIO", None, name="ratio.xlsx")


def test_xlsx_that_is_not_a_zip_or_not_a_workbook_or_encrypted(mdb, tmp_path):
    sqlite_only(mdb)
    refused(mdb, tmp_path, b"partnership,indicator\n", "not a readable .xlsx workbook", None, name="text.xlsx")
    data = _zip(tmp_path / "z.zip", {"readme.txt": b"hello"})
    refused(mdb, tmp_path, data, "without xl/workbook.xml", None, name="plain.xlsx")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000
    refused(mdb, tmp_path, ole, "encrypted (password-protected)", None, name="secret.xlsx")
    many = _zip(tmp_path / "m.zip", {f"f{i}": b"" for i in range(1001)})
    refused(mdb, tmp_path, many, "MAX_XLSX_MEMBERS", None, name="many.xlsx")
    refused(mdb, tmp_path, b"PK\x03\x04" + b"\0" * 100, "not a zip file", None, name="trunc.xlsx")


def test_xlsx_float_noise_on_a_count_is_the_whole_number(mdb, tmp_path):
    """A spreadsheet float within XLSX_WHOLE_TOLERANCE of a whole number is that number for a
    count, a numerator and a denominator (binary noise from a formula)."""
    sqlite_only(mdb)
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["partnership", "indicator", "period", "value", "numerator", "denominator", "note"])
    ws.append(["dudley", "NI40", "1989/90", 5.000000000000001, 4.999999999999999, 10.000000000000002])
    wb.save(tmp_path / "w.xlsx")
    from dat.cli.main import cli

    res = CliRunner().invoke(cli, ["--db", mdb["url"], "import", str(tmp_path / "w.xlsx")])
    assert res.exit_code == 0, res.stderr
    assert stored(mdb["url"], "dudley", "NI40", "1989/90") == [(5.0, 5.0, 10.0)]
    mdb["digest"] = None


def test_xlsx_rules_are_the_csv_rules(mdb, tmp_path):
    sqlite_only(mdb)
    openpyxl = pytest.importorskip("openpyxl")
    for row, fragment, line in (
        (["partnership", "indicator", "period", "valeu"], "did you mean 'value'?", 1),
        (["dudley", "NI40", "2007/08", -4], "is not a count", 2),
        (["dudley", "NI40", "2007/08", "1,5"], "--decimal-comma", 2),
        (["dudley", "NI40", "2007/08", 5, None, None, "x" * 10_001], "longer than 10,000", 2),
        # a fraction shows its exact value
        (["dudley", "NI40", "2007/08", 5.001], "'5.001' is not a count", 2),
        (["dudley", "NI40", "2007/08", 5.00000001], "'5.00000001' is not a count", 2),
        (["dudley", "NTA.RET12", "2007/08", 25, 2.5, 10], "'2.5' is not a whole number", 2),
        # a date is not a period, and the message says what to write
        (["dudley", "NI40", datetime(2009, 3, 31), 5], "a date (2009-03-31), not a period", 2),
        (["dudley", "NI40", date(2009, 7, 1), 5], "such as 2009/10 Q2", 2),
        # C1 and bidi controls in a cell
        (["dudley", "NI40", "2007/08", 5, None, None, "a\x85b"], "has a control character", 2),
        (["dudley", "NI40", "2007/08", 5, None, None, "a\u202eb"], "has a control character", 2),
        (["dudley", "NTA.DOMAIN.DIP", "2007/08", 5], "is a rag indicator", 2),
    ):
        wb = openpyxl.Workbook()
        ws = wb.active
        if line == 2:
            ws.append(["partnership", "indicator", "period", "value", "numerator", "denominator", "note"])
        ws.append(row)
        if line == 1:
            ws.append(["dudley", "NI40", "2007/08", 5])
        wb.save(tmp_path / "w.xlsx")
        refused(mdb, tmp_path, (tmp_path / "w.xlsx").read_bytes(), fragment, line, name="sheet.xlsx")


# -- limits that must hold without reading the whole file ------------------------------------------

def test_a_50_mb_line_is_refused_quickly_in_little_memory(mdb, tmp_path):
    sqlite_only(mdb)
    path = tmp_path / "long.csv"
    with path.open("w") as fh:
        fh.write(H)
        fh.write("x" * (50 * 2**20) + "\n")
    from dat.core.readers import ImportRefused, stream_rows

    tracemalloc.start()
    t = time.perf_counter()
    with pytest.raises(ImportRefused) as exc:
        _fmt, rows, _rej, _n = stream_rows(path)
        list(rows)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert f"{path}:2: the line is longer than 100,000 characters" == str(exc.value)
    assert elapsed < 2 and peak < 8 * 2**20, (elapsed, peak)
    refused(mdb, tmp_path, path.read_bytes(), "longer than 100,000 characters", 2, name="long.csv")


# -- acceptances: the exact value stored -----------------------------------------------------------

def test_accepted_values(mdb, tmp_path):
    A = "dudley,NTA.RET12"
    cases = [
        (H + f"{A},1995/96 Q1,\" 12 \",,,\n", ("dudley", "NTA.RET12", "1995/96 Q1"), (12.0, None, None)),
        (H + f"{A},1995/96 Q2,+5,,,\n", ("dudley", "NTA.RET12", "1995/96 Q2"), (5.0, None, None)),
        (H + f"{A},1995/96 Q3,-0,,,\n", ("dudley", "NTA.RET12", "1995/96 Q3"), (0.0, None, None)),
        (H + f"{A},1995/96 Q4,12%,,,\n", ("dudley", "NTA.RET12", "1995/96 Q4"), (12.0, None, None)),
        (H + f"{A},1996/97 Q1,10,1,10,\n", ("dudley", "NTA.RET12", "1996/97 Q1"), (10.0, 1.0, 10.0)),
        (H + f"{A},1996/97 Q2,33.3,1,3,\n", ("dudley", "NTA.RET12", "1996/97 Q2"), (33.3, 1.0, 3.0)),
        (H + f"{A},1996/97 Q3,33,1,3,\n", ("dudley", "NTA.RET12", "1996/97 Q3"), (33.0, 1.0, 3.0)),
        (H + "dudley,NI40,1996/97,\"1,234,567\",,,\n", ("dudley", "NI40", "1996/97"), (1234567.0, None, None)),
        (H + "dudley,NI16,1997/98,5,5,1000,\n", ("dudley", "NI16", "1997/98"), (5.0, 5.0, 1000.0)),
        (H + "bromley,bromley.funding_total_stated,1997/98,\"£1,200.50\",,,\n",
         ("bromley", "bromley.funding_total_stated", "1997/98"), (1200.5, None, None)),
        (H + "bromley,bromley.dip_triage_6wk_change,1997/98,-2.5,,,\n",
         ("bromley", "bromley.dip_triage_6wk_change", "1997/98"), (-2.5, None, None)),
        (" Partnership , INDICATOR ,Period,Value\n" + f"{A},1998/99 Q1,7\n",
         ("dudley", "NTA.RET12", "1998/99 Q1"), (7.0, None, None)),
        (H + f"{A},1998/99 Q2,8,,,same\n{A},1998/99 Q2,8,,,same\n",
         ("dudley", "NTA.RET12", "1998/99 Q2"), (8.0, None, None)),
        (H + f"{A},1998/99 Q3,4.25E1,,,\n", ("dudley", "NTA.RET12", "1998/99 Q3"), (42.5, None, None)),
        # whole by the text: 5.00, 1.5e1, 50e-1 and "1,234.0" are counts; a count's numerator is the value
        (H + "dudley,NI40,1990/91,5.00,,,\n", ("dudley", "NI40", "1990/91"), (5.0, None, None)),
        (H + "dudley,NI40,1991/92,1.5e1,,,\n", ("dudley", "NI40", "1991/92"), (15.0, None, None)),
        (H + "dudley,NI40,1992/93,50e-1,,,\n", ("dudley", "NI40", "1992/93"), (5.0, None, None)),
        (H + "dudley,NI40,1993/94,\"1,234.0\",,,\n", ("dudley", "NI40", "1993/94"), (1234.0, None, None)),
        (H + "dudley,NI40,1994/95,5,5,10,\n", ("dudley", "NI40", "1994/95"), (5.0, 5.0, 10.0)),
        (H + f"{A},1990/91 Q1,\t12 ,,,\n", ("dudley", "NTA.RET12", "1990/91 Q1"), (12.0, None, None)),
        (H + f"{A},1990/91 Q2,50,5.0,10,\"a \"\"quoted\"\" word\"\n", ("dudley", "NTA.RET12", "1990/91 Q2"),
         (50.0, 5.0, 10.0)),
        (H + "dudley,NI40,1990/91 Q3,\"10,123\",,,\n", ("dudley", "NI40", "1990/91 Q3"), (10123.0, None, None)),
    ]
    for content, where, expected in cases:
        accepted(mdb, tmp_path, content, where, expected)
    accepted(mdb, tmp_path, H + f"{A},1999/00 Q1,\"1,5\",,,\n", ("dudley", "NTA.RET12", "1999/00 Q1"),
             (1.5, None, None), "--decimal-comma")
    accepted(mdb, tmp_path, H + "bromley,bromley.funding_total_stated,1999/00,\"1.234,5\",,,\n",
             ("bromley", "bromley.funding_total_stated", "1999/00"), (1234.5, None, None), "--decimal-comma")
    accepted(mdb, tmp_path, H + f"{A},2099/00,5,,,\n", ("dudley", "NTA.RET12", "2099/00"),
             (5.0, None, None), "--allow-future")


# -- the number parser --------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.decimals(min_value=-10**12, max_value=10**12, places=3, allow_nan=False, allow_infinity=False),
       st.integers(0, 3), st.booleans())
def test_formatted_numbers_round_trip(d, places, grouped):
    from dat.core.readers import parse_number

    x = float(d)
    text = f"{x:,.{places}f}" if grouped else f"{x:.{places}f}"
    value, decimals, mark = parse_number(text)
    assert value == float(text.replace(",", "")) and mark == "" and decimals == places
    comma = text.replace(",", "#").replace(".", ",").replace("#", ".")
    assert parse_number(comma, decimal_comma=True)[0] == value


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**12), st.integers(0, 20), st.sampled_from([",", ",,", " ,", ", "]))
def test_a_stray_comma_never_reads_as_another_number(n, where, comma):
    from dat.core.readers import NumberError, parse_number

    text = f"{n:,}"
    pos = where % (len(text) + 1)
    mangled = text[:pos] + comma + text[pos:]
    try:
        value = parse_number(mangled)[0]
    except NumberError:
        return
    assert value == n, (mangled, value)


# -- attack 2026-12-07 (docs/decisions.md, "imports read what the user sees") -------------------

def _xlsx(tmp_path: Path, rows: list[list], *, name: str = "w.xlsx", setup=None) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if setup is not None:
        setup(wb, ws)
    wb.save(tmp_path / name)
    return (tmp_path / name).read_bytes()


HX = ["partnership", "indicator", "period", "value", "numerator", "denominator", "note"]


def test_an_empty_value_is_worked_out_from_numerator_and_denominator_and_exported(mdb, tmp_path):
    """Findings 1 and 2: with both numerator and denominator the value is worked out and
    stored; with less the row is refused; whatever is stored comes out of dat export and
    imports back unchanged."""
    accepted(mdb, tmp_path, H + "bromley,NTA.RET12,1970/71 Q1,,3,10,\n", ("bromley", "NTA.RET12", "1970/71 Q1"),
             (30.0, 3.0, 10.0))
    accepted(mdb, tmp_path, H + "bromley,NTA.RET12,1970/71 Q2,,1,3,\n", ("bromley", "NTA.RET12", "1970/71 Q2"),
             (100 * 1 / 3, 1.0, 3.0))
    accepted(mdb, tmp_path, H + "dudley,NI40,1970/71,,5,10,\n", ("dudley", "NI40", "1970/71"), (5.0, 5.0, 10.0))
    accepted(mdb, tmp_path, H + "dudley,NI16,1970/71,,5,1000,\n", ("dudley", "NI16", "1970/71"),
             (5.0, 5.0, 1000.0))
    for row in ("dudley,NTA.RET12,1971/72 Q2,,7,,numonly", "dudley,NTA.RET12,1971/72 Q2,,,10,",
                "dudley,NI40,1971/72,,5,,"):
        refused(mdb, tmp_path, H + row + "\n", "value: no value: give a value, or both numerator and denominator", 2)
    refused(mdb, tmp_path, H + "bromley,bromley.funding_total_stated,1971/72,,5,10,\n",
            "no value: a gbp value is not worked out", 2)
    from dat.cli.main import cli

    res = CliRunner().invoke(cli, ["--db", mdb["url"], "export", "-p", "bromley", "-i", "NTA.RET12"])
    assert res.exit_code == 0, res.stderr
    assert "bromley,NTA.RET12,1970/71 Q1,30,3,10," in res.stdout
    assert "bromley,NTA.RET12,1970/71 Q2,33.333333333333336,1,3," in res.stdout
    _, again = run_import(mdb, tmp_path, res.stdout, name="export.csv")
    assert again.exit_code == 0 and "added 0, changed 0" in again.stderr, (again.stderr, res.stdout)


def test_a_formula_with_no_saved_result_is_refused_in_any_column(mdb, tmp_path):
    """Findings 3 and 4 (openpyxl saves formulas without results)."""
    sqlite_only(mdb)
    for row, column in ((["dudley", "NTA.RET12", "1961/62", "=100*E2/F2", 3, 10], "value"),
                        (["dudley", "NI40", "1961/62", "=2+3"], "value"),
                        (["dudley", "NI40", "1961/62", 5, None, None, "=A1&B1"], "note"),
                        (["dudley", "NTA.RET12", "1961/62", 30, "=1+2", 10], "numerator")):
        data = _xlsx(tmp_path, [HX, row])
        err = refused(mdb, tmp_path, data, f"2: {column}: a formula with no saved result; open and save the file "
                                           "in a spreadsheet program, or paste values", 2, name="f.xlsx")
        assert err.count("rejected:") == 1


def _hidden_first(wb, ws):
    ws.title, ws.sheet_state = "old", "hidden"
    wb.create_sheet("current")
    wb.active = 1
    return wb["current"]


def _active_hidden(wb, ws):
    ws.title = "visible"
    wb.create_sheet("secret").sheet_state = "veryHidden"
    wb.active = 1
    return wb["secret"]


@pytest.mark.parametrize("setup, period, sheet", [(_hidden_first, "1962/63", "current"),
                                                  (_active_hidden, "1963/64", "visible")],
                         ids=["hidden first sheet", "active sheet very hidden"])
def test_the_active_visible_sheet_is_read_and_named(mdb, tmp_path, setup, period, sheet):
    """Finding 5: a hidden sheet is never read; the summary names the sheet read."""
    def build(wb, ws):
        other = setup(wb, ws)
        for row in (HX, ["dudley", "NTA.RET12", period, 10 if sheet == "current" else 99]):
            other.append(row)

    data = _xlsx(tmp_path, [HX, ["dudley", "NTA.RET12", period, 99 if sheet == "current" else 10]], setup=build)
    _, res = run_import(mdb, tmp_path, data, name="h.xlsx")
    assert res.exit_code == 0 and f"sheet '{sheet}'" in res.stderr, res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", period) == [(10.0, None, None)]
    mdb["digest"] = None


def test_a_percentage_formatted_cell_is_the_percentage_it_shows(mdb, tmp_path):
    """Finding 6: 0.123 shown as 12.3% is 12.3 (exactly) for a percentage; refused elsewhere;
    a % in quotes in the format is a literal, not a percentage format."""
    def fmt(code):
        def setup(wb, ws):
            ws["D2"].number_format = code
        return setup

    for period, cell, code, expected in (("1964/65 Q1", 0.123, "0.0%", 12.3), ("1964/65 Q2", 0.5, "0%", 50.0),
                                         ("1964/65 Q3", 1, "0%", 100.0), ("1964/65 Q4", 50, '0"%"', 50.0),
                                         ("1965/66 Q1", 0.3, "0.0%", 30.0)):
        data = _xlsx(tmp_path, [HX, ["dudley", "NTA.RET12", period, cell, 3 if period == "1965/66 Q1" else None,
                                     10 if period == "1965/66 Q1" else None]], setup=fmt(code))
        _, res = run_import(mdb, tmp_path, data, name="p.xlsx")
        assert res.exit_code == 0, res.stderr
        got = stored(mdb["url"], "dudley", "NTA.RET12", period)
        assert got[0][0] == expected, (period, got)
        mdb["digest"] = None
    data = _xlsx(tmp_path, [HX, ["dudley", "NI40", "1964/65", 0.5]], setup=fmt("0%"))
    refused(mdb, tmp_path, data, "value: a % sign on a count indicator", 2, name="p.xlsx")


@settings(max_examples=100, deadline=None)
@given(st.decimals(min_value=0, max_value=1, places=6, allow_nan=False, allow_infinity=False))
def test_percentage_format_scales_exactly(d):
    from decimal import Decimal

    from dat.core.readers import _cell, parse_number

    x = float(d)
    value, _decimals, mark = parse_number(_cell(x, percent=True))
    assert mark == "%" and value == float(Decimal(repr(x)) * 100)


@pytest.mark.parametrize("where", ["GR1048576", "G1048576", "KN1", "XFD1"])
def test_a_stray_formatted_cell_costs_nothing(mdb, tmp_path, where):
    """Findings 7, 8 and 11: an empty, formatted cell far away neither allocates the grid up
    to it nor counts as a column or a row."""
    sqlite_only(mdb)
    openpyxl = pytest.importorskip("openpyxl")

    def stray(wb, ws):
        ws[where].font = openpyxl.styles.Font(bold=True)

    data = _xlsx(tmp_path, [HX, ["dudley", "NTA.RET12", "1966/67 Q1", 5]], setup=stray)
    assert len(data) < 10_000
    from dat.core.readers import read_rows

    (tmp_path / "s.xlsx").write_bytes(data)
    tracemalloc.start()
    t = time.perf_counter()
    _fmt, rows, rejects, count = read_rows(tmp_path / "s.xlsx")
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (len(rows), rejects, count) == (1, [], 1)
    assert elapsed < 3 and peak < 200 * 2**20, (elapsed, peak)


def test_an_xlsx_with_an_empty_first_row_says_so(mdb, tmp_path):
    """Finding 15."""
    sqlite_only(mdb)
    data = _xlsx(tmp_path, [[], HX, ["dudley", "NI40", "2007/08", 5]],
                 setup=lambda wb, ws: ws.insert_rows(1))
    refused(mdb, tmp_path, data, "row 1 is empty: the header must be in the first row", 1, name="e.xlsx")


@pytest.mark.parametrize("content, line, fragment", [
    ((H + "dudley,NI40,2007/08,5,,,\ndudley,NI40,2008/09,5,,,caf\xe9\n").encode("latin-1"), 3, "b'\\xe9'"),
    ((H.replace("note", "n\xf6te")).encode("latin-1") + b"dudley,NI40,2007/08,5,,,\n", 1, "b'\\xf6'"),
    ((H + "dudley,NI40,2007/08,5,,,\n" * 2000 + "dudley,NI40,2008/09,5,,,caf\xe9\n").encode("latin-1"),
     2002, "b'\\xe9'"),
    ((H + "dudley,NI40,2007/08,5,,,\n").encode("utf-16"), 1, "UTF-16"),
], ids=["line 3", "header", "line 2002", "utf-16 bom"])
def test_not_utf8_names_the_line(mdb, tmp_path, content, line, fragment):
    """Finding 14: the real line, in the file:line: form."""
    sqlite_only(mdb)
    err = refused(mdb, tmp_path, content, "not UTF-8 text", line)
    assert fragment in err


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=0x2000, blacklist_characters='",'
                                      "\u061c\u180e\x7f" + "".join(map(chr, range(0x80, 0xa0)))),
                        max_size=30), min_size=1, max_size=400), st.integers(0, 10**6))
def test_a_bad_byte_is_reported_on_its_own_line(notes, pick):
    import tempfile

    from dat.core.readers import ImportRefused, read_rows

    k = pick % len(notes)
    body = b"".join(f"dudley,NI40,2007/08,5,,,{n}\n".encode() if i != k else b"dudley,NI40,2007/08,5,,,\xff\n"
                    for i, n in enumerate(notes))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.csv"
        path.write_bytes(H.encode() + body)
        with pytest.raises(ImportRefused) as exc:
            read_rows(path)
    assert str(exc.value).startswith(f"{path}:{k + 2}: not UTF-8 text"), str(exc.value)


def test_a_number_in_a_message_is_as_written(mdb, tmp_path):
    """Finding 16: never rounded by a format."""
    refused(mdb, tmp_path, H + "dudley,NTA.RET12,1979/80,100.0000001,,,\n",
            "value: 100.0000001 is not a percentage (0-100)", 2)
    refused(mdb, tmp_path, H + "dudley,NTA.RET12,1979/80,10.00001,1,10,\n",
            "value: 10.00001 does not match numerator/denominator: 100 x 1 / 10", 2)


def test_pipes_and_stdin_are_read_once(mdb, tmp_path):
    """Findings 9 and 10: a FIFO, a process substitution (a pipe) and - are read once."""
    import threading

    from dat.cli.main import cli

    content = H + "dudley,NTA.RET12,1967/68 Q1,5,,,\n"
    fifo = tmp_path / "ff.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(content))
    writer.start()
    res = CliRunner().invoke(cli, ["--db", mdb["url"], "import", str(fifo)])
    writer.join(5)
    assert res.exit_code == 0 and "1 rows" in res.stderr, res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1967/68 Q1") == [(5.0, None, None)]
    r, w = os.pipe()
    feeder = threading.Thread(target=lambda: (os.write(w, (H + "dudley,NTA.RET12,1967/68 Q2,6,,,\n").encode()),
                                              os.close(w)))
    feeder.start()
    res = CliRunner().invoke(cli, ["--db", mdb["url"], "import", f"/dev/fd/{r}"])
    feeder.join(5)
    os.close(r)
    assert res.exit_code == 0, res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1967/68 Q2") == [(6.0, None, None)]
    res = CliRunner().invoke(cli, ["--db", mdb["url"], "import", "-"],
                             input=H + "dudley,NTA.RET12,1967/68 Q3,7,,,\n")
    assert res.exit_code == 0, res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1967/68 Q3") == [(7.0, None, None)]
    mdb["digest"] = None
    # the limits hold on a pipe: a 50 MB line is refused after reading at most one line's worth
    refused_pipe = CliRunner().invoke(cli, ["--db", mdb["url"], "import", "-"], input=H + "x" * (50 * 2**20) + "\n")
    assert refused_pipe.exit_code == 1 and "-:2: the line is longer than 100,000" in refused_pipe.stderr


def test_fingertips_breakdowns_are_counted_not_stored(mdb, tmp_path):
    """Finding 12: only the Persons, all-ages, no-category row is the area's figure."""
    (tmp_path / "map.toml").write_text('[areas]\n"E08000027" = "dudley"\n[indicators]\n"90244" = "NTA.RET12"\n')
    head = ("Indicator ID,Area Code,Area Name,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
            "Count,Denominator,Sex,Age,Category Type,Category\n")
    rows = ("90244,E08000027,Dudley,1930/31,50,,,5,10,Persons,All ages,,\n"
            "90244,E08000027,Dudley,1930/31,80,,,8,10,Female,All ages,,\n"
            "90244,E08000027,Dudley,1930/31,40,,,4,10,Persons,65+ yrs,,\n"
            "90244,E08000027,Dudley,1930/31,70,,,7,10,Persons,All ages,Deprivation decile,Most deprived\n")
    _, res = run_import(mdb, tmp_path, head + rows, "--mapping", str(tmp_path / "map.toml"))
    assert res.exit_code == 0, res.stderr
    assert ("3 breakdown rows not imported: dat stores the Persons, no-category figure at each "
            "indicator's own age") in res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1930/31") == [(50.0, 5.0, 10.0)]
    mdb["digest"] = None
    # a Fingertips percentage agrees with Count/Denominator, as in dat's own format
    refused(mdb, tmp_path, head + "90244,E08000027,Dudley,1933/34,90,,,1,10,Persons,All ages,,\n",
            "value: 90 does not match numerator/denominator: 100 x 1 / 10 = 10", 2,
            "--mapping", str(tmp_path / "map.toml"))


def test_is_headline_is_the_one_rule():
    from dat.core.readers import is_headline

    def row(**cells):
        return lambda c: cells.get(c.replace(" ", "_"), "")

    assert is_headline(row()) and is_headline(row(Sex="Persons", Age="All ages"))
    assert not is_headline(row(Sex="Male")) and not is_headline(row(Age="18-24 yrs"))
    assert not is_headline(row(Category_Type="Ethnic groups")) and not is_headline(row(Category="White"))
    # with the file's ages: each indicator's first Persons, no-category age is its headline age
    ages: dict[str, str] = {}
    assert is_headline(row(Indicator_ID="90244", Sex="Persons", Age="18+ yrs"), ages)
    assert is_headline(row(Indicator_ID="90244", Sex="Persons", Age="18+ yrs"), ages)
    assert not is_headline(row(Indicator_ID="90244", Sex="Persons", Age="18-24 yrs"), ages)
    assert is_headline(row(Indicator_ID="92432", Sex="Persons", Age="All ages"), ages)
    assert not is_headline(row(Indicator_ID="92432", Sex="Male", Age="All ages"), ages)


def test_fingertips_headline_at_the_indicators_own_age(mdb, tmp_path):
    """A real download: drug-treatment indicators are published for "18+ yrs", not "All ages"."""
    (tmp_path / "map.toml").write_text('[areas]\n"E08000027" = "dudley"\n[indicators]\n"90244" = "NTA.RET12"\n')
    head = ("Indicator ID,Area Code,Area Name,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
            "Count,Denominator,Sex,Age,Category Type,Category\n")
    rows = ("90244,E08000027,Dudley,1931/32,60,,,6,10,Persons,18+ yrs,,\n"
            "90244,E08000027,Dudley,1931/32,30,,,3,10,Persons,18-24 yrs,,\n"
            "90244,E08000027,Dudley,1931/32,90,,,9,10,Male,18+ yrs,,\n")
    _, res = run_import(mdb, tmp_path, head + rows, "--mapping", str(tmp_path / "map.toml"))
    assert res.exit_code == 0, res.stderr
    assert "2 breakdown rows not imported" in res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1931/32") == [(60.0, 6.0, 10.0)]
    mdb["digest"] = None


# -- round 2: what an .xlsx's XML holds goes through dat's rules, not openpyxl's leniency ----------

def _xrow(n: int, value_cell: str, *extra: str, partnership: str = "dudley", indicator: str = "NTA.RET12",
          period: str = "1960/61 Q1") -> str:
    """Raw XML of data row ``n``: partnership, indicator and period as text, then
    ``value_cell`` (``REF`` stands for D<n>) and any extra cells."""
    return (f'<row r="{n}">{xlsx_inline(f"A{n}", partnership)}{xlsx_inline(f"B{n}", indicator)}'
            f'{xlsx_inline(f"C{n}", period)}{value_cell.replace("REF", f"D{n}")}{"".join(extra)}</row>')


_DATE_STYLE = xlsx_styles([], [0, 14])  # style 1: a date format
XLSX_REFUSALS = {
    # E1/I5: the raw <v> text is a number by the CSV rule, or the cell is refused naming it
    "underscore": ([_xrow(2, '<c r="REF"><v>1_0</v></c>')], {}, "value: '1_0' is not a number", 2),
    "arabic-indic digits": ([_xrow(2, '<c r="REF"><v>\u0664\u0660</v></c>')], {}, "is not a number", 2),
    "NaN": ([_xrow(2, '<c r="REF"><v>NaN</v></c>')], {}, "value: 'NaN' is not a number", 2),
    "hex": ([_xrow(2, '<c r="REF"><v>0x28</v></c>')], {}, "value: '0x28' is not a number", 2),
    "-inf": ([_xrow(2, '<c r="REF"><v>-inf</v></c>')], {}, "value: '-inf' is not a number", 2),
    "1e999": ([_xrow(2, '<c r="REF"><v>1e999</v></c>')], {}, "value: '1e999' is not a finite number", 2),
    "fractional shared-string index": ([_xrow(2, '<c r="REF" t="s"><v>0.9</v></c>')], {"sst": ["40"]},
                                       "value: '0.9' is not a shared-string index", 2),
    "boolean 2": ([_xrow(2, '<c r="REF"><v>40</v></c>', '<c r="G2" t="b"><v>2</v></c>')], {},
                  "note: '2' is not a boolean", 2),
    # r3 F2: shared strings are read by dat: openpyxl's reader deleted every "x005F_"
    "x005F_ in a shared-string value": ([_xrow(2, '<c r="REF" t="s"><v>0</v></c>')], {"sst": ["4x005F_0"]},
                                        "value: '4x005F_0' is not a number", 2),
    "x005F_ in a shared-string period": (
        [_xrow(2, '<c r="REF"><v>40</v></c>').replace(xlsx_inline("C2", "1960/61 Q1"), '<c r="C2" t="s"><v>0</v></c>')],
        {"sst": ["1960/x005F_61 Q1"]}, "period: '1960/x005F_61 Q1' is not a period", 2),
    # r3 I1: Python's int() stops at 4,300 digits: dat's message, naming the column
    "5,000 digits": ([_xrow(2, '<c r="REF"><v>' + "1" * 5000 + "</v></c>")], {},
                     "is not a number (more than 4,300 digits)", 2),
    "5,000 zeros then 40": ([_xrow(2, '<c r="REF"><v>' + "0" * 5000 + "40</v></c>")], {},
                            "value: '0000", 2),
    # E2: a cell twice, or in another row
    "cell twice in a row": ([_xrow(2, '<c r="REF"><v>40</v></c>', '<c r="D2"><v>90</v></c>')], {},
                            "cell D2 appears twice in row 2", 2),
    "cell of another row": ([_xrow(2, '<c r="REF"><v>40</v></c>', '<c r="D7"><v>90</v></c>')], {},
                            "cell D7 is inside row 2", 2),
    # E4: an error value in any column
    "error value in the note": ([_xrow(2, '<c r="REF"><v>40</v></c>', '<c r="G2" t="e"><v>#N/A</v></c>')], {},
                                "note: a spreadsheet error value '#N/A'", 2),
    "error value in the period": ([_xrow(2, '<c r="REF"><v>40</v></c>').replace(
        xlsx_inline("C2", "1960/61 Q1"), '<c r="C2" t="e"><v>#REF!</v></c>')], {},
        "period: a spreadsheet error value '#REF!'", 2),
    # I4: a date serial out of range, no openpyxl warning
    "date serial out of range": ([_xrow(2, '<c r="REF"><v>40</v></c>').replace(
        xlsx_inline("C2", "1960/61 Q1"), '<c r="C2" s="1"><v>99999999</v></c>')], {"styles": _DATE_STYLE},
        "period: '99999999' in a date format: a date outside Excel's range", 2),
    # r3 F8: one row of a million cells is refused at its 16,385th, in little memory
    "a row of 20,000 cells": ([_xrow(2, '<c r="REF"><v>40</v></c>', *["<c><v>1</v></c>"] * 20_000)], {},
                              "a row of more than 16,384 cells", 2),
    # fix11: a date or time format on a number column quoted back a Python datetime
    "date in the value": ([_xrow(2, '<c r="REF" s="1"><v>40000</v></c>')], {"styles": _DATE_STYLE},
                          "value: cell D2: a date (2009-07-06), not a number; give the cell a number format", 2),
    "date in the numerator": ([_xrow(2, '<c r="REF"><v>40</v></c>', '<c r="E2" s="1"><v>4</v></c>',
                                     '<c r="F2"><v>10</v></c>')], {"styles": _DATE_STYLE},
                              "numerator: cell E2: a date (1900-01-04), not a number", 2),
    "time in the denominator": ([_xrow(2, '<c r="REF"><v>40</v></c>', '<c r="E2"><v>4</v></c>',
                                       '<c r="F2" s="2"><v>0.5</v></c>')], {"styles": xlsx_styles([], [0, 14, 20])},
                                "denominator: cell F2: a time (12:00:00), not a number", 2),
    "ISO date cell in the value": ([_xrow(2, '<c r="REF" t="d"><v>2009-07-06T00:00:00</v></c>')], {},
                                   "value: cell D2: a date (2009-07-06), not a number", 2),
    # fix11: a cell reference that is not a cell: dat's message, not openpyxl's
    "$D$2 as a cell's reference": ([_xrow(2, '<c r="$D$2"><v>40</v></c>')], {},
                                   "cell reference '$D$2' is not a cell like D2 ($ is for formulas); open and save "
                                   "it in a spreadsheet program", 2),
    "D$2 as a cell's reference": ([_xrow(2, '<c r="D$2"><f>1+1</f><v>40</v></c>')], {},
                                  "cell reference 'D$2' is not a cell like D2", 2),
    "four-letter column": ([_xrow(2, '<c r="ZZZZ2"><v>40</v></c>')], {}, "'ZZZZ2' is not a cell like D2", 2),
    "row before column": ([_xrow(2, '<c r="2D"><v>40</v></c>')], {}, "'2D' is not a cell like D2", 2),
    "lower-case reference": ([_xrow(2, '<c r="d2"><v>40</v></c>')], {}, "'d2' is not a cell like D2", 2),
    "column past XFD": ([_xrow(2, '<c r="XFE2"><v>40</v></c>')], {}, "'XFE2' is outside a sheet", 2),
    # fix11: a styles part openpyxl cannot take ("TypeError: expected <class ...Fill>")
    "empty fill in styles": ([_xrow(2, '<c r="REF"><v>40</v></c>')],
                             {"styles": xlsx_styles([], [0]).replace('<fill><patternFill patternType="none"/></fill>',
                                                                     "<fill/>")},
                             "the workbook's styles (xl/styles.xml) could not be read; open and save it", None),
    # E5: %% multiplies by 10,000
    "a %% format": ([_xrow(2, '<c r="REF" s="1"><v>0.004</v></c>')], {"styles": xlsx_styles([(164, "0%%")], [0, 164])},
                    "a number format with 2 % signs", 2),
}


@pytest.mark.parametrize("case", sorted(XLSX_REFUSALS))
def test_xlsx_cells_follow_dats_rules(case, mdb, tmp_path):
    rows, kw, fragment, line = XLSX_REFUSALS[case]
    err = refused(mdb, tmp_path, raw_xlsx(rows, **kw), fragment, line, name="raw.xlsx")
    assert "warning" not in err and "#VALUE!" not in err, err
    # no library's own words: an exception's name, openpyxl's text or a Python datetime
    for leak in ("Error:", "openpyxl", "<class", "column name", "00:00:00"):
        assert leak not in err, (leak, err)


def test_xlsx_zip_with_a_member_twice_is_refused(mdb, tmp_path):
    sheet = raw_xlsx([_xrow(2, '<c r="REF"><v>41</v></c>')])
    import io

    with zipfile.ZipFile(io.BytesIO(sheet)) as zf:
        again = zf.read("xl/worksheets/sheet1.xml")
    content = raw_xlsx([_xrow(2, '<c r="REF"><v>40</v></c>')],
                       extra_members=(("xl/worksheets/sheet1.xml", again.decode()),))
    refused(mdb, tmp_path, content, "'xl/worksheets/sheet1.xml' is in the zip twice", None, name="dup.xlsx")


def test_xlsx_error_value_in_the_header_is_refused(mdb, tmp_path):
    sheet = raw_xlsx([_xrow(2, '<c r="REF"><v>40</v></c>')])
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(sheet)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("sheet1.xml"):
                data = data.replace(xlsx_inline("G1", "note").encode(), b'<c r="G1" t="e"><v>#NAME?</v></c>')
            dst.writestr(info.filename, data)
    content = buf.getvalue()
    refused(mdb, tmp_path, content, "column 7: a spreadsheet error value '#NAME?'", 1, name="hdr.xlsx")


def test_xlsx_number_formats_read_as_a_spreadsheet_shows_them(mdb, tmp_path):
    """C1: a style naming a format the file does not define is General; E5: only a % of the
    first section's numbers makes a percentage; " 40 " is 40 as in CSV."""
    cases = [
        ("1961/62 Q1", xlsx_styles([], [0, 180]), "40", 40.0),          # undeclared format 180
        ("1961/62 Q2", xlsx_styles([(164, "0;0;0;@%")], [0, 164]), "40", 40.0),  # % of the text section
        ("1961/62 Q3", xlsx_styles([(164, "[$%-809]0")], [0, 164]), "40", 40.0),  # % in a locale tag
        ("1961/62 Q4", xlsx_styles([(164, '0"%"')], [0, 164]), "40", 40.0),
        ("1962/63 Q1", xlsx_styles([(164, "0.0%;[Red]-0.0%")], [0, 164]), "0.4", 40.0),
        ("1962/63 Q2", xlsx_styles([(164, "_%0%")], [0, 164]), "0.4", 40.0),
        ("1962/63 Q3", None, " 40 ", 40.0),
    ]
    for period, styles, v, expected in cases:
        content = raw_xlsx([_xrow(2, f'<c r="REF" s="1"><v>{v}</v></c>', period=period)], styles=styles)
        accepted(mdb, tmp_path, content, ("dudley", "NTA.RET12", period), (expected, None, None), name="fmt.xlsx")


@pytest.mark.parametrize("code, count", [
    ("General", 0), ("0%", 1), ("0.00%", 1), ("0%%", 2), ('0"%"', 0), ("0\\%", 0), ("[$%-809]0", 0),
    ("0;0;0;@%", 0), ("@%", 0), ("0;0%", 0), ("[Red]0.0%", 1), ('"%"0%', 1), ("_%0", 0), ("*%0", 0), ("", 0),
])
def test_percent_count(code, count):
    from dat.core.readers import percent_count

    assert percent_count(code) == count


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 400), st.text(max_size=12)), max_size=4),
       st.lists(st.one_of(st.integers(-5, 400), st.text(max_size=5)), max_size=5),
       st.sampled_from(["", "0", "1", "2", "7", "x"]), st.text(max_size=30), st.booleans())
def test_fuzzed_styles_never_escape_as_a_crash(fmts, xfs, style, junk, broken):
    """C1: any styles.xml (random number formats and cell styles, or junk XML) gives rows or a
    clean refusal, never another exception."""
    import tempfile
    from xml.sax.saxutils import quoteattr

    from dat.core.readers import ImportRefused, read_rows

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    printable_fmts = [(i, "".join(ch for ch in c if ch.isprintable())) for i, c in fmts]
    styles = (f'<styleSheet xmlns="{ns}"><numFmts>'
              + "".join(f"<numFmt numFmtId=\"{i}\" formatCode={quoteattr(c)}/>" for i, c in printable_fmts)
              + "</numFmts><cellXfs>" + "".join(f"<xf numFmtId={quoteattr(str(x))}/>" for x in xfs)
              + "</cellXfs></styleSheet>")
    if broken:
        styles = styles[: len(styles) // 2] + "".join(ch for ch in junk if ch.isprintable())
    cell = f'<c r="REF"{f" s={quoteattr(style)}" if style else ""}><v>0.4</v></c>'
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.xlsx"
        path.write_bytes(raw_xlsx([_xrow(2, cell)], styles=styles))
        try:
            read_rows(path)
        except ImportRefused as exc:
            assert "\n" not in str(exc) and len(str(exc)) <= 195


# -- round 3, F3: shared-string text is kept as written, ECMA-376 escapes decoded -----------------

def test_a_shared_string_note_keeps_x005F_and_decodes_escapes(mdb, tmp_path):
    notes = {"1988/89 Q1": "see x005F_ref and _x005F_x000D_", "1988/89 Q2": "rich _x0041_"}
    sst = ["see x005F_ref and _x005F_x000D_",
           'rich </t><r><t>_x0041_</t></r><rPh><t>ruby</t></rPh><t>']
    rows = [_xrow(n, '<c r="REF"><v>40</v></c>', f'<c r="G{n}" t="s"><v>{i}</v></c>', period=period)
            for i, (n, period) in enumerate(zip((2, 3), notes, strict=True))]
    _, res = run_import(mdb, tmp_path, raw_xlsx(rows, sst=sst), name="sst.xlsx")
    assert res.exit_code == 0 and "rejected 0" in res.stderr, res.stderr
    mdb["digest"] = None
    assert _notes(mdb["url"], list(notes)) == {"1988/89 Q1": ("see x005F_ref and _x000D_", 1),
                                               "1988/89 Q2": ("rich A", 1)}


# -- round 2, D2: a note over several lines survives the CSV export and import ---------------------

def test_a_multi_line_note_exported_to_csv_imports_back(mdb, tmp_path):
    from dat.cli.main import cli

    notes = {"1963/64 Q1": "line1\nline2", "1963/64 Q2": "a\r\nb", "1963/64 Q3": 'q "x"\n, y\n\nz'}
    cell = '<c r="G{}" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>'
    rows = [_xrow(n, '<c r="REF"><v>40</v></c>', cell.format(n, note.replace("\r", "&#13;")), period=period)
            for n, (period, note) in enumerate(notes.items(), 2)]
    _, res = run_import(mdb, tmp_path, raw_xlsx(rows), name="notes.xlsx")
    assert res.exit_code == 0, res.stderr
    out = tmp_path / "notes.csv"
    res = CliRunner().invoke(cli, ["--db", mdb["url"], "export", "-p", "dudley", "-i", "NTA.RET12", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    before = _notes(mdb["url"], list(notes))
    assert before == {p: (note, 1) for p, note in notes.items()}
    res = CliRunner().invoke(cli, ["--db", mdb["url"], "import", str(out), "--allow-future"])
    assert res.exit_code == 0 and "rejected 0" in res.stderr, res.stderr
    mdb["digest"] = None
    assert _notes(mdb["url"], list(notes)) == before  # no new revision: nothing changed


def _notes(url: str, periods: list[str]) -> dict[str, tuple[str, int]]:
    """period -> (note, number of revisions) of dudley's NTA.RET12 figures."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT o.period, o.commentary, o.is_current FROM observation o "
                "JOIN partnership p ON p.id = o.partnership_id JOIN indicator i ON i.id = o.indicator_id "
                "WHERE p.slug = 'dudley' AND i.code = 'NTA.RET12'")).all()
    finally:
        engine.dispose()
    return {p: (next(c for q, c, cur in rows if q == p and cur), sum(q == p for q, _c, _cur in rows))
            for p in periods}


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300))
def test_any_stored_note_round_trips_through_csv(note):
    """D2: the export's CSV writer and the import's reader agree on every note dat can store
    (a note is stripped and holds no control character; one a spreadsheet would read as a
    formula gets its documented leading ')."""
    import io
    import tempfile

    from hypothesis import assume

    from dat.core.files import CsvWriter, safe_cell
    from dat.core.readers import _CONTROL, read_rows

    note = note.strip()
    assume(note and not _CONTROL.search(note) and "\x00" not in note and safe_cell(note) == note)
    buf = io.StringIO()
    writer = CsvWriter(buf)
    writer.writerow(["partnership", "indicator", "period", "value", "numerator", "denominator", "note"])
    writer.writerow(["dudley", "NI40", "2007/08", 5, None, None, safe_cell(note)])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "n.csv"
        path.write_bytes(buf.getvalue().encode("utf-8"))
        _fmt, rows, rejects, _n = read_rows(path)
    assert not rejects and [r.note for r in rows] == [note]


def test_xlsx_white_space_round_a_number_is_xml_white_space(mdb, tmp_path):
    """r3 I4: XML collapses white space, and Excel reads ``<v>\\n  40 \\t</v>`` as 40; a
    workbook whose styles.xml has no cell styles says nothing about openpyxl's default."""
    sqlite_only(mdb)
    accepted(mdb, tmp_path, raw_xlsx([_xrow(2, '<c r="REF"><v>\n  40 \t</v></c>', period="1961/62 Q1")]),
             ("dudley", "NTA.RET12", "1961/62 Q1"), (40.0, None, None), name="ws.xlsx")
    styles = xlsx_styles([], [0]).replace("<cellStyleXfs count=\"1\"><xf/></cellStyleXfs>", "")
    _, res = run_import(mdb, tmp_path, raw_xlsx([_xrow(2, '<c r="REF"><v>41</v></c>', period="1961/62 Q2")],
                                                styles=styles), name="nostyle.xlsx")
    assert res.exit_code == 0 and "warning" not in res.stderr, res.stderr
    mdb["digest"] = None


def test_a_sheet_without_its_size_is_read_once_in_little_memory(mdb, tmp_path):
    """openpyxl read a sheet with no ``<dimension>`` whole just to learn its size; dat never
    asks it, so a big sheet is parsed once, and a row of a million cells stops at once."""
    sqlite_only(mdb)
    import io
    import subprocess
    import sys

    path = tmp_path / "wide.xlsx"
    deflated = raw_xlsx([_xrow(2, '<c r="REF"><v>40</v></c>', *["<c><v>1</v></c>"] * 1_000_000)])
    with zipfile.ZipFile(io.BytesIO(deflated)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():  # stored 1:1, as the attacker's was: within every zip limit
            dst.writestr(info.filename, src.read(info))
    code = ("import resource,sys;from pathlib import Path;from dat.core import readers\n"
            "try:\n _f,rows,_r,_d=readers.stream_rows(Path(sys.argv[1]));list(rows)\n"
            "except Exception as e: print(type(e).__name__, e)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    message, rss = out.stdout.strip().splitlines()
    assert "a row of more than 16,384 cells" in message, out
    assert int(rss) < 400_000, rss  # KB: the whole row took 650 MB; 190-290 MB now, by machine


def test_a_line_of_exactly_the_limit_is_read_whatever_its_line_end(mdb, tmp_path):
    """r4 I7: the line end is not counted: a line of 100,000 characters is within the limit
    with LF or CRLF; one more character is not."""
    sqlite_only(mdb)
    from dat.core.readers import MAX_LINE_CHARS

    row = "dudley,NTA.RET12,1962/63 Q1,40,,,"
    line = row + "n" * (MAX_LINE_CHARS - len(row))
    assert len(line) == MAX_LINE_CHARS
    for end in ("\n", "\r\n"):
        content = (H + line + end).replace("\n", end) if end == "\r\n" else H + line + end
        _, res = run_import(mdb, tmp_path, content)
        assert "the line is longer than" not in res.stderr, res.stderr[:300]
        assert "cell longer than 10,000" in res.stderr  # the note: refused as a cell, not a line
    refused(mdb, tmp_path, H + line + "n\n", "the line is longer than 100,000 characters", 2)


def test_a_workbook_on_standard_input_says_what_to_do(mdb, tmp_path):
    """r4 I1: standard input is read as CSV: a workbook piped in is told to be saved as .xlsx."""
    sqlite_only(mdb)
    import subprocess
    import sys

    content = raw_xlsx([_xrow(2, '<c r="REF"><v>40</v></c>')])
    out = subprocess.run([sys.executable, "-m", "dat.cli.main", "--db", mdb["url"], "import", "-"],
                         input=content, capture_output=True, timeout=60)
    err = out.stderr.decode()
    assert out.returncode == 1 and "save it to a file named .xlsx" in err and len(err.splitlines()[0]) <= 200, err


def test_an_xlsx_row_numbered_outside_the_sheet_is_refused(mdb, tmp_path):
    """r4 I5: rows are 1 to 1,048,576: row 0 is not "after row 1"."""
    sqlite_only(mdb)
    for n in (0, 1_048_577):
        row = _xrow(2, '<c r="REF"><v>40</v></c>').replace('<row r="2">', f'<row r="{n}">')
        refused(mdb, tmp_path, raw_xlsx([row]), f"a row numbered {n:,} in the sheet's XML", None, name="r.xlsx")


# -- fix11: the remaining poor messages of issue 11 ----------------------------------------------

def _patched(content: bytes, member: str, change) -> bytes:
    """The workbook ``content`` with ``member`` replaced by ``change(its bytes)``."""
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, change(data) if info.filename == member else data)
    return out.getvalue()


_SST_ROW = _xrow(2, '<c r="REF"><v>40</v></c>').replace(xlsx_inline("A2", "dudley"), '<c r="A2" t="s"><v>0</v></c>')
_DOCTYPES = {
    # an external entity was read as nothing at all: the partnership became ""
    "external entity in the shared strings": ("xl/sharedStrings.xml", lambda d: (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY p SYSTEM "file:///etc/hostname">]>'
        + d.replace(b"<t>dudley</t>", b"<t>&p;</t>"))),
    "internal entity in the shared strings": ("xl/sharedStrings.xml", lambda d: (
        b'<!DOCTYPE sst [<!ENTITY p "bromley">]>' + d.replace(b"<t>dudley</t>", b"<t>&p;</t>"))),
    "bare DOCTYPE after a comment": ("xl/sharedStrings.xml", lambda d: b"<!-- made by hand --><!DOCTYPE sst>" + d),
    "DOCTYPE in the sheet": ("xl/worksheets/sheet1.xml", lambda d: b"<!DOCTYPE worksheet>" + d),
    "DOCTYPE in the workbook part": ("xl/workbook.xml", lambda d: b"<!DOCTYPE workbook>" + d),
    "DOCTYPE in a UTF-16 sheet": ("xl/worksheets/sheet1.xml", lambda d: (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE worksheet>'.encode("utf-16")
        + d.decode().encode("utf-16")[2:])),
}


@pytest.mark.parametrize("case", sorted(_DOCTYPES))
def test_fix11_a_doctype_in_any_part_refuses_the_workbook(case, mdb, tmp_path):
    """fix11 (issue 11): a sharedStrings part with a DOCTYPE had its strings read as empty
    (an external entity) or replaced (an internal one), without a word; spreadsheet programs
    never write a DOCTYPE, so a workbook with one in any XML part is refused, naming it."""
    sqlite_only(mdb)
    member, change = _DOCTYPES[case]
    content = _patched(raw_xlsx([_SST_ROW], sst=["dudley"]), member, change)
    err = refused(mdb, tmp_path, content, f"'{member}' has a DOCTYPE", None, name="dt.xlsx")
    assert "open and save it in a spreadsheet program" in err


def test_fix11_the_same_workbook_without_a_doctype_is_read(mdb, tmp_path):
    sqlite_only(mdb)
    accepted(mdb, tmp_path, raw_xlsx([_SST_ROW.replace("1960/61 Q1", "1958/59 Q1")], sst=["dudley"]),
             ("dudley", "NTA.RET12", "1958/59 Q1"), (40.0, None, None), name="sst.xlsx")


def test_fix11_a_chart_sheet_is_passed_over_for_the_worksheet(mdb, tmp_path):
    """fix11 (issue 11): a workbook with a chart sheet (active, or before the data) failed with
    openpyxl's "AttributeError: 'list' object has no attribute 'find'"; a chart sheet holds no
    figures, so the worksheet is read, and the summary names it."""
    sqlite_only(mdb)
    openpyxl = pytest.importorskip("openpyxl")
    for i, (position, period) in enumerate(((None, "1957/58 Q1"), (0, "1957/58 Q2"))):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Figures"
        ws.append(HX)
        ws.append(["dudley", "NTA.RET12", period, 33])
        chart = wb.create_chartsheet("Chart") if position is None else wb.create_chartsheet("Chart", position)
        wb.active = wb.sheetnames.index(chart.title)  # the workbook opens at the chart
        wb.save(tmp_path / f"c{i}.xlsx")
        _, res = run_import(mdb, tmp_path, (tmp_path / f"c{i}.xlsx").read_bytes(), name=f"c{i}.xlsx")
        assert res.exit_code == 0, res.stderr
        assert "sheet 'Figures'" in res.stderr and "Error" not in res.stderr, res.stderr
        assert stored(mdb["url"], "dudley", "NTA.RET12", period) == [(33.0, None, None)]
    mdb["digest"] = None


def test_fix11_a_workbook_of_only_a_chart_sheet_says_so(mdb, tmp_path):
    sqlite_only(mdb)
    content = raw_xlsx([_xrow(2, '<c r="REF"><v>40</v></c>')])
    chart = (b'<chartsheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews>'
             b'<sheetView workbookViewId="0"/></sheetViews></chartsheet>')
    content = _patched(content, "xl/_rels/workbook.xml.rels",
                       lambda d: d.replace(b"/worksheet\"", b"/chartsheet\"").replace(b"worksheets/sheet1.xml",
                                                                                      b"chartsheets/sheet1.xml"))
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        zout.writestr("xl/chartsheets/sheet1.xml", chart)
    refused(mdb, tmp_path, out.getvalue(), "the workbook has no worksheet, only a chartsheet ('Data'); dat reads "
            "figures from a worksheet", None, name="chart.xlsx")


FT_HEAD = ("Indicator ID,Area Code,Area Name,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
           "Count,Denominator,Value note,Sex\n")


@pytest.mark.parametrize("mapping, fragment", [
    ('[areas]\n"E08000027" = "dudley"\n"E08000099" = "dudley"\n[indicators]\n"90244" = "NTA.RET12"\n',
     "[areas] 'E08000027' and 'E08000099' both map to 'dudley'; map each area once"),
    ('[areas]\n"E08000027" = "dudley"\n[indicators]\n"90244" = "NTA.RET12"\n"90245" = "NTA.RET12"\n',
     "[indicators] '90244' and '90245' both map to 'NTA.RET12'; map each indicator once"),
    ('[areas]\n"E08000027" = "dudley"\n"e08000027" = "bromley"\n[indicators]\n"90244" = "NTA.RET12"\n',
     "[areas] 'E08000027' and 'e08000027' are the same code written twice; keep one"),
    ('[areas]\nE08000027 = "dudley"\n" E08000027" = "bromley"\n[indicators]\n"90244" = "NTA.RET12"\n',
     "are the same code written twice"),
], ids=["two areas, one partnership", "two indicators, one code", "a code in two cases", "a code with a space"])
def test_fix11_a_mapping_with_a_duplicate_is_refused(mapping, fragment, mdb, tmp_path):
    """fix11 (issue 11): a Fingertips mapping naming a code twice was accepted without a word:
    two codes for one partnership or indicator put two figures on one key, and codes differing
    only in case or spaces left the file's rows to whichever matched."""
    sqlite_only(mdb)
    (tmp_path / "map.toml").write_text(mapping)
    err = refused(mdb, tmp_path, FT_HEAD + "90244,E08000027,Dudley,1956/57,5,1,9,1,20,,Persons\n", fragment, None,
                  "--mapping", str(tmp_path / "map.toml"))
    assert "map.toml" in err


def test_fix11_a_suppressed_fingertips_row_is_skipped_and_counted(mdb, tmp_path):
    """fix11 (issue 11): one suppressed row (no Value, a Value note such as ``*``) refused the
    whole file ("no value"); it is skipped, counted in the summary and in the JSON, and never
    stored (as 0 or anything else), while the file's other rows are imported."""
    (tmp_path / "map.toml").write_text('[areas]\n"E08000027" = "dudley"\n[indicators]\n"90244" = "NTA.RET12"\n')
    m = ("--mapping", str(tmp_path / "map.toml"))
    rows = ("90244,E08000027,Dudley,1955/56,,,,,,*,Persons\n"
            "90244,E08000027,Dudley,1954/55,5,1,9,1,20,,Persons\n")
    _, res = run_import(mdb, tmp_path, FT_HEAD + rows, *m)
    assert res.exit_code == 0, res.stderr
    assert "skipped 1 suppressed row (no Value, a Value note)" in res.stderr, res.stderr
    assert "2 rows (fingertips format): added 1" in res.stderr, res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1955/56") == []
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1954/55") == [(5.0, 1.0, 20.0)]
    mdb["digest"] = None
    # counted in the JSON report, with a count and denominator given too (still no value)
    rows = ("90244,E08000027,Dudley,1953/54,,,,3,,Value suppressed for disclosure control,Persons\n"
            "90244,E08000027,Dudley,1952/53,,,,,,*,Persons\n")
    _, res = run_import(mdb, tmp_path, FT_HEAD + rows, *m, "-f", "json")
    assert res.exit_code == 0, res.stderr
    report = __import__("json").loads(res.stdout)
    assert (report["suppressed"], report["added"], report["rows"]) == (2, 0, 2)
    assert "skipped 2 suppressed rows" in res.stderr
    assert stored(mdb["url"], "dudley", "NTA.RET12", "1953/54") == []
    # no Value and no note is still refused, naming the line
    refused(mdb, tmp_path, FT_HEAD + "90244,E08000027,Dudley,1951/52,,,,,,,Persons\n", "no value", 2, *m)


@settings(max_examples=60, deadline=None)
@given(st.permutations(["partnership", "indicator", "period", "value", "numerator", "denominator", "note"]),
       st.integers(2, 7), st.sampled_from([";", "\t", "|"]), st.booleans(), st.booleans())
def test_fix11_another_separator_is_named_and_a_comma_header_never_is(columns, k, sep, quoted, upper):
    """A header of dat's names joined by ; tab or | (quoted or not, any case) is named as that
    separator; the same names split by commas, as a CSV reader gives them, never are."""
    from dat.core.readers import other_separator

    names = [c.upper() if upper else c for c in columns[:k]]
    cells = [f'"{n}"' if quoted else n for n in names]
    assert other_separator([sep.join(cells)]) == sep
    assert other_separator(names) is None
    assert other_separator([sep.join(["foo", "bar"])]) is None
