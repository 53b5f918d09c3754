"""``dat audit``: who wrote what to the database, when and from where."""

from __future__ import annotations

import click

from dat.cli.common import format_option, open_store, resolve_format
from dat.cli.output import Column, emit


@click.command("audit")
@click.option("--partnership", "-p", metavar="SLUG", help="Only writes about this partnership.")
@click.option("--since", metavar="DATE", help="Only writes at or after DATE (UTC), e.g. 2026-12-01.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None,
              help="At most this many rows (the newest).")
@format_option
@click.pass_context
def audit_cmd(ctx: click.Context, partnership: str | None, since: str | None, limit: int | None,
              fmt: str | None) -> None:
    """List the audit trail, newest first: every import, sync, purge, grant and transfer,
    with who made it (the PostgreSQL login; on SQLite, the operating-system user), when,
    what changed and from where (file, plugin or command).

    Rows are only ever added. On a shared PostgreSQL server nobody but an admin can change
    or delete them: the database refuses it.

    \b
    Examples:
      dat audit
      dat audit --partnership dudley --since 2026-12-01
      dat audit -n 20 -f json
    """
    from dat.core.services import audit_log

    result = audit_log(open_store(ctx), partnership, since, limit)
    if not result["events"]:
        click.echo("dat: no audit rows" + (f" for {partnership}" if partnership else "")
                   + (f" since {since}" if since else ""), err=True)
    columns = [Column("at", "When (UTC)"), Column("actor", "Who"), Column("action", "Action"),
               Column("partnership", "Partnership"), Column("detail", "What"), Column("source", "From")]
    emit(resolve_format(fmt), result["events"], columns, result=result, title="Audit trail")
