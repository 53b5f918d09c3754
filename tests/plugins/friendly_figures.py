"""Fixture plugin: a national-data style plugin that adds figures for partnerships it does
not own: one new figure, one that differs from the owner's."""
from dat.core import hookimpl


@hookimpl
def register_partnerships(register):
    # the same registration Cheshire makes for Halton: a reference, so never a conflict
    register(slug="halton", name="Halton", region="North West", reference=True)


@hookimpl
def register_observations(register):
    register(partnership="dudley", indicator="NTA.RET12", period="2001/02", value=55)
    register(partnership="dudley", indicator="NTA.RET12", period="2007/08 Q1", value=70)
