"""Alembic environment for dat. The engine (or an open connection) is handed in through
``config.attributes`` by :func:`dat.core.db.migrate`; ``render_as_batch`` lets SQLite alter
tables."""

from alembic import context

from dat.core import models

config = context.config
target_metadata = models.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = config.attributes["engine"]
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - we only migrate online
    raise SystemExit("dat migrations run online only")
run_migrations_online()
