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


def actor(session: Any) -> str:
    """Who is writing through ``session``: the PostgreSQL session user, else the OS user."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        from sqlalchemy import text

        return str(session.execute(text("SELECT session_user")).scalar_one())
    return os_user()


def record(session: Any, action: str, detail: str, *, partnership: str | None = None,
           source: str | None = None, who: str | None = None) -> AuditEvent:
    """Add one audit row to ``session`` (committed with the write it describes)."""
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL - 1] + "…"
    event = AuditEvent(actor=who or actor(session), action=action, partnership=partnership,
                       detail=detail, source=source)
    session.add(event)
    return event


def summary(counts: dict[str, dict[str, int]]) -> str:
    """``added 3 targets, 2 actions; changed 1 observations`` from ``{"added": {...}}``."""
    parts = []
    for what in ("added", "changed", "removed", "withdrawn"):
        items = counts.get(what) or {}
        if items:
            parts.append(f"{what} " + ", ".join(f"{n} {k}" for k, n in sorted(items.items())))
    return "; ".join(parts) or "nothing changed"


__all__ = ["actor", "record", "os_user", "summary"]
