"""``dat import`` and ``dat history``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dat.cli.common import fail, format_option, handle_errors, open_store, resolve_format
from dat.cli.output import Column, emit, number


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and say what would be added, changed and rejected; write nothing.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML mapping of Fingertips area codes and indicator IDs: [areas] \"E08000027\" = \"dudley\", [indicators] \"90244\" = \"NI40\".")
@format_option
@click.pass_context
@handle_errors
def import_cmd(ctx: click.Context, file: Path, dry_run: bool, mapping: Path | None, fmt: str | None) -> None:
    """Import figures from FILE: dat's long CSV (partnership, indicator, period, value,
    numerator, denominator, note), the same as .xlsx, or a Fingertips "download data" CSV
    (with --mapping).

    All or nothing: every rejected row is listed (file:line: column: rule) and then nothing
    is written (exit 1). Importing the same file again changes nothing; a changed figure
    becomes a new revision (see dat history).

    \b
    Examples:
      dat import figures.csv --dry-run
      dat import fingertips.csv --mapping areas.toml
    """
    from dat.core.importer import ImportError_, import_file

    if not file.exists():
        fail(f"{file}: no such file", 1)
    store = open_store(ctx)
    progress = _progress() if sys.stderr.isatty() else None
    try:
        report = import_file(store, file, dry_run=dry_run, mapping=mapping,
                             progress=progress[0] if progress else None)
    except ImportError_ as exc:
        fail(str(exc), 1)
    finally:
        if progress:
            progress[1]()
    out_fmt = resolve_format(fmt)
    if out_fmt == "json":
        emit("json", [], [], result=report.as_dict())
    for r in report.rejected[:200]:
        click.echo(f"rejected: {r}", err=True)
    if len(report.rejected) > 200:
        click.echo(f"rejected: … and {len(report.rejected) - 200} more", err=True)
    verb = "would add" if dry_run else "added"
    summary = (f"{file}: {report.rows} rows ({report.format} format): {verb} {report.added}, "
               f"{'would change' if dry_run else 'changed'} {report.changed} (old values kept in history), "
               f"unchanged {report.unchanged}, rejected {len(report.rejected)}")
    if report.rejected:
        click.echo(f"dat: {summary}; nothing was written", err=True)
        sys.exit(1)
    click.echo(f"dat: {summary}" + ("; dry run, nothing written" if dry_run else ""), err=True)


def _progress():
    from rich.progress import Progress

    bar = Progress(transient=True, console=None)
    bar.start()
    task = bar.add_task("importing", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar.stop


@click.command("history")
@click.argument("partnership", metavar="PARTNERSHIP")
@click.argument("indicator", metavar="INDICATOR")
@click.option("--period", "-P", metavar="PERIOD", help="Only this period.")
@format_option
@click.pass_context
@handle_errors
def history_cmd(ctx: click.Context, partnership: str, indicator: str, period: str | None,
                fmt: str | None) -> None:
    """Every revision of PARTNERSHIP's figures for INDICATOR: corrections keep the old value.

    \b
    Example:
      dat history dudley NTA.RET12
    """
    from dat.core.importer import history

    store = open_store(ctx)
    result = history(store, partnership, indicator, period)
    columns = [Column("period", "Period"), Column("revision", "Rev", justify="right"),
               Column("current", "Current"), Column("value", "Value", fmt=lambda v, r: number(v)),
               Column("rag", "RAG"), Column("origin", "From"), Column("recorded_at", "Recorded"),
               Column("commentary", "Note")]
    emit(resolve_format(fmt), result["revisions"], columns, result=result,
         title=f"{partnership} {indicator}: history")
