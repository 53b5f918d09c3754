"""The one error model: every command, driven into an error, ends with one ``dat: ...``
line on stderr, no traceback, and the documented exit code (2 bad usage, 1 an error in data
or a run). The table must name every command: a new command without a case fails here."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dat.cli.main import LAZY_COMMANDS, cli
from dat.core.errors import EXIT_ERROR, EXIT_USAGE, DatabaseError, DataError, DatError, PluginError, UsageError

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/dat"

#: (command, arguments, exit code, a fragment of the message)
CASES = [
    ("plugins", ["plugins", "--format", "yaml"], EXIT_USAGE, "Invalid value"),
    ("partnerships", ["partnerships", "--nope"], EXIT_USAGE, "No such option"),
    ("partnerships", ["--db", UNREACHABLE, "partnerships"], EXIT_ERROR, "cannot open the database"),
    ("indicators", ["indicators", "--partnership", "nowhere"], EXIT_USAGE, "unknown partnership 'nowhere'"),
    ("status", ["status", "dudly"], EXIT_USAGE, "did you mean dudley?"),
    ("status", ["status", "dudley", "-P", "2007/08 Q5"], EXIT_USAGE, "is not a period"),
    ("status", ["--db", "sqlite:////proc/no/such/dat.sqlite3", "status", "dudley"], EXIT_ERROR, ""),
    ("funding", ["funding", "bromley", "--year", "2009/10 Q1"], EXIT_USAGE, "funding is by financial year"),
    ("actions", ["actions", "nowhere"], EXIT_USAGE, "unknown partnership"),
    ("report", ["report", "dudley", "--template", "nope"], EXIT_USAGE, "unknown template 'nope'"),
    ("report", ["report", "dudley", "--template-file", "{bad_template}"], EXIT_ERROR, ""),
    ("new-partnership", ["new-partnership", ""], EXIT_USAGE, "must not be empty"),
    ("compare", ["compare", "-i", "NI4O"], EXIT_USAGE, "unknown indicator 'NI4O'"),
    ("compare", ["compare", "-i", "NI40", "--benchmark", "galaxy"], EXIT_USAGE, "Invalid value"),
    ("scenario", ["scenario", "split", "dudley"], EXIT_USAGE, "partnership with sub-areas"),
    ("scenario", ["scenario", "split", "cheshire", "--share", "x=-1"], EXIT_USAGE, "non-negative"),
    ("scenario", ["scenario", "split", "cheshire", "--share", "cheshire_east=0",
                  "--share", "cheshire_west=0"], EXIT_ERROR, "add up to nothing"),
    ("scenario", ["scenario", "merge", "bromley", "nowhere"], EXIT_USAGE, "unknown partnership"),
    ("import", ["import", "{missing_file}"], EXIT_ERROR, "no such file"),
    ("import", ["import", "{bad_csv}"], EXIT_ERROR, "nothing was written"),
    ("history", ["history", "dudley", "NOPE.X"], EXIT_USAGE, "unknown indicator"),
    ("export", ["export", "-o", "figures.txt"], EXIT_USAGE, "cannot export to .txt"),
    ("export", ["export", "-o", "{no_folder}/x.csv"], EXIT_ERROR, "not an existing folder"),
    ("db", ["--db", UNREACHABLE, "db", "info"], EXIT_ERROR, "cannot open the database"),
    ("db", ["--db", UNREACHABLE, "db", "upgrade"], EXIT_ERROR, "cannot open the database"),
    ("db", ["db", "copy"], EXIT_USAGE, "Missing option '--to'"),
    ("db", ["--db", "sqlite:///{tmp}/none.sqlite3", "db", "copy", "--to", "sqlite:///{tmp}/c.sqlite3"],
     EXIT_ERROR, "does not exist"),
    ("db", ["--db", UNREACHABLE, "db", "sync"], EXIT_ERROR, "cannot open the database"),
    ("plugins", ["plugins", "purge", "dudley"], EXIT_USAGE, "is installed"),
    ("plugins", ["plugins", "purge", "never_was"], EXIT_USAGE, "has nothing in this database"),
    ("plugins", ["plugins", "disable", "nope"], EXIT_USAGE, "no installed plugin 'nope'"),
    ("partnerships", ["partnerships", "transfer", "dudley", "--to", "nope"], EXIT_USAGE, "is not loaded"),
    ("partnerships", ["partnerships", "transfer", "nowhere", "--to", "dudley"], EXIT_USAGE, "unknown partnership"),
    ("audit", ["audit", "--since", "yesterday"], EXIT_USAGE, "is not a date"),
    ("audit", ["audit", "--partnership", "nowhere"], EXIT_USAGE, "unknown partnership"),
    ("audit", ["--db", UNREACHABLE, "audit"], EXIT_ERROR, "cannot open the database"),
    ("tui", ["tui", "--colour"], EXIT_USAGE, "No such option"),
    ("tui", ["--db", "nonsense://", "tui"], EXIT_USAGE, ""),
]


def test_every_command_has_a_case():
    assert {c for c, *_ in CASES} == set(LAZY_COMMANDS)


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('errors') / 'dat.sqlite3'}"


@pytest.mark.parametrize("command, args, code, fragment", CASES,
                         ids=[f"{c}-{i}" for i, (c, *_) in enumerate(CASES)])
def test_each_command_fails_cleanly(command, args, code, fragment, shared_db, tmp_path, monkeypatch):
    bad_template = tmp_path / "bad.md.j2"
    bad_template.write_text("{% for x in %}")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("partnership,indicator,period,value\ndudley,NTA.RET12,2007/08 Q1,seventy\n")
    names = {"tmp": str(tmp_path), "bad_template": str(bad_template), "bad_csv": str(bad_csv),
             "missing_file": str(tmp_path / "missing.csv"), "no_folder": str(tmp_path / "no" / "folder")}
    args = [a.format(**names) for a in args]
    if "--db" not in args:
        args = ["--db", shared_db, *args]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, (result.output, result.stderr)
    assert "Traceback" not in result.stderr + result.output
    assert fragment in result.stderr
    if code == EXIT_ERROR or not fragment.startswith(("Invalid", "No such", "Missing")):
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines[-1].startswith("dat: "), result.stderr


def test_the_cli_exit_codes_are_the_error_model_s():
    from dat.cli import main

    assert (main.EXIT_OK, main.EXIT_ERROR, main.EXIT_USAGE) == (0, EXIT_ERROR, EXIT_USAGE)


def test_the_classes_carry_their_exit_codes():
    assert DatError("x").exit_code == EXIT_ERROR
    assert UsageError("x").exit_code == EXIT_USAGE
    for cls in (DataError, DatabaseError, PluginError):
        assert cls("x").exit_code == EXIT_ERROR and issubclass(cls, DatError)
    assert DatError("x", exit_code=EXIT_USAGE).exit_code == EXIT_USAGE
    from dat.core import importer, services
    from dat.core.importer import ImportRefused
    from dat.core.periods import PeriodError
    from dat.core.services import UnknownName

    assert issubclass(ImportRefused, DataError)
    assert issubclass(PeriodError, UsageError) and issubclass(PeriodError, ValueError)
    # the old names still work, and say they are deprecated (CHANGELOG.md, "Deprecated")
    with pytest.warns(DeprecationWarning, match="ImportRefused"):
        assert importer.ImportError_ is ImportRefused
    with pytest.warns(DeprecationWarning, match="PeriodError"):
        assert services.BadPeriod is PeriodError
    assert issubclass(UnknownName, UsageError) and issubclass(UnknownName, LookupError)


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, shared_db):
    import dat.core.services as services

    def broken(*a, **k):
        raise KeyError("boom")

    monkeypatch.setattr(services, "list_partnerships", broken)
    result = CliRunner().invoke(cli, ["--db", shared_db, "partnerships"], catch_exceptions=False)
    assert result.exit_code == EXIT_ERROR
    assert "internal error: KeyError" in result.stderr and "DAT_DEBUG=1" in result.stderr
    assert "Traceback" not in result.stderr
    monkeypatch.setenv("DAT_DEBUG", "1")
    result = CliRunner().invoke(cli, ["--db", shared_db, "partnerships"])
    assert isinstance(result.exception, KeyError)


# -- what an attack on the error model found --------------------------------------------------

@pytest.mark.parametrize("url", ["user:SECRET@127.0.0.1/x", "postgresql+psycopg://u:SECRET@127.0.0.1:badport/x",
                                 "postgresql+psycopg://u:SECRET@[::1/x"])
def test_a_malformed_url_never_shows_its_password(url, tmp_path):
    for args in (["--db", url, "partnerships"], ["--db", f"sqlite:///{tmp_path}/a.sqlite3", "db", "copy", "--to", url]):
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == EXIT_USAGE  # a malformed URL is bad usage
        assert "SECRET" not in result.stderr + result.output
        assert "internal error" not in result.stderr and result.stderr.startswith("dat: ")


def test_a_huge_argument_is_not_echoed_whole(shared_db):
    result = CliRunner().invoke(cli, ["--db", shared_db, "status", "x" * 100_000], catch_exceptions=False)
    assert result.exit_code == EXIT_USAGE
    assert len(result.stderr) < 1100 and result.stderr.count("\n") == 1


def test_a_closed_pipe_is_quiet_and_a_full_disk_is_one_line(dat, tmp_path):
    import subprocess
    import sys

    from helpers import ROOT

    db = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    # more output than a pipe holds (64 KiB), so dat is still writing when the reader goes away
    # (with less, a busy machine lets dat finish first and exit 0)
    rows = [f"{slug},DIP.REFERRALS,{y}/{(y + 1) % 100:02d} Q{q},{y + q}"
            for slug in ("dudley", "bromley", "haringey", "cheshire", "ne_lincs") for y in range(1980, 2026)
            for q in range(1, 5)]
    (tmp_path / "many.csv").write_text("partnership,indicator,period,value\n" + "\n".join(rows) + "\n")
    assert dat("--db", db, "import", str(tmp_path / "many.csv")).returncode == 0
    script = (f"import subprocess, sys; p = subprocess.Popen([sys.executable, '-m', 'dat.cli.main', '--db', {db!r}, "
              "'export'], stdout=subprocess.PIPE, stderr=subprocess.PIPE); p.stdout.read(10); p.stdout.close(); "
              "err = p.stderr.read().decode(); p.wait(); print(p.returncode); print(repr(err))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    code, err = out.stdout.splitlines()[:2]
    assert code == "141" and "Traceback" not in err and "Broken pipe" not in err, out
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "dat.cli.main", "--help"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == EXIT_ERROR
    assert "Traceback" not in result.stderr and result.stderr.startswith("dat: cannot write the output")


def test_the_tui_refuses_without_a_terminal(shared_db):
    result = CliRunner().invoke(cli, ["--db", shared_db, "tui"], catch_exceptions=False)
    assert result.exit_code == EXIT_ERROR and "needs a terminal" in result.stderr


def test_a_template_that_recurses_for_ever_is_a_template_error(shared_db, tmp_path):
    tpl = tmp_path / "recur.md.j2"
    tpl.write_text("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}")
    result = CliRunner().invoke(cli, ["--db", shared_db, "report", "dudley", "--template-file", str(tpl)],
                                catch_exceptions=False)
    assert result.exit_code == EXIT_ERROR
    assert "recursion" in result.stderr and "internal error" not in result.stderr


def test_old_builtin_bases_are_kept():
    from dat.core.dbcopy import CopyError
    from dat.core.importer import ImportRefused
    from dat.core.reports import ReportError

    for cls in (DatabaseError, PluginError, ReportError, CopyError, ImportRefused):
        assert issubclass(cls, RuntimeError) and issubclass(cls, DatError), cls


def test_ctrl_c_in_a_command_is_exit_130(monkeypatch, shared_db):
    import dat.core.services as services

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(services, "list_partnerships", interrupted)
    result = CliRunner().invoke(cli, ["--db", shared_db, "partnerships"], catch_exceptions=False)
    assert result.exit_code == 130 and "dat: interrupted" in result.stderr
