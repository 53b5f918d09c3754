"""``dat compare``: one indicator across partnerships."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from dat.cli.common import format_option, open_store, resolve_format
from dat.cli.output import ARROWS, Column, emit, number, rag_cell
from dat.cli.widths import Fit

#: the CSV columns, in order (documented in docs/cli.md; new ones go at the end)
CSV_COLUMNS = (
    "partnership", "value", "numerator", "denominator", "ci_low", "ci_high", "target",
    "rag", "rank", "quartile", "benchmark", "vs_benchmark", "vs_benchmark_998",
    "previous_value", "direction", "reason", "ci_low_998", "ci_high_998", "last_year_value",
    "direction_last_year", "trend",
)

TREND_SHORT = {"increasing": "↑ increasing", "decreasing": "↓ decreasing",
               "no significant change": "→ no sig. change", "cannot be calculated": "–"}


def _ci(unit: str | None):
    def fmt(v, row) -> str:
        if row.get("ci_low") is None:
            return ""
        return f"{number(round(row['ci_low'], 2), unit)} – {number(round(row['ci_high'], 2), unit)}"
    return fmt


def _area(v, row) -> str:
    return f"  {v}" if row.get("parent") else v


def table_columns(result: Mapping[str, Any]) -> list[Column]:
    unit = result["indicator"]["unit"]
    kind = result["benchmark"]["kind"]
    return [
        Column("rank", "Rank", justify="right", fit=Fit(priority=1, whole=True)),
        Column("partnership", "Partnership", fmt=_area, fit=Fit(priority=0, min=12, grow=True)),
        Column("value", "Value", fmt=lambda v, r: number(v, unit), justify="right",
               fit=Fit(priority=0, whole=True)),
        Column("numerator", "Num.", justify="right", fit=Fit(priority=7, whole=True)),
        Column("denominator", "Denom.", justify="right", fit=Fit(priority=7, whole=True)),
        Column("ci", "95% CI", fmt=_ci(unit), fit=Fit(priority=5, whole=True)),
        Column("target", "Target", fmt=lambda v, r: number(v, unit), fit=Fit(priority=3, whole=True)),
        Column("rag", "RAG", fmt=rag_cell, fit=Fit(priority=0, whole=True)),
        Column("vs_benchmark", f"vs {kind} (95%)", fit=Fit(priority=2, min=8)),
        Column("vs_benchmark_998", "(99.8%)", fit=Fit(priority=6, min=8)),
        Column("direction", "Travel", fmt=lambda v, r: ARROWS.get(v, v or ""), fit=Fit(priority=4, min=8)),
        Column("trend", "Trend", fmt=lambda v, r: TREND_SHORT.get(v, v or ""), fit=Fit(priority=5, min=8)),
        Column("reason", "Note", fit=Fit(priority=3, min=16)),
    ]


def caption(result: Mapping[str, Any]) -> str:
    b = result["benchmark"]
    unit = result["indicator"]["unit"]
    text = f"Benchmark: {b['kind']}"
    if b.get("value") is not None:
        text += f" {number(round(b['value'], 2), unit)}"
    if b.get("basis"):
        text += f" ({b['basis']})"
    return (text + ". Ranked best first; 95% intervals; travel is against the previous "
            "period; trend is the test over the last five periods.")


@click.command("compare")
@click.argument("partnerships", nargs=-1, metavar="[PARTNERSHIP]...")
@click.option("--indicator", "-i", required=True, metavar="CODE", help="Indicator code, e.g. NI40 or NTA.RET12.")
@click.option("--period", "-P", metavar="PERIOD", help="Period (default: the latest with figures for the indicator).")
@click.option("--benchmark", "-b", type=click.Choice(["national", "group", "region", "parent", "mean"]),
              default="national", show_default=True,
              help="What each value is compared with: the national figure (imported, else pooled), "
                   "the comparator group, the region, the parent area or the plain mean.")
@click.option("--include-sub-areas", is_flag=True, help="Also list sub-areas (e.g. Cheshire East).")
@format_option
@click.pass_context
def compare_cmd(ctx: click.Context, partnerships: tuple[str, ...], indicator: str, period: str | None,
                benchmark: str, include_sub_areas: bool, fmt: str | None) -> None:
    """Compare one indicator across partnerships (all top-level ones when none are named):
    value, numerator/denominator, 95% confidence interval, target and RAG, rank and quartile,
    significance against the benchmark at 95% and 99.8%, direction of travel and the recent
    trend.

    A partnership with no figure for the period, one that does not report the indicator, a
    zero denominator or a numerator larger than its denominator is listed with the reason
    instead of a comparison.

    \b
    Examples:
      dat compare --indicator NTA.EFFECTIVE
      dat compare bromley cheshire -i NI40 -P 2009/10 --format json
      dat compare -i NTA.RET12 --benchmark group --include-sub-areas
    """
    from dat.core.services import compare

    store = open_store(ctx)
    named = list(dict.fromkeys(partnerships))  # a partnership named twice is listed once
    result = compare(store, indicator, named or None, period, benchmark, include_sub_areas)
    if result.get("reason"):
        click.echo(f"dat: {result['reason']}", err=True)
    if result.get("not_reporting"):
        missing = result["not_reporting"]
        click.echo(f"dat: {len(missing)} partnership{'s' if len(missing) != 1 else ''} not listed, "
                   f"with no figures or targets for {indicator}: {', '.join(missing)}", err=True)
    out_fmt = resolve_format(fmt)
    if out_fmt == "csv":
        columns = [Column(k, k) for k in CSV_COLUMNS]
    else:
        columns = table_columns(result)
    title = f"{result['indicator']['code']} {result['indicator']['name']}, {result['period']}"
    emit(out_fmt, result["rows"], columns, result=result, title=title,
         caption=caption(result) if out_fmt in ("table", "markdown") else None)
