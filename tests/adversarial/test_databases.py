"""Hostile and careless databases: read-only files, folders and logins; someone else's
database; passwords in URLs; malformed URLs; paths that are folders, devices, pipes or in
folders that do not exist; busy, damaged and newer databases.

Every refusal asserts the exit code, one clear ``dat: `` line, no traceback and the database
unchanged (``db_digest``, or the file's bytes when it is not a database). Most cases call the
CLI in-process with click's CliRunner; only the read-only SQLite cases run the real console
script, as they need a process without root's power to write anything (CAP_DAC_OVERRIDE is
dropped from it when the tests run as root).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from helpers import db_digest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dat.cli.main import cli
from dat.core import db as dbmod
from dat.core.errors import DatabaseError, UsageError

HEADER = "partnership,indicator,period,value,numerator,denominator,note\n"
ROW = "dudley,NTA.RET12,2007/08 Q2,75,75,100,a new figure\n"


# -- helpers ---------------------------------------------------------------------------------

def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def assert_refused(result, code: int, *fragments: str, secrets: tuple[str, ...] = ()):
    err = result.stderr
    out = err + result.output
    assert result.exit_code == code, (result.exit_code, out)
    assert "Traceback" not in out and "internal error" not in out, out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dat: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    for secret in secrets:
        assert secret not in out, (secret, out)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def dat_file(seed_store, tmp_path) -> Path:
    """A copy of the filled seed database (dat schema, plugin data, sync state)."""
    src = sqlite3.connect(seed_store.engine.url.database)
    path = tmp_path / "dat.sqlite3"
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    return path


def _pg_admin(base: str, sql: str, dbname: str | None = None) -> None:
    import psycopg

    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    if dbname:
        plain = plain.rsplit("/", 1)[0] + "/" + dbname
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(sql)


def _unprivileged() -> None:  # pragma: no cover - runs in the child before exec
    """Drop root's power to ignore file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_unprivileged(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("dat")
    pre = _unprivileged if os.geteuid() == 0 else None
    try:
        return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120,
                              preexec_fn=pre)
    except subprocess.SubprocessError as exc:  # pragma: no cover - no prctl in this sandbox
        pytest.skip(f"cannot drop root's file powers here: {exc}")


