"""Fixture plugin: a hook that raises."""
from dat.core import hookimpl


@hookimpl
def register_partnerships(register):
    raise ValueError("cannot reach the spreadsheet")
