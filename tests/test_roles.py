"""Issue 12: roles enforced by PostgreSQL (row-level security and privileges), tested with
real logins on the real server: a Dudley editor cannot change Bromley's figures through dat
or through a plain SQL client, a viewer can write nothing, only an admin can sync, grant or
purge, and nobody but an admin alters the audit trail."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from helpers import db_digest, run_dat

pytestmark = pytest.mark.postgres


@pytest.fixture
def logins(pg_server_url):
    """Fresh logins for one test, dropped after its database is (roles are server-wide)."""
    tag = uuid.uuid4().hex[:8]
    names = {"editor": f"ed_{tag}", "viewer": f"view_{tag}", "nobody": f"nobody_{tag}", "admin": f"adm_{tag}",
             "password": f"pw-{tag}"}
    yield names
    plain = pg_server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        for role, login in names.items():
            if role != "password":
                conn.execute(f'DROP ROLE IF EXISTS "{login}"')


@pytest.fixture
def shared(logins, db_url):
    """A synced PostgreSQL database and four fresh logins with no role yet: yields (admin
    url, {role: url}, {role: login})."""
    if not db_url.startswith("postgresql"):
        pytest.skip("roles are a PostgreSQL feature (SQLite has one user)")
    plain = db_url.replace("postgresql+psycopg://", "postgresql://", 1)
    password = logins.pop("password")
    with psycopg.connect(plain, autocommit=True) as conn:
        for login in logins.values():
            conn.execute(f"CREATE ROLE \"{login}\" LOGIN PASSWORD '{password}'")
    assert run_dat("--db", db_url, "db", "sync").returncode == 0
    urls = {role: db_url.replace("//dat:dat@", f"//{login}:{password}@", 1) for role, login in logins.items()}
    yield db_url, urls, logins


def _grant(url: str, *args: str):
    out = run_dat("--db", url, "db", "grant", *args)
    assert out.returncode == 0, out.stderr
    return out


def _csv(tmp_path, name: str, rows: list[str]):
    path = tmp_path / name
    path.write_text("partnership,indicator,period,value\n" + "\n".join(rows) + "\n")
    return str(path)


def _refused(out, code: int, fragment: str) -> None:
    assert out.returncode == code, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert any(fragment in line for line in lines), out.stderr
    assert "Traceback" not in out.stderr and all(len(line) <= 200 for line in lines)


def test_editor_viewer_and_admin_are_refused_exactly_where_they_should_be(shared, tmp_path):
    admin_url, urls, logins = shared
    _grant(admin_url, logins["editor"], "--partnership", "dudley", "--as", "editor")
    _grant(admin_url, logins["viewer"], "--partnership", "dudley", "--as", "viewer")
    _grant(admin_url, logins["admin"], "--admin")
    roles = json.loads(run_dat("--db", admin_url, "db", "roles", "-f", "json").stdout)["roles"]
    assert {(r["login"], r["role"], r["partnership"]) for r in roles} == {
        (logins["editor"], "editor", "dudley"), (logins["viewer"], "viewer", "dudley"),
        (logins["admin"], "admin", None)}

    # the Dudley editor: Dudley's figure goes in, Bromley's is refused with nothing changed
    ok = run_dat("--db", urls["editor"], "import", _csv(tmp_path, "d.csv", ["dudley,NTA.RET12,2007/08 Q1,72"]))
    assert ok.returncode == 0, ok.stderr
    before = db_digest(admin_url)
    both = _csv(tmp_path, "b.csv", ["dudley,NTA.RET12,2007/08 Q2,73", "bromley,NTA.RET12,2007/08 Q1,1"])
    out = run_dat("--db", urls["editor"], "import", both)
    _refused(out, 1, f"your login '{logins['editor']}' may not change figures of bromley (you edit: dudley)")
    assert db_digest(admin_url) == before
    history = json.loads(run_dat("--db", admin_url, "history", "dudley", "NTA.RET12", "-f", "json").stdout)
    latest = next(r for r in history["revisions"] if r["period"] == "2007/08 Q1" and r["current"])
    assert (latest["value"], latest["recorded_by"]) == (72, logins["editor"])

    # the viewer writes nothing, even its own partnership
    out = run_dat("--db", urls["viewer"], "import", _csv(tmp_path, "v.csv", ["dudley,NTA.RET12,2007/08 Q3,74"]))
    _refused(out, 1, "cannot write to the database")
    assert db_digest(admin_url) == before
    assert run_dat("--db", urls["viewer"], "status", "dudley", "-P", "2007/08 Q1", "-f", "json").returncode == 0

    # only an admin syncs, grants, purges and transfers
    for role in ("editor", "viewer"):
        for args, what in ((("db", "sync"), "only a dat admin can sync"),
                           (("db", "grant", logins["nobody"], "--admin"), "only a dat admin can grant"),
                           (("plugins", "purge", "gone_plugin"), "has nothing in this database"),
                           (("partnerships", "transfer", "dudley", "--to", "dudley"), "only a dat admin")):
            _refused(run_dat("--db", urls[role], *args), 2 if "nothing" in what else 1, what)
    assert db_digest(admin_url) == before
    assert run_dat("--db", urls["admin"], "db", "sync", "--force").returncode == 0
    _grant(urls["admin"], logins["nobody"], "--partnership", "bromley", "--as", "viewer")


def test_a_plain_sql_client_is_held_by_the_database(shared):
    admin_url, urls, logins = shared
    _grant(admin_url, logins["editor"], "--partnership", "dudley", "--as", "editor")
    _grant(admin_url, logins["viewer"], "--partnership", "dudley", "--as", "viewer")
    before = db_digest(admin_url)

    def connect(role: str):
        return psycopg.connect(urls[role].replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)

    with connect("editor") as conn:
        bromley = conn.execute("SELECT id FROM partnership WHERE slug = 'bromley'").fetchone()[0]
        ind = conn.execute("SELECT id FROM indicator WHERE code = 'NTA.RET12'").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO observation (partnership_id, indicator_id, period, revision, is_current, "
                         "status, recorded_at) VALUES (%s, %s, '2001/02', 9, true, 'final', now())", (bromley, ind))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # figures are never rewritten in place
            conn.execute("UPDATE observation SET value = 1 WHERE partnership_id = %s", (bromley,))
        assert conn.execute("UPDATE observation SET is_current = false WHERE partnership_id = %s",
                            (bromley,)).rowcount == 0  # row-level security: not its rows
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM observation")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE target SET value = 1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO dat_grant (login, role, granted_by, granted_at) "
                         "VALUES (current_user, 'admin', 'me', now())")
        # the audit trail: no changes, no deletes, and no writing in another's name
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE audit SET actor = 'someone'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit")
    assert db_digest(admin_url) == before
    with connect("editor") as conn:
        conn.execute("INSERT INTO audit (actor, action, detail, at) VALUES ('dat', 'import', 'forged', '1999-01-01')")
        who, when = conn.execute("SELECT actor, at FROM audit WHERE detail = 'forged'").fetchone()
        assert who == logins["editor"] and when.year > 2000
    with connect("viewer") as conn:
        for sql in ("INSERT INTO observation (partnership_id) VALUES (1)", "UPDATE observation SET value = 1",
                    "INSERT INTO audit (actor, action, detail, at) VALUES ('x', 'y', '', now())"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)


def test_roles_on_sqlite_are_a_clear_usage_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    out = run_dat("--db", url, "db", "grant", "someone", "--admin")
    _refused(out, 2, "an SQLite database has one user")
    bad = run_dat("--db", url, "db", "grant", "someone", "--as", "editor")
    _refused(bad, 2, "needs --partnership")


def test_attacks_on_the_roles_are_held(shared, tmp_path):
    """Found by an attack: a temporary table named dat_grant, an in-place rewrite of a
    figure, reinstating an old revision, a forged audit action, revoking an admin that
    granted others, revoking a login with no role, a group role, a demoted editor's rights."""
    admin_url, urls, logins = shared
    _grant(admin_url, logins["editor"], "--partnership", "dudley", "--as", "editor")
    _grant(admin_url, logins["admin"], "--admin")
    _grant(urls["admin"], logins["viewer"], "--partnership", "dudley", "--as", "editor")  # granted by an admin
    corrected = run_dat("--db", urls["editor"], "import", _csv(tmp_path, "c.csv", ["dudley,NTA.RET12,2007/08 Q1,72"]))
    assert corrected.returncode == 0, corrected.stderr  # so Dudley has a retired revision
    before = db_digest(admin_url)

    def connect(role: str):
        return psycopg.connect(urls[role].replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)

    with connect("editor") as conn:
        # a temporary dat_grant does not make anyone an admin
        conn.execute("CREATE TEMP TABLE dat_grant (login text, role text, partnership_id int)")
        conn.execute("INSERT INTO dat_grant VALUES (session_user, 'admin', NULL)")
        assert conn.execute("SELECT dat_is_admin()").fetchone()[0] is False
        bromley = conn.execute("SELECT id FROM partnership WHERE slug = 'bromley'").fetchone()[0]
        assert conn.execute("UPDATE observation SET is_current = false WHERE partnership_id = %s",
                            (bromley,)).rowcount == 0
        dudley = conn.execute("SELECT id FROM partnership WHERE slug = 'dudley'").fetchone()[0]
        # its own partnership's figures: never rewritten in place, an old revision never reinstated
        for sql in ("UPDATE observation SET value = 99 WHERE partnership_id = %s",
                    "UPDATE observation SET recorded_by = 'someone' WHERE partnership_id = %s",
                    "UPDATE observation SET partnership_id = partnership_id WHERE partnership_id = %s"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql, (dudley,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE observation SET is_current = true WHERE partnership_id = %s AND NOT is_current",
                         (dudley,))
        # the audit trail takes import rows from editors, nothing else
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO audit (actor, action, detail, at) VALUES (session_user, 'grant', "
                         "'x is admin', now())")
    assert db_digest(admin_url) == before

    # revoking an admin who granted others works and takes every right away
    out = run_dat("--db", admin_url, "db", "revoke", logins["admin"])
    assert out.returncode == 0, out.stderr
    with connect("admin") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO dat_grant (login, role, granted_by, granted_at) "
                         "VALUES (session_user, 'admin', 'me', now())")
    # the editor it granted keeps its role (the owner gave every privilege)
    ok = run_dat("--db", urls["viewer"], "import", _csv(tmp_path, "d.csv", ["dudley,NTA.RET12,2001/02,61"]))
    assert ok.returncode == 0, ok.stderr
    # demoted to viewer: its write rights go
    assert run_dat("--db", admin_url, "db", "revoke", logins["viewer"]).returncode == 0
    _grant(admin_url, logins["viewer"], "--partnership", "dudley", "--as", "viewer")
    with connect("viewer") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO audit (actor, action, detail, at) VALUES ('x', 'import', '', now())")
    # a login with no role, an unknown login, a group role: usage errors, nothing changed
    before = db_digest(admin_url)
    _refused(run_dat("--db", admin_url, "db", "revoke", logins["nobody"]), 2, "has no dat role")
    _refused(run_dat("--db", admin_url, "db", "revoke", "no_such_login"), 2, "has no dat role")
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    group = f"grp_{logins['nobody']}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{group}" NOLOGIN')
    try:
        _refused(run_dat("--db", admin_url, "db", "grant", group, "--admin"), 2, "is a group role, not a login")
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{group}"')
    assert db_digest(admin_url) == before


