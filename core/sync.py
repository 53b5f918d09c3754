"""Sync what plugins contribute into the database.

Idempotent, and skipped entirely when the registry's fingerprint equals the one stored by
the last sync. Every synced item records its plugin. A sync adds and changes only the items
of plugins that are loaded and healthy, and removes stale items only of healthy plugins with
no problems: what a skipped, disabled, failed or uninstalled plugin contributed stays (``dat
plugins`` lists it as orphaned; ``dat plugins purge`` removes it on purpose). Partnerships
have one owner, recorded here (see :meth:`dat.core.plugins.PluginHost._resolve_partnerships`).
Observations are never removed: a changed figure becomes a new revision and the old one
stays in history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from dat.core.audit import actor, record, summary
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
from dat.core.plugins import DatabaseState, Registry

FINGERPRINT_KEY = "plugin_fingerprint"
#: meta key: the claims to partnerships the last sync refused (slug -> plugins), as JSON
REFUSED_KEY = "refused_claims"
#: meta key: the plugins (name -> version) the last sync was made with, as JSON
PLUGINS_KEY = "synced_plugins"
#: the status of a figure whose plugin was purged: kept in history, never current
WITHDRAWN = "withdrawn"


@dataclass
class SyncReport:
    skipped: bool = False
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)  # other plugins' items left as they are

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
            report: SyncReport, healthy: frozenset[str], owner: str | None = None) -> Any:
    row = existing.get(key)
    if row is None:
        row = model(**values)
        session.add(row)
        existing[key] = row
        report.bump("added", kind)
    elif not _may_write(row.plugin, values.get("plugin"), healthy, owner):
        report.bump("kept", kind)  # another plugin's item, and that plugin is not loaded
    elif _apply(row, values):
        report.bump("changed", kind)
    return row


def _may_write(row_plugin: str | None, plugin: str | None, healthy: frozenset[str],
               owner: str | None = None) -> bool:
    """A sync changes an existing item only when it is ``plugin``'s own, nobody's (imported
    or entered by hand), belongs to a loaded, healthy plugin (the registry has already
    decided between loaded plugins), or ``plugin`` owns the item's partnership (the owner's
    figure stands). Other plugins' items stay as they are while those plugins are skipped,
    disabled, failed or uninstalled."""
    return row_plugin is None or row_plugin == plugin or row_plugin in healthy or (
        owner is not None and plugin == owner)


def _flushed_ids(rows: dict[str, Partnership] | dict[str, Indicator] | dict[str, FundingStream]
                 ) -> dict[str, int]:
    """Natural key -> id of rows that have just been flushed, so every id is set."""
    ids: dict[str, int] = {}
    for key, row in rows.items():
        assert row.id is not None  # the flush gave every row its id
        ids[key] = row.id
    return ids


def database_state(session: Session) -> DatabaseState:
    """What the database records about ownership (see :class:`DatabaseState`)."""
    owners = {slug: (None if ref else plugin) for slug, plugin, ref in session.execute(
        select(col(Partnership.slug), col(Partnership.plugin), col(Partnership.reference)))}
    return DatabaseState(
        owners=owners,
        indicators=dict(session.execute(select(col(Indicator.code), col(Indicator.plugin))).all()),
        streams=dict(session.execute(select(col(FundingStream.code), col(FundingStream.plugin))).all()))


def recorded_refusals(session: Session) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The refused claims the last sync recorded: (slug -> claimants, slug -> owner)."""
    meta = session.get(Meta, REFUSED_KEY)
    try:
        data = json.loads(meta.value) if meta is not None else {}
    except ValueError:
        return {}, {}
    claims: dict[str, list[str]] = {}
    owners: dict[str, str] = {}
    for slug, entry in (data.items() if isinstance(data, dict) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("claimants"), list):
            claims[str(slug)] = [str(p) for p in entry["claimants"]]
            if entry.get("owner"):
                owners[str(slug)] = str(entry["owner"])
    return claims, owners


def forget_refusal(session: Session, slug: str) -> None:
    """Drop the recorded refused claims to ``slug`` (after a transfer they are out of date;
    the next sync records them afresh)."""
    meta = session.get(Meta, REFUSED_KEY)
    try:
        data = json.loads(meta.value) if meta is not None else {}
    except ValueError:
        data = {}
    if isinstance(data, dict) and slug in data and meta is not None:
        del data[slug]
        meta.value = json.dumps(data, sort_keys=True)


def _may_sync_partnership(row: Partnership | None, part: Any) -> bool:
    """Whether the sync adds or changes the row of one registered partnership. An owned row
    changes only by its owner; a reference never changes an owned row; a row nobody owns (a
    reference, or released by a purge) is taken by the first plugin that registers it as
    its own."""
    if row is None:
        return True
    if not row.reference and row.plugin is not None:
        return part.plugin == row.plugin and not part.reference
    return not part.reference or row.plugin in (None, part.plugin)


