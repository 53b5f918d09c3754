"""dat export: round trips through import, Fingertips layout, small-number suppression."""

from __future__ import annotations

import json

import pytest

HEADER = "partnership,indicator,period,value,numerator,denominator,note\n"


def test_dat_csv_round_trip(dat, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "bromley,NTA.EFFECTIVE,2010/11,850,,,\n"
                            "dudley,NTA.RET12,2008/09 Q1,77.5,310,400,a note, with a comma\n"
                   .replace("a note, with a comma", '"a note, with a comma"'))
    a, b = f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}"
    assert dat("--db", a, "import", str(src)).returncode == 0
    out1 = tmp_path / "out1.csv"
    assert dat("--db", a, "export", "-o", str(out1)).returncode == 0
    assert dat("--db", b, "import", str(out1)).returncode == 0
    out2 = tmp_path / "out2.csv"
    dat("--db", b, "export", "-o", str(out2))
    assert out1.read_text() == out2.read_text()
    assert 'dudley,NTA.RET12,2008/09 Q1,77.5,310,400,"a note, with a comma"' in out1.read_text()
    again = dat("--db", b, "import", str(out1), "-f", "json")
    assert json.loads(again.stdout)["added"] == 0 and json.loads(again.stdout)["changed"] == 0


def test_fingertips_round_trip(dat, tmp_path, db_url):
    mapping = tmp_path / "map.toml"
    mapping.write_text('[areas]\n"E08000027" = "dudley"\n"E09000006" = "bromley"\n'
                       '[indicators]\n"90244" = "NTA.RET12"\n')
    src = tmp_path / "ft.csv"
    header = ("Indicator ID,Area Code,Area Name,Time period,Value,Lower CI 95.0 limit,"
              "Upper CI 95.0 limit,Count,Denominator,Value note\n")
    body = ("90244,E09000006,Bromley,2008/09,76,71.6,79.9,304,400,\n"
            "90244,E08000027,Dudley,2008/09,80.5,76.3,84.1,322,400,provisional\n")
    src.write_text(header + body)
    assert dat("--db", db_url, "import", str(src), "--mapping", str(mapping)).returncode == 0
    out = tmp_path / "back.csv"
    res = dat("--db", db_url, "export", "-i", "NTA.RET12", "--fingertips", str(mapping), "-o", str(out))
    assert res.returncode == 0, res.stderr
    lines = out.read_text().splitlines()
    assert lines[0] + "\n" == header
    assert "\n".join(l for l in lines[1:] if ",2008/09," in l) + "\n" == body
    everything = dat("--db", db_url, "export", "--fingertips", str(mapping))
    assert "rows left out: their area or indicator is not in the mapping" in everything.stderr


def test_public_export_suppresses_small_counts(fixture_plugins, dat, tmp_path, db_url):
    fixture_plugins({"compare_data": "compare_data"})
    src = tmp_path / "small.csv"
    src.write_text(HEADER + "alpha,NTA.EFFECTIVE,2010/11,30,,,\n"
                            "alpha_east,NTA.EFFECTIVE,2010/11,3,,,\n"
                            "alpha_west,NTA.EFFECTIVE,2010/11,27,,,\n"
                            "beta,FIX.RET,2010/11,2,2,100,\n"
                            "gamma,FIX.RET,2010/11,50,50,100,\n")
    assert dat("--db", db_url, "import", str(src)).returncode == 0
    res = dat("--db", db_url, "export", "--public", "-i", "NTA.EFFECTIVE", "-i", "FIX.RET")
    assert res.returncode == 0, res.stderr
    rows = {tuple(l.split(",")[:3]): l.split(",")[3:6] for l in res.stdout.splitlines()[1:]}
    assert rows[("alpha_east", "NTA.EFFECTIVE", "2010/11")][0] == "*"  # primary
    assert rows[("alpha_west", "NTA.EFFECTIVE", "2010/11")][0] == "*"  # secondary: 30 - 27 = 3
    assert rows[("alpha", "NTA.EFFECTIVE", "2010/11")][0] == "30"
    assert rows[("beta", "FIX.RET", "2010/11")][:2] == ["*", "*"]  # 2 of 100 and the 2% value
    assert rows[("gamma", "FIX.RET", "2010/11")][:2] == ["50", "50"]
    assert "suppressed 2 small counts" in res.stderr and "2 further cells" in res.stderr
    full = dat("--db", db_url, "export", "-i", "NTA.EFFECTIVE")
    assert "alpha_east,NTA.EFFECTIVE,2010/11,3," in full.stdout


def test_export_errors(dat, db_url):
    bad = dat("--db", db_url, "export", "-o", "out.pdf")
    assert bad.returncode == 2 and "use .csv, .json or .xlsx" in bad.stderr
    bad = dat("--db", db_url, "export", "-p", "nowhere")
    assert bad.returncode == 2 and "unknown partnership 'nowhere'" in bad.stderr


def test_xlsx_and_json_exports(dat, tmp_path, db_url):
    openpyxl = pytest.importorskip("openpyxl")
    x = tmp_path / "o.xlsx"
    assert dat("--db", db_url, "export", "-p", "dudley", "-o", str(x)).returncode == 0
    ws = openpyxl.load_workbook(x).active
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert header == ["partnership", "indicator", "period", "value", "numerator", "denominator", "note"]
    j = tmp_path / "o.json"
    assert dat("--db", db_url, "export", "--what", "targets", "-p", "dudley", "-o", str(j)).returncode == 0
    targets = json.loads(j.read_text())
    assert {"partnership": "dudley", "indicator": "NTA.RET12", "value": 85.0}.items() <= next(
        t for t in targets if t["indicator"] == "NTA.RET12").items()
