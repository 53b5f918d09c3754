"""Action plans."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import col

from dat.core.models import Action
from dat.core.services.areas import _partnership_id
from dat.core.services.store import Store
from dat.core.services.types import ActionItem, ActionsResult


def actions(store: Store, partnership: str, status: str | None = None) -> ActionsResult:
    """A partnership's action plan, by theme then reference."""
    with store.session() as s:
        pid = _partnership_id(s, partnership)
        rows = list(s.scalars(select(Action).where(col(Action.partnership_id) == pid)))
    items: list[ActionItem] = [{
        "ref": a.ref, "theme": a.theme, "action": a.action, "lead": a.lead,
        "target_text": a.target_text, "targets": json.loads(a.targets or "[]"),
        "outcome": a.outcome, "due": a.due, "milestones": json.loads(a.milestones or "[]"),
        "dependencies": json.loads(a.dependencies or "[]"), "status": a.status,
        "source": a.source,
    } for a in rows if status is None or a.status == status]
    items.sort(key=lambda a: ((a["theme"] or "").lower(), a["ref"]))
    return {"schema": "dat.actions/1", "partnership": partnership, "actions": items}