def check_proc(result: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    out = result.stderr + result.stdout
    assert result.returncode == code, out
    assert "Traceback" not in out and "internal error" not in out, out
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dat: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


# -- 4. malformed URLs are bad usage (exit 2), one line ----------------------------------------

@pytest.mark.parametrize("url, fragment", [
    ("postgresql://u@h:abc/db", "port that is not a number"),
    ("postgresql+psycopg://u:SECRETPW@h:12ab/db", "port that is not a number"),
    ("mysql://u@h/db", "dat stores its data in SQLite"),
    ("oracle+cx_oracle://u@h/db", "dat stores its data in SQLite"),
    ("", "the database URL is empty"),
    ("   ", "the database URL is empty"),
    ("garbage", "not a database URL"),
    ("://", "not a database URL"),
    ("sqlite://", "in-memory database"),
    ("sqlite:///:memory:", "in-memory database"),
    ("sqlite://relative/x.sqlite3", "has a host part"),
    (" sqlite:///x.sqlite3", "starts or ends with a space"),
    ("sqlite:///x.sqlite3\n", "starts or ends with a space"),
    ("postgresql+psycopg://u@h/", "names no database"),
    ("postgresql+psycopg://u:SECRETPW@[::1/x", "database URL"),
    ("user:SECRETPW@127.0.0.1/x", "not a database URL"),
    # fix11: a host name no server can have is the user's typo, not a server down (exit 1)
    ("postgresql://u@ho st:5432/x", "has a host name that is not valid ('ho st')"),
    ("postgresql+psycopg://u:SECRETPW@bad_host!:5432/x", "host name that is not valid ('bad_host!')"),
    ("postgresql://u@db..example.org/x", "host name that is not valid"),
    ("postgresql://u@-dbhost/x", "host name that is not valid"),
    ("postgresql://u@ho%20st/x", "host name that is not valid"),
    ("postgresql://u@h1,h 2/x", "host name that is not valid"),
    ("postgresql://u@" + "a" * 64 + ".example.org/x", "host name that is not valid"),
])
def test_a_malformed_url_is_a_usage_error(url, fragment, tmp_path):
    before = sorted(os.listdir(tmp_path))
    assert_refused(invoke("--db", url, "partnerships"), 2, fragment, secrets=("SECRETPW",))
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("url, password, database", [
    ("postgres://dat:Pw1secret@dbhost/r3@db", "Pw1secret", "r3@db"),
    ("POSTGRES://dat:Pw1secret@dbhost/db", "Pw1secret", "db"),
    ("PostgreSQL+Psycopg://dat:Pw1secret@dbhost/db", "Pw1secret", "db"),
    ("postgresql://dat:p/w1secret@dbhost:5/r3@db", "p/w1secret", "r3@db"),
])
def test_a_database_name_may_hold_an_at_and_a_scheme_any_case(url, password, database):
    """r3 I6: an "@" in the database name is not one in the password (the host stays shown),
    and a URL's scheme is case-insensitive."""
    parsed = dbmod.parse_url(url)
    assert (parsed.drivername, parsed.host, parsed.database) == ("postgresql+psycopg", "dbhost", database)
    shown = dbmod.mask_url(url)
    assert password not in shown and "dbhost" in shown, shown


@pytest.mark.parametrize("url", ["postgresql://dat:pa@ss/x@dbhost/db", "postgresql://us@er:pw@dbhost/db",
                                 "postgresql://dat:pa@ss@dbhost/db"])
def test_an_unencoded_at_in_the_userinfo_is_still_refused(url):
    with pytest.raises(UsageError, match="percent-encode it as %40"):
        dbmod.parse_url(url)
    assert "ss/x" not in dbmod.mask_url(url) and "pa@" not in dbmod.mask_url(url)


def test_a_huge_url_is_cut_in_the_message():
    url = "postgresql+psycopg://u:SECRETPW@h:99x/" + "d" * 100_000
    result = invoke("--db", url, "partnerships")
    assert_refused(result, 2, "port that is not a number", secrets=("SECRETPW",))
    assert len(result.stderr) < 1200


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_as_a_url_parses_or_is_a_usage_error(text):
    try:
        dbmod.parse_url(text)
    except UsageError as exc:
        assert "\n" not in str(exc).strip() or text.count("\n")  # the URL is shown as repr
    # nothing else may escape


@pytest.mark.parametrize("url, host", [
    ("postgresql://u@db.example.org/x", "db.example.org"),
    ("postgresql://u@db.example.org./x", "db.example.org."),
    ("postgresql://u@my_db:5432/x", "my_db"),  # a container name
    ("postgresql://u@[::1]:5432/x", "::1"),
    ("postgresql://u@10.0.0.7/x", "10.0.0.7"),
    ("postgresql://u@primary,standby/x", "primary,standby"),  # libpq tries each
    ("postgresql://u@bücher.example/x", "bücher.example"),
])
def test_a_valid_host_name_is_accepted(url, host):
    assert dbmod.parse_url(url).host == host


def test_an_empty_dat_database_url_is_refused_like_an_empty_db_option(tmp_path):
    """fix11: ``--db ''`` was refused (exit 2) while an empty DAT_DATABASE_URL quietly meant the
    default database, so ``DAT_DATABASE_URL="$URL"`` with $URL unset wrote to the wrong place.
    Both are now the same usage error, and nothing is created in the data folder."""
    data = tmp_path / "data"
    data.mkdir()
    csv = tmp_path / "f.csv"
    csv.write_text(HEADER + ROW)
    for env in ({"DAT_DATABASE_URL": "", "DAT_DATA_DIR": str(data)},
                {"DAT_DATABASE_URL": "  ", "DAT_DATA_DIR": str(data)}):
        for args in (["partnerships"], ["db", "info"], ["import", str(csv)]):
            assert_refused(invoke(*args, env=env), 2, "empty")
    assert_refused(invoke("partnerships", env={"DAT_DATABASE_URL": "", "DAT_DATA_DIR": str(data)}), 2,
                   "DAT_DATABASE_URL is set but empty", "unset it")
    assert_refused(invoke("--db", "", "partnerships"), 2, "the database URL is empty")
    assert os.listdir(data) == []


def test_a_url_with_spaces_in_the_sqlite_path_is_accepted(tmp_path):
    folder = tmp_path / "my data folder"
    folder.mkdir()
    url = sqlite_url(folder / "dat base.sqlite3")
    result = invoke("--db", url, "db", "upgrade")
    assert result.exit_code == 0, result.stderr
    assert (folder / "dat base.sqlite3").exists()
    assert dbmod.current_revision(dbmod.get_engine(url)) == dbmod.HEAD_REVISION


def test_plain_postgresql_scheme_uses_psycopg3(pg_server_url):
    plain = pg_server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    assert dbmod.parse_url(plain).drivername in ("postgresql+psycopg", "postgresql")


# -- 3. passwords are masked everywhere ----------------------------------------------------------

SECRET_URLS = [
    ("postgresql+psycopg://u:Hunter2pw@127.0.0.1:1/x", ("Hunter2pw",)),
    ("postgresql+psycopg://u@127.0.0.1:1/x?password=QueryPw77", ("QueryPw77",)),
    ("postgresql+psycopg://u@127.0.0.1:1/x?sslpassword=SslPw88&sslmode=prefer", ("SslPw88",)),
    ("postgresql+psycopg://u:ab%40cdPw@127.0.0.1:1/x", ("ab%40cdPw", "ab@cdPw")),
    ("postgresql+psycopg://u:p%C3%A4ssW%C3%B6rt@127.0.0.1:1/x", ("p%C3%A4ssW%C3%B6rt", "pässWört")),
    ("postgresql+psycopg://u:pässWört9@127.0.0.1:1/x", ("pässWört9",)),
    ("postgresql+psycopg://u:sl/ash@at@127.0.0.1:1/x", ("sl/ash@at", "ash@at")),
    ("postgresql+psycopg://u:Tok3n@127.0.0.1:1/x?token=Tok3nQ&PassWord=UpperPw", ("Tok3n", "Tok3nQ", "UpperPw")),
]


@pytest.mark.parametrize("url, secrets", SECRET_URLS)
def test_a_failing_command_never_shows_the_password(url, secrets):
    # "cannot open the database ..." or, for an option libpq does not know, "database error on ..."
    # an unencoded "@" in the password is refused before the driver sees it (usage, exit 2)
    code, fragment = (2, "percent-encode it as %40") if "@at@" in url else (1, "database")
    assert_refused(invoke("--db", url, "partnerships"), code, fragment, secrets=secrets)
    assert_refused(invoke("--db", url, "db", "info"), code, fragment, secrets=secrets)


@pytest.fixture(scope="module")
def copy_source(tmp_path_factory) -> str:
    url = sqlite_url(tmp_path_factory.mktemp("copy-source") / "src.sqlite3")
    assert invoke("--db", url, "db", "upgrade").exit_code == 0
    return url


_PASSWORD = st.text(st.sampled_from("abcXYZ019@:/#?%&=+;, !$'()*[]~_-.\\"), min_size=8, max_size=24)


@settings(max_examples=60, deadline=None)
@given(_PASSWORD)
def test_a_random_password_never_shows_in_any_failure(copy_source, password):
    """H1: the userinfo is everything up to the last "@" before the host: a password with
    an unencoded @ : / # ? % (or any of them) is never shown, raw or percent-decoded, by a
    command that fails on the URL (refused as a URL, or by the driver)."""
    from urllib.parse import unquote

    url = f"postgresql://dat:{password}@127.0.0.1:1/x"
    secrets = tuple({password, unquote(password)})
    for args in (("--db", url, "partnerships"), ("--db", url, "db", "info"),
                 ("--db", copy_source, "db", "copy", "--to", url)):
        result = invoke(*args, env={"DAT_DATABASE_URL": ""})
        out = result.stderr + result.output
        assert result.exit_code in (1, 2), out
        assert "Traceback" not in out and "internal error" not in out, out
        for secret in secrets:
            assert secret not in out, (secret, out)


@pytest.mark.parametrize("url, secrets", SECRET_URLS)
def test_mask_url_hides_every_secret(url, secrets):
    shown = dbmod.mask_url(url)
    assert "***" in shown and "127.0.0.1" in shown
    for secret in secrets:
        assert secret not in shown
        assert secret not in dbmod.mask_text(f"driver said: {url} and password={secret}", url)
    assert secrets[0] not in dbmod.mask_text(f"no route ({secrets[0]})", url)


@settings(max_examples=80, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_any_password_is_masked(password):
    secret = "Zq9" + password
    for url in (f"postgresql+psycopg://user:{quote(secret, safe='')}@host:5432/db",
                f"postgresql+psycopg://user@host:5432/db?password={quote(secret, safe='')}"):
        assert secret not in dbmod.mask_url(url)
        assert quote(secret, safe="") not in dbmod.mask_url(url)
        assert secret not in dbmod.mask_text(f"error near {secret}!", url)


def test_db_info_that_succeeds_masks_the_passwords(pg_server_url, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a password is a server's")
    dbmod.open_database(db_url, sync=False)
    # the test server trusts local logins, so any password works: the point is what is shown
    url = db_url.replace("://dat:dat@", "://dat:InfoPw123@", 1) + "?password=InfoPw123&sslpassword=SslInfo9"
    for fmt in ("json", "csv", "table"):
        result = invoke("--db", url, "db", "info", "-f", fmt)
        assert result.exit_code == 0, result.stderr
        out = result.stderr + result.output
        assert "InfoPw123" not in out and "SslInfo9" not in out
        assert "***" in out
    engine = dbmod.get_engine(url)
    assert "InfoPw123" not in repr(engine) and "InfoPw123" not in repr(engine.url)


def test_server_down_is_one_clear_line():
    assert_refused(invoke("--db", "postgresql+psycopg://dat:DownPw1@127.0.0.1:1/dat", "status", "dudley"),
                   1, "cannot open the database", "Connection refused", secrets=("DownPw1",))


def test_a_database_that_does_not_exist_on_the_server(pg_server_url):
    url = pg_server_url.rsplit("/", 1)[0] + f"/nosuch_{uuid.uuid4().hex[:8]}?password=NoDbPw4"
    assert_refused(invoke("--db", url, "partnerships"), 1, "cannot open the database", "does not exist",
                   secrets=("NoDbPw4",))


def test_an_unknown_login_is_one_clear_line(pg_server_url):
    url = pg_server_url.replace("://dat:dat@", "://nobody_here:WrongPw5@", 1)
    assert_refused(invoke("--db", url, "partnerships"), 1, "cannot open the database", "nobody_here",
                   secrets=("WrongPw5",))


# -- 5. paths: nothing creates a folder that was named ------------------------------------------

def test_a_named_folder_that_does_not_exist_is_not_created(tmp_path):
    target = tmp_path / "no" / "such" / "x.sqlite3"
    assert_refused(invoke("--db", sqlite_url(target), "partnerships"), 1,
                   f"the folder {target.parent} does not exist")
    assert not (tmp_path / "no").exists()


def test_dat_database_url_in_a_missing_folder_is_not_created(tmp_path):
    target = tmp_path / "missing" / "x.sqlite3"
    assert_refused(invoke("status", "dudley", env={"DAT_DATABASE_URL": sqlite_url(target)}), 1,
                   "does not exist")
    assert not (tmp_path / "missing").exists()


def test_the_tui_in_a_missing_folder_exits_before_opening(tmp_path):
    target = tmp_path / "nonexistent" / "x.sqlite3"
    for args in (["tui", "--db", sqlite_url(target)], ["--db", sqlite_url(target), "tui"]):
        assert_refused(invoke(*args), 1, "does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_db_copy_into_a_missing_folder_is_refused(dat_file, tmp_path):
    before = db_digest(sqlite_url(dat_file))
    target = tmp_path / "gone" / "copy.sqlite3"
    assert_refused(invoke("--db", sqlite_url(dat_file), "db", "copy", "--to", sqlite_url(target)), 1,
                   "does not exist")
    assert not (tmp_path / "gone").exists()
    assert db_digest(sqlite_url(dat_file)) == before


def test_db_info_does_not_create_a_file(tmp_path):
    target = tmp_path / "looked-at.sqlite3"
    assert_refused(invoke("--db", sqlite_url(target), "db", "info"), 1, "does not exist")
    assert not target.exists()


def test_the_default_data_folder_is_still_created(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv("DAT_DATA_DIR")
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "fresh" / "data"))
    dbmod.open_database(sync=False)
    assert (tmp_path / "fresh" / "data" / "dat.sqlite3").exists()


def test_a_dat_data_dir_that_does_not_exist_is_refused(tmp_path):
    """E2: DAT_DATA_DIR names a folder explicitly: a typo is not created."""
    res = invoke("partnerships", env={"DAT_DATA_DIR": str(tmp_path / "nowhere" / "deep")})
    assert_refused(res, 2, "DAT_DATA_DIR", str(tmp_path / "nowhere" / "deep"), "does not exist")
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_a_device_and_a_pipe_are_not_databases(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, fragment in ((tmp_path, "is a folder, not a database file"),
                           (Path("/dev/null"), "is a device, not a database file"),
                           (fifo, "is a pipe, not a database file")):
        assert_refused(invoke("--db", sqlite_url(path), "partnerships"), 1, fragment)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_file_in_the_way_of_the_folder(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert_refused(invoke("--db", sqlite_url(tmp_path / "afile" / "x.sqlite3"), "partnerships"), 1,
                   "not a folder")


# -- 2. files that are not dat databases ------------------------------------------------------

@pytest.mark.parametrize("content", [os.urandom(3000), b"partnership,indicator\nthis is a text file\n" * 50],
                         ids=["random-bytes", "text-file"])
def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path, content):
    path = tmp_path / "not-a-db.sqlite3"
    path.write_bytes(content)
    before = file_hash(path)
    for args in (["partnerships"], ["db", "upgrade"], ["db", "info"]):
        assert_refused(invoke("--db", sqlite_url(path), *args), 1, "is not an SQLite database")
    assert file_hash(path) == before


def test_an_empty_file_is_initialised(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.write_bytes(b"")
    result = invoke("--db", sqlite_url(path), "db", "upgrade")
    assert result.exit_code == 0, result.stderr
    assert dbmod.current_revision(dbmod.get_engine(sqlite_url(path))) == dbmod.HEAD_REVISION


def test_a_truncated_sqlite_file_is_damaged(dat_file):
    data = dat_file.read_bytes()
    dat_file.write_bytes(data[: len(data) // 3])
    before = file_hash(dat_file)
    result = invoke("--db", sqlite_url(dat_file), "status", "dudley")
    assert_refused(result, 1)
    assert "damaged" in result.stderr or "not an SQLite database" in result.stderr
    assert file_hash(dat_file) == before


def _foreign(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for name in ("a", "b", "c"):
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v TEXT)"))
            conn.execute(text(f"INSERT INTO {name} (id, v) VALUES (1, 'theirs')"))
    engine.dispose()


def test_someone_elses_database_is_refused_then_adopted(db_url):
    _foreign(db_url)
    before = db_digest(db_url)
    for args in (["partnerships"], ["db", "upgrade"], ["status", "dudley"]):
        assert_refused(invoke("--db", db_url, *args), 1,
                       "is not a dat database (it has tables: a, b, c); use `dat db upgrade --adopt`")
    assert db_digest(db_url) == before
    result = invoke("--db", db_url, "db", "upgrade", "--adopt")
    assert result.exit_code == 0, result.stderr
    engine = dbmod.get_engine(db_url)
    assert dbmod.current_revision(engine) == dbmod.HEAD_REVISION
    from sqlalchemy import text

    with engine.connect() as conn:  # their rows are left alone
        assert [conn.execute(text(f"SELECT v FROM {t}")).scalar() for t in "abc"] == ["theirs"] * 3


def test_the_tui_refuses_someone_elses_database_before_opening(tmp_path):
    url = sqlite_url(tmp_path / "theirs.sqlite3")
    _foreign(url)
    before = db_digest(url)
    assert_refused(invoke("--db", url, "tui"), 1, "is not a dat database")
    assert db_digest(url) == before


def test_a_dat_database_with_extra_tables_is_accepted(dat_file):
    url = sqlite_url(dat_file)
    with sqlite3.connect(dat_file) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes VALUES (1, 'kept')")
    result = invoke("--db", url, "partnerships", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert "dudley" in result.output
    with sqlite3.connect(dat_file) as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("kept",)]


@pytest.mark.parametrize("revision", ["9999", "ae1027a6acf"])
def test_an_unknown_revision_names_both(db_url, revision):
    from sqlalchemy import text

    dbmod.open_database(db_url, sync=False)
    with dbmod.get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    dbmod.dispose_engines()
    before = db_digest(db_url)
    for args in (["partnerships"], ["db", "upgrade"]):
        assert_refused(invoke("--db", db_url, *args), 1, f"schema revision {revision}",
                       f"knows up to {dbmod.HEAD_REVISION}")
    assert db_digest(db_url) == before


@pytest.mark.parametrize("revision", ["0001", "0002", "0003", "0004"])
def test_db_info_on_an_older_revision_says_to_upgrade(db_url, revision):
    """fix11: ``dat db info`` on a database at an older revision said "no such table: audit";
    it reports the revision, the tables it has, and that ``dat db upgrade`` migrates it, and
    changes nothing (info never migrates)."""
    engine = dbmod.get_engine(db_url)
    dbmod.migrate(engine, revision)
    dbmod.dispose_engines()
    before = db_digest(db_url)
    result = invoke("--db", db_url, "db", "info", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert f"schema revision {revision} (this dat expects {dbmod.HEAD_REVISION})" in result.stderr
    assert "`dat db upgrade` migrates it" in result.stderr and "no such table" not in result.stderr
    info = json.loads(result.stdout)
    assert (info["revision"], info["status"]) == (revision, "behind")
    tables = [t["table"] for t in info["tables"]]
    assert "partnership" in tables and ("audit" in tables) == (revision >= "0004")
    dbmod.dispose_engines()
    assert db_digest(db_url) == before


def test_db_info_on_a_real_revision_0003_database_counts_its_rows(tmp_path):
    """The dump of a real revision-0003 database (tests/data, 140 figures): info lists what it
    holds and leaves it at 0003."""
    import gzip

    path = tmp_path / "old.sqlite3"
    data = Path(__file__).resolve().parents[1] / "data" / "rev0003_with_data.sql.gz"
    with gzip.open(data, "rt", encoding="utf-8") as fh:
        con = sqlite3.connect(path)
        con.executescript(fh.read())
        con.close()
    before = db_digest(sqlite_url(path))
    result = invoke("--db", sqlite_url(path), "db", "info", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert "schema revision 0003" in result.stderr and "dat db upgrade" in result.stderr
    rows = {t["table"]: t["rows"] for t in json.loads(result.stdout)["tables"]}
    assert rows["observation"] == 140 and rows["partnership"] == 19
    dbmod.dispose_engines()
    assert db_digest(sqlite_url(path)) == before  # still revision 0003: info never migrates


def test_db_info_on_the_current_revision_is_current(db_url):
    dbmod.open_database(db_url, sync=False)
    result = invoke("--db", db_url, "db", "info", "-f", "json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["status"] == "current" and "audit" in [t["table"] for t in info["tables"]]
    assert "dat db upgrade" not in result.stderr


def test_a_busy_database_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(dbmod, "SQLITE_TIMEOUT", 0.3)
    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other_writer (x)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO other_writer VALUES (1)")
    try:
        assert_refused(invoke("--db", sqlite_url(path), "db", "upgrade", "--adopt"), 1,
                       "is busy: another program has been writing to it for longer than 0.3 s")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["other_writer"]


# -- 1. read-only databases ----------------------------------------------------------------------

@pytest.fixture
def import_file(tmp_path) -> Path:
    f = tmp_path / "figs.csv"
    f.write_text(HEADER + ROW)
    return f


def _forget_sync_state(path: Path) -> None:
    """Make the next command want to sync (as a new installation would)."""
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM meta WHERE key LIKE 'plugin_sources:%'")


def test_a_read_only_file_refuses_writes_and_still_reads(dat_file, import_file):
    url = sqlite_url(dat_file)
    _forget_sync_state(dat_file)
    before = db_digest(url)
    dat_file.chmod(0o444)
    try:
        check_proc(run_unprivileged("--db", url, "import", str(import_file)), 1,
                   f"cannot write to the database {url}: the file is read-only")
        check_proc(run_unprivileged("--db", url, "db", "upgrade", "--adopt"), 0, "schema revision")
        reading = run_unprivileged("--db", url, "status", "dudley", "-P", "2007/08 Q1", "-f", "csv")
        assert reading.returncode == 0, reading.stderr
        assert "NTA.RET12" in reading.stdout
        warned = [ln for ln in reading.stderr.splitlines() if ln.strip()]
        assert len(warned) == 1 and warned[0].startswith("dat: warning: cannot write to the database")
        assert "not synced" in warned[0] and "Traceback" not in reading.stderr
    finally:
        dat_file.chmod(0o644)
    assert db_digest(url) == before


def test_a_read_only_folder_is_named(tmp_path, import_file):
    folder = tmp_path / "locked"
    folder.mkdir()
    url = sqlite_url(folder / "new.sqlite3")
    folder.chmod(0o555)
    try:
        check_proc(run_unprivileged("--db", url, "db", "upgrade"), 1,
                   f"the folder {folder} is read-only, so SQLite cannot create the file")
    finally:
        folder.chmod(0o755)
    assert os.listdir(folder) == []


def test_a_read_only_folder_of_a_wal_database(dat_file, import_file):
    folder = dat_file.parent
    url = sqlite_url(dat_file)
    before = db_digest(url)
    for suffix in ("-wal", "-shm"):
        Path(f"{dat_file}{suffix}").unlink(missing_ok=True)
    folder.chmod(0o555)
    try:
        check_proc(run_unprivileged("--db", url, "import", str(import_file)), 1,
                   f"the folder {folder} is read-only, so SQLite cannot create its journal")
    finally:
        folder.chmod(0o755)
    assert db_digest(url) == before


@pytest.fixture
def pg_filled(pg_server_url, dat_file):
    """A filled dat database on the server (copied from the seed file) and its name."""
    from dat.core.dbcopy import copy_database

    name = f"dat_ro_{uuid.uuid4().hex[:10]}"
    _pg_admin(pg_server_url, f'CREATE DATABASE "{name}"')
    url = pg_server_url.rsplit("/", 1)[0] + "/" + name
    copy_database(sqlite_url(dat_file), url)
    dbmod.dispose_engines()
    yield url, name
    dbmod.dispose_engines()
    _pg_admin(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _role(pg_server_url: str, name: str, dbname: str, password: str, *, read_only_tx: bool) -> str:
    role = f"ro_{uuid.uuid4().hex[:10]}"
    _pg_admin(pg_server_url, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    _pg_admin(pg_server_url, f'GRANT CONNECT ON DATABASE "{dbname}" TO {role}')
    if read_only_tx:  # every right, but every transaction read-only
        _pg_admin(pg_server_url, f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}", dbname)
        _pg_admin(pg_server_url, f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}", dbname)
        _pg_admin(pg_server_url, f"ALTER ROLE {role} SET default_transaction_read_only = on")
    else:
        _pg_admin(pg_server_url, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}", dbname)
    host = pg_server_url.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+psycopg://{role}:{password}@{host}/{dbname}"


@pytest.mark.parametrize("read_only_tx, why", [(False, "the server refused: permission denied"),
                                                (True, "transactions read-only")],
                         ids=["select-only-login", "read-only-transactions"])
def test_a_read_only_postgresql_login(pg_server_url, pg_filled, import_file, read_only_tx, why):
    url, dbname = pg_filled
    with dbmod.get_engine(url).begin() as conn:
        from sqlalchemy import text

        conn.execute(text("DELETE FROM meta WHERE key LIKE 'plugin_sources:%'"))
    dbmod.dispose_engines()
    before = db_digest(url)
    ro = _role(pg_server_url, "ro", dbname, "RoSecret77", read_only_tx=read_only_tx)
    try:
        assert_refused(invoke("--db", ro, "import", str(import_file)), 1, "cannot write to the database",
                       why, secrets=("RoSecret77",))
        result = invoke("--db", ro, "partnerships", "-f", "csv")
        assert result.exit_code == 0, result.stderr
        assert "dudley" in result.output and "RoSecret77" not in result.stderr + result.output
        assert result.stderr.startswith("dat: warning: cannot write to the database") and why in result.stderr
    finally:
        dbmod.dispose_engines()
        role = ro.split("://", 1)[1].split(":", 1)[0]
        _pg_admin(pg_server_url, f"DROP OWNED BY {role}", dbname)
        _pg_admin(pg_server_url, f"DROP ROLE {role}")
    assert db_digest(url) == before


def test_a_read_only_login_on_an_empty_database_cannot_create_it(pg_server_url, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a login is a server's")
    dbname = db_url.rsplit("/", 1)[1]
    _pg_admin(pg_server_url, "REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname)
    before = db_digest(db_url)
    ro = _role(pg_server_url, "ro", dbname, "EmptyPw3", read_only_tx=False)
    try:
        assert_refused(invoke("--db", ro, "db", "upgrade"), 1, "cannot write to the database",
                       "permission denied", secrets=("EmptyPw3",))
    finally:
        dbmod.dispose_engines()
        role = ro.split("://", 1)[1].split(":", 1)[0]
        _pg_admin(pg_server_url, f"DROP OWNED BY {role}", dbname)
        _pg_admin(pg_server_url, f"DROP ROLE {role}")
    assert db_digest(db_url) == before


def test_database_errors_are_dat_errors():
    assert issubclass(dbmod.ReadOnlyDatabase, DatabaseError)


# -- attack findings ----------------------------------------------------------------------------

ANY_PARAM_URLS = [
    ("postgresql+psycopg://u@127.0.0.1:1/x?foo=S3cr3tPa55", ("S3cr3tPa55",)),
    ("postgresql+psycopg://u@127.0.0.1:1/x?options=-c%20x%3DS3cr3tPa55", ("S3cr3tPa55",)),
    ("postgresql+psycopg://u@127.0.0.1:1/x?sslmode=prefer&apikey=Zk8vQ2", ("Zk8vQ2",)),
    ("postgresql+psycopg://u@127.0.0.1:1/x?service=Mys3rvice&connect_timeout=3", ("Mys3rvice",)),
]


@pytest.mark.parametrize("url, secrets", ANY_PARAM_URLS)
def test_every_query_value_but_harmless_ones_is_masked(url, secrets):
    shown = dbmod.mask_url(url)
    for secret in secrets:
        assert secret not in shown
        assert secret not in dbmod.mask_text(f'invalid option "{secret}" in {url}', url)
    assert "127.0.0.1" in shown and "***" in shown
    assert "sslmode=prefer" in dbmod.mask_url(url + "&sslmode=prefer")
    assert "connect_timeout=3" in dbmod.mask_url(url + "&connect_timeout=3")


@pytest.mark.parametrize("url, secrets", ANY_PARAM_URLS)
def test_an_unknown_query_option_never_shows_its_value(pg_server_url, url, secrets):
    url = pg_server_url.rsplit("/", 1)[0] + "/nodb_" + uuid.uuid4().hex[:6] + "?" + url.split("?", 1)[1]
    for args in (["status", "dudley"], ["db", "info"], ["partnerships"]):
        assert_refused(invoke("--db", url, *args), 1, "database", secrets=secrets)


@pytest.mark.parametrize("suffix", ["", "?password=S3cr3tPa55", "?sslpassword=S3cr3tPa55",
                                    "?options=-c%20default_transaction_read_only%3Don"])
def test_database_messages_fit_in_200_characters(pg_server_url, suffix):
    url = pg_server_url.rsplit("/", 1)[0] + "/nonexistent_" + "d" * 40 + suffix
    result = invoke("--db", url, "status", "dudley")
    assert_refused(result, 1, "cannot open the database", secrets=("S3cr3tPa55",))
    assert len(result.stderr.strip()) <= 200, result.stderr


def test_a_huge_sqlite_path_is_cut_in_the_message():
    result = invoke("--db", "sqlite:///" + "a" * 100_000, "status", "dudley")
    assert_refused(result, 1)
    assert len(result.stderr.strip()) <= 200, len(result.stderr)


def test_a_newer_schema_message_fits(dat_file, tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    path = deep / "dat.sqlite3"
    path.write_bytes(dat_file.read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zzzz9999'")
    url = sqlite_url(path)
    before = db_digest(url)
    result = invoke("--db", url, "status", "dudley")
    assert_refused(result, 1, "zzzz9999", "upgrade dat or use another database", "knows up to")
    assert len(result.stderr.strip()) <= 200, result.stderr
    assert db_digest(url) == before


@pytest.mark.parametrize("query", ["mode=ro", "uri=true", "cache=shared&mode=ro", "timeout=5"])
def test_sqlite_url_query_options_are_bad_usage(tmp_path, query, recwarn):
    url = f"{sqlite_url(tmp_path / 'q.sqlite3')}?{query}"
    result = invoke("--db", url, "status", "dudley")
    assert_refused(result, 2, "query options", "give just the path")
    assert "SAWarning" not in result.stderr and not (tmp_path / "q.sqlite3").exists()


def test_a_library_warning_is_one_line():
    import warnings

    from dat.cli import main as climain

    script = ("import warnings, sys; from dat.cli import main as m; import dat.cli.main;"
              "warnings.showwarning = m._show_warning; warnings.warn('two\\nlines', UserWarning)")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert res.stderr.strip() == "dat: warning: two", res.stderr
    assert climain._show_warning is not warnings.showwarning or True


def _damage_page_3(path: Path, *, revision: str | None = None) -> None:
    conn = sqlite3.connect(path)
    if revision:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # every page in the file itself
    conn.close()
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big") or 65536
    data[2 * size:3 * size] = b"A" * size
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("args", [["import", "{csv}"], ["db", "upgrade"], ["status", "dudley"]],
                         ids=["import", "upgrade", "status-that-syncs"])
def test_a_damaged_file_is_never_written(dat_file, import_file, args):
    _forget_sync_state(dat_file)
    _damage_page_3(dat_file, revision="0002" if args[0] == "db" else None)
    conn = sqlite3.connect(dat_file)  # the attack's file: SQLite itself calls it damaged
    assert conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok"
    conn.close()
    url = sqlite_url(dat_file)
    before = file_hash(dat_file)
    result = invoke("--db", url, *[a.format(csv=import_file) for a in args])
    assert_refused(result, 1, "is damaged", "restore it from a backup")
    assert len(result.stderr.strip()) <= 200
    assert file_hash(dat_file) == before


def test_the_damage_check_runs_once_and_passes_a_sound_file(dat_file, import_file, monkeypatch):
    url = sqlite_url(dat_file)
    calls = []
    check = dbmod.check_intact
    monkeypatch.setattr(dbmod, "check_intact", lambda u, c: (calls.append(u), check(u, c)))
    result = invoke("--db", url, "import", str(import_file))
    assert result.exit_code == 0, result.stderr
    assert calls == [url]
    assert invoke("--db", url, "status", "dudley").exit_code == 0  # nothing to write: no check
    assert calls == [url]


@pytest.mark.parametrize("journal", ["wal", "delete"])
@pytest.mark.parametrize("args, code", [(["status", "dudley", "-P", "2007/08 Q1", "-f", "csv"], 0),
                                        (["export"], 0), (["partnerships"], 0),
                                        (["import", "{csv}"], 1), (["db", "upgrade", "--adopt"], 0)],
                         ids=["status", "export", "partnerships", "import", "upgrade-current"])
def test_a_read_only_folder_still_reads(dat_file, import_file, journal, args, code):
    folder = dat_file.parent
    url = sqlite_url(dat_file)
    _forget_sync_state(dat_file)
    before = db_digest(url)
    conn = sqlite3.connect(dat_file)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.execute(f"PRAGMA journal_mode={journal}").fetchall()
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{dat_file}{suffix}").unlink(missing_ok=True)
    moved = import_file.rename(folder.parent / f"{folder.name}-{import_file.name}")
    dat_file.chmod(0o666)
    folder.chmod(0o555)
    try:
        result = run_unprivileged("--db", url, *[a.format(csv=moved) for a in args])
    finally:
        folder.chmod(0o755)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    if code:
        assert len(lines) == 1 and "the folder" in lines[0] and "read-only" in lines[0], lines
    elif args[0] != "db":
        assert result.stdout.strip(), result.stderr
        assert all(len(ln) <= 200 for ln in lines) and all(ln.startswith("dat: ") for ln in lines), lines
    assert db_digest(url) == before
    assert sorted(p.name for p in folder.iterdir()) == [dat_file.name]


# -- attack findings (files and databases, second round) -----------------------------------------

@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1"])
def test_a_port_out_of_range_is_bad_usage(port):
    """E5-E7: a port outside 1-65535 never reaches the driver."""
    url = f"postgresql+psycopg://u:PortPw9@127.0.0.1:{port}/x"
    assert_refused(invoke("--db", url, "partnerships"), 2, f"port {port}, out of range 1-65535",
                   secrets=("PortPw9",))


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://u@127.0.0.1:1/atk\nro", "atk\\nro"),
    ("postgresql+psycopg://u@127.0.0.1:1/atk_ro%0A", "atk_ro%0A"),
    ("postgresql+psycopg://u@127.0.0.1:1/a%09b", "a%09b"),
    ("postgresql+psycopg://u@127.0.0.1:1/a\x1bb", "a\\x1bb"),
    ("sqlite:///x\ny.sqlite3", "x\\ny.sqlite3"),
])
def test_a_control_character_in_a_url_is_bad_usage(tmp_path, monkeypatch, url, shown):
    """E9/I10: raw or percent-encoded, refused with the name shown escaped, not cut."""
    monkeypatch.chdir(tmp_path)
    res = invoke("--db", url, "partnerships")
    assert_refused(res, 2, "control character", shown)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_postgres_urls_without_a_driver_use_psycopg(db_url, scheme):
    """I3: what users type works as PostgreSQL with dat's driver."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a server's URL")
    url = db_url.replace("postgresql+psycopg://", scheme, 1)
    assert dbmod.parse_url(url).drivername == "postgresql+psycopg"
    result = invoke("--db", url, "db", "upgrade")
    assert result.exit_code == 0, result.stderr


def test_two_alembic_versions_are_damage(dat_file):
    """E9 (minor): alembic_version with two rows is not read as its first row."""
    with sqlite3.connect(dat_file) as conn:
        conn.execute("INSERT INTO alembic_version (version_num) VALUES ('9999')")
    before = db_digest(sqlite_url(dat_file))
    for args in (["partnerships"], ["db", "upgrade"], ["import", "/dev/null"]):
        assert_refused(invoke("--db", sqlite_url(dat_file), *args), 1, "is damaged",
                       "alembic_version table has 2 rows")
    assert db_digest(sqlite_url(dat_file)) == before


def _spellings(path: Path) -> list[str]:
    """The same file named other ways: relative, with ./ and //, through a symlink."""
    link = path.with_name("alias.sqlite3")
    link.symlink_to(path)
    return [f"sqlite:///./{path.name}", f"sqlite:///{path.parent}//./{path.name}",
            f"sqlite:///{path.parent}/../{path.parent.name}/{path.name}", sqlite_url(link)]


@pytest.mark.parametrize("replace", [False, True], ids=["plain", "replace"])
def test_db_copy_onto_itself_however_spelt_is_refused(dat_file, monkeypatch, replace):
    """E4/I9: the same file is refused as the same database, with or without --replace."""
    monkeypatch.chdir(dat_file.parent)
    before = db_digest(sqlite_url(dat_file))
    for target in _spellings(dat_file):
        res = invoke("--db", sqlite_url(dat_file), "db", "copy", "--to", target, *(["--replace"] * replace))
        assert_refused(res, 1, "the source and the target are the same database")
        assert db_digest(sqlite_url(dat_file)) == before


def test_db_copy_onto_the_same_postgresql_database_is_refused(pg_filled):
    url, _name = pg_filled
    before = db_digest(url)
    other = url.replace("127.0.0.1", "localhost", 1).replace("postgresql+psycopg://", "postgres://", 1)
    for target in (other, url + "?sslmode=prefer"):
        assert_refused(invoke("--db", url, "db", "copy", "--to", target, "--replace"), 1,
                       "the source and the target are the same database")
    assert db_digest(url) == before


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling", "to-a-file"])
def test_db_copy_to_a_symlink_is_refused(dat_file, tmp_path, dangling):
    """E3: the target's link is never followed: a dangling one creates nothing."""
    other = tmp_path / "elsewhere.sqlite3"
    if not dangling:
        other.write_bytes(b"")
    link = tmp_path / "link.sqlite3"
    link.symlink_to(other)
    before = db_digest(sqlite_url(dat_file))
    assert_refused(invoke("--db", sqlite_url(dat_file), "db", "copy", "--to", sqlite_url(link), "--replace"),
                   1, "symbolic link")
    assert other.exists() != dangling and (dangling or other.read_bytes() == b"")
    assert link.is_symlink() and db_digest(sqlite_url(dat_file)) == before


def test_adopting_a_database_with_a_clashing_table_changes_nothing(db_url):
    """G1/I4: refused before anything is created, on SQLite too, naming the clash."""
    engine = dbmod.get_engine(db_url)
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE target (x INTEGER)"))
        conn.execute(text("INSERT INTO target (x) VALUES (1)"))
        conn.execute(text("CREATE TABLE theirs (x INTEGER)"))
    dbmod.dispose_engines()
    before = db_digest(db_url)
    for _ in range(2):  # the same answer again: nothing half made in between
        assert_refused(invoke("--db", db_url, "db", "upgrade", "--adopt"), 1,
                       "cannot adopt", "a table named like dat's own (target)")
        assert db_digest(db_url) == before
    engine = dbmod.get_engine(db_url)
    from sqlalchemy import inspect

    assert sorted(inspect(engine).get_table_names()) == ["target", "theirs"]


def test_a_login_without_select_cannot_read(pg_server_url, pg_filled):
    """I2: no SELECT right is a refused read, not a read-only database."""
    url, dbname = pg_filled
    before = db_digest(url)
    ro = _role(pg_server_url, "ro", dbname, "NoSelect44", read_only_tx=False)
    role = ro.split("://", 1)[1].split(":", 1)[0]
    _pg_admin(pg_server_url, f"REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM {role}", dbname)
    try:
        for args in (["status", "dudley"], ["db", "info"], ["partnerships"]):
            res = invoke("--db", ro, *args)
            assert_refused(res, 1, "cannot read the database", "permission denied",
                           "ask the database admin", secrets=("NoSelect44",))
            assert "cannot write" not in res.stderr and len(res.stderr.strip()) <= 200
    finally:
        dbmod.dispose_engines()
        _pg_admin(pg_server_url, f"DROP OWNED BY {role}", dbname)
        _pg_admin(pg_server_url, f"DROP ROLE {role}")
    assert db_digest(url) == before


LONG = "d" * 60


def test_every_message_fits_with_long_names(dat_file, tmp_path):
    """I6-I8: the name is shortened first, so the line stays within 200 characters."""
    deep = tmp_path / LONG / LONG
    deep.mkdir(parents=True)
    emptied = deep / ("n" * 40 + ".sqlite3")
    emptied.write_bytes(dat_file.read_bytes())
    with sqlite3.connect(emptied) as conn:
        conn.execute("DELETE FROM alembic_version")
    target = deep / ("t" * 40 + ".sqlite3")
    target.write_bytes(dat_file.read_bytes())
    cases = [
        (["--db", sqlite_url(emptied), "partnerships"], "is not a dat database"),
        (["--db", sqlite_url(deep / "nowhere" / "x.sqlite3"), "partnerships"], "does not exist"),
        (["--db", sqlite_url(dat_file), "db", "copy", "--to", sqlite_url(target)], "is not empty"),
        (["--db", sqlite_url(emptied), "db", "upgrade", "--adopt"], "named like dat's own"),
        (["--db", sqlite_url(target), "db", "copy", "--to", sqlite_url(target)], "the same database"),
    ]
    for args, fragment in cases:
        before = db_digest(sqlite_url(target))
        res = invoke(*args)
        assert_refused(res, 1, fragment)
        assert len(res.stderr.rstrip("\n")) <= 200, res.stderr
        assert db_digest(sqlite_url(target)) == before
