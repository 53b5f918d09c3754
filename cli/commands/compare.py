"""``dat compare``: one indicator across partnerships."""

from __future__ import annotations

import click

from dat.cli.common import format_option, handle_errors, open_store, resolve_format
from dat.cli.output import ARROWS, Column, emit, number, rag_cell


def _ci(v, row) -> str:
    if row.get("ci_low") is None:
        return ""
    unit = row.get("_unit")
    return f"{number(round(row['ci_low'], 2), unit)} – {number(round(row['ci_high'], 2), unit)}"


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
@handle_errors
def compare_cmd(ctx: click.Context, partnerships: tuple[str, ...], indicator: str, period: str | None,
                benchmark: str, include_sub_areas: bool, fmt: str | None) -> None:
    """Compare one indicator across partnerships (all top-level ones when none are named):
    value, numerator/denominator, 95% confidence interval, target and RAG, rank and quartile,
    significance against the benchmark at 95% and 99.8%, and direction of travel.

    A partnership with no figure for the period, a zero denominator or a numerator larger than
    its denominator is listed with the reason instead of a comparison.

    \b
    Examples:
      dat compare --indicator NTA.EFFECTIVE
      dat compare bromley cheshire -i NI40 -P 2009/10 --format json
      dat compare -i NTA.RET12 --benchmark group --include-sub-areas
    """
    from dat.core.services import compare

    store = open_store(ctx)
    result = compare(store, indicator, list(partnerships) or None, period, benchmark, include_sub_areas)
    if result.get("reason"):
        click.echo(f"dat: {result['reason']}", err=True)
    unit = result["indicator"]["unit"]
    for r in result["rows"]:
        r["_unit"] = unit
    columns = [
        Column("rank", "Rank", justify="right"), Column("partnership", "Partnership"),
        Column("value", "Value", fmt=lambda v, r: number(v, unit), justify="right"),
        Column("numerator", "Num.", justify="right"), Column("denominator", "Denom.", justify="right"),
        Column("ci", "95% CI", fmt=_ci),
        Column("target", "Target", fmt=lambda v, r: number(v, unit)),
        Column("rag", "RAG", fmt=rag_cell),
        Column("vs_benchmark", f"vs {benchmark}"),
        Column("direction", "Travel", fmt=lambda v, r: ARROWS.get(v, v or "")),
        Column("reason", "Note"),
    ]
    out_fmt = resolve_format(fmt)
    if out_fmt == "csv":
        columns = [Column(k, k) for k in (
            "partnership", "value", "numerator", "denominator", "ci_low", "ci_high", "target",
            "rag", "rank", "quartile", "benchmark", "vs_benchmark", "vs_benchmark_998",
            "previous_value", "direction", "reason")]
    for r in result["rows"]:
        r.pop("_unit", None) if out_fmt == "json" else None
    title = f"{result['indicator']['code']} {result['indicator']['name']}, {result['period']}"
    emit(out_fmt, result["rows"], columns, result=result, title=title)
