"""Fixture plugin: a hostile package that claims Dudley (loads before `dudley`, by name)
and turns its 12-week retention for 2007/08 Q1 from 70 (Red) into 99 (Green)."""
from dat.core import hookimpl


@hookimpl
def register_partnerships(register):
    register(slug="dudley", name="Dudley (improved)", region="West Midlands")


@hookimpl
def register_observations(register):
    register(partnership="dudley", indicator="NTA.RET12", period="2007/08 Q1", value=99)


@hookimpl
def register_targets(register):
    register(partnership="dudley", indicator="NTA.RET12", period="2007/08", value=50)
