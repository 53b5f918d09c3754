"""``dat status``: a partnership's scorecard."""

from __future__ import annotations

import click

from dat.cli.commands.compare import TREND_SHORT
from dat.cli.common import format_option, open_store, resolve_format
from dat.cli.output import ARROWS, Column, emit, number, rag_cell
from dat.cli.widths import Fit


def _value(v, row) -> str:
    if v is None:
        return row.get("text") or ""
    text = number(v, row["unit"])
    if row.get("denominator") and row.get("numerator") is not None:
        text += f" ({number(row['numerator'])}/{number(row['denominator'])})"
    return text


def _target(v, row) -> str:
    if v is None:
        return (row.get("target_text") or "")[:40]
    text = number(v, row["unit"])
    extra = [f"{number(t['value'], row['unit'])} {t['kind']}" for t in row["targets"][1:]
             if t["value"] is not None]
    return f"{text} {row['target_kind']}" + (f"; {'; '.join(extra)}" if extra else "")


def _vs(v, row) -> str:
    if v is None or v == "not compared":
        return "–"
    if row.get("vs_benchmark_998") not in (None, "not compared", "similar"):
        return f"{v} (99.8%)"
    return v


COLUMNS = [
    Column("code", "Indicator", fit=Fit(priority=8, min=12)),
    Column("name", "Name", fit=Fit(priority=0, min=16, grow=True)),
    Column("value", "Value", fmt=_value, justify="right", fit=Fit(priority=0, whole=True)),
    Column("target", "Target", fmt=_target, fit=Fit(priority=2, min=10)),
    Column("rag", "RAG", fmt=rag_cell, fit=Fit(priority=0, whole=True)),
    Column("rag_basis", "Basis", fit=Fit(priority=7, min=6)),
    Column("vs_benchmark", "vs national", fmt=_vs, fit=Fit(priority=3, min=8)),
    Column("direction", "Travel", fmt=lambda v, r: ARROWS.get(v, v or ""), fit=Fit(priority=1, min=8)),
    Column("direction_last_year", "vs last year", fmt=lambda v, r: ARROWS.get(v, v or ""),
           fit=Fit(priority=6, min=8)),
    Column("trend", "Trend", fmt=lambda v, r: TREND_SHORT.get(v, v or ""), fit=Fit(priority=4, min=8)),
]

#: the CSV columns, in order (documented in docs/cli.md; new ones go at the end)
CSV_COLUMNS = ("code", "name", "period", "value", "target", "rag", "rag_basis", "direction",
               "vs_benchmark", "vs_benchmark_998", "direction_last_year", "trend", "text",
               "target_text")


@click.command("status")
@click.argument("partnership", metavar="PARTNERSHIP")
@click.option("--period", "-P", metavar="PERIOD",
              help="Financial year (2009/10), quarter (2009/10 Q1), year to date "
                   "(2009/10 Q1-Q3) or date. Default: the latest period with at least half as many "
                   "figures as the busiest one.")
@format_option
@click.pass_context
def status_cmd(ctx: click.Context, partnership: str, period: str | None, fmt: str | None) -> None:
    """Show PARTNERSHIP's scorecard for a period: each indicator's value, target, RAG rating
    (with its basis: rule, judgement or the partnership's own rule), the comparison with the
    national benchmark (better/similar/worse at 95%, marked when also at 99.8%), direction of
    travel against the previous period and the same period last year, and the recent trend
    over the last five periods.

    \b
    Examples:
      dat status dudley --period "2007/08 Q1"
      dat status dudley -P "Q1 2007-08" --format json
    """
    from dat.core.services import get_partnership, scorecard

    store = open_store(ctx)
    card = scorecard(store, partnership, period)
    name = get_partnership(store, partnership)["name"]
    if card.get("reason"):
        click.echo(f"dat: {card['reason']}", err=True)
    out_fmt = resolve_format(fmt)
    columns = [Column(k, k) for k in CSV_COLUMNS] if out_fmt == "csv" else COLUMNS
    emit(out_fmt, card["rows"], columns, result=card,
         title=f"{name} scorecard, {card['period']}" if card["period"] else f"{name} scorecard")
