"""One indicator across partnerships for one period."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlmodel import col

from dat.core.errors import UnknownName
from dat.core.models import Indicator, Observation, Partnership, Target
from dat.core.periods import Period, parse_period
from dat.core.services.areas import get_indicator
from dat.core.services.benchmarks import (
    BENCHMARKS,
    _bad_counts,
    _benchmark_for,
    _compare_row,
    _national_benchmark,
    _stat_kind,
)
from dat.core.services.figures import _obs_dict, _target_dict
from dat.core.services.scorecard import _choose_targets, _travel, rate_figure
from dat.core.services.store import Store, _period
from dat.core.services.types import CompareResult, CompareRow, Counts, TargetInfo


def _series(wanted: Period) -> list[str]:
    """The periods the trend and direction of travel look at: :data:`stats.TREND_POINTS`
    consecutive periods ending at ``wanted`` and the same period last year."""
    from dat.core import stats

    if wanted.kind == "date":
        return [str(wanted)]
    out, p = [wanted], wanted
    for _ in range(stats.TREND_POINTS - 1):
        p = p.previous()
        out.append(p)
    out.append(wanted.same_period_last_year())
    return sorted({str(p) for p in out})


def _lookup(history: dict[tuple[int, str], Observation], pid: int) -> Callable[[str], Observation | None]:
    """One partnership's figure by period, from ``history`` (partnership id, period) -> figure."""
    return lambda period: history.get((pid, period))


