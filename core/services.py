"""The query API that the CLI and the TUI both call. Results are plain dicts and lists
(JSON-ready: numbers as ``float``/``int``, money as ``Decimal`` strings in JSON), never ORM
objects, so front ends cannot reach into the database behind the core's back.

Usage::

    store = Store()                       # DAT_DATABASE_URL or the default SQLite file
    scorecard(store, "dudley", "2007/08 Q1")
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dat.core.db import open_database
from dat.core.errors import DataError, UnknownName
from dat.core.models import Indicator, Observation, Partnership, Target
from dat.core.periods import Period, PeriodError, parse_period
from dat.core.plugins import PluginHost, get_plugin_manager
from dat.core.targets import RAG, Profile, decide, resolve_target

#: the old name of :class:`~dat.core.periods.PeriodError`, kept for code written against it
BadPeriod = PeriodError


def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    return parse_period(text)


@dataclass
class Store:
    """An open database plus the plugin host. Cheap to pass around; one per process."""

    url: str | None = None
    host: PluginHost | None = None
    sync: bool = True

    def __post_init__(self) -> None:
        self.host = self.host or get_plugin_manager()
        self.engine = open_database(self.url, sync=self.sync, host=self.host)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


# -- partnerships and indicators --------------------------------------------------------------

def _partnership_dict(p: Partnership, by_id: dict[int, Partnership]) -> dict[str, Any]:
    parent = by_id.get(p.parent_id) if p.parent_id else None
    return {
        "slug": p.slug, "name": p.name, "region": p.region, "area_type": p.area_type,
        "parent": parent.slug if parent else None, "comparator_group": p.comparator_group,
        "accountable_bodies": json.loads(p.accountable_bodies or "[]"),
        "sub_areas": sorted(c.slug for c in by_id.values() if c.parent_id == p.id),
        "description": p.description, "plugin": p.plugin,
    }


def list_partnerships(store: Store) -> list[dict[str, Any]]:
    """Every partnership, parents before their sub-areas, alphabetical otherwise."""
    with store.session() as s:
        rows = list(s.scalars(select(Partnership)))
    by_id = {p.id: p for p in rows}
    out: list[dict[str, Any]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for p in sorted((p for p in rows if p.parent_id == parent_id), key=lambda p: p.name.lower()):
            item = _partnership_dict(p, by_id)
            item["depth"] = depth
            out.append(item)
            walk(p.id, depth + 1)

    walk(None, 0)
    return out


def get_partnership(store: Store, slug: str) -> dict[str, Any]:
    with store.session() as s:
        rows = {p.id: p for p in s.scalars(select(Partnership))}
    for p in rows.values():
        if p.slug == slug:
            return _partnership_dict(p, rows)
    raise UnknownName("partnership", slug, (p.slug for p in rows.values()))


def _indicator_dict(i: Indicator) -> dict[str, Any]:
    return {
        "code": i.code, "name": i.name, "unit": i.unit, "polarity": i.polarity,
        "framework": i.framework, "source": i.source, "numerator": i.numerator,
        "denominator": i.denominator, "per": i.per, "tolerance": i.tolerance,
        "plugin": i.plugin,
    }


def list_indicators(store: Store, partnership: str | None = None) -> list[dict[str, Any]]:
    """All indicators, or those a partnership has figures or targets for."""
    with store.session() as s:
        if partnership is None:
            inds = s.scalars(select(Indicator).order_by(Indicator.code)).all()
        else:
            pid = _partnership_id(s, partnership)
            used = set(s.scalars(select(Observation.indicator_id).where(Observation.partnership_id == pid)))
            used |= set(s.scalars(select(Target.indicator_id).where(Target.partnership_id == pid)))
            inds = [i for i in s.scalars(select(Indicator).order_by(Indicator.code)) if i.id in used]
    return [_indicator_dict(i) for i in inds]


def get_indicator(store: Store, code: str) -> dict[str, Any]:
    with store.session() as s:
        ind = s.scalars(select(Indicator).where(Indicator.code == code)).first()
        if ind is None:
            raise UnknownName("indicator", code, s.scalars(select(Indicator.code)))
        return _indicator_dict(ind)


def _partnership_id(s: Session, slug: str) -> int:
    pid = s.scalars(select(Partnership.id).where(Partnership.slug == slug)).first()
    if pid is None:
        raise UnknownName("partnership", slug, s.scalars(select(Partnership.slug)))
    return pid


# -- scorecard ------------------------------------------------------------------------------

#: which target a figure is rated against when several apply (the partnership's own first;
#: a stretch target is aspirational and rates only when it is the only one)
TARGET_PREFERENCE = ("local", "compact", "national", "stretch")
RAG_RANK = {"R": 0, "A": 1, "G": 2}


def _target_dict(t: Target) -> dict[str, Any]:
    value = None
    if t.value_kind != "text":
        value = resolve_target(t.value_kind, value=t.value, baseline=t.baseline, years=t.years)
    return {
        "period": t.period, "kind": t.target_kind, "label": t.label, "value_kind": t.value_kind,
        "value": value, "stated": t.value, "baseline": t.baseline,
        "baseline_period": t.baseline_period, "years": t.years, "text": t.text,
        "profile": json.loads(t.profile) if t.profile else None, "tolerance": t.tolerance,
        "source": t.source,
    }


def _applies(target_period: Period, period: Period) -> bool:
    if target_period.kind == "date":
        return period.fy.contains(target_period)
    return target_period.contains(period)


def _choose_targets(targets: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """The targets that apply to a figure for ``period``, best first."""
    fitting = [t for t in targets if _applies(parse_period(t["period"]), period)]

    def rank(t: dict[str, Any]) -> tuple:
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


def _obs_dict(o: Observation) -> dict[str, Any]:
    return {
        "period": o.period, "value": o.value, "numerator": o.numerator,
        "denominator": o.denominator, "ci_low": o.ci_low, "ci_high": o.ci_high, "rag": o.rag,
        "status": o.status, "text": o.text, "commentary": o.commentary, "source": o.source,
        "revision": o.revision,
    }


def rate_figure(store: Store, partnership: str, indicator: dict[str, Any],
                obs: dict[str, Any], targets: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    """RAG for one figure: a recorded judgement, else a plugin's ``rag_rule``, else the core's
    rule against the preferred target (pro-rata by the target's quarterly profile when the
    figure is a part-year count)."""
    target = targets[0] if targets else None
    if obs.get("rag"):
        result = decide(obs["value"], None, indicator["polarity"], judgement=obs["rag"])
        return {"rag": result.rag.value, "basis": result.basis, "expected": None,
                "reason": result.reason}
    answer = store.host.rag_rule(partnership=partnership, indicator=indicator, target=target,
                                 observation=obs, period=str(period))
    if answer is not None:
        return {"rag": answer, "basis": "plugin", "expected": None,
                "reason": "partnership's own rule"}
    profile = quarters = None
    if target is not None and target["value"] is not None:
        tp = parse_period(target["period"])
        if tp.kind == "year" and period.kind in ("quarter", "range") and indicator["unit"] == "count":
            profile = Profile.parse(target["profile"])
            quarters = [q.first_q for q in period.quarters]
    result = decide(obs["value"], target["value"] if target else None, indicator["polarity"],
                    profile=profile, quarters=quarters,
                    tolerance=(target or {}).get("tolerance") or indicator.get("tolerance"))
    return {"rag": result.rag.value if result.rag else None, "basis": result.basis,
            "expected": result.expected, "reason": result.reason}


def periods_with_data(store: Store, partnership: str) -> list[str]:
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        found = set(s.scalars(select(Observation.period).where(
            Observation.partnership_id == pid, Observation.is_current.is_(True))))
    return [str(p) for p in sorted(parse_period(x) for x in found)]


def _travel(ind: dict[str, Any], wanted: Period, now: Any,
            lookup: Any) -> dict[str, Any]:
    """Direction of travel against the previous period and the same period last year, and
    the recent trend over the last five consecutive periods. ``lookup(period_text)`` gives
    the current :class:`Observation` of that period or ``None``; ``now`` is the figure
    compared (a RAG letter for judgement-only indicators)."""
    from dat.core import stats

    is_rag = ind["unit"] == "rag"

    def val(o: Observation | None) -> Any:
        return None if o is None else (o.rag if is_rag else o.value)

    prev_p = year_p = None
    if wanted.kind != "date":
        prev_p, year_p = wanted.previous(), wanted.same_period_last_year()
    po = lookup(str(prev_p)) if prev_p is not None else None
    yo = lookup(str(year_p)) if year_p is not None else None
    out: dict[str, Any] = {
        "previous_period": str(prev_p) if po is not None else None,
        "previous_value": val(po),
        "direction": direction_of_travel(now, val(po), ind["polarity"]),
        "last_year_period": str(year_p) if yo is not None else None,
        "last_year_value": val(yo),
        "direction_last_year": direction_of_travel(now, val(yo), ind["polarity"]),
    }
    kind = _stat_kind(ind)
    if kind not in stats.KINDS:
        out.update(trend=stats.CANNOT, trend_assessment=None,
                   trend_reason=f"no significance test for a trend in figures of unit {ind['unit']!r}")
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
    out.update(trend=t["trend"], trend_assessment=t["assessment"], trend_reason=reason)
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


def scorecard(store: Store, partnership: str, period: str | None = None, *,
              benchmarks: bool = True) -> dict[str, Any]:
    """The scorecard of a partnership for a period (default: :func:`default_period`):
    each indicator's value, target, RAG with its basis, direction of travel against the
    previous period and the same period last year, the recent trend, and the comparison with
    the national benchmark at 95% and 99.8%. ``benchmarks=False`` leaves the comparison out
    ("not compared", basis "not worked out"), which reads every partnership's figures; the TUI
    paints without it and fills it in after."""
    from sqlalchemy import func

    wanted = _period(period)
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        mine = (Observation.partnership_id == pid, Observation.is_current.is_(True))
        # which periods have figures, and how many: answered from the index alone
        counts = dict(s.execute(select(Observation.period, func.count()).where(*mine)
                                .group_by(Observation.period)).all())
        available = sorted(parse_period(p) for p in counts)
        if wanted is None and available:
            wanted = default_period(counts)
        # only the figures the scorecard reads: the period, the one before, the same period
        # last year and the run of periods the recent trend needs (not the whole history)
        obs_rows = [] if wanted is None else list(s.scalars(select(Observation).where(
            *mine, Observation.period.in_(_periods_read(wanted)))))
        inds = {i.id: i for i in s.scalars(select(Indicator).where(
            Indicator.id.in_({o.indicator_id for o in obs_rows})))} if obs_rows else {}
        target_rows = list(s.scalars(select(Target).where(Target.partnership_id == pid)))
    result: dict[str, Any] = {
        "schema": "dat.scorecard/1", "partnership": partnership,
        "period": str(wanted) if wanted else None,
        "periods_available": [str(p) for p in available], "rows": [],
    }
    if wanted is None:
        result["reason"] = f"no figures recorded for {partnership}"
        return result
    by_key = {(o.indicator_id, o.period): o for o in obs_rows}
    targets_by_ind: dict[int, list[dict[str, Any]]] = {}
    for t in target_rows:
        targets_by_ind.setdefault(t.indicator_id, []).append(_target_dict(t))
    current = [o for o in obs_rows if o.period == str(wanted)]
    with store.session() as s:
        is_nation = s.scalar(select(Partnership.area_type).where(Partnership.id == pid)) == "nation"
    national = ({} if is_nation or not benchmarks else
                _national_benchmarks(store, {o.indicator_id for o in current}, str(wanted)))
    rows = []
    for o in current:
        ind = _indicator_dict(inds[o.indicator_id])
        obs = _obs_dict(o)
        applicable = _choose_targets(targets_by_ind.get(o.indicator_id, []), wanted)
        rating = rate_figure(store, partnership, ind, obs, applicable, wanted)
        now_v = rating["rag"] if ind["unit"] == "rag" else obs["value"]
        travel = _travel(ind, wanted, now_v, lambda p, i=o.indicator_id: by_key.get((i, p)))
        bench, how = national.get(o.indicator_id, (None, "the national figure itself" if is_nation
                                                   else "no other figures" if benchmarks
                                                   else "not worked out"))
        cmp = _compare_row(o, ind, bench, how)
        target = applicable[0] if applicable else None
        rows.append({
            "code": ind["code"], "name": ind["name"], "unit": ind["unit"],
            "polarity": ind["polarity"], "framework": ind["framework"],
            "period": o.period, "value": obs["value"], "text": obs["text"],
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
            "ci_low": cmp["ci_low"], "ci_high": cmp["ci_high"],
            "benchmark": bench, "benchmark_basis": how,
            "vs_benchmark": cmp["vs_benchmark"], "vs_benchmark_998": cmp["vs_benchmark_998"],
            "benchmark_reason": cmp["reason"],
            "commentary": obs["commentary"], "source": obs["source"],
            "revision": obs["revision"],
        })
    rows.sort(key=lambda r: (r["framework"], r["code"]))
    result["rows"] = rows
    if not rows:
        result["reason"] = (f"no figures for {partnership} in {wanted}; periods with figures: "
                            + (", ".join(str(p) for p in available) or "none"))
    return result


def _national_benchmarks(store: Store, indicator_ids: set[int], period: str) -> dict[int, tuple[float | None, str]]:
    """The national benchmark of each indicator for ``period``, as :func:`_national_benchmark`
    works it out (an imported national figure, else pooled from the top-level partnerships),
    but summed by the database rather than row by row: a scorecard needs one per indicator."""
    from sqlalchemy import and_, case, func, or_

    if not indicator_ids:
        return {}
    out: dict[int, tuple[float | None, str]] = {}
    with store.session() as s:
        parts = s.execute(select(Partnership.id, Partnership.name, Partnership.parent_id,
                                 Partnership.area_type)).all()
        nation = {pid: name for pid, name, _, kind in parts if kind == "nation"}
        top = [pid for pid, _, parent, kind in parts if parent is None and kind != "nation"]
        inds = {i.id: _indicator_dict(i) for i in s.scalars(
            select(Indicator).where(Indicator.id.in_(indicator_ids)))}
        current = (Observation.period == period, Observation.is_current.is_(True))
        if nation:
            q = select(Observation.indicator_id, Observation.partnership_id, Observation.value).where(
                Observation.indicator_id.in_(indicator_ids), Observation.partnership_id.in_(nation),
                Observation.value.is_not(None), *current).order_by(Observation.partnership_id)
            for iid, pid, value in s.execute(q):
                out.setdefault(iid, (value, f"national figure ({nation[pid]})"))
        rest = set(indicator_ids) - set(out)
        if not rest:
            return out
        num, den = Observation.numerator, Observation.denominator
        percent = [iid for iid in rest if inds[iid]["unit"] == "percent"]
        possible = and_(or_(den.is_(None), den > 0), or_(num.is_(None), num >= 0),
                        or_(num.is_(None), den.is_(None), num <= den,
                            Observation.indicator_id.not_in(percent)))
        both = case((and_(num.is_not(None), den.is_not(None)), 1), else_=0)
        q = select(Observation.indicator_id, func.count(), func.sum(Observation.value), func.sum(both),
                   func.sum(num), func.sum(den)).where(
            Observation.indicator_id.in_(rest), Observation.partnership_id.in_(top),
            Observation.value.is_not(None), possible, *current).group_by(Observation.indicator_id)
        sums = {row[0]: row[1:] for row in s.execute(q)}
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


# -- funding ----------------------------------------------------------------------------------

def _year_total(amounts: list[tuple[Any, bool]]) -> Any:
    """The year's total from ``(amount, is_total)`` pairs: the stated total line(s) when the
    document gives one, else the sum of the stated lines; ``None`` when nothing is stated."""
    from decimal import Decimal

    totals = [a for a, is_total in amounts if is_total and a is not None]
    parts = [a for a, is_total in amounts if not is_total and a is not None]
    if totals:
        return sum(totals, Decimal("0.00"))
    return sum(parts, Decimal("0.00")) if parts else None


def funding(store: Store, partnership: str, year: str | None = None) -> dict[str, Any]:
    """A partnership's funding for a financial year (default: the latest with allocations):
    each line with its stream, amount (exact ``Decimal``; ``None`` when not stated), banked
    by, used for, and the total: the document's own total line when it gives one
    (``total_basis`` "stated total"; the other lines are parts of it), else the sum of the
    stated amounts ("sum of lines")."""
    from decimal import Decimal

    from dat.core.models import Allocation, FundingStream

    wanted = _period(year)
    if wanted is not None and wanted.kind != "year":
        raise BadPeriod(f"{year!r}: funding is by financial year, e.g. 2009/10")
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        streams = {st.id: st for st in s.scalars(select(FundingStream))}
        allocs = list(s.scalars(select(Allocation).where(Allocation.partnership_id == pid)))
    years = sorted({parse_period(a.year) for a in allocs})
    if wanted is None and years:
        wanted = years[-1]
    result: dict[str, Any] = {
        "schema": "dat.funding/1", "partnership": partnership,
        "year": str(wanted) if wanted else None,
        "years_available": [str(y) for y in years], "lines": [], "total": None,
    }
    lines = []
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
        })
    lines.sort(key=lambda l: (not l["is_total"], l["amount"] is None, -(l["amount"] or 0),
                              l["stream"], l["line"]))
    total = _year_total([(l["amount"], l["is_total"]) for l in lines])
    stated_total = any(l["is_total"] and l["amount"] is not None for l in lines)
    for l in lines:
        l["share"] = (float(l["amount"] / total) if total and l["amount"] is not None else None)
    result["lines"] = lines
    result["total"] = total
    result["total_basis"] = "stated total" if stated_total else ("sum of lines" if lines else None)
    result["total_approximate"] = any(l["approximate"] for l in lines
                                      if l["is_total"] == stated_total and l["amount"] is not None)
    result["itemised_total"] = _year_total([(l["amount"], False) for l in lines if not l["is_total"]])
    result.update(_funding_analysis(store, partnership, wanted, allocs, lines, total))
    if not lines:
        result["reason"] = (f"no funding recorded for {partnership}"
                            + (f" in {wanted}" if wanted else ""))
    return result


def _funding_analysis(store: Store, partnership: str, year: Period | None, allocs: list,
                      lines: list[dict[str, Any]], total: Any) -> dict[str, Any]:
    """Year-on-year change, management & admin share and cost per person in effective
    treatment (NTA.EFFECTIVE for the same year), each ``None`` with a reason when it cannot
    be worked out."""
    from decimal import ROUND_HALF_UP, Decimal

    out: dict[str, Any] = {"previous_year": None, "previous_total": None, "change": None,
                           "change_pct": None, "management_admin": None,
                           "management_admin_share": None, "in_effective_treatment": None,
                           "cost_per_person": None, "notes": []}
    if year is None or total is None:
        return out
    prev = str(year.previous())
    prev_amounts = [(Decimal(a.amount_pence).scaleb(-2), a.is_total) for a in allocs
                    if a.year == prev and a.amount_pence is not None]
    if prev_amounts:
        prev_total = _year_total(prev_amounts)
        out.update(previous_year=prev, previous_total=prev_total, change=total - prev_total,
                   change_pct=float((total - prev_total) / prev_total * 100) if prev_total else None)
    else:
        out["notes"].append(f"no funding recorded for {prev} to compare with")
    ma = [l["amount"] for l in lines if l["management_admin"] and l["amount"] is not None]
    if ma:
        out["management_admin"] = sum(ma, Decimal("0"))
        out["management_admin_share"] = float(out["management_admin"] / total * 100)
    people = figures_for(store, partnership, "NTA.EFFECTIVE", str(year))
    if people:
        out["in_effective_treatment"] = people
        out["cost_per_person"] = (total / Decimal(str(people))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    else:
        out["notes"].append(f"no NTA.EFFECTIVE figure for {year}: cost per person not worked out")
    return out


def figures_for(store: Store, partnership: str, code: str, period: str) -> float | None:
    """The current value of one figure, or ``None``."""
    with store.session() as s:
        return s.scalar(select(Observation.value).join(Indicator, Indicator.id == Observation.indicator_id)
                        .join(Partnership, Partnership.id == Observation.partnership_id)
                        .where(Partnership.slug == partnership, Indicator.code == code,
                               Observation.period == period, Observation.is_current.is_(True)))


def funding_compare(store: Store, partnerships: list[str], year: str | None = None) -> dict[str, Any]:
    """Several partnerships' funding side by side: one row per stream, one column each."""
    each = [funding(store, slug, year) for slug in partnerships]
    streams: dict[str, dict[str, Any]] = {}
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
            "partnerships": [{k: f[k] for k in ("partnership", "year", "total", "change_pct",
                                                 "management_admin_share", "cost_per_person")}
                             for f in each],
            "streams": sorted(streams.values(), key=lambda r: r["stream"]), "detail": each}


