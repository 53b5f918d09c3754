"""Haringey: its seed document's figures as data (data/haringey.toml)."""

from dat.core.api import DataPlugin

plugin = DataPlugin(__name__, "data/haringey.toml")
