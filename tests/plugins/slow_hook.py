"""Fixture plugin: a contribution hook that takes over a second."""
import time

from dat.core import hookimpl


@hookimpl
def register_indicators(register):
    time.sleep(1.2)
    register(code="SLOW.ONE", name="Slow indicator", unit="count", framework="local")
