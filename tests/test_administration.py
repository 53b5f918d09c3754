"""docs/administration.md, section 5: backup with pg_dump and restore with pg_restore keep
every row, the row-level security policies and the triggers."""

from __future__ import annotations

import subprocess
import uuid

import psycopg
import pytest
from conftest import _load_pgserver
from helpers import db_digest, run_dat

pytestmark = pytest.mark.postgres


def test_pg_dump_and_pg_restore_keep_everything(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("backup with pg_dump is for the shared PostgreSQL server")
    pg_bin = _load_pgserver().find_pg_bin()
    assert run_dat("--db", db_url, "db", "sync").returncode == 0
    csv = tmp_path / "f.csv"
    csv.write_text("partnership,indicator,period,value\ndudley,NTA.RET12,2007/08 Q1,72\n")
    assert run_dat("--db", db_url, "import", str(csv)).returncode == 0
    plain = db_url.replace("postgresql+psycopg://", "postgresql://", 1)
    dump = tmp_path / "dat.dump"
    done = subprocess.run([str(pg_bin / "pg_dump"), "-Fc", "-d", plain, "-f", str(dump)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    name = f"dat_restored_{uuid.uuid4().hex[:8]}"
    base = plain.rsplit("/", 1)[0]
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        restored = subprocess.run([str(pg_bin / "pg_restore"), "--no-owner", "-d", f"{base}/{name}", str(dump)],
                                  capture_output=True, text=True, timeout=120)
        assert restored.returncode == 0, restored.stderr
        url = db_url.rsplit("/", 1)[0] + "/" + name
        assert db_digest(url) == db_digest(db_url)
        with psycopg.connect(f"{base}/{name}") as conn:
            policies = {r[0] for r in conn.execute("SELECT policyname FROM pg_policies WHERE tablename='observation'")}
            triggers = {r[0] for r in conn.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        assert policies == {"dat_read", "dat_insert", "dat_update", "dat_delete"}
        assert {"dat_stamp_audit", "dat_stamp_observation"} <= triggers
        info = run_dat("--db", url, "db", "info", "-f", "json")
        assert info.returncode == 0 and '"revision": "0005"' in info.stdout
    finally:
        from dat.core.db import dispose_engines

        dispose_engines()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
