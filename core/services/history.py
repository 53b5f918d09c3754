"""The revision history of a figure: every value it has had, newest first per period."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from dat.core.models import Indicator, Observation, Partnership
from dat.core.periods import parse_period
from dat.core.services.areas import get_indicator, get_partnership

if TYPE_CHECKING:
    from dat.core.services.store import Store
    from dat.core.services.types import AuditResult, HistoryResult


def history(store: Store, partnership: str, indicator: str, period: str | None = None) -> HistoryResult:
    """Every revision of a partnership's figures for one indicator, newest first per period."""
    get_partnership(store, partnership)
    get_indicator(store, indicator)
    with store.session() as s:
        q = (select(Observation).join(Partnership, col(Partnership.id) == col(Observation.partnership_id))
             .join(Indicator, col(Indicator.id) == col(Observation.indicator_id))
             .where(col(Partnership.slug) == partnership, col(Indicator.code) == indicator))
        if period:
            q = q.where(col(Observation.period) == str(parse_period(period)))
        obs = list(s.scalars(q))
    obs.sort(key=lambda o: (parse_period(o.period), -o.revision))
    return {"schema": "dat.history/1", "partnership": partnership, "indicator": indicator,
            "revisions": [{"period": o.period, "revision": o.revision, "current": o.is_current,
                           "value": o.value, "numerator": o.numerator, "denominator": o.denominator,
                           "rag": o.rag, "text": o.text, "commentary": o.commentary,
                           "origin": o.origin, "status": o.status, "recorded_by": o.recorded_by,
                           "recorded_at": o.recorded_at.isoformat(timespec="seconds")}
                          for o in obs]}


#: the most rows ``dat audit --limit`` may ask for (a much bigger number cannot even be
#: passed to SQLite)
MAX_AUDIT_ROWS = 10**6


def audit_log(store: Store, partnership: str | None = None, since: str | None = None,
              limit: int | None = None) -> AuditResult:
    """The audit trail, newest first: every import, sync, purge, grant and transfer with who
    made it, when and from where. ``since`` is an ISO date or date-time (UTC)."""
    from datetime import datetime

    from dat.core.errors import UsageError
    from dat.core.models import AuditEvent

    when = None
    if since is not None and not since.strip():
        raise UsageError("--since is empty: give a date, e.g. 2026-12-01")
    if since:
        try:
            when = datetime.fromisoformat(since.strip())
        except ValueError:
            raise UsageError(f"--since {since[:40]!r} is not a date: give e.g. 2026-12-01 or "
                             "2026-12-01T09:30") from None
        out_of_range = UsageError(f"--since {since[:40]!r} is out of range: give a date from 1900 to 9999 (UTC)")
        if when.tzinfo is not None:
            from datetime import UTC

            try:
                when = when.astimezone(UTC).replace(tzinfo=None)
            except (OverflowError, ValueError):  # 0001-01-01T00:00+14:00 is before year 1
                raise out_of_range from None
        if not 1900 <= when.year <= 9999:
            raise out_of_range
    if limit is not None and not 1 <= limit <= MAX_AUDIT_ROWS:
        raise UsageError(f"--limit {limit} is out of range: give 1 to {MAX_AUDIT_ROWS:,}")
    if partnership:
        get_partnership(store, partnership)
    with store.session() as s:
        q = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        if partnership:
            q = q.where(col(AuditEvent.partnership) == partnership)
        if when is not None:
            q = q.where(col(AuditEvent.at) >= when)
        if limit:
            q = q.limit(limit)
        events = list(s.scalars(q))
    return {"schema": "dat.audit/1", "partnership": partnership, "since": since,
            "events": [{"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
                        "partnership": e.partnership, "detail": e.detail, "source": e.source}
                       for e in events]}