def sync_plugins(session: Session, registry: Registry, *, force: bool = False,
                 versions: dict[str, str | None] | None = None) -> SyncReport:
    """Bring the database in line with what the loaded plugins contribute, touching only
    the items of plugins that are loaded and healthy (:func:`_may_write`); stale items are
    removed only for healthy plugins with no problems. Records what it did in the audit
    trail and, for the other installations, which plugins (and versions) it synced."""
    report = SyncReport()
    fingerprint = registry.fingerprint()
    meta = session.get(Meta, FINGERPRINT_KEY)
    if meta is not None and meta.value == fingerprint and not force:
        report.skipped = True
        return report
    healthy = registry.healthy
    who = actor(session)

    # partnerships, two passes so a parent from any plugin resolves
    parts = {p.slug: p for p in session.scalars(select(Partnership))}
    written: list[Any] = []
    for part in registry.partnerships.values():
        part_values: dict[str, Any] = {
            "slug": part.slug, "name": part.name, "region": part.region,
            "area_type": part.area_type, "comparator_group": part.comparator_group,
            "accountable_bodies": _dumps(part.accountable_bodies),
            "description": part.description, "plugin": part.plugin, "reference": part.reference,
        }
        prow = parts.get(part.slug)
        if not _may_sync_partnership(prow, part):
            continue
        if prow is None:
            prow = parts[part.slug] = Partnership(**part_values)
            session.add(prow)
            report.bump("added", "partnerships")
        else:
            claimed = prow.reference and not part.reference
            if _apply(prow, part_values):
                report.bump("changed", "partnerships")
            if claimed:
                record(session, "claim", f"plugin {part.plugin} now owns {part.slug!r}",
                       partnership=part.slug, source=f"plugin:{part.plugin}", who=who)
        written.append(part)
    session.flush()
    for part in written:
        parent_id = parts[part.parent].id if part.parent and part.parent in parts else None
        if parts[part.slug].parent_id != parent_id:
            parts[part.slug].parent_id = parent_id

    inds = {i.code: i for i in session.scalars(select(Indicator))}
    for ind in registry.indicators.values():
        _upsert(session, Indicator, inds, ind.code, {
            "code": ind.code, "name": ind.name, "unit": ind.unit, "polarity": ind.polarity,
            "framework": ind.framework, "source": ind.source, "numerator": ind.numerator,
            "denominator": ind.denominator, "per": ind.per, "tolerance": ind.tolerance,
            "description": ind.description, "plugin": ind.plugin,
        }, "indicators", report, healthy)

    streams = {s.code: s for s in session.scalars(select(FundingStream))}
    for stream in registry.streams.values():
        _upsert(session, FundingStream, streams, stream.code, {
            "code": stream.code, "name": stream.name, "funders": _dumps(stream.funders),
            "ring_fenced": stream.ring_fenced, "description": stream.description,
            "plugin": stream.plugin,
        }, "streams", report, healthy)
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
        }, "targets", report, healthy, registry.owners.get(target.partnership))
    _remove_stale(session, target_rows, target_seen, "targets", report, registry.removable)

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
        }, "allocations", report, healthy, registry.owners.get(alloc.partnership))
    _remove_stale(session, alloc_rows, alloc_seen, "allocations", report, registry.removable)

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
        }, "actions", report, healthy, registry.owners.get(act.partnership))
    _remove_stale(session, action_rows, action_seen, "actions", report, registry.removable)

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
        if row is not None and not _may_write(_origin_plugin(row.origin), obs.plugin, healthy,
                                              registry.owners.get(obs.partnership)):
            report.bump("kept", "observations")
            continue  # another plugin's figure, and that plugin is not loaded
        # after the highest revision of the figure, current or not (a purge's withdrawn one, or
        # one a database client added, may be above the current one)
        revision = (session.execute(select(func.max(col(Observation.revision))).where(
            col(Observation.partnership_id) == key[0], col(Observation.indicator_id) == key[1],
            col(Observation.period) == key[2])).scalar() or 0) + 1
        if row is not None:
            row.is_current = False
            session.flush()
            report.bump("changed", "observations")
        else:
            report.bump("added", "observations")
        session.add(Observation(partnership_id=key[0], indicator_id=key[1], period=obs.period,
                                revision=revision, is_current=True,
                                origin=f"plugin:{obs.plugin}", recorded_by=who, **values))

    if meta is None:
        session.add(Meta(key=FINGERPRINT_KEY, value=fingerprint))
    else:
        meta.value = fingerprint
    refused = {slug: {"owner": registry.owners.get(slug), "claimants": claimants}
               for slug, claimants in registry.refused.items()}
    session.merge(Meta(key=REFUSED_KEY, value=json.dumps(refused, sort_keys=True)))
    if versions is not None:
        session.merge(Meta(key=PLUGINS_KEY, value=json.dumps(versions, sort_keys=True)))
    if report.added or report.changed or report.removed:
        record(session, "sync", summary({"added": report.added, "changed": report.changed,
                                         "removed": report.removed}),
               source="plugins: " + ", ".join(sorted(healthy)), who=who)
    session.commit()
    return report


def _origin_plugin(origin: str | None) -> str | None:
    return origin[len("plugin:"):] if origin and origin.startswith("plugin:") else None


def _remove_stale(session: Session, rows: dict, seen: set, kind: str, report: SyncReport,
                  removable: frozenset[str]) -> None:
    """Delete rows a plugin contributed before and no longer does, only for plugins that are
    loaded and healthy now (``removable``): rows of plugins that are not loaded, failed or
    have problems stay, and so do rows with no plugin (imported or entered by hand)."""
    for key, row in rows.items():
        if key not in seen and row.plugin in removable and row.id is not None:
            session.delete(row)
            report.bump("removed", kind)


__all__ = ["sync_plugins", "SyncReport", "FINGERPRINT_KEY", "database_state", "recorded_refusals",
           "forget_refusal"]
