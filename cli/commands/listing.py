"""``dat plugins``, ``dat partnerships``, ``dat indicators``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from dat.cli.common import fail, format_option, open_store, resolve_format
from dat.cli.output import Column, emit


@click.group("plugins", invoke_without_command=True)
@format_option
@click.pass_context
def plugins_cmd(ctx: click.Context, fmt: str | None) -> None:
    """List plugins: what each contributed, how long its hooks took, and why any failed.

    A plugin that fails to import, misspells a hook or registers bad data is listed with
    the reason and skipped; the rest of dat keeps working. A hook that takes over a second
    is flagged (every command that reads the plugins waits for it). Contributions in the
    database from plugins that are not loaded here (uninstalled, disabled, failed) are
    listed as orphaned: a sync never removes them; `dat plugins purge` does.
    Exit 1 when any plugin has a problem and --strict-plugins is given.

    \b
    Examples:
      dat plugins
      dat plugins disable cheshire         # for you only; DAT_DISABLE_PLUGINS=a,b for one run
      dat plugins purge old_plugin --dry-run
      DAT_TRACE_PLUGINS=1 dat plugins      # hook calls traced to stderr
      DAT_LOAD_PLUGINS=dudley dat plugins  # load only the named entry points
    """
    if ctx.invoked_subcommand is not None:
        return
    from dat.core.errors import DatabaseError
    from dat.core.plugins import SLOW_HOOK, get_plugin_manager

    strict = bool((ctx.find_root().obj or {}).get("strict"))
    host = get_plugin_manager(strict=strict or None)
    orphaned: dict = {}
    try:  # ownership in the database decides conflicts between plugins; orphans are there too
        from dat.core.services.ownership import orphans

        store = open_store(ctx)
        orphaned = orphans(store)
    except DatabaseError as exc:
        click.echo(f"dat: warning: orphaned contributions not listed: {exc}", err=True)
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
        timings = {k: round(v * 1000, 1) for k, v in info.timings.items()}
        slow = [f"{h} took {info.timings[h]:.1f} s (over {SLOW_HOOK:g} s)" for h in info.slow]
        rows.append({
            "name": info.name, "status": info.status, "origin": info.origin,
            "module": info.module, "version": info.version,
            "contributes": ", ".join(f"{v} {k}" for k, v in counts.items())
                           + (f" ({', '.join(commands)})" if commands else ""),
            "commands": commands,
            "counts": counts, "error": info.error, "problems": info.problems + slow,
            "hook_ms": timings, "total_ms": round(sum(info.timings.values()) * 1000, 1),
            "orphaned": orphaned.pop(info.name, {}).get("counts", {}),
        })
    for name, orphan in sorted(orphaned.items()):
        rows.append({"name": name, "status": orphan["why"], "origin": "database only", "module": None,
                     "version": None, "contributes": "", "commands": [], "counts": {}, "error": None,
                     "problems": [], "hook_ms": {}, "total_ms": 0.0, "orphaned": orphan["counts"]})

    def problem(value: Any, row: Mapping[str, Any]) -> str:
        if row["orphaned"]:
            held = ", ".join(f"{n} {k}" for k, n in sorted(row["orphaned"].items()))
            hint = f"dat plugins purge {row['name']}" if row["status"] == "not installed" else \
                f"kept while it is {row['status']}"
            return f"orphaned in the database: {held} ({hint})"
        if row["error"]:
            return str(row["error"])
        shown = "; ".join(row["problems"][:3])
        return shown + (f" (+{len(row['problems']) - 3} more)" if len(row["problems"]) > 3 else "")

    for row in rows:  # one text for every format, CSV included
        row["problem"] = problem(None, row) or None
    columns = [Column("name", "Plugin"), Column("status", "Status"), Column("origin", "From"),
               Column("contributes", "Contributes"),
               Column("total_ms", "Hooks ms", justify="right"),
               Column("problem", "Problem")]
    emit(resolve_format(fmt), rows, columns, result={"schema": "dat.plugins/1", "plugins": rows},
         title="Plugins")


@plugins_cmd.command("disable")
@click.argument("name")
def plugins_disable_cmd(name: str) -> None:
    """Stop loading plugin NAME, for you only: a setting in your own config folder
    (DAT_CONFIG_DIR), never the shared database. `dat plugins enable NAME` undoes it.

    \b
    Example:
      dat plugins disable cheshire
    """
    _set_disabled(name, True)


@plugins_cmd.command("enable")
@click.argument("name")
def plugins_enable_cmd(name: str) -> None:
    """Load plugin NAME again after `dat plugins disable NAME`.

    \b
    Example:
      dat plugins enable cheshire
    """
    _set_disabled(name, False)


def _set_disabled(name: str, disabled: bool) -> None:
    import json
    from importlib.metadata import entry_points

    from dat.core.errors import shorten
    from dat.core.files import write_text
    from dat.core.plugins import ENTRY_POINT_GROUP, load_settings, settings_file
    from dat.core.readers import quote

    installed = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    settings, problem = load_settings()
    if problem:  # never overwrite what the user wrote and dat cannot read
        fail(f"{problem}: not changed; fix or delete it first", 1)
    current = [str(n) for n in settings.get("disabled_plugins", []) if isinstance(n, str)]
    shown = quote(name, 40)
    if disabled and name not in installed:
        fail(f"no installed plugin {shown}; installed: {', '.join(installed) or 'none'} "
             "(the built-in national and renderers plugins cannot be disabled)", 2)
    if not disabled and name not in current:
        click.echo(f"dat: plugin {shown} is not disabled", err=True)
        return
    settings["disabled_plugins"] = sorted(set(current) | {name}) if disabled else [n for n in current if n != name]
    path = settings_file()
    if not path.parent.is_dir():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # the user's own config folder
        except OSError as exc:
            what = "is not a folder" if isinstance(exc, (FileExistsError, NotADirectoryError)) else \
                f"cannot be created ({exc.strerror or exc})"
            fail(f"the settings folder {shorten(path.parent)} (DAT_CONFIG_DIR) {what}; cannot save the setting", 1)
    write_text(path, json.dumps(settings, indent=2, sort_keys=True) + "\n", force=True)
    click.echo(f"dat: plugin {shown} {'disabled' if disabled else 'enabled'} for you ({shorten(path)})", err=True)


@plugins_cmd.command("purge")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Say what would be removed and change nothing.")
@format_option
@click.pass_context
def plugins_purge_cmd(ctx: click.Context, name: str, dry_run: bool, fmt: str | None) -> None:
    """Remove an uninstalled plugin's contributions from the database, on purpose.

    Its targets, funding lines and actions are removed; its figures stay in history,
    marked withdrawn (`dat history` shows them); its partnerships, indicators and streams
    are removed where nothing else uses them and otherwise left with no owner. Recorded in
    the audit trail. An admin's job on a shared server.

    \b
    Examples:
      dat plugins purge old_plugin --dry-run
      dat plugins purge old_plugin
    """
    from dat.core.services.ownership import purge

    result = purge(open_store(ctx), name, dry_run=dry_run)
    rows = [{"change": k, "items": v} for k, v in result["changes"].items()]
    emit(resolve_format(fmt), rows, [Column("change", "Change"), Column("items", "Items", justify="right")],
         result={"schema": "dat.purge/1", **result}, title=f"purge {name}" + (" (dry run)" if dry_run else ""))
    total = sum(result["changes"].values())
    click.echo(f"dat: {'would change' if dry_run else 'purged'} {total} items of plugin {name!r}"
               + (" (nothing was changed: --dry-run)" if dry_run else ""), err=True)


@click.group("partnerships", invoke_without_command=True)
@format_option
@click.pass_context
def partnerships_cmd(ctx: click.Context, fmt: str | None) -> None:
    """List partnerships, with their sub-areas indented under them.

    \b
    Examples:
      dat partnerships --format json
      dat partnerships transfer halton --to halton_dat
    """
    if ctx.invoked_subcommand is not None:
        return
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


@partnerships_cmd.command("transfer")
@click.argument("slug")
@click.option("--to", "plugin", required=True, metavar="PLUGIN",
              help="The plugin that is to own the partnership; it must be loaded and register it.")
@click.pass_context
def partnerships_transfer_cmd(ctx: click.Context, slug: str, plugin: str) -> None:
    """Make PLUGIN the owner of partnership SLUG.

    The plugin that first registered a partnership in a database owns it: a sync never
    lets another plugin change it. This is the only way to change the owner; it is recorded
    in the audit trail, and the new owner's data comes in with the next sync.

    \b
    Example:
      dat partnerships transfer halton --to halton_dat
    """
    from dat.core.services.ownership import transfer

    result = transfer(open_store(ctx), slug, plugin)
    if not result["changed"]:
        click.echo(f"dat: {plugin} already owns {slug!r}", err=True)
        return
    click.echo(f"dat: {slug!r} now belongs to {plugin} (it was {result['from'] or 'nobody'}'s); "
               "run `dat db sync` to bring in its data", err=True)
