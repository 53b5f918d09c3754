"""The audit trail: every write to the database says who made it, when, what and from where.

Who: the PostgreSQL session user (the login, which row-level security and roles also use),
or on SQLite, which has one user, the operating-system user. Rows are only ever added: on
PostgreSQL the database itself refuses to let anyone but an admin change or delete them.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from dat.core.models import AuditEvent

#: the longest detail kept (a purge of thousands of items is summarised, not listed)
MAX_DETAIL = 2000


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container with an unknown uid)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def actor(db: Any) -> str:
    """Who is writing through ``db`` (a Session or a Connection): the PostgreSQL session
    user, else the OS user."""
    dialect = db.dialect if hasattr(db, "dialect") else db.get_bind().dialect
    if dialect.name == "postgresql":
        from sqlalchemy import text

        return str(db.execute(text("SELECT session_user")).scalar_one())
    return os_user()


def record(db: Any, action: str, detail: str, *, partnership: str | None = None,
           source: str | None = None, who: str | None = None) -> None:
    """Add one audit row through ``db`` (a Session or a Connection), in the transaction of
    the write it describes, so both are committed or neither."""
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL - 1] + "…"
    event = AuditEvent(actor=who or actor(db), action=action, partnership=partnership,
                       detail=detail, source=source)
    if hasattr(db, "add"):
        db.add(event)
        return
    from sqlalchemy import insert

    table: Any = getattr(AuditEvent, "__table__")  # noqa: B009 - SQLModel declares it untyped
    values = {c.name: getattr(event, c.name) for c in table.columns if c.name != "id"}
    db.execute(insert(table).values(**values))


def summary(counts: dict[str, dict[str, int]]) -> str:
    """``added 3 targets, 2 actions; changed 1 observations`` from ``{"added": {...}}``."""
    parts = []
    for what in ("added", "changed", "removed", "withdrawn"):
        items = counts.get(what) or {}
        if items:
            parts.append(f"{what} " + ", ".join(f"{n} {k}" for k, n in sorted(items.items())))
    return "; ".join(parts) or "nothing changed"


__all__ = ["actor", "record", "os_user", "summary"]
