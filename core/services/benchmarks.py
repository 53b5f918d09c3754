"""What a figure is compared with and how: its interval, the national, group, region,
parent or mean benchmark pooled from other areas, and the comparison at 95% and 99.8%.
Shared by the scorecard and by compare."""

from __future__ import annotations

from collections.abc import Mapping

from dat.core.models import Observation, Partnership
from dat.core.services.types import Comparison, Counts, IndicatorInfo

BENCHMARKS = ("national", "group", "region", "parent", "mean")
#: a benchmark pooled (or averaged) from other areas needs at least this many of them
MIN_POOL = 2


def _stat_kind(ind: IndicatorInfo) -> str:
    """How a figure's confidence interval is worked out: ``proportion`` (percentages),
    ``rate`` (per N), ``count``; otherwise the unit itself (weeks, days, gbp, ratio, rag,
    text), which has no interval method."""
    return {"percent": "proportion", "rate": "rate", "count": "count"}.get(ind["unit"], ind["unit"])


def _bad_counts(row: Counts, kind: str) -> str | None:
    """Why a figure's numerator/denominator are impossible, or ``None``."""
    num, den = row.get("numerator"), row.get("denominator")
    if num is None and den is None:
        return None
    if (den is None or den > 0) and (num is None or 0 <= num) and (
            kind != "proportion" or num is None or den is None or num <= den):
        return None  # the common case, without the checks' overhead (NaN falls through)
    from dat.core import stats

    try:
        if den is None:
            stats._check_counts(num)
        else:
            stats._check_counts(0 if num is None else num, den, proportion=kind == "proportion")
    except stats.StatsError as exc:
        return str(exc)
    return None


def _pooled(rows: list[Counts], ind: IndicatorInfo) -> tuple[float | None, str]:
    """A benchmark from other areas' figures: their numerators over their denominators when
    every one has both and the figure is a proportion or rate, else the mean of their values.
    Figures with impossible counts are left out; fewer than :data:`MIN_POOL` areas give none."""
    kind = _stat_kind(ind)
    usable = [r for r in rows if r["value"] is not None and _bad_counts(r, kind) is None]
    if len(usable) < MIN_POOL:
        return None, _too_few(len(usable))
    if kind in ("proportion", "rate"):
        nums = [r["numerator"] for r in usable if r["numerator"] is not None]
        dens = [r["denominator"] for r in usable if r["denominator"]]
        if len(nums) == len(dens) == len(usable):  # every area has both
            scale = 100 if kind == "proportion" else (ind["per"] or 1)
            return sum(nums) / sum(dens) * scale, f"pooled from {len(usable)} areas"
    values = [r["value"] for r in usable if r["value"] is not None]
    return sum(values) / len(values), f"mean of {len(values)} areas"


def _too_few(n: int) -> str:
    return f"only {n} area{'s' if n != 1 else ''} with a figure to pool, {MIN_POOL} needed"


def _compare_row(o: Observation, ind: IndicatorInfo, bench: float | None, how: str) -> Comparison:
    """A figure's intervals and its comparison with ``bench`` at 95% and 99.8%, with the
    reason whenever it could not be compared."""
    from dat.core import stats

    out: Comparison = {"ci_low": o.ci_low, "ci_high": o.ci_high, "ci_low_998": None,
                       "ci_high_998": None, "ci_method": "recorded" if o.ci_low is not None else None,
                       "vs_benchmark": stats.NOT_COMPARED, "vs_benchmark_998": stats.NOT_COMPARED,
                       "reason": None}
    if o.value is None:
        out["reason"] = ("a judgement, not a value" if o.rag else
                         "a text entry, not a value" if o.text else "no value")
        return out
    recorded = (o.ci_low, o.ci_high) if o.ci_low is not None and o.ci_high is not None else None
    cmp = stats.compare_value(o.value, bench, ind["polarity"], numerator=o.numerator,
                              denominator=o.denominator, kind=_stat_kind(ind), per=ind["per"],
                              ci95=recorded)
    if cmp["low95"] is not None and recorded is None:
        out.update({"ci_low": cmp["low95"], "ci_high": cmp["high95"], "ci_method": cmp["method"]})
    out.update({"ci_low_998": cmp["low998"], "ci_high_998": cmp["high998"],
                "vs_benchmark": cmp["at95"], "vs_benchmark_998": cmp["at998"]})
    if cmp["low95"] is not None and bench is None:
        out["reason"] = f"no benchmark: {how}"
    else:
        out["reason"] = cmp["reason"]
    return out


def _national_benchmark(rows: dict[int, Counts], parts: Mapping[int | None, Partnership],
                        ind: IndicatorInfo) -> tuple[float | None, str]:
    """An imported national value (a partnership with area_type "nation") or the figure
    pooled from every top-level partnership (see :func:`_pooled`). ``rows`` maps partnership
    ids to ``{"value", "numerator", "denominator"}`` for one period."""
    for pid, r in rows.items():
        if parts[pid].area_type == "nation" and r["value"] is not None:
            return r["value"], f"national figure ({parts[pid].name})"
    top = [r for pid, r in rows.items() if parts[pid].parent_id is None and parts[pid].area_type != "nation"]
    value, how = _pooled(top, ind)
    return value, (how if value is not None else f"no national figure and {how}")


def _benchmark_for(kind: str, p: Partnership | None, parts: Mapping[int | None, Partnership],
                   ind: IndicatorInfo, all_rows: dict[int, Counts], national: float | None,
                   national_how: str) -> tuple[float | None, str]:
    """The benchmark of ``kind`` for partnership ``p``, and how it was reached. Comparator
    groups and regions pool areas of the same level as ``p`` (top-level partnerships with
    each other, sub-areas with sub-areas), so an area is never counted twice."""
    if kind == "national":
        if p is not None and p.area_type == "nation":
            return None, "the national figure itself"
        return national, national_how
    if kind == "mean":
        top = [r for pid, r in all_rows.items()
               if parts[pid].parent_id is None and parts[pid].area_type != "nation"]
        usable = [r["value"] for r in top
                  if r["value"] is not None and _bad_counts(r, _stat_kind(ind)) is None]
        if len(usable) < MIN_POOL:
            return None, (f"only {len(usable)} top-level area{'s' if len(usable) != 1 else ''} "
                          f"with a figure, {MIN_POOL} needed")
        return sum(usable) / len(usable), f"mean of {len(usable)} top-level areas"
    assert p is not None
    if kind == "parent":
        if p.parent_id is None:
            return None, "no parent area"
        r = all_rows.get(p.parent_id)
        slug = parts[p.parent_id].slug
        if r is None or r["value"] is None:
            return None, f"no figure for the parent area {slug}"
        return r["value"], f"parent area {slug}"
    attr = "comparator_group" if kind == "group" else "region"
    key = getattr(p, attr)
    label = attr.replace("_", " ")
    if not key:
        return None, f"no {label}"
    peers = [r for pid, r in all_rows.items()
             if getattr(parts[pid], attr) == key and parts[pid].area_type != "nation"
             and (parts[pid].parent_id is None) == (p.parent_id is None)]
    value, how = _pooled(peers, ind)
    return value, f"{label} {key}: {how}"
