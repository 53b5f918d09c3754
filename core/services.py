"""The query API that the CLI and the TUI both call. Results are plain dicts and lists
(JSON-ready: numbers as ``float``/``int``, money as ``Decimal`` strings in JSON), never ORM
objects, so front ends cannot reach into the database behind the core's back.

Usage::

    store = Store()                       # DAT_DATABASE_URL or the default SQLite file
    scorecard(store, "dudley", "2007/08 Q1")
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dat.core.db import open_database
from dat.core.models import Indicator, Observation, Partnership, Target
from dat.core.periods import Period, PeriodError, parse_period
from dat.core.plugins import PluginHost, get_plugin_manager
from dat.core.targets import RAG, Profile, decide, resolve_target


class UnknownName(LookupError):
    """A name (partnership, indicator, template...) that does not exist: bad usage."""

    def __init__(self, kind: str, value: str, choices: Iterable[str]):
        from difflib import get_close_matches

        self.kind, self.value, self.choices = kind, value, sorted(choices)
        close = get_close_matches(value, self.choices, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        shown = ", ".join(self.choices[:30]) + (" …" if len(self.choices) > 30 else "")
        super().__init__(f"unknown {kind} {value!r}{hint}; choose from: {shown or '(none)'}")


class BadPeriod(ValueError):
    """A period string that does not parse: bad usage."""


def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise BadPeriod(str(exc)) from None


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
        "plugin": p.plugin,
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
    answer = store.host.pm.hook.rag_rule(partnership=partnership, indicator=indicator,
                                         target=target, observation=obs, period=str(period))
    if answer is not None:
        rag = answer if isinstance(answer, RAG) else RAG.parse(str(answer))
        return {"rag": rag.value, "basis": "plugin", "expected": None,
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


def scorecard(store: Store, partnership: str, period: str | None = None) -> dict[str, Any]:
    """The scorecard of a partnership for a period (default: the latest period with figures):
    each indicator's value, target, RAG with its basis, and direction of travel against the
    previous period."""
    wanted = _period(period)
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        inds = {i.id: i for i in s.scalars(select(Indicator))}
        obs_rows = list(s.scalars(select(Observation).where(
            Observation.partnership_id == pid, Observation.is_current.is_(True))))
        target_rows = list(s.scalars(select(Target).where(Target.partnership_id == pid)))
    available = sorted({parse_period(o.period) for o in obs_rows})
    if wanted is None and available:
        wanted = available[-1]
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
    prev_period = str(wanted.previous()) if wanted.kind != "date" else None
    rows = []
    for o in obs_rows:
        if o.period != str(wanted):
            continue
        ind = _indicator_dict(inds[o.indicator_id])
        obs = _obs_dict(o)
        applicable = _choose_targets(targets_by_ind.get(o.indicator_id, []), wanted)
        rating = rate_figure(store, partnership, ind, obs, applicable, wanted)
        prev = by_key.get((o.indicator_id, prev_period)) if prev_period else None
        prev_obs = _obs_dict(prev) if prev is not None else None
        if ind["unit"] == "rag":
            now_v, prev_v = rating["rag"], prev_obs["rag"] if prev_obs else None
        else:
            now_v, prev_v = obs["value"], prev_obs["value"] if prev_obs else None
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
            "previous_period": prev_period if prev_obs else None,
            "previous_value": prev_v,
            "direction": direction_of_travel(now_v, prev_v, ind["polarity"]),
            "commentary": obs["commentary"], "source": obs["source"],
            "revision": obs["revision"],
        })
    rows.sort(key=lambda r: (r["framework"], r["code"]))
    result["rows"] = rows
    if not rows:
        result["reason"] = (f"no figures for {partnership} in {wanted}; periods with figures: "
                            + (", ".join(str(p) for p in available) or "none"))
    return result


# -- funding ----------------------------------------------------------------------------------

def funding(store: Store, partnership: str, year: str | None = None) -> dict[str, Any]:
    """A partnership's funding for a financial year (default: the latest with allocations):
    each line with its stream, amount (exact ``Decimal``; ``None`` when not stated), banked
    by, used for, and the total of the stated amounts."""
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
            "amount": None if a.amount_pence is None else Decimal(a.amount_pence) / 100,
            "banked_by": a.banked_by, "used_for": a.used_for, "approximate": a.approximate,
            "management_admin": a.management_admin, "source": a.source,
        })
    lines.sort(key=lambda l: (l["amount"] is None, -(l["amount"] or 0), l["stream"], l["line"]))
    stated = [l["amount"] for l in lines if l["amount"] is not None]
    total = sum(stated, Decimal("0.00")) if stated else None
    for l in lines:
        l["share"] = (float(l["amount"] / total) if total and l["amount"] is not None else None)
    result["lines"] = lines
    result["total"] = total
    if not lines:
        result["reason"] = (f"no funding recorded for {partnership}"
                            + (f" in {wanted}" if wanted else ""))
    return result


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
