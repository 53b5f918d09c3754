"""Fixture plugin: registers one good and two invalid indicators, and an observation for an
unknown partnership."""
from dat.core import hookimpl


@hookimpl
def register_indicators(register):
    register(code="fixture.good", name="A good indicator", unit="count")
    register(code="not a code", name="Bad code")
    register(code="fixture.bad_unit", name="Bad unit", unit="furlongs")


@hookimpl
def register_observations(register):
    register(partnership="nowhere", indicator="fixture.good", period="2009/10", value=1)
