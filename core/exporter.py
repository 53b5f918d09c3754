"""Exporting figures, targets and funding: CSV, JSON lines-free JSON array, XLSX; streamed.

Rows come from the database in batches (``yield_per``; a server-side cursor on PostgreSQL)
and are written as they arrive, so memory does not grow with the data. The observation CSV
has exactly dat's import columns, so an export imports back unchanged.

Public exports (``public=True``) go through disclosure control (:mod:`dat.core.disclosure`,
docs/disclosure.md): small counts (1-4) and every figure derived from them are written as
``*``, and further cells are hidden until no hidden one can be worked back from what the
export publishes. Every suppressed cell is counted in the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import IO, Any

from dat.core.files import CsvWriter, safe_cell, xlsx_cell
from dat.core.readers import DAT_COLUMNS

SUPPRESSED = "*"
KINDS = ("observations", "targets", "funding")


@dataclass
class ExportReport:
    kind: str
    rows: int = 0
    suppressed_primary: int = 0
    suppressed_secondary: int = 0
    withheld: int = 0  # rows left out of a public file: their small counts could not be protected
    notes: list[str] = field(default_factory=list)


def _observations(store: Any, partnerships: list[str] | None, indicators: list[str] | None) -> Iterator[dict[str, Any]]:
    from sqlalchemy import select
    from sqlmodel import col

    from dat.core.models import Indicator, Observation, Partnership

    q = (select(col(Partnership.slug), col(Partnership.name), col(Indicator.code), col(Indicator.unit),
                col(Indicator.per), col(Observation.period), col(Observation.value), col(Observation.numerator),
                col(Observation.denominator), col(Observation.ci_low), col(Observation.ci_high),
                col(Observation.commentary), col(Partnership.parent_id), col(Partnership.id))
         .join(Partnership, col(Partnership.id) == col(Observation.partnership_id))
         .join(Indicator, col(Indicator.id) == col(Observation.indicator_id))
         .where(col(Observation.is_current).is_(True), col(Observation.value).is_not(None))
         .order_by(col(Indicator.code), col(Observation.period), col(Partnership.slug)))
    if partnerships:
        q = q.where(col(Partnership.slug).in_(partnerships))
    if indicators:
        q = q.where(col(Indicator.code).in_(indicators))
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(q)
        for r in result:
            yield {"partnership": r.slug, "indicator": r.code, "period": r.period,
                   "value": r.value, "numerator": r.numerator, "denominator": r.denominator,
                   "note": r.commentary, "_unit": r.unit, "_per": r.per, "_parent": r.parent_id, "_id": r.id,
                   "_name": r.name, "_ci_low": r.ci_low, "_ci_high": r.ci_high}


def _targets(store: Any, partnerships: list[str] | None, indicators: list[str] | None) -> Iterator[dict[str, Any]]:
    from sqlalchemy import select
    from sqlmodel import col

    from dat.core.models import Indicator, Partnership, Target

    q = (select(col(Partnership.slug), col(Indicator.code), Target)
         .join(Partnership, col(Partnership.id) == col(Target.partnership_id))
         .join(Indicator, col(Indicator.id) == col(Target.indicator_id))
         .order_by(col(Partnership.slug), col(Indicator.code), col(Target.period)))
    if partnerships:
        q = q.where(col(Partnership.slug).in_(partnerships))
    if indicators:
        q = q.where(col(Indicator.code).in_(indicators))
    with store.session() as s:
        for slug, code, t in s.execute(q).yield_per(2000):
            yield {"partnership": slug, "indicator": code, "period": t.period,
                   "target_kind": t.target_kind, "label": t.label, "value_kind": t.value_kind,
                   "value": t.value, "baseline": t.baseline, "baseline_period": t.baseline_period,
                   "years": t.years, "text": t.text, "source": t.source}


def _funding(store: Any, partnerships: list[str] | None, indicators: list[str] | None) -> Iterator[dict[str, Any]]:
    from sqlalchemy import select
    from sqlmodel import col

    from dat.core.models import Allocation, FundingStream, Partnership

    q = (select(col(Partnership.slug), col(FundingStream.code), Allocation)
         .join(Partnership, col(Partnership.id) == col(Allocation.partnership_id))
         .join(FundingStream, col(FundingStream.id) == col(Allocation.stream_id))
         .order_by(col(Partnership.slug), col(Allocation.year), col(FundingStream.code), col(Allocation.line)))
    if partnerships:
        q = q.where(col(Partnership.slug).in_(partnerships))
    with store.session() as s:
        for slug, code, a in s.execute(q).yield_per(2000):
            yield {"partnership": slug, "stream": code, "year": a.year, "line": a.line,
                   "amount": None if a.amount_pence is None else Decimal(a.amount_pence) / 100,
                   "banked_by": a.banked_by, "used_for": a.used_for, "source": a.source}


COLUMNS = {
    "observations": DAT_COLUMNS,
    "targets": ("partnership", "indicator", "period", "target_kind", "label", "value_kind", "value",
                "baseline", "baseline_period", "years", "text", "source"),
    "funding": ("partnership", "stream", "year", "line", "amount", "banked_by", "used_for", "source"),
}


def _children(store: Any) -> dict[int, list[int]]:
    """Every area's sub-areas (ids), for the parent = sum of sub-areas relation."""
    from sqlalchemy import select
    from sqlmodel import col

    from dat.core.models import Partnership

    out: dict[int, list[int]] = {}
    with store.engine.connect() as conn:
        for pid, parent in conn.execute(select(col(Partnership.id), col(Partnership.parent_id))
                                        .where(col(Partnership.parent_id).is_not(None))):
            out.setdefault(parent, []).append(pid)
    return out


