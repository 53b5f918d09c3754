"""Partnerships and indicators: the areas and what they are measured by, and which areas
have figures."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from dat.core.errors import UnknownName
from dat.core.models import Indicator, Observation, Partnership, Target
from dat.core.services.store import Store
from dat.core.services.types import IndicatorInfo, PartnershipInfo, PartnershipRow


def _partnership_dict(p: Partnership, by_id: Mapping[int | None, Partnership]) -> PartnershipInfo:
    parent = by_id.get(p.parent_id) if p.parent_id else None
    return {
        "slug": p.slug, "name": p.name, "region": p.region, "area_type": p.area_type,
        "parent": parent.slug if parent else None, "comparator_group": p.comparator_group,
        "accountable_bodies": json.loads(p.accountable_bodies or "[]"),
        "sub_areas": sorted(c.slug for c in by_id.values() if c.parent_id == p.id),
        "description": p.description, "plugin": p.plugin,
    }


def list_partnerships(store: Store) -> list[PartnershipRow]:
    """Every partnership, parents before their sub-areas, alphabetical otherwise."""
    with store.session() as s:
        rows = list(s.scalars(select(Partnership)))
    by_id = {p.id: p for p in rows}
    out: list[PartnershipRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for p in sorted((p for p in rows if p.parent_id == parent_id), key=lambda p: p.name.lower()):
            out.append({**_partnership_dict(p, by_id), "depth": depth})
            walk(p.id, depth + 1)

    walk(None, 0)
    return out


def _touching(slug: str) -> None:
    """A query is about partnership ``slug``: the host warns (once) if a plugin's claim to
    it was refused, so every command that shows or changes it says so."""
    from dat.core.plugins import current_host

    host = current_host()
    if host is not None:
        host.touching(slug)


def get_partnership(store: Store, slug: str) -> PartnershipInfo:
    _touching(slug)
    with store.session() as s:
        rows = {p.id: p for p in s.scalars(select(Partnership))}
    for p in rows.values():
        if p.slug == slug:
            return _partnership_dict(p, rows)
    raise UnknownName("partnership", slug, (p.slug for p in rows.values()))


def _indicator_dict(i: Indicator) -> IndicatorInfo:
    return {
        "code": i.code, "name": i.name, "unit": i.unit, "polarity": i.polarity,
        "framework": i.framework, "source": i.source, "numerator": i.numerator,
        "denominator": i.denominator, "per": i.per, "tolerance": i.tolerance,
        "plugin": i.plugin,
    }


def list_indicators(store: Store, partnership: str | None = None) -> list[IndicatorInfo]:
    """All indicators, or those a partnership has figures or targets for."""
    with store.session() as s:
        if partnership is None:
            inds = s.scalars(select(Indicator).order_by(col(Indicator.code))).all()
        else:
            pid = _partnership_id(s, partnership)
            used = set(s.scalars(select(col(Observation.indicator_id)).where(col(Observation.partnership_id) == pid)))
            used |= set(s.scalars(select(col(Target.indicator_id)).where(col(Target.partnership_id) == pid)))
            inds = [i for i in s.scalars(select(Indicator).order_by(col(Indicator.code))) if i.id in used]
    return [_indicator_dict(i) for i in inds]


def get_indicator(store: Store, code: str) -> IndicatorInfo:
    with store.session() as s:
        ind = s.scalars(select(Indicator).where(col(Indicator.code) == code)).first()
        if ind is None:
            raise UnknownName("indicator", code, s.scalars(select(col(Indicator.code))))
        return _indicator_dict(ind)


def _partnership_id(s: Session, slug: str) -> int:
    _touching(slug)
    pid = s.scalars(select(col(Partnership.id)).where(col(Partnership.slug) == slug)).first()
    if pid is None:
        raise UnknownName("partnership", slug, s.scalars(select(col(Partnership.slug))))
    return pid


def has_figures(store: Store) -> dict[str, bool]:
    """Whether each partnership has any current figure, in one query that reads one index
    entry per partnership (a front end can dim the empty ones and open on one that has figures)."""
    from sqlalchemy import exists

    with store.session() as s:
        rows = s.execute(select(col(Partnership.slug), exists().where(
            col(Observation.partnership_id) == col(Partnership.id), col(Observation.is_current).is_(True)))).all()
    return {slug: bool(flag) for slug, flag in rows}