# -- actions ----------------------------------------------------------------------------------

def actions(store: Store, partnership: str, status: str | None = None) -> dict[str, Any]:
    """A partnership's action plan, by theme then reference."""
    from dat.core.models import Action

    with store.session() as s:
        pid = _partnership_id(s, partnership)
        rows = list(s.scalars(select(Action).where(Action.partnership_id == pid)))
    items = [{
        "ref": a.ref, "theme": a.theme, "action": a.action, "lead": a.lead,
        "target_text": a.target_text, "targets": json.loads(a.targets or "[]"),
        "outcome": a.outcome, "due": a.due, "milestones": json.loads(a.milestones or "[]"),
        "dependencies": json.loads(a.dependencies or "[]"), "status": a.status,
        "source": a.source,
    } for a in rows if status is None or a.status == status]
    items.sort(key=lambda a: ((a["theme"] or "").lower(), a["ref"]))
    return {"schema": "dat.actions/1", "partnership": partnership, "actions": items}


# -- everything a partnership has (reports, document checks) ------------------------------------

def figures(store: Store, partnership: str) -> dict[str, Any]:
    """Every current figure, target and indicator a partnership has:
    ``{"figures": {code: {period: obs}}, "targets": {code: [target]}, "indicators": {code: ind}}``."""
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        inds = {i.id: i for i in s.scalars(select(Indicator))}
        obs_rows = list(s.scalars(select(Observation).where(
            Observation.partnership_id == pid, Observation.is_current.is_(True))))
        target_rows = list(s.scalars(select(Target).where(Target.partnership_id == pid)))
    figs: dict[str, dict[str, Any]] = {}
    used: set[int] = set()
    for o in sorted(obs_rows, key=lambda o: parse_period(o.period)):
        figs.setdefault(inds[o.indicator_id].code, {})[o.period] = _obs_dict(o)
        used.add(o.indicator_id)
    targets: dict[str, list[dict[str, Any]]] = {}
    for t in target_rows:
        targets.setdefault(inds[t.indicator_id].code, []).append(_target_dict(t))
        used.add(t.indicator_id)
    for code in targets:
        targets[code].sort(key=lambda t: parse_period(t["period"]))
    return {"figures": figs, "targets": targets,
            "indicators": {inds[i].code: _indicator_dict(inds[i]) for i in sorted(used)}}


