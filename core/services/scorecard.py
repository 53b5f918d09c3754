"""The scorecard: each figure's RAG against its target, direction of travel, recent trend
and the comparison with the national benchmark."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from dat.core.models import Indicator, Observation, Partnership, Target
from dat.core.periods import Period, parse_period
from dat.core.services.areas import _indicator_dict, _partnership_id
from dat.core.services.benchmarks import MIN_POOL, _compare_row, _stat_kind, _too_few
from dat.core.services.figures import _obs_dict, _target_dict
from dat.core.services.store import Store, _period
from dat.core.services.types import (
    BenchmarkCell,
    IndicatorInfo,
    ObservationInfo,
    Rating,
    ScorecardResult,
    ScorecardRow,
    TargetInfo,
    Travel,
)
from dat.core.targets import RAG, Profile, decide

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

#: which target a figure is rated against when several apply (the partnership's own first;
#: a stretch target is aspirational and rates only when it is the only one)
TARGET_PREFERENCE = ("local", "compact", "national", "stretch")
RAG_RANK = {"R": 0, "A": 1, "G": 2}


def _applies(target_period: Period, period: Period) -> bool:
    if target_period.kind == "date":
        return period.fy.contains(target_period)
    return target_period.contains(period)


def _choose_targets(targets: list[TargetInfo], period: Period) -> list[TargetInfo]:
    """The targets that apply to a figure for ``period``, best first."""
    fitting = [t for t in targets if _applies(parse_period(t["period"]), period)]

    def rank(t: TargetInfo) -> tuple[bool, int, int]:
        tp = parse_period(t["period"])
        kind = TARGET_PREFERENCE.index(t["kind"]) if t["kind"] in TARGET_PREFERENCE else 9
        return (t["value"] is None, kind, (tp.end - tp.start).days)

    return sorted(fitting, key=rank)


def direction_of_travel(current: Any, previous: Any, polarity: str) -> str:
    """``improved`` / ``worsened`` / ``no change`` for numbers (by polarity) and RAG letters;
    ``higher`` / ``lower`` without polarity; ``not comparable`` when either is missing."""
    if current is None or previous is None:
        return "not comparable"
    if isinstance(current, str) or isinstance(previous, str):
        if current not in RAG_RANK or previous not in RAG_RANK:
            return "not comparable"
        diff = RAG_RANK[current] - RAG_RANK[previous]
        return "no change" if diff == 0 else ("improved" if diff > 0 else "worsened")
    if current == previous:
        return "no change"
    up = current > previous
    if polarity == "none":
        return "higher" if up else "lower"
    better = up if polarity == "higher" else not up
    return "improved" if better else "worsened"


def rate_figure(store: Store, partnership: str, indicator: IndicatorInfo,
                obs: ObservationInfo, targets: list[TargetInfo], period: Period) -> Rating:
    """RAG for one figure: a recorded judgement, else a plugin's ``rag_rule``, else the core's
    rule against the preferred target (pro-rata by the target's quarterly profile when the
    figure is a part-year count)."""
    target = targets[0] if targets else None
    if obs.get("rag"):
        result = decide(obs["value"], None, indicator["polarity"], judgement=obs["rag"])
        assert result.rag is not None  # a recorded judgement always rates
        return {"rag": result.rag.value, "basis": result.basis, "expected": None,
                "reason": result.reason}
    # each plugin's rule is asked guarded: one that raises or answers nonsense is passed over
    answer = store.host.rag_rule(partnership=partnership, indicator=indicator, target=target,
                                 observation=obs, period=str(period))
    if answer is not None:
        return {"rag": answer, "basis": "plugin", "expected": None,
                "reason": "partnership's own rule"}
    profile: Profile | None = None
    quarters: list[int] | None = None
    if target is not None and target["value"] is not None:
        tp = parse_period(target["period"])
        if tp.kind == "year" and period.kind in ("quarter", "range") and indicator["unit"] == "count":
            profile = Profile.parse(target["profile"])
            quarters = [q.first_q for q in period.quarters if q.first_q is not None]  # every quarter has one
    result = decide(obs["value"], target["value"] if target else None, indicator["polarity"],
                    profile=profile, quarters=quarters,
                    tolerance=(target.get("tolerance") if target else None) or indicator.get("tolerance"))
    return {"rag": result.rag.value if result.rag else None, "basis": result.basis,
            "expected": result.expected, "reason": result.reason}


def _travel(ind: IndicatorInfo, wanted: Period, now: float | str | None,
            lookup: Callable[[str], Observation | None]) -> Travel:
    """Direction of travel against the previous period and the same period last year, and
    the recent trend over the last five consecutive periods. ``lookup(period_text)`` gives
    the current :class:`Observation` of that period or ``None``; ``now`` is the figure
    compared (a RAG letter for judgement-only indicators)."""
    from dat.core import stats

    is_rag = ind["unit"] == "rag"

    def val(o: Observation | None) -> float | str | None:
        return None if o is None else (o.rag if is_rag else o.value)

    prev_p = year_p = None
    if wanted.kind != "date":
        prev_p, year_p = wanted.previous(), wanted.same_period_last_year()
    po = lookup(str(prev_p)) if prev_p is not None else None
    yo = lookup(str(year_p)) if year_p is not None else None
    out: Travel = {
        "previous_period": str(prev_p) if po is not None else None,
        "previous_value": val(po),
        "direction": direction_of_travel(now, val(po), ind["polarity"]),
        "last_year_period": str(year_p) if yo is not None else None,
        "last_year_value": val(yo),
        "direction_last_year": direction_of_travel(now, val(yo), ind["polarity"]),
        "trend": stats.CANNOT, "trend_assessment": None, "trend_reason": None,
    }
    kind = _stat_kind(ind)
    if kind not in stats.KINDS:
        out["trend_reason"] = f"no significance test for a trend in figures of unit {ind['unit']!r}"
        return out
    points: list[dict[str, Any]] = []
    p: Period | None = wanted
    while p is not None and len(points) < stats.TREND_POINTS:
        o = lookup(str(p))
        if o is None or o.value is None:
            break
        points.append({"period": str(p), "value": o.value, "numerator": o.numerator,
                       "denominator": o.denominator})
        p = p.previous() if p.kind != "date" else None
    points.reverse()
    t = stats.trend(points, kind, ind["polarity"])
    reason = t["reason"]
    if t["trend"] == stats.CANNOT and len(points) < stats.TREND_POINTS:
        reason = (f"figures for {len(points)} consecutive period{'s' if len(points) != 1 else ''} "
                  f"up to {wanted}; {stats.TREND_POINTS} are needed")
    out.update({"trend": t["trend"], "trend_assessment": t["assessment"], "trend_reason": reason})
    return out


def default_period(periods: Iterable[str] | dict[str, int]) -> Period | None:
    """The period a scorecard shows when none is asked for: the latest period holding at least
    half as many figures as the busiest one. A quarter being filled in, or a lone figure
    about next year (a planned budget cut), does not hide the last complete period.
    ``periods`` is one period text per figure, or ``{period text: number of figures}``."""
    counts: dict[Period, int] = {}
    pairs = periods.items() if isinstance(periods, dict) else ((t, 1) for t in periods)
    for text, n in pairs:
        p = parse_period(text)
        counts[p] = counts.get(p, 0) + n
    if not counts:
        return None
    busiest = max(counts.values())
    return max(p for p, n in counts.items() if n * 2 >= busiest)


def _periods_read(wanted: Period) -> list[str]:
    """The periods whose figures a scorecard for ``wanted`` uses (see :func:`_travel`)."""
    from dat.core.stats import TREND_POINTS

    if wanted.kind == "date":
        return [str(wanted)]
    out = {str(wanted), str(wanted.same_period_last_year())}
    p = wanted
    for _ in range(TREND_POINTS):
        out.add(str(p))
        p = p.previous()
    return sorted(out)


def _period_counts(s: Session, pid: int) -> dict[str, int]:
    """How many current figures a partnership has in each period: answered from the index alone."""
    from sqlalchemy import func

    return dict(s.execute(select(col(Observation.period), func.count()).where(*_current_of(pid))
                          .group_by(col(Observation.period))).all())


def _current_of(pid: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The conditions that pick a partnership's current figures."""
    return (col(Observation.partnership_id) == pid, col(Observation.is_current).is_(True))


