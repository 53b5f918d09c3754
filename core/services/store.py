"""The handle every query takes: an open database plus the plugin host, and the optional
period parser (``_period``) the queries share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dat.core.db import open_database
from dat.core.periods import Period, parse_period
from dat.core.plugins import PluginHost, get_plugin_manager

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine



def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    return parse_period(text)


@dataclass(init=False)
class Store:
    """An open database plus the plugin host. Cheap to pass around; one per process.

    ``Store(url=None, host=None, sync=True)``: no ``url`` means ``DAT_DATABASE_URL`` or the
    default SQLite file, no ``host`` the process-wide plugin host; ``sync`` brings the
    plugins' data into the database when it has changed."""

    url: str | None
    host: PluginHost
    sync: bool

    def __init__(self, url: str | None = None, host: PluginHost | None = None, sync: bool = True) -> None:
        self.url = url
        self.host = host or get_plugin_manager()
        self.sync = sync
        self.engine: Engine = open_database(self.url, sync=self.sync, host=self.host)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