# -- compare ----------------------------------------------------------------------------------

BENCHMARKS = ("national", "group", "region", "parent", "mean")
#: a benchmark pooled (or averaged) from other areas needs at least this many of them
MIN_POOL = 2


def _stat_kind(ind: dict[str, Any]) -> str:
    """How a figure's confidence interval is worked out: ``proportion`` (percentages),
    ``rate`` (per N), ``count``; otherwise the unit itself (weeks, days, gbp, ratio, rag,
    text), which has no interval method."""
    return {"percent": "proportion", "rate": "rate", "count": "count"}.get(ind["unit"], ind["unit"])


def _bad_counts(row: dict[str, Any], kind: str) -> str | None:
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


def _pooled(rows: list[dict[str, Any]], ind: dict[str, Any]) -> tuple[float | None, str]:
    """A benchmark from other areas' figures: their numerators over their denominators when
    every one has both and the figure is a proportion or rate, else the mean of their values.
    Figures with impossible counts are left out; fewer than :data:`MIN_POOL` areas give none."""
    kind = _stat_kind(ind)
    usable = [r for r in rows if r["value"] is not None and _bad_counts(r, kind) is None]
    if len(usable) < MIN_POOL:
        return None, _too_few(len(usable))
    if kind in ("proportion", "rate") and all(
            r["numerator"] is not None and r["denominator"] for r in usable):
        num = sum(r["numerator"] for r in usable)
        den = sum(r["denominator"] for r in usable)
        scale = 100 if kind == "proportion" else (ind["per"] or 1)
        return num / den * scale, f"pooled from {len(usable)} areas"
    values = [r["value"] for r in usable]
    return sum(values) / len(values), f"mean of {len(values)} areas"


