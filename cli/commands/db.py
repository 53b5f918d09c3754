"""``dat db``: the database itself: ``info``, ``upgrade``, ``sync`` and ``copy --to URL``."""

from __future__ import annotations

import sys

import click

from dat.cli.common import fail, format_option, resolve_format


def _source(ctx: click.Context) -> str:
    from dat.core.db import database_url

    return database_url((ctx.find_root().obj or {}).get("db_url"))


@click.group("db")
def db_cmd() -> None:
    """The database: what is in it, bring it up to date, copy it to another server.

    \b
    Examples:
      dat db info
      dat db upgrade
      dat db sync
      dat db grant dudley_officer --partnership dudley --as editor
      dat db copy --to postgresql+psycopg://dat@dbserver/dat_london
    """


@db_cmd.command("info")
@format_option
@click.pass_context
def info_cmd(ctx: click.Context, fmt: str | None) -> None:
    """The database URL (password hidden), its schema revision and the rows in each table."""
    from dat.cli.output import Column, emit
    from dat.core.db import HEAD_REVISION, current_revision, get_engine, known_revisions, mask_url
    from dat.core.dbcopy import row_counts

    url = _source(ctx)
    engine = get_engine(url, must_exist=True)  # looking must not create a file
    revision = current_revision(engine)
    safe_url = mask_url
    if revision is None:
        status, advice = "empty", ""
    elif revision == HEAD_REVISION:
        status, advice = "current", ""
    elif revision in known_revisions():  # an older schema: it lacks the newer tables
        status, advice = "behind", "; `dat db upgrade` migrates it (tables it does not have yet are not listed)"
    else:
        status, advice = "ahead", "; a newer dat made it: upgrade dat to use it"
    counts = row_counts(engine, existing_only=status != "current") if revision else {}
    tables = [{"table": k, "rows": v} for k, v in counts.items()]
    result = {"schema": "dat.dbinfo/1", "url": safe_url(url), "engine": engine.dialect.name,
              "revision": revision, "head": HEAD_REVISION, "status": status, "tables": tables}
    click.echo(f"dat: {safe_url(url)} ({engine.dialect.name}), schema revision {revision or 'none'}"
               f" (this dat expects {HEAD_REVISION}){advice}", err=True)
    emit(resolve_format(fmt), tables,
         [Column("table", "Table"), Column("rows", "Rows", justify="right")], result=result,
         title="rows per table")


@db_cmd.command("upgrade")
@click.option("--adopt", is_flag=True,
              help="Add dat's tables to a database that already holds other tables but no dat "
                   "schema (otherwise such a database is refused).")
@click.pass_context
def upgrade_cmd(ctx: click.Context, adopt: bool) -> None:
    """Create the database if needed and migrate it to this dat's schema (no plugin sync).

    A database with tables of its own and no dat schema is refused unless --adopt."""
    from dat.core.db import current_revision, open_database, safe_url

    url = _source(ctx)
    engine = open_database(url, sync=False, adopt=adopt)
    click.echo(f"dat: {safe_url(url)} is at schema revision {current_revision(engine)}", err=True)


