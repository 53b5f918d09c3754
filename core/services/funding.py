"""Funding: a partnership's allocations for a financial year with the analysis around
them, and several partnerships side by side."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlmodel import col

from dat.core.models import Allocation, FundingStream
from dat.core.periods import Period, PeriodError, parse_period
from dat.core.services.areas import _partnership_id
from dat.core.services.figures import figures_for
from dat.core.services.store import Store, _period
from dat.core.services.types import (
    FundingAnalysis,
    FundingCompareResult,
    FundingLine,
    FundingResult,
    FundingStreamColumns,
)


def _year_total(amounts: list[tuple[Decimal | None, bool]]) -> Decimal | None:
    """The year's total from ``(amount, is_total)`` pairs: the stated total line(s) when the
    document gives one, else the sum of the stated lines; ``None`` when nothing is stated."""
    totals = [a for a, is_total in amounts if is_total and a is not None]
    parts = [a for a, is_total in amounts if not is_total and a is not None]
    if totals:
        return sum(totals, Decimal("0.00"))
    return sum(parts, Decimal("0.00")) if parts else None


def funding(store: Store, partnership: str, year: str | None = None) -> FundingResult:
    """A partnership's funding for a financial year (default: the latest with allocations):
    each line with its stream, amount (exact ``Decimal``; ``None`` when not stated), banked
    by, used for, and the total: the document's own total line when it gives one
    (``total_basis`` "stated total"; the other lines are parts of it), else the sum of the
    stated amounts ("sum of lines")."""
    wanted = _period(year)
    if wanted is not None and wanted.kind != "year":
        raise PeriodError(f"{year!r}: funding is by financial year, e.g. 2009/10")
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        streams = {st.id: st for st in s.scalars(select(FundingStream))}
        allocs = list(s.scalars(select(Allocation).where(col(Allocation.partnership_id) == pid)))
    years = sorted({parse_period(a.year) for a in allocs})
    if wanted is None and years:
        wanted = years[-1]
    lines: list[FundingLine] = []
    for a in allocs:
        if wanted is None or a.year != str(wanted):
            continue
        st = streams[a.stream_id]
        lines.append({
            "stream": st.code, "stream_name": st.name, "line": a.line,
            "funders": json.loads(st.funders or "[]"), "ring_fenced": st.ring_fenced,
            "amount": None if a.amount_pence is None else Decimal(a.amount_pence).scaleb(-2),
            "banked_by": a.banked_by, "used_for": a.used_for, "approximate": a.approximate,
            "management_admin": a.management_admin, "is_total": a.is_total, "source": a.source,
            "share": None,  # of the total, below
        })
    lines.sort(key=lambda l: (not l["is_total"], l["amount"] is None, -(l["amount"] or 0),
                              l["stream"], l["line"]))
    total = _year_total([(l["amount"], l["is_total"]) for l in lines])
    stated_total = any(l["is_total"] and l["amount"] is not None for l in lines)
    for l in lines:
        l["share"] = (float(l["amount"] / total) if total and l["amount"] is not None else None)
    result: FundingResult = {
        "schema": "dat.funding/1", "partnership": partnership,
        "year": str(wanted) if wanted else None,
        "years_available": [str(y) for y in years], "lines": lines, "total": total,
        "total_basis": "stated total" if stated_total else ("sum of lines" if lines else None),
        "total_approximate": any(l["approximate"] for l in lines
                                 if l["is_total"] == stated_total and l["amount"] is not None),
        "itemised_total": _year_total([(l["amount"], False) for l in lines if not l["is_total"]]),
        **_funding_analysis(store, partnership, wanted, allocs, lines, total),
    }
    if not lines:
        result["reason"] = (f"no funding recorded for {partnership}"
                            + (f" in {wanted}" if wanted else ""))
    return result


def _funding_analysis(store: Store, partnership: str, year: Period | None, allocs: list[Allocation],
                      lines: list[FundingLine], total: Decimal | None) -> FundingAnalysis:
    """Year-on-year change, management & admin share and cost per person in effective
    treatment (NTA.EFFECTIVE for the same year), each ``None`` with a reason when it cannot
    be worked out."""
    out: FundingAnalysis = {"previous_year": None, "previous_total": None, "change": None,
                            "change_pct": None, "management_admin": None,
                            "management_admin_share": None, "in_effective_treatment": None,
                            "cost_per_person": None, "notes": []}
    if year is None or total is None:
        return out
    prev = str(year.previous())
    # None exactly when no amount is recorded for the previous year
    prev_total = _year_total([(Decimal(a.amount_pence).scaleb(-2), a.is_total) for a in allocs
                              if a.year == prev and a.amount_pence is not None])
    if prev_total is not None:
        out.update({"previous_year": prev, "previous_total": prev_total, "change": total - prev_total,
                    "change_pct": float((total - prev_total) / prev_total * 100) if prev_total else None})
    else:
        out["notes"].append(f"no funding recorded for {prev} to compare with")
    ma = [l["amount"] for l in lines if l["management_admin"] and l["amount"] is not None]
    if ma:
        ma_total = sum(ma, Decimal("0"))
        out["management_admin"] = ma_total
        out["management_admin_share"] = float(ma_total / total * 100)
    people = figures_for(store, partnership, "NTA.EFFECTIVE", str(year))
    if people:
        out["in_effective_treatment"] = people
        out["cost_per_person"] = (total / Decimal(str(people))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    else:
        out["notes"].append(f"no NTA.EFFECTIVE figure for {year}: cost per person not worked out")
    return out


def funding_compare(store: Store, partnerships: list[str], year: str | None = None) -> FundingCompareResult:
    """Several partnerships' funding side by side: one row per stream, one column each."""
    each = [funding(store, slug, year) for slug in partnerships]
    streams: dict[str, FundingStreamColumns] = {}
    for f in each:
        for line in f["lines"]:
            row = streams.setdefault(line["stream"], {"stream": line["stream"],
                                                      "stream_name": line["stream_name"]})
            cur = row.get(f["partnership"])
            if line["amount"] is not None:
                row[f["partnership"]] = (cur or 0) + line["amount"]
            elif cur is None:
                row[f["partnership"]] = None
    return {"schema": "dat.funding-compare/1", "year": year,
            "partnerships": [{"partnership": f["partnership"], "year": f["year"], "total": f["total"],
                              "change_pct": f["change_pct"],
                              "management_admin_share": f["management_admin_share"],
                              "cost_per_person": f["cost_per_person"]}
                             for f in each],
            "streams": sorted(streams.values(), key=lambda r: r["stream"]), "detail": each}
