"""Cheshire: its seed document's figures as data (data/cheshire.toml)."""

from dat.core.api import DataPlugin

plugin = DataPlugin(__name__, "data/cheshire.toml")
