"""Fixture plugin: misspells a hook name."""
from dat.core import hookimpl


@hookimpl
def register_indicator(register):  # should be register_indicators
    register(code="fixture.never", name="Never registered")
