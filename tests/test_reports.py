"""Reports: every template in every format, sandboxing, autoescape, template errors, and the
HTML checked in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest

FORMATS = (".md", ".html", ".docx", ".xlsx")


def _templates():
    from dat.core.plugins import get_plugin_manager, reset_plugin_manager

    reset_plugin_manager()
    reg = get_plugin_manager().registry
    partnerships = sorted(s for s, p in reg.partnerships.items() if p.parent is None)
    out = []
    for (owner, name) in sorted(reg.templates, key=lambda k: (k[0] or "", k[1])):
        for slug in ([owner] if owner else partnerships):
            out.append((slug, name))
    reset_plugin_manager()
    return out


@pytest.mark.parametrize("slug, name", _templates())
def test_every_template_renders_in_every_format(slug, name, tmp_path):
    from dat.core.reports import write_report
    from dat.core.services import Store

    store = Store(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    for suffix in FORMATS:
        out = tmp_path / f"{slug}-{name}{suffix}"
        write_report(store, slug, out, name)
        assert out.stat().st_size > 100, out
    md = (tmp_path / f"{slug}-{name}.md").read_text()
    assert md.startswith("#")
    html = (tmp_path / f"{slug}-{name}.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in html
    assert zipfile.is_zipfile(tmp_path / f"{slug}-{name}.docx")
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / f"{slug}-{name}.xlsx")
    assert wb.sheetnames[:3] == ["Scorecard", "Funding", "Actions"]


def test_dudley_report_content(dat, db_url, tmp_path):
    out = tmp_path / "q1.html"
    res = dat("--db", db_url, "report", "dudley", "-P", "2007/08 Q1", "-o", str(out))
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    assert 'id="chart-rag"' in html and "<title" in html and "<desc" in html
    assert '<span class="rag rag-R">R</span> Red' in html  # RAG as text as well as colour
    assert "Retained in treatment 12 weeks or more" in html
    from openpyxl import load_workbook

    x = tmp_path / "q1.xlsx"
    dat("--db", db_url, "report", "dudley", "-P", "2007/08 Q1", "-o", str(x))
    ws = load_workbook(x)["Scorecard"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["NTA.RET12"][3:6] == (70, 85, "Red")
    assert ws.conditional_formatting  # RAG fills


def test_user_template_is_sandboxed(dat, db_url, tmp_path):
    evil = tmp_path / "evil.md.j2"
    evil.write_text("# {{ partnership.name }}\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    res = dat("--db", db_url, "report", "dudley", "--template-file", str(evil))
    assert res.returncode == 1
    assert "evil.md.j2" in res.stderr and "SecurityError" in res.stderr and "Traceback" not in res.stderr
    ok = tmp_path / "ok.md.j2"
    ok.write_text("# {{ partnership.name }}: {{ scorecard.rows | length }} figures\n")
    res = dat("--db", db_url, "report", "dudley", "--template-file", str(ok), "-P", "2007/08 Q1")
    assert res.returncode == 0 and res.stdout == "# Dudley: 40 figures\n"


@pytest.mark.parametrize("expr, message", [
    ("'a' * 10**10", "may not build a value of 10,000,000,000 items"),
    ("[0] * 2000000", "may not build a value of 2,000,000 items"),
    ("9 ** 999", "exponent 999 is too large"),
    ("(10 ** 100) ** 50", "a number too large"),
])
def test_user_template_cannot_exhaust_memory(expr, message):
    from dat.core.reports import ReportError, render_source

    with pytest.raises(ReportError, match=message):
        render_source("{{ " + expr + " }}", {}, name="big.md.j2", html=False, sandboxed=True)
    # ordinary arithmetic and repetition still work in the sandbox
    assert render_source("{{ 2 ** 10 }} {{ '-' * 3 }} {{ 3 * 4 }}", {}, name="ok.md.j2",
                         html=False, sandboxed=True) == "1024 --- 12"


def test_template_errors_name_template_line_and_cause(dat, db_url, tmp_path):
    bad = tmp_path / "bad.md.j2"
    bad.write_text("# title\n\n{% for x in actions %}\n{{ x.ref }\n")
    res = dat("--db", db_url, "report", "dudley", "--template-file", str(bad))
    assert res.returncode == 1
    assert f"template {bad}, line 4:" in res.stderr
    undefined = tmp_path / "undef.md.j2"
    undefined.write_text("# title\n{{ no_such_thing.value }}\n")
    res = dat("--db", db_url, "report", "dudley", "--template-file", str(undefined))
    assert res.returncode == 1 and "line 2" in res.stderr and "no_such_thing" in res.stderr
    res = dat("--db", db_url, "report", "dudley", "--template", "nope")
    assert res.returncode == 2 and "unknown template 'nope'" in res.stderr
    res = dat("--db", db_url, "report", "dudley", "-o", str(tmp_path / "x.pdf"))
    assert res.returncode == 2 and ".docx" in res.stderr


def test_html_escapes_data(fixture_plugins, tmp_path):
    from dat.core.reports import write_report
    from dat.core.services import Store

    mod = tmp_path / "xss_fixture_plugin.py"
    mod.write_text(
        "from dat.core import hookimpl\n"
        "@hookimpl\n"
        "def register_partnerships(register):\n"
        "    register(slug='xss', name='<script>alert(1)</script> DAT')\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        fixture_plugins({"xss": "xss_fixture_plugin"})
        store = Store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
        out = tmp_path / "x.html"
        write_report(store, "xss", out, "scorecard")
    finally:
        sys.path.remove(str(tmp_path))
    html = out.read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; DAT" in html


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_in_headless_chromium(dat, db_url, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is missing: .ci/run installs it")
        pytest.skip("chromium not installed (Debian: apt-get install chromium)")
    out = tmp_path / "bromley.html"
    res = dat("--db", db_url, "report", "dudley", "-P", "2007/08 Q1", "-o", str(out))
    assert res.returncode == 0
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    script = tmp_path / "probe.html"
    # a wrapper page that loads the report in an iframe and writes what it finds into the DOM
    script.write_text(
        f'<iframe id="r" src="{out.as_uri()}"></iframe><pre id="out"></pre><script>'
        'document.getElementById("r").onload=function(){var d=this.contentDocument;'
        'var svg=d.querySelectorAll("svg[role=img]");var t=d.querySelectorAll("table");'
        'var bars=d.querySelectorAll("#chart-rag rect");var w=[].map.call(bars,function(b){return b.getBBox().width});'
        'document.getElementById("out").textContent=JSON.stringify({svg:svg.length,tables:t.length,'
        'title:d.title,barWidths:w,firstTable:t[0].rows.length});};</script>')
    dom = subprocess.run([browser, *flags, "--allow-file-access-from-files", "--virtual-time-budget=5000",
                          "--dump-dom", script.as_uri()], capture_output=True, text=True, timeout=120)
    found = dom.stdout.split('<pre id="out">', 1)[1].split("</pre>", 1)[0]
    info = json.loads(found.replace("&quot;", '"'))
    assert info["svg"] >= 1 and info["tables"] >= 2
    assert info["title"].startswith("Dudley")
    assert any(w > 0 for w in info["barWidths"])  # the RAG chart actually drew bars
    assert info["firstTable"] >= 40  # the scorecard table: header + 40 figures
    shot = tmp_path / "shot.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1200,1600", out.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10000
