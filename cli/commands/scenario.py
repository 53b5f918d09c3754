"""``dat scenario split|merge``: option appraisal of a partnership's shape."""

from __future__ import annotations

import click

from dat.cli.common import fail, format_option, open_store, resolve_format
from dat.cli.output import Column, emit, number


@click.group("scenario")
def scenario_cmd() -> None:
    """Option appraisal: what successors of a split, or a merged partnership, would have."""


def _money(v) -> str:
    return "not stated" if v is None else number(v, "gbp")


@scenario_cmd.command("split")
@click.argument("partnership", metavar="PARTNERSHIP")
@click.option("--year", "-y", metavar="YEAR", help="Financial year of the funding (default: latest).")
@click.option("--share", "shares", multiple=True, metavar="SUBAREA=FRACTION",
              help="A sub-area's share of every stream, e.g. cheshire_east=0.45 (repeat; normalised).")
@click.option("--by", metavar="CODE", help="Divide by the sub-areas' latest figures of this indicator.")
@click.option("--floor", metavar="POUNDS", help="Flag a successor's stream below this amount.")
@format_option
@click.pass_context
def split_cmd(ctx, partnership, year, shares, by, floor, fmt) -> None:
    """Split PARTNERSHIP's funding among its sub-areas and flag streams below a floor.

    \b
    Examples:
      dat scenario split cheshire --floor 50000
      dat scenario split cheshire --share cheshire_west=0.55 --share cheshire_east=0.45
      dat scenario split cheshire --by NTA.EFFECTIVE
    """
    from dat.core.services import scenario_split

    if shares and by:
        fail("give --share or --by, not both", 2)
    import math

    parsed = {}
    for item in shares:
        name, _, value = item.partition("=")
        try:
            parsed[name.strip()] = float(value)
            if not math.isfinite(parsed[name.strip()]) or parsed[name.strip()] < 0:
                raise ValueError
        except ValueError:
            fail(f"--share {item!r}: expected SUBAREA=FRACTION with a non-negative number", 2)
    floor_v = _floor(floor)
    store = open_store(ctx)
    result = scenario_split(store, partnership, year, shares=parsed or None, by=by, floor=floor_v)
    if not result["lines"]:
        click.echo(f"dat: no funding recorded for {partnership} in {result['year']}", err=True)
    subs = result["successors"]
    rows = []
    for l in result["lines"]:
        row = {"stream": l["stream"] + (f" ({l['line']})" if l["line"] else ""), "amount": l["amount"],
               "flag": ("below floor: " + ", ".join(l["below_floor"])) if l["below_floor"] else ""}
        row.update({s: l["successors"][s] for s in subs})
        rows.append(row)
    rows.append({"stream": "Total", "amount": None, "flag": "", **result["totals"]})
    columns = [Column("stream", "Stream"),
               Column("amount", "Now", fmt=lambda v, r: _money(v) if r["stream"] != "Total" else "", justify="right")]
    columns += [Column(s, f"{s} ({result['shares'][s]:.0%})", fmt=lambda v, r: _money(v), justify="right")
                for s in subs]
    columns.append(Column("flag", "Flag"))
    emit(resolve_format(fmt), rows, columns, result=result,
         title=f"Split of {partnership}, {result['year']} ({result['basis']})")


@scenario_cmd.command("merge")
@click.argument("partnerships", nargs=-1, required=True, metavar="PARTNERSHIP...")
@click.option("--year", "-y", metavar="YEAR", help="Financial year (default: each one's latest).")
@click.option("--floor", metavar="POUNDS", help="Flag a merged stream below this amount.")
@format_option
@click.pass_context
def merge_cmd(ctx, partnerships, year, floor, fmt) -> None:
    """Merge several partnerships' funding, stream by stream.

    \b
    Example:
      dat scenario merge cheshire_west cheshire_east --floor 100000
    """
    from dat.core.services import list_partnerships, scenario_merge

    if len(partnerships) < 2:
        fail("merge needs at least two partnerships", 2)
    twice = sorted({p for p in partnerships if partnerships.count(p) > 1})
    if twice:
        fail(f"{', '.join(twice)} named more than once: its funding would be counted twice", 2)
    floor_v = _floor(floor)
    store = open_store(ctx)
    parents = {p["slug"]: p["parent"] for p in list_partnerships(store)}
    for slug in partnerships:
        up = parents.get(slug)
        while up is not None:
            if up in partnerships:
                fail(f"{slug} is part of {up}: its funding is already in {up}'s and would be "
                     "counted twice; merge areas at the same level", 2)
            up = parents.get(up)
    result = scenario_merge(store, list(partnerships), year, floor=floor_v)
    if not any(l["amount"] is not None for l in result["lines"]):
        click.echo(f"dat: no funding recorded for {', '.join(partnerships)}"
                   + (f" in {year}" if year else ""), err=True)
    rows = [{"stream": l["stream"], **{p: l["by_partnership"][p] for p in partnerships},
             "amount": l["amount"], "flag": "below floor" if l["below_floor"] else ""}
            for l in result["lines"]]
    columns = [Column("stream", "Stream")] + [
        Column(p, p, fmt=lambda v, r: _money(v), justify="right") for p in partnerships]
    columns += [Column("amount", "Merged", fmt=lambda v, r: _money(v), justify="right"),
                Column("flag", "Flag")]
    emit(resolve_format(fmt), rows, columns, result=result, title="Merged funding")


def _floor(text):
    if text is None:
        return None
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.replace(",", "").replace("£", ""))
        if not value.is_finite() or value < 0 or value > Decimal("1e15"):
            raise InvalidOperation
    except InvalidOperation:
        fail(f"--floor {text!r}: expected an amount in pounds from 0 to 10^15, e.g. 50000", 2)
    return value