def _is_nation(s: Session, pid: int) -> bool:
    return s.scalar(select(col(Partnership.area_type)).where(col(Partnership.id) == pid)) == "nation"


def _benchmark_cell(o: Observation, ind: IndicatorInfo, national: dict[int, tuple[float | None, str]],
                    is_nation: bool, benchmarks: bool) -> BenchmarkCell:
    """A scorecard row's comparison with the national benchmark (``national`` as
    :func:`_national_benchmarks` gives it; empty for a nation or when ``benchmarks`` is off)."""
    bench, how = national.get(o.indicator_id, (None, "the national figure itself" if is_nation
                                               else "no other figures" if benchmarks
                                               else "not worked out"))
    cmp = _compare_row(o, ind, bench, how)
    return {"benchmark": bench, "benchmark_basis": how, "vs_benchmark": cmp["vs_benchmark"],
            "vs_benchmark_998": cmp["vs_benchmark_998"], "benchmark_reason": cmp["reason"],
            "ci_low": cmp["ci_low"], "ci_high": cmp["ci_high"]}


def _scorecard_row(ind: IndicatorInfo, obs: ObservationInfo, applicable: list[TargetInfo],
                   rating: Rating, travel: Travel, cell: BenchmarkCell) -> ScorecardRow:
    """One scorecard row: the indicator, the figure, the target it is rated against (the first
    of ``applicable``), its rating, travel and benchmark columns."""
    target = applicable[0] if applicable else None
    return {
        "code": ind["code"], "name": ind["name"], "unit": ind["unit"],
        "polarity": ind["polarity"], "framework": ind["framework"],
        "period": obs["period"], "value": obs["value"], "text": obs["text"],
        "numerator": obs["numerator"], "denominator": obs["denominator"],
        "target": target["value"] if target else None,
        "target_text": target["text"] if target else None,
        "target_kind": target["kind"] if target else None,
        "target_period": target["period"] if target else None,
        "targets": applicable,
        "rag": rating["rag"], "rag_word": RAG(rating["rag"]).word if rating["rag"] else None,
        "rag_basis": rating["basis"], "rag_reason": rating["reason"],
        "expected": rating["expected"],
        **travel,
        "ci_low": cell["ci_low"], "ci_high": cell["ci_high"],
        "benchmark": cell["benchmark"], "benchmark_basis": cell["benchmark_basis"],
        "vs_benchmark": cell["vs_benchmark"], "vs_benchmark_998": cell["vs_benchmark_998"],
        "benchmark_reason": cell["benchmark_reason"],
        "commentary": obs["commentary"], "source": obs["source"],
        "revision": obs["revision"],
    }


