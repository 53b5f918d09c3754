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

#: The Alembic head this code expects. tests/test_migrations.py checks it matches the scripts,
#: so start-up can skip importing Alembic when the database is already current.
HEAD_REVISION = "0001"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one line for the user."""


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
        return "<unparseable database URL>"


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
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {url!r} (expected e.g. sqlite:///path/dat.sqlite3 "
                            "or postgresql+psycopg://user@host/db)") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            try:
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the folder for {db}: {exc.strerror}") from None
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
            migrate(engine)
        if sync:
            from dat.core.plugins import get_plugin_manager
            from dat.core.sync import sync_plugins

            host = host or get_plugin_manager()
            with Session(engine) as session:
                sync_plugins(session, host.registry)
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database {safe_url(url)}: {_first_line(exc)}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"database error on {safe_url(url)}: {_first_line(exc)}") from None
    return engine


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