def compare(store: Store, indicator: str, partnerships: list[str] | None = None,
            period: str | None = None, benchmark: str = "national",
            include_sub_areas: bool = False) -> CompareResult:
    """One indicator across partnerships for one period: value, numerator, denominator, CI,
    target and RAG, rank and quartile, comparison with the benchmark at 95% and 99.8%,
    direction of travel (previous period, same period last year) and the recent trend.
    Every partnership asked for gets a row; one that cannot be compared says why in
    ``reason``."""
    from dat.core import stats

    if benchmark not in BENCHMARKS:
        raise UnknownName("benchmark", benchmark, BENCHMARKS)
    wanted = _period(period)
    ind_row = get_indicator(store, indicator)
    with store.session() as s:
        iid = s.scalar(select(col(Indicator.id)).where(col(Indicator.code) == indicator))
        parts = {p.id: p for p in s.scalars(select(Partnership))}
        by_slug = {p.slug: p for p in parts.values()}
        for slug in partnerships or ():
            if slug not in by_slug:
                raise UnknownName("partnership", slug, by_slug)
        this_indicator = (col(Observation.indicator_id) == iid, col(Observation.is_current).is_(True))
        periods_q = select(col(Observation.period)).where(*this_indicator).distinct()
        available = sorted(parse_period(p) for p in s.scalars(periods_q))
        if wanted is None and available:
            wanted = available[-1]
        result: CompareResult = {
            "schema": "dat.compare/1", "indicator": ind_row, "period": str(wanted) if wanted else None,
            "periods_available": [str(p) for p in available],
            "benchmark": {"kind": benchmark, "value": None, "basis": None}, "not_reporting": [],
            "rows": [],
        }
        if wanted is None:
            result["reason"] = f"no figures recorded for {indicator}"
            return result
        reporting = set(s.scalars(select(col(Observation.partnership_id)).where(*this_indicator).distinct()))
        history = {(o.partnership_id, o.period): o for o in s.scalars(select(Observation).where(
            *this_indicator, col(Observation.period).in_(_series(wanted))))}
        target_rows = list(s.scalars(select(Target).where(col(Target.indicator_id) == iid)))
    obs = {pid: o for (pid, per), o in history.items() if per == str(wanted)}
    if not obs:
        result["reason"] = (f"no figures for {indicator} in {wanted}; periods with figures: "
                            + (", ".join(str(p) for p in available) or "none"))
    targets_by_part: dict[int, list[TargetInfo]] = {}
    for t in target_rows:
        targets_by_part.setdefault(t.partnership_id, []).append(_target_dict(t))

    # every partnership's figure (for benchmarks), then the rows asked for
    all_rows: dict[int, Counts] = {pid: {"value": o.value, "numerator": o.numerator, "denominator": o.denominator}
                                   for pid, o in obs.items()}
    if partnerships:
        chosen = [by_slug[s_] for s_ in dict.fromkeys(partnerships)]
    else:  # every area that reports the indicator (or has a target for it); the rest are named
        involved = reporting | set(targets_by_part)
        candidates = sorted((p for p in parts.values() if p.area_type != "nation"
                             and (include_sub_areas or p.parent_id is None)), key=lambda p: p.name.lower())
        chosen = [p for p in candidates if p.id in involved]
        result["not_reporting"] = [p.slug for p in candidates if p.id not in involved]
    national_value, national_how = _national_benchmark(all_rows, parts, ind_row)
    rows: list[CompareRow] = []
    for p in chosen:
        pid = p.id
        assert pid is not None  # a partnership read from the database has one
        o = obs.get(pid)
        row: CompareRow = {
            "partnership": p.slug, "name": p.name, "region": p.region,
            "parent": parts[p.parent_id].slug if p.parent_id else None,
            "comparator_group": p.comparator_group,
            "value": None, "numerator": None, "denominator": None,
            "ci_low": None, "ci_high": None, "ci_low_998": None, "ci_high_998": None,
            "ci_method": None, "target": None, "target_kind": None, "rag": None,
            "rag_basis": "none", "rank": None, "quartile": None, "benchmark": None,
            "benchmark_basis": None,
            "vs_benchmark": stats.NOT_COMPARED, "vs_benchmark_998": stats.NOT_COMPARED,
            "previous_period": None, "previous_value": None, "direction": "not comparable",
            "last_year_period": None, "last_year_value": None,
            "direction_last_year": "not comparable",
            "trend": stats.CANNOT, "trend_assessment": None, "trend_reason": None, "reason": None,
        }
        if o is None:
            if pid in reporting:
                row["reason"] = f"no figure for {wanted}"
            else:
                row["reason"] = f"{p.slug} does not report {indicator}"
            row["trend_reason"] = row["reason"]
            rows.append(row)
            continue
        od = _obs_dict(o)
        row.update({"value": o.value, "numerator": o.numerator, "denominator": o.denominator})
        applicable = _choose_targets(targets_by_part.get(pid, []), wanted)
        rating = rate_figure(store, p.slug, ind_row, od, applicable, wanted)
        if applicable:
            row.update({"target": applicable[0]["value"], "target_kind": applicable[0]["kind"]})
        row.update({"rag": rating["rag"], "rag_basis": rating["basis"]})
        bench, how = _benchmark_for(benchmark, p, parts, ind_row, all_rows, national_value, national_how)
        row.update({"benchmark": bench, "benchmark_basis": how})
        row.update(_compare_row(o, ind_row, bench, how))
        now = rating["rag"] if ind_row["unit"] == "rag" else o.value
        row.update(_travel(ind_row, wanted, now, _lookup(history, pid)))
        rows.append(row)
    values = [None if r["value"] is None or _bad_counts(r, _stat_kind(ind_row)) else r["value"]
              for r in rows]
    ranks = stats.rank(values, ind_row["polarity"])
    quartiles = stats.quartile(values, ind_row["polarity"])
    for r, rk, qt in zip(rows, ranks, quartiles, strict=True):
        r["rank"], r["quartile"] = rk, qt
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"].lower()))
    result["rows"] = rows
    if benchmark == "national":
        result["benchmark"].update({"value": national_value, "basis": national_how})
    else:
        result["benchmark"]["basis"] = {
            "group": "each area's comparator group, pooled", "region": "each area's region, pooled",
            "parent": "each area's parent area", "mean": "mean of the top-level areas"}[benchmark]
        if benchmark == "mean":
            result["benchmark"]["value"] = _benchmark_for("mean", None, parts, ind_row, all_rows,
                                                          None, "")[0]
    return result
