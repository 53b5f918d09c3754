"""The SQLModel tables (core/models.py) and the Alembic scripts (core/migrations) agree.

``HEAD_REVISION`` in core/db.py is the head of the script directory (start-up compares the
database's revision with it and skips importing Alembic when they match); an empty database
upgraded to head, on SQLite and on PostgreSQL, has exactly the schema the models declare; every
revision downgrades, so base and back to head gives the same schema again; and the revisions
form one straight line.
"""

from __future__ import annotations

import ast
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from dat.core import models  # noqa: F401 - registers the tables on SQLModel.metadata
from dat.core.db import HEAD_REVISION, MIGRATIONS_DIR, alembic_config, current_revision, get_engine, migrate

VERSIONS = MIGRATIONS_DIR / "versions"


def _scripts() -> ScriptDirectory:
    # the same configuration migrate() uses; the engine is only handed on to env.py
    return ScriptDirectory.from_config(alembic_config(None))


def _revision_files() -> list[Path]:
    return sorted(p for p in VERSIONS.glob("*.py") if p.name != "__init__.py")


def _module_vars(path: Path) -> dict[str, object]:
    """The module-level ``name = literal`` assignments of a revision file, read without
    importing it."""
    out: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def _alembic(engine, action, revision: str) -> None:
    """Run ``alembic.command.upgrade``/``downgrade`` the way :func:`dat.core.db.migrate` does."""
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        action(cfg, revision)


def _schema_differences(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, SQLModel.metadata)


def _linear_chain() -> list[str]:
    """Revision ids from base to head."""
    return [s.revision for s in reversed(list(_scripts().walk_revisions()))]


# -- (a) HEAD_REVISION -----------------------------------------------------------------------

def test_head_revision_is_the_head_of_the_scripts():
    scripts = _scripts()
    assert Path(scripts.dir) == MIGRATIONS_DIR
    assert scripts.get_heads() == [HEAD_REVISION]
    assert scripts.get_current_head() == HEAD_REVISION


# -- (b) upgrade to head gives the models' schema -----------------------------------------------

def test_upgrade_of_an_empty_database_gives_the_models_schema(db_url):
    engine = get_engine(db_url)
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == HEAD_REVISION
    assert set(inspect(engine).get_table_names()) == {*SQLModel.metadata.tables, "alembic_version"}
    assert _schema_differences(engine) == []


# -- (c) downgrade to base and up again ---------------------------------------------------------

def test_every_revision_has_a_downgrade():
    for path in _revision_files():
        body = ast.parse(path.read_text(encoding="utf-8")).body
        downgrade = [n for n in body if isinstance(n, ast.FunctionDef) and n.name == "downgrade"]
        assert downgrade, f"{path.name} has no downgrade()"
        empty = all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                    for s in downgrade[0].body)
        assert not empty, f"{path.name}: downgrade() does nothing"


