"""Storage: migrations agree with the models, first-use set-up, idempotent sync, revisions,
SQLite pragmas, and unreachable databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from dat.core import db as dbmod
from dat.core.models import Allocation, Observation, Partnership, Target, metadata
from dat.core.plugins import get_plugin_manager
from dat.core.sync import sync_plugins


def test_migration_head_matches_code_and_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    engine = dbmod.get_engine(db_url)
    dbmod.migrate(engine)
    script = ScriptDirectory.from_config(dbmod.alembic_config(engine))
    assert script.get_current_head() == dbmod.HEAD_REVISION
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_first_use_creates_migrates_and_fills(db_url):
    engine = dbmod.open_database(db_url)
    assert dbmod.current_revision(engine) == dbmod.HEAD_REVISION
    with dbmod.session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Partnership)) >= 1
        assert s.scalar(select(func.count()).select_from(Observation)) >= 40


def test_default_database_lives_in_the_data_dir(tmp_path, monkeypatch):
    (tmp_path / "nested" / "data").mkdir(parents=True)  # DAT_DATA_DIR names a folder that exists
    monkeypatch.setenv("DAT_DATA_DIR", str(tmp_path / "nested" / "data"))
    url = dbmod.database_url()
    assert url == f"sqlite:///{tmp_path / 'nested' / 'data' / 'dat.sqlite3'}"
    dbmod.open_database()
    assert (tmp_path / "nested" / "data" / "dat.sqlite3").exists()


def test_sqlite_pragmas(tmp_path):
    engine = dbmod.open_database(f"sqlite:///{tmp_path / 'p.sqlite3'}", sync=False)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def _counts(engine):
    with dbmod.session(engine) as s:
        return tuple(s.scalar(select(func.count()).select_from(m))
                     for m in (Partnership, Observation, Target, Allocation))


def test_sync_is_idempotent_and_skipped_when_unchanged(db_url):
    engine = dbmod.open_database(db_url)
    before = _counts(engine)
    reg = get_plugin_manager().registry
    with dbmod.session(engine) as s:
        report = sync_plugins(s, reg)
    assert report.skipped
    with dbmod.session(engine) as s:
        forced = sync_plugins(s, reg, force=True)
    assert not forced.skipped
    assert forced.added == {} and forced.changed == {} and forced.removed == {}
    assert _counts(engine) == before


def test_changed_figure_becomes_a_revision(db_url):
    import dataclasses

    engine = dbmod.open_database(db_url)
    reg = get_plugin_manager().registry
    key = ("dudley", "NTA.RET12", "2007/08 Q1")
    reg.observations[key] = dataclasses.replace(reg.observations[key], value=72.0)
    with dbmod.session(engine) as s:
        report = sync_plugins(s, reg)
    assert report.changed == {"observations": 1}
    from dat.core.models import Indicator

    with dbmod.session(engine) as s:
        iid = s.scalar(select(Indicator.id).where(Indicator.code == "NTA.RET12"))
        pid = s.scalar(select(Partnership.id).where(Partnership.slug == "dudley"))
        rows = s.scalars(select(Observation).where(
            Observation.partnership_id == pid, Observation.indicator_id == iid,
            Observation.period == "2007/08 Q1").order_by(Observation.revision)).all()
    assert [(r.revision, r.value, r.is_current) for r in rows] == [(1, 70.0, False), (2, 72.0, True)]


def test_stale_plugin_rows_are_removed_but_history_kept(db_url):
    engine = dbmod.open_database(db_url)
    reg = get_plugin_manager().registry
    del reg.targets[("dudley", "NTA.RET12", "2007/08", "local", "")]
    with dbmod.session(engine) as s:
        report = sync_plugins(s, reg)
    assert report.removed == {"targets": 1}


@pytest.mark.parametrize("url, fragment, code", [
    ("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", "cannot open the database", 1),
    ("sqlite:////proc/no/such/dir/x.sqlite3", "does not exist", 1),
    ("nonsense://", "cannot use", 2),  # a malformed URL is bad usage (exit 2)
    ("not a url at all", "not a database URL", 2),
])
def test_unreachable_database_is_one_clear_line(url, fragment, code, dat):
    result = dat("--db", url, "partnerships")
    assert result.returncode == code
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "secret" not in result.stderr
