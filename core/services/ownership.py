"""What each plugin contributed to the database, and the deliberate changes to it that a
sync never makes: purging an uninstalled plugin's contributions and transferring a
partnership to another owner. Both are recorded in the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlmodel import col

from dat.core.audit import actor, record
from dat.core.errors import UsageError
from dat.core.models import Action, Allocation, FundingStream, Indicator, Meta, Observation, Partnership, Target
from dat.core.roles import require_admin
from dat.core.sync import FINGERPRINT_KEY, WITHDRAWN, forget_refusal

if TYPE_CHECKING:
    from dat.core.services.store import Store

#: kind -> model with a ``plugin`` column (observations are counted by their origin)
_OWNED: dict[str, Any] = {"partnerships": Partnership, "indicators": Indicator, "streams": FundingStream,
                          "targets": Target, "allocations": Allocation, "actions": Action}


def contributions(store: Store) -> dict[str, dict[str, int]]:
    """plugin name -> kind -> how many items of that kind in the database are the plugin's
    (current figures counted by their origin)."""
    out: dict[str, dict[str, int]] = {}
    with store.session() as s:
        for kind, model in _OWNED.items():
            for plugin, n in s.execute(select(col(model.plugin), func.count()).where(col(model.plugin).is_not(None))
                                       .group_by(col(model.plugin))):
                out.setdefault(plugin, {})[kind] = int(n)
        for origin, n in s.execute(select(col(Observation.origin), func.count())
                                   .where(col(Observation.is_current).is_(True),
                                          col(Observation.origin).like("plugin:%"))
                                   .group_by(col(Observation.origin))):
            out.setdefault(str(origin)[len("plugin:"):], {})["observations"] = int(n)
    return out


def orphans(store: Store) -> dict[str, dict[str, Any]]:
    """The contributions of plugins that are not loaded and healthy here: plugin -> its
    counts and why (``not installed``, ``disabled``, ``skipped``, ``failed``)."""
    host = store.host
    healthy = host.healthy()
    out: dict[str, dict[str, Any]] = {}
    for plugin, counts in contributions(store).items():
        if plugin in healthy:
            continue
        info = host.plugins.get(plugin)
        why = "not installed" if info is None else (info.off or ("failed" if info.error else "not loaded"))
        out[plugin] = {"why": why, "counts": counts}
    return out


def purge(store: Store, plugin: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Remove the contributions of ``plugin``, which must not be installed: its targets,
    funding lines and actions go; its current figures stay in history, marked withdrawn
    (a new revision that is never current); its partnerships, indicators and streams go
    where nothing else refers to them and are otherwise released (no owner, so another
    plugin can register them). ``dry_run`` counts and changes nothing."""
    host = store.host
    info = host.plugins.get(plugin)
    if (info is not None and info.origin != "entry point") or plugin in host.installed:
        raise UsageError(f"plugin {plugin!r} is installed: uninstall it first (to stop using it without "
                         f"uninstalling: dat plugins disable {plugin})")
    found = contributions(store).get(plugin)
    if not found:
        known = sorted(contributions(store))
        raise UsageError(f"plugin {plugin!r} has nothing in this database; plugins that do: "
                         + (", ".join(known[:12]) or "none"))
    done: dict[str, int] = {}
    with store.session() as s:
        require_admin(s.connection(), "purge a plugin's contributions")
        who = actor(s)
        for kind, model in (("targets", Target), ("allocations", Allocation), ("actions", Action)):
            ids = list(s.scalars(select(col(model.id)).where(col(model.plugin) == plugin)))
            if ids:
                done[f"removed {kind}"] = len(ids)
                s.execute(delete(model).where(col(model.id).in_(ids)))
        current = list(s.scalars(select(Observation).where(col(Observation.is_current).is_(True),
                                                           col(Observation.origin) == f"plugin:{plugin}")))
        for obs in current:
            obs.is_current = False
            s.add(Observation(partnership_id=obs.partnership_id, indicator_id=obs.indicator_id,
                              period=obs.period, revision=obs.revision + 1, is_current=False,
                              status=WITHDRAWN, source=obs.source, origin=f"purge:{plugin}",
                              recorded_by=who))
        if current:
            done["withdrawn observations"] = len(current)
        s.flush()
        shared: list[tuple[str, Any, list[tuple[Any, Any]]]] = [
                ("streams", FundingStream, [(Allocation, Allocation.stream_id)]),
                ("indicators", Indicator, [(Observation, Observation.indicator_id), (Target, Target.indicator_id)]),
                ("partnerships", Partnership, [(Observation, Observation.partnership_id),
                                               (Target, Target.partnership_id),
                                               (Allocation, Allocation.partnership_id),
                                               (Action, Action.partnership_id),
                                               (Partnership, Partnership.parent_id)])]
        for kind, model, uses in shared:
            for row in list(s.scalars(select(model).where(col(model.plugin) == plugin))):
                used = any(s.execute(select(func.count()).select_from(m).where(col(c) == row.id)).scalar()
                           for m, c in uses)
                if used:
                    row.plugin = None
                    done[f"released {kind}"] = done.get(f"released {kind}", 0) + 1
                else:
                    s.delete(row)
                    done[f"removed {kind}"] = done.get(f"removed {kind}", 0) + 1
                s.flush()
        if dry_run:
            s.rollback()
            return {"plugin": plugin, "dry_run": True, "changes": done}
        s.execute(delete(Meta).where(col(Meta.key) == FINGERPRINT_KEY))  # the next sync looks again
        record(s, "purge", "; ".join(f"{k} {v}" for k, v in done.items()) or "nothing",
               source=f"plugin:{plugin}", who=who)
        s.commit()
    return {"plugin": plugin, "dry_run": False, "changes": done}


def transfer(store: Store, slug: str, to: str) -> dict[str, Any]:
    """Make plugin ``to`` the owner of partnership ``slug``: the only way ownership changes.
    ``to`` must be loaded here and register ``slug`` as its own."""
    from dat.core.services.areas import get_partnership

    get_partnership(store, slug)
    host = store.host
    info = host.plugins.get(to)
    if info is None or not info.loaded:
        loaded = sorted(n for n, i in host.plugins.items() if i.loaded)
        raise UsageError(f"plugin {to!r} is not loaded here; loaded plugins: {', '.join(loaded)}")
    claims = host.claims(slug)
    if to not in claims:
        raise UsageError(f"plugin {to!r} does not register partnership {slug!r} as its own"
                         + (f" (plugins that do: {', '.join(claims)})" if claims else ""))
    with store.session() as s:
        require_admin(s.connection(), "transfer a partnership")
        row = s.scalars(select(Partnership).where(col(Partnership.slug) == slug)).one()
        before = None if row.reference else row.plugin
        if before == to:
            return {"partnership": slug, "from": before, "to": to, "changed": False}
        s.execute(update(Partnership).where(col(Partnership.id) == row.id).values(plugin=to, reference=False))
        s.execute(delete(Meta).where(col(Meta.key) == FINGERPRINT_KEY))  # the new owner's data syncs next
        forget_refusal(s, slug)
        host.recorded_refusals.pop(slug, None)
        if host.refusals() is not host.recorded_refusals:
            host.refusals().pop(slug, None)  # this process's registry says it no more either
        record(s, "transfer", f"{slug!r} from {before or 'nobody'} to {to}", partnership=slug,
               source=f"plugin:{to}")
        s.commit()
    return {"partnership": slug, "from": before, "to": to, "changed": True}


__all__ = ["contributions", "orphans", "purge", "transfer"]
