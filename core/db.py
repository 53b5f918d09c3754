"""Engines, sessions, migrations and first-use set-up.

The database URL comes from (first that is set): the ``url`` argument (``--db``), the
``DAT_DATABASE_URL`` environment variable, or an SQLite file in the user data directory
(``platformdirs.user_data_dir("dat")/dat.sqlite3``; ``DAT_DATA_DIR`` overrides the folder).

:func:`open_database` creates the file if needed, runs Alembic to the head revision and syncs
what plugins contribute, all without a manual step. Failures are :class:`DatabaseError` with
one line fit for a user; the password in a URL is never shown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from dat.core.errors import DatabaseError  # noqa: F401 - re-exported: DatabaseError was defined here

#: The Alembic head this code expects. tests/test_migrations.py checks it matches the scripts,
#: so start-up can skip importing Alembic when the database is already current.
HEAD_REVISION = "0003"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")




def default_url() -> str:
    folder = os.environ.get("DAT_DATA_DIR")
    if not folder:
        from platformdirs import user_data_dir

        folder = user_data_dir("dat", appauthor=False)
    return f"sqlite:///{Path(folder) / 'dat.sqlite3'}"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("DAT_DATABASE_URL") or default_url()


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return _masked(url)


def _masked(text: str) -> str:
    """Text that failed to parse as a URL, shown without what may be a password: whatever
    stands between the scheme (or the start) and the last ``@`` is replaced by ``***``, and
    it is cut to 200 characters."""
    head, at, tail = text.rpartition("@")
    if at:
        scheme, sep, _ = head.partition("://")
        text = f"{scheme}{sep}***@{tail}" if sep else f"***@{tail}"
    return text if len(text) <= 200 else text[:199] + "…"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(f"not a database URL: {_masked(url)!r} (expected e.g. sqlite:///path/dat.sqlite3 "
                            "or postgresql+psycopg://user@host/db)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(f"cannot use {safe_url(url)}: dat stores its data in SQLite "
                            "(sqlite:///path/dat.sqlite3) or PostgreSQL "
                            "(postgresql+psycopg://user@host/db)")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            folder = Path(db).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = exc.strerror
                if isinstance(exc, (FileExistsError, NotADirectoryError)):
                    why = "a file is in the way, not a folder"
                raise DatabaseError(f"cannot create the folder {folder} for {db}: {why}") from None
        kwargs["connect_args"] = {"timeout": 10}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 5}
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use {safe_url(url)}: {exc}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot use {safe_url(url)}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _ENGINES[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    msg = str(orig).strip().splitlines()
    return msg[0] if msg else type(orig).__name__


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` with Alembic."""
    from alembic import command

    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_database(url: str | None = None, *, sync: bool = True, host: Any = None) -> Engine:
    """An engine on an up-to-date database, created, migrated and synced as needed."""
    url = database_url(url)
    engine = get_engine(url)
    try:
        rev = current_revision(engine)
        if rev != HEAD_REVISION:
            from alembic.util import CommandError

            try:
                migrate(engine)
            except CommandError:
                raise DatabaseError(
                    f"{safe_url(url)} is at schema revision {rev}, which this dat does not know "
                    f"(it knows up to {HEAD_REVISION}): it was probably made by a newer dat; "
                    "upgrade dat or use another database") from None
        if sync:
            from dat.core.plugins import get_plugin_manager

            host = host or get_plugin_manager()
            sync_if_changed(engine, host)
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database {safe_url(url)}: {_first_line(exc)}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"database error on {safe_url(url)}: {_first_line(exc)}") from None
    return engine


#: prefix of the meta key under which each installation records :func:`plugin_sources`
SOURCES_KEY = "plugin_sources"


def _sources_key() -> str:
    """One meta row per installation (host, Python environment, dat folder), so users of a
    shared server do not overwrite each other's record."""
    import hashlib
    import socket
    import sys

    ident = f"{socket.gethostname()}|{sys.prefix}|{Path(__file__).parent}"
    return f"{SOURCES_KEY}:{hashlib.sha256(ident.encode()).hexdigest()[:16]}"


def plugin_sources(host: Any) -> str | None:
    """A cheap fingerprint of where the plugins' data comes from: each plugin's name and, for
    data plugins, the path, size and modification time of each data file (plus the core
    modules that turn data into rows). ``None`` when some plugin contributes data from code,
    which only running it can tell; then the full registry fingerprint decides.

    Building the registry parses and validates every item every plugin contributes; with a
    national dataset that is most of a short command's run, so when this fingerprint is
    unchanged since the last sync the registry is not built at all."""
    import hashlib

    from dat.core.datafile import DataPlugin
    from dat.core.kinds import SYNCED

    # the hooks whose contributions are synced into the database
    data_hooks = {kind.hook for kind in SYNCED}
    digest = hashlib.sha256()
    core_dir = Path(__file__).parent
    for name in ("specs.py", "kinds.py", "sync.py", "datafile.py", "plugins.py", "models.py"):
        st = (core_dir / name).stat()
        digest.update(f"core|{name}|{st.st_mtime_ns}|{st.st_size}\n".encode())
    for name, plugin in sorted(host.pm.list_name_plugin(), key=lambda np: str(np[0])):
        hooks = {c.name for c in host.pm.get_hookcallers(plugin) or ()}
        digest.update(f"plugin|{name}|{sorted(hooks)}\n".encode())
        if not hooks & data_hooks:
            continue
        if type(plugin) is not DataPlugin:
            return None
        from importlib import resources

        for path in plugin.paths:
            try:
                file = Path(str(resources.files(plugin.package).joinpath(path)))
                st = file.stat()
            except (OSError, TypeError, ModuleNotFoundError):
                return None
            digest.update(f"data|{plugin.package}|{path}|{file}|{st.st_mtime_ns}|{st.st_size}\n".encode())
    return digest.hexdigest()


def sync_if_changed(engine: Engine, host: Any) -> None:
    """Sync plugin data into the database unless nothing it comes from has changed.

    The shortcut is taken only when this installation's :func:`plugin_sources` equal the
    ones it recorded at its last sync *and* the database's registry fingerprint is still the
    one that sync left (nobody synced other data since); otherwise the registry is built and
    :func:`dat.core.sync.sync_plugins` decides as it always does."""
    from dat.core.models import Meta
    from dat.core.sync import FINGERPRINT_KEY, sync_plugins

    quick = None if host.strict else plugin_sources(host)
    key = _sources_key()
    with Session(engine) as s:
        if quick is not None:
            mine = s.get(Meta, key)
            synced = s.get(Meta, FINGERPRINT_KEY)
            if mine is not None and synced is not None and mine.value == f"{quick} {synced.value}":
                return
        sync_plugins(s, host.registry)
        synced = s.get(Meta, FINGERPRINT_KEY)
        if quick is not None and synced is not None:
            s.merge(Meta(key=key, value=f"{quick} {synced.value}"))
            s.commit()


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def describe_database_error(exc: BaseException) -> str | None:
    """One line for the user about a database driver error (any SQLAlchemy error: a server
    that cannot be reached, a file that is not a database, a lock), else ``None``. Reads
    ``sqlalchemy.exc`` only if SQLAlchemy is already imported, so it costs nothing otherwise."""
    import sys

    exc_mod = sys.modules.get("sqlalchemy.exc")
    if exc_mod is None or not isinstance(exc, exc_mod.SQLAlchemyError):
        return None
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]
    return f"database error: {first}"
