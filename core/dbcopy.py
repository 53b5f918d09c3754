"""Copy a whole dat database to another one: ``dat db copy --to URL``.

The usual use is moving an embedded SQLite file onto a shared PostgreSQL server, but any
engine pair works. Every table the core owns is copied with its primary keys, so links
between rows survive: partnerships, indicators, funding streams, targets, observations
(every revision, current or not), allocations, actions and the sync state in ``meta``.

The target is created and migrated to the head revision first and must be empty; with
``replace=True`` its rows are deleted first. The copy runs in one transaction on the target,
so a failure leaves it as it was. Rows are streamed from the source in batches and written
with ``COPY`` on PostgreSQL or bulk ``executemany`` elsewhere; on PostgreSQL the id
sequences are moved past the copied ids. Afterwards the row counts are compared, and
:func:`table_digests` gives a digest per table that does not depend on the engine, to show
the copy is identical.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dat.core.errors import DatabaseError  # noqa: F401 - re-exported: DatabaseError was defined here

BATCH = 10000


class CopyError(DatabaseError):
    """The copy cannot be made; the message is one line for the user."""


@dataclass
class CopyReport:
    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"schema": "dat.dbcopy/1", "source": self.source, "target": self.target,
                "rows": self.rows, "replaced": self.replaced, "total": sum(self.rows.values())}


def _tables() -> list[Any]:
    """The core's tables, parents before children."""
    from dat.core.models import metadata

    return list(metadata.sorted_tables)


def row_counts(engine: Any, *, existing_only: bool = False) -> dict[str, int]:
    """Rows in each of dat's tables; ``existing_only``: only the tables the database has (a
    database at an older schema revision lacks the newer ones)."""
    from sqlalchemy import func, inspect, select

    tables = _tables()
    if existing_only:
        present = set(inspect(engine).get_table_names())
        tables = [t for t in tables if t.name in present]
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def _norm(value: Any) -> str:
    """One spelling per value on every engine (booleans, floats, datetimes, None)."""
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return f"{type(value).__name__}:{value}"


def table_digests(engine: Any) -> dict[str, str]:
    """SHA-256 of every table's rows in primary-key order, normalised so the same data on
    SQLite and PostgreSQL gives the same digest."""
    from sqlalchemy import select

    out = {}
    with engine.connect() as conn:
        for table in _tables():
            digest = hashlib.sha256()
            q = select(table).order_by(*table.primary_key.columns)
            for row in conn.execution_options(stream_results=True, yield_per=BATCH).execute(q):
                digest.update("\x1f".join(_norm(v) for v in row).encode())
                digest.update(b"\x1e")
            out[table.name] = digest.hexdigest()
    return out


def _partnership_order(rows: list[tuple], id_at: int, parent_at: int) -> list[tuple]:
    """Parents before their sub-areas (the self-reference is checked row by row)."""
    done: set[Any] = set()
    out: list[tuple] = []
    pending = rows
    while pending:
        later = [r for r in pending if r[parent_at] is not None and r[parent_at] not in done]
        ready = [r for r in pending if not (r[parent_at] is not None and r[parent_at] not in done)]
        if not ready:  # a cycle cannot be copied in any order
            raise CopyError("partnership parents form a cycle; fix the source first")
        out.extend(ready)
        done.update(r[id_at] for r in ready)
        pending = later
    return out


def _batches(conn: Any, table: Any) -> Iterator[list[tuple]]:
    from sqlalchemy import select

    q = select(table).order_by(*table.primary_key.columns)
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(q)
    if table.name == "partnership":
        cols = [c.name for c in table.columns]
        yield _partnership_order([tuple(r) for r in result], cols.index("id"), cols.index("parent_id"))
        return
    for part in result.partitions(BATCH):
        yield [tuple(r) for r in part]


def _write(conn: Any, table: Any, rows: list[tuple]) -> None:
    if not rows:  # an empty batch: executemany of nothing would insert one row of NULLs
        return
    names = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        cols = ", ".join(f'"{n}"' for n in names)
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.execute(table.insert(), [dict(zip(names, r, strict=True)) for r in rows])


def _reset_sequences(conn: Any) -> None:
    from sqlalchemy import text

    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        if "id" in table.columns and table.columns["id"].autoincrement in (True, "auto"):
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 1), "
                f"(SELECT MAX(id) FROM \"{table.name}\") IS NOT NULL)"))


def copy_database(source_url: str, target_url: str, *, replace: bool = False,
                  progress: Callable[[str, int, int], None] | None = None) -> CopyReport:
    """Copy every table from ``source_url`` into ``target_url`` (created and migrated if
    needed). Refuses a target that has rows unless ``replace``."""
    from dat.core.db import (
        _fitted_name,
        _listed,
        _say,
        _short,
        database_url,
        open_database,
        parse_url,
        resolve_url,
        safe_url,
        same_database,
    )

    source_url = database_url(source_url)
    # a malformed URL on either side is bad usage, before anything opens
    source, target = parse_url(source_url), parse_url(resolve_url(target_url)[0])
    if same_database(source, target):  # however it is spelt: a copy onto itself deletes its rows
        why = "the source and the target are the same database ("
        raise CopyError(f"{why}{_fitted_name(target_url, why, '); copy to another one')}); copy to another one")
    from pathlib import Path

    if target.get_backend_name() == "sqlite" and Path(target.database or "").is_symlink():
        why = ": it is a symbolic link, and dat never writes through one; give the real path"
        raise CopyError(f"cannot copy to {_fitted_name(target_url, 'cannot copy to ', why)}{why}")
    if (source.get_backend_name() == "sqlite" and source.database
            and not Path(source.database).expanduser().exists()):
        raise CopyError(f"the source database {_short(source.database, 80)} does not exist "
                        "(give it with --db or DAT_DATABASE_URL)")
    src = open_database(source_url, sync=False)
    dst = open_database(target_url, sync=False)
    report = CopyReport(safe_url(source_url), safe_url(target_url))
    existing = {k: v for k, v in row_counts(dst).items() if v}
    if existing and not replace:
        listed = _listed([f"{k} ({v})" for k, v in sorted(existing.items())], 60)
        why = f" is not empty: {listed}; use --replace to delete its rows and copy over them"
        raise CopyError(f"the target {_fitted_name(target_url, 'the target ', why)}{why}")
    counts = row_counts(src)
    tables = _tables()
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with src.connect() as read, dst.begin() as write:
            for table in reversed(tables):
                if existing.get(table.name):
                    write.execute(table.delete())
                    report.replaced[table.name] = existing[table.name]
            if write.dialect.name == "sqlite":
                from sqlalchemy import text

                write.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in tables:
                done = 0
                if progress:
                    progress(table.name, 0, counts[table.name])
                for rows in _batches(read, table):
                    _write(write, table, rows)
                    done += len(rows)
                    if progress:
                        progress(table.name, done, counts[table.name])
                report.rows[table.name] = done
            _reset_sequences(write)
    except SQLAlchemyError as exc:  # a driver error half way: the target transaction rolled back
        first = (str(getattr(exc, 'orig', None) or exc).strip().splitlines() or ['?'])[0]
        raise CopyError(_say("the copy failed and the target was left as it was: ", first)) from None
    after = row_counts(dst)
    if after != counts:
        wrong = [f"{k}: {counts[k]} -> {after.get(k)}" for k in counts if after.get(k) != counts[k]]
        raise CopyError(_say("the copy is incomplete: ", "; ".join(wrong)))
    return report


__all__ = ["copy_database", "table_digests", "row_counts", "CopyError", "CopyReport"]