def scorecard(store: Store, partnership: str, period: str | None = None, *,
              benchmarks: bool = True) -> ScorecardResult:
    """The scorecard of a partnership for a period (default: :func:`default_period`):
    each indicator's value, target, RAG with its basis, direction of travel against the
    previous period and the same period last year, the recent trend, and the comparison with
    the national benchmark at 95% and 99.8%. ``benchmarks=False`` leaves the comparison out
    ("not compared", basis "not worked out"), which reads every partnership's figures; the TUI
    paints without it and fills it in after (:func:`scorecard_benchmarks` gives just those
    columns)."""
    wanted = _period(period)
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        counts = _period_counts(s, pid)
        available = sorted(parse_period(p) for p in counts)
        if wanted is None and available:
            wanted = default_period(counts)
        # only the figures the scorecard reads: the period, the one before, the same period
        # last year and the run of periods the recent trend needs (not the whole history)
        obs_rows = [] if wanted is None else list(s.scalars(select(Observation).where(
            *_current_of(pid), col(Observation.period).in_(_periods_read(wanted)))))
        inds = {i.id: i for i in s.scalars(select(Indicator).where(
            col(Indicator.id).in_({o.indicator_id for o in obs_rows})))} if obs_rows else {}
        target_rows = list(s.scalars(select(Target).where(col(Target.partnership_id) == pid)))
    result: ScorecardResult = {
        "schema": "dat.scorecard/1", "partnership": partnership,
        "period": str(wanted) if wanted else None,
        "periods_available": [str(p) for p in available], "rows": [],
    }
    if wanted is None:
        result["reason"] = f"no figures recorded for {partnership}"
        return result
    by_key: dict[int, dict[str, Observation]] = {}  # indicator id -> period -> figure
    for o in obs_rows:
        by_key.setdefault(o.indicator_id, {})[o.period] = o
    targets_by_ind: dict[int, list[TargetInfo]] = {}
    for t in target_rows:
        targets_by_ind.setdefault(t.indicator_id, []).append(_target_dict(t))
    current = [o for o in obs_rows if o.period == str(wanted)]
    with store.session() as s:
        is_nation = _is_nation(s, pid)
    national = ({} if is_nation or not benchmarks else
                _national_benchmarks(store, {o.indicator_id for o in current}, str(wanted)))
    rows = []
    for o in current:
        ind = _indicator_dict(inds[o.indicator_id])
        obs = _obs_dict(o)
        applicable = _choose_targets(targets_by_ind.get(o.indicator_id, []), wanted)
        rating = rate_figure(store, partnership, ind, obs, applicable, wanted)
        now_v = rating["rag"] if ind["unit"] == "rag" else obs["value"]
        travel = _travel(ind, wanted, now_v, by_key[o.indicator_id].get)
        cell = _benchmark_cell(o, ind, national, is_nation, benchmarks)
        rows.append(_scorecard_row(ind, obs, applicable, rating, travel, cell))
    rows.sort(key=lambda r: (r["framework"], r["code"]))
    result["rows"] = rows
    if not rows:
        result["reason"] = (f"no figures for {partnership} in {wanted}; periods with figures: "
                            + (", ".join(str(p) for p in available) or "none"))
    return result


