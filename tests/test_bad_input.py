"""Bad input on the command line: every case runs the real `dat`
console script and must end with one clear message naming the thing and the rule, exit 2
for bad usage (unknown names, malformed periods, options) or exit 1 for an error in data or a
run (unreadable files, unusable databases, templates that fail), and never a traceback.

One SQLite database, filled from the plugins once, serves every case that needs one; the
cases only read it or are refused before writing anything.
"""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from helpers import run_dat

# -- the files the cases use ----------------------------------------------------------------

CSV_HEAD = "partnership,indicator,period,value\n"

FILES: dict[str, bytes | str] = {
    "empty.csv": "",
    "binary.csv": bytes(range(128, 256)) * 8,
    "fake.xlsx": "this is not a workbook",
    "wrong_header.csv": "foo,bar\n1,2\n",
    "dup_column.csv": "partnership,indicator,period,value,value\ndudley,NTA.RET12,2009/10,50,60\n",
    "bad_period.csv": CSV_HEAD + "dudley,NTA.RET12,2009/13,5\n",
    "huge.csv": CSV_HEAD + "dudley,NTA.RET12,2009/10,1e400\n",
    "negative.csv": CSV_HEAD + "dudley,NTA.RET12,2009/10,-5\n",
    "underscore.csv": CSV_HEAD + "dudley,NTA.RET12,2009/10,1_0\n",
    "unicode.csv": CSV_HEAD + "düdley,NTA.RET12,2009/10,5\n",
    "bad_quote.csv": CSV_HEAD + '"dudley,NTA\n',
    "fingertips.csv": "Indicator ID,Area Code,Time period,Value\n90244,E08000027,2009/10,5\n",
    "bad.toml": '[areas\n"E1" = ',
    "areas_not_table.toml": 'areas = "dudley"\n',
    "not_string.toml": '[areas]\n"E08000027" = 5\n',
    "typo.toml": '[area]\n"E08000027" = "dudley"\n',
    "syntax.md.j2": "{{ x \n",
    "escape.md.j2": "{{ ''.__class__.__mro__[1].__subclasses__() }}\n",
    "undefined.md.j2": "{{ undefined_thing.foo }}\n",
}