def _links(store: Any) -> dict[str, str]:
    """Indicator code -> its link key, for indicators linked with another: the same
    ``numerator`` definition (case and spacing aside) says their counts are the same people
    (a count and a percentage of it), so they are protected together (docs/disclosure.md)."""
    from sqlalchemy import select
    from sqlmodel import col

    from dat.core.models import Indicator

    by_text: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for code, text in conn.execute(select(col(Indicator.code), col(Indicator.numerator))):
            key = " ".join((text or "").split()).casefold()
            if key:
                by_text.setdefault(key, []).append(code)
    return {code: key for key, codes in by_text.items() if len(codes) > 1 for code in codes}


def _suppress(rows: Iterator[dict[str, Any]], report: ExportReport,
              children: dict[int, list[int]], links: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Disclosure control (dat.core.disclosure), one indicator at a time: rows come ordered
    by indicator, and every relation (sub-areas, quarters, year-to-date) stays within one
    indicator, so only one indicator's rows are held in memory. Linked indicators (``links``:
    code -> link key) are protected together: from the first linked indicator on, rows are
    held until the stream ends (their order kept)."""
    from dat.core.disclosure import protect

    links = links or {}
    held: list[list[dict[str, Any]]] = []  # indicator groups, in order, once one is linked

    def flush() -> Iterator[dict[str, Any]]:
        joint: dict[str, list[list[dict[str, Any]]]] = {}
        for g in held:
            if g[0]["indicator"] in links:
                joint.setdefault(links[g[0]["indicator"]], []).append(g)
        done: dict[int, list[dict[str, Any]]] = {}
        for groups in joint.values():
            for g, out in zip(groups, _protect_linked(groups, report, children, protect), strict=True):
                done[id(g)] = out
        for g in held:
            yield from done[id(g)] if id(g) in done else _protect(g, report, children, protect)

    def finish(group: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        if held or group[0]["indicator"] in links:
            held.append(group)
            return iter(())
        return iter(_protect(group, report, children, protect))

    group: list[dict[str, Any]] = []
    for row in rows:
        if group and row["indicator"] != group[0]["indicator"]:
            yield from finish(group)
            group = []
        group.append(row)
    if group:
        yield from finish(group)
    if held:
        yield from flush()


def _protect(group: list[dict[str, Any]], report: ExportReport, children: dict[int, list[int]],
             protect: Any, force: Any = (), known: Any = None) -> list[dict[str, Any]]:
    outcome = protect(group, unit=group[0]["_unit"], per=group[0]["_per"], children=children, force=force,
                      **({"known": known} if known else {}))
    report.suppressed_primary += outcome.primary
    report.suppressed_secondary += outcome.secondary
    if outcome.unresolved:
        # some small count would be given away whatever else is hidden (a year of 4 over
        # four quarters of 1 is pinned by its bounds): the indicator is left out of the file
        report.notes.append(f"{group[0]['indicator']}: {len(group)} rows withheld: "
                            f"{outcome.unresolved} small counts could not be protected by hiding more")
        report.withheld += len(group)
        return []
    return group


def _protect_linked(groups: list[list[dict[str, Any]]], report: ExportReport,
                    children: dict[int, list[int]], protect: Any) -> list[list[dict[str, Any]]]:
    """Linked indicators (their counts are the same people): a count cell (area, period)
    hidden in one is hidden in all of them, repeated until no indicator hides a cell the
    others publish; so no difference across the indicators gives a hidden count back."""
    # one table: the count of an (area, period) cell is the same number in each of them, so
    # each is protected with the others' cells it lacks as cells of its relations (a total one
    # publishes is known to the other), and a cell hidden anywhere is hidden in all (L1)
    cells = [_count_cells(g) for g in groups]
    knowns = [{k: v for j, c in enumerate(cells) if j != i for k, v in c.items() if k not in cells[i]}
              for i in range(len(groups))]
    force: set[Any] = set()
    for _ in range(50):
        trial = [[dict(r) for r in g] for g in groups]
        hidden: set[Any] = set()
        for g, known in zip(trial, knowns, strict=True):
            outcome = protect(g, unit=g[0]["_unit"], per=g[0]["_per"], children=children,
                              force=force, known=known)
            hidden |= outcome.hidden
            hidden |= {(r["_id"], r["period"]) for r in g
                       if "*" in (r["value"], r["numerator"])}
        if hidden <= force:
            break
        force |= hidden
    return [_protect(g, report, children, protect, force, known) for g, known in zip(groups, knowns, strict=True)]


def _count_cells(group: list[dict[str, Any]]) -> dict[Any, tuple[Any, Any]]:
    """The count cells of one indicator as (lowest, highest): its count or numerator, else
    the numerators its rounded value and denominator allow."""
    from dat.core.disclosure import _num, numerator_range, scale_of

    scale = scale_of(group[0]["_unit"], group[0]["_per"])
    out: dict[Any, tuple[Any, Any]] = {}
    for r in group:
        v, n, d = _num(r["value"]), _num(r["numerator"]), _num(r["denominator"])
        c = (v if v is not None else n) if group[0]["_unit"] == "count" else n
        if c is not None:
            out[(r["_id"], r["period"])] = (c, c)
        elif scale and v is not None and d is not None:
            lo, hi = numerator_range(v, d, scale)
            out[(r["_id"], r["period"])] = (Fraction(lo), Fraction(hi))
    return out


def _cell(value: Any) -> Any:
    """A CSV cell: text neutralised (``safe_cell``), numbers as numbers, ``None`` empty."""
    value = safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None if value == "" else value


FINGERTIPS_OUT = ("Indicator ID", "Area Code", "Area Name", "Time period", "Value",
                  "Lower CI 95.0 limit", "Upper CI 95.0 limit", "Count", "Denominator", "Value note")


def _fingertips(rows: Iterator[dict[str, Any]], mapping: dict[str, dict[str, str]],
                report: ExportReport) -> Iterator[dict[str, Any]]:
    """Rows in Fingertips' layout, through the reverse of an import mapping; rows whose area
    or indicator the mapping does not name are left out and counted in the notes."""
    areas = {v: k for k, v in mapping.get("areas", {}).items()}
    inds = {v: k for k, v in mapping.get("indicators", {}).items()}
    skipped = 0
    for row in rows:
        if row["partnership"] not in areas or row["indicator"] not in inds:
            skipped += 1
            continue
        yield {"Indicator ID": inds[row["indicator"]], "Area Code": areas[row["partnership"]],
               "Area Name": row["_name"], "Time period": row["period"], "Value": row["value"],
               "Lower CI 95.0 limit": row["_ci_low"], "Upper CI 95.0 limit": row["_ci_high"],
               "Count": row["numerator"], "Denominator": row["denominator"], "Value note": row["note"]}
    if skipped:
        report.notes.append(f"{skipped} rows left out: their area or indicator is not in the mapping")


def export(store: Any, out: IO[str] | Any, *, kind: str = "observations", fmt: str = "csv",
           partnerships: list[str] | None = None, indicators: list[str] | None = None,
           public: bool = False, path: str | None = None,
           fingertips: dict[str, dict[str, str]] | None = None) -> ExportReport:
    """Write ``kind`` rows to ``out`` (a text stream; for xlsx, ``path``) as they are read.
    With ``fingertips`` (an import mapping), observations are written in Fingertips' layout."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose from: {', '.join(KINDS)}")
    report = ExportReport(kind=kind)
    source = {"observations": _observations, "targets": _targets, "funding": _funding}[kind]
    rows = source(store, partnerships, indicators)
    if public:
        if kind == "observations":
            rows = _suppress(rows, report, _children(store), _links(store))
        else:
            report.notes.append(f"--public suppresses counts in observations; {kind} are not counts of people")
    cols = COLUMNS[kind]
    if fingertips is not None and kind == "observations":
        rows = _fingertips(rows, fingertips, report)
        cols = FINGERTIPS_OUT
    if fmt == "csv":
        writer = CsvWriter(out)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in cols])
            report.rows += 1
    elif fmt == "json":
        out.write("[")
        for row in rows:
            out.write(("," if report.rows else "") + "\n  " + json.dumps(
                {c: (str(row[c]) if isinstance(row.get(c), Decimal) else row.get(c)) for c in cols},
                ensure_ascii=False))
            report.rows += 1
        out.write("\n]\n")
    elif fmt == "xlsx":
        from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs: types-openpyxl is not a dependency

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(kind)
        ws.append([xlsx_cell(ws, c) for c in cols])
        for row in rows:  # text typed as text (never a formula), numbers as numbers
            ws.append([xlsx_cell(ws, _xlsx_value(row.get(c))) for c in cols])
            report.rows += 1
        wb.save(path)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose from: csv, json, xlsx")
    return report
