"""``dat funding``, ``dat actions`` and ``dat report``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import click

from dat.cli.common import OutputPath, fail, format_option, open_store, resolve_format
from dat.cli.output import Column, emit, number
from dat.cli.widths import Fit
from dat.core.errors import shorten


def _money(v, row) -> str:
    if v is None:
        return "not stated"
    return ("~" if row.get("approximate") else "") + number(v, "gbp")


@click.command("funding")
@click.argument("partnerships", nargs=-1, required=True, metavar="PARTNERSHIP...")
@click.option("--year", "-y", metavar="YEAR", help="Financial year, e.g. 2009/10 (default: the latest with funding).")
@format_option
@click.pass_context
def funding_cmd(ctx: click.Context, partnerships: tuple[str, ...], year: str | None,
                fmt: str | None) -> None:
    """Show a partnership's funding for a year: stream, line, amount, share, banked by and
    used for, the total, the change on the year before, the management & admin share and the
    cost per person in effective treatment. With several partnerships: streams side by side.

    Amounts are exact (pence); streams a document names without an amount show "not stated"
    and are left out of the total. When the document states its own total (a line marked
    is_total, e.g. Cheshire's "about £6m"), that is the total and the other lines are parts
    of it; "~" marks a rounded amount.

    \b
    Examples:
      dat funding bromley --year 2009/10
      dat funding bromley cheshire
    """
    from dat.core.services import funding, funding_compare, get_partnership

    partnerships = tuple(dict.fromkeys(partnerships))  # a partnership named twice is listed once
    store = open_store(ctx)
    if len(partnerships) > 1:
        _funding_side_by_side(funding_compare(store, list(partnerships), year), fmt)
        return
    partnership = partnerships[0]
    result = funding(store, partnership, year)
    if result.get("reason"):
        click.echo(f"dat: {result['reason']}", err=True)
    rows: list[Mapping[str, Any]] = list(result["lines"])
    out_fmt = resolve_format(fmt)
    if out_fmt in ("table", "markdown") and result["total"] is not None:
        rows.append({"stream": "", "stream_name": "Total", "amount": result["total"], "share": 1.0,
                     "approximate": result["total_approximate"],
                     "line": "stated" if result["total_basis"] == "stated total" else ""})
    columns = [Column("stream", "Stream", fit=Fit(priority=8, min=10)),
               Column("stream_name", "Name", fit=Fit(priority=0, min=14, grow=True)),
               Column("line", "Line", fit=Fit(priority=1, min=10, grow=True)),
               Column("amount", "Amount", fmt=_money, justify="right", fit=Fit(priority=0, whole=True)),
               Column("share", "Share", fmt=lambda v, r: "" if v is None else f"{v:.1%}", justify="right",
                      fit=Fit(priority=1, whole=True)),
               Column("banked_by", "Banked by", fit=Fit(priority=5, min=10)),
               Column("used_for", "Used for", fit=Fit(priority=6, min=12))]
    caption = _funding_caption(result)
    name = get_partnership(store, partnership)["name"]
    emit(out_fmt, rows, columns, result=result, caption=caption if out_fmt != "csv" else None,
         title=f"{name} funding, {result['year']}" if result["year"] else f"{name} funding")
    if out_fmt == "csv" and caption:
        click.echo(f"dat: {caption}", err=True)


def _funding_caption(r: Mapping[str, Any]) -> str:
    parts = []
    if r.get("total_basis") == "stated total" and r.get("itemised_total") is not None:
        parts.append(f"total as the document states it; itemised lines come to "
                     f"{number(r['itemised_total'], 'gbp')}")
    if r.get("change_pct") is not None:
        parts.append(f"change on {r['previous_year']}: {r['change_pct']:+.1f}%")
    if r.get("management_admin_share") is not None:
        parts.append(f"management & admin: {r['management_admin_share']:.1f}%")
    if r.get("cost_per_person") is not None:
        parts.append(f"per person in effective treatment: {number(r['cost_per_person'], 'gbp')}"
                     f" ({number(r['in_effective_treatment'])} people)")
    return "; ".join(parts)


def _side_cell(slug: str) -> Callable[[Any, Mapping[str, Any]], str]:
    """The cell of one partnership's column in the side-by-side funding table."""

    def fmt(v: Any, r: Mapping[str, Any]) -> str:
        return "–" if slug not in r or (v is None and r["stream"] == "Total") else _money(v, r)

    return fmt


def _funding_side_by_side(result: Mapping[str, Any], fmt: str | None) -> None:
    slugs = [p["partnership"] for p in result["partnerships"]]
    rows = list(result["streams"])
    out_fmt = resolve_format(fmt)
    total = {"stream": "Total", "stream_name": ""}
    total.update({p["partnership"]: p["total"] for p in result["partnerships"]})
    rows.append(total)
    columns = [Column("stream", "Stream", fit=Fit(priority=8, min=10)),
               Column("stream_name", "Name", fit=Fit(priority=0, min=14, grow=True))] + [
        Column(slug, f"{slug} ({p['year'] or '–'})", fmt=_side_cell(slug), justify="right",
               fit=Fit(priority=0, whole=True))
        for slug, p in zip(slugs, result["partnerships"], strict=True)]
    emit(out_fmt, rows, columns, result=result, title="Funding side by side")


def _due(v: Any, row: Mapping[str, Any]) -> str:
    from dat.core.services.actions import due_text

    return due_text(date.fromisoformat(row["due_date"]) if row.get("due_date") else None, v)


def _action_status(v: Any, row: Mapping[str, Any]) -> str:
    return f"{v} · OVERDUE" if row.get("overdue") and v != "overdue" else (
        "OVERDUE" if v == "overdue" else v or "")


@click.command("actions")
@click.argument("partnership", metavar="PARTNERSHIP")
@click.option("--status", metavar="STATUS", help="Only actions with this status (e.g. 'in progress'), "
              "or 'not done' (neither complete nor dropped) or 'overdue'.")
@click.option("--as-of", "as_of", metavar="DATE", help="Judge overdue against this date "
              "(YYYY-MM-DD; default: today).")
@format_option
@click.pass_context
def actions_cmd(ctx: click.Context, partnership: str, status: str | None, as_of: str | None,
                fmt: str | None) -> None:
    """Show PARTNERSHIP's action plan: theme, action, lead, due date and status. An action is
    OVERDUE when its due date has passed (today, or --as-of) and it is neither complete nor
    dropped, or when the plan says so. Due dates are shown one way (31 Mar 2004; a
    financial year or quarter is due by its last day).

    \b
    Examples:
      dat actions dudley --status "in progress"
      dat actions ne_lincs --status overdue
    """
    from dat.core.services import actions, get_partnership
    from dat.core.services.actions import STATUS_FILTERS
    from dat.core.specs import ActionSpec

    choices = tuple(dict.fromkeys((*ActionSpec.STATUSES, *STATUS_FILTERS)))
    if status is not None and status not in choices:
        fail(f"unknown status {status!r}; choose from: {', '.join(choices)}", 2)
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)", 2)
    store = open_store(ctx)
    result = actions(store, partnership, status, as_of=day)
    columns = [Column("ref", "Ref", fit=Fit(priority=3, min=14)),
               Column("theme", "Theme", fit=Fit(priority=5, min=10)),
               Column("action", "Action", fit=Fit(priority=0, min=16, grow=True)),
               Column("lead", "Lead", fit=Fit(priority=1, min=10)),
               Column("due", "Due", fmt=_due, fit=Fit(priority=0, whole=True)),
               Column("status", "Status", fmt=_action_status, fit=Fit(priority=0, whole=True)),
               Column("outcome", "Outcome", fit=Fit(priority=6, min=12))]
    name = get_partnership(store, partnership)["name"]
    emit(resolve_format(fmt), result["actions"], columns, result=result,
         title=f"{name} action plan (overdue as of {result['as_of']})")


