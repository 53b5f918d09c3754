"""Sync what plugins contribute into the database.

Idempotent, and skipped entirely when the registry's fingerprint equals the one stored by
the last sync. Partnerships, indicators and streams are upserted by natural key; targets,
allocations and actions owned by a plugin are upserted and those the plugin no longer
contributes are removed; observations are never removed: a changed figure becomes a new
revision and the old one stays in history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from dat.core.models import (
    Action,
    Allocation,
    FundingStream,
    Indicator,
    Meta,
    Observation,
    Partnership,
    Target,
)
from dat.core.plugins import Registry

FINGERPRINT_KEY = "plugin_fingerprint"


@dataclass
class SyncReport:
    skipped: bool = False
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def bump(self, what: str, kind: str, n: int = 1) -> None:
        counter = getattr(self, what)
        counter[kind] = counter.get(kind, 0) + n


def _dumps(value: Any) -> str:
    return json.dumps(list(value or ()), ensure_ascii=False)


def _apply(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(session: Session, model: Any, existing: dict, key: Any, values: dict, kind: str,
            report: SyncReport) -> Any:
    row = existing.get(key)
    if row is None:
        row = model(**values)
        session.add(row)
        existing[key] = row
        report.bump("added", kind)
    elif _apply(row, values):
        report.bump("changed", kind)
    return row


def _flushed_ids(rows: dict[str, Partnership] | dict[str, Indicator] | dict[str, FundingStream]
                 ) -> dict[str, int]:
    """Natural key -> id of rows that have just been flushed, so every id is set."""
    ids: dict[str, int] = {}
    for key, row in rows.items():
        assert row.id is not None  # the flush gave every row its id
        ids[key] = row.id
    return ids


def sync_plugins(session: Session, registry: Registry, *, force: bool = False) -> SyncReport:
    report = SyncReport()
    fingerprint = registry.fingerprint()
    meta = session.get(Meta, FINGERPRINT_KEY)
    if meta is not None and meta.value == fingerprint and not force:
        report.skipped = True
        return report

    # partnerships, two passes so a parent from any plugin resolves
    parts = {p.slug: p for p in session.scalars(select(Partnership))}
    for part in registry.partnerships.values():
        _upsert(session, Partnership, parts, part.slug, {
            "slug": part.slug, "name": part.name, "region": part.region,
            "area_type": part.area_type, "comparator_group": part.comparator_group,
            "accountable_bodies": _dumps(part.accountable_bodies),
            "description": part.description, "plugin": part.plugin,
        }, "partnerships", report)
    session.flush()
    for part in registry.partnerships.values():
        parent_id = parts[part.parent].id if part.parent else None
        if parts[part.slug].parent_id != parent_id:
            parts[part.slug].parent_id = parent_id

    inds = {i.code: i for i in session.scalars(select(Indicator))}
    for ind in registry.indicators.values():
        _upsert(session, Indicator, inds, ind.code, {
            "code": ind.code, "name": ind.name, "unit": ind.unit, "polarity": ind.polarity,
            "framework": ind.framework, "source": ind.source, "numerator": ind.numerator,
            "denominator": ind.denominator, "per": ind.per, "tolerance": ind.tolerance,
            "description": ind.description, "plugin": ind.plugin,
        }, "indicators", report)

    streams = {s.code: s for s in session.scalars(select(FundingStream))}
    for stream in registry.streams.values():
        _upsert(session, FundingStream, streams, stream.code, {
            "code": stream.code, "name": stream.name, "funders": _dumps(stream.funders),
            "ring_fenced": stream.ring_fenced, "description": stream.description,
            "plugin": stream.plugin,
        }, "streams", report)
    session.flush()
    pid = _flushed_ids(parts)
    iid = _flushed_ids(inds)
    sid = _flushed_ids(streams)

    # targets
    target_rows = {(t.partnership_id, t.indicator_id, t.period, t.target_kind, t.label): t
                   for t in session.scalars(select(Target))}
    target_seen: set[tuple[int, int, str, str, str]] = set()
    for target in registry.targets.values():
        target_key = (pid[target.partnership], iid[target.indicator], target.period, target.target_kind,
                      target.label)
        target_seen.add(target_key)
        _upsert(session, Target, target_rows, target_key, {
            "partnership_id": target_key[0], "indicator_id": target_key[1], "period": target.period,
            "target_kind": target.target_kind, "label": target.label, "value_kind": target.value_kind,
            "value": target.value, "baseline": target.baseline, "baseline_period": target.baseline_period,
            "years": target.years, "text": target.text,
            "profile": json.dumps(list(target.profile)) if target.profile else None,
            "tolerance": target.tolerance, "source": target.source, "plugin": target.plugin,
        }, "targets", report)
    _remove_stale(session, target_rows, target_seen, "targets", report)

    # allocations
    alloc_rows = {(a.partnership_id, a.stream_id, a.year, a.line): a for a in session.scalars(select(Allocation))}
    alloc_seen: set[tuple[int, int, str, str]] = set()
    for alloc in registry.allocations.values():
        alloc_key = (pid[alloc.partnership], sid[alloc.stream], alloc.year, alloc.line)
        alloc_seen.add(alloc_key)
        _upsert(session, Allocation, alloc_rows, alloc_key, {
            "partnership_id": alloc_key[0], "stream_id": alloc_key[1], "year": alloc.year, "line": alloc.line,
            "amount_pence": None if alloc.amount is None else int(alloc.amount * 100),
            "banked_by": alloc.banked_by,
            "used_for": alloc.used_for, "approximate": alloc.approximate,
            "management_admin": alloc.management_admin, "is_total": alloc.is_total,
            "source": alloc.source,
            "plugin": alloc.plugin,
        }, "allocations", report)
    _remove_stale(session, alloc_rows, alloc_seen, "allocations", report)

    # actions
    action_rows = {(a.partnership_id, a.ref): a for a in session.scalars(select(Action))}
    action_seen: set[tuple[int, str]] = set()
    for act in registry.actions.values():
        action_key = (pid[act.partnership], act.ref)
        action_seen.add(action_key)
        _upsert(session, Action, action_rows, action_key, {
            "partnership_id": action_key[0], "ref": act.ref, "theme": act.theme, "action": act.action,
            "lead": act.lead, "target_text": act.target_text, "targets": _dumps(act.targets),
            "outcome": act.outcome, "due": act.due, "milestones": _dumps(act.milestones),
            "dependencies": _dumps(act.dependencies), "status": act.status,
            "source": act.source, "plugin": act.plugin,
        }, "actions", report)
    _remove_stale(session, action_rows, action_seen, "actions", report)

    # observations: new revision when the figure differs from the current one
    current = {(o.partnership_id, o.indicator_id, o.period): o
               for o in session.scalars(select(Observation).where(col(Observation.is_current).is_(True)))}
    for obs in registry.observations.values():
        key = (pid[obs.partnership], iid[obs.indicator], obs.period)
        values: dict[str, Any] = {
            "value": obs.value, "numerator": obs.numerator, "denominator": obs.denominator,
            "ci_low": obs.ci_low, "ci_high": obs.ci_high, "rag": obs.rag,
            "status": obs.status, "text": obs.text, "commentary": obs.commentary,
            "source": obs.source,
        }
        row = current.get(key)
        if row is not None and all(getattr(row, k) == v for k, v in values.items()):
            continue
        if row is not None and (row.origin or "").startswith("import:"):
            continue  # an imported correction wins over the plugin's figure
        revision = 1
        if row is not None:
            row.is_current = False
            revision = row.revision + 1
            session.flush()
            report.bump("changed", "observations")
        else:
            report.bump("added", "observations")
        session.add(Observation(partnership_id=key[0], indicator_id=key[1], period=obs.period,
                                revision=revision, is_current=True,
                                origin=f"plugin:{obs.plugin}", **values))

    if meta is None:
        session.add(Meta(key=FINGERPRINT_KEY, value=fingerprint))
    else:
        meta.value = fingerprint
    session.commit()
    return report


def _remove_stale(session: Session, rows: dict, seen: set, kind: str, report: SyncReport) -> None:
    """Delete rows a plugin contributed before and no longer does (rows with no plugin, i.e.
    imported or entered by hand, are left alone)."""
    for key, row in rows.items():
        if key not in seen and row.plugin is not None and row.id is not None:
            session.delete(row)
            report.bump("removed", kind)


__all__ = ["sync_plugins", "SyncReport", "FINGERPRINT_KEY"]