PERIOD_FORMS = "Use a financial year (2009/10)"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The shared files, a filled database, a database from a 'newer dat' and the URLs."""
    root = tmp_path_factory.mktemp("bad_input")
    files = root / "files"
    files.mkdir()
    for name, content in FILES.items():
        path = files / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (files / "adir").mkdir()
    db = root / "dat.sqlite3"
    url = f"sqlite:///{db}"
    data_dir = root / "data"
    out = run_dat("--db", url, "partnerships", "--format", "csv", env={"DAT_DATA_DIR": str(data_dir)})
    assert out.returncode == 0, out.stderr
    future = root / "future.sqlite3"
    shutil.copy(db, future)
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    return {"f": str(files), "db": url, "root": str(root), "future": f"sqlite:///{future}"}


# -- the table: id, arguments, exit code, a phrase the message must contain ------------------
# "{f}" is the folder of FILES, "{db}" the filled database, "{tmp}" the test's own folder.
# Arguments that do not start with --db get "--db {db}" in front.

CASES = [
    # click's own usage errors
    ("unknown-command", ["nosuchcmd"], 2, "No such command 'nosuchcmd'"),
    ("misspelt-option", ["status", "dudley", "--perod", "2009/10"], 2, "Did you mean '--period'"),
    ("unknown-format", ["status", "dudley", "-f", "xml"], 2, "'xml' is not one of"),
    ("missing-argument", ["status"], 2, "Missing argument 'PARTNERSHIP'"),
    ("bad-benchmark", ["compare", "-i", "NI40", "-b", "nope"], 2, "'nope' is not one of"),
    ("export-bad-what", ["export", "--what", "nope"], 2, "'nope' is not one of"),
    # unknown names, with the valid choices
    ("unknown-partnership", ["status", "nosuch"], 2, "unknown partnership 'nosuch'; choose from: bolton"),
    ("empty-partnership", ["status", ""], 2, "unknown partnership ''"),
    ("unicode-partnership", ["actions", "düdley"], 2, "(did you mean dudley?)"),
    ("unknown-indicator", ["compare", "-i", "NOPE"], 2, "unknown indicator 'NOPE'; choose from: DIP."),
    ("compare-unknown-partnership", ["compare", "nosuch", "-i", "NI40"], 2, "unknown partnership 'nosuch'"),
    ("unknown-framework", ["indicators", "--framework", "xx"], 2, "unknown framework 'xx'; choose from: NI"),
    ("indicators-unknown-partnership", ["indicators", "-p", "nosuch"], 2, "unknown partnership 'nosuch'"),
    ("unknown-action-status", ["actions", "dudley", "--status", "nope"], 2,
     "unknown status 'nope'; choose from: not started"),
    ("unknown-template", ["report", "dudley", "-t", "nope"], 2, "unknown template 'nope'; choose from"),
    ("history-unknown-indicator", ["history", "dudley", "NOPE"], 2, "unknown indicator 'NOPE'"),
    ("export-unknown-partnership", ["export", "-p", "nosuch"], 2, "unknown partnership 'nosuch'"),
    # periods: malformed, or a quarter where a year is needed
    ("period-second-year", ["status", "dudley", "-P", "2009/13"], 2, "the second year must follow the first"),
    ("period-q5", ["status", "dudley", "-P", "Q5 2009/10"], 2, "quarters are Q1-Q4"),
    ("period-empty", ["status", "dudley", "-P", ""], 2, "it is empty"),
    ("period-bare-year", ["status", "dudley", "-P", "2009"], 2, "a bare year is ambiguous"),
    ("period-backwards", ["status", "dudley", "-P", "2009/10 Q3-Q1"], 2, "the range runs backwards"),
    ("period-out-of-range", ["status", "dudley", "-P", "1850/51"], 2, "out of range 1900-2199"),
    ("compare-bad-period", ["compare", "-i", "NI40", "-P", "2009/13"], 2, PERIOD_FORMS),
    ("funding-quarter", ["funding", "bromley", "--year", "2009/10 Q1"], 2, "funding is by financial year"),
    ("funding-bare-year", ["funding", "bromley", "--year", "2009"], 2, "a bare year is ambiguous"),
    ("history-bad-period", ["history", "dudley", "NTA.RET12", "-P", "2009/13"], 2, PERIOD_FORMS),
    ("report-year-quarter", ["report", "dudley", "-y", "2009/10 Q1"], 2, "funding is by financial year"),
    ("split-bare-year", ["scenario", "split", "cheshire", "--year", "2009"], 2, "a bare year is ambiguous"),
    ("merge-bad-year", ["scenario", "merge", "cheshire", "bromley", "--year", "2009/13"], 2, PERIOD_FORMS),
    # report templates and output
    ("template-file-missing", ["report", "dudley", "--template-file", "{f}/nope.j2"], 1, "no such template file"),
    ("template-file-directory", ["report", "dudley", "--template-file", "{f}/adir"], 2, "is a directory"),
    ("template-syntax-error", ["report", "dudley", "--template-file", "{f}/syntax.md.j2"], 1,
     "syntax.md.j2, line 1: unexpected end of template"),
    ("template-sandbox-escape", ["report", "dudley", "--template-file", "{f}/escape.md.j2"], 1,
     "SecurityError: access to attribute '__class__'"),
    ("template-undefined", ["report", "dudley", "--template-file", "{f}/undefined.md.j2"], 1,
     "'undefined_thing' is undefined"),
    ("template-binary", ["report", "dudley", "--template-file", "{f}/binary.csv"], 1, "cannot read template"),
    ("template-and-file", ["report", "dudley", "-t", "scorecard", "--template-file", "{f}/syntax.md.j2"], 2,
     "give --template or --template-file, not both"),
    ("report-unknown-suffix", ["report", "dudley", "-o", "{tmp}/out.pdf"], 2,
     "unknown output format '.pdf'; choose from"),
    ("report-no-folder", ["report", "dudley", "-o", "{tmp}/nodir/out.md"], 1, "cannot write"),
    ("report-format-without-list", ["report", "dudley", "-f", "json"], 2, "--format is for --list"),
    # import: unreadable files, bad rows, bad mappings
    ("import-missing", ["import", "{f}/nope.csv"], 1, "nope.csv: no such file"),
    ("import-directory", ["import", "{f}/adir"], 2, "is a directory"),
    ("import-empty", ["import", "{f}/empty.csv"], 1, "empty.csv: the file is empty"),
    ("import-binary", ["import", "{f}/binary.csv"], 1, "binary.csv:1: not UTF-8 text"),
    ("import-fake-xlsx", ["import", "{f}/fake.xlsx"], 1, "fake.xlsx: not a readable .xlsx workbook"),
    ("import-wrong-header", ["import", "{f}/wrong_header.csv"], 1, "wrong_header.csv:1: unrecognised header"),
    ("import-duplicate-column", ["import", "{f}/dup_column.csv"], 1,
     "dup_column.csv:1: the column 'value' appears more than once"),
    ("import-bad-period", ["import", "{f}/bad_period.csv"], 1, "bad_period.csv:2: period: '2009/13'"),
    ("import-huge-number", ["import", "{f}/huge.csv"], 1, "huge.csv:2: value: '1e400' is not a finite number"),
    ("import-negative", ["import", "{f}/negative.csv"], 1, "negative.csv:2: value: -5 is not a percentage"),
    ("import-underscore", ["import", "{f}/underscore.csv"], 1, "underscore.csv:2: value: '1_0' is not a number"),
    ("import-unicode", ["import", "{f}/unicode.csv"], 1, "unicode.csv:2: partnership: unknown partnership 'düdley'"),
    ("import-malformed-csv", ["import", "{f}/bad_quote.csv"], 1, "bad_quote.csv:2: malformed CSV"),
    ("mapping-malformed", ["import", "{f}/fingertips.csv", "--mapping", "{f}/bad.toml"], 1,
     "bad.toml: cannot read the mapping"),
    ("mapping-not-table", ["import", "{f}/fingertips.csv", "--mapping", "{f}/areas_not_table.toml"], 1,
     "areas must be a table"),
    ("mapping-not-string", ["import", "{f}/fingertips.csv", "--mapping", "{f}/not_string.toml"], 1,
     "[areas] 'E08000027': expected a partnership slug as a string, got 5"),
    ("mapping-unknown-table", ["import", "{f}/fingertips.csv", "--mapping", "{f}/typo.toml"], 1,
     "unknown mapping table 'area'"),
    # export
    ("export-no-folder", ["export", "-o", "{tmp}/nodir/out.csv"], 1, "is not an existing folder"),
    ("export-xlsx-under-file", ["export", "-o", "{f}/empty.csv/out.xlsx"], 1, "is not an existing folder"),
    ("export-unknown-suffix", ["export", "-o", "{tmp}/out.pdf"], 2, "use .csv, .json or .xlsx"),
    ("export-mapping-not-table", ["export", "--fingertips", "{f}/areas_not_table.toml"], 1,
     "areas must be a table"),
    # databases
    ("db-not-a-url", ["--db", "notaurl", "status", "dudley"], 2, "not a database URL: 'notaurl'"),
    ("db-mysql", ["--db", "mysql://x", "partnerships"], 2, "dat stores its data in SQLite"),
    ("db-unreachable", ["--db", "postgresql+psycopg://nobody@127.0.0.1:1/x", "partnerships"], 1,
     "cannot open the database postgresql+psycopg://nobody@127.0.0.1:1/x"),
    ("db-folder-is-a-file", ["--db", "sqlite:///{f}/empty.csv/x.db", "partnerships"], 1,
     "a file is in the way, not a folder"),
    ("db-not-a-database", ["--db", "sqlite:///{f}/binary.csv", "partnerships"], 1, "is not an SQLite database"),
    ("db-newer-schema", ["--db", "{future}", "partnerships"], 1, "schema revision 9999, which this dat does not know"),
    ("db-upgrade-newer-schema", ["--db", "{future}", "db", "upgrade"], 1, "which this dat does not know"),
    ("db-info-not-a-url", ["--db", "notaurl", "db", "info"], 2, "not a database URL"),
    ("db-copy-to-not-a-url", ["db", "copy", "--to", "notaurl"], 2, "not a database URL"),
    ("db-copy-to-itself", ["db", "copy", "--to", "{db}"], 1, "the source and the target are the same database"),
    ("db-copy-missing-source", ["--db", "sqlite:///{tmp}/nothere.sqlite3", "db", "copy", "--to",
                                "sqlite:///{tmp}/y.sqlite3"], 1, "nothere.sqlite3 does not exist"),
    ("db-copy-missing-to", ["db", "copy"], 2, "Missing option '--to'"),
    ("tui-not-a-url", ["--db", "notaurl", "tui"], 2, "not a database URL"),
    # scenarios
    ("split-no-sub-areas", ["scenario", "split", "dudley"], 2, "unknown partnership with sub-areas 'dudley'"),
    ("split-share-nan", ["scenario", "split", "cheshire", "--share", "cheshire_east=nan"], 2,
     "expected SUBAREA=FRACTION with a non-negative number"),
    ("split-share-and-by", ["scenario", "split", "cheshire", "--share", "cheshire_east=1", "--by", "NI40"], 2,
     "give --share or --by, not both"),
    ("split-floor-nan", ["scenario", "split", "cheshire", "--floor", "nan"], 2, "--floor 'nan': expected an amount"),
    ("split-floor-negative", ["scenario", "split", "cheshire", "--floor", "-5"], 2, "--floor '-5'"),
    ("merge-twice", ["scenario", "merge", "cheshire", "cheshire"], 2, "cheshire named more than once"),
    ("merge-with-sub-area", ["scenario", "merge", "cheshire", "cheshire_east"], 2,
     "cheshire_east is part of cheshire"),
    ("merge-one", ["scenario", "merge", "cheshire"], 2, "merge needs at least two partnerships"),
    # new-partnership
    ("scaffold-empty-name", ["new-partnership", "  ", "--dir", "{tmp}"], 2, "NAME must not be empty"),
    ("scaffold-bad-slug", ["new-partnership", "Sefton", "--slug", "Bad Slug", "--dir", "{tmp}"], 2,
     "slug 'Bad Slug' is not valid"),
    ("scaffold-slug-taken", ["new-partnership", "Dudley", "--dir", "{tmp}"], 2, "slug 'dudley' is taken"),
    ("scaffold-control-chars", ["new-partnership", "Sef\nton", "--dir", "{tmp}"], 2, "control characters"),
    ("scaffold-region-backslash", ["new-partnership", "Sefton", "--region", "North\\West", "--dir", "{tmp}"], 2,
     "--region must not contain quotes, backslashes"),
    ("scaffold-dir-under-file", ["new-partnership", "Sefton", "--dir", "{f}/empty.csv/sub"], 2,
     "is not an existing folder"),
]

# commands that fail before touching a database get no --db in front
NO_DB = {"new-partnership"}


@pytest.mark.parametrize("args,code,phrase", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_message(env, tmp_path, args, code, phrase):
    subs = {**env, "tmp": str(tmp_path)}
    argv = [a.format(**subs) if "{" in a and "{{" not in a else a for a in args]
    if argv[0] != "--db" and argv[0] not in NO_DB:
        argv = ["--db", env["db"], *argv]
    out = run_dat(*argv, env={"DAT_DATA_DIR": str(tmp_path / "data")})
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == code, (out.returncode, out.stderr)
    assert phrase in out.stderr, out.stderr


def test_case_table_is_large_and_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 40


def test_refused_export_and_merge_write_nothing(env, tmp_path):
    out = run_dat("--db", env["db"], "export", "-o", str(tmp_path / "nodir" / "x.csv"))
    assert out.returncode == 1 and not (tmp_path / "nodir").exists()
    # a merge that would count a sub-area's money twice is refused, not summed
    out = run_dat("--db", env["db"], "scenario", "merge", "chester", "cheshire", "-f", "csv")
    assert out.returncode == 2 and out.stdout == ""


def test_copy_of_an_empty_database(tmp_path):
    """An empty (migrated, no rows) database copies: an empty batch used to insert a row of
    NULLs and fail."""
    src, dst = f"sqlite:///{tmp_path / 'empty.sqlite3'}", f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    assert run_dat("--db", src, "db", "upgrade").returncode == 0
    out = run_dat("--db", src, "db", "copy", "--to", dst, "--verify", "-f", "json")
    assert "Traceback" not in out.stderr
    assert out.returncode == 0, out.stderr
    assert "every table verified identical" in out.stderr


def test_duplicate_names_are_listed_once(env):
    out = run_dat("--db", env["db"], "funding", "bromley", "bromley", "-f", "csv")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].split(",").count("bromley") == 0  # one partnership: its own listing
    out = run_dat("--db", env["db"], "compare", "dudley", "dudley", "-i", "NTA.RET12", "-f", "csv")
    assert out.returncode == 0
    assert [line.split(",")[0] for line in out.stdout.splitlines()[1:]] == ["dudley"]


def test_scaffolded_name_with_quotes_and_backslashes_is_valid_python(tmp_path):
    out = run_dat("new-partnership", 'Odd \\x "name" """', "--slug", "odd_name", "--dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    source = (tmp_path / "dat-odd-name" / "dat_odd_name" / "__init__.py").read_text()
    compile(source, "__init__.py", "exec")  # a SyntaxError fails the test


def test_misspelt_plugin_allow_list_is_named(env, tmp_path):
    out = run_dat("--db", f"sqlite:///{tmp_path / 'p.sqlite3'}", "plugins", "-f", "csv",
                  env={"DAT_LOAD_PLUGINS": "dudly,bromley", "DAT_DATA_DIR": str(tmp_path)})
    assert out.returncode == 0
    assert "DAT_LOAD_PLUGINS names 'dudly', which is not an installed plugin" in out.stderr
