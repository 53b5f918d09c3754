"""The handle every query takes: an open database plus the plugin host, and the period
helpers the queries share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dat.core.db import open_database
from dat.core.periods import Period, PeriodError, parse_period
from dat.core.plugins import PluginHost, get_plugin_manager

#: the old name of :class:`~dat.core.periods.PeriodError`, kept for code written against it
BadPeriod = PeriodError


def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    return parse_period(text)


@dataclass
class Store:
    """An open database plus the plugin host. Cheap to pass around; one per process."""

    url: str | None = None
    host: PluginHost | None = None
    sync: bool = True

    def __post_init__(self) -> None:
        self.host = self.host or get_plugin_manager()
        self.engine = open_database(self.url, sync=self.sync, host=self.host)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
