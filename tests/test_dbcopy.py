"""dat db copy: an SQLite database copied into an empty target (SQLite and PostgreSQL) is
complete and identical table by table; a non-empty target is refused unless --replace; bad
targets fail with one clear line."""

from __future__ import annotations

import json

import pytest

HEADER = "partnership,indicator,period,value,numerator,denominator,note\n"


@pytest.fixture
def source(dat, tmp_path):
    """An SQLite database with the plugins' data and imported figures, one of them corrected
    (so the revision history has a non-current row)."""
    url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    first = tmp_path / "q3.csv"
    first.write_text(HEADER + "dudley,NTA.NIT,2007/08 Q3,101,,,first return\n"
                              "bromley,NTA.EFFECTIVE,2010/11,830,,,\n")
    fixed = tmp_path / "q3-fixed.csv"
    fixed.write_text(HEADER + "dudley,NTA.NIT,2007/08 Q3,104,,,corrected return\n")
    for path in (first, fixed):
        out = dat("--db", url, "import", str(path))
        assert out.returncode == 0, out.stderr
    return url


def _engine(url):
    from sqlalchemy import create_engine

    return create_engine(url)


def _digests_and_counts(url):
    from dat.core.dbcopy import row_counts, table_digests

    engine = _engine(url)
    try:
        return table_digests(engine), row_counts(engine)
    finally:
        engine.dispose()


def test_copy_is_complete_and_identical(dat, source, db_url):
    out = dat("--db", source, "db", "copy", "--to", db_url, "--verify", "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["verified"] is True
    assert "copying observation" in out.stderr  # progress on stderr
    src_digests, src_counts = _digests_and_counts(source)
    dst_digests, dst_counts = _digests_and_counts(db_url)
    assert dst_counts == src_counts
    assert dst_digests == src_digests
    assert report["rows"] == src_counts and report["total"] == sum(src_counts.values())
    # every kind of row the brief names is there, not just an empty schema
    for table in ("partnership", "indicator", "target", "observation", "funding_stream",
                  "allocation", "action", "meta"):
        assert dst_counts[table] > 0, table
    engine = _engine(db_url)
    with engine.connect() as conn:
        from sqlalchemy import text

        history = conn.execute(text(
            "SELECT o.revision, o.value, o.is_current FROM observation o "
            "JOIN partnership p ON p.id = o.partnership_id JOIN indicator i ON i.id = o.indicator_id "
            "WHERE p.slug = 'dudley' AND i.code = 'NTA.NIT' AND o.period = '2007/08 Q3' "
            "AND o.origin LIKE 'import:%' ORDER BY o.revision")).all()
    engine.dispose()
    assert [tuple(r) for r in history][-2:] == [(history[-2][0], 101.0, False), (history[-1][0], 104.0, True)]


def test_copied_database_is_usable(dat, source, db_url, tmp_path):
    """The copy is a working dat database: the sync state came along and new rows get fresh
    ids (PostgreSQL's sequences were moved past the copied ids)."""
    assert dat("--db", source, "db", "copy", "--to", db_url).returncode == 0
    new = tmp_path / "new.csv"
    new.write_text(HEADER + "dudley,NTA.NIT,2008/09 Q1,99,,,\n")
    out = dat("--db", db_url, "import", str(new), "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["added"] == 1
    hist = json.loads(dat("--db", db_url, "history", "dudley", "NTA.NIT", "-f", "json").stdout)
    values = {(r["period"], r["revision"]): r["value"] for r in hist["revisions"]}
    assert values[("2008/09 Q1", 1)] == 99
    assert 104 in values.values() and 101 in values.values()


def test_non_empty_target_is_refused_then_replaced(dat, source, db_url):
    assert dat("--db", source, "db", "copy", "--to", db_url).returncode == 0
    before = _digests_and_counts(db_url)
    again = dat("--db", source, "db", "copy", "--to", db_url)
    assert again.returncode == 1
    assert "is not empty" in again.stderr and "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    assert _digests_and_counts(db_url) == before  # untouched
    forced = dat("--db", source, "db", "copy", "--to", db_url, "--replace", "--verify")
    assert forced.returncode == 0, forced.stderr
    assert _digests_and_counts(db_url) == _digests_and_counts(source)


def test_target_that_is_the_source_is_refused(dat, source):
    out = dat("--db", source, "db", "copy", "--to", source)
    assert out.returncode == 1 and "same database" in out.stderr


@pytest.mark.parametrize("target, message, code", [
    ("not a url", "not a database URL", 2),
    ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot open the database", 1),
])
def test_bad_target_is_one_clear_line(dat, source, target, message, code):
    out = dat("--db", source, "db", "copy", "--to", target)
    assert out.returncode == code
    assert message in out.stderr and "Traceback" not in out.stderr


def test_db_info_and_upgrade(dat, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    up = dat("--db", url, "db", "upgrade")
    assert up.returncode == 0 and "schema revision" in up.stderr
    info = json.loads(dat("--db", url, "db", "info", "--format", "json").stdout)
    from dat.core.db import HEAD_REVISION

    assert info["revision"] == info["head"] == HEAD_REVISION
    assert {t["table"]: t["rows"] for t in info["tables"]}["observation"] == 0  # upgrade does not sync


def test_db_upgrade_moves_a_0001_database_to_head(dat, db_url):
    """Revision 0002 swaps the observation index for one that covers the TUI's and the
    scorecard's period lookups; an existing database gets it from ``dat db upgrade``."""
    from sqlalchemy import inspect

    from dat.core.db import HEAD_REVISION, current_revision, dispose_engines, get_engine, migrate

    engine = get_engine(db_url)
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    dispose_engines()
    out = dat("--db", db_url, "db", "upgrade")
    assert out.returncode == 0, out.stderr
    engine = get_engine(db_url)
    assert current_revision(engine) == HEAD_REVISION == "0005"
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("observation")}
    assert indexes["ix_observation_partnership_current"] == ["partnership_id", "period", "is_current"]
    assert "ix_observation_partnership" not in indexes
    # 0003: allocation.is_total, false for rows that existed before
    columns = {c["name"]: c for c in inspect(engine).get_columns("allocation")}
    assert "is_total" in columns and not columns["is_total"]["nullable"]
    dispose_engines()
