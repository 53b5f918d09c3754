"""Test fixtures.

Every database test runs twice: on SQLite (a fresh file) and on PostgreSQL (a fresh
database on a real server). The server is ``$DAT_TEST_POSTGRES_URL`` when set (``.ci/run``
starts one); otherwise, when PostgreSQL binaries are installed, the session starts a
throwaway server itself. With no PostgreSQL at all the PostgreSQL half is skipped, except
under ``CI=true`` where that is an error.

Every test gets its own ``DAT_DATA_DIR`` (so the default database never touches your own)
and a fresh plugin manager.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from pathlib import Path

import pytest
from helpers import FIXTURE_PLUGINS, make_entry_points, run_dat

#: environment variables that change which plugins load or which database opens
_PLUGIN_ENV = ("DAT_DATABASE_URL", "DAT_LOAD_PLUGINS", "DAT_TRACE_PLUGINS", "DAT_STRICT_PLUGINS",
               "DAT_DISABLE_PLUGINS", "DAT_QUIET")

# PostgreSQL's default is explicit sync (`dat db sync`); tests written for both backends want
# the plugins' data there as on SQLite, module- and session-scoped fixtures included.
# tests/test_ownership.py tests the explicit mode itself.
os.environ["DAT_SYNC"] = "auto"


def _load_pgserver():
    spec = importlib.util.spec_from_file_location("dat_tests_pgserver", Path(__file__).with_name("pgserver.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pg_server_url():
    url = os.environ.get("DAT_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    pgserver = _load_pgserver()
    if pgserver.find_pg_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no PostgreSQL: .ci/run must install and start it")
        pytest.skip("no PostgreSQL installed (install Debian's postgresql to run these)")
    server = pgserver.PgServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """A URL of an empty database, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    base = request.getfixturevalue("pg_server_url")
    name = f"dat_{uuid.uuid4().hex[:12]}"
    _pg_admin(base, f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    from dat.core.db import dispose_engines

    dispose_engines()
    _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    data_dir = tmp_path_factory.mktemp("datadir")
    monkeypatch.setenv("DAT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DAT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))  # per-user settings
    for name in (*_PLUGIN_ENV, "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAT_SYNC", "auto")  # a test may have changed it
    from dat.core.db import dispose_engines
    from dat.core.plugins import reset_plugin_manager

    reset_plugin_manager()
    from dat.cli.main import LazyGroup

    LazyGroup._plugins_added = False
    yield
    reset_plugin_manager()
    dispose_engines()


@pytest.fixture
def store(db_url):
    from dat.core.services import Store

    return Store(db_url)


@pytest.fixture(scope="session")
def seed_store_factory(tmp_path_factory):
    """Stores filled from the plugins, for tests that only read them (the seed tables).

    ``seed_store_factory()`` is a :class:`dat.core.services.Store` on a fresh SQLite file
    filled from what ``dat`` loads by default (the built-ins and every entry point), built
    once for the session and shared by every module that asks for it.
    ``seed_store_factory(host=h)`` is a new store on its own fresh file filled from the
    :class:`~dat.core.plugins.PluginHost` ``h`` (e.g. the built-ins plus one partnership);
    cache it in a fixture of the scope you need.

    Module- and session-scoped fixtures are set up before the per-test ``_isolated``, so the
    plugin and database environment variables are cleared here while the store is built, and
    the process-wide plugin manager is reset before and after. Tests must not write to these
    stores: other modules read the same database."""
    from dat.core.plugins import get_plugin_manager, reset_plugin_manager
    from dat.core.services import Store

    shared: list[Store] = []

    def build(host=None) -> Store:
        if host is None and shared:
            return shared[0]
        path = tmp_path_factory.mktemp("seed") / "seed.sqlite3"
        with pytest.MonkeyPatch.context() as mp:
            for name in _PLUGIN_ENV:
                mp.delenv(name, raising=False)
            mp.setenv("DAT_DATA_DIR", str(tmp_path_factory.mktemp("seed-data")))
            reset_plugin_manager()
            try:
                store = Store(f"sqlite:///{path}", host=host or get_plugin_manager(reload=True))
            finally:
                reset_plugin_manager()
        if host is None:
            shared.append(store)
        return store

    return build


@pytest.fixture(scope="session")
def seed_store(seed_store_factory):
    """The shared read-only store of every plugin's data (see ``seed_store_factory``)."""
    return seed_store_factory()


@pytest.fixture
def fixture_plugins(tmp_path, monkeypatch):
    """Install fixture plugins as entry points for this test: call with a mapping."""

    def install(plugins: dict[str, str]) -> Path:
        site = make_entry_points(tmp_path, plugins)
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.syspath_prepend(str(FIXTURE_PLUGINS))
        pythonpath = os.pathsep.join([str(site), str(FIXTURE_PLUGINS), os.environ.get("PYTHONPATH", "")])
        monkeypatch.setenv("PYTHONPATH", pythonpath.rstrip(os.pathsep))
        import importlib

        importlib.invalidate_caches()
        from dat.core.plugins import reset_plugin_manager

        reset_plugin_manager()
        return site

    return install


@pytest.fixture
def dat():
    """Run the real ``dat`` console script: ``dat("status", "dudley")``."""
    return run_dat