def _too_few(n: int) -> str:
    return f"only {n} area{'s' if n != 1 else ''} with a figure to pool, {MIN_POOL} needed"


def _compare_row(o: Observation, ind: dict[str, Any], bench: float | None, how: str) -> dict[str, Any]:
    """A figure's intervals and its comparison with ``bench`` at 95% and 99.8%, with the
    reason whenever it could not be compared."""
    from dat.core import stats

    out: dict[str, Any] = {"ci_low": o.ci_low, "ci_high": o.ci_high, "ci_low_998": None,
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
        out.update(ci_low=cmp["low95"], ci_high=cmp["high95"], ci_method=cmp["method"])
    out.update(ci_low_998=cmp["low998"], ci_high_998=cmp["high998"],
               vs_benchmark=cmp["at95"], vs_benchmark_998=cmp["at998"])
    if cmp["low95"] is not None and bench is None:
        out["reason"] = f"no benchmark: {how}"
    else:
        out["reason"] = cmp["reason"]
    return out


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


def compare(store: Store, indicator: str, partnerships: list[str] | None = None,
            period: str | None = None, benchmark: str = "national",
            include_sub_areas: bool = False) -> dict[str, Any]:
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
        iid = s.scalar(select(Indicator.id).where(Indicator.code == indicator))
        parts = {p.id: p for p in s.scalars(select(Partnership))}
        by_slug = {p.slug: p for p in parts.values()}
        for slug in partnerships or ():
            if slug not in by_slug:
                raise UnknownName("partnership", slug, by_slug)
        periods_q = select(Observation.period).where(
            Observation.indicator_id == iid, Observation.is_current.is_(True)).distinct()
        available = sorted(parse_period(p) for p in s.scalars(periods_q))
        if wanted is None and available:
            wanted = available[-1]
        result: dict[str, Any] = {
            "schema": "dat.compare/1", "indicator": ind_row, "period": str(wanted) if wanted else None,
            "periods_available": [str(p) for p in available],
            "benchmark": {"kind": benchmark, "value": None, "basis": None}, "not_reporting": [],
            "rows": [],
        }
        if wanted is None:
            result["reason"] = f"no figures recorded for {indicator}"
            return result
        reporting = set(s.scalars(select(Observation.partnership_id).where(
            Observation.indicator_id == iid, Observation.is_current.is_(True)).distinct()))
        history = {(o.partnership_id, o.period): o for o in s.scalars(select(Observation).where(
            Observation.indicator_id == iid, Observation.is_current.is_(True),
            Observation.period.in_(_series(wanted))))}
        target_rows = list(s.scalars(select(Target).where(Target.indicator_id == iid)))
    obs = {pid: o for (pid, per), o in history.items() if per == str(wanted)}
    if not obs:
        result["reason"] = (f"no figures for {indicator} in {wanted}; periods with figures: "
                            + (", ".join(str(p) for p in available) or "none"))
    targets_by_part: dict[int, list[dict[str, Any]]] = {}
    for t in target_rows:
        targets_by_part.setdefault(t.partnership_id, []).append(_target_dict(t))

    # every partnership's figure (for benchmarks), then the rows asked for
    all_rows = {pid: {"value": o.value, "numerator": o.numerator, "denominator": o.denominator}
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
    rows = []
    for p in chosen:
        o = obs.get(p.id)
        row: dict[str, Any] = {
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
            if p.id in reporting:
                row["reason"] = f"no figure for {wanted}"
            else:
                row["reason"] = f"{p.slug} does not report {indicator}"
            row["trend_reason"] = row["reason"]
            rows.append(row)
            continue
        od = _obs_dict(o)
        row.update(value=o.value, numerator=o.numerator, denominator=o.denominator)
        applicable = _choose_targets(targets_by_part.get(p.id, []), wanted)
        rating = rate_figure(store, p.slug, ind_row, od, applicable, wanted)
        if applicable:
            row.update(target=applicable[0]["value"], target_kind=applicable[0]["kind"])
        row.update(rag=rating["rag"], rag_basis=rating["basis"])
        bench, how = _benchmark_for(benchmark, p, parts, ind_row, all_rows, national_value, national_how)
        row.update(benchmark=bench, benchmark_basis=how)
        cmp = _compare_row(o, ind_row, bench, how)
        row.update({k: cmp[k] for k in ("ci_low", "ci_high", "ci_low_998", "ci_high_998",
                                        "ci_method", "vs_benchmark", "vs_benchmark_998", "reason")})
        now = rating["rag"] if ind_row["unit"] == "rag" else o.value
        row.update(_travel(ind_row, wanted, now, lambda per, pid=p.id: history.get((pid, per))))
        rows.append(row)
    values = [None if r["value"] is None or _bad_counts(r, _stat_kind(ind_row)) else r["value"]
              for r in rows]
    ranks = stats.rank(values, ind_row["polarity"])
    quartiles = stats.quartile(values, ind_row["polarity"])
    for r, rk, qt in zip(rows, ranks, quartiles):
        r["rank"], r["quartile"] = rk, qt
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"].lower()))
    result["rows"] = rows
    if benchmark == "national":
        result["benchmark"].update(value=national_value, basis=national_how)
    else:
        result["benchmark"]["basis"] = {
            "group": "each area's comparator group, pooled", "region": "each area's region, pooled",
            "parent": "each area's parent area", "mean": "mean of the top-level areas"}[benchmark]
        if benchmark == "mean":
            result["benchmark"]["value"] = _benchmark_for("mean", None, parts, ind_row, all_rows,
                                                          None, "")[0]
    return result


def _national_benchmark(rows: dict[int, dict[str, Any]], parts: dict[int, Partnership],
                        ind: dict[str, Any]) -> tuple[float | None, str]:
    """An imported national value (a partnership with area_type "nation") or the figure
    pooled from every top-level partnership (see :func:`_pooled`). ``rows`` maps partnership
    ids to ``{"value", "numerator", "denominator"}`` for one period."""
    for pid, r in rows.items():
        if parts[pid].area_type == "nation" and r["value"] is not None:
            return r["value"], f"national figure ({parts[pid].name})"
    top = [r for pid, r in rows.items() if parts[pid].parent_id is None and parts[pid].area_type != "nation"]
    value, how = _pooled(top, ind)
    return value, (how if value is not None else f"no national figure and {how}")


def _benchmark_for(kind: str, p: Partnership | None, parts: dict, ind: dict, all_rows: dict,
                   national: float | None, national_how: str) -> tuple[float | None, str]:
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


# -- option appraisal: split a partnership into its sub-areas, or merge several ----------------

def scenario_split(store: Store, partnership: str, year: str | None = None, *,
                   shares: dict[str, float] | None = None, by: str | None = None,
                   floor: Any = None) -> dict[str, Any]:
    """What each successor of ``partnership`` (its sub-areas) would get if it split: every
    funding line divided by ``shares`` (fractions per sub-area, normalised), or by the
    sub-areas' figures for indicator ``by`` (e.g. people in treatment), with the lines that
    fall below ``floor`` (a viability floor in pounds) flagged; and the sub-areas' figures."""
    from decimal import ROUND_HALF_UP, Decimal

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
    lines = []
    for line in fund["lines"]:
        row = {"stream": line["stream"], "stream_name": line["stream_name"], "line": line["line"],
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
                   floor: Any = None) -> dict[str, Any]:
    """What a merged partnership would have: each stream summed across ``partnerships``,
    streams below ``floor`` flagged."""
    from decimal import Decimal

    side = funding_compare(store, partnerships, year)
    floor_d = Decimal(str(floor)) if floor is not None else None
    lines = []
    for row in side["streams"]:
        amounts = [row.get(s_) for s_ in partnerships if row.get(s_) is not None]
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


# -- TUI support --

def has_figures(store: Store) -> dict[str, bool]:
    """Whether each partnership has any current figure, in one query that reads one index
    entry per partnership (the TUI dims the empty ones and opens on one that has figures)."""
    from sqlalchemy import exists

    with store.session() as s:
        rows = s.execute(select(Partnership.slug, exists().where(
            Observation.partnership_id == Partnership.id, Observation.is_current.is_(True)))).all()
    return {slug: bool(flag) for slug, flag in rows}
