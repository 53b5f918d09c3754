"""``dat plugins``, ``dat partnerships``, ``dat indicators``."""

from __future__ import annotations

import click

from dat.cli.common import fail, format_option, open_store, resolve_format
from dat.cli.output import Column, emit


@click.command("plugins")
@format_option
@click.pass_context
def plugins_cmd(ctx: click.Context, fmt: str | None) -> None:
    """List loaded plugins, what each contributed, and why any failed.

    A plugin that fails to import, misspells a hook or registers bad data is listed with
    the reason and skipped; the rest of dat keeps working. Exit 1 when any plugin has a
    problem and --strict-plugins is given.

    \b
    Examples:
      dat plugins
      DAT_TRACE_PLUGINS=1 dat plugins      # hook calls traced to stderr
      DAT_LOAD_PLUGINS=dudley dat plugins  # load only the named entry points
    """
    from dat.core.plugins import get_plugin_manager

    strict = bool((ctx.find_root().obj or {}).get("strict"))
    host = get_plugin_manager(strict=strict or None)
    host.registry  # noqa: B018 - collecting contributions finds bad data
    host.probe_decisions()  # a rag_rule that raises or answers nonsense is listed too
    for name in host.unknown_allowed:  # a misspelling would otherwise just leave it out
        click.echo(f"dat: DAT_LOAD_PLUGINS names {name!r}, which is not an installed plugin; "
                   f"installed: {', '.join(host.installed) or 'none'}", err=True)
    from dat.cli.main import LazyGroup, cli

    cli._add_plugin_commands()  # fills LazyGroup.plugin_commands
    rows = []
    for info in host.plugins.values():
        counts = {k.removeprefix("register_"): v for k, v in info.counts.items() if v}
        commands = sorted(n for n, p in LazyGroup.plugin_commands.items() if p == info.name)
        if commands:
            counts["commands"] = len(commands)
        rows.append({
            "name": info.name, "status": info.status, "origin": info.origin,
            "module": info.module, "version": info.version,
            "contributes": ", ".join(f"{v} {k}" for k, v in counts.items())
                           + (f" ({', '.join(commands)})" if commands else ""),
            "commands": commands,
            "counts": counts, "error": info.error, "problems": info.problems,
        })
    columns = [Column("name", "Plugin"), Column("status", "Status"), Column("origin", "From"),
               Column("contributes", "Contributes"),
               Column("error", "Problem", fmt=lambda v, r: v or "; ".join(r["problems"][:3])
                      + (f" (+{len(r['problems']) - 3} more)" if len(r["problems"]) > 3 else ""))]
    emit(resolve_format(fmt), rows, columns, result={"schema": "dat.plugins/1", "plugins": rows},
         title="Plugins")


@click.command("partnerships")
@format_option
@click.pass_context
def partnerships_cmd(ctx: click.Context, fmt: str | None) -> None:
    """List partnerships, with their sub-areas indented under them.

    \b
    Example:
      dat partnerships --format json
    """
    from dat.core.services import list_partnerships

    store = open_store(ctx)
    rows = list_partnerships(store)
    out_fmt = resolve_format(fmt)
    indent = out_fmt in ("table", "markdown")
    columns = [
        Column("slug", "Slug", fmt=(lambda v, r: "  " * r["depth"] + ("└ " if r["depth"] else "") + v)
               if indent else None),
        Column("name", "Name"), Column("region", "Region"), Column("parent", "Parent"),
        Column("area_type", "Type"), Column("comparator_group", "Comparator group"),
    ]
    emit(out_fmt, rows, columns, result={"schema": "dat.partnerships/1", "partnerships": rows},
         title="Partnerships")


@click.command("indicators")
@click.option("--partnership", "-p", metavar="SLUG",
              help="Only indicators this partnership has figures or targets for.")
@click.option("--framework", metavar="NAME",
              help="Only one framework: NI, PSA, NTA, DIP, YP, FIN or local.")
@format_option
@click.pass_context
def indicators_cmd(ctx: click.Context, partnership: str | None, framework: str | None,
                   fmt: str | None) -> None:
    """List indicators: code, name, unit, polarity, framework and data source.

    \b
    Examples:
      dat indicators --partnership dudley
      dat indicators --framework YP --format csv
    """
    from dat.core.services import list_indicators
    from dat.core.specs import FRAMEWORKS

    if framework and framework not in FRAMEWORKS:
        fail(f"unknown framework {framework!r}; choose from: {', '.join(FRAMEWORKS)}", 2)
    store = open_store(ctx)
    rows = list_indicators(store, partnership)
    if framework:
        rows = [r for r in rows if r["framework"] == framework]
    columns = [Column("code", "Code"), Column("name", "Name"), Column("unit", "Unit"),
               Column("polarity", "Better"), Column("framework", "Framework"),
               Column("source", "Source")]
    emit(resolve_format(fmt), rows, columns, result={"schema": "dat.indicators/1", "indicators": rows},
         title="Indicators" + (f" for {partnership}" if partnership else ""))
