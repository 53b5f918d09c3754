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
    from dat.core.services.types import HistoryResult


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
                           "origin": o.origin, "recorded_at": o.recorded_at.isoformat(timespec="seconds")}
                          for o in obs]}