@db_cmd.command("sync")
@click.option("--force", is_flag=True, help="Sync even when nothing seems to have changed.")
@format_option
@click.pass_context
def sync_cmd(ctx: click.Context, force: bool, fmt: str | None) -> None:
    """Bring the installed plugins' data into the database now, and say what changed.

    On SQLite every command does this by itself when a plugin's data changed. On a shared
    PostgreSQL server ordinary commands never write plugin data: an admin runs `dat db sync`
    after installing, upgrading or removing plugins (DAT_SYNC=auto|explicit overrides this).

    Only the items of plugins that are loaded and healthy are added, changed or removed;
    what other plugins contributed stays (`dat plugins` lists it as orphaned).

    \b
    Examples:
      dat db sync
      dat --db postgresql+psycopg://admin@dbserver/dat db sync -f json
    """
    from dat.cli.output import Column, emit
    from dat.core.db import open_database, safe_url, sync_now

    url = _source(ctx)
    host = _host(ctx)
    engine = open_database(url, sync=False, host=host)
    report = sync_now(engine, host, force=force)
    kinds = sorted(set(report.added) | set(report.changed) | set(report.removed) | set(report.kept))
    rows = [{"kind": k, "added": report.added.get(k, 0), "changed": report.changed.get(k, 0),
             "removed": report.removed.get(k, 0), "kept": report.kept.get(k, 0)} for k in kinds]
    result = {"schema": "dat.sync/1", "url": safe_url(url), "skipped": report.skipped, "kinds": rows}
    emit(resolve_format(fmt), rows,
         [Column("kind", "Kind"), Column("added", "Added", justify="right"),
          Column("changed", "Changed", justify="right"), Column("removed", "Removed", justify="right"),
          Column("kept", "Kept (other plugins')", justify="right")], result=result, title="plugin sync")
    if report.skipped:
        click.echo("dat: nothing to sync: the database already holds what the plugins contribute "
                   "(--force syncs anyway)", err=True)
    else:
        total = {w: sum(getattr(report, w).values()) for w in ("added", "changed", "removed")}
        click.echo(f"dat: synced {safe_url(url)}: {total['added']} added, {total['changed']} changed, "
                   f"{total['removed']} removed", err=True)


def _host(ctx: click.Context):  # noqa: ANN202 - a PluginHost, imported lazily
    from dat.core.plugins import get_plugin_manager

    return get_plugin_manager(strict=bool((ctx.find_root().obj or {}).get("strict")) or None)


@db_cmd.command("grant")
@click.argument("login")
@click.option("--partnership", "-p", metavar="SLUG", help="The partnership the role is for.")
@click.option("--as", "role", type=click.Choice(["viewer", "editor", "approver"]),
              help="viewer: reads; editor: also writes the partnership's figures; approver: an "
                   "editor who may also sign a quarter off.")
@click.option("--admin", is_flag=True, help="Everything: sync, grant, purge, transfer, every partnership.")
@click.pass_context
def grant_cmd(ctx: click.Context, login: str, partnership: str | None, role: str | None, admin: bool) -> None:
    """Give PostgreSQL login LOGIN a role, enforced by the database itself.

    Row-level security stops an editor writing any other partnership's figures, whatever
    client they connect with; a viewer can write nothing. Only an admin can grant. The login
    must exist already (CREATE ROLE ... LOGIN PASSWORD ...). On SQLite there is one user and
    no roles.

    \b
    Examples:
      dat db grant dudley_officer --partnership dudley --as editor
      dat db grant regional_analyst --partnership dudley --as viewer
      dat db grant data_manager --admin
    """
    from dat.core.db import open_database
    from dat.core.roles import grant

    if admin == bool(role):
        fail("give either --as ROLE with --partnership SLUG, or --admin", 2)
    if role and not partnership:
        fail(f"--as {role} needs --partnership SLUG", 2)
    if admin and partnership:
        fail("--admin is for every partnership: leave out --partnership", 2)
    engine = open_database(_source(ctx), sync=False)
    result = grant(engine, login, "admin" if admin else str(role), partnership)
    what = "admin" if admin else f"{role} of {partnership}"
    click.echo(f"dat: {login} is {what}" + ("" if result["changed"] else " (already)"), err=True)
    others = [r for r in result["holds"] if r != what]
    if others:  # a login name used before may still hold an old role: say so
        click.echo(f"dat: {login} also holds: {', '.join(others[:6])} (dat db revoke removes them)", err=True)


