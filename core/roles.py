"""Roles on a shared PostgreSQL server, enforced by the database itself.

A login is given one of four roles:

- ``viewer`` of a partnership: reads everything (figures are not secret inside the region);
- ``editor`` of a partnership: also inserts and corrects that partnership's figures;
- ``approver`` of a partnership: an editor who may also sign a quarter off;
- ``admin``: everything: syncs plugin data, grants roles, purges and transfers.

``dat db grant`` records the role in ``dat_grant`` and gives the login the table privileges
it needs. Row-level security on ``observation`` (migration 0005) lets an editor write only the
rows of partnerships they edit, whatever client they connect with; triggers stamp figures and
audit rows with the session user. The owner of the tables (who ran ``dat db upgrade``) and
superusers are admins too. SQLite has one user and no roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from dat.core.errors import DatabaseError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

ROLES = ("viewer", "editor", "approver", "admin")
#: roles that may write a partnership's figures
EDITING = ("editor", "approver")


def _postgres(conn: Any, what: str) -> None:
    if conn.dialect.name != "postgresql":
        raise UsageError(f"{what}: an SQLite database has one user, so there are no roles; roles are for a "
                         "shared PostgreSQL server (docs/administration.md)")


def is_admin(conn: Any) -> bool:
    """Whether the session user is a dat admin (always on SQLite)."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(text("SELECT dat_is_admin()")).scalar())


def session_login(conn: Any) -> str:
    return str(conn.execute(text("SELECT session_user")).scalar_one())


def require_admin(conn: Any, what: str) -> None:
    """Stop (exit 1, nothing changed) unless the session user is a dat admin."""
    if not is_admin(conn):
        raise DatabaseError(f"only a dat admin can {what}; your login {session_login(conn)!r} is not one "
                            "(an admin runs `dat db grant LOGIN --admin`)")


def editable(conn: Any) -> set[int] | None:
    """The partnership ids the session user may write figures of; ``None``: no check here
    (an admin, SQLite, or a login that cannot write at all, whose write the database refuses
    with its own reason)."""
    if is_admin(conn):
        return None
    may_write = conn.execute(text("SELECT has_table_privilege('observation', 'INSERT') "
                                  "AND current_setting('transaction_read_only') = 'off'")).scalar()
    if not may_write:  # a read-only login or transaction: the database's own refusal says it
        return None
    rows = conn.execute(text("SELECT partnership_id FROM dat_grant WHERE login = session_user "
                             "AND role IN ('editor', 'approver') AND partnership_id IS NOT NULL"))
    return {int(r[0]) for r in rows}


def bypasses_row_security(conn: Any) -> bool:
    """Whether row-level security does not apply to the session user (a superuser, the
    owner of the tables, or BYPASSRLS): only then may a bulk write use COPY, which
    PostgreSQL refuses on a table with row-level security."""
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls)) "
        "OR current_user = (SELECT tableowner FROM pg_tables WHERE tablename = 'observation' "
        "AND schemaname = current_schema())")).scalar())


def _apply(conn: Connection, login: str) -> str:
    """Set ``login``'s table privileges from its rows in ``dat_grant`` (the database function
    ``dat_apply_privileges`` does it as the owner of the tables, so every privilege is the
    owner's to give and take back); returns the level applied."""
    return str(conn.execute(text("SELECT dat_apply_privileges(:l)"), {"l": login}).scalar_one())


def _partnership_id(conn: Any, slug: str) -> int:
    pid = conn.execute(text("SELECT id FROM partnership WHERE slug = :s"), {"s": slug}).scalar()
    if pid is None:
        from dat.core.errors import UnknownName

        raise UnknownName("partnership", slug, [r[0] for r in conn.execute(text("SELECT slug FROM partnership"))])
    return int(pid)


