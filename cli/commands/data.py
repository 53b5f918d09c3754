"""``dat import``, ``dat history`` and ``dat export``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click

from dat.cli.common import OutputPath, fail, format_option, open_store, resolve_format
from dat.cli.output import Column, emit, number
from dat.core.errors import shorten


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True,
              help="Check every row and say what would be added, changed and rejected; write nothing.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML mapping of Fingertips area codes and indicator IDs: "
                   "[areas] \"E08000027\" = \"dudley\", [indicators] \"90244\" = \"NI40\".")
@click.option("--decimal-comma", is_flag=True,
              help="Numbers use a decimal comma and '.' between thousands (1.234,5).")
@click.option("--allow-future", is_flag=True,
              help="Accept periods after the current financial year (forecasts).")
@format_option
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, dry_run: bool, mapping: Path | None, decimal_comma: bool,
               allow_future: bool, fmt: str | None) -> None:
    """Import figures from FILE: dat's long CSV (partnership, indicator, period, value,
    numerator, denominator, note), the same as .xlsx (its active visible sheet), or a
    Fingertips "download data" CSV (with --mapping). FILE may be - (standard input) or a pipe.

    All or nothing: every rejected row is listed (file:line: column: rule) and then nothing
    is written (exit 1). Unknown columns, malformed CSV and numbers that do not follow the
    one rule (1,234.5; no 1,5 without --decimal-comma) are refused; docs/cli.md lists every
    rule. Importing the same file again changes nothing; a changed figure becomes a new
    revision (see dat history).

    \b
    Examples:
      dat import figures.csv --dry-run
      dat import fingertips.csv --mapping areas.toml
    """
    from dat.core.errors import DataError
    from dat.core.importer import import_file

    if str(file) != "-" and not file.exists():
        fail(f"{file}: no such file", 1)
    store = open_store(ctx)
    progress = _progress() if sys.stderr.isatty() else None
    try:
        report = import_file(store, file, dry_run=dry_run, mapping=mapping,
                             progress=progress[0] if progress else None,
                             decimal_comma=decimal_comma, allow_future=allow_future)
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
    sheet = f", sheet {report.sheet!r}" if report.sheet is not None else ""
    if report.breakdowns:
        click.echo(f"dat: {report.breakdowns} breakdown rows not imported: dat stores the Persons, "
                   "no-category figure at each indicator's own age", err=True)
    if report.suppressed:
        click.echo(f"dat: skipped {report.suppressed} suppressed row{'s' if report.suppressed != 1 else ''} "
                   "(no Value, a Value note): nothing is stored for them", err=True)
    summary = (f"{file}: {report.rows} rows ({report.format} format{sheet}): {verb} {report.added}, "
               f"{'would change' if dry_run else 'changed'} {report.changed} (old values kept in history), "
               f"unchanged {report.unchanged}, rejected {len(report.rejected)}")
    if report.rejected:
        raise DataError(f"{file}: {report.rows} rows ({report.format} format{sheet}): "
                        f"rejected {len(report.rejected)}; nothing was written")
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
def history_cmd(ctx: click.Context, partnership: str, indicator: str, period: str | None,
                fmt: str | None) -> None:
    """Every revision of PARTNERSHIP's figures for INDICATOR: corrections keep the old value.

    \b
    Example:
      dat history dudley NTA.RET12
    """
    from dat.core.services import history

    store = open_store(ctx)
    result = history(store, partnership, indicator, period)
    if not result["revisions"]:
        click.echo(f"dat: no figures for {partnership} {indicator}"
                   + (f" in {period}" if period else ""), err=True)
    columns = [Column("period", "Period"), Column("revision", "Rev", justify="right"),
               Column("current", "Current"), Column("value", "Value", fmt=lambda v, r: number(v)),
               Column("rag", "RAG"), Column("origin", "From"), Column("recorded_by", "By"),
               Column("recorded_at", "Recorded"),
               Column("commentary", "Note")]
    emit(resolve_format(fmt), result["revisions"], columns, result=result,
         title=f"{partnership} {indicator}: history")


@click.command("export")
@click.option("--what", "kind", type=click.Choice(["observations", "targets", "funding"]),
              default="observations", show_default=True, help="What to export.")
@click.option("--partnership", "-p", "partnerships", multiple=True, metavar="SLUG",
              help="Only these partnerships (repeat).")
@click.option("--indicator", "-i", "indicators", multiple=True, metavar="CODE", help="Only these indicators (repeat).")
@click.option("--output", "-o", type=OutputPath(),
              help="File to write; the format comes from its suffix (.csv, .json, .xlsx). Default: CSV to stdout. "
                   "Never written through a symlink; an existing file only with --force.")
@click.option("--force", is_flag=True, help="Replace the -o file if it exists.")
@click.option("--fingertips", "ft_mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="Write observations in Fingertips' layout, mapping partnerships and indicators "
                   "back through this import mapping (TOML).")
@click.option("--public", is_flag=True,
              help="Disclosure control for publication (docs/disclosure.md): counts of 1-4 and "
                   "everything derived from them are shown as *, and further cells are hidden "
                   "until no hidden one can be worked back through the file's sums (sub-areas, "
                   "quarters, year to date) or percentages; says what it suppressed.")
@click.pass_context
def export_cmd(ctx: click.Context, kind: str, partnerships: tuple[str, ...], indicators: tuple[str, ...],
               output: Path | None, force: bool, ft_mapping: Path | None, public: bool) -> None:
    """Export figures, targets or funding, streamed row by row.

    The observations CSV has dat's import columns, so it imports back unchanged.

    \b
    Examples:
      dat export -o all.csv
      dat export --public -p bromley -o bromley-public.xlsx
      dat export --what funding -o funding.json
    """
    from dat.core.exporter import ExportReport, export
    from dat.core.files import atomic_path, atomic_text, check_output, flush_stdout
    from dat.core.importer import load_mapping
    from dat.core.services import get_indicator, get_partnership

    fmt = "csv"
    if output is not None:
        fmt = {".csv": "csv", ".json": "json", ".xlsx": "xlsx"}.get(output.suffix.lower(), "")
        if not fmt:
            fail(f"cannot export to {shorten(output.suffix, 40) or 'a file without a suffix'}: "
                 "use .csv, .json or .xlsx", 2)
        check_output(output, force=force)  # before the database is opened
    store = open_store(ctx)
    for slug in partnerships:
        get_partnership(store, slug)
    for code in indicators:
        get_indicator(store, code)
    mapping = None
    if ft_mapping is not None:
        mapping = load_mapping(ft_mapping)
    only_partnerships = list(partnerships) or None
    only_indicators = list(indicators) or None

    def run(out: IO[str] | None, path: str | None = None) -> ExportReport:
        return export(store, out, kind=kind, fmt=fmt, partnerships=only_partnerships,
                      indicators=only_indicators, public=public, path=path, fingertips=mapping)

    if output is None:
        report = run(sys.stdout)
        flush_stdout()
    elif fmt == "xlsx":
        with atomic_path(output, force=force) as tmp:
            report = run(None, path=str(tmp))
    else:
        with atomic_text(output, force=force) as fh:
            report = run(fh)
    msg = f"dat: exported {report.rows} {kind} rows" + (f" to {shorten(output)}" if output else "")
    if public:
        msg += (f"; suppressed {report.suppressed_primary} small counts (1-4) and "
                f"{report.suppressed_secondary} further cells that would reveal them")
    click.echo(msg, err=True)
    for note in report.notes:
        click.echo(f"dat: {note}", err=True)