@db_cmd.command("revoke")
@click.argument("login")
@click.option("--partnership", "-p", metavar="SLUG", help="Only the roles for this partnership.")
@click.pass_context
def revoke_cmd(ctx: click.Context, login: str, partnership: str | None) -> None:
    """Take a login's roles away (all of them, or those for one partnership).

    \b
    Examples:
      dat db revoke dudley_officer --partnership dudley
      dat db revoke former_admin
    """
    from dat.core.db import open_database
    from dat.core.roles import revoke

    result = revoke(open_database(_source(ctx), sync=False), login, partnership)
    click.echo(f"dat: removed {result['removed']} role(s) of {login}", err=True)


@db_cmd.command("roles")
@format_option
@click.pass_context
def roles_cmd(ctx: click.Context, fmt: str | None) -> None:
    """List who holds which role on this PostgreSQL database.

    \b
    Example:
      dat db roles -f json
    """
    from dat.cli.output import Column, emit
    from dat.core.db import open_database
    from dat.core.roles import grants

    rows = grants(open_database(_source(ctx), sync=False))
    emit(resolve_format(fmt), rows,
         [Column("login", "Login", fmt=lambda v, r: v if r["login_exists"] else f"{v} (no such login)"),
          Column("role", "Role"), Column("partnership", "Partnership"),
          Column("granted_by", "Granted by"), Column("granted_at", "When (UTC)")],
         result={"schema": "dat.roles/1", "roles": rows}, title="Roles")


@db_cmd.command("copy")
@click.option("--to", "target", required=True, metavar="URL",
              help="The database to copy into, e.g. postgresql+psycopg://dat@dbserver/dat_london. "
                   "It is created (SQLite) and migrated if needed, and must be empty.")
@click.option("--replace", "--force", "replace", is_flag=True,
              help="Delete the rows already in the target first (otherwise a non-empty target is refused).")
@click.option("--verify", is_flag=True,
              help="Afterwards compare a digest of every table on both sides (reads both databases again).")
@format_option
@click.pass_context
def copy_cmd(ctx: click.Context, target: str, replace: bool, verify: bool, fmt: str | None) -> None:
    """Copy this database (--db / DAT_DATABASE_URL / the default file) into another one:
    every partnership, indicator, target, observation with its revision history, funding
    stream, allocation, action and the plugin sync state, keeping their ids.

    Use it to move an embedded SQLite file onto a shared PostgreSQL server, then point
    everyone's DAT_DATABASE_URL at the server. Progress goes to stderr.

    \b
    Examples:
      dat db copy --to postgresql+psycopg://dat@dbserver/dat_london
      dat --db sqlite:///old.sqlite3 db copy --to sqlite:///new.sqlite3 --verify
    """
    from dat.cli.output import Column, emit
    from dat.core.db import get_engine, safe_url
    from dat.core.dbcopy import copy_database, table_digests

    source = _source(ctx)
    tty = sys.stderr.isatty()
    last: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        step = max(1, total // 20)
        if done == 0 or done == total or done - last.get(table, 0) >= step:
            last[table] = done
            end = "\n" if done == total else ("\r" if tty else "\n")
            if done == total or tty or done == 0:
                click.echo(f"dat: copying {table}: {done:,}/{total:,} rows", err=True, nl=False)
                click.echo(end, err=True, nl=False)

    report = copy_database(source, target, replace=replace, progress=progress)
    result = report.as_dict()
    if verify:
        a, b = table_digests(get_engine(source)), table_digests(get_engine(target))
        differ = sorted(k for k in a if a[k] != b.get(k))
        result["verified"] = not differ
        if differ:
            fail(f"copied, but these tables differ: {', '.join(differ)}", 1)
    emit(resolve_format(fmt), [{"table": k, "rows": v} for k, v in report.rows.items()],
         [Column("table", "Table"), Column("rows", "Rows copied", justify="right")], result=result,
         title=f"copied to {safe_url(target)}")
    click.echo(f"dat: copied {result['total']:,} rows from {report.source} to {report.target}"
               + ("; every table verified identical" if verify else ""), err=True)