def test_second_attack_on_the_roles_is_held(shared, tmp_path):
    """Found by a second attack: an admin's trigger running as the superuser, a retired
    figure that broke every later sync, two current rows, fake import audit rows for another
    partnership, back-dated figures, a dropped login that could not be revoked."""
    admin_url, urls, logins = shared
    _grant(admin_url, logins["editor"], "--partnership", "dudley", "--as", "editor")
    _grant(admin_url, logins["admin"], "--admin")

    def connect(role: str):
        return psycopg.connect(urls[role].replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)

    with connect("admin") as conn:  # rows, not tables: no trigger can be hung on them
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TRIGGER t BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION dat_stamp_audit()")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE audit")
    with connect("editor") as conn:
        dudley = conn.execute("SELECT id FROM partnership WHERE slug = 'dudley'").fetchone()[0]
        ind, period = conn.execute("SELECT indicator_id, period FROM observation WHERE partnership_id = %s "
                                   "AND is_current LIMIT 1", (dudley,)).fetchone()
        # a second current row for the same figure is refused by the database
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO observation (partnership_id, indicator_id, period, revision, is_current, "
                         "status, recorded_at) VALUES (%s, %s, %s, 50, true, 'final', now())", (dudley, ind, period))
        # a retired figure with a high non-current revision beside it
        conn.execute("UPDATE observation SET is_current = false WHERE partnership_id = %s AND indicator_id = %s "
                     "AND period = %s", (dudley, ind, period))
        conn.execute("INSERT INTO observation (partnership_id, indicator_id, period, revision, is_current, "
                     "status, recorded_at) VALUES (%s, %s, %s, 7, false, 'final', '1901-01-01')", (dudley, ind, period))
        assert conn.execute("SELECT recorded_at FROM observation WHERE revision = 7 AND partnership_id = %s "
                            "AND indicator_id = %s", (dudley, ind)).fetchone()[0].year > 2000
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # not its partnership
            conn.execute("INSERT INTO audit (actor, action, partnership, detail, at) VALUES "
                         "(session_user, 'import', 'bromley', 'fake', now())")
    # the owner's next sync and the editor's next import both still work
    sync = run_dat("--db", admin_url, "db", "sync", "--force")
    assert sync.returncode == 0, sync.stderr
    # a login dropped from the server: listed as such, and revoke still cleans up
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{logins["editor"]}"')
        conn.execute(f'DROP ROLE "{logins["editor"]}"')
    roles = json.loads(run_dat("--db", admin_url, "db", "roles", "-f", "json").stdout)["roles"]
    assert [r["login_exists"] for r in roles if r["login"] == logins["editor"]] == [False]
    out = run_dat("--db", admin_url, "db", "revoke", logins["editor"])
    assert out.returncode == 0, out.stderr