def scorecard_benchmarks(store: Store, partnership: str, period: str | None = None) -> dict[str, BenchmarkCell]:
    """The benchmark columns of :func:`scorecard` (``benchmarks=True``) for ``period``
    (default: :func:`default_period`), by indicator code: ``benchmark``, ``benchmark_basis``,
    ``vs_benchmark``, ``vs_benchmark_998``, ``benchmark_reason``, ``ci_low`` and ``ci_high``,
    exactly as the scorecard's rows give them. Reads only the period's figures and the
    national benchmarks, without rating or working out the travel and trend: for a front end
    that painted ``scorecard(..., benchmarks=False)`` and fills the comparison in after.
    Empty when the partnership has no figures for the period."""
    wanted = _period(period)
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        if wanted is None:
            wanted = default_period(_period_counts(s, pid))
            if wanted is None:
                return {}
        current = list(s.scalars(select(Observation).where(
            *_current_of(pid), col(Observation.period) == str(wanted))))
        inds = {i.id: _indicator_dict(i) for i in s.scalars(select(Indicator).where(
            col(Indicator.id).in_({o.indicator_id for o in current})))} if current else {}
        is_nation = _is_nation(s, pid)
    national = {} if is_nation else _national_benchmarks(store, {o.indicator_id for o in current}, str(wanted))
    current.sort(key=lambda o: (inds[o.indicator_id]["framework"], inds[o.indicator_id]["code"]))
    return {inds[o.indicator_id]["code"]: _benchmark_cell(o, inds[o.indicator_id], national, is_nation, True)
            for o in current}


def _national_benchmarks(store: Store, indicator_ids: set[int], period: str) -> dict[int, tuple[float | None, str]]:
    """The national benchmark of each indicator for ``period``, as :func:`_national_benchmark`
    works it out (an imported national figure, else pooled from the top-level partnerships),
    but summed by the database rather than row by row: a scorecard needs one per indicator."""
    from sqlalchemy import and_, case, func, or_

    if not indicator_ids:
        return {}
    out: dict[int, tuple[float | None, str]] = {}
    with store.session() as s:
        parts = s.execute(select(col(Partnership.id), col(Partnership.name), col(Partnership.parent_id),
                                 col(Partnership.area_type))).all()
        nation = {pid: name for pid, name, _, kind in parts if kind == "nation"}
        top = [pid for pid, _, parent, kind in parts if parent is None and kind != "nation"]
        inds = {i.id: _indicator_dict(i) for i in s.scalars(
            select(Indicator).where(col(Indicator.id).in_(indicator_ids)))}
        current = (col(Observation.period) == period, col(Observation.is_current).is_(True))
        if nation:
            q = select(col(Observation.indicator_id), col(Observation.partnership_id), col(Observation.value)).where(
                col(Observation.indicator_id).in_(indicator_ids), col(Observation.partnership_id).in_(nation),
                col(Observation.value).is_not(None), *current).order_by(col(Observation.partnership_id))
            for iid, pid, value in s.execute(q):
                out.setdefault(iid, (value, f"national figure ({nation[pid]})"))
        rest = set(indicator_ids) - set(out)
        if not rest:
            return out
        num, den = col(Observation.numerator), col(Observation.denominator)
        percent = [iid for iid in rest if inds[iid]["unit"] == "percent"]
        possible = and_(or_(den.is_(None), den > 0), or_(num.is_(None), num >= 0),
                        or_(num.is_(None), den.is_(None), num <= den,
                            col(Observation.indicator_id).not_in(percent)))
        both = case((and_(num.is_not(None), den.is_not(None)), 1), else_=0)
        sums_q = select(col(Observation.indicator_id), func.count(), func.sum(col(Observation.value)),
                        func.sum(both), func.sum(num), func.sum(den)).where(
            col(Observation.indicator_id).in_(rest), col(Observation.partnership_id).in_(top),
            col(Observation.value).is_not(None), possible, *current).group_by(col(Observation.indicator_id))
        sums = {row[0]: row[1:] for row in s.execute(sums_q)}
    for iid in rest:
        n, total, n_both, total_num, total_den = sums.get(iid, (0, None, 0, None, None))
        if n < MIN_POOL:
            out[iid] = (None, f"no national figure and {_too_few(n)}")
            continue
        kind = _stat_kind(inds[iid])
        if kind in ("proportion", "rate") and n_both == n:
            scale = 100 if kind == "proportion" else (inds[iid]["per"] or 1)
            out[iid] = (float(total_num) / float(total_den) * scale, f"pooled from {n} areas")
        else:
            out[iid] = (float(total) / n, f"mean of {n} areas")
    return out
