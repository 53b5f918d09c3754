"""Figures and targets as plain dicts: everything a partnership has (reports, document
checks), one figure, and the periods with figures."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import col

from dat.core.models import Indicator, Observation, Partnership, Target
from dat.core.periods import parse_period
from dat.core.services.areas import _indicator_dict, _partnership_id
from dat.core.services.store import Store
from dat.core.services.types import FiguresResult, ObservationInfo, TargetInfo
from dat.core.targets import resolve_target


def _target_dict(t: Target) -> TargetInfo:
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


def _obs_dict(o: Observation) -> ObservationInfo:
    return {
        "period": o.period, "value": o.value, "numerator": o.numerator,
        "denominator": o.denominator, "ci_low": o.ci_low, "ci_high": o.ci_high, "rag": o.rag,
        "status": o.status, "text": o.text, "commentary": o.commentary, "source": o.source,
        "revision": o.revision,
    }


def periods_with_data(store: Store, partnership: str) -> list[str]:
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        found = set(s.scalars(select(col(Observation.period)).where(
            col(Observation.partnership_id) == pid, col(Observation.is_current).is_(True))))
    return [str(p) for p in sorted(parse_period(x) for x in found)]


def figures_for(store: Store, partnership: str, code: str, period: str) -> float | None:
    """The current value of one figure, or ``None``."""
    with store.session() as s:
        return s.scalar(select(col(Observation.value))
                        .join(Indicator, col(Indicator.id) == col(Observation.indicator_id))
                        .join(Partnership, col(Partnership.id) == col(Observation.partnership_id))
                        .where(col(Partnership.slug) == partnership, col(Indicator.code) == code,
                               col(Observation.period) == period, col(Observation.is_current).is_(True)))


def figures(store: Store, partnership: str) -> FiguresResult:
    """Every current figure, target and indicator a partnership has:
    ``{"figures": {code: {period: obs}}, "targets": {code: [target]}, "indicators": {code: ind}}``."""
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        inds = {i.id: i for i in s.scalars(select(Indicator))}
        obs_rows = list(s.scalars(select(Observation).where(
            col(Observation.partnership_id) == pid, col(Observation.is_current).is_(True))))
        target_rows = list(s.scalars(select(Target).where(col(Target.partnership_id) == pid)))
    figs: dict[str, dict[str, ObservationInfo]] = {}
    used: set[int] = set()
    for o in sorted(obs_rows, key=lambda o: parse_period(o.period)):
        figs.setdefault(inds[o.indicator_id].code, {})[o.period] = _obs_dict(o)
        used.add(o.indicator_id)
    targets: dict[str, list[TargetInfo]] = {}
    for t in target_rows:
        targets.setdefault(inds[t.indicator_id].code, []).append(_target_dict(t))
        used.add(t.indicator_id)
    for code in targets:
        targets[code].sort(key=lambda t: parse_period(t["period"]))
    return {"figures": figs, "targets": targets,
            "indicators": {inds[i].code: _indicator_dict(inds[i]) for i in sorted(used)}}