def grant(engine: Any, login: str, role: str, partnership: str | None = None) -> dict[str, Any]:
    """Give ``login`` ``role`` (of ``partnership``, or ``admin`` of everything)."""
    from dat.core.audit import record

    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; choose from: {', '.join(ROLES)}")
    if (role == "admin") != (partnership is None):
        raise UsageError("give --partnership with viewer, editor or approver, and not with --admin")
    with engine.begin() as conn:
        _postgres(conn, "dat db grant")
        require_admin(conn, "grant roles")
        can_login = conn.execute(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :l"), {"l": login}).scalar()
        if can_login is None:
            raise UsageError(f"no PostgreSQL login {login!r}: create it first, e.g. CREATE ROLE \"{login}\" "
                             "LOGIN PASSWORD '…' (docs/administration.md)")
        if not can_login:
            raise UsageError(f"{login!r} is a group role, not a login: dat grants roles to logins, one per "
                             "person, so that the audit trail says who")
        pid = _partnership_id(conn, partnership) if partnership else None
        exists = conn.execute(text("SELECT 1 FROM dat_grant WHERE login = :l AND role = :r AND "
                                   "partnership_id IS NOT DISTINCT FROM :p"),
                              {"l": login, "r": role, "p": pid}).scalar()
        if exists is None:
            me = session_login(conn)
            conn.execute(text("INSERT INTO dat_grant (login, partnership_id, role, granted_by, granted_at) "
                              "VALUES (:l, :p, :r, :b, now() AT TIME ZONE 'utc')"),
                         {"l": login, "p": pid, "r": role, "b": me})
            record(conn, "grant", f"{login} is {role}" + (f" of {partnership}" if partnership else ""),
                   partnership=partnership, source="command:dat db grant", who=me)
        _apply(conn, login)
        roles = held(conn, login)
    return {"login": login, "role": role, "partnership": partnership, "changed": exists is None, "holds": roles}


def revoke(engine: Any, login: str, partnership: str | None = None) -> dict[str, Any]:
    """Take away ``login``'s roles (of ``partnership`` only, or all of them); with none left
    its table privileges go too."""
    from dat.core.audit import record

    with engine.begin() as conn:
        _postgres(conn, "dat db revoke")
        require_admin(conn, "revoke roles")
        pid = _partnership_id(conn, partnership) if partnership else None
        q = "DELETE FROM dat_grant WHERE login = :l" + (" AND partnership_id = :p" if pid is not None else "")
        removed = conn.execute(text(q), {"l": login, "p": pid}).rowcount
        if not removed:
            held = conn.execute(text("SELECT count(*) FROM dat_grant WHERE login = :l"), {"l": login}).scalar()
            raise UsageError(f"{login!r} has no dat role" + (f" for {partnership}" if partnership else "")
                             + (f" (it has {held} other role(s): dat db roles)" if held else "")
                             + "; nothing was changed")
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :l"), {"l": login}).scalar():
            _apply(conn, login)  # a login dropped from the server has no privileges left to take
        what = f"{login}: {removed} role(s) removed" + (f" of {partnership}" if partnership else "")
        record(conn, "revoke", what, partnership=partnership, source="command:dat db revoke")
    return {"login": login, "partnership": partnership, "removed": removed}


def grants(engine: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        _postgres(conn, "dat db roles")
        rows = conn.execute(text(
            "SELECT g.login, g.role, p.slug, g.granted_by, g.granted_at, "
            "EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = g.login) FROM dat_grant g "
            "LEFT JOIN partnership p ON p.id = g.partnership_id ORDER BY g.login, g.role, p.slug"))
        return [{"login": r[0], "role": r[1], "partnership": r[2], "granted_by": r[3],
                 "granted_at": r[4].isoformat(timespec="seconds"), "login_exists": bool(r[5])} for r in rows]


def held(conn: Any, login: str) -> list[str]:
    """The roles ``login`` holds, as ``editor of dudley`` / ``admin``."""
    rows = conn.execute(text("SELECT g.role, p.slug FROM dat_grant g LEFT JOIN partnership p "
                             "ON p.id = g.partnership_id WHERE g.login = :l ORDER BY g.role, p.slug"), {"l": login})
    return [role if slug is None else f"{role} of {slug}" for role, slug in rows]


__all__ = ["ROLES", "grant", "revoke", "grants", "is_admin", "require_admin", "editable",
           "bypasses_row_security"]
