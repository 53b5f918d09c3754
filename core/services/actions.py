"""Action plans: each action with its due date read one way and whether it is overdue."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlmodel import col

from dat.core.models import Action
from dat.core.services.areas import _partnership_id
from dat.core.services.store import Store
from dat.core.services.types import ActionItem, ActionsResult

#: statuses that close an action: it can no longer be overdue
DONE_STATUSES = ("complete", "dropped")
#: the ``--status`` choices beyond the recorded statuses: every action not done, the overdue ones
STATUS_FILTERS = ("not done", "overdue")


def due_date(due: str | None) -> date | None:
    """The last day an action is due by: a date as written (``2006-03-31``), the end of a
    financial year (``2003/04`` -> 31 March 2004) or quarter (``2007/08 Q2`` -> 30 September
    2007); ``None`` for no due date or words that are not a period (``ongoing``)."""
    if not due or not due.strip():
        return None
    from dat.core.periods import PeriodError, parse_period

    try:
        return parse_period(due.strip()).end
    except PeriodError:
        return None


def due_text(day: date | None, raw: str | None = None) -> str:
    """A due date for people, one format everywhere: ``31 Mar 2004`` (the recorded words when
    they are not a date, blank when there are none)."""
    if day is None:
        return (raw or "").strip()
    return f"{day.day} {day:%b %Y}"


def is_overdue(status: str | None, day: date | None, as_of: date) -> bool:
    """Overdue: recorded as ``overdue``, or due before ``as_of`` and not complete or dropped."""
    if status == "overdue":
        return True
    return day is not None and day < as_of and status not in DONE_STATUSES


def wanted(status: str | None, overdue: bool, choice: str | None) -> bool:
    """Whether an action with ``status`` (``overdue`` or not) passes the status filter
    ``choice``: ``None`` or ``all`` (every action), ``not done``, ``overdue`` or one recorded
    status. The CLI's ``--status`` and the TUI's status filter both use it."""
    if choice in (None, "all"):
        return True
    if choice == "overdue":
        return overdue
    if choice == "not done":
        return status not in DONE_STATUSES
    return status == choice


def actions(store: Store, partnership: str, status: str | None = None, *,
            as_of: date | None = None) -> ActionsResult:
    """A partnership's action plan, by theme then reference. ``status`` keeps one recorded
    status, or ``not done`` (neither complete nor dropped) or ``overdue`` (see
    :func:`is_overdue`); overdue is judged against ``as_of`` (default: today)."""
    as_of = as_of or date.today()
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        rows = list(s.scalars(select(Action).where(col(Action.partnership_id) == pid)))
    items: list[ActionItem] = []
    for a in rows:
        day = due_date(a.due)
        overdue = is_overdue(a.status, day, as_of)
        if not wanted(a.status, overdue, status):
            continue
        items.append({
            "ref": a.ref, "theme": a.theme, "action": a.action, "lead": a.lead,
            "target_text": a.target_text, "targets": json.loads(a.targets or "[]"),
            "outcome": a.outcome, "due": a.due, "milestones": json.loads(a.milestones or "[]"),
            "dependencies": json.loads(a.dependencies or "[]"), "status": a.status,
            "source": a.source, "due_date": day.isoformat() if day else None, "overdue": overdue,
        })
    items.sort(key=lambda a: ((a["theme"] or "").lower(), a["ref"]))
    return {"schema": "dat.actions/1", "partnership": partnership, "as_of": as_of.isoformat(),
            "actions": items}
