"""Option appraisal: split a partnership into its sub-areas, or merge several."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from dat.core.errors import DataError, UnknownName
from dat.core.periods import parse_period
from dat.core.services.areas import get_indicator, get_partnership, list_partnerships
from dat.core.services.figures import figures
from dat.core.services.funding import _year_total, funding, funding_compare
from dat.core.services.store import Store
from dat.core.services.types import MergeLine, ScenarioMerge, ScenarioSplit, SplitLine


def scenario_split(store: Store, partnership: str, year: str | None = None, *,
                   shares: dict[str, float] | None = None, by: str | None = None,
                   floor: Decimal | float | str | None = None) -> ScenarioSplit:
    """What each successor of ``partnership`` (its sub-areas) would get if it split: every
    funding line divided by ``shares`` (fractions per sub-area, normalised), or by the
    sub-areas' figures for indicator ``by`` (e.g. people in treatment), with the lines that
    fall below ``floor`` (a viability floor in pounds) flagged; and the sub-areas' figures."""
    part = get_partnership(store, partnership)
    subs = part["sub_areas"]
    if not subs:
        raise UnknownName("partnership with sub-areas", partnership,
                          (p["slug"] for p in list_partnerships(store) if p["sub_areas"]))
    fund = funding(store, partnership, year)
    basis = "given shares"
    if shares:
        unknown = sorted(set(shares) - set(subs))
        if unknown:
            raise UnknownName(f"sub-area of {partnership}", unknown[0], subs)
        weights = {s_: float(shares.get(s_, 0)) for s_ in subs}
    elif by:
        get_indicator(store, by)
        weights = {}
        for s_ in subs:
            vals = figures(store, s_)["figures"].get(by, {})
            latest = sorted(vals, key=parse_period)[-1] if vals else None
            weights[s_] = float(vals[latest]["value"] or 0) if latest else 0.0
        basis = f"each sub-area's latest {by}"
    else:
        weights = {s_: 1.0 for s_ in subs}
        basis = "equal shares (no --share or --by given)"
    total_w = sum(weights.values())
    if total_w <= 0:
        raise DataError(f"the shares for {partnership}'s sub-areas add up to nothing ({basis})")
    frac = {s_: w / total_w for s_, w in weights.items()}
    floor_d = Decimal(str(floor)) if floor is not None else None
    lines: list[SplitLine] = []
    for line in fund["lines"]:
        row: SplitLine = {"stream": line["stream"], "stream_name": line["stream_name"], "line": line["line"],
               "amount": line["amount"], "is_total": line["is_total"], "successors": {},
               "below_floor": []}
        for s_ in subs:
            share = None
            if line["amount"] is not None:
                share = (line["amount"] * Decimal(str(frac[s_]))).quantize(Decimal("0.01"), ROUND_HALF_UP)
                if floor_d is not None and share < floor_d:
                    row["below_floor"].append(s_)
            row["successors"][s_] = share
        lines.append(row)
    totals = {s_: _year_total([(l["successors"][s_], l["is_total"]) for l in lines]) or Decimal("0.00")
              for s_ in subs}
    return {"schema": "dat.scenario/1", "scenario": "split", "partnership": partnership,
            "year": fund["year"], "basis": basis, "shares": frac, "floor": floor_d,
            "successors": subs, "lines": lines, "totals": totals,
            "figures": {s_: figures(store, s_)["figures"] for s_ in subs}}


def scenario_merge(store: Store, partnerships: list[str], year: str | None = None, *,
                   floor: Decimal | float | str | None = None) -> ScenarioMerge:
    """What a merged partnership would have: each stream summed across ``partnerships``,
    streams below ``floor`` flagged."""
    side = funding_compare(store, partnerships, year)
    floor_d = Decimal(str(floor)) if floor is not None else None
    lines: list[MergeLine] = []
    for row in side["streams"]:
        amounts = [a for a in (row.get(s_) for s_ in partnerships) if a is not None]
        merged = sum(amounts, Decimal("0.00")) if amounts else None
        lines.append({"stream": row["stream"], "stream_name": row["stream_name"],
                      "by_partnership": {s_: row.get(s_) for s_ in partnerships},
                      "amount": merged,
                      "below_floor": floor_d is not None and merged is not None and merged < floor_d})
    # each partnership's own total (its stated total line when it has one), so lines that are
    # parts of a stated total are not counted twice
    stated = [p["total"] for p in side["partnerships"] if p["total"] is not None]
    return {"schema": "dat.scenario/1", "scenario": "merge", "partnerships": partnerships,
            "years": {p["partnership"]: p["year"] for p in side["partnerships"]},
            "floor": floor_d, "lines": lines,
            "total": sum(stated, Decimal("0.00")) if stated else None}
