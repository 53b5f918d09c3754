"""Fixture plugin: a hook implementation with an argument the hook does not pass."""
from dat.core import hookimpl


@hookimpl
def register_indicators(regster):
    regster(code="X.ONE", name="Never", unit="count", framework="local")