def test_downgrade_to_base_and_upgrade_again(db_url):
    engine = get_engine(db_url)
    migrate(engine)
    _alembic(engine, command.downgrade, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    # up one revision at a time, then down one and up again at each step
    for revision in _linear_chain():
        _alembic(engine, command.upgrade, revision)
        assert current_revision(engine) == revision
        _alembic(engine, command.downgrade, "-1")
        _alembic(engine, command.upgrade, revision)
        assert current_revision(engine) == revision
    assert current_revision(engine) == HEAD_REVISION
    assert _schema_differences(engine) == []


# -- (d) one straight line of revisions ---------------------------------------------------------

def test_revision_files_form_one_linear_chain():
    files = _revision_files()
    assert files, f"no revision files in {VERSIONS}"
    revisions: dict[str, object] = {}
    for path in files:
        found = _module_vars(path)
        rev, down = found.get("revision"), found.get("down_revision")
        assert isinstance(rev, str) and rev, f"{path.name}: no revision id"
        assert rev not in revisions, f"{path.name}: revision {rev} is also in another file"
        assert down is None or isinstance(down, str), f"{path.name}: down_revision {down!r} is a merge"
        assert found.get("branch_labels") is None, f"{path.name}: branch_labels {found['branch_labels']!r}"
        assert found.get("depends_on") is None, f"{path.name}: depends_on {found['depends_on']!r}"
        revisions[rev] = down

    bases = [rev for rev, down in revisions.items() if down is None]
    assert len(bases) == 1, f"more than one base revision: {bases}"
    children: dict[object, list[str]] = {}
    for rev, down in revisions.items():
        children.setdefault(down, []).append(rev)
    branches = {down: revs for down, revs in children.items() if len(revs) > 1}
    assert not branches, f"revisions with more than one child: {branches}"
    assert set(children) - {None} <= set(revisions), "a down_revision names no revision file"

    chain = [bases[0]]
    while chain[-1] in children:
        chain.append(children[chain[-1]][0])
    assert chain[-1] == HEAD_REVISION
    assert sorted(chain) == sorted(revisions), "revisions not on the chain from base to head"
    # and Alembic reads the same chain from the same files
    assert _linear_chain() == chain
    assert sorted(Path(s.path).name for s in _scripts().walk_revisions()) == [p.name for p in files]



# -- (e) an old database holding data upgrades whole, or not at all ----------------------------

def test_a_revision_0003_sqlite_database_with_data_upgrades_whole(tmp_path):
    """r5 F02: revision 0004 rebuilds ``partnership`` (copy, drop, rename). With foreign keys
    enforced and pysqlite running DDL outside a transaction, a database holding figures failed
    half-way, left ``_alembic_tmp_partnership`` behind, and every later command failed. The
    fixture is the dump of a real revision-0003 database (19 partnerships, 140 figures)."""
    import sqlite3
    import subprocess
    import sys

    path = _old_database(tmp_path)
    url = f"sqlite:///{path}"
    assert current_revision(get_engine(url)) == "0003"
    res = subprocess.run([sys.executable, "-m", "dat.cli.main", "--db", url, "partnerships"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
        assert con.execute("SELECT name FROM sqlite_master WHERE name LIKE '_alembic_tmp%'").fetchall() == []
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        assert con.execute("SELECT count(*) FROM observation").fetchone() == (140,)
    finally:
        con.close()


def _old_database(tmp_path):
    import gzip
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with gzip.open(Path(__file__).with_name("data") / "rev0003_with_data.sql.gz", "rt", encoding="utf-8") as fh:
        sql = fh.read()
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.close()
    return path


def test_an_upgrade_left_half_done_by_an_older_dat_is_cleared_and_finished(tmp_path):
    """An older dat, stopped in a batch step, left ``_alembic_tmp_partnership`` beside
    ``partnership``: every later command failed with "table _alembic_tmp_partnership already
    exists". The copy is dropped and the upgrade finishes with every row kept."""
    import sqlite3
    import subprocess
    import sys

    path = _old_database(tmp_path)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE _alembic_tmp_partnership AS SELECT * FROM partnership")
    con.commit()
    con.close()
    url = f"sqlite:///{path}"
    res = subprocess.run([sys.executable, "-m", "dat.cli.main", "--db", url, "partnerships"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
        assert con.execute("SELECT name FROM sqlite_master WHERE name LIKE '_alembic_tmp%'").fetchall() == []
        assert con.execute("SELECT count(*) FROM observation").fetchone() == (140,)
    finally:
        con.close()


def test_a_table_whose_rows_are_only_in_the_leftover_copy_is_refused_unchanged(tmp_path):
    import sqlite3
    import subprocess
    import sys

    from helpers import db_digest

    path = _old_database(tmp_path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("CREATE TABLE _alembic_tmp_action AS SELECT * FROM action")
    con.execute("DROP TABLE action")
    con.commit()
    con.close()
    url = f"sqlite:///{path}"
    before = db_digest(url)
    res = subprocess.run([sys.executable, "-m", "dat.cli.main", "--db", url, "partnerships"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res
    line = res.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert "stopped half-way" in line and "_alembic_tmp_action" in line and "nothing was changed" in line, line
    assert db_digest(url) == before
