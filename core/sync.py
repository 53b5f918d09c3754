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


def sync_plugins(session: Session, registry: Registry, *, force: bool = False) -> SyncReport:
    report = SyncReport()
    fingerprint = registry.fingerprint()
    meta = session.get(Meta, FINGERPRINT_KEY)
    if meta is not None and meta.value == fingerprint and not force:
        report.skipped = True
        return report

    # partnerships, two passes so a parent from any plugin resolves
    parts = {p.slug: p for p in session.scalars(select(Partnership))}
    for spec in registry.partnerships.values():
        _upsert(session, Partnership, parts, spec.slug, {
            "slug": spec.slug, "name": spec.name, "region": spec.region,
            "area_type": spec.area_type, "comparator_group": spec.comparator_group,
            "accountable_bodies": _dumps(spec.accountable_bodies),
            "description": spec.description, "plugin": spec.plugin,
        }, "partnerships", report)
    session.flush()
    for spec in registry.partnerships.values():
        parent_id = parts[spec.parent].id if spec.parent else None
        if parts[spec.slug].parent_id != parent_id:
            parts[spec.slug].parent_id = parent_id

    inds = {i.code: i for i in session.scalars(select(Indicator))}
    for spec in registry.indicators.values():
        _upsert(session, Indicator, inds, spec.code, {
            "code": spec.code, "name": spec.name, "unit": spec.unit, "polarity": spec.polarity,
            "framework": spec.framework, "source": spec.source, "numerator": spec.numerator,
            "denominator": spec.denominator, "per": spec.per, "tolerance": spec.tolerance,
            "description": spec.description, "plugin": spec.plugin,
        }, "indicators", report)

    streams = {s.code: s for s in session.scalars(select(FundingStream))}
    for spec in registry.streams.values():
        _upsert(session, FundingStream, streams, spec.code, {
            "code": spec.code, "name": spec.name, "funders": _dumps(spec.funders),
            "ring_fenced": spec.ring_fenced, "description": spec.description,
            "plugin": spec.plugin,
        }, "streams", report)
    session.flush()
    pid = {slug: p.id for slug, p in parts.items()}
    iid = {code: i.id for code, i in inds.items()}
    sid = {code: s.id for code, s in streams.items()}

    # targets
    rows = {(t.partnership_id, t.indicator_id, t.period, t.target_kind, t.label): t
            for t in session.scalars(select(Target))}
    seen = set()
    for spec in registry.targets.values():
        key = (pid[spec.partnership], iid[spec.indicator], spec.period, spec.target_kind, spec.label)
        seen.add(key)
        _upsert(session, Target, rows, key, {
            "partnership_id": key[0], "indicator_id": key[1], "period": spec.period,
            "target_kind": spec.target_kind, "label": spec.label, "value_kind": spec.value_kind,
            "value": spec.value, "baseline": spec.baseline, "baseline_period": spec.baseline_period,
            "years": spec.years, "text": spec.text,
            "profile": json.dumps(list(spec.profile)) if spec.profile else None,
            "tolerance": spec.tolerance, "source": spec.source, "plugin": spec.plugin,
        }, "targets", report)
    _remove_stale(session, rows, seen, "targets", report)

    # allocations
    rows = {(a.partnership_id, a.stream_id, a.year, a.line): a for a in session.scalars(select(Allocation))}
    seen = set()
    for spec in registry.allocations.values():
        key = (pid[spec.partnership], sid[spec.stream], spec.year, spec.line)
        seen.add(key)
        _upsert(session, Allocation, rows, key, {
            "partnership_id": key[0], "stream_id": key[1], "year": spec.year, "line": spec.line,
            "amount_pence": None if spec.amount is None else int(spec.amount * 100), "banked_by": spec.banked_by,
            "used_for": spec.used_for, "approximate": spec.approximate,
            "management_admin": spec.management_admin, "is_total": spec.is_total,
            "source": spec.source,
            "plugin": spec.plugin,
        }, "allocations", report)
    _remove_stale(session, rows, seen, "allocations", report)

    # actions
    rows = {(a.partnership_id, a.ref): a for a in session.scalars(select(Action))}
    seen = set()
    for spec in registry.actions.values():
        key = (pid[spec.partnership], spec.ref)
        seen.add(key)
        _upsert(session, Action, rows, key, {
            "partnership_id": key[0], "ref": spec.ref, "theme": spec.theme, "action": spec.action,
            "lead": spec.lead, "target_text": spec.target_text, "targets": _dumps(spec.targets),
            "outcome": spec.outcome, "due": spec.due, "milestones": _dumps(spec.milestones),
            "dependencies": _dumps(spec.dependencies), "status": spec.status,
            "source": spec.source, "plugin": spec.plugin,
        }, "actions", report)
    _remove_stale(session, rows, seen, "actions", report)

    # observations: new revision when the figure differs from the current one
    current = {(o.partnership_id, o.indicator_id, o.period): o
               for o in session.scalars(select(Observation).where(Observation.is_current.is_(True)))}
    for spec in registry.observations.values():
        key = (pid[spec.partnership], iid[spec.indicator], spec.period)
        values = {
            "value": spec.value, "numerator": spec.numerator, "denominator": spec.denominator,
            "ci_low": spec.ci_low, "ci_high": spec.ci_high, "rag": spec.rag,
            "status": spec.status, "text": spec.text, "commentary": spec.commentary,
            "source": spec.source,
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
        session.add(Observation(partnership_id=key[0], indicator_id=key[1], period=spec.period,
                                revision=revision, is_current=True,
                                origin=f"plugin:{spec.plugin}", **values))

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