@click.command("report")
@click.argument("partnership", metavar="PARTNERSHIP")
@click.option("--template", "-t", "template", metavar="NAME",
              help="A template the partnership's plugin (or dat) provides; see --list. "
                   "Default: scorecard.")
@click.option("--template-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Your own Jinja2 template file; rendered in a sandbox.")
@click.option("--period", "-P", metavar="PERIOD", help="Period of the scorecard (default: as dat status).")
@click.option("--year", "-y", metavar="YEAR", help="Financial year of the funding (default: the period's).")
@click.option("--output", "-o", type=OutputPath(),
              help="Write to this file; the format comes from the suffix: .md, .html, .docx, .xlsx "
                   "(plugins may add more). Default: Markdown to stdout. Never written through a "
                   "symlink; an existing file only with --force.")
@click.option("--force", is_flag=True, help="Replace the -o file if it exists.")
@click.option("--list", "list_only", is_flag=True, help="List the templates PARTNERSHIP can use.")
@click.option("--format", "-f", "fmt", type=click.Choice(("table", "csv", "json", "markdown")),
              default=None, help="With --list: the listing's format (default: table on a "
                                 "terminal, csv when piped). A report's own format comes from -o.")
@click.pass_context
def report_cmd(ctx: click.Context, partnership: str, template: str | None,
               template_file: Path | None, period: str | None, year: str | None,
               output: Path | None, force: bool, list_only: bool, fmt: str | None) -> None:
    """Render a report for PARTNERSHIP from a template.

    \b
    Examples:
      dat report dudley --list
      dat report dudley --template quarterly --period "2007/08 Q1" -o q1.md
      dat report bromley --template-file my_brief.md.j2
    """
    from dat.core.reports import list_templates, render_report
    from dat.core.services import get_partnership

    if fmt and not list_only:
        fail("--format is for --list; a report's format comes from the suffix of -o FILE "
             "(.md, .html, .docx, .xlsx)", 2)
    if template and template_file:
        fail("give --template or --template-file, not both", 2)
    if template_file is not None:
        import os
        import stat

        # a long path is shortened in the middle: the line stays within 200 characters
        shown = shorten(template_file, 160)
        try:  # a FIFO, a device (/dev/zero) or a folder is never read
            mode = os.stat(template_file).st_mode
        except OSError:
            fail(f"{shown}: no such template file", 1)
        if not stat.S_ISREG(mode):
            fail(f"{shown}: is not a regular file", 1)
    if force and output is None:
        fail("--force is for -o FILE: it replaces an existing file", 2)
    if output is not None and not list_only:
        from dat.core.files import check_output

        check_output(output, force=force)  # before the database is opened
    store = open_store(ctx)
    if list_only:
        get_partnership(store, partnership)
        rows = list_templates(store, partnership)
        emit(resolve_format(fmt), rows,
             [Column("name", "Template"), Column("title", "Title"), Column("partnership", "Owner"),
              Column("description", "Description")],
             result={"schema": "dat.templates/1", "partnership": partnership, "templates": rows},
             title=f"Templates for {partnership}")
        return
    from dat.core.reports import find_renderer, write_report

    if output is None:
        text = render_report(store, partnership, template, period=period, year=year,
                             template_file=template_file)
        click.echo(text, nl=False)
        from dat.core.files import flush_stdout

        flush_stdout()
        return
    find_renderer(store, output.suffix)
    done = write_report(store, partnership, output, template, period=period, year=year,
                        template_file=template_file, force=force)
    click.echo(f"dat: wrote {shorten(output)} ({done['renderer']}): {done['title']}", err=True)
